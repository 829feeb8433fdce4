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
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from nlp.lexicons import lines

DISTANCE_THRESHOLD = 0.16     # cosine distance inside which statements join one theme
ATTACH_SIMILARITY = 0.80      # a singleton joins the nearest theme at or above this similarity
MAX_OUTLIER_SHARE = 0.2
STABLE_MATCH = 0.85           # centroid similarity that keeps a stored theme id
LABEL_WORDS = 3

KIND_GROUPS = {"weakness": ("weakness", "cause"), "remedy": ("remedy",)}


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


def cluster(vectors: np.ndarray, threshold: float = DISTANCE_THRESHOLD) -> np.ndarray:
    """Cluster labels (ints); deterministic for a given input order."""
    from sklearn.cluster import AgglomerativeClustering

    if len(vectors) == 1:
        return np.zeros(1, dtype=int)
    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                    distance_threshold=threshold)
    return model.fit_predict(vectors)


def _attach_singletons(labels: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Singletons join their nearest theme when close enough, and the closest of the rest until
    outliers are under the allowed share; the remaining ones are outliers (-1)."""
    labels = labels.copy()
    sizes = Counter(labels.tolist())
    groups = sorted(k for k, n in sizes.items() if n >= 2)
    if not groups:
        return np.full(len(labels), -1)
    cents = np.vstack([_unit(vectors[labels == g].mean(axis=0)) for g in groups])
    singles = [i for i, lab in enumerate(labels) if sizes[lab] < 2]
    best: list[tuple[float, int, int]] = []
    for i in singles:
        sims = cents @ vectors[i]
        j = int(np.argmax(sims))
        best.append((float(sims[j]), i, groups[j]))
    best.sort(key=lambda x: (-x[0], x[1]))
    budget = int(MAX_OUTLIER_SHARE * len(labels))
    remaining = len(best)
    for sim, i, g in best:
        if sim >= ATTACH_SIMILARITY or remaining > budget:
            labels[i] = g
            remaining -= 1
        else:
            labels[i] = -1
    return labels


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n else v


def load_members(conn: sqlite3.Connection, kind: str) -> tuple[list[Member], np.ndarray]:
    kinds = KIND_GROUPS[kind]
    rows = conn.execute(
        f"SELECT f.id, f.doc_id, coalesce(d.duplicate_of, f.doc_id) AS canon, f.unit, "
        f"coalesce(f.unit_code, f.unit) AS ukey, f.unit_type, coalesce(f.year, CAST(substr(d.published, 1, 4) AS INTEGER)) AS yr, "
        f"f.text, e.vector FROM findings f JOIN documents d ON d.id = f.doc_id "
        f"JOIN embeddings e ON e.finding_id = f.id WHERE f.kind IN ({','.join('?' * len(kinds))}) ORDER BY f.id",
        kinds).fetchall()
    members = [Member(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]
    vectors = np.vstack([np.frombuffer(r[8], dtype=np.float32) for r in rows]) if rows else np.zeros((0, 0))
    return members, vectors


def _stored_centroids(conn: sqlite3.Connection, kind: str) -> dict[int, np.ndarray]:
    try:
        return {tid: np.frombuffer(blob, dtype=np.float32) for tid, blob in
                conn.execute("SELECT theme_id, centroid FROM themes WHERE kind = ?", (kind,))}
    except sqlite3.OperationalError:
        return {}


def assign_stable_ids(centroids: list[np.ndarray], stored: dict[int, np.ndarray]) -> list[int]:
    """Reuse a stored id for the most similar stored centroid (greedy, best pairs first)."""
    pairs = []
    for i, c in enumerate(centroids):
        for tid, old in stored.items():
            if len(old) == len(c):
                pairs.append((float(old @ c), i, tid))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    ids: dict[int, int] = {}
    used: set[int] = set()
    for sim, i, tid in pairs:
        if sim < STABLE_MATCH:
            break
        if i not in ids and tid not in used:
            ids[i] = tid
            used.add(tid)
    next_id = max(list(stored) + [0]) + 1
    out = []
    for i in range(len(centroids)):
        if i not in ids:
            ids[i] = next_id
            next_id += 1
        out.append(ids[i])
    return out


def find_themes(conn: sqlite3.Connection, kind: str = "weakness", persist: bool = True,
                threshold: float = DISTANCE_THRESHOLD) -> ThemeResult:
    members, vectors = load_members(conn, kind)
    if not members:
        return ThemeResult(kind, [], [])
    labels = _attach_singletons(cluster(vectors, threshold), vectors)
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        if lab >= 0:
            groups.setdefault(int(lab), []).append(i)
    ordered = sorted(groups.values(), key=lambda idx: (-len(idx), members[idx[0]].finding_id))
    centroids = [_unit(vectors[idx].mean(axis=0)) for idx in ordered]
    ids = assign_stable_ids(centroids, _stored_centroids(conn, kind))
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
    if persist:
        _persist(conn, kind, themes)
    return ThemeResult(kind, themes, outliers)


def _persist(conn: sqlite3.Connection, kind: str, themes: list[Theme]) -> None:
    try:
        with conn:
            conn.execute("DELETE FROM themes WHERE kind = ?", (kind,))
            conn.executemany("INSERT INTO themes(kind, theme_id, label, centroid) VALUES (?, ?, ?, ?)",
                             [(kind, t.id, t.label, t.centroid.astype(np.float32).tobytes()) for t in themes])
    except sqlite3.OperationalError:
        pass  # a read-only store: ids are computed but not remembered
