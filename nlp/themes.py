"""Recurring themes: statements from many documents grouped by meaning.

Weakness and cause statements (or remedies) are clustered on their
embeddings with agglomerative clustering under a cosine-distance threshold
(deterministic: no random start). Each theme gets a label from class-based
TF-IDF over underthesea words (multi-syllable words such as "tuyên_truyền",
stop words removed), a representative quote (the member nearest the
centroid) and counts in which near-duplicate articles count once. Theme ids
are kept stable across runs by matching new centroids to stored ones.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from corpus.lexicons import lines
from corpus.records import theme_groups

DISTANCE_THRESHOLD = 0.95     # on the blended similarity below: average linkage joins above 0.05
EMBEDDING_WEIGHT = 0.3        # share of (centred) meaning in the blend; the rest is shared topic words
ATTACH_SIMILARITY = 0.10      # a singleton joins the theme it is on average this similar to
MAX_OUTLIER_SHARE = 0.2
STABLE_MATCH = 0.85           # centroid similarity that keeps a stored theme id
LABEL_WORDS = 3



@dataclass
class Member:
    finding_id: int
    doc_id: str
    canonical_doc: str
    unit: str | None
    unit_key: str | None
    unit_type: str | None
    year: int | None
    text: str
    similarity: float = 0.0


@dataclass
class Theme:
    id: int
    label: str
    quote: str
    members: list[Member] = field(default_factory=list)
    centroid: np.ndarray | None = None

    @property
    def n_statements(self) -> int:
        return len(self.members)

    @property
    def n_documents(self) -> int:
        return len({m.canonical_doc for m in self.members})

    @property
    def n_units(self) -> int:
        return len({m.unit_key for m in self.members if m.unit_key})

    @property
    def years(self) -> list[int]:
        return sorted({m.year for m in self.members if m.year})

    @property
    def years_text(self) -> str:
        ys = self.years
        return "-" if not ys else (str(ys[0]) if len(ys) == 1 else f"{ys[0]}–{ys[-1]}")

    def as_json(self) -> dict:
        return {"id": self.id, "label": self.label, "quote": self.quote,
                "counts": {"statements": self.n_statements, "documents": self.n_documents,
                           "units": self.n_units, "years": len(self.years)},
                "members": [{"doc_id": m.doc_id, "unit": m.unit, "text": m.text} for m in self.members]}

    def as_row(self) -> dict:
        return {"id": self.id, "label": self.label, "statements": self.n_statements,
                "documents": self.n_documents, "units": self.n_units, "years": self.years_text,
                "quote": self.quote}


@dataclass
class ThemeResult:
    kind: str
    themes: list[Theme]
    outliers: list[Member]

    @property
    def outlier_share(self) -> float:
        total = sum(t.n_statements for t in self.themes) + len(self.outliers)
        return len(self.outliers) / total if total else 0.0


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(w.lower() for w in lines("nlp", "stopwords.txt"))


def label_words(text: str) -> list[str]:
    """Multi-syllable underthesea words of a statement, joined with '_', stop words removed."""
    from underthesea import word_tokenize

    out = []
    for w in word_tokenize(text):
        low = w.lower()
        if all(s[:1].isupper() for s in w.split()):
            continue  # names of units and people say who, not what
        if " " in low and low not in stopwords() and all(s.isalpha() for s in low.split()):
            out.append(low.replace(" ", "_"))
    return out


def ctfidf_labels(docs_per_class: list[list[str]], top: int = LABEL_WORDS) -> list[list[str]]:
    """Class-based TF-IDF: words frequent in one theme and rare across themes."""
    counts = [Counter(words) for words in docs_per_class]
    total = Counter()
    for c in counts:
        total.update(c)
    avg = (sum(sum(c.values()) for c in counts) / max(len(counts), 1)) or 1.0
    labels = []
    for c in counts:
        n = sum(c.values()) or 1
        scored = sorted(((tf / n) * math.log(1 + avg / total[w]), w) for w, tf in c.items())
        scored.sort(key=lambda x: (-x[0], x[1]))
        labels.append([w for _, w in scored[:top]])
    return labels


def keyword_matrix(members: list["Member"]):
    """TF-IDF over the syllables and syllable pairs of each statement's content words.

    Syllables rather than words: underthesea may write "cơ_sở_vật_chất" in one
    sentence and "cơ_sở vật_chất" in the next, and both must meet.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = []
    for m in members:
        syl = [x for w in label_words(m.text) for x in w.split("_")]
        docs.append(syl + [f"{a}~{b}" for a, b in zip(syl, syl[1:])])
    return TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True).fit_transform(docs)


def similarity(members: list["Member"], vectors: np.ndarray) -> np.ndarray:
    """Blend of meaning and shared topic words.

    Sentence embeddings of short Vietnamese statements are all alike (mean
    cosine ~0.87: "còn hạn chế" dominates), so they are centred first; the
    keyword part keeps statements about one subject (tuyên truyền, cơ sở vật
    chất) together when their wording differs.
    """
    centred = vectors - vectors.mean(axis=0)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    centred = centred / np.where(norms == 0, 1, norms)
    kw = keyword_matrix(members)
    return EMBEDDING_WEIGHT * (centred @ centred.T) + (1 - EMBEDDING_WEIGHT) * (kw @ kw.T).toarray()


def cluster(sim: np.ndarray, threshold: float = DISTANCE_THRESHOLD) -> np.ndarray:
    """Cluster labels (ints); deterministic for a given input order."""
    from sklearn.cluster import AgglomerativeClustering

    if len(sim) == 1:
        return np.zeros(1, dtype=int)
    model = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                    distance_threshold=threshold)
    return model.fit_predict(np.clip(1.0 - sim, 0.0, 2.0))


