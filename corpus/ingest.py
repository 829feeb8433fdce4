"""Ingest as map/reduce: read -> [clean, skip if unchanged, triage, analyse, sign] -> link duplicates, store.

The bracketed part is the map step, `analyse_batch`: a pure function of a
batch of raw documents, run in this process or on any
`concurrent.futures.Executor` (a local process pool, a Dask cluster). The
analyser (the NLP pipeline) is passed in, so this module knows nothing about
language. This process reads, keeps at most `in_flight` batches out, and is
the single writer: id policies, near-duplicate links and storage (the reduce).
"""
from __future__ import annotations

import hashlib
import os
from collections import Counter, deque
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

from tqdm import tqdm

from corpus import store
from corpus.clean import clean_text
from corpus.dedup import DuplicateFinder, signature_bytes
from corpus.metadata import extract_metadata
from corpus.reader import RawDocument, ReadError, iter_documents, printable
from corpus.triage import judge

from corpus.records import Analysed, Analysis, DocumentRecord

# The NLP: documents in, one Analysis (or the exception that stopped it) per document out.
AnalyseFn = Callable[[list[DocumentRecord]], list["Analysis | BaseException"]]


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


def prepare(raw: RawDocument, version: str, default_year: int | None = None) -> DocumentRecord:
    """Clean the text and read its metadata; nothing here touches the store.

    `default_year` dates a document that carries no date (no source date field, no
    dateline) to that year ("2019", a year-only ISO date); the year is part of its
    content hash, so ingesting again with another year replaces it.
    """
    text = clean_text(raw.text)
    meta = extract_metadata(text, title=raw.title, url=raw.url, published=raw.published, raw_text=raw.text)
    published, hash_version = meta.published, version
    if published is None and default_year is not None:
        published = f"{int(default_year):04d}"
        hash_version = f"{version}\x00default-year={published}"
    return DocumentRecord(
        id=raw.doc_id, text=text, title=meta.title, published=published, site=meta.site,
        doc_type=meta.doc_type, source=origin_of(raw.source, True) if raw.id_from_path else raw.source,
        url=raw.url, content_hash=content_hash(text, meta.title, hash_version),
    )


DEFAULT_YEAR_NOTE = "publication year assumed (ingest --default-year)"



# -- the map step: pure, picklable, runs wherever the executor puts it ----------------


@dataclass(frozen=True)
class Task:
    """One raw document and the content hash stored under its id (None when new)."""
    raw: RawDocument
    stored_hash: str | None = None


def analyse_batch(tasks: list[Task], analyse: AnalyseFn, version: str, triage: bool = True,
                  default_year: int | None = None) -> list[Analysed]:
    """Clean, skip the unchanged, triage, analyse and sign each document of a batch.

    Depends on nothing but its arguments, so any worker can run it; one bad
    document fails alone and its batch is kept. `default_year` dates undated
    documents (see `prepare`); their analyses say so in their notes.
    """
    out: list[Analysed] = []
    for task in tasks:
        raw = task.raw
        try:
            record = prepare(raw, version, default_year)
        except Exception as exc:
            out.append(Analysed("failed", error=f"{printable(raw.source)}: could not clean the text ({exc})"))
            continue
        if not record.text.strip():
            out.append(Analysed("failed", error=f"{printable(raw.source)}: nothing left after removing page "
                                                "boilerplate"))
        elif task.stored_hash == record.content_hash:
            out.append(Analysed("unchanged", record))
        elif triage and not (verdict := judge(record.title, record.text)).relevant:
            record.status, record.skip_reason = "skipped", verdict.reason
            out.append(Analysed("skipped", record, Analysis()))
        else:
            out.append(Analysed("processed", record))
    todo = [a for a in out if a.status == "processed"]
    for item, result in zip(todo, _analyse_each(analyse, [a.record for a in todo])):
        if isinstance(result, BaseException):
            where = f"{item.record.source} (id {item.record.id})" if item.record.source else item.record.id
            item.status, item.error = "failed", (f"{printable(where)}: analysis failed "
                                                 f"({result.__class__.__name__}: {result})")
        else:
            result.signature = signature_bytes(item.record.text)
            if default_year is not None and item.record.published == f"{int(default_year):04d}":
                result.notes = [*result.notes, DEFAULT_YEAR_NOTE]
            item.analysis = result
    return out


