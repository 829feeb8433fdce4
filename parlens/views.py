"""What the explorer shows, as plain data: DataFrames, dicts and HTML strings.

Nothing here imports Streamlit, so every view can be tested (and reused from a
notebook) on a store connection alone. Document text is always escaped with
``html.escape`` before it goes into HTML; no markup from a document is ever
rendered.
"""
from __future__ import annotations

import html
import json
import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

import pandas as pd

from corpus.export import CONTRACT_COLUMNS, EXTRA_COLUMNS, query_findings

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&])")


_AUTOLINK = re.compile(r"(?i)(https?|ftp|mailto|www|xmpp)(?=[:.])|(@)")


def md(text: object) -> str:
    """Document-derived text made inert for Streamlit Markdown (titles, units, URLs, quotes):
    every Markdown, HTML, math, emoji/icon and autolink trigger is backslash-escaped, and line
    breaks become spaces, so a document can supply neither a link, an image nor a heading."""
    if text is None:
        return ""
    flat = " ".join(str(text).split())
    # GFM turns bare "http://", "www." and "a@b.c" into links even when escaped: an invisible
    # word joiner after the trigger leaves the text as it reads but no longer a link
    flat = _AUTOLINK.sub("\\1\u2060", flat)
    return _MD_SPECIAL.sub(r"\\\1", flat)


# --------------------------------------------------------------------------
# Labels: Vietnamese first, English where a researcher expects it
# --------------------------------------------------------------------------

KINDS = ("figure", "weakness", "cause", "remedy")
KIND_LABELS = {
    "figure": "Số liệu · Figure",
    "weakness": "Hạn chế · Weakness",
    "cause": "Nguyên nhân · Cause",
    "remedy": "Giải pháp · Remedy",
    "problem": "Hạn chế & nguyên nhân · Problems",
}
KIND_SHORT = {"figure": "Số liệu", "weakness": "Hạn chế", "cause": "Nguyên nhân", "remedy": "Giải pháp"}
KIND_COLORS = {"figure": "#f59e0b", "weakness": "#ef4444", "cause": "#f97316", "remedy": "#10b981"}
KIND_BG = {"figure": "#fef3c7", "weakness": "#fee2e2", "cause": "#ffedd5", "remedy": "#d1fae5"}

METRIC_LABELS = {
    "par_index": "Chỉ số CCHC · PAR Index",
    "par_component": "Chỉ số thành phần · PAR component",
    "satisfaction": "Mức độ hài lòng · Satisfaction (SIPAS)",
    "on_time": "Giải quyết đúng hạn · On time",
    "online_service": "Dịch vụ công trực tuyến · Online services",
    "progress": "Tiến độ · Progress",
    "other": "Khác · Other",
}
VALUE_TYPE_LABELS = {"percent": "%", "score": "điểm · score", "rank": "hạng · rank",
                     "fraction": "phân số · fraction", "count": "số lượng · count"}
UNIT_TYPE_LABELS = {
    "province": "Tỉnh/TP · Province",
    "district": "Quận/huyện · District",
    "ward": "Xã/phường · Commune",
    "department": "Sở/ngành · Department",
    "ministry": "Bộ/ngành · Ministry",
}
STANCE_LABELS = {"asking": "chất vấn · asking", "answering": "trả lời · answering"}
DOC_TYPE_LABELS = {"news article": "Bài báo · News article", "session report": "Tường thuật phiên họp · Session report"}

ENTITY_COLORS = {
    "UNIT": "#bfdbfe", "PERSON": "#e9d5ff", "ROLE": "#ddd6fe", "INDEX": "#a5f3fc",
    "PERCENT": "#fde68a", "NUMBER": "#fef9c3", "FRACTION": "#fde68a", "YEAR": "#e5e7eb",
    "DATE": "#e5e7eb", "LEGAL_DOC": "#f5d0fe",
}
ENTITY_LABELS = {
    "UNIT": "đơn vị", "PERSON": "người", "ROLE": "chức vụ", "INDEX": "chỉ số", "PERCENT": "%",
    "NUMBER": "số", "FRACTION": "phân số", "YEAR": "năm", "DATE": "ngày", "LEGAL_DOC": "văn bản",
}
TERRITORIAL = ("province", "district", "ward")
COMPARABLE_VALUE_TYPES = ("percent", "score")


def kind_label(kind: str | None) -> str:
    return KIND_LABELS.get(kind or "", kind or "")


def metric_label(metric: str | None) -> str:
    return METRIC_LABELS.get(metric or "", metric or "")


def unit_type_label(unit_type: str | None) -> str:
    return UNIT_TYPE_LABELS.get(unit_type or "", unit_type or "")


# --------------------------------------------------------------------------
# Store-level helpers
# --------------------------------------------------------------------------


def data_version(conn: sqlite3.Connection) -> tuple:
    """Changes whenever an ingest adds, replaces or removes anything: the key for cached views."""
    docs = conn.execute("SELECT count(*), coalesce(max(rowid), 0), coalesce(max(ingested_at), '') FROM documents").fetchone()
    finds = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM findings").fetchone()
    embs = conn.execute("SELECT count(*), coalesce(max(finding_id), 0) FROM embeddings").fetchone()
    return tuple(docs) + tuple(finds) + tuple(embs)


