"""Ingest: read -> clean -> skip if unchanged -> triage -> analyse -> link duplicates -> store.

The analyser (the NLP pipeline) is passed in, so this module knows nothing
about language. With a process pool, analysis runs in worker processes
(each loads the models once) while this process stays the single writer.
"""
from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter, deque
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from tqdm import tqdm

from corpus import store
from corpus.clean import clean_text
from corpus.metadata import extract_metadata
from corpus.reader import RawDocument, ReadError, iter_documents
from corpus.triage import judge

AnalyseFn = Callable[[list[store.DocumentRecord]], list[store.Analysis]]


@dataclass
class IngestSummary:
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    findings: Counter = field(default_factory=Counter)

    def describe(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.findings.items())) or "none"
        return (f"documents: {self.added} added, {self.replaced} replaced, {self.unchanged} unchanged, "
                f"{self.skipped} skipped as not relevant, {self.failed} failed, {self.duplicates} near-duplicates "
                f"linked; findings: {kinds}")


def content_hash(text: str, title: str, version: str) -> str:
    return hashlib.sha256(f"{version}\x00{title}\x00{text}".encode("utf-8")).hexdigest()


def prepare(raw: RawDocument, version: str) -> store.DocumentRecord:
    """Clean the text and read its metadata; nothing here touches the store."""
    text = clean_text(raw.text)
    meta = extract_metadata(text, title=raw.title, url=raw.url, published=raw.published, raw_text=raw.text)
    return store.DocumentRecord(
        id=raw.doc_id, text=text, title=meta.title, published=meta.published, site=meta.site,
        doc_type=meta.doc_type, source=raw.source, url=raw.url,
        content_hash=content_hash(text, meta.title, version),
    )


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest(paths: list[Path], conn: sqlite3.Connection, analyse: AnalyseFn, version: str,
           progress: bool = True, batch_size: int = 16,
           on_document: Callable[[str, str], None] | None = None,
           triage: bool = True, pool: Executor | None = None, dedup: bool = True) -> IngestSummary:
    """Ingest every document under `paths` into the store behind `conn`.

    `analyse` runs in this process, or in `pool` (then it must be picklable,
    e.g. a module-level function whose worker initializer loaded the models).
    """
    from corpus.dedup import DuplicateFinder

    summary = IngestSummary()
    bar = tqdm(desc="ingest", unit="doc", disable=not progress, dynamic_ncols=True)
    finder = DuplicateFinder(conn) if dedup else None

    def write(doc: store.DocumentRecord, existed: bool, analysis: store.Analysis | None) -> None:
        if analysis is None:
            return
        if finder is not None and doc.status == "processed":
            original, sig = finder.original_of(doc.id, doc.text)
            doc.duplicate_of = original
            analysis.signature = finder.to_bytes(sig)
            summary.duplicates += original is not None
        store.save_document(conn, doc, analysis)
        if finder is not None and analysis.signature is not None:
            finder.remember(doc.id, sig)
        if doc.status == "skipped":
            summary.skipped += 1
        elif existed:
            summary.replaced += 1
        else:
            summary.added += 1
        summary.findings.update(f.kind for f in analysis.findings)
        if on_document:
            on_document(doc.id, doc.status)
        bar.update()

    pending: deque[tuple[list, Future | None]] = deque()
    for batch in _batches(_changed(iter_documents([Path(p) for p in paths]), conn, version, summary, bar,
                                   on_document, triage), batch_size):
        skipped = [(d, e) for d, e in batch if d.status == "skipped"]
        for doc, existed in skipped:
            write(doc, existed, store.Analysis())
        todo = [(d, e) for d, e in batch if d.status != "skipped"]
        if not todo:
            continue
        if pool is None:
            _write_results(todo, _run(analyse, todo, summary), write)
            continue
        pending.append((todo, pool.submit(analyse, [d for d, _ in todo])))
        while len(pending) > 2 * getattr(pool, "_max_workers", 2):
            items, fut = pending.popleft()
            _write_results(items, _collect(analyse, items, fut, summary), write)
    while pending:
        items, fut = pending.popleft()
        _write_results(items, _collect(analyse, items, fut, summary), write)
    bar.close()
    return summary


def _write_results(items, analyses, write) -> None:
    for (doc, existed), analysis in zip(items, analyses):
        write(doc, existed, analysis)


def _run(analyse: AnalyseFn, items, summary: IngestSummary) -> list[store.Analysis | None]:
    try:
        return analyse([doc for doc, _ in items])
    except Exception:  # one bad document must not sink its batch: retry one by one
        return [_analyse_alone(analyse, doc, summary) for doc, _ in items]


def _collect(analyse: AnalyseFn, items, fut: Future, summary: IngestSummary) -> list[store.Analysis | None]:
    try:
        return fut.result()
    except Exception:
        return [_analyse_alone(analyse, doc, summary) for doc, _ in items]


def _changed(items: Iterable[RawDocument | ReadError], conn: sqlite3.Connection, version: str,
             summary: IngestSummary, bar: tqdm, on_document, triage: bool
             ) -> Iterator[tuple[store.DocumentRecord, bool]]:
    """Documents whose content differs from what is stored, with whether they existed."""
    seen: set[str] = set()
    for item in items:
        if isinstance(item, ReadError):
            summary.failed += 1
            summary.errors.append(str(item))
            if on_document:
                on_document(item.source, "failed")
            continue
        try:
            doc = prepare(item, version)
        except Exception as exc:
            summary.failed += 1
            summary.errors.append(f"{item.source}: could not clean the text ({exc})")
            continue
        if not doc.text.strip():
            summary.failed += 1
            summary.errors.append(f"{item.source}: nothing left after removing page boilerplate")
            continue
        if doc.id in seen:
            summary.errors.append(f"{item.source}: id {doc.id!r} appears twice in this run; the later one wins")
        seen.add(doc.id)
        old = store.content_hash_of(conn, doc.id)
        if old == doc.content_hash:
            summary.unchanged += 1
            bar.update()
            continue
        if triage:
            verdict = judge(doc.title, doc.text)
            if not verdict.relevant:
                doc.status, doc.skip_reason = "skipped", verdict.reason
        yield doc, old is not None


def _analyse_alone(analyse: AnalyseFn, doc: store.DocumentRecord, summary: IngestSummary) -> store.Analysis | None:
    try:
        return analyse([doc])[0]
    except Exception as exc:
        summary.failed += 1
        where = f"{doc.source} (id {doc.id})" if doc.source else doc.id
        summary.errors.append(f"{where}: analysis failed ({exc.__class__.__name__}: {exc})")
        return None
