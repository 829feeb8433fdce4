"""The stance of a speaker (asking, answering, none), learned from the annotated articles.

The lexicon rules in `nlp.speakers` see one cue at a time (a delegate's title, an answering verb,
"Trả lời …"); how these combine differs by report (a Party secretary questions in one, reports on
his city in another). A logistic regression over the words of the speaker's introduction, the
verb's class, the rules' own verdict and the document type learns the combination from the
training articles' speaker fields: each gold statement whose quote lies in a turn that names
the gold speaker labels that turn.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from spacy.tokens import Doc

from corpus.normalize import fold

LABELS = ("asking", "answering", "none")
CODE = ("speakers.py", "stance.py", "entities.py")
DATA = ("speech_verbs.tsv", "speaker_stances.tsv", "speaker_groups.tsv", "speaker_words.tsv", "roles.txt",
        "narrator_cues.tsv")


def turn_features(turn, doc: Doc) -> dict[str, float]:
    """Features of one turn; the same function serves training and prediction."""
    from nlp.segment import text_of
    from nlp.speakers import _verb_class, role_stance
    from nlp.speakers import words as lexicon_words

    text = text_of(doc)
    label = text[turn.label_start:turn.label_end]
    words = fold(" ".join(x for x in (label, turn.role or "") if x)).split()
    f: dict[str, float] = {f"w:{w}": 1.0 for w in words}
    f.update({f"b:{a}_{b}": 1.0 for a, b in zip(words, words[1:])})
    f[f"verb:{fold(turn.verb or '')}"] = 1.0
    f[f"verb_class:{_verb_class(turn.verb)}"] = 1.0
    f[f"role_rule:{role_stance(label + ' ' + (turn.role or ''))}"] = 1.0
    f[f"rule:{turn.stance}"] = 1.0
    f[f"doc_type:{doc.user_data.get('doc_type')}"] = 1.0
    opening = text[max(0, turn.label_start - 40):turn.label_start].lower()
    f["answer_opening"] = float(bool(re.search(lexicon_words("answer_context"), opening)))
    f["has_name"] = float(bool(turn.name) and turn.name != turn.role)
    f["has_body"] = float(turn.unit_ref is not None)
    return f


def data_hash() -> str:
    """The training articles, lexicons and code the model depends on."""
    h = hashlib.sha256()
    root = resources.files("nlp")
    for name in CODE:
        h.update(root.joinpath(name).read_bytes())
    for name in DATA:
        h.update(root.joinpath("data", name).read_bytes())
    articles = root.joinpath("data", "training", "articles")
    for item in sorted(articles.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json"):
            h.update(item.read_bytes())
    return h.hexdigest()[:16]


def training_rows(nlp) -> tuple[list[dict], list[str], list[str]]:
    """(features, gold stance, document) for every turn a gold statement with a stance lies in."""
    from corpus.clean import clean_text
    from corpus.metadata import extract_metadata
    from nlp.segment import text_of
    from nlp.speakers import find_turns, speaker_matches
    from nlp.training import load_articles

    rows, labels, groups = [], [], []
    articles = [a for a in load_articles()
                if any("stance" in g for g in a.gold.get("problems", []) + a.gold.get("remedies", []))]
    docs = []
    for a in articles:
        text = clean_text(a.text)
        doc = nlp.make_doc(text)
        doc.user_data.update(doc_type=extract_metadata(text, raw_text=a.text).doc_type)
        docs.append(doc)
    for article, doc in zip(articles, nlp.pipe(docs)):
        turns = find_turns(doc, learned=False)
        text = text_of(doc)
        seen = set()
        for g in article.gold.get("problems", []) + article.gold.get("remedies", []):
            if "stance" not in g or not g.get("quote"):
                continue
            at = text.find(g["quote"])
            turn = next((t for t in turns if t.start <= at < t.end), None) if at >= 0 else None
            if turn is None or turn.number in seen or not speaker_matches(turn.name, g.get("speaker")):
                continue
            seen.add(turn.number)
            rows.append(turn_features(turn, doc))
            labels.append(g["stance"] if g["stance"] in ("asking", "answering") else "none")
            groups.append(article.doc_id)
    return rows, labels, groups


def _make(C: float = 3.0):
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([("features", DictVectorizer()), ("clf", LogisticRegression(C=C, max_iter=2000))])


def cross_validate(rows, labels, groups, folds: int = 5) -> dict:
    """Grouped CV accuracy of the model and of the rules alone, on the same turns."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    labels_arr = np.array(labels)
    pred = np.empty(len(rows), dtype=object)
    for train, test in GroupKFold(n_splits=folds).split(rows, labels, groups):
        model = _make().fit([rows[i] for i in train], labels_arr[train])
        pred[test] = model.predict([rows[i] for i in test])
    rules = np.array([next((k.split(":", 1)[1] for k in r if k.startswith("rule:")), "None") for r in rows])
    rules = np.where(np.isin(rules, ("asking", "answering")), rules, "none")
    return {"model_accuracy": float(np.mean(pred == labels_arr)), "rules_accuracy": float(np.mean(rules == labels_arr)),
            "turns": len(rows), "documents": len(set(groups))}


def model_path() -> Path:
    import sklearn

    from nlp.cache import cache_dir
    return cache_dir() / "models" / f"stance-{data_hash()}-sk{sklearn.__version__}.pkl"


def build_model(path: Path | None = None) -> dict:
    """Train on the annotated articles and write the artefact atomically; returns the CV scores."""
    from nlp.artefacts import save_artefact
    from nlp.pipeline import load

    path = path or model_path()
    rows, labels, groups = training_rows(load(("parlens_entities",)))
    scores = cross_validate(rows, labels, groups)
    model = _make().fit(rows, labels)
    save_artefact(path, model)
    return scores


@lru_cache(maxsize=1)
def trained_model():
    """The stance model, built once on first use under a file lock (shared with the other models)."""
    from nlp.artefacts import load_or_build
    return load_or_build(model_path(), build_model)


def predict(turns: list, doc: Doc) -> list[str | None]:
    """The learned stance of each turn (None for "none")."""
    if not turns:
        return []
    out = trained_model().predict([turn_features(t, doc) for t in turns])
    return [None if s == "none" else str(s) for s in out]
