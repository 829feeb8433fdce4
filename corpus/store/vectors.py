"""Finding vectors and the themes built on them: what the index and themes jobs write and read."""
from __future__ import annotations

import json

import numpy as np

from corpus.store.schema import Connection, transaction


def load_vectors(conn: Connection, model: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(finding ids, vectors) in id order, of one model or of all."""
    sql, args = "SELECT finding_id, vector FROM embeddings", ()
    if model:
        sql, args = sql + " WHERE model = ?", (model,)
    ids, vecs = [], []
    for fid, blob in conn.execute(sql + " ORDER BY finding_id", args):
        ids.append(fid)
        vecs.append(np.frombuffer(blob, dtype=np.float32))
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    return np.asarray(ids, dtype=np.int64), np.vstack(vecs)


def unembedded(conn: Connection, model: str) -> list[tuple[int, str]]:
    """(finding id, text) of findings with no vector from `model` (ingested with --no-embed,
    or embedded by another model)."""
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT f.id, f.text FROM findings f LEFT JOIN embeddings e ON e.finding_id = f.id "
        "WHERE e.finding_id IS NULL OR e.model != ? ORDER BY f.id", (model,))]


def save_vectors(conn: Connection, model: str, ids: list[int], vectors: np.ndarray) -> None:
    vectors = np.asarray(vectors, dtype=np.float32)
    with transaction(conn):
        conn.executemany("INSERT OR REPLACE INTO embeddings(finding_id, model, vector) VALUES (?, ?, ?)",
                         [(int(fid), model, v.tobytes()) for fid, v in zip(ids, vectors)])


def theme_inputs(conn: Connection, kinds: list[str], model: str | None = None) -> tuple[list[dict], np.ndarray]:
    """Statements of `kinds` that have a vector (of `model`, if given), with their unit, year and
    original document, in id order, and their vectors."""
    sql = (f"SELECT f.id AS finding_id, f.doc_id, coalesce(d.duplicate_of, f.doc_id) AS canon, "
           "coalesce(f.unit_name, f.unit) AS unit, coalesce(f.unit_code, f.unit) AS ukey, f.unit_type, "
           "coalesce(f.year, CAST(substr(d.published, 1, 4) AS INTEGER)) AS yr, f.text, e.vector "
           "FROM findings f JOIN documents d ON d.id = f.doc_id JOIN embeddings e ON e.finding_id = f.id "
           f"WHERE f.kind IN ({','.join('?' * len(kinds))})")
    args = list(kinds)
    if model:
        sql, args = sql + " AND e.model = ?", args + [model]
    rows = [dict(r) for r in conn.execute(sql + " ORDER BY f.id", args)]
    vectors = (np.vstack([np.frombuffer(r.pop("vector"), dtype=np.float32) for r in rows]) if rows
               else np.zeros((0, 0), dtype=np.float32))
    return rows, vectors


def findings_version(conn: Connection) -> list:
    """Changes whenever findings are added, replaced or removed."""
    return list(conn.execute("SELECT count(*), coalesce(max(id), 0) FROM findings").fetchone())


def stored_themes(conn: Connection, kind: str) -> tuple[dict[int, tuple[str, np.ndarray]], dict[int, set[int]]]:
    """{theme id: (label, centroid)} and {theme id: member finding ids} as last built."""
    themes = {tid: (label, np.frombuffer(blob, dtype=np.float32)) for tid, label, blob in
              conn.execute("SELECT theme_id, label, centroid FROM themes WHERE kind = ?", (kind,))}
    members: dict[int, set[int]] = {}
    for tid, fid in conn.execute("SELECT theme_id, finding_id FROM theme_members WHERE kind = ? AND theme_id >= 0",
                             (kind,)):
        members.setdefault(tid, set()).add(fid)
    return themes, members


def theme_member_rows(conn: Connection, kind: str) -> list[dict]:
    """Each stored theme member with its finding's text, unit, year and document, best first."""
    return [dict(r) for r in conn.execute(
        "SELECT m.theme_id, m.finding_id, m.similarity, f.doc_id, coalesce(d.duplicate_of, f.doc_id) AS canon, "
        "coalesce(f.unit_name, f.unit) AS unit, coalesce(f.unit_code, f.unit) AS ukey, f.unit_type, "
        "coalesce(f.year, CAST(substr(d.published, 1, 4) AS INTEGER)) AS yr, f.text "
        "FROM theme_members m JOIN findings f ON f.id = m.finding_id JOIN documents d ON d.id = f.doc_id "
        "WHERE m.kind = ? ORDER BY m.theme_id, m.similarity DESC, m.finding_id", (kind,))]


def save_themes(conn: Connection, kind: str, themes: list[tuple[int, str, np.ndarray, list[tuple[int, float]]]],
                outliers: list[int], built_from: dict) -> None:
    """Replace a kind's themes: (id, label, centroid, [(finding id, similarity)]) each, the
    statements left in no theme, and what they were built from (to tell when they are stale)."""
    with transaction(conn):
        conn.execute("DELETE FROM themes WHERE kind = ?", (kind,))
        conn.execute("DELETE FROM theme_members WHERE kind = ?", (kind,))
        conn.executemany("INSERT INTO themes(kind, theme_id, label, centroid) VALUES (?, ?, ?, ?)",
                         [(kind, tid, label, np.asarray(c, dtype=np.float32).tobytes())
                          for tid, label, c, _ in themes])
        conn.executemany("INSERT INTO theme_members(kind, theme_id, finding_id, similarity) VALUES (?, ?, ?, ?)",
                         [(kind, tid, fid, float(s)) for tid, _, _, ms in themes for fid, s in ms])
        conn.executemany("INSERT INTO theme_members(kind, theme_id, finding_id, similarity) VALUES (?, -1, ?, 0)",
                         [(kind, fid) for fid in outliers])
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                     (f"themes:{kind}", json.dumps(built_from)))


def themes_built_from(conn: Connection, kind: str) -> dict | None:
    """What a kind's stored themes were built from, or None when they were never built."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"themes:{kind}",)).fetchone()
    return json.loads(row[0]) if row else None
