"""What the explorer shows, as plain data: DataFrames, dicts and HTML strings.

Nothing here imports Streamlit, so every view can be tested (and reused from a
notebook) on a store connection alone. Document text is always escaped with
``html.escape`` before it goes into HTML; no markup from a document is ever
rendered.
"""
from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

import pandas as pd

from corpus import store
from corpus.export import CONTRACT_COLUMNS, EXTRA_COLUMNS, contract_rows
from corpus.records import KINDS as KIND_SPECS
from corpus.records import ALIASES, kind_label, theme_groups
from corpus.store import FindingFilter, unit_key
from parlens import summaries
from parlens.summaries import COMPARABLE_VALUE_TYPES

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

# Finding kinds are declared once, in corpus.records; these read that declaration when called,
# so a kind registered later shows up everywhere.


def kinds() -> tuple[str, ...]:
    return tuple(KIND_SPECS)


def kind_aliases() -> tuple[str, ...]:
    return tuple(ALIASES)


def kind_short(name: str | None) -> str:
    return KIND_SPECS[name].short if name in KIND_SPECS else (name or "")


def kind_colour(name: str | None) -> str | None:
    return KIND_SPECS[name].colour if name in KIND_SPECS else None


def count_columns() -> tuple[str, ...]:
    """The per-kind count columns of the documents and units tables ("figures", "weaknesses", ...)."""
    return tuple(k.plural for k in KIND_SPECS.values())

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


def theme_group_labels() -> dict[str, str]:
    """{theme kind: label naming every kind it groups}, e.g. "Hạn chế · Nguyên nhân"."""
    return {group: " & ".join(KIND_SPECS[k].label for k in kinds) for group, kinds in theme_groups().items()}


def metric_label(metric: str | None) -> str:
    return METRIC_LABELS.get(metric or "", metric or "")


def unit_type_label(unit_type: str | None) -> str:
    return UNIT_TYPE_LABELS.get(unit_type or "", unit_type or "")


# --------------------------------------------------------------------------
# Store-level helpers
# --------------------------------------------------------------------------


def data_version(conn: store.Connection) -> tuple:
    """Changes whenever an ingest adds, replaces or removes anything: the key for cached views."""
    return store.data_version(conn)


def document_count(conn: store.Connection) -> int:
    return store.counts(conn)["documents"]


def _year_of(published: str | None) -> int | None:
    if published and len(published) >= 4 and published[:4].isdigit():
        return int(published[:4])
    return None


def document_years(conn: store.Connection) -> dict[str, int | None]:
    """Each analysed document's publication year (None when undated: per-year views leave it out;
    a number its findings name is no publication date)."""
    return {doc_id: _year_of(published) for doc_id, published in store.publication_dates(conn).items()}


def documents_per_year(conn: store.Connection, years: dict[str, int | None] | None = None) -> Counter:
    """Documents per year, near-duplicates counted once (the denominator of theme trends);
    undated documents are not counted (see `document_counts`)."""
    years = document_years(conn) if years is None else years
    dups = store.duplicate_ids(conn)
    return Counter(y for d, y in years.items() if y and d not in dups)


def document_counts(conn: store.Connection) -> dict[str, int]:
    """Documents in all, analysed, skipped as off-topic, near-duplicates and undated."""
    return store.document_counts(conn)


def counts_text(c: dict[str, int]) -> str:
    """One line for wherever a document count is shown: what the count is made of."""
    return (f"{c['documents']} văn bản · documents: {c['analysed']} đã phân tích · analysed "
            f"({c['duplicates']} gần trùng · near-duplicates, {c['undated']} không rõ ngày · undated), "
            f"{c['skipped']} bỏ qua · skipped")


def undated_text(n: int, what: str = "văn bản không rõ ngày · undated documents") -> str:
    """The note under a per-year view: how many items it leaves out for want of a year."""
    return f"Không tính {n} {what} · {n} left out of this per-year view." if n else ""


MISSING = "–"   # what a table shows for a missing value (never None, nan or NaN)


