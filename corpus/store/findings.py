"""Reading findings: one filter type for every caller, and the queries built on it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from corpus.records import expand_kinds
from corpus.store.schema import Connection

# A finding with its document's fields and its source sentence: what tables, export and search show.
_JOINED = (
    "SELECT f.*, d.title, d.published, d.doc_type, d.site, d.url, d.duplicate_of, "
    "substr(d.text, coalesce(f.sent_start, f.start) + 1, "
    "coalesce(f.sent_end, f.end) - coalesce(f.sent_start, f.start)) AS sentence "
    "FROM findings f JOIN documents d ON d.id = f.doc_id"
)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally (ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class FindingFilter:
    """Which findings a view, export or search covers. Every field left empty matches all.

    - kind: a kind, an alias ("problem" = weakness + cause) or a comma list of them.
    - unit: part of the unit's name as written or normalised ("Cầu Giấy"), or its exact code.
      The province is not matched: use `province` for that.
    - unit_key: one exact unit, as `unit_key()` spells it (level and code, or level and name).
    - province: part of the province's name.
    - year, year_from, year_to: the finding's own year, or its document's publication
      year when it names none.
    - doc_id, doc_type: one document, one document type.
    - speaker_unit: the body the speaker speaks for (exact).
    - with_neutral: False leaves out figures bound to no unit (averages, totals, gaps).
    """
    kind: str | None = None
    unit: str | None = None
    unit_key: str | None = None
    province: str | None = None
    year: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    doc_id: str | None = None
    doc_type: str | None = None
    speaker_unit: str | None = None
    with_neutral: bool = True

    def where(self) -> tuple[str, list]:
        """The SQL condition over findings `f` joined with documents `d`, and its arguments."""
        where, args = [], []
        kinds = expand_kinds(self.kind)
        if kinds:
            where.append(f"f.kind IN ({','.join('?' * len(kinds))})")
            args += kinds
        if self.unit:
            where.append("(f.unit LIKE ? ESCAPE '\\' OR f.unit_name LIKE ? ESCAPE '\\' OR f.unit_code = ?)")
            args += [like_pattern(self.unit), like_pattern(self.unit), self.unit]
        if self.unit_key:
            sql, more = _unit_key_where(self.unit_key)
            where.append(sql)
            args += more
        if self.province:
            where.append("f.province LIKE ? ESCAPE '\\'")
            args.append(like_pattern(self.province))
        year = "coalesce(f.year, CAST(substr(d.published, 1, 4) AS INTEGER))"
        for value, op in ((self.year, "="), (self.year_from, ">="), (self.year_to, "<=")):
            if value is not None:
                where.append(f"{year} {op} ?")
                args.append(int(value))
        if self.doc_id:
            where.append("f.doc_id = ?")
            args.append(self.doc_id)
        if self.doc_type:
            where.append("d.doc_type = ?")
            args.append(self.doc_type)
        if self.speaker_unit:
            where.append("f.speaker_unit = ?")
            args.append(self.speaker_unit)
        if not self.with_neutral:
            where.append("NOT (f.kind = 'figure' AND coalesce(f.unit, '') = '')")
        return (" AND ".join(where) or "1"), args


def unit_key(unit_type: str | None, unit_code: str | None, unit: str | None) -> str | None:
    """A stable key for a unit: its level and official code where known, else its name."""
    if unit_code:
        return f"{unit_type or 'unit'}:{unit_code}"
    if unit:
        return f"{unit_type or 'unit'}:name:{unit}"
    return None


def _unit_key_where(key: str) -> tuple[str, list]:
    level, _, rest = key.partition(":")
    level_sql = "coalesce(f.unit_type, 'unit') = ?"
    if rest.startswith("name:"):
        return (f"({level_sql} AND coalesce(f.unit_code, '') = '' AND coalesce(f.unit_name, f.unit) = ?)",
                [level, rest[5:]])
    return f"({level_sql} AND f.unit_code = ?)", [level, rest]


def findings(conn: Connection, where: FindingFilter | None = None, ids: Sequence[int] | None = None) -> list[dict]:
    """Findings with their document's title, date, type, site and source sentence, in document
    order; `ids` narrows to those findings (any order: callers re-order)."""
    sql, args = (where or FindingFilter()).where()
    if ids is None:
        return [dict(r) for r in conn.execute(f"{_JOINED} WHERE {sql} ORDER BY f.doc_id, f.start", args)]
    out = []
    ids = [int(i) for i in ids]
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        out += [dict(r) for r in conn.execute(
            f"{_JOINED} WHERE {sql} AND f.id IN ({','.join('?' * len(chunk))})", args + chunk)]
    return out


def finding_ids(conn: Connection, where: FindingFilter | None = None) -> list[int]:
    sql, args = (where or FindingFilter()).where()
    return [r[0] for r in conn.execute(f"SELECT f.id FROM findings f JOIN documents d ON d.id = f.doc_id "
                                       f"WHERE {sql} ORDER BY f.id", args)]


def count_findings(conn: Connection, where: FindingFilter | None = None) -> int:
    sql, args = (where or FindingFilter()).where()
    return int(conn.execute(f"SELECT count(*) FROM findings f JOIN documents d ON d.id = f.doc_id WHERE {sql}",
                            args).fetchone()[0])


_FTS_WORD = re.compile(r"\w+", re.UNICODE)


def keyword_search(conn: Connection, query: str, where: FindingFilter | None = None, limit: int = 200) -> list[int]:
    """Finding ids by BM25 over text and unit, best first: those holding every query word, then
    those holding any (common words such as "vì", "tính" would otherwise bury the one exact match)."""
    words = [w for w in _FTS_WORD.findall(query) if len(w) > 1]
    if not words:
        return []
    sql, args = (where or FindingFilter()).where()
    out: list[int] = []
    for joiner in (" AND ", " OR ") if len(words) > 1 else (" OR ",):
        match = joiner.join(f'"{w}"' for w in words)
        out += [r[0] for r in conn.execute(
            "SELECT f.id FROM findings_fts JOIN findings f ON f.id = findings_fts.rowid "
            f"JOIN documents d ON d.id = f.doc_id WHERE findings_fts MATCH ? AND {sql} "
            "ORDER BY bm25(findings_fts) LIMIT ?", [match, *args, int(limit)]) if r[0] not in out]
    return out[:limit]


def filter_options(conn: Connection) -> dict:
    """Choices for the search filters: provinces and units (most named first), years, document types."""
    provinces = [r[0] for r in conn.execute(
        "SELECT province FROM findings WHERE coalesce(province, '') != '' GROUP BY province "
        "ORDER BY count(*) DESC, province")]
    units = [r[0] for r in conn.execute(
        "SELECT coalesce(unit_name, unit) AS u FROM findings WHERE coalesce(unit, '') != '' GROUP BY u "
        "ORDER BY count(*) DESC, u")]
    years = [int(r[0]) for r in conn.execute(
        "SELECT DISTINCT year FROM findings WHERE year IS NOT NULL ORDER BY year")]
    doc_types = [r[0] for r in conn.execute("SELECT DISTINCT doc_type FROM documents ORDER BY doc_type")]
    return {"provinces": provinces, "units": units, "years": years, "doc_types": doc_types}


def unit_mentions(conn: Connection) -> list[dict]:
    """Every finding that names a unit: id, document, kind and the unit's identity."""
    return [dict(r) for r in conn.execute(
        "SELECT id, doc_id, kind, coalesce(unit_name, unit) AS unit, unit_code, unit_type, province "
        "FROM findings WHERE coalesce(unit, '') != ''")]
