"""The findings CSV: a contract other tools read.

UTF-8 with BOM so Excel shows Vietnamese; every text cell that a spreadsheet
would run as a formula is neutralised with a leading apostrophe, while real
numbers stay numbers.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from corpus import store

CONTRACT_COLUMNS = (
    "doc_id", "title", "published", "kind", "unit", "unit_code", "province", "metric", "value",
    "value_type", "year", "speaker", "text", "start", "end",
)
EXTRA_COLUMNS = (
    "unit_name", "value_role", "subtype", "unit_type", "rank_position", "rank_total", "rank_direction", "speaker_role",
    "speaker_unit", "stance", "turn", "doc_type", "site", "sentence",
)
_FORMULA_START = frozenset("=+-@")
# C0 controls but tab and line breaks, DEL and C1 controls: never meaningful in a cell
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _lead(text: str) -> str:
    """The first character a spreadsheet may act on: blanks, controls, zero-width and format
    characters skipped (some importers trim them), full-width forms folded (NFKC)."""
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
            continue
        return unicodedata.normalize("NFKC", ch)[:1]
    return ""


def neutralise(value: object) -> object:
    """Strip control characters from text, and prefix a quote to text a spreadsheet would
    evaluate as a formula; numbers pass unchanged."""
    if not isinstance(value, str):
        return value
    value = _CONTROLS.sub("", value)
    if _lead(value) in _FORMULA_START or value.startswith(("\t", "\r")):
        return "'" + value
    return value


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return neutralise(value)


def write_csv(rows: Iterable[dict], out: Path | io.TextIOBase, columns: Sequence[str]) -> int:
    """Write rows with the safety rules; returns the number of rows."""
    own = isinstance(out, (str, Path))
    fh = open(out, "w", encoding="utf-8-sig", newline="") if own else out
    try:
        if not own and fh.tell() == 0:
            fh.write("\ufeff")
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow(columns)
        n = 0
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
            n += 1
        return n
    finally:
        if own:
            fh.close()


def dataframe_to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The same rules for any table the explorer shows."""
    buf = io.StringIO()
    write_csv(df.to_dict("records"), buf, list(df.columns))
    return buf.getvalue().encode("utf-8")


def contract_rows(conn: store.Connection, where: store.FindingFilter | None = None,
                  ids: list[int] | None = None) -> list[dict]:
    """Findings as the CSV contract has them (values as numbers, integers without ".0"), in
    document order, or in the order of `ids` when given."""
    rows = store.findings(conn, where, ids=ids)
    for row in rows:
        row["value"] = _format_value(row.get("value"))
    if ids is not None:
        by_id = {r["id"]: r for r in rows}
        rows = [by_id[i] for i in ids if i in by_id]
    return rows


def _format_value(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(float(value), 4)


def export_findings(conn: store.Connection, out: Path, where: store.FindingFilter | None = None,
                    extra: bool = True) -> int:
    """The findings CSV. The default filter leaves out figures without a unit (averages, gaps,
    totals): `FindingFilter(with_neutral=True)` keeps them."""
    rows = contract_rows(conn, where or store.FindingFilter(with_neutral=False))
    columns = CONTRACT_COLUMNS + (EXTRA_COLUMNS if extra else ())
    return write_csv(rows, out, columns)
