"""The dense half of search: a vector index over finding ids, and rank fusion with keywords.

Vectors come from the store's ``embeddings`` table (written with their
finding, so the index is never out of step with the findings). Search is
exact (FAISS flat inner product) up to ``ANN_THRESHOLD`` items; above it an
inverted-file index (FAISS IVF), persisted beside the store by the index job,
answers behind the same interface. Filters are finding ids, applied inside
FAISS as an ID selector. Dense and keyword rankings are fused by reciprocal
rank, so exact unit names and terms hit even when the embedding is vague about them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

ANN_THRESHOLD = 50_000  # IVF above this: where it won in `parlens bench` (search-crossover stage)
IVF_NPROBE_MIN = 8      # cells probed per query: calibrated per index to reach IVF_RECALL
IVF_RECALL = 0.995      # recall@10 against exact search the calibration aims for
FILTER_PROBE_EXP = 1.0   # nprobe x (n / allowed) ** this when filtered (0.5 lost recall: 0.93 at 10%)
LOOKUP_SPAN_PER_ITEM = 8  # id -> position table when ids span at most this many slots per item
EXACT_SUBSET_MAX = 2_000  # a filter this selective is answered exactly from the allowed vectors
RRF_K = 60
CANDIDATES = 200


@dataclass
class Hit:
    finding_id: int
    doc_id: str
    kind: str
    unit: str | None
    year: int | None
    text: str
    score: float
    dense: float | None = None
    keyword_rank: int | None = None
    title: str | None = None
    province: str | None = None
    speaker: str | None = None
    start: int = 0
    end: int = 0
    sent_start: int | None = None
    sent_end: int | None = None

    def as_json(self) -> dict:
        return {"doc_id": self.doc_id, "kind": self.kind, "unit": self.unit, "year": self.year,
                "text": self.text, "score": round(self.score, 4)}

    def as_row(self) -> dict:
        return asdict(self)


class VectorIndex:
    """Cosine search over unit vectors: FAISS flat inner product (exact) up to `ann_threshold`
    items, FAISS IVF above it; filters run inside FAISS as an ID selector.

    FAISS labels are positions in `ids`; `search` takes and returns finding ids.
    """

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, ann_threshold: int = ANN_THRESHOLD,
                 ann_path: Path | None = None, save_ann: bool = True):
        """`ann_path`: where the IVF index is read from when it matches, and (with `save_ann`,
        as the index job does) written to when built; readers pass save_ann=False."""
        import faiss

        self.ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._order = np.argsort(self.ids, kind="stable")  # id -> position by binary search
        self._sorted_ids = self.ids[self._order]
        self._lookup, self._base = None, 0
        if len(self.ids):  # finding ids are rowids, nearly dense: a direct id -> position table
            self._base = int(self._sorted_ids[0])
            span = int(self._sorted_ids[-1]) - self._base + 1
            if span <= LOOKUP_SPAN_PER_ITEM * len(self.ids):
                self._lookup = np.full(span, -1, dtype=np.int64)
                self._lookup[self.ids - self._base] = np.arange(len(self.ids))
        self.ann = None
        self.flat = None
        if len(self.ids) > ann_threshold:
            self.ann = _ivf(vectors, ann_path, save_ann)
            self.vectors = vectors  # kept for exact search over a small allowed subset
        elif len(self.ids):
            self.flat = faiss.IndexFlatIP(vectors.shape[1])
            self.flat.add(vectors)
            # a view of FAISS's own copy: the vectors are held once
            self.vectors = faiss.rev_swig_ptr(self.flat.get_xb(), vectors.size).reshape(vectors.shape)
        else:
            self.vectors = vectors

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def kind(self) -> str:
        return "ivf" if self.ann is not None else "exact"

    def search(self, query: np.ndarray, k: int = 10,
               allowed: Sequence[int] | np.ndarray | None = None) -> list[tuple[int, float]]:
        """(finding id, cosine) best first, at most k; only finding ids in `allowed` when given.

        `allowed` are finding ids (ids not in the index are ignored); a boolean array as long
        as the index is still read as the old positional mask.
        """
        if not len(self.ids) or k < 1:
            return []
        q = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(1, -1))
        pos = None if allowed is None else self.positions(allowed, unique=False)
        if pos is not None and (len(pos) <= EXACT_SUBSET_MAX or len(pos) >= len(self.ids)):
            pos = np.unique(pos)  # exact counts matter: k, the subset scan, "everything allowed"
            if len(pos) == len(self.ids):
                pos = None  # everything allowed: no selector needed
            elif not len(pos):
                return []
        k = min(k, len(self.ids) if pos is None else len(pos))
        with _one_thread():
            if self.ann is None:
                params = None if pos is None else _search_params(pos, len(self.ids))
                scores, idx = self.flat.search(q, k, params=params)
                return self._hits(scores[0], idx[0])
            if pos is not None and len(pos) <= EXACT_SUBSET_MAX:
                return self._exact_subset(q[0], pos, k)
            nlist, nprobe = self.ann.nlist, self.ann.nprobe
            if pos is not None:  # a filter leaves fewer items per cell: probe more cells
                nprobe = min(nlist, int(np.ceil(nprobe * (len(self.ids) / len(pos)) ** FILTER_PROBE_EXP)))
            scores, idx = self.ann.search(q, k, params=_search_params(pos, len(self.ids), nprobe=nprobe))
            hits = self._hits(scores[0], idx[0])
            if len(hits) < k and nprobe < nlist:  # the probed cells held too few (allowed) items
                scores, idx = self.ann.search(q, k, params=_search_params(pos, len(self.ids), nprobe=nlist))
                hits = self._hits(scores[0], idx[0])
            return hits

    def positions(self, allowed: Sequence[int] | np.ndarray, unique: bool = True) -> np.ndarray:
        """Index positions of the finding ids in `allowed` (unknown ids dropped); sorted and
        unique unless `unique` is False (a FAISS selector does not care)."""
        a = np.asarray(allowed)
        if a.dtype == bool:
            if a.shape != self.ids.shape:
                raise ValueError("a boolean `allowed` must be a mask as long as the index")
            return np.flatnonzero(a)
        a = a.astype(np.int64, copy=False).reshape(-1)
        if not len(self.ids) or not len(a):
            return np.zeros(0, dtype=np.int64)
        if self._lookup is not None:  # one gather (random binary searches over 1M ids cost ~60 ns each)
            a = a - self._base
            a = a[(a >= 0) & (a < len(self._lookup))]
            pos = self._lookup[a]
            pos = pos[pos >= 0]
        else:
            a = np.sort(a)  # sorted probes walk the sorted ids in order: cache-friendly
            at = np.minimum(np.searchsorted(self._sorted_ids, a), len(self._sorted_ids) - 1)
            pos = self._order[at[self._sorted_ids[at] == a]]
        return np.unique(pos) if unique else pos

    def mask(self, allowed_ids: Sequence[int]) -> np.ndarray:
        """Deprecated: a boolean mask over index order; pass finding ids to `search` instead."""
        m = np.zeros(len(self.ids), dtype=bool)
        m[self.positions(allowed_ids)] = True
        return m

    def _hits(self, scores: np.ndarray, idx: np.ndarray) -> list[tuple[int, float]]:
        return [(int(self.ids[i]), float(s)) for s, i in zip(scores, idx) if i >= 0]

    def _exact_subset(self, q: np.ndarray, pos: np.ndarray, k: int) -> list[tuple[int, float]]:
        scores = self.vectors[pos] @ q
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.ids[pos[i]]), float(scores[i])) for i in top]


def _search_params(pos: np.ndarray | None, n: int, nprobe: int | None = None):
    """FAISS search parameters restricting results to `pos`: a bitmap when the allowed set is a
    sizeable share of the index (O(n/8) bytes, O(1) test), else a hashed batch (O(m))."""
    import faiss

    sel = None
    if pos is not None:
        if len(pos) * 256 >= n:
            bits = np.zeros(n, dtype=bool)
            bits[pos] = True
            packed = np.packbits(bits, bitorder="little")
            sel = faiss.IDSelectorBitmap(n, faiss.swig_ptr(packed))
            sel.packed = packed  # keep the bitmap alive as long as the selector
        else:
            sel = faiss.IDSelectorBatch(pos.astype(np.int64))
    if nprobe is None:
        return faiss.SearchParameters(sel=sel) if sel is not None else None
    params = faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)
    params.selector_ref = sel  # SWIG does not keep the selector alive through the params
    return params


def _ivf(vectors: np.ndarray, path: Path | None, save: bool = True):
    """An inverted-file index (FAISS IVF-Flat, inner product): k-means cells, a few probed per query.

    Chosen over HNSW because it builds in seconds rather than minutes for a
    million vectors on two cores, at the same recall. How many cells a query
    probes is calibrated on the data at build time (`_calibrated_nprobe`) and
    saved with the index.
    """
    import faiss

    if path is not None and path.exists():
        index = faiss.read_index(str(path))
        if index.ntotal == len(vectors):
            return index
    n, dim = vectors.shape
    nlist = max(16, int(4 * np.sqrt(n)))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)  # a fixed training sample: the same index every time
    sample = vectors[rng.choice(n, size=min(n, 32 * nlist), replace=False)]
    index.cp.seed = 0
    index.train(sample)
    index.add(vectors)
    index.nprobe = _calibrated_nprobe(index, vectors)
    if path is not None and save:
        tmp = path.with_suffix(".tmp")
        faiss.write_index(index, str(tmp))
        tmp.replace(path)
    return index


def _calibrated_nprobe(index, vectors: np.ndarray, k: int = 10, queries: int = 100) -> int:
    """The fewest probed cells giving recall@k >= IVF_RECALL against exact search.

    The queries are indexed vectors (a fixed sample), each left out of its own results, so the
    recall is that of in-distribution queries on this data, whatever its cluster structure.
    """
    import faiss

    rng = np.random.default_rng(1)
    pick = rng.choice(len(vectors), size=min(queries, len(vectors)), replace=False)
    q = np.ascontiguousarray(vectors[pick])
    k = min(k, len(vectors) - 1)
    if k < 1:
        return index.nlist
    _, truth = faiss.knn(q, vectors, k + 1, metric=faiss.METRIC_INNER_PRODUCT)

    def without_self(rows):
        return [[int(i) for i in row if i != p and i >= 0][:k] for row, p in zip(rows, pick)]

    truth = without_self(truth)
    nprobe = IVF_NPROBE_MIN
    while nprobe < index.nlist:
        _, got = index.search(q, k + 1, params=faiss.SearchParametersIVF(nprobe=nprobe))
        recall = np.mean([len(set(t) & set(g)) / max(1, len(t)) for t, g in zip(truth, without_self(got))])
        if recall >= IVF_RECALL:
            return nprobe
        nprobe = int(np.ceil(nprobe * 1.5))
    return index.nlist


class _one_thread:
    """FAISS runs one query's search on the calling thread alone: an OpenMP team barrier per
    search stalls whenever another process holds a core (measured 5-10x slower on 2 shared cores)."""

    def __enter__(self):
        import faiss

        self.before = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)

    def __exit__(self, *exc):
        import faiss

        faiss.omp_set_num_threads(self.before)


def fuse(rankings: list[list[int]], limit: int) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion of best-first id lists: (id, fused score), best first."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, fid in enumerate(ranking):
            fused[fid] = fused.get(fid, 0.0) + 1.0 / (RRF_K + rank + 1)
    return sorted(fused.items(), key=lambda kv: -kv[1])[:limit]