def document_count(conn: sqlite3.Connection) -> int:
    try:
        return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _year_of(published: str | None) -> int | None:
    if published and len(published) >= 4 and published[:4].isdigit():
        return int(published[:4])
    return None


def document_years(conn: sqlite3.Connection) -> dict[str, int | None]:
    """Each document's year: its publication year, else the year most of its findings name."""
    years: dict[str, int | None] = {}
    for doc_id, published in conn.execute("SELECT id, published FROM documents WHERE status = 'processed'"):
        years[doc_id] = _year_of(published)
    missing = [d for d, y in years.items() if y is None]
    for doc_id in missing:
        row = conn.execute(
            "SELECT year, count(*) AS n FROM findings WHERE doc_id = ? AND year IS NOT NULL "
            "GROUP BY year ORDER BY n DESC, year DESC LIMIT 1", (doc_id,)).fetchone()
        years[doc_id] = int(row[0]) if row else None
    return years


def documents_per_year(conn: sqlite3.Connection, years: dict[str, int | None] | None = None) -> Counter:
    """Documents per year, near-duplicates counted once (the denominator of theme trends)."""
    years = document_years(conn) if years is None else years
    dups = {r[0] for r in conn.execute("SELECT id FROM documents WHERE duplicate_of IS NOT NULL")}
    return Counter(y for d, y in years.items() if y and d not in dups)


def filter_options(conn: sqlite3.Connection) -> dict:
    """Choices for the search filters: provinces, units, years, document types."""
    provinces = [r[0] for r in conn.execute(
        "SELECT province FROM findings WHERE coalesce(province, '') != '' GROUP BY province ORDER BY count(*) DESC, province")]
    units = [r[0] for r in conn.execute(
        "SELECT coalesce(unit_name, unit) AS u FROM findings WHERE coalesce(unit, '') != '' GROUP BY u "
        "ORDER BY count(*) DESC, u")]
    years = [int(r[0]) for r in conn.execute("SELECT DISTINCT year FROM findings WHERE year IS NOT NULL ORDER BY year")]
    doc_types = [r[0] for r in conn.execute("SELECT DISTINCT doc_type FROM documents ORDER BY doc_type")]
    return {"provinces": provinces, "units": units, "years": years, "doc_types": doc_types}


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

DOCUMENT_COLUMNS = ("doc_id", "title", "published", "site", "doc_type", "status", "figures", "weaknesses",
                    "causes", "remedies", "chars", "url")


def documents_table(conn: sqlite3.Connection) -> pd.DataFrame:
    rows = conn.execute(
        "SELECT d.id AS doc_id, d.title, d.published, d.site, d.doc_type, d.status, "
        "sum(f.kind = 'figure') AS figures, sum(f.kind = 'weakness') AS weaknesses, "
        "sum(f.kind = 'cause') AS causes, sum(f.kind = 'remedy') AS remedies, length(d.text) AS chars, d.url "
        "FROM documents d LEFT JOIN findings f ON f.doc_id = d.id GROUP BY d.id "
        "ORDER BY coalesce(d.published, '') DESC, d.id").fetchall()
    df = pd.DataFrame([dict(r) for r in rows], columns=list(DOCUMENT_COLUMNS))
    for col in ("figures", "weaknesses", "causes", "remedies", "chars"):
        df[col] = pd.to_numeric(df[col]).fillna(0).astype(int)
    return df


def recent_documents(conn: sqlite3.Connection, limit: int = 10) -> pd.DataFrame:
    """The documents added last, newest first."""
    rows = conn.execute(
        "SELECT d.ingested_at, d.id AS doc_id, d.title, d.published, d.doc_type, d.status, count(f.id) AS findings "
        "FROM documents d LEFT JOIN findings f ON f.doc_id = d.id GROUP BY d.id "
        "ORDER BY d.ingested_at DESC, d.rowid DESC LIMIT ?", (int(limit),)).fetchall()
    return pd.DataFrame([dict(r) for r in rows],
                        columns=["ingested_at", "doc_id", "title", "published", "doc_type", "status", "findings"])


def findings_table(conn: sqlite3.Connection, kind: str | None = None, unit: str | None = None,
                   year: int | None = None, doc_id: str | None = None, extra: bool = True) -> pd.DataFrame:
    """Findings joined with their document: the contract CSV columns first, then the extras."""
    rows = query_findings(conn, kind=kind, unit=unit, year=year, doc_id=doc_id, neutral=True)
    columns = list(CONTRACT_COLUMNS) + (list(EXTRA_COLUMNS) if extra else [])
    df = pd.DataFrame(rows, columns=columns + ["id"])
    df = df.rename(columns={"id": "finding_id"})
    return df[columns + ["finding_id"]] if extra else df[columns]


