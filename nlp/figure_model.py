"""Whether a percentage is stated for the unit the rules found: a model learned from labelled articles.

Labels come from the team's annotated articles (``nlp/data/training/articles`` and
the figures-only ``nlp/data/training/figures``): a candidate whose value the
annotator listed as a unit's figure is "owned", one listed among the neutral
values is not. A logistic regression over the candidate's context (words before
and after the value, how its owner was found, cue flags) learns national totals,
survey shares, tax rates and the like, which no cue list covers. The threshold is
chosen by cross-validation grouped by article.
"""
from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline

from nlp.artefacts import load_or_build, save_artefact
from nlp.figures import LEARNED_METRICS, Figure, FigureExtractor, _make_neutral

FIGURE_DIRS = ("articles", "figures")
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.2, 0.81, 0.05))
TIE_F1 = 0.005
TOLERANCE = 0.005


@dataclass
class OwnershipModel:
    """fit/predict over Figure.features; `apply` turns unowned candidates neutral."""
    C: float = 1.0
    threshold: float = 0.5

    def fit(self, features: list[dict], labels: list[int]) -> "OwnershipModel":
        self.pipeline_ = make_pipeline(DictVectorizer(), LogisticRegression(C=self.C, max_iter=2000,
                                                                            class_weight="balanced"))
        self.pipeline_.fit(features, labels)
        return self

    def predict_proba(self, features: list[dict]) -> np.ndarray:
        if not features:
            return np.zeros(0)
        return self.pipeline_.predict_proba(features)[:, 1]

    def apply(self, figures: list[Figure]) -> None:
        """Decide ownership of general percentages; an index or service metric a unit's clause
        states (the seeds' kind of text, scarce in the labelled articles) keeps the cues' verdict."""
        for fig in figures:
            if fig.value_type == "percent" and fig.metric not in LEARNED_METRICS and fig.units:
                if fig.source in ("topic", "none"):
                    _make_neutral(fig, "unattributed")
        todo = [f for f in figures if f.value_type == "percent" and f.units and f.metric in LEARNED_METRICS]
        for fig, p in zip(todo, self.predict_proba([f.features for f in todo])):
            fig.confidence = round(float(p), 4)
            if p < self.threshold:
                _make_neutral(fig, fig.role or "unattributed")
        for fig in figures:
            if fig.value_type == "percent" and not fig.units and fig.value_role != "neutral":
                _make_neutral(fig, fig.role or "unattributed")


def _training_folders() -> list[Path]:
    root = Path(str(resources.files("nlp").joinpath("data", "training")))
    return [root / name for name in FIGURE_DIRS if (root / name).is_dir()]


def labelled_candidates(nlp) -> tuple[list[dict], list[int], list[str]]:
    """Every percentage candidate with an owner in the annotated articles, labelled from their gold."""
    extractor = FigureExtractor(model=None, cues_only=False)
    features, labels, groups = [], [], []
    for folder in _training_folders():
        for text_path in sorted(folder.glob("*.txt")):
            gold = json.loads(text_path.with_suffix(".json").read_text(encoding="utf-8"))
            owned = [float(g["value"]) for g in gold.get("figures", []) if g.get("value") is not None]
            neutral = [float(v) for v in gold.get("neutral_values", [])]
            doc = nlp(text_path.read_text(encoding="utf-8"))
            for fig in extractor.candidates(doc):
                if (fig.value_type != "percent" or fig.source == "none" or fig.metric not in LEARNED_METRICS
                        or fig.value_role == "neutral"):   # cues decided these
                    continue
                is_owned = any(abs(fig.value - v) < TOLERANCE for v in owned)
                is_neutral = any(abs(fig.value - v) < TOLERANCE for v in neutral)
                if is_owned == is_neutral:
                    continue    # unlabelled, or the same value both ways in one article
                features.append(fig.features)
                labels.append(int(is_owned))
                groups.append(text_path.stem)
    return features, labels, groups


def cross_validate(features: list[dict], labels: list[int], groups: list[str], folds: int = 5) -> dict:
    """Out-of-fold probabilities (grouped by article) and the F1-best threshold."""
    y = np.asarray(labels)
    probs = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(features, y, groups):
        model = OwnershipModel().fit([features[i] for i in train], y[train].tolist())
        probs[test] = model.predict_proba([features[i] for i in test])
    f1s = {}
    for t in THRESHOLDS:
        pred = probs >= t
        tp, fp, fn = int((pred & (y == 1)).sum()), int((pred & (y == 0)).sum()), int((~pred & (y == 1)).sum())
        f1s[t] = round(2 * tp / (2 * tp + fp + fn), 4) if tp else 0.0
    # CV F1 is flat near its peak, and which of the near-ties wins is noise that flips with every
    # retraining: among thresholds within TIE_F1 of the best, take the one nearest 0.5
    top = max(f1s.values())
    threshold = min((t for t, f in f1s.items() if f >= top - TIE_F1), key=lambda t: (abs(t - 0.5), t))
    return {"f1": f1s[threshold], "threshold": float(threshold), "examples": len(y), "owned": int(y.sum())}


def data_hash() -> str:
    """Training data and the code that makes features: a change to either retrains."""
    h = hashlib.sha256()
    for folder in _training_folders():
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            h.update(item.name.encode())
            h.update(item.read_bytes())
    for name in ("figure_roles.tsv", "figure_value_roles.tsv", "figure_metrics.tsv", "figure_year_cues.tsv",
                 "figure_reporters.txt"):
        h.update(resources.files("nlp").joinpath("data", name).read_bytes())
    for module in ("figures.py", "figure_model.py", "entities.py", "segment.py"):
        h.update(resources.files("nlp").joinpath(module).read_bytes())
    return h.hexdigest()[:16]


def model_path() -> Path:
    import sklearn

    from nlp.cache import cache_dir
    return cache_dir() / "models" / f"figures-{data_hash()}-sk{sklearn.__version__}.pkl"


def build_model(path: Path | None = None, folds: int = 5) -> dict:
    """Train on the bundled articles and write the artefact atomically; returns the CV scores."""
    from nlp.pipeline import load

    path = path or model_path()
    features, labels, groups = labelled_candidates(load(("parlens_entities",)))
    scores = cross_validate(features, labels, groups, folds=folds)
    model = OwnershipModel(threshold=scores["threshold"]).fit(features, labels)
    save_artefact(path, model)
    return scores


@lru_cache(maxsize=4)
def load_model(name: str = "default") -> OwnershipModel:
    """"default": the artefact for the bundled data, built once under a lock; else a pickle's path."""
    if name != "default":
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no figure ownership model there (build one with `parlens train`)")
        return pickle.loads(path.read_bytes())
    return load_or_build(model_path(), build_model)
