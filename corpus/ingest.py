"""Ingest: read -> clean -> skip if unchanged -> analyse -> store, one document at a time.

The analyser (the NLP pipeline) is passed in, so this module knows nothing
about language; `nlp.extract.Analyser` is the real one.
"""
from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from tqdm import tqdm

from corpus import store
from corpus.clean import clean_text
from corpus.metadata import extract_metadata
from corpus.reader import RawDocument, ReadError, iter_documents

AnalyseFn = Callable[[list[store.DocumentRecord]], list[store.Analysis]]


@dataclass
class IngestSummary:
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    findings: Counter = field(default_factory=Counter)

    def describe(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.findings.items())) or "none"
        return (f"documents: {self.added} added, {self.replaced} replaced, {self.unchanged} unchanged, "
                f"{self.skipped} skipped, {self.failed} failed; findings: {kinds}")


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
           on_document: Callable[[str, str], None] | None = None) -> IngestSummary:
    """Ingest every document under `paths` into the store behind `conn`."""
    summary = IngestSummary()
    bar = tqdm(desc="ingest", unit="doc", disable=not progress, dynamic_ncols=True)
    pending = _changed(iter_documents([Path(p) for p in paths]), conn, version, summary, bar, on_document)
    for batch in _batches(pending, batch_size):
        try:
            analyses = analyse([doc for doc, _ in batch])
        except Exception as exc:  # one bad batch is retried document by document
            analyses = [_analyse_alone(analyse, doc, summary, exc) for doc, _ in batch]
        for (doc, existed), analysis in zip(batch, analyses):
            if analysis is None:
                continue
            store.save_document(conn, doc, analysis)
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
    bar.close()
    return summary


def _changed(items: Iterable[RawDocument | ReadError], conn: sqlite3.Connection, version: str,
             summary: IngestSummary, bar: tqdm, on_document) -> Iterator[tuple[store.DocumentRecord, bool]]:
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
        yield doc, old is not None


def _analyse_alone(analyse: AnalyseFn, doc: store.DocumentRecord, summary: IngestSummary,
                   batch_error: Exception) -> store.Analysis | None:
    try:
        return analyse([doc])[0]
    except Exception as exc:
        summary.failed += 1
        summary.errors.append(f"{doc.source or doc.id}: analysis failed ({exc.__class__.__name__}: {exc})")
        return None