def _analyse_each(analyse: AnalyseFn, records: list[DocumentRecord]) -> list:
    """The analyser's results, one per record; an analyser that fails a whole batch is retried
    one document at a time so the others are kept."""
    if not records:
        return []
    try:
        results = analyse(records)
    except Exception:
        results = []
        for record in records:
            try:
                results += analyse([record])
            except Exception as exc:
                results.append(exc)
    return results


# -- the driver and the reduce step ------------------------------------------------------------


def _path_id(doc_id: str, origin: str) -> str:
    """A file-name id made unique by a short hash of the file's resolved path."""
    return f"{doc_id}~{hashlib.sha256(origin.encode('utf-8')).hexdigest()[:8]}"


def ingest(paths: list[Path], conn: store.Connection, analyse: AnalyseFn, version: str,
           progress: bool = True, batch_size: int = 16,
           on_document: Callable[[str, str], None] | None = None,
           triage: bool = True, pool: Executor | None = None, dedup: bool = True,
           in_flight: int | None = None, default_year: int | None = None) -> IngestSummary:
    """Ingest every document under `paths` into the store behind `conn`.

    `analyse` runs in this process, or in `pool` (any Executor; then it must be
    picklable and load its models once per worker). At most `in_flight`
    batches (default: 32 per worker, so a slow batch at the head does not starve the
    other workers) are out at any time.
    `default_year` dates the documents that carry no date (dumps without dates).
    """
    summary = IngestSummary()
    bar = tqdm(desc="ingest", unit="doc", disable=not progress, dynamic_ncols=True)
    writer = _Writer(conn, DuplicateFinder(store.signatures(conn)) if dedup else None, summary, bar, on_document)
    step = partial(analyse_batch, analyse=analyse, version=version, triage=triage, default_year=default_year)
    batches = _tasks(iter_documents([Path(p) for p in paths]), conn, summary, on_document, batch_size)
    if pool is None:
        for tasks in batches:
            writer(tasks, step(tasks))
    else:
        limit = in_flight or 32 * (getattr(pool, "_max_workers", None) or 2)
        pending: deque[tuple[list[Task], Future]] = deque()
        for tasks in batches:
            pending.append((tasks, pool.submit(step, tasks)))
            while len(pending) >= limit:
                writer(*_collected(pending.popleft(), step))
        while pending:
            writer(*_collected(pending.popleft(), step))
    bar.close()
    return summary


def _collected(item: tuple[list[Task], Future], step) -> tuple[list[Task], list[Analysed]]:
    tasks, fut = item
    try:
        return tasks, fut.result()
    except Exception:  # a lost worker: the batch is analysed here rather than lost
        return tasks, step(tasks)


def _tasks(items: Iterable[RawDocument | ReadError], conn: store.Connection, summary: IngestSummary,
           on_document, batch_size: int) -> Iterator[list[Task]]:
    """Batches of documents to analyse, with their stored hashes.

    Ids are settled here, as they are read: a file-name id already taken in
    this run by another file gets a suffix; a data-given id seen twice in one
    run keeps its first document.
    """
    seen: dict[str, str | None] = {}   # id -> origin, this run
    batch: list[RawDocument] = []

    def flush() -> list[Task]:
        hashes = store.content_hashes(conn, [raw.doc_id for raw in batch])
        return [Task(raw, hashes.get(raw.doc_id)) for raw in batch]

    for item in items:
        if isinstance(item, ReadError):
            if item.count:
                summary.fail(str(item), item.count)
                if on_document:
                    on_document(item.source, "failed")
            else:
                summary.warn(str(item))
            continue
        origin = origin_of(item.source, item.id_from_path)
        if item.id_from_path and item.doc_id in seen and seen[item.doc_id] != origin:
            new_id = _path_id(item.doc_id, origin)
            summary.warn(f"{printable(item.source)}: id {printable(item.doc_id)!r} is already used by another "
                         f"document; stored as {printable(new_id)!r}")
            item = replace(item, doc_id=new_id)
        elif not item.id_from_path and item.doc_id in seen:
            summary.fail(f"{printable(item.source)}: id {printable(item.doc_id)!r} was already read in this run; "
                         "this copy is not stored")
            continue
        seen[item.doc_id] = origin
        batch.append(item)
        if len(batch) >= batch_size:
            yield flush()
            batch = []
    if batch:
        yield flush()


