"""Documents and everything derived from them: writing an analysis, reading documents back."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Iterable

import numpy as np

from corpus.records import KINDS, Analysis, DocumentRecord, Finding
from corpus.store.schema import Connection, DatabaseError, transaction


@dataclass(frozen=True)
class StoredIdentity:
    """What tells one stored document from another: its content hash, source and text."""
    content_hash: str
    source: str | None
    text: str


def document_identity(conn: Connection, doc_id: str) -> StoredIdentity | None:
    row = conn.execute("SELECT content_hash, source, text FROM documents WHERE id=?", (doc_id,)).fetchone()
    return StoredIdentity(row[0], row[1], row[2]) if row else None


def content_hashes(conn: Connection, doc_ids: Iterable[str]) -> dict[str, str]:
    """The stored content hash of each document asked for that is stored."""
    out: dict[str, str] = {}
    ids = list(dict.fromkeys(doc_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for doc_id, h in conn.execute(
                f"SELECT id, content_hash FROM documents WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            out[doc_id] = h
    return out


def save_document(conn: Connection, doc: DocumentRecord, analysis: Analysis | None = None) -> None:
    """Replace a document and all it derives, atomically."""
    save_documents(conn, [(doc, analysis)])


def save_documents(conn: Connection, items: list[tuple[DocumentRecord, Analysis | None]]) -> list[list[int]]:
    """Replace several documents and all they derive in one transaction (all or none);
    returns the new finding ids of each document."""
    out = []
    with transaction(conn):
        for doc, analysis in items:
            out.append(_write(conn, doc, analysis or Analysis()))
    return out


def _write(conn: Connection, doc: DocumentRecord, analysis: Analysis) -> list[int]:
    _delete(conn, doc.id)
    cols = asdict(doc)
    cols["notes"] = "; ".join(analysis.notes) or None
    conn.execute(f"INSERT INTO documents ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                 tuple(cols.values()))
    conn.executemany("INSERT INTO sentences(doc_id, idx, start, end) VALUES (?, ?, ?, ?)",
                     [(doc.id, i, s, e) for i, (s, e) in enumerate(analysis.sentences)])
    conn.executemany(
        "INSERT INTO entities(doc_id, label, start, end, text, norm, code, province) VALUES (?,?,?,?,?,?,?,?)",
        [(doc.id, e.label, e.start, e.end, e.text, e.norm, e.code, e.province) for e in analysis.entities])
    if analysis.signature is not None:
        conn.execute("INSERT INTO signatures(doc_id, sig) VALUES (?, ?)", (doc.id, analysis.signature))
    ids = [_insert_finding(conn, doc.id, f) for f in analysis.findings]
    if analysis.embeddings is not None and ids:
        vectors = np.asarray(analysis.embeddings, dtype=np.float32)
        conn.executemany("INSERT INTO embeddings(finding_id, model, vector) VALUES (?, ?, ?)",
                         [(fid, analysis.model or "", vectors[i].tobytes()) for i, fid in enumerate(ids)])
    return ids


def _insert_finding(conn: Connection, doc_id: str, f: Finding) -> int:
    row = asdict(f)
    row["extra"] = json.dumps(row["extra"], ensure_ascii=False) if row["extra"] else None
    row["doc_id"] = doc_id
    cur = conn.execute(f"INSERT INTO findings ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                       tuple(row.values()))
    return int(cur.lastrowid)


def _delete(conn: Connection, doc_id: str) -> None:
    # Explicit deletes (rather than cascades alone) so FTS triggers fire.
    conn.execute("DELETE FROM embeddings WHERE finding_id IN (SELECT id FROM findings WHERE doc_id=?)", (doc_id,))
    conn.execute("DELETE FROM findings WHERE doc_id=?", (doc_id,))
    conn.execute("DELETE FROM entities WHERE doc_id=?", (doc_id,))
    conn.execute("DELETE FROM sentences WHERE doc_id=?", (doc_id,))
    conn.execute("DELETE FROM signatures WHERE doc_id=?", (doc_id,))
    conn.execute("DELETE FROM documents WHERE id=?", (doc_id,))


def signatures(conn: Connection) -> list[tuple[str, bytes]]:
    """(document id, MinHash signature) of every stored document that has one."""
    return [(r[0], r[1]) for r in conn.execute("SELECT doc_id, sig FROM signatures")]


def document_texts(conn: Connection, doc_ids: list[str]) -> dict[str, tuple[str, str]]:
    """(title, text) of each stored document asked for."""
    out = {}
    for doc_id in dict.fromkeys(doc_ids):
        row = conn.execute("SELECT title, text FROM documents WHERE id=?", (doc_id,)).fetchone()
        if row:
            out[doc_id] = (row[0] or "", row[1] or "")
    return out


def skip_reasons(conn: Connection, doc_ids: list[str]) -> dict[str, str]:
    """Why each asked-for document was skipped ("" when it was not, or is not stored)."""
    out = {}
    for doc_id in doc_ids:
        row = conn.execute("SELECT skip_reason FROM documents WHERE id = ?", (doc_id,)).fetchone()
        out[doc_id] = (row[0] or "") if row else ""
    return out


def document(conn: Connection, doc_id: str) -> dict | None:
    """One document with its findings and entities, in text order (for the reader)."""
    row = conn.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
    if row is None:
        return None
    doc = dict(row)
    doc["findings"] = [dict(r) for r in conn.execute("SELECT * FROM findings WHERE doc_id = ? ORDER BY start",
                                                     (doc_id,))]
    for f in doc["findings"]:
        if f.get("extra"):
            try:
                f["extra"] = json.loads(f["extra"])
            except ValueError:
                pass
    doc["entities"] = [dict(r) for r in conn.execute(
        "SELECT label, start, end, text, norm, code, province FROM entities WHERE doc_id = ? ORDER BY start",
        (doc_id,))]
    return doc


def documents_summary(conn: Connection) -> list[dict]:
    """Every document with its count of findings of each kind (column = the kind's plural)."""
    counts = ", ".join(f"sum(f.kind = '{k.name}') AS {k.plural}" for k in KINDS.values())
    return [dict(r) for r in conn.execute(
        f"SELECT d.id AS doc_id, d.title, d.published, d.site, d.doc_type, d.status, d.duplicate_of, {counts}, "
        "length(d.text) AS chars, d.url FROM documents d LEFT JOIN findings f ON f.doc_id = d.id GROUP BY d.id "
        "ORDER BY coalesce(d.published, '') DESC, d.id")]


def recent_documents(conn: Connection, limit: int = 10) -> list[dict]:
    """The documents added last, newest first, with their number of findings."""
    return [dict(r) for r in conn.execute(
        "SELECT d.ingested_at, d.id AS doc_id, d.title, d.published, d.doc_type, d.status, count(f.id) AS findings "
        "FROM documents d LEFT JOIN findings f ON f.doc_id = d.id GROUP BY d.id "
        "ORDER BY d.ingested_at DESC, d.rowid DESC LIMIT ?", (int(limit),))]


def publication_dates(conn: Connection) -> dict[str, str | None]:
    """Publication date of every processed document."""
    return {r[0]: r[1] for r in conn.execute("SELECT id, published FROM documents WHERE status = 'processed'")}


def commonest_finding_year(conn: Connection, doc_id: str) -> int | None:
    """The year most of a document's findings name (latest on ties)."""
    row = conn.execute("SELECT year, count(*) AS n FROM findings WHERE doc_id = ? AND year IS NOT NULL "
                       "GROUP BY year ORDER BY n DESC, year DESC LIMIT 1", (doc_id,)).fetchone()
    return int(row[0]) if row else None


def duplicate_ids(conn: Connection) -> set[str]:
    """Documents stored as near-duplicates of an earlier one."""
    return {r[0] for r in conn.execute("SELECT id FROM documents WHERE duplicate_of IS NOT NULL")}


def document_urls(conn: Connection, doc_ids) -> dict[str, str]:
    """{document id: its source URL} for the documents asked for that have one."""
    out: dict[str, str] = {}
    ids = list(dict.fromkeys(doc_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        out.update({r[0]: r[1] for r in conn.execute(
            f"SELECT id, url FROM documents WHERE url IS NOT NULL AND id IN ({','.join('?' * len(chunk))})", chunk)})
    return out


def duplicate_links(conn: Connection) -> dict[str, str]:
    """{near-duplicate document: the earlier document it repeats}, so one story counts once."""
    return {r[0]: r[1] for r in conn.execute("SELECT id, duplicate_of FROM documents WHERE duplicate_of IS NOT NULL")}


def counts(conn: Connection) -> dict[str, int]:
    """Documents, findings and findings with a vector (zeros for a store without tables yet)."""
    try:
        return {
            "documents": int(conn.execute("SELECT count(*) FROM documents").fetchone()[0]),
            "findings": int(conn.execute("SELECT count(*) FROM findings").fetchone()[0]),
            "embedded": int(conn.execute(
                "SELECT count(*) FROM embeddings e JOIN findings f ON f.id = e.finding_id").fetchone()[0]),
        }
    except DatabaseError:
        return {"documents": 0, "findings": 0, "embedded": 0}


def document_counts(conn: Connection) -> dict[str, int]:
    """Documents by what became of them: `documents` in all, `analysed` (processed, near-duplicates
    included), `skipped` (not about the subject), `duplicates` (analysed near-duplicates of an
    earlier document) and `undated` (analysed without a publication date); zeros without tables."""
    try:
        row = conn.execute(
            "SELECT count(*), coalesce(sum(status = 'processed'), 0), coalesce(sum(status = 'skipped'), 0), "
            "coalesce(sum(status = 'processed' AND duplicate_of IS NOT NULL), 0), "
            "coalesce(sum(status = 'processed' AND coalesce(published, '') = ''), 0) FROM documents").fetchone()
    except DatabaseError:
        row = (0, 0, 0, 0, 0)
    return dict(zip(("documents", "analysed", "skipped", "duplicates", "undated"), (int(v) for v in row)))


def data_version(conn: Connection) -> tuple:
    """Changes whenever an ingest adds, replaces or removes anything: the key for cached views."""
    docs = conn.execute("SELECT count(*), coalesce(max(rowid), 0), coalesce(max(ingested_at), '') "
                        "FROM documents").fetchone()
    finds = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM findings").fetchone()
    embs = conn.execute("SELECT count(*), coalesce(max(finding_id), 0) FROM embeddings").fetchone()
    return tuple(docs) + tuple(finds) + tuple(embs)


def compact(conn: Connection) -> None:
    """Fold the write-ahead log into the file and leave WAL mode: one self-contained file to copy."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