def _attach_singletons(labels: np.ndarray, sim: np.ndarray) -> np.ndarray:
    """Singletons join the theme they are on average most similar to when close enough, and the
    closest of the rest until outliers are under the allowed share; the others stay outliers (-1)."""
    labels = labels.copy()
    sizes = Counter(labels.tolist())
    groups = sorted(k for k, n in sizes.items() if n >= 2)
    if not groups:
        return np.full(len(labels), -1)
    index = {g: np.flatnonzero(labels == g) for g in groups}
    singles = [i for i, lab in enumerate(labels) if sizes[lab] < 2]
    best: list[tuple[float, int, int]] = []
    for i in singles:
        scores = [(float(sim[i, index[g]].mean()), g) for g in groups]
        score, g = max(scores, key=lambda x: (x[0], -x[1]))
        best.append((score, i, g))
    best.sort(key=lambda x: (-x[0], x[1]))
    budget = int(MAX_OUTLIER_SHARE * len(labels))
    remaining = len(best)
    for score, i, g in best:
        if score >= ATTACH_SIMILARITY or remaining > budget:
            labels[i] = g
            remaining -= 1
        else:
            labels[i] = -1
    return labels


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n else v


def member_from_row(row: dict) -> Member:
    """A theme member from a stored finding row (see corpus.store.statement_texts / theme_member_rows)."""
    return Member(row["finding_id"], row["doc_id"], row["canon"], row["unit"], row["ukey"], row["unit_type"],
                  row["yr"], row["text"], float(row.get("similarity") or 0.0))


def assign_stable_ids(clusters: list[set[int]], centroids: list[np.ndarray], stored_members: dict[int, set[int]],
                      stored_centroids: dict[int, np.ndarray]) -> list[int]:
    """Keep a stored id for the cluster holding most of that theme's old members (at least half
    of the smaller of the two), else for the cluster whose centroid is closest; new ids otherwise."""
    ids: dict[int, int] = {}
    used: set[int] = set()
    pairs = []
    for i, members in enumerate(clusters):
        for tid, old in stored_members.items():
            shared = len(members & old)
            if shared and shared >= 0.5 * min(len(members), len(old)):
                pairs.append((shared, i, tid))
    for _, i, tid in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if i not in ids and tid not in used:
            ids[i] = tid
            used.add(tid)
    sims = []
    for i, c in enumerate(centroids):
        for tid, old in stored_centroids.items():
            if i not in ids and tid not in used and len(old) == len(c):
                sims.append((float(old @ c), i, tid))
    for sim, i, tid in sorted(sims, key=lambda p: (-p[0], p[1], p[2])):
        if sim < STABLE_MATCH:
            break
        if i not in ids and tid not in used:
            ids[i] = tid
            used.add(tid)
    next_id = max(list(stored_centroids) + list(stored_members) + [0]) + 1
    out = []
    for i in range(len(clusters)):
        if i not in ids:
            ids[i] = next_id
            next_id += 1
        out.append(ids[i])
    return out


def find_themes(kind: str, members: list[Member], vectors: np.ndarray,
                previous: tuple[dict[int, np.ndarray], dict[int, set[int]]] = ({}, {}),
                threshold: float = DISTANCE_THRESHOLD) -> ThemeResult:
    """Cluster `members` (rows of `vectors`) into themes; `previous` (stored centroids and
    members by theme id) keeps ids stable across runs."""
    if kind not in theme_groups():
        raise ValueError(f"no themes for {kind!r}: use {', '.join(theme_groups())}")
    if not members:
        return ThemeResult(kind, [], [])
    sim = similarity(members, vectors)
    labels = _attach_singletons(cluster(sim, threshold), sim)
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        if lab >= 0:
            groups.setdefault(int(lab), []).append(i)
    ordered = sorted(groups.values(), key=lambda idx: (-len(idx), members[idx[0]].finding_id))
    centroids = [_unit(vectors[idx].mean(axis=0)) for idx in ordered]
    stored_centroids, stored_members = previous
    clusters = [{members[i].finding_id for i in idx} for idx in ordered]
    ids = assign_stable_ids(clusters, centroids, stored_members, stored_centroids)
    words = ctfidf_labels([[w for i in idx for w in label_words(members[i].text)] for idx in ordered])
    themes = []
    for tid, idx, cent, top in zip(ids, ordered, centroids, words):
        sims = vectors[idx] @ cent
        group = []
        for i, s in zip(idx, sims):
            members[i].similarity = float(s)
            group.append(members[i])
        group.sort(key=lambda m: (-m.similarity, m.finding_id))
        label = " · ".join(w.replace("_", " ") for w in top) or group[0].text[:60]
        themes.append(Theme(tid, label, group[0].text, group, cent))
    outliers = [members[i] for i, lab in enumerate(labels) if lab < 0]
    return ThemeResult(kind, themes, outliers)


def stored_result(kind: str, labels: dict[int, tuple[str, np.ndarray]], member_rows: list[dict]) -> ThemeResult:
    """Themes as a themes job stored them (theme id -1 holds the outliers), largest first."""
    by_theme: dict[int, list[Member]] = {}
    for row in member_rows:
        by_theme.setdefault(int(row["theme_id"]), []).append(member_from_row(row))
    themes = [Theme(tid, label, by_theme[tid][0].text, by_theme[tid], centroid)
              for tid, (label, centroid) in labels.items() if by_theme.get(tid)]
    themes.sort(key=lambda t: (-t.n_statements, min(m.finding_id for m in t.members)))
    return ThemeResult(kind, themes, by_theme.get(-1, []))
