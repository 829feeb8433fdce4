"""Statements: clauses stating a weakness, a cause (objective/subjective) or a remedy.

Sentences are cut into clauses (at ";", list items after "như:", "gồm:",
bullets, and comma-joined chunks that carry their own predicate); each clause
is classified by a scikit-learn model trained on the labelled clauses in
``nlp/data/training/clauses.jsonl`` over features read from the spaCy Doc:
underthesea words, cue phrases, negation patterns ("chưa", "còn", "không"),
the section heading above, the list opener and the position in a list.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc

from corpus.records import Finding
from nlp.attribution import attribute_units  # noqa: F401  (re-exported: the unit of each statement)
from nlp.entities import unit_fields
from corpus.lexicons import labelled_patterns, regex_union
from nlp.segment import published_year, text_of

LABELS = ("weakness", "cause", "remedy", "none")
MIN_CLAUSE_WORDS = 4
MAX_HEADING_CHARS = 120
TRAINING_FILE = "clauses.jsonl"
# The shipped model learns from shared-corpus clauses only; the clauses labelled
# in the bundled seeds stay out so that scores on the seeds measure generalisation.
TRAIN_SOURCES = ("baomoi:",)

if not Doc.has_extension("statements"):
    Doc.set_extension("statements", default=None)


@dataclass
class Clause:
    start: int
    end: int
    sent_start: int
    sent_end: int
    heading: str = ""
    intro: str = ""        # the list opener this clause is an item of ("nguyên nhân khách quan như")
    enum_pos: int = -1     # position in that list, -1 outside lists


@dataclass
class Statement:
    clause: Clause
    kind: str                      # weakness | cause | remedy
    confidence: float
    subtype: str | None = None     # objective | subjective (causes)
    unit: object | None = None     # nlp.entities.UnitRef
    unit_source: str = ""          # which evidence gave the unit (addressee, own, sentence, leader, topic)
    speaker: dict = field(default_factory=dict)

    def to_finding(self, doc: Doc):
        c = self.clause
        return Finding(
            kind=self.kind, subtype=self.subtype, text=text_of(doc)[c.start:c.end], start=c.start, end=c.end,
            year=published_year(doc),  # when the statement was made
            sent_start=c.sent_start, sent_end=c.sent_end, confidence=round(self.confidence, 4),
            **unit_fields(self.unit, doc),
            speaker=self.speaker.get("name"), speaker_role=self.speaker.get("role"),
            speaker_unit=self.speaker.get("unit"), stance=self.speaker.get("stance"),
            turn=self.speaker.get("turn"),
            extra={k: v for k, v in (("heading", c.heading), ("answers_turn", self.speaker.get("answers_turn")))
                   if v not in (None, "")},
        )


# -- clause splitting -----------------------------------------------------------

def _openers() -> re.Pattern:
    return regex_union("nlp", "enumeration_openers.tsv")


_CONNECTOR = re.compile(r"\s*(?:như|gồm|bao gồm|là|sau)?\s*:?\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-+•*–]|\(?[a-zđ]\)|\d{1,2}[.)])\s+")
_TRAILING = " \t,;.:…–-"
_FRAME = re.compile(
    r"^(?:(?:tuy nhiên|bên cạnh đó|ngoài ra|đồng thời|trong đó|theo đó|mặt khác|cùng với đó|do đó|vì vậy|"
    r"qua đó|từ đó|song|nhưng|và|thứ (?:nhất|hai|ba|tư|năm)|một là|hai là|ba là|trước hết|đặc biệt là|nhất là)"
    r"\s*,?\s+)+", re.IGNORECASE)


def is_heading(line: str) -> bool:
    """A short line without final punctuation: a section heading or caption."""
    line = line.strip()
    return bool(line) and len(line) <= MAX_HEADING_CHARS and line[-1] not in ".;:!?…" and len(line.split()) <= 20


def split_clauses(doc: Doc) -> list[Clause]:
    text = text_of(doc)
    clauses: list[Clause] = []
    heading = ""
    for sent in doc.sents:
        s0, s1 = sent.start_char, sent.end_char
        stext = text[s0:s1].rstrip()
        s1 = s0 + len(stext)
        if not stext.strip():
            continue
        at_line_start = s0 == 0 or text[s0 - 1] == "\n"
        line_end = text.find("\n", s0)
        line_end = len(text) if line_end < 0 else line_end
        if at_line_start and line_end <= s1 + 1 and is_heading(stext):
            # headings set the context for what follows, and may state a finding themselves
            clauses += _clauses_of_sentence(doc, s0, s1, heading)
            heading = stext.strip()
            continue
        clauses += _clauses_of_sentence(doc, s0, s1, heading)
    return clauses


def _clauses_of_sentence(doc: Doc, s0: int, s1: int, heading: str) -> list[Clause]:
    text = text_of(doc)
    out: list[Clause] = []
    pieces: list[tuple[int, int, str, int]] = []  # start, end, intro, enum_pos
    bullet = _BULLET.match(text, s0)
    start = bullet.end() if bullet else s0
    for seg_start, seg_end in _split_at(text, start, s1, ";"):
        opener = None
        for m in _openers().finditer(text, seg_start, seg_end):
            if m.end() < seg_end - 3:
                opener = m
                break
        items = list(_split_at(text, opener.end(), seg_end, ",")) if opener is not None else []
        if opener is not None and len(items) > 1:
            intro = text[seg_start:opener.end()]
            head_end = seg_start + len(_CONNECTOR.sub("", intro))
            if len(text[seg_start:head_end].split()) >= MIN_CLAUSE_WORDS:
                pieces.append((seg_start, head_end, "", -1))
            merged = _merge_chunks(doc, items)
            pieces += [(a, b, intro.strip(), i) for i, (a, b) in enumerate(merged)]
        else:
            merged = _merge_chunks(doc, list(_split_at(text, seg_start, seg_end, ",")))
            pieces += [(a, b, "", -1 if len(merged) == 1 else i) for i, (a, b) in enumerate(merged)]
    for a, b, intro, pos in pieces:
        a, b = _trim(text, a, b)
        if b - a < 8 or len(text[a:b].split()) < MIN_CLAUSE_WORDS:
            continue
        out.append(Clause(a, b, s0, s1, heading=heading, intro=intro, enum_pos=pos))
    return out


def _split_at(text: str, a: int, b: int, sep: str):
    """Pieces of text[a:b] between separators, ignoring separators inside brackets and numbers."""
    depth, start = 0, a
    for i in range(a, b):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            if sep == "," and i + 1 < b and text[i + 1].isdigit() and i > a and text[i - 1].isdigit():
                continue  # decimal comma
            yield start, i
            start = i + 1
    yield start, b


def _words(doc: Doc, a: int, b: int) -> list:
    span = doc.char_span(a, b, alignment_mode="expand")
    return [t for t in span if not t.is_space and not t.is_punct] if span is not None else []


def _markers() -> re.Pattern:
    return regex_union("nlp", "clause_markers.tsv")


MIN_SPLIT_SYLLABLES = 6


def _standalone(text: str) -> bool:
    """Long enough and with its own predicate marker to be a clause by itself."""
    text = text.strip()
    return len(text.split()) >= MIN_SPLIT_SYLLABLES and bool(_markers().search(text))


def _merge_chunks(doc: Doc, chunks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Comma chunks are split off only when both sides can stand alone; otherwise they stay
    together (a clause that is too long still matches its idea, a fragment does not)."""
    text = text_of(doc)
    out: list[list[int]] = []
    for a, b in chunks:
        if out and _standalone(text[a:b]) and _standalone(text[out[-1][0]:out[-1][1]]):
            out.append([a, b])
        elif out:
            out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] in _TRAILING + "\"'“”()":
        a += 1
    while b > a and text[b - 1] in _TRAILING + "\"'“”":
        b -= 1
    m = _FRAME.match(text, a, b)
    if m and m.end() < b:
        a = m.end()
    if text[a:b].count("(") > text[a:b].count(")") and text[b:b + 1] == ")":
        b += 1
    return a, b