FIGURE_COLUMNS = ("unit", "unit_type", "province", "metric", "value", "value_type", "value_role", "year", "rank_position",
                  "rank_total", "rank_direction", "text", "sentence", "doc_id", "title", "published",
                  "unit_code", "finding_id")


def figures_table(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every figure with its unit, metric, value, year, rank and source document and sentence."""
    rows = conn.execute(
        "SELECT f.id AS finding_id, coalesce(f.unit_name, f.unit) AS unit, f.unit_type, f.province, f.metric, f.value, f.value_type, f.year, "
        "f.rank_position, f.rank_total, f.rank_direction, f.value_role, f.text, "
        "substr(d.text, f.sent_start + 1, f.sent_end - f.sent_start) AS sentence, f.doc_id, d.title, d.published, "
        "f.unit_code FROM findings f JOIN documents d ON d.id = f.doc_id WHERE f.kind = 'figure' "
        "ORDER BY coalesce(f.unit_name, f.unit), f.metric, f.year, f.id").fetchall()
    df = pd.DataFrame([dict(r) for r in rows], columns=list(FIGURE_COLUMNS))
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    for col in ("year", "rank_position", "rank_total"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    return df


def figure_extremes(figures: pd.DataFrame) -> pd.DataFrame:
    """Lowest and highest unit per metric and year, over comparable values (percent, score)."""
    cols = ["metric", "value_type", "year", "lowest_unit", "lowest_value", "highest_unit", "highest_value", "units"]
    df = figures[figures["value"].notna() & figures["year"].notna() & figures["unit"].notna()
                 & figures["value_type"].isin(COMPARABLE_VALUE_TYPES)]
    out = []
    for (metric, vtype, year), group in df.groupby(["metric", "value_type", "year"], sort=True):
        group = group.sort_values(["value", "unit"])
        lo, hi = group.iloc[0], group.iloc[-1]
        out.append({"metric": metric, "value_type": vtype, "year": int(year), "lowest_unit": lo["unit"],
                    "lowest_value": float(lo["value"]), "highest_unit": hi["unit"],
                    "highest_value": float(hi["value"]), "units": int(group["unit"].nunique())})
    return pd.DataFrame(out, columns=cols)


def unit_series(figures: pd.DataFrame, unit_key_value: str) -> pd.DataFrame:
    """One unit's figures by year (comparable values), one row per metric and year (mean of mentions)."""
    df = figures.assign(unit_key=[unit_key(t, c, u) for t, c, u in
                                  zip(figures["unit_type"], figures["unit_code"], figures["unit"])])
    df = df[(df["unit_key"] == unit_key_value) & df["year"].notna() & df["value"].notna()
            & df["value_type"].isin(COMPARABLE_VALUE_TYPES)]
    if df.empty:
        return pd.DataFrame(columns=["metric", "metric_label", "year", "value", "mentions"])
    out = (df.groupby(["metric", "year"], as_index=False)
             .agg(value=("value", "mean"), mentions=("value", "size")))
    out["year"] = out["year"].astype(int)
    out["metric_label"] = out["metric"].map(metric_label)
    return out[["metric", "metric_label", "year", "value", "mentions"]]


# --------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------


def unit_key(unit_type: str | None, unit_code: str | None, unit: str | None) -> str | None:
    """A stable key for a unit: its level and official code where known, else its name."""
    if unit_code:
        return f"{unit_type or 'unit'}:{unit_code}"
    if unit:
        return f"{unit_type or 'unit'}:name:{unit}"
    return None


def _unit_rows(conn: sqlite3.Connection) -> list[dict]:
    return [dict(r) for r in conn.execute(
        "SELECT f.id, f.doc_id, f.kind, coalesce(f.unit_name, f.unit) AS unit, f.unit_code, f.unit_type, "
        "f.province FROM findings f "
        "WHERE coalesce(f.unit, '') != ''")]


UNIT_COLUMNS = ("unit_key", "unit", "unit_type", "province", "unit_code", "figures", "weaknesses", "causes",
                "remedies", "documents")


def units_table(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every unit the findings name, with how much is said about it."""
    names: dict[str, Counter] = defaultdict(Counter)
    info: dict[str, dict] = {}
    counts: dict[str, Counter] = defaultdict(Counter)
    docs: dict[str, set] = defaultdict(set)
    for r in _unit_rows(conn):
        key = unit_key(r["unit_type"], r["unit_code"], r["unit"])
        names[key][r["unit"]] += 1
        info.setdefault(key, {"unit_type": r["unit_type"], "province": r["province"], "unit_code": r["unit_code"]})
        counts[key][r["kind"]] += 1
        docs[key].add(r["doc_id"])
    rows = []
    for key, c in counts.items():
        rows.append({"unit_key": key, "unit": names[key].most_common(1)[0][0], **info[key],
                     "figures": c["figure"], "weaknesses": c["weakness"], "causes": c["cause"],
                     "remedies": c["remedy"], "documents": len(docs[key])})
    df = pd.DataFrame(rows, columns=list(UNIT_COLUMNS))
    if not df.empty:
        # most-documented first: units named in many documents, then with most figures
        df["_total"] = df[["figures", "weaknesses", "causes", "remedies"]].sum(axis=1)
        df = (df.sort_values(["documents", "figures", "_total", "unit"], ascending=[False, False, False, True])
                .drop(columns="_total").reset_index(drop=True))
    return df


def _unit_where(key: str) -> tuple[str, list]:
    level, _, rest = key.partition(":")
    level_sql = "coalesce(f.unit_type, 'unit') = ?"
    if rest.startswith("name:"):
        return (f"{level_sql} AND coalesce(f.unit_code, '') = '' AND coalesce(f.unit_name, f.unit) = ?",
                [level, rest[5:]])
    return f"{level_sql} AND f.unit_code = ?", [level, rest]


def unit_profile(conn: sqlite3.Connection, key: str) -> dict:
    """Everything said about one unit: figures over time, weaknesses and causes, remedies, who spoke."""
    where, args = _unit_where(key)
    rows = [dict(r) for r in conn.execute(
        "SELECT f.*, d.title, d.published, substr(d.text, f.sent_start + 1, f.sent_end - f.sent_start) AS sentence "
        f"FROM findings f JOIN documents d ON d.id = f.doc_id WHERE {where} ORDER BY d.published, f.doc_id, f.start",
        args)]
    names = Counter(r["unit_name"] or r["unit"] for r in rows)
    first = rows[0] if rows else {}
    unit = {"key": key, "unit": names.most_common(1)[0][0] if names else None,
            "unit_type": first.get("unit_type"), "province": first.get("province"),
            "unit_code": first.get("unit_code"), "documents": len({r["doc_id"] for r in rows})}
    fig_cols = ["metric", "value", "value_type", "year", "rank_position", "rank_total", "text", "doc_id", "title",
                "finding_id"]
    figures = pd.DataFrame([{**r, "finding_id": r["id"]} for r in rows if r["kind"] == "figure"], columns=fig_cols)
    figures["value"] = pd.to_numeric(figures["value"], errors="coerce")
    stmt_cols = ["kind", "subtype", "text", "speaker", "speaker_role", "stance", "published", "doc_id", "title",
                 "finding_id"]
    problems = pd.DataFrame([{**r, "finding_id": r["id"]} for r in rows if r["kind"] in ("weakness", "cause")],
                            columns=stmt_cols)
    remedies = pd.DataFrame([{**r, "finding_id": r["id"]} for r in rows if r["kind"] == "remedy"], columns=stmt_cols)
    series = figures[figures["value"].notna() & figures["year"].notna()
                     & figures["value_type"].isin(COMPARABLE_VALUE_TYPES)]
    if not series.empty:
        series = (series.groupby(["metric", "year"], as_index=False)
                        .agg(value=("value", "mean"), mentions=("value", "size")))
        series["year"] = series["year"].astype(int)
        series["metric_label"] = series["metric"].map(metric_label)
    else:
        series = pd.DataFrame(columns=["metric", "year", "value", "mentions", "metric_label"])
    return {"unit": unit, "figures": figures, "series": series, "problems": problems, "remedies": remedies,
            "speakers": speakers_for(conn, key, unit["unit"])}


SPEAKER_COLUMNS = ("speaker", "speaker_role", "speaker_unit", "stance", "statements", "kinds", "documents")


def speakers_for(conn: sqlite3.Connection, key: str, unit_name: str | None) -> pd.DataFrame:
    """Who spoke about or for a unit: speakers of its findings, and speakers from it."""
    where, args = _unit_where(key)
    sql = (f"SELECT f.speaker, f.speaker_role, f.speaker_unit, f.stance, f.kind, f.doc_id FROM findings f "
           f"WHERE coalesce(f.speaker, '') != '' AND (({where})")
    if unit_name:
        sql += " OR f.speaker_unit = ?"
        args = args + [unit_name]
    sql += ")"
    groups: dict[tuple, dict] = {}
    for r in conn.execute(sql, args):
        k = (r["speaker"], r["speaker_role"], r["speaker_unit"], r["stance"])
        g = groups.setdefault(k, {"statements": 0, "kinds": Counter(), "documents": set()})
        g["statements"] += 1
        g["kinds"][r["kind"]] += 1
        g["documents"].add(r["doc_id"])
    rows = [{"speaker": k[0], "speaker_role": k[1], "speaker_unit": k[2],
             "stance": STANCE_LABELS.get(k[3] or "", k[3]), "statements": g["statements"],
             "kinds": ", ".join(f"{KIND_SHORT.get(kd, kd)} {n}" for kd, n in g["kinds"].most_common()),
             "documents": len(g["documents"])} for k, g in groups.items()]
    df = pd.DataFrame(rows, columns=list(SPEAKER_COLUMNS))
    return df.sort_values(["statements", "speaker"], ascending=[False, True]).reset_index(drop=True)


# --------------------------------------------------------------------------
# Map
# --------------------------------------------------------------------------

MAP_COLUMNS = ("unit", "unit_type", "level", "province", "unit_code", "lat", "lon", "par_value", "par_year",
               "findings", "color", "radius", "label")
NO_FIGURE_COLOR = [148, 163, 184, 170]


def par_color(value: float | None, lo: float, hi: float) -> list[int]:
    """Red (lowest) through amber to green (highest); grey when there is no figure."""
    if value is None or pd.isna(value):
        return list(NO_FIGURE_COLOR)
    t = 0.5 if hi <= lo else max(0.0, min(1.0, (float(value) - lo) / (hi - lo)))
    stops = [(0.0, (220, 38, 38)), (0.5, (245, 158, 11)), (1.0, (22, 163, 74))]
    for (t0, c0), (t1, c1) in zip(stops, stops[1:]):
        if t <= t1:
            u = (t - t0) / (t1 - t0)
            return [round(a + (b - a) * u) for a, b in zip(c0, c1)] + [220]
    return list(stops[-1][1]) + [220]


def map_points(conn: sqlite3.Connection, gazetteer=None) -> pd.DataFrame:
    """Territorial units (province, district, commune) placed by the gazetteer, coloured by the
    latest PAR Index figure (percent or score) the store holds for them."""
    if gazetteer is None:
        from nlp.units import gazetteer as load
        gazetteer = load()
    units = units_table(conn)
    units = units[units["unit_type"].isin(TERRITORIAL) & units["unit_code"].notna()]
    latest: dict[str, tuple[int, float]] = {}
    for r in conn.execute(
            "SELECT unit_type, unit_code, year, value FROM findings WHERE kind = 'figure' AND metric = 'par_index' "
            "AND value IS NOT NULL AND year IS NOT NULL AND value_type IN ('percent', 'score') AND unit_code IS NOT NULL "
            "ORDER BY year, id"):
        latest[unit_key(r[0], r[1], None)] = (int(r[2]), float(r[3]))
    rows = []
    radius = {"province": 9000, "district": 3500, "ward": 1500}
    for u in units.itertuples():
        admin = gazetteer.by_code.get((u.unit_type, u.unit_code))
        if admin is None or admin.lat is None or admin.lon is None:
            continue
        year, value = latest.get(u.unit_key, (None, None))
        rows.append({"unit": u.unit, "unit_type": u.unit_type, "level": unit_type_label(u.unit_type),
                     "province": u.province, "unit_code": u.unit_code, "lat": float(admin.lat),
                     "lon": float(admin.lon), "par_value": value, "par_year": year,
                     "findings": int(u.figures + u.weaknesses + u.causes + u.remedies),
                     "radius": radius.get(u.unit_type, 2000)})
    df = pd.DataFrame(rows, columns=[c for c in MAP_COLUMNS if c not in ("color", "label")])
    values = df["par_value"].dropna()
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)
    df["color"] = [par_color(v, lo, hi) for v in df["par_value"]]
    df["label"] = [f"{u}: {v:.2f}% ({y})" if v is not None and not pd.isna(v) else f"{u}: chưa có điểm"
                   for u, v, y in zip(df["unit"], df["par_value"], df["par_year"])]
    df["par_year"] = pd.array(df["par_year"], dtype="Int64")
    return df[list(MAP_COLUMNS)]


def map_bounds(points: pd.DataFrame, margin: float = 0.25, min_span: float = 0.6) -> tuple[float, float, float, float]:
    """(lon_min, lon_max, lat_min, lat_max) around the points, padded, never narrower than `min_span`°."""
    if points.empty:
        return 102.0, 110.0, 8.3, 23.5          # the whole country
    lon0, lon1 = float(points["lon"].min()), float(points["lon"].max())
    lat0, lat1 = float(points["lat"].min()), float(points["lat"].max())
    pad_lon = max((lon1 - lon0) * margin, (min_span - (lon1 - lon0)) / 2, 0.05)
    pad_lat = max((lat1 - lat0) * margin, (min_span - (lat1 - lat0)) / 2, 0.05)
    return lon0 - pad_lon, lon1 + pad_lon, lat0 - pad_lat, lat1 + pad_lat


def map_background(bounds: tuple[float, float, float, float], gazetteer=None) -> pd.DataFrame:
    """Province and district centres inside `bounds`: a faint backdrop that shows the country's shape
    without any map tiles (the explorer works offline)."""
    if gazetteer is None:
        from nlp.units import gazetteer as load
        gazetteer = load()
    lon0, lon1, lat0, lat1 = bounds
    wide = (lon1 - lon0) > 3
    rows = []
    for u in gazetteer.units:
        if u.lat is None or u.lon is None or u.level == "ward" or (wide and u.level == "district"):
            continue
        if lon0 <= u.lon <= lon1 and lat0 <= u.lat <= lat1:
            rows.append({"name": u.short, "level": u.level, "lat": float(u.lat), "lon": float(u.lon)})
    return pd.DataFrame(rows, columns=["name", "level", "lat", "lon"])


# --------------------------------------------------------------------------
# Themes
# --------------------------------------------------------------------------

THEME_COLUMNS = ("theme_id", "label", "statements", "documents", "units", "years", "first_year", "last_year", "quote")


def themes_frame(themes: Sequence) -> pd.DataFrame:
    rows = []
    for t in themes:
        ys = t.years
        rows.append({"theme_id": t.id, "label": t.label, "statements": t.n_statements, "documents": t.n_documents,
                     "units": t.n_units, "years": len(ys), "first_year": ys[0] if ys else None,
                     "last_year": ys[-1] if ys else None, "quote": t.quote})
    df = pd.DataFrame(rows, columns=list(THEME_COLUMNS))
    for col in ("first_year", "last_year"):
        df[col] = pd.array(df[col], dtype="Int64")
    return df


def theme_bars(themes: Sequence, top: int = 15) -> pd.DataFrame:
    """Long-form counts for a bar chart: one row per theme and measure."""
    rows = []
    for t in list(themes)[:top]:
        for measure, label, n in (("documents", "Văn bản · documents", t.n_documents),
                                  ("units", "Đơn vị · units", t.n_units),
                                  ("statements", "Phát biểu · statements", t.n_statements)):
            rows.append({"theme_id": t.id, "label": f"#{t.id} {t.label}", "measure": measure,
                         "measure_label": label, "count": n})
    return pd.DataFrame(rows, columns=["theme_id", "label", "measure", "measure_label", "count"])


def theme_trend(themes: Sequence, doc_years: dict[str, int | None], share: bool = True,
                top: int = 8, year_totals: Counter | None = None) -> pd.DataFrame:
    """Per theme and year: documents naming the theme, as a share of that year's documents
    (``share=True``) or as a raw count. Years come from the documents (publication year)."""
    per_year = year_totals if year_totals is not None else Counter(y for y in doc_years.values() if y)
    rows = []
    for t in list(themes)[:top]:
        docs_by_year: dict[int, set] = defaultdict(set)
        for m in t.members:
            y = doc_years.get(m.doc_id) or m.year
            if y:
                docs_by_year[int(y)].add(m.canonical_doc if hasattr(m, "canonical_doc") else m.doc_id)
        for year in sorted(per_year):
            n = len(docs_by_year.get(year, ()))
            total = per_year[year]
            rows.append({"theme_id": t.id, "label": f"#{t.id} {t.label}", "year": year, "documents": n,
                         "year_documents": total, "share": (n / total) if total else 0.0,
                         "value": (n / total if total else 0.0) if share else n})
    return pd.DataFrame(rows, columns=["theme_id", "label", "year", "documents", "year_documents", "share", "value"])


MEMBER_COLUMNS = ("text", "unit", "unit_type", "year", "doc_id", "similarity", "finding_id")


def theme_members(theme) -> pd.DataFrame:
    rows = [{"text": m.text, "unit": m.unit, "unit_type": m.unit_type, "year": m.year, "doc_id": m.doc_id,
             "similarity": round(float(getattr(m, "similarity", 0.0)), 3),
             "finding_id": getattr(m, "finding_id", None)} for m in theme.members]
    df = pd.DataFrame(rows, columns=list(MEMBER_COLUMNS))
    df["year"] = pd.array(df["year"], dtype="Int64")
    return df


def theme_units(theme) -> pd.DataFrame:
    """Which units share this theme: statements, documents and years per unit."""
    groups: dict[str, dict] = {}
    for m in theme.members:
        if not m.unit_key and not m.unit:
            continue
        key = m.unit_key or m.unit
        g = groups.setdefault(key, {"names": Counter(), "unit_type": m.unit_type, "statements": 0,
                                    "documents": set(), "years": set()})
        g["names"][m.unit] += 1
        g["statements"] += 1
        g["documents"].add(getattr(m, "canonical_doc", m.doc_id))
        if m.year:
            g["years"].add(int(m.year))
    rows = [{"unit": g["names"].most_common(1)[0][0], "unit_type": g["unit_type"], "statements": g["statements"],
             "documents": len(g["documents"]), "years": ", ".join(str(y) for y in sorted(g["years"]))}
            for g in groups.values()]
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "statements", "documents", "years"])
    return df.sort_values(["documents", "statements", "unit"], ascending=[False, False, True]).reset_index(drop=True)


def themes_sharing_units(themes: Sequence) -> pd.DataFrame:
    """All (theme, unit) pairs: for the download of "which units share which weakness"."""
    frames = []
    for t in themes:
        df = theme_units(t)
        df.insert(0, "theme_id", t.id)
        df.insert(1, "label", t.label)
        frames.append(df)
    cols = ["theme_id", "label", "unit", "unit_type", "statements", "documents", "years"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


# --------------------------------------------------------------------------
# Search results
# --------------------------------------------------------------------------

HIT_COLUMNS = ("rank", "score", "kind", "text", "unit", "province", "year", "speaker", "speaker_role", "stance",
               "doc_id", "title", "published", "sentence", "finding_id")


def hits_table(conn: sqlite3.Connection, hits: Iterable) -> pd.DataFrame:
    """Search hits with what the result list shows: finding, source sentence, unit, year, speaker."""
    hits = list(hits)
    extra: dict[int, dict] = {}
    if hits:
        ids = [int(h.finding_id) for h in hits]
        for r in conn.execute(
                "SELECT f.id, f.speaker_role, f.stance, f.sent_start, f.sent_end, f.start, f.end, d.published, "
                "substr(d.text, coalesce(f.sent_start, f.start) + 1, "
                "coalesce(f.sent_end, f.end) - coalesce(f.sent_start, f.start)) AS sentence "
                f"FROM findings f JOIN documents d ON d.id = f.doc_id WHERE f.id IN ({','.join('?' * len(ids))})",
                ids):
            extra[r["id"]] = dict(r)
    rows = []
    for i, h in enumerate(hits, 1):
        e = extra.get(int(h.finding_id), {})
        rows.append({"rank": i, "score": round(float(h.score), 4), "kind": h.kind, "text": h.text, "unit": h.unit,
                     "province": h.province, "year": h.year, "speaker": h.speaker,
                     "speaker_role": e.get("speaker_role"), "stance": e.get("stance"), "doc_id": h.doc_id,
                     "title": h.title, "published": e.get("published"), "sentence": e.get("sentence"),
                     "finding_id": int(h.finding_id),
                     "_offset": (e.get("start", h.start) - (e.get("sent_start") if e.get("sent_start") is not None
                                                           else e.get("start", h.start))),
                     "_length": e.get("end", h.end) - e.get("start", h.start)})
    df = pd.DataFrame(rows, columns=list(HIT_COLUMNS) + ["_offset", "_length"])
    df["year"] = pd.array(df["year"], dtype="Int64")
    return df


# --------------------------------------------------------------------------
# HTML: sentence snippets and the document reader
# --------------------------------------------------------------------------

READER_CSS = """
<style>
.pl-doc{font-family:"Source Serif 4","Noto Serif",Georgia,serif;font-size:1.02rem;line-height:2.05;
  white-space:pre-wrap;color:#1f2937;max-width:56rem}
.pl-snip{font-size:.98rem;line-height:1.75;color:#374151;white-space:normal}
.pl-f{border-radius:3px;padding:1px 0;box-decoration-break:clone;-webkit-box-decoration-break:clone}
.pl-f-figure{background:#fef3c7;border-bottom:2px solid #f59e0b}
.pl-f-weakness{background:#fee2e2;border-bottom:2px solid #ef4444}
.pl-f-cause{background:#ffedd5;border-bottom:2px solid #f97316}
.pl-f-remedy{background:#d1fae5;border-bottom:2px solid #10b981}
.pl-focus{outline:2px solid #1d4ed8;outline-offset:1px}
.pl-badge{display:inline-block;font:600 .62rem/1.3 system-ui,sans-serif;letter-spacing:.02em;text-transform:uppercase;
  color:#fff;border-radius:3px;padding:1px 4px;margin-right:3px;vertical-align:.12em}
.pl-b-figure{background:#d97706}.pl-b-weakness{background:#dc2626}.pl-b-cause{background:#ea580c}
.pl-b-remedy{background:#059669}
.pl-e{padding:.1em .3em;border-radius:.35em;box-decoration-break:clone;-webkit-box-decoration-break:clone}
.pl-el{font:700 .58rem/1 system-ui,sans-serif;text-transform:uppercase;color:#374151;margin-left:.3em;
  vertical-align:.15em;opacity:.85}
.pl-legend{font:.78rem system-ui,sans-serif;margin:.2rem 0 .8rem 0;line-height:2}
.pl-legend span{margin-right:.45rem;white-space:nowrap}
.pl-meta{font:.8rem system-ui,sans-serif;color:#6b7280;margin-top:.15rem}
</style>
"""


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    layer: str        # finding | entity
    kind: str         # finding kind or entity label
    ident: str = ""
    title: str = ""


def _non_overlapping(spans: list[_Span], prefer: str | None = None) -> list[_Span]:
    """Greedy selection within one layer: the preferred span first, then longest first."""
    chosen: list[_Span] = []
    order = sorted(spans, key=lambda s: (s.ident != prefer if prefer else False, -(s.end - s.start), s.start))
    for s in order:
        if all(s.end <= c.start or s.start >= c.end for c in chosen):
            chosen.append(s)
    return sorted(chosen, key=lambda s: s.start)


def _finding_title(f: dict) -> str:
    parts = [KIND_LABELS.get(f.get("kind"), f.get("kind") or "")]
    for key, label in (("unit", "đơn vị"), ("metric", "chỉ số"), ("value", "giá trị"), ("year", "năm"),
                       ("speaker", "người nói"), ("speaker_role", "chức vụ"), ("subtype", "loại")):
        value = f.get(key)
        if value not in (None, ""):
            if key == "metric":
                value = metric_label(value)
            parts.append(f"{label}: {value}")
    return " · ".join(str(p) for p in parts)


def render_highlights(text: str, findings: Sequence[dict] = (), entities: Sequence[dict] = (),
                      focus: int | None = None, offset: int = 0, css_class: str = "pl-doc",
                      badges: bool = True, entity_labels: bool = True) -> str:
    """displaCy-style HTML for `text` with finding and entity spans highlighted.

    `findings` and `entities` are dicts with start/end offsets into the full document;
    `offset` is where `text` starts in it (for sentence snippets). Every piece of text is
    escaped; only the wrapper markup is ours.
    """
    n = len(text)
    spans: list[_Span] = []
    for f in findings:
        s, e = int(f["start"]) - offset, int(f["end"]) - offset
        s, e = max(0, s), min(n, e)
        if e > s:
            spans.append(_Span(s, e, "finding", str(f.get("kind") or "figure"), str(f.get("id", "")),
                               _finding_title(f)))
    ents: list[_Span] = []
    for en in entities:
        s, e = int(en["start"]) - offset, int(en["end"]) - offset
        s, e = max(0, s), min(n, e)
        if e > s:
            title = en.get("norm") or en.get("text") or ""
            ents.append(_Span(s, e, "entity", str(en.get("label") or "ENT"), "", str(title)))
    fsel = _non_overlapping(spans, prefer=str(focus) if focus is not None else None)
    esel = _non_overlapping(ents)
    cuts = sorted({0, n, *[s.start for s in fsel + esel], *[s.end for s in fsel + esel]})
    out = [f'<div class="{css_class}">']
    fi = ei = 0
    for a, b in zip(cuts, cuts[1:]):
        while fi < len(fsel) and fsel[fi].end <= a:
            fi += 1
        while ei < len(esel) and esel[ei].end <= a:
            ei += 1
        f = fsel[fi] if fi < len(fsel) and fsel[fi].start <= a < fsel[fi].end else None
        en = esel[ei] if ei < len(esel) and esel[ei].start <= a < esel[ei].end else None
        piece = html.escape(text[a:b])
        if en is not None:
            color = ENTITY_COLORS.get(en.kind, "#e5e7eb")
            label = (f'<span class="pl-el">{html.escape(ENTITY_LABELS.get(en.kind, en.kind.lower()))}</span>'
                     if entity_labels and b == en.end else "")
            piece = (f'<mark class="pl-e" style="background:{color}" title="{html.escape(en.title, quote=True)}">'
                     f"{piece}{label}</mark>")
        if f is not None:
            focus_cls = " pl-focus" if focus is not None and f.ident == str(focus) else ""
            anchor = f' id="f{html.escape(f.ident, quote=True)}"' if a == f.start and f.ident else ""
            badge = (f'<span class="pl-badge pl-b-{html.escape(f.kind, quote=True)}">'
                     f"{html.escape(KIND_SHORT.get(f.kind, f.kind))}</span>") if badges and a == f.start else ""
            piece = (f'<span class="pl-f pl-f-{html.escape(f.kind, quote=True)}{focus_cls}"{anchor} '
                     f'title="{html.escape(f.title, quote=True)}">{badge}{piece}</span>')
        out.append(piece)
    out.append("</div>")
    return "".join(out)


def snippet_html(sentence: str | None, kind: str, offset: int, length: int, fallback: str = "") -> str:
    """A search result's source sentence, with the finding inside it highlighted."""
    text = sentence or fallback
    if not text:
        return ""
    start = max(0, min(len(text), int(offset)))
    end = max(start, min(len(text), start + int(length)))
    if not sentence:
        start, end = 0, len(text)
    return render_highlights(text, [{"kind": kind, "start": start, "end": end, "id": ""}], css_class="pl-snip",
                             badges=False)


def legend_html(kinds: Iterable[str] = KINDS, entity_labels: Iterable[str] = ()) -> str:
    parts = ['<div class="pl-legend">']
    for k in kinds:
        parts.append(f'<span class="pl-f pl-f-{k}">&nbsp;{html.escape(KIND_LABELS[k])}&nbsp;</span>')
    for lab in entity_labels:
        parts.append(f'<span><mark class="pl-e" style="background:{ENTITY_COLORS.get(lab, "#e5e7eb")}">'
                     f'{html.escape(ENTITY_LABELS.get(lab, lab.lower()))}</mark></span>')
    parts.append("</div>")
    return "".join(parts)


def document(conn: sqlite3.Connection, doc_id: str) -> dict | None:
    row = conn.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
    if row is None:
        return None
    doc = dict(row)
    doc["findings"] = [dict(r) for r in conn.execute(
        "SELECT * FROM findings WHERE doc_id = ? ORDER BY start", (doc_id,))]
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


def render_document(doc: dict, kinds: Iterable[str] = KINDS, entity_labels: Iterable[str] | None = None,
                    focus: int | None = None) -> str:
    """The reader: the stored text, escaped, with findings and entities highlighted."""
    kinds = set(kinds)
    findings = [f for f in doc.get("findings", []) if f.get("kind") in kinds]
    ents = doc.get("entities", [])
    if entity_labels is not None:
        wanted = set(entity_labels)
        ents = [e for e in ents if e.get("label") in wanted]
    return render_highlights(doc.get("text") or "", findings, ents, focus=focus)