class _Writer:
    """The reduce step: settles ids against the store, links near-duplicates, writes each
    batch in one transaction and counts what happened."""

    def __init__(self, conn: store.Connection, finder: DuplicateFinder | None, summary: IngestSummary,
                 bar: tqdm, on_document):
        self.conn, self.finder, self.summary, self.bar, self.on_document = conn, finder, summary, bar, on_document

    def __call__(self, tasks: list[Task], results: list[Analysed]) -> None:
        todo: list[tuple[DocumentRecord, Analysis, bool]] = []
        for task, result in zip(tasks, results):
            if result.status == "failed":
                self.summary.fail(result.error or f"{printable(task.raw.source)}: failed")
                continue
            record = result.record
            stored = self._settle_id(task, record)
            if stored is not None and stored.content_hash == record.content_hash:
                self.summary.unchanged += 1
                self.bar.update()
                continue
            if result.analysis is None:   # unchanged under an id the document no longer takes
                self.summary.fail(f"{printable(task.raw.source)}: changed id; ingest it again")
                continue
            todo.append((record, result.analysis, stored is not None))
        self._link_duplicates(todo)
        store.save_documents(self.conn, [(record, analysis) for record, analysis, _ in todo])
        for record, analysis, existed in todo:
            if record.status == "skipped":
                self.summary.skipped += 1
            elif existed:
                self.summary.replaced += 1
            else:
                self.summary.added += 1
            self.summary.findings.update(f.kind for f in analysis.findings)
            if self.on_document:
                self.on_document(record.id, record.status)
            self.bar.update()

    def _settle_id(self, task: Task, record: DocumentRecord) -> store.StoredIdentity | None:
        """The stored document this record replaces, after a file-name id held by another
        file's different text has been given a suffix; replacing a stored document by a
        different text from another source is reported."""
        if task.stored_hash is None:
            return None
        stored = store.document_identity(self.conn, record.id)
        if stored is None or stored.content_hash == record.content_hash:
            return stored
        raw, origin = task.raw, origin_of(task.raw.source, task.raw.id_from_path)
        if raw.id_from_path:
            if origin_of(stored.source, True) not in (None, origin) and stored.text != record.text:
                new_id = _path_id(record.id, origin)
                self.summary.warn(f"{printable(raw.source)}: id {printable(record.id)!r} is already used by "
                                  f"another document; stored as {printable(new_id)!r}")
                record.id = new_id
                return store.document_identity(self.conn, new_id)
        elif stored.text != record.text and origin_of(stored.source, False) not in (None, origin):
            self.summary.warn(f"{printable(raw.source)}: replaces the stored document {printable(record.id)!r} "
                              f"from {printable(stored.source or '?')} with a different text")
        return stored

    def _link_duplicates(self, todo: list[tuple[DocumentRecord, Analysis, bool]]) -> None:
        if self.finder is None:
            return
        for record, analysis, _ in todo:
            if record.status != "processed" or analysis.signature is None:
                continue
            record.duplicate_of = self.finder.original_of(record.id, analysis.signature)
            self.summary.duplicates += record.duplicate_of is not None
            self.finder.remember(record.id, analysis.signature)
