"""Unit summaries: one row per unit with its counts, place and latest PAR Index figure.

Built by the summaries job after an ingest, so the units page and the map only read
them; `stale` tells a reader when findings changed since and the rows must be rebuilt.
"""
from __future__ import annotations

import json

from corpus.store.schema import Connection, transaction
from corpus.store.vectors import findings_version

_COLUMNS = ("unit_key", "unit", "unit_type", "province", "unit_code", "counts", "documents",
            "lat", "lon", "par_value", "par_year")
_META_KEY = "unit_summaries"


def par_index_figures(conn: Connection) -> list[dict]:
    """PAR Index figures of coded units with a value and a year, oldest first."""
    return [dict(r) for r in conn.execute(
        "SELECT id, unit_type, unit_code, value, value_type, year FROM findings "
        "WHERE kind = 'figure' AND metric = 'par_index' AND value IS NOT NULL AND year IS NOT NULL "
        "AND unit_code IS NOT NULL ORDER BY year, id")]


def save_unit_summaries(conn: Connection, rows: list[dict]) -> None:
    """Replace every unit summary, remembering which findings they were built from."""
    with transaction(conn):
        conn.execute("DELETE FROM unit_summaries")
        conn.executemany(
            f"INSERT INTO unit_summaries({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            [tuple(json.dumps(r["counts"], sort_keys=True) if c == "counts" else r.get(c) for c in _COLUMNS)
             for r in rows])
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                     (_META_KEY, json.dumps({"findings": findings_version(conn)})))


def unit_summaries_stale(conn: Connection) -> bool:
    """True when the summaries were never built or findings changed since."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_META_KEY,)).fetchone()
    return row is None or json.loads(row[0]).get("findings") != findings_version(conn)


def unit_summaries(conn: Connection) -> list[dict]:
    """The stored summaries, most-documented units first."""
    rows = [dict(r) for r in conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM unit_summaries ORDER BY documents DESC, unit_key")]
    for r in rows:
        r["counts"] = json.loads(r["counts"])
    return rows