# -- features -------------------------------------------------------------------

def _cue_patterns():
    return labelled_patterns("nlp", "statement_cues.tsv")


def _heading_patterns():
    return labelled_patterns("nlp", "section_headings.tsv")


def clause_features(words: list[str], tags: list[str], text: str, sentence: str, heading: str, intro: str,
                    enum_pos: int) -> dict:
    """Features of one clause; the same function serves training and extraction."""
    low = text.lower()
    f: dict[str, float] = {}
    for cls, pat in _cue_patterns():
        hits = pat.findall(low)
        f[f"cue:{cls}"] = min(len(hits), 3)
        if hits:
            f[f"cue_first:{cls}"] = 1.0 if pat.search(" ".join(low.split()[:4])) else 0.0
    for cls, pat in _heading_patterns():
        if heading and pat.search(heading):
            f[f"heading:{cls}"] = 1.0
        if intro and pat.search(intro):
            f[f"intro:{cls}"] = 1.0
        if pat.search(sentence[:60].lower()):
            f[f"sent_open:{cls}"] = 1.0
    wl = [w.lower() for w in words]
    for neg in ("chưa", "còn", "không", "thiếu"):
        if neg in wl:
            f[f"neg:{neg}"] = 1.0
            i = wl.index(neg)
            f[f"neg_pos:{neg}"] = i / max(len(wl), 1)
            if i + 1 < len(tags):
                f[f"neg_next:{neg}:{tags[i + 1]}"] = 1.0
    if wl:
        f[f"first:{wl[0]}"] = 1.0
        f[f"first_tag:{tags[0]}"] = 1.0
    f["has_number"] = float(bool(re.search(r"\d", text)))
    f["has_percent"] = float("%" in text)
    f["in_list"] = float(enum_pos >= 0)
    f["list_pos"] = min(enum_pos, 5) / 5 if enum_pos >= 0 else 0.0
    f["intro:khách quan"] = float("khách quan" in (intro + " " + sentence[: max(0, sentence.find(text))]).lower())
    f["intro:chủ quan"] = float("chủ quan" in (intro + " " + sentence[: max(0, sentence.find(text))]).lower())
    f["length"] = min(len(words), 60) / 60
    f["verbs"] = min(sum(t == "V" for t in tags), 8) / 8
    return f