def display_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A table as shown to users: missing text is an empty cell; numbers stay numbers (their
    missing values show as MISSING through the table's placeholder)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = [("" if _is_missing(v) else v) for v in out[col]]
    return out


def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def index_status(conn: store.Connection) -> dict:
    """Findings, those with a vector, and those still missing one (a stale index)."""
    c = store.counts(conn)
    return {"findings": c["findings"], "embedded": c["embedded"], "missing": c["findings"] - c["embedded"]}


def filter_options(conn: store.Connection) -> dict:
    """Choices for the search filters: provinces, units, years, document types."""
    return store.filter_options(conn)


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

def document_columns() -> tuple[str, ...]:
    return ("doc_id", "title", "published", "site", "doc_type", "status", "duplicate_of", *count_columns(), "chars",
            "url")


def documents_table(conn: store.Connection) -> pd.DataFrame:
    df = pd.DataFrame(store.documents_summary(conn), columns=list(document_columns()))
    for col in (*count_columns(), "chars"):
        df[col] = pd.to_numeric(df[col]).fillna(0).astype(int)
    return df


def recent_documents(conn: store.Connection, limit: int = 10) -> pd.DataFrame:
    """The documents added last, newest first."""
    return pd.DataFrame(store.recent_documents(conn, limit),
                        columns=["ingested_at", "doc_id", "title", "published", "doc_type", "status", "findings"])


def findings_table(conn: store.Connection, kind: str | None = None, unit: str | None = None,
                   year: int | None = None, doc_id: str | None = None, extra: bool = True) -> pd.DataFrame:
    """Findings joined with their document: the contract CSV columns first, then the extras."""
    rows = contract_rows(conn, FindingFilter(kind=kind, unit=unit, year=year, doc_id=doc_id))
    columns = list(CONTRACT_COLUMNS) + (list(EXTRA_COLUMNS) if extra else [])
    urls = store.document_urls(conn, {r["doc_id"] for r in rows}) if extra else {}
    for r in rows:
        r["citation"] = citation(r.get("title"), r.get("site"), r.get("published"), urls.get(r["doc_id"]))
    df = pd.DataFrame(rows, columns=columns + ["id", "citation"])
    df = df.rename(columns={"id": "finding_id"})
    return df[columns + ["citation", "finding_id"]] if extra else df[columns]


FIGURE_COLUMNS = ("unit", "unit_type", "province", "metric", "value", "value_type", "value_role", "year", "rank_position",
                  "rank_total", "rank_direction", "text", "sentence", "doc_id", "title", "published",
                  "site", "url", "citation", "unit_code", "finding_id")


def figures_table(conn: store.Connection) -> pd.DataFrame:
    """Every figure with its unit, metric, value, year, rank and source document, sentence and citation."""
    rows = [{**r, "finding_id": r["id"], "unit": r["unit_name"] or r["unit"], "citation": _cite(r)}
            for r in store.findings(conn, FindingFilter(kind="figure"))]
    df = pd.DataFrame(rows, columns=list(FIGURE_COLUMNS))
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    for col in ("year", "rank_position", "rank_total"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    return df.sort_values(["unit", "metric", "year", "finding_id"], na_position="first").reset_index(drop=True)


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


def unit_columns() -> tuple[str, ...]:
    return ("unit_key", "unit", "unit_type", "province", "unit_code", *count_columns(), "documents")


def units_table(conn: store.Connection, gazetteer=None) -> pd.DataFrame:
    """Every unit the findings name, with how much is said about it (from the summaries job)."""
    rows = [{k: r[k] for k in ("unit_key", "unit", "unit_type", "province", "unit_code")}
            | {k.plural: r["counts"].get(k.name, 0) for k in KIND_SPECS.values()} | {"documents": r["documents"]}
            for r in summaries.current(conn, gazetteer)]
    df = pd.DataFrame(rows, columns=list(unit_columns()))
    if not df.empty:
        # most-documented first: units named in many documents, then with most figures
        df["_total"] = df[list(count_columns())].sum(axis=1)
        df = (df.sort_values(["documents", "figures", "_total", "unit"], ascending=[False, False, False, True])
                .drop(columns="_total").reset_index(drop=True))
    return df


def unit_profile(conn: store.Connection, key: str) -> dict:
    """Everything said about one unit: figures over time, weaknesses and causes, remedies, who spoke."""
    rows = sorted(store.findings(conn, FindingFilter(unit_key=key)),
                  key=lambda r: (r["published"] is not None, r["published"] or "", r["doc_id"], r["start"]))
    names = Counter(r["unit_name"] or r["unit"] for r in rows)
    first = rows[0] if rows else {}
    unit = {"key": key, "unit": names.most_common(1)[0][0] if names else None,
            "unit_type": first.get("unit_type"), "province": first.get("province"),
            "unit_code": first.get("unit_code"), "documents": len({r["doc_id"] for r in rows})}
    fig_cols = ["metric", "value", "value_type", "year", "rank_position", "rank_total", "text", "doc_id", "title",
                "citation", "finding_id"]
    figures = pd.DataFrame([{**r, "finding_id": r["id"], "citation": _cite(r)} for r in rows if r["kind"] == "figure"],
                           columns=fig_cols)
    figures["value"] = pd.to_numeric(figures["value"], errors="coerce")
    stmt_cols = ["kind", "subtype", "text", "speaker", "speaker_role", "stance", "published", "doc_id", "title",
                 "citation", "finding_id"]
    problems = pd.DataFrame([{**r, "finding_id": r["id"], "citation": _cite(r)} for r in rows
                             if r["kind"] in ("weakness", "cause")], columns=stmt_cols)
    remedies = pd.DataFrame([{**r, "finding_id": r["id"], "citation": _cite(r)} for r in rows if r["kind"] == "remedy"],
                            columns=stmt_cols)
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


def speakers_for(conn: store.Connection, key: str, unit_name: str | None) -> pd.DataFrame:
    """Who spoke about or for a unit: speakers of its findings, and speakers from it."""
    rows = {r["id"]: r for r in store.findings(conn, FindingFilter(unit_key=key))}
    if unit_name:
        rows.update({r["id"]: r for r in store.findings(conn, FindingFilter(speaker_unit=unit_name))})
    groups: dict[tuple, dict] = {}
    for r in (r for _, r in sorted(rows.items()) if r["speaker"]):
        k = (r["speaker"], r["speaker_role"], r["speaker_unit"], r["stance"])
        g = groups.setdefault(k, {"statements": 0, "kinds": Counter(), "documents": set()})
        g["statements"] += 1
        g["kinds"][r["kind"]] += 1
        g["documents"].add(r["doc_id"])
    rows = [{"speaker": k[0], "speaker_role": k[1], "speaker_unit": k[2],
             "stance": STANCE_LABELS.get(k[3] or "", k[3]), "statements": g["statements"],
             "kinds": ", ".join(f"{kind_short(kd)} {n}" for kd, n in g["kinds"].most_common()),
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


def map_points(conn: store.Connection, gazetteer=None) -> pd.DataFrame:
    """Territorial units (province, district, commune) placed by the gazetteer, coloured by the
    latest PAR Index figure (percent or score) the store holds for them."""
    radius = {"province": 9000, "district": 3500, "ward": 1500}
    rows = [{"unit": r["unit"], "unit_type": r["unit_type"], "level": unit_type_label(r["unit_type"]),
             "province": r["province"], "unit_code": r["unit_code"], "lat": r["lat"], "lon": r["lon"],
             "par_value": r["par_value"], "par_year": r["par_year"], "findings": int(sum(r["counts"].values())),
             "radius": radius.get(r["unit_type"], 2000),
             "_order": (-r["documents"], -r["counts"].get("figure", 0), -sum(r["counts"].values()), r["unit"])}
            for r in summaries.current(conn, gazetteer)
            if r["unit_type"] in TERRITORIAL and r["lat"] is not None and r["lon"] is not None]
    rows.sort(key=lambda r: r["_order"])
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
            y = doc_years.get(m.doc_id) if m.doc_id in doc_years else m.year
            if y:
                docs_by_year[int(y)].add(m.canonical_doc if hasattr(m, "canonical_doc") else m.doc_id)
        for year in sorted(per_year):
            n = len(docs_by_year.get(year, ()))
            total = per_year[year]
            rows.append({"theme_id": t.id, "label": f"#{t.id} {t.label}", "year": year, "documents": n,
                         "year_documents": total, "share": (n / total) if total else 0.0,
                         "value": (n / total if total else 0.0) if share else n})
    return pd.DataFrame(rows, columns=["theme_id", "label", "year", "documents", "year_documents", "share", "value"])


MEMBER_COLUMNS = ("text", "unit", "unit_type", "year", "doc_id", "similarity", "citation", "finding_id")


def citations(conn: store.Connection, ids: Sequence[int]) -> dict[int, str]:
    """{finding id: its document's citation line} for the findings asked for."""
    return {r["id"]: _cite(r) for r in store.findings(conn, ids=[int(i) for i in ids if i is not None])}


def theme_members(theme, cites: dict[int, str] | None = None) -> pd.DataFrame:
    cites = cites or {}
    rows = [{"text": m.text, "unit": m.unit, "unit_type": m.unit_type, "year": m.year, "doc_id": m.doc_id,
             "similarity": round(float(getattr(m, "similarity", 0.0)), 3),
             "citation": cites.get(getattr(m, "finding_id", None), ""),
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
               "doc_id", "title", "published", "sentence", "citation", "finding_id")


def hits_table(conn: store.Connection, hits: Iterable) -> pd.DataFrame:
    """Search hits with what the result list shows: finding, source sentence, unit, year, speaker."""
    hits = list(hits)
    extra = {r["id"]: r for r in store.findings(conn, ids=[int(h.finding_id) for h in hits])} if hits else {}
    rows = []
    for i, h in enumerate(hits, 1):
        e = extra.get(int(h.finding_id), {})
        rows.append({"rank": i, "score": round(float(h.score), 4), "kind": h.kind, "text": h.text, "unit": h.unit,
                     "province": h.province, "year": h.year, "speaker": h.speaker,
                     "speaker_role": e.get("speaker_role"), "stance": e.get("stance"), "doc_id": h.doc_id,
                     "title": h.title, "published": e.get("published"), "sentence": e.get("sentence"),
                     "citation": _cite({**e, "title": e.get("title", h.title)}),
                     "finding_id": int(h.finding_id),
                     "_offset": (e.get("start", h.start) - (e.get("sent_start") if e.get("sent_start") is not None
                                                           else e.get("start", h.start))),
                     "_length": e.get("end", h.end) - e.get("start", h.start)})
    df = pd.DataFrame(rows, columns=list(HIT_COLUMNS) + ["_offset", "_length"])
    df["year"] = pd.array(df["year"], dtype="Int64")
    return df


def hits_by_document(hits: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Search hits grouped by document, documents in the order of their best hit and each
    document's hits in ranking order (the same grouping as `parlens search --by-document`)."""
    if hits.empty:
        return []
    return [(doc_id, group) for doc_id, group in hits.groupby("doc_id", sort=False)]


# --------------------------------------------------------------------------
# HTML: sentence snippets and the document reader
# --------------------------------------------------------------------------

_READER_CSS = """
<style>
.pl-doc{font-family:"Source Serif 4","Noto Serif",Georgia,serif;font-size:1.02rem;line-height:2.05;
  white-space:pre-wrap;color:#1f2937;max-width:56rem}
.pl-snip{font-size:.98rem;line-height:1.75;color:#374151;white-space:normal}
.pl-f{border-radius:3px;padding:1px 0;box-decoration-break:clone;-webkit-box-decoration-break:clone}
{kind_css}
.pl-focus{outline:2px solid #1d4ed8;outline-offset:1px}
.pl-badge{display:inline-block;font:600 .62rem/1.3 system-ui,sans-serif;letter-spacing:.02em;text-transform:uppercase;
  color:#fff;border-radius:3px;padding:1px 4px;margin-right:3px;vertical-align:.12em}
.pl-e{padding:.1em .3em;border-radius:.35em;box-decoration-break:clone;-webkit-box-decoration-break:clone}
.pl-el{font:700 .58rem/1 system-ui,sans-serif;text-transform:uppercase;color:#374151;margin-left:.3em;
  vertical-align:.15em;opacity:.85}
.pl-legend{font:.78rem system-ui,sans-serif;margin:.2rem 0 .8rem 0;line-height:2}
.pl-legend span{margin-right:.45rem;white-space:nowrap}
.pl-meta{font:.8rem system-ui,sans-serif;color:#6b7280;margin-top:.15rem}
</style>
"""


def reader_css() -> str:
    """The reader's stylesheet, with a highlight colour for every declared kind."""
    return _READER_CSS.replace("{kind_css}", "\n".join(
        f".pl-f-{k.name}{{background:{k.background};border-bottom:2px solid {k.colour}}}"
        f".pl-b-{k.name}{{background:{k.colour}}}" for k in KIND_SPECS.values()))


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
    parts = [kind_label(f.get("kind"))]
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
                     f"{html.escape(kind_short(f.kind))}</span>") if badges and a == f.start else ""
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


def legend_html(kinds: Iterable[str] | None = None, entity_labels: Iterable[str] = ()) -> str:
    parts = ['<div class="pl-legend">']
    for k in (list(KIND_SPECS) if kinds is None else kinds):
        parts.append(f'<span class="pl-f pl-f-{k}">&nbsp;{html.escape(kind_label(k))}&nbsp;</span>')
    for lab in entity_labels:
        parts.append(f'<span><mark class="pl-e" style="background:{ENTITY_COLORS.get(lab, "#e5e7eb")}">'
                     f'{html.escape(ENTITY_LABELS.get(lab, lab.lower()))}</mark></span>')
    parts.append("</div>")
    return "".join(parts)


def document(conn: store.Connection, doc_id: str) -> dict | None:
    return store.document(conn, doc_id)


def render_document(doc: dict, kinds: Iterable[str] | None = None, entity_labels: Iterable[str] | None = None,
                    focus: int | None = None) -> str:
    """The reader: the stored text, escaped, with findings and entities highlighted."""
    kinds = set(KIND_SPECS if kinds is None else kinds)
    findings = [f for f in doc.get("findings", []) if f.get("kind") in kinds]
    ents = doc.get("entities", [])
    if entity_labels is not None:
        wanted = set(entity_labels)
        ents = [e for e in ents if e.get("label") in wanted]
    return render_highlights(doc.get("text") or "", findings, ents, focus=focus)


# --------------------------------------------------------------------------
# Citations and links: every finding row says where it comes from
# --------------------------------------------------------------------------

DOCS_URL = "documents"      # the documents page's url_path (app.py)


def date_text(published: str | None) -> str:
    """A stored date as readers write it: dd/mm/yyyy, or the year alone for a year-only date."""
    if not isinstance(published, str) or not published:
        return ""
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", published)
    return f"{m.group(3)}/{m.group(2)}/{m.group(1)}" if m else published


def citation(title: str | None, site: str | None, published: str | None, url: str | None) -> str:
    """One citation line: title, site, date, URL (what is known of them)."""
    parts = [p for p in (title, site, date_text(published), url) if isinstance(p, str) and p.strip()]
    return " · ".join(" ".join(p.split()) for p in parts)


def finding_link(doc_id: str, finding_id: int | None = None) -> str:
    """A relative link to the reader with the finding marked (the documents page reads ?doc=&f=)."""
    from urllib.parse import urlencode
    query = {"doc": doc_id}
    if finding_id is not None and not pd.isna(finding_id):
        query["f"] = str(int(finding_id))
    return f"{DOCS_URL}?{urlencode(query)}"


def _cite(r: dict) -> str:
    return citation(r.get("title"), r.get("site"), r.get("published"), r.get("url"))


# --------------------------------------------------------------------------
# Figure reconciliation: one unit, metric and year reported by several articles
# --------------------------------------------------------------------------

RECONCILED_COLUMNS = ("unit", "unit_type", "province", "metric", "value_type", "year", "consensus", "sources",
                      "distinct_values", "conflict", "values", "unit_key")
RECONCILE_KEY = ("unit_key", "metric", "value_type", "value_role", "year")


def _value_text(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _figure_frame(figures: pd.DataFrame, duplicates: dict[str, str]) -> pd.DataFrame:
    """Figures that can be compared: a unit, a year and a value; near-duplicates folded into
    the document they repeat (`source`)."""
    df = figures[figures["unit"].notna() & figures["year"].notna() & figures["value"].notna()].copy()
    df["unit_key"] = [unit_key(t, c, u) for t, c, u in zip(df["unit_type"], df["unit_code"], df["unit"])]
    df["value_role"] = df["value_role"].fillna("level")
    df["source"] = [duplicates.get(d, d) for d in df["doc_id"]]
    df["value"] = df["value"].astype(float).round(2)
    return df


def reconcile_figures(figures: pd.DataFrame, duplicates: dict[str, str] | None = None) -> pd.DataFrame:
    """Per unit, metric, value type, role and year: the consensus value (the value most sources
    give; the median on a tie), how many sources (near-duplicates count once) report it, and
    whether they disagree, with every value and its sources."""
    duplicates = duplicates or {}
    df = _figure_frame(figures, duplicates)
    rows = []
    for key, group in df.groupby(list(RECONCILE_KEY), sort=True, dropna=False):
        by_value: dict[float, set] = defaultdict(set)
        for v, src in zip(group["value"], group["source"]):
            by_value[float(v)].add(src)
        counts = Counter({v: len(s) for v, s in by_value.items()})
        top = max(counts.values())
        tied = sorted(v for v, n in counts.items() if n == top)
        consensus = tied[0] if len(tied) == 1 else float(pd.Series(
            [v for v, s in by_value.items() for _ in s]).median())
        first = group.iloc[0]
        rows.append({"unit": first["unit"], "unit_type": first["unit_type"], "province": first["province"],
                     "metric": key[1], "value_type": key[2], "year": int(key[4]), "consensus": consensus,
                     "sources": len(set(group["source"])), "distinct_values": len(by_value),
                     "conflict": len(by_value) > 1,
                     "values": " | ".join(f"{_value_text(v)} ← {', '.join(sorted(s))}"
                                          for v, s in sorted(by_value.items(), key=lambda kv: (-len(kv[1]), kv[0]))),
                     "unit_key": key[0], "_role": key[3]})
    out = pd.DataFrame(rows, columns=list(RECONCILED_COLUMNS) + ["_role"])
    out = out[out["_role"] != "neutral"].drop(columns="_role")
    out["year"] = out["year"].astype("Int64")
    return out.reset_index(drop=True)


DISAGREEMENT_COLUMNS = ("unit", "metric", "value_type", "year", "value", "consensus", "doc_id", "duplicate_of",
                        "title", "site", "published", "citation", "link", "text", "finding_id")


def figure_disagreements(figures: pd.DataFrame, duplicates: dict[str, str] | None = None) -> pd.DataFrame:
    """Every figure of a unit, metric and year on which sources disagree: each value with its source."""
    duplicates = duplicates or {}
    df = _figure_frame(figures, duplicates)
    rec = reconcile_figures(figures, duplicates)
    rec = rec[rec["conflict"]]
    if rec.empty:
        return pd.DataFrame(columns=list(DISAGREEMENT_COLUMNS))
    consensus = {(r.unit_key, r.metric, r.value_type, int(r.year)): r.consensus for r in rec.itertuples()}
    rows = []
    for r in df.to_dict("records"):
        k = (r["unit_key"], r["metric"], r["value_type"], int(r["year"]))
        if k in consensus and r["value_role"] != "neutral":
            rows.append({**r, "year": int(r["year"]), "consensus": consensus[k],
                         "duplicate_of": duplicates.get(r["doc_id"]), "citation": _cite(r),
                         "link": finding_link(r["doc_id"], r["finding_id"])})
    out = pd.DataFrame(rows, columns=list(DISAGREEMENT_COLUMNS))
    return out.sort_values(["unit", "metric", "year", "value", "doc_id"]).reset_index(drop=True)


def figure_sources(figures: pd.DataFrame, duplicates: dict[str, str] | None = None) -> pd.DataFrame:
    """`sources` (documents reporting the figure's unit, metric and year; near-duplicates once)
    and `conflict` (whether they give different values) for each figure row, by finding id;
    empty for figures that name no unit, year or value."""
    duplicates = duplicates or {}
    df = _figure_frame(figures, duplicates)
    rec = reconcile_figures(figures, duplicates)
    info = {(r.unit_key, r.metric, r.value_type, int(r.year)): (int(r.sources), bool(r.conflict), r.consensus)
            for r in rec.itertuples()}
    rows = []
    for r in df.itertuples():
        got = info.get((r.unit_key, r.metric, r.value_type, int(r.year)))
        if got and r.value_role != "neutral":
            rows.append({"finding_id": int(r.finding_id), "sources": got[0], "conflict": got[1],
                         "consensus": got[2]})
    out = pd.DataFrame(rows, columns=["finding_id", "sources", "conflict", "consensus"])
    return out


def figures_with_sources(conn: store.Connection) -> pd.DataFrame:
    """The figures table with each row's citation, `sources`, `conflict` and `consensus`."""
    figs = figures_table(conn)
    dups = store.duplicate_links(conn)
    extra = figure_sources(figs, dups)
    out = figs.merge(extra, on="finding_id", how="left")
    out["sources"] = out["sources"].astype("Int64")
    out["conflict"] = out["conflict"].astype("boolean")
    return out


def reconciled_figures(conn: store.Connection) -> pd.DataFrame:
    return reconcile_figures(figures_table(conn), store.duplicate_links(conn))


def disagreements(conn: store.Connection) -> pd.DataFrame:
    return figure_disagreements(figures_table(conn), store.duplicate_links(conn))


# --------------------------------------------------------------------------
# Why low: the units at the bottom of an index, with what was said about them
# --------------------------------------------------------------------------

RANK_GROUPS = {
    "province": "Tỉnh/TP · Provinces",
    "ministry": "Bộ, ngành · Ministries",
    "department": "Sở, ngành của một tỉnh · Departments of a province",
    "district": "Quận/huyện của một tỉnh · Districts of a province",
}
GROUPS_IN_PROVINCE = ("department", "district")
SESSION_TYPES = ("session report", "transcript")
STATEMENT_KINDS = ("weakness", "cause", "remedy")
RELATION_LABELS = {
    "about": "về đơn vị · about the unit",
    "said": "đơn vị nói · said by the unit",
    "asked": "đại biểu chất vấn · asked by a questioner",
    "answered": "trả lời chất vấn · answer to a question",
}
RANKING_COLUMNS = ("unit", "province", "rank", "rank_position", "rank_total", "score", "score_type", "sources",
                   "conflict", "unit_key")
WHY_LOW_COLUMNS = ("unit", "rank", "score", "kind", "subtype", "text", "relation", "speaker", "speaker_role",
                   "speaker_unit", "stance", "year", "citation", "link", "doc_id", "title", "site", "published",
                   "url", "sentence", "unit_key", "finding_id")


def ranking_options(conn: store.Connection) -> pd.DataFrame:
    """Which rankings the store can show: (metric, year, unit_type, province) with the number of
    units that have a rank or a score there (figures that name a unit and a year)."""
    figs = figures_table(conn)
    df = figs[figs["unit"].notna() & figs["year"].notna() & figs["unit_type"].isin(tuple(RANK_GROUPS))
              & figs["value_type"].isin(("rank", *COMPARABLE_VALUE_TYPES))
              & (figs["value_role"].fillna("level") == "level")]
    df = df.assign(unit_key=[unit_key(t, c, u) for t, c, u in zip(df["unit_type"], df["unit_code"], df["unit"])],
                   province=df["province"].fillna(""))
    out = (df.groupby(["metric", "year", "unit_type", "province"], as_index=False)
             .agg(units=("unit_key", "nunique")))
    out["year"] = out["year"].astype(int)
    return out.sort_values(["metric", "year", "unit_type", "province"]).reset_index(drop=True)


def ranking(conn: store.Connection, metric: str, year: int, unit_type: str,
            province: str | None = None) -> pd.DataFrame:
    """Every unit of a group (a level, and a province for departments and districts) with its
    rank and score for `metric` in `year`, as the sources agree on them (consensus)."""
    figs = figures_table(conn)
    dups = store.duplicate_links(conn)
    df = figs[(figs["metric"] == metric) & (figs["year"] == int(year)) & (figs["unit_type"] == unit_type)
              & figs["unit"].notna() & (figs["value_role"].fillna("level") == "level")]
    if province and unit_type in GROUPS_IN_PROVINCE:
        df = df[df["province"] == province]
    if df.empty:
        return pd.DataFrame(columns=list(RANKING_COLUMNS))
    rec = reconcile_figures(df, dups)
    keyed = df.assign(unit_key=[unit_key(t, c, u) for t, c, u in zip(df["unit_type"], df["unit_code"], df["unit"])])
    scores = rec[rec["value_type"].isin(COMPARABLE_VALUE_TYPES)]
    score_type = scores["value_type"].value_counts().idxmax() if not scores.empty else None
    totals = keyed["rank_total"].dropna()
    group_total = int(totals.max()) if len(totals) else None
    rows = []
    for key, group in keyed.groupby("unit_key", sort=False):
        ranks = rec[(rec["unit_key"] == key) & (rec["value_type"] == "rank")]
        sc = scores[(scores["unit_key"] == key) & (scores["value_type"] == score_type)]
        position = int(round(float(ranks["consensus"].iloc[0]))) if not ranks.empty else None
        total = group["rank_total"].dropna()
        total = int(total.max()) if len(total) else group_total
        last = (group["rank_direction"] == "bottom").any()
        if position is None and last and total:
            position = total
        rows.append({"unit": group["unit"].mode().iloc[0], "province": group["province"].iloc[0],
                     "rank": (f"{position}/{total}" if position and total else str(position) if position
                              else "cuối bảng · last" if last else ""),
                     "rank_position": position, "rank_total": total,
                     "score": float(sc["consensus"].iloc[0]) if not sc.empty else None,
                     "score_type": score_type if not sc.empty else None,
                     "sources": int(max(sc["sources"].max() if not sc.empty else 0,
                                        ranks["sources"].max() if not ranks.empty else 0,
                                        group["doc_id"].map(lambda d: dups.get(d, d)).nunique())),
                     "conflict": bool(sc["conflict"].any() or ranks["conflict"].any()),
                     "unit_key": key, "_last": last})
    out = pd.DataFrame(rows)
    out["_relative"] = [(p / t) if p and t else (1.0 if last else None)
                        for p, t, last in zip(out["rank_position"], out["rank_total"], out["_last"])]
    out = out.drop(columns="_last")
    for col in ("rank_position", "rank_total"):
        out[col] = out[col].astype("Int64")
    return out


def bottom_units(table: pd.DataFrame, by: str = "rank", n: int = 5) -> pd.DataFrame:
    """The `n` units at the bottom: by rank (last place first; units with no rank after those
    with one) or by score (lowest first; units with no score left out)."""
    if table.empty:
        return table.reindex(columns=list(RANKING_COLUMNS))
    if by == "score":
        df = table[table["score"].notna()].sort_values(["score", "unit"])
    else:
        df = table.assign(_has=table["_relative"].notna(), _rel=table["_relative"].fillna(-1.0),
                          _score=table["score"].fillna(float("inf")))
        df = df.sort_values(["_has", "_rel", "_score", "unit"], ascending=[False, False, True, True])
    return df.head(int(n))[list(RANKING_COLUMNS)].reset_index(drop=True)


def _extra(row: dict) -> dict:
    import json
    value = row.get("extra")
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value) if value else {}
    except ValueError:
        return {}


def _mentions(name: str, *texts) -> bool:
    folded = name.casefold()
    return any(isinstance(t, str) and folded in t.casefold() for t in texts)


def statements_for_unit(conn: store.Connection, key: str, name: str) -> list[tuple[str, dict]]:
    """(relation, finding) for every weakness, cause and remedy the unit stated, was said to have,
    was asked about by a questioner, or was answered about in a session."""
    kinds = ",".join(STATEMENT_KINDS)
    out: dict[int, tuple[str, dict]] = {}
    for r in store.findings(conn, FindingFilter(kind=kinds, unit_key=key)):
        out.setdefault(r["id"], ("about", r))
    for r in store.findings(conn, FindingFilter(kind=kinds, speaker_unit=name)):
        out.setdefault(r["id"], ("said", r))
    session = [r for t in SESSION_TYPES for r in store.findings(conn, FindingFilter(kind=kinds, doc_type=t))]
    asked = {(r["doc_id"], r["turn"]) for r in session if r["stance"] == "asking" and r["turn"] is not None
             and (unit_key(r["unit_type"], r["unit_code"], r["unit_name"] or r["unit"]) == key
                  or _mentions(name, r["speaker_role"], r["speaker_unit"]))}
    for r in session:
        if (r["doc_id"], r["turn"]) in asked:
            out.setdefault(r["id"], ("asked", r))
        elif (r["doc_id"], _extra(r).get("answers_turn")) in asked:
            out.setdefault(r["id"], ("answered", r))
    return list(out.values())


def why_low(conn: store.Connection, metric: str, year: int, unit_type: str, province: str | None = None,
            by: str = "rank", n: int = 5, years_after: int | None = 2) -> dict:
    """The bottom units of a ranking with every weakness, cause and remedy stated about them from
    the index year to `years_after` years later (None: any year), each with its citation and a
    link to its source sentence. Near-duplicate documents count once (their copies are left out);
    undated statements are left out of a year window and counted."""
    table = ranking(conn, metric, year, unit_type, province)
    bottom = bottom_units(table, by, n)
    dups = store.duplicate_links(conn)
    rows, undated, copies = [], 0, 0
    order = {k: i for i, k in enumerate(STATEMENT_KINDS)}
    for u in bottom.to_dict("records"):
        found = statements_for_unit(conn, u["unit_key"], u["unit"])
        found.sort(key=lambda rf: (order.get(rf[1]["kind"], 9), rf[1]["published"] or "", rf[1]["doc_id"],
                                   rf[1]["start"]))
        for relation, r in found:
            if r["doc_id"] in dups:
                copies += 1
                continue
            y = r["year"] or _year_of(r["published"])
            if years_after is not None:
                if y is None:
                    undated += 1
                    continue
                if not int(year) <= int(y) <= int(year) + int(years_after):
                    continue
            rows.append({"unit": u["unit"], "rank": u["rank"], "score": u["score"], "kind": r["kind"],
                         "subtype": r["subtype"], "text": r["text"], "relation": RELATION_LABELS[relation],
                         "speaker": r["speaker"], "speaker_role": r["speaker_role"],
                         "speaker_unit": r["speaker_unit"], "stance": STANCE_LABELS.get(r["stance"] or "", r["stance"]),
                         "year": y, "citation": _cite(r), "link": finding_link(r["doc_id"], r["id"]),
                         "doc_id": r["doc_id"], "title": r["title"], "site": r["site"], "published": r["published"],
                         "url": r["url"], "sentence": r["sentence"], "unit_key": u["unit_key"], "finding_id": r["id"]})
    findings = pd.DataFrame(rows, columns=list(WHY_LOW_COLUMNS))
    findings["year"] = findings["year"].astype("Int64")
    return {"ranking": table.reindex(columns=list(RANKING_COLUMNS)), "bottom": bottom, "findings": findings,
            "undated": undated, "copies": copies}


# --------------------------------------------------------------------------
# Sessions: questioning and supervision, who asked, who answered, what was promised
# --------------------------------------------------------------------------

SESSION_LIST_COLUMNS = ("doc_id", "title", "published", "site", "doc_type", "askers", "answerers", "questions",
                        "answers", "promises", "findings", "citation")
PARTICIPANT_COLUMNS = ("turn", "stance", "speaker", "speaker_role", "constituency", "answers_turn", "findings")
PAIR_COLUMNS = ("question_turn", "asker", "asker_role", "asker_constituency", "question", "answer_turn", "answerer",
                "answerer_role", "answerer_unit", "answer", "promises", "findings")
SESSION_FINDING_COLUMNS = ("turn", "stance", "speaker", "speaker_role", "speaker_unit", "kind", "subtype", "text",
                           "unit", "year", "answers_turn", "citation", "link", "sentence", "finding_id")
_DELEGATE = re.compile(r"^\s*(?:tổ\s+)?(?:đại biểu|đoàn đbqh|đb)\s+", re.IGNORECASE)


def constituency(speaker_unit: str | None, role: str | None) -> str:
    """Whom a speaker speaks for: the body they speak for, else their role's place ("đại biểu
    huyện X" → "huyện X"), without stray brackets."""
    if isinstance(speaker_unit, str) and speaker_unit.strip():
        return speaker_unit.strip()
    if not isinstance(role, str):
        return ""
    text = role.strip().strip("()").strip()
    if text.count("(") != text.count(")"):
        text = text.replace("(", "").replace(")", "")
    return _DELEGATE.sub("", text).strip() if _DELEGATE.match(text) else ""


def clean_role(role: str | None) -> str | None:
    """A role as shown: without an unbalanced bracket left over from a turn label."""
    if not isinstance(role, str):
        return role
    text = role.strip()
    if text.count("(") != text.count(")"):
        text = text.replace("(", "").replace(")", "").strip()
    return text


def _session_rows(conn: store.Connection, doc_id: str) -> list[dict]:
    rows = store.findings(conn, FindingFilter(doc_id=doc_id))
    for r in rows:
        r["answers_turn"] = _extra(r).get("answers_turn")
        r["speaker_role"] = clean_role(r["speaker_role"])
    return sorted(rows, key=lambda r: r["start"])


def _promises(rows: list[dict]) -> list[dict]:
    """Remedies an answering speaker (or, in a session without turns, anyone not asking) stated."""
    remedies = [r for r in rows if r["kind"] == "remedy"]
    if any(r["stance"] for r in rows):
        return [r for r in remedies if r["stance"] == "answering"]
    return remedies


def sessions_table(conn: store.Connection) -> pd.DataFrame:
    """Every questioning or supervision session document with who asked and answered and what
    was promised; near-duplicate copies are left out."""
    docs = [d for d in store.documents_summary(conn) if d["doc_type"] in SESSION_TYPES and d["status"] == "processed"
            and not d.get("duplicate_of")]
    out = []
    for d in docs:
        rows = _session_rows(conn, d["doc_id"])
        askers = {r["speaker"] for r in rows if r["stance"] == "asking" and r["speaker"]}
        answerers = {r["speaker"] for r in rows if r["stance"] == "answering" and r["speaker"]}
        out.append({"doc_id": d["doc_id"], "title": d["title"], "published": d["published"], "site": d["site"],
                    "doc_type": d["doc_type"], "askers": ", ".join(sorted(askers)),
                    "answerers": ", ".join(sorted(answerers)),
                    "questions": len({r["turn"] for r in rows if r["stance"] == "asking"}),
                    "answers": len({r["turn"] for r in rows if r["stance"] == "answering"}),
                    "promises": len(_promises(rows)), "findings": len(rows),
                    "citation": citation(d["title"], d["site"], d["published"], d["url"])})
    return pd.DataFrame(out, columns=list(SESSION_LIST_COLUMNS))


def session_view(conn: store.Connection, doc_id: str) -> dict | None:
    """One session: its citation, the speakers turn by turn, question → answer pairs with the
    findings in each, the promises made, and every finding with its turn."""
    doc = store.document(conn, doc_id)
    if doc is None:
        return None
    rows = _session_rows(conn, doc_id)
    cite = citation(doc.get("title"), doc.get("site"), doc.get("published"), doc.get("url"))
    findings = pd.DataFrame([{**r, "stance": STANCE_LABELS.get(r["stance"] or "", r["stance"]),
                              "unit": r["unit_name"] or r["unit"], "year": r["year"] or _year_of(r["published"]),
                              "citation": cite, "link": finding_link(doc_id, r["id"]), "finding_id": r["id"]}
                             for r in rows], columns=list(SESSION_FINDING_COLUMNS))
    for col in ("turn", "year", "answers_turn"):
        findings[col] = pd.array(findings[col], dtype="Int64")
    turns: dict[int, dict] = {}
    for r in rows:
        if r["turn"] is None:
            continue
        t = turns.setdefault(int(r["turn"]), {"turn": int(r["turn"]), "stance": r["stance"], "speaker": r["speaker"],
                                              "speaker_role": r["speaker_role"], "speaker_unit": r["speaker_unit"],
                                              "answers_turn": r["answers_turn"], "rows": []})
        t["rows"].append(r)
    participants = pd.DataFrame([{"turn": t["turn"], "stance": STANCE_LABELS.get(t["stance"] or "", t["stance"]),
                                  "speaker": t["speaker"], "speaker_role": t["speaker_role"],
                                  "constituency": constituency(t["speaker_unit"], t["speaker_role"]),
                                  "answers_turn": t["answers_turn"], "findings": len(t["rows"])}
                                 for t in sorted(turns.values(), key=lambda t: t["turn"])],
                                columns=list(PARTICIPANT_COLUMNS))
    participants["answers_turn"] = pd.array(participants["answers_turn"], dtype="Int64")

    def texts(t: dict | None, kinds=None) -> str:
        if not t:
            return ""
        return " · ".join(f"[{kind_short(r['kind'])}] {r['text']}" for r in t["rows"]
                          if kinds is None or r["kind"] in kinds)

    pairs = []
    questions = [t for t in sorted(turns.values(), key=lambda t: t["turn"]) if t["stance"] == "asking"]
    for q in questions:
        answers = [t for t in sorted(turns.values(), key=lambda t: t["turn"]) if t["answers_turn"] == q["turn"]]
        for a in answers or [None]:
            pairs.append({"question_turn": q["turn"], "asker": q["speaker"], "asker_role": q["speaker_role"],
                          "asker_constituency": constituency(q["speaker_unit"], q["speaker_role"]),
                          "question": texts(q), "answer_turn": a["turn"] if a else None,
                          "answerer": a["speaker"] if a else None, "answerer_role": a["speaker_role"] if a else None,
                          "answerer_unit": a["speaker_unit"] if a else None, "answer": texts(a),
                          "promises": texts(a, ("remedy",)),
                          "findings": len(q["rows"]) + (len(a["rows"]) if a else 0)})
    pairs_df = pd.DataFrame(pairs, columns=list(PAIR_COLUMNS))
    pairs_df["answer_turn"] = pd.array(pairs_df["answer_turn"], dtype="Int64")
    promise_ids = {r["id"] for r in _promises(rows)}
    promises = findings[findings["finding_id"].isin(promise_ids)].reset_index(drop=True)
    return {"doc": {"id": doc_id, "title": doc.get("title"), "published": doc.get("published"),
                    "site": doc.get("site"), "url": doc.get("url"), "doc_type": doc.get("doc_type"), "citation": cite},
            "participants": participants, "pairs": pairs_df, "promises": promises, "findings": findings}
