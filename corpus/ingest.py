"""Ingest: read -> clean -> skip if unchanged -> triage -> analyse -> link duplicates -> store.

The analyser (the NLP pipeline) is passed in, so this module knows nothing
about language. With a process pool, analysis runs in worker processes
(each loads the models once) while this process stays the single writer.
"""
from __future__ import annotations

import hashlib
import os
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
from corpus.reader import RawDocument, ReadError, iter_documents, printable
from corpus.triage import judge

AnalyseFn = Callable[[list[store.DocumentRecord]], list[store.Analysis]]


MAX_LISTED = 200  # errors and warnings kept for the report; the rest are counted


@dataclass
class IngestSummary:
    """Counts of what happened; `added + replaced + skipped` documents were written."""
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unlisted: int = 0
    findings: Counter = field(default_factory=Counter)

    def fail(self, message: str, count: int = 1) -> None:
        self.failed += count
        self._note(self.errors, message)

    def warn(self, message: str) -> None:
        self._note(self.warnings, message)

    def _note(self, into: list[str], message: str) -> None:
        if len(self.errors) + len(self.warnings) < MAX_LISTED:
            into.append(message)
        else:
            self.unlisted += 1

    @property
    def exit_code(self) -> int:
        """0 when every input was stored (or unchanged), 1 when any failed."""
        return 1 if self.failed else 0

    def describe(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.findings.items())) or "none"
        more = f" ({self.unlisted} more messages not listed)" if self.unlisted else ""
        return (f"documents: {self.added} added, {self.replaced} replaced, {self.unchanged} unchanged, "
                f"{self.skipped} skipped as not relevant, {self.failed} failed, {self.duplicates} near-duplicates "
                f"linked; findings: {kinds}{more}")


def content_hash(text: str, title: str, version: str) -> str:
    return hashlib.sha256(f"{version}\x00{title}\x00{text}".encode("utf-8")).hexdigest()


def origin_of(source: str | None, id_from_path: bool) -> str | None:
    """Where a document comes from: the resolved file (for JSONL, the file without its line number)."""
    if not source:
        return None
    if not id_from_path:
        source = source.rsplit(":", 1)[0] if source.rsplit(":", 1)[-1].isdigit() else source
    return os.path.realpath(source)


def prepare(raw: RawDocument, version: str) -> store.DocumentRecord:
    """Clean the text and read its metadata; nothing here touches the store."""
    text = clean_text(raw.text)
    meta = extract_metadata(text, title=raw.title, url=raw.url, published=raw.published, raw_text=raw.text)
    return store.DocumentRecord(
        id=raw.doc_id, text=text, title=meta.title, published=meta.published, site=meta.site,
        doc_type=meta.doc_type, source=origin_of(raw.source, True) if raw.id_from_path else raw.source,
        url=raw.url, content_hash=content_hash(text, meta.title, version),
    )


def _path_id(doc_id: str, origin: str) -> str:
    """A file-name id made unique by a short hash of the file's resolved path."""
    return f"{doc_id}~{hashlib.sha256(origin.encode('utf-8')).hexdigest()[:8]}"


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
    """Documents whose content differs from what is stored, with whether they existed.

    A document never silently replaces a different one: a file-name id already
    held by another file's different text gets a suffix; a data-given id seen
    twice in one run keeps its first document; replacing a stored document by a
    different text from another source is reported.
    """
    seen: dict[str, str | None] = {}   # id -> origin, this run
    for item in items:
        if isinstance(item, ReadError):
            if item.count:
                summary.fail(str(item), item.count)
                if on_document:
                    on_document(item.source, "failed")
            else:
                summary.warn(str(item))
            continue
        try:
            doc = prepare(item, version)
        except Exception as exc:
            summary.fail(f"{printable(item.source)}: could not clean the text ({exc})")
            continue
        if not doc.text.strip():
            summary.fail(f"{printable(item.source)}: nothing left after removing page boilerplate")
            continue
        origin = origin_of(item.source, item.id_from_path)
        stored = store.document_identity(conn, doc.id)
        if item.id_from_path:
            taken_here = doc.id in seen and seen[doc.id] != origin
            taken_before = (stored is not None and origin_of(stored.source, True) not in (None, origin)
                            and stored.text != doc.text)
            if taken_here or taken_before:
                new_id = _path_id(doc.id, origin)
                summary.warn(f"{printable(item.source)}: id {printable(doc.id)!r} is already used by another "
                             f"document; stored as {printable(new_id)!r}")
                doc.id = new_id
                stored = store.document_identity(conn, doc.id)
        elif doc.id in seen:
            summary.fail(f"{printable(item.source)}: id {printable(doc.id)!r} was already read in this run; "
                         "this copy is not stored")
            continue
        elif stored is not None and stored.text != doc.text and origin_of(stored.source, False) not in (None, origin):
            summary.warn(f"{printable(item.source)}: replaces the stored document {printable(doc.id)!r} "
                         f"from {printable(stored.source or '?')} with a different text")
        seen[doc.id] = origin
        if stored is not None and stored.content_hash == doc.content_hash:
            summary.unchanged += 1
            bar.update()
            continue
        if triage:
            verdict = judge(doc.title, doc.text)
            if not verdict.relevant:
                doc.status, doc.skip_reason = "skipped", verdict.reason
        yield doc, stored is not None


def _analyse_alone(analyse: AnalyseFn, doc: store.DocumentRecord, summary: IngestSummary) -> store.Analysis | None:
    try:
        return analyse([doc])[0]
    except Exception as exc:
        where = f"{doc.source} (id {doc.id})" if doc.source else doc.id
        summary.fail(f"{printable(where)}: analysis failed ({exc.__class__.__name__}: {exc})")
        return None