def _span_words(doc: Doc, a: int, b: int) -> tuple[list[str], list[str]]:
    toks = _words(doc, a, b)
    return [t.text for t in toks], [t.tag_ for t in toks]


def analyzer(words: str) -> list[str]:
    """TF-IDF analyzer over underthesea words joined by '|' (multi-syllable words kept whole)."""
    toks = [w.lower().replace(" ", "_") for w in words.split("|") if w]
    return toks + [f"{a} {b}" for a, b in zip(toks, toks[1:])]


def syllable_analyzer(words: str) -> list[str]:
    """Syllable unigrams and bigrams: the same clause gives the same features however
    underthesea happens to group its syllables into words."""
    syl = [x.lower() for w in words.split("|") for x in w.split() if x]
    return syl + [f"{a} {b}" for a, b in zip(syl, syl[1:])]


# -- the model ------------------------------------------------------------------

class StatementModel:
    """Two logistic regressions: one over TF-IDF of words plus cue/context features, one over the
    sentence encoder's vector of the clause (when given); see `_combine` for how they are joined.
    fit/predict with no hidden state; the vectors come from the encoder the project ships."""

    def __init__(self, C: float = 4.0, threshold: float = 0.5, dense_C: float = 2.0):
        self.C = C
        self.dense_C = dense_C
        self.threshold = threshold   # min share of the kinds to keep a clause; chosen by grouped CV
        self.pipeline = None
        self.dense = None            # the vector model, or None when trained without vectors

    def _make(self):
        from sklearn.compose import ColumnTransformer
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        features = ColumnTransformer([
            ("words", TfidfVectorizer(analyzer=analyzer, min_df=2, sublinear_tf=True), "words"),
            ("syllables", TfidfVectorizer(analyzer=syllable_analyzer, min_df=2, sublinear_tf=True), "words"),
            ("context", TfidfVectorizer(analyzer=analyzer, min_df=2, sublinear_tf=True, max_features=2000), "context"),
            ("cues", DictVectorizer(), "features"),
        ])
        return Pipeline([("features", features),
                         ("clf", LogisticRegression(C=self.C, max_iter=3000, class_weight="balanced"))])

    @staticmethod
    def frame(rows: list[dict]):
        import pandas as pd
        return pd.DataFrame({"words": [r["words"] for r in rows], "context": [r["context"] for r in rows],
                             "features": [r["features"] for r in rows]})

    def fit(self, rows: list[dict], labels: list[str], vectors: np.ndarray | None = None) -> "StatementModel":
        from sklearn.linear_model import LogisticRegression

        self.pipeline = self._make().fit(self.frame(rows), labels)
        if vectors is not None:
            self.dense = LogisticRegression(C=self.dense_C, max_iter=3000, class_weight="balanced")
            self.dense.fit(vectors, labels)
        return self

    def predict_proba(self, rows: list[dict], vectors: np.ndarray | None = None) -> tuple[list[str], np.ndarray]:
        probs = self.pipeline.predict_proba(self.frame(rows))
        classes = list(self.pipeline.classes_)
        if self.dense is not None:
            if vectors is None:
                raise ValueError("this statement model was trained with clause vectors; pass them")
            probs = _combine(classes, probs, self.dense.predict_proba(vectors))
        return classes, probs

    def decide(self, classes: list[str], probs: np.ndarray, threshold: float | None = None) -> list[str]:
        """A kind per row, or "none" (see `decide`); the model's own threshold unless one is given."""
        return decide(classes, probs, self.threshold if threshold is None else threshold)


