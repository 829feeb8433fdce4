"""The search index over findings: dense vectors plus SQLite FTS5 keywords, fused.

Vectors live in the store's ``embeddings`` table, written with their finding
in the same transaction, so the index grows incrementally on ingest and is
never out of step with the findings after a crash. Search is exact (a matrix
product) up to ``ANN_THRESHOLD`` items; above it an inverted-file index (FAISS IVF),
persisted beside the store, answers behind the same interface. Dense and
keyword rankings are fused by reciprocal rank, so exact unit names and terms
hit even when the embedding is vague about them.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

ANN_THRESHOLD = 100_000
IVF_NPROBE = 24
RRF_K = 60
CANDIDATES = 200


@dataclass
class Filters:
    kind: str | None = None          # one kind, "problem" (weakness+cause) or comma list
    unit: str | None = None          # substring of unit name, or a unit code
    province: str | None = None
    year: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    doc_id: str | None = None
    doc_type: str | None = None

    def sql(self) -> tuple[str, list]:
        where, args = [], []
        from corpus.store import expand_kinds, like_pattern

        kinds = expand_kinds(self.kind)
        if kinds:
            where.append(f"f.kind IN ({','.join('?' * len(kinds))})")
            args += kinds
        if self.unit:
            where.append("(f.unit LIKE ? ESCAPE '\\' OR f.unit_name LIKE ? ESCAPE '\\' OR f.unit_code = ?)")
            args += [like_pattern(self.unit), like_pattern(self.unit), self.unit]
        if self.province:
            where.append("f.province LIKE ? ESCAPE '\\'")
            args.append(like_pattern(self.province))
        # a finding without a year of its own takes its document's publication year
        year = "coalesce(f.year, CAST(substr(d.published, 1, 4) AS INTEGER))"
        if self.year is not None:
            where.append(f"{year} = ?")
            args.append(int(self.year))
        if self.year_from is not None:
            where.append(f"{year} >= ?")
            args.append(int(self.year_from))
        if self.year_to is not None:
            where.append(f"{year} <= ?")
            args.append(int(self.year_to))
        if self.doc_id:
            where.append("f.doc_id = ?")
            args.append(self.doc_id)
        if self.doc_type:
            where.append("d.doc_type = ?")
            args.append(self.doc_type)
        return (" AND ".join(where) or "1"), args


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
    """Exact cosine search over unit vectors; IVF above the threshold."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, ann_threshold: int = ANN_THRESHOLD,
                 ann_path: Path | None = None):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.ann = None
        if len(self.ids) > ann_threshold:
            self.ann = _ivf(self.vectors, ann_path)
        self._pos = {int(i): k for k, i in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: np.ndarray, k: int = 10, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(finding id, cosine) best first; `allowed` is a boolean mask over the index order."""
        if not len(self.ids):
            return []
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if self.ann is not None and (allowed is None or allowed.mean() > 0.2):
            want = k if allowed is None else int(k / max(allowed.mean(), 1e-3)) + k
            scores, idx = self.ann.search(q[None, :], min(want, len(self.ids)))
            out = [(int(self.ids[i]), float(s)) for s, i in zip(scores[0], idx[0])
                   if i >= 0 and (allowed is None or allowed[i])]
            if len(out) >= min(k, int(allowed.sum()) if allowed is not None else k):
                return out[:k]
        scores = self.vectors @ q
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(self.ids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def mask(self, allowed_ids: Sequence[int]) -> np.ndarray:
        m = np.zeros(len(self.ids), dtype=bool)
        for i in allowed_ids:
            pos = self._pos.get(int(i))
            if pos is not None:
                m[pos] = True
        return m


def _ivf(vectors: np.ndarray, path: Path | None):
    """An inverted-file index (FAISS IVF-Flat, inner product): k-means cells, a few probed per query.

    Chosen over HNSW because it builds in seconds rather than minutes for a
    million vectors on two cores, at the same recall.
    """
    import faiss

    if path is not None and path.exists():
        index = faiss.read_index(str(path))
        if index.ntotal == len(vectors):
            index.nprobe = IVF_NPROBE
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
    index.nprobe = IVF_NPROBE
    if path is not None:
        tmp = path.with_suffix(".tmp")
        faiss.write_index(index, str(tmp))
        tmp.replace(path)
    return index


def load_vectors(conn: sqlite3.Connection, model: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    sql = "SELECT finding_id, vector FROM embeddings"
    args: tuple = ()
    if model:
        sql += " WHERE model = ?"
        args = (model,)
    ids, vecs = [], []
    for fid, blob in conn.execute(sql + " ORDER BY finding_id", args):
        ids.append(fid)
        vecs.append(np.frombuffer(blob, dtype=np.float32))
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    return np.asarray(ids, dtype=np.int64), np.vstack(vecs)


def build_index(conn: sqlite3.Connection, model: str | None = None, db_path: Path | None = None) -> VectorIndex:
    ids, vecs = load_vectors(conn, model)
    ann_path = Path(str(db_path) + ".ivf") if db_path else None
    return VectorIndex(ids, vecs, ann_path=ann_path)


def embed_missing(conn: sqlite3.Connection, encode: Callable[[list[str]], np.ndarray], model: str,
                  batch: int = 256, progress: Callable[[int, int], None] | None = None) -> int:
    """Embed findings stored without vectors (ingested with --no-embed, or by another model)."""
    rows = conn.execute(
        "SELECT f.id, f.text FROM findings f LEFT JOIN embeddings e ON e.finding_id = f.id "
        "WHERE e.finding_id IS NULL OR e.model != ? ORDER BY f.id", (model,)).fetchall()
    done = 0
    for i in range(0, len(rows), batch):
        chunk = rows[i:i + batch]
        vecs = np.asarray(encode([r[1] for r in chunk]), dtype=np.float32)
        with conn:
            conn.executemany("INSERT OR REPLACE INTO embeddings(finding_id, model, vector) VALUES (?, ?, ?)",
                             [(r[0], model, v.tobytes()) for r, v in zip(chunk, vecs)])
        done += len(chunk)
        if progress:
            progress(done, len(rows))
    return done


_FTS_WORD = re.compile(r"\w+", re.UNICODE)


def keyword_search(conn: sqlite3.Connection, query: str, allowed_sql: tuple[str, list], limit: int) -> list[int]:
    """Finding ids by BM25 over text and unit (any query word may match)."""
    words = [w for w in _FTS_WORD.findall(query) if len(w) > 1]
    if not words:
        return []
    match = " OR ".join(f'"{w}"' for w in words)
    where, args = allowed_sql
    sql = (f"SELECT f.id FROM findings_fts JOIN findings f ON f.id = findings_fts.rowid "
           f"JOIN documents d ON d.id = f.doc_id WHERE findings_fts MATCH ? AND {where} "
           f"ORDER BY bm25(findings_fts) LIMIT ?")
    return [r[0] for r in conn.execute(sql, [match, *args, limit])]


def hybrid_search(conn: sqlite3.Connection, index: VectorIndex | None, query_vector: np.ndarray | None,
                  query: str, filters: Filters | None = None, limit: int = 10) -> list[Hit]:
    """Reciprocal-rank fusion of dense and keyword rankings, after filtering."""
    if limit < 1:
        raise ValueError(f"limit must be 1 or more, not {limit}")
    filters = filters or Filters()
    where, args = filters.sql()
    allowed_ids = [r[0] for r in conn.execute(
        f"SELECT f.id FROM findings f JOIN documents d ON d.id = f.doc_id WHERE {where}", args)]
    if not allowed_ids:
        return []
    fused: dict[int, float] = {}
    dense: dict[int, float] = {}
    if index is not None and query_vector is not None and len(index):
        mask = index.mask(allowed_ids) if len(allowed_ids) < len(index) else None
        for rank, (fid, score) in enumerate(index.search(query_vector, CANDIDATES, mask)):
            dense[fid] = score
            fused[fid] = fused.get(fid, 0.0) + 1.0 / (RRF_K + rank + 1)
    keyword = keyword_search(conn, query, (where, args), CANDIDATES)
    kw_rank = {fid: r for r, fid in enumerate(keyword)}
    for fid, rank in kw_rank.items():
        fused[fid] = fused.get(fid, 0.0) + 1.0 / (RRF_K + rank + 1)
    best = sorted(fused.items(), key=lambda kv: -kv[1])[:limit]
    if not best:
        return []
    ids = [fid for fid, _ in best]
    rows = {r["id"]: r for r in conn.execute(
        f"SELECT f.*, d.title FROM findings f JOIN documents d ON d.id = f.doc_id "
        f"WHERE f.id IN ({','.join('?' * len(ids))})", ids)}
    out = []
    for fid, score in best:
        r = rows[fid]
        out.append(Hit(finding_id=fid, doc_id=r["doc_id"], kind=r["kind"], unit=r["unit_name"] or r["unit"], year=r["year"],
                       text=r["text"], score=score, dense=dense.get(fid), keyword_rank=kw_rank.get(fid),
                       title=r["title"], province=r["province"], speaker=r["speaker"], start=r["start"],
                       end=r["end"], sent_start=r["sent_start"], sent_end=r["sent_end"]))
    return out
