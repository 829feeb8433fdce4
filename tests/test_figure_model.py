"""The figure ownership model: labels from the annotated articles, grouped CV, decisions applied."""
import pytest

from nlp import figure_model
from nlp.figures import Figure


@pytest.fixture(scope="module")
def labelled():
    from nlp.pipeline import load
    return figure_model.labelled_candidates(load(("parlens_entities",)))


def test_labels_come_from_annotated_articles_and_cv_beats_always_owned(labelled):
    features, labels, groups = labelled
    assert len(features) >= 300 and sum(labels) >= 60 and len(set(groups)) >= 60
    scores = figure_model.cross_validate(features, labels, groups, folds=5)
    always_owned = 2 * sum(labels) / (2 * sum(labels) + (len(labels) - sum(labels)))
    assert scores["f1"] > always_owned + 0.2, scores
    assert 0.2 <= scores["threshold"] <= 0.8


def test_apply_turns_unlikely_owners_neutral():
    own = {"s=tỉnh": 1.0, "src=subject": 1.0}
    national = {"s=lãi": 1.0, "s=suất": 1.0, "src=carried": 1.0}
    model = figure_model.OwnershipModel().fit([own, national] * 10, [1, 0] * 10)

    def fig(features):
        f = Figure(value=5.0, value_type="percent", start=0, end=2, sent_start=0, sent_end=2,
                   units=[object()], source="subject", features=features)
        return f
    a, b = fig(own), fig(national)
    model.apply([a, b])
    assert a.units and a.value_role == "level" and a.confidence > 0.5
    assert not b.units and b.value_role == "neutral" and b.confidence < 0.5


def test_training_figure_articles_are_kept_apart_from_evaluation():
    from conftest import SHARED

    folder = figure_model._training_folders()[-1]
    assert folder.name == "figures"
    ids = {p.stem for p in folder.glob("*.txt")}
    assert len(ids) >= 60
    heldout = SHARED / "eval" / "heldout.txt"
    if not heldout.exists():
        pytest.skip("shared evaluation data not present")
    banned = {ln.strip() for ln in heldout.read_text().splitlines() if ln.strip() and not ln.startswith("#")}
    banned |= {p.stem for p in (SHARED / "eval" / "dev").glob("*.txt")}
    assert not ids & banned