def _combine(classes: list[str], lexical: np.ndarray, dense: np.ndarray) -> np.ndarray:
    """Whether a clause states a finding at all from both models (the vector knows the topic);
    which kind from the lexical model alone (the vector is blind to "chưa", "còn hạn chế")."""
    if "none" not in classes:
        return (lexical + dense) / 2
    none = classes.index("none")
    kinds = [i for i in range(len(classes)) if i != none]
    p_none = (lexical[:, none] + dense[:, none]) / 2
    out = np.empty_like(lexical)
    out[:, none] = p_none
    share = lexical[:, kinds] / np.maximum(lexical[:, kinds].sum(axis=1, keepdims=True), 1e-12)
    out[:, kinds] = (1.0 - p_none)[:, None] * share
    return out


def decide(classes: list[str], probs: np.ndarray, threshold: float) -> list[str]:
    """The most likely kind, kept when it is at least as likely as "none" and the kinds together
    hold at least `threshold` of the probability."""
    if not len(probs):
        return []
    none = classes.index("none") if "none" in classes else None
    kinds = [i for i in range(len(classes)) if i != none]
    p_none = probs[:, none] if none is not None else np.zeros(len(probs))
    best = np.array(kinds)[np.argmax(probs[:, kinds], axis=1)]
    keep = (1.0 - p_none >= threshold) & (probs[np.arange(len(probs)), best] >= p_none)
    return [classes[b] if k else "none" for b, k in zip(best, keep)]


def statement_f1(gold: list[str], pred: list[str]) -> float:
    """Micro F1 over statements (a kept clause of the right kind is a hit)."""
    tp = sum(g == p != "none" for g, p in zip(gold, pred))
    n_pred = sum(p != "none" for p in pred)
    n_gold = sum(g != "none" for g in gold)
    return 2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0


def cross_validate(rows: list[dict], labels: list[str], groups: list[str], folds: int = 5,
                   seed: int = 0, vectors: np.ndarray | None = None) -> dict:
    """Out-of-fold probabilities with folds grouped by document; the threshold that maximises
    statement F1 on them, and per-class scores at that threshold."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import GroupKFold

    labels_arr = np.array(labels)
    classes = sorted(set(labels))
    oof = np.zeros((len(rows), len(classes)))
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(rows, labels, groups):
        model = StatementModel().fit([rows[i] for i in train], list(labels_arr[train]),
                                     None if vectors is None else vectors[train])
        cls, probs = model.predict_proba([rows[i] for i in test], None if vectors is None else vectors[test])
        for j, c in enumerate(cls):
            oof[test, classes.index(c)] = probs[:, j]
    grid = [round(t, 2) for t in np.arange(0.2, 0.81, 0.05)]
    scores = {t: statement_f1(labels, decide(classes, oof, t)) for t in grid}
    threshold = max(scores, key=lambda t: (scores[t], -abs(t - 0.5)))
    pred = decide(classes, oof, threshold)
    per_class = f1_score(labels, pred, labels=classes, average=None, zero_division=0)
    return {"threshold": threshold, "statement_f1": scores[threshold], "f1_by_threshold": scores,
            "per_class_f1": dict(zip(classes, map(float, per_class))),
            "macro_f1": float(np.mean(per_class)), "accuracy": float(np.mean(np.array(pred) == labels_arr)),
            "clauses": len(rows), "documents": len(set(groups)), "folds": folds}


def featurise(doc: Doc, clause: Clause) -> dict:
    text = text_of(doc)
    words, tags = _span_words(doc, clause.start, clause.end)
    sentence = text[clause.sent_start:clause.sent_end]
    ctx_words, _ = _span_words(doc, clause.sent_start, clause.start)
    return {
        "text": text[clause.start:clause.end],
        "words": "|".join(words),
        "context": "|".join([f"h_{w}" for w in clause.heading.lower().split()] + ctx_words[-8:]),
        "features": clause_features(words, tags, text[clause.start:clause.end], sentence, clause.heading,
                                    clause.intro, clause.enum_pos),
    }


def load_training(path: Path | None = None) -> list[dict]:
    if path is None:
        path = Path(str(resources.files("nlp").joinpath("data", "training", TRAINING_FILE)))
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{i}: not valid JSON ({exc})") from None
    return rows


def training_rows(nlp: Language, examples: list[dict]) -> tuple[list[dict], list[str], list[str]]:
    """Featurise labelled clauses through the same tokenizer the pipeline uses."""
    from corpus.normalize import normalize_text

    rows, labels, groups = [], [], []
    examples = [{**ex, "text": normalize_text(ex["text"]), "sentence": normalize_text(ex["sentence"])}
                for ex in examples]
    sentences = [ex["sentence"] for ex in examples]
    for ex, doc in zip(examples, nlp.tokenizer.pipe(sentences) if hasattr(nlp.tokenizer, "pipe")
                       else (nlp.make_doc(s) for s in sentences)):
        a = ex["sentence"].find(ex["text"])
        if a < 0:
            continue
        clause = Clause(a, a + len(ex["text"]), 0, len(ex["sentence"]), heading=ex.get("heading", ""),
                        intro=_intro_of(ex), enum_pos=int(ex.get("enum_pos", -1)))
        rows.append(featurise(doc, clause))
        labels.append(ex["label"])
        groups.append(ex.get("doc_id", ""))
    return rows, labels, groups


def _intro_of(ex: dict) -> str:
    a = ex["sentence"].find(ex["text"])
    m = None
    for m in _openers().finditer(ex["sentence"], 0, max(a, 0)):
        pass
    return ex["sentence"][:m.end()] if m is not None and int(ex.get("enum_pos", -1)) >= 0 else ""


def data_hash() -> str:
    training = resources.files("nlp").joinpath("data", "training")
    h = hashlib.sha256(training.joinpath(TRAINING_FILE).read_bytes())
    articles = training.joinpath("articles")
    if articles.is_dir():
        for item in sorted(articles.iterdir(), key=lambda p: p.name):
            h.update(item.name.encode())
            h.update(item.read_bytes())
    for name in ("statement_cues.tsv", "section_headings.tsv", "enumeration_openers.tsv", "clause_markers.tsv"):
        h.update(resources.files("nlp").joinpath("data", name).read_bytes())
    # the features depend on how text is segmented and featurised, so the code is part of the key
    for module in ("statements.py", "segment.py", "training.py"):
        h.update(resources.files("nlp").joinpath(module).read_bytes())
    return h.hexdigest()[:16]


def training_set(nlp: Language) -> tuple[list[dict], list[str], list[str]]:
    """Every labelled clause: the hand-labelled clauses plus those derived from annotated articles."""
    from nlp.training import article_examples, load_articles

    examples = [ex for ex in load_training() if ex.get("doc_id", "").startswith(TRAIN_SOURCES)]
    rows, labels, groups = training_rows(nlp, examples)
    more = article_examples(nlp, load_articles())
    return rows + more[0], labels + more[1], groups + more[2]


@lru_cache(maxsize=2)
def clause_encoder(name: str | None):
    """The sentence encoder whose clause vectors the model reads (None: TF-IDF model only)."""
    if name is None:
        return None
    from nlp.embeddings import shared_encoder
    return shared_encoder(None if name == "default" else name)


def clause_vectors(encoder_name: str | None, rows: list[dict]) -> np.ndarray | None:
    encoder = clause_encoder(encoder_name)
    if encoder is None or not rows:
        return None
    return np.asarray(encoder.encode_passages([r["text"] for r in rows]), dtype=np.float32)


def model_path(encoder_name: str | None = "default") -> Path:
    """The artefact for the current training data, features, encoder and scikit-learn version."""
    import sklearn

    from nlp.cache import cache_dir
    enc = hashlib.sha256(str(encoder_name).encode()).hexdigest()[:6]
    return cache_dir() / "models" / f"statements-{data_hash()}-e{enc}-sk{sklearn.__version__}.pkl"


def build_model(path: Path | None = None, encoder_name: str | None = "default", folds: int = 5) -> dict:
    """Train on the bundled data and write the artefact atomically (fixed seeds: reproducible).

    The threshold comes from grouped cross-validation, whose scores are returned.
    """
    from nlp.artefacts import save_artefact
    from nlp.pipeline import load

    path = path or model_path(encoder_name)
    rows, labels, groups = training_set(load(("parlens_entities",)))
    vectors = clause_vectors(encoder_name, rows)
    scores = cross_validate(rows, labels, groups, folds=folds, vectors=vectors)
    model = StatementModel(threshold=scores["threshold"]).fit(rows, labels, vectors)
    save_artefact(path, model)
    return scores


@lru_cache(maxsize=2)
def trained_model(encoder_name: str | None = "default") -> StatementModel:
    """The model artefact, built once on first use under a file lock (workers never race)."""
    from nlp.artefacts import load_or_build
    return load_or_build(model_path(encoder_name), lambda path: build_model(path, encoder_name))


# -- the component ----------------------------------------------------------------

class StatementExtractor:
    def __init__(self, threshold: float | None = None, encoder: str | None = "default"):
        self.threshold = threshold   # None: the threshold the model's cross-validation chose
        self.encoder = encoder       # sentence encoder for clause vectors; None: TF-IDF model only
        trained_model(encoder)       # loaded (or built, once, under a lock) with the pipeline, not mid-document

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs, batch_size: int = 16):
        """Classify the clauses of a batch of documents in one model call."""
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._process(batch)
                batch = []
        if batch:
            yield from self._process(batch)

    def _process(self, docs: list[Doc]):
        per_doc = [split_clauses(doc) for doc in docs]
        rows = [featurise(doc, c) for doc, clauses in zip(docs, per_doc) for c in clauses]
        model = trained_model(self.encoder)
        classes, probs = (model.predict_proba(rows, clause_vectors(self.encoder, rows)) if rows
                          else ([], np.zeros((0, 0))))
        k = 0
        for doc, clauses in zip(docs, per_doc):
            self._finish(doc, clauses, classes, probs[k:k + len(clauses)])
            k += len(clauses)
            yield doc

    def _finish(self, doc: Doc, clauses: list[Clause], classes: list[str], probs: np.ndarray) -> None:
        statements: list[Statement] = []
        if clauses:
            kinds = trained_model(self.encoder).decide(classes, probs, self.threshold)
            for clause, p, label in zip(clauses, probs, kinds):
                if label == "none":
                    continue
                st = Statement(clause=clause, kind=label, confidence=float(p[classes.index(label)]))
                if label == "cause":
                    st.subtype = _cause_type(text_of(doc), clause)
                statements.append(st)
        attribute_units(doc, statements)
        doc._.statements = statements
        doc.spans["statements"] = [s for s in (doc.char_span(st.clause.start, st.clause.end, label=st.kind,
                                                             alignment_mode="expand") for st in statements) if s]


def _cause_type(text: str, clause: Clause) -> str | None:
    before = (clause.intro + " " + text[clause.sent_start:clause.end]).lower()
    obj, subj = before.rfind("khách quan"), before.rfind("chủ quan")
    if obj < 0 and subj < 0:
        return None
    return "objective" if obj > subj else "subjective"


@Language.factory("parlens_statements", default_config={"threshold": None, "encoder": "default"})
def create_statement_extractor(nlp: Language, name: str, threshold: float | None,
                               encoder: str | None) -> StatementExtractor:
    return StatementExtractor(threshold=threshold, encoder=encoder)
