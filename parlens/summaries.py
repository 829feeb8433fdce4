"""The summaries job: per-unit counts, place and latest PAR Index figure, built once after an
ingest so the units page and the map read one small table instead of every finding."""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Callable, Iterable

from corpus import store
from corpus.store import unit_key

COMPARABLE_VALUE_TYPES = ("percent", "score")
Place = Callable[[str | None, str | None], tuple[float, float] | None]


def summarise_units(mentions: Iterable[dict], par_figures: Iterable[dict], place: Place) -> list[dict]:
    """One summary per unit key: its commonest written name, identity, findings per kind,
    documents, place (territorial units the gazetteer locates) and latest comparable PAR figure."""
    names: dict[str, Counter] = defaultdict(Counter)
    info: dict[str, dict] = {}
    counts: dict[str, Counter] = defaultdict(Counter)
    docs: dict[str, set] = defaultdict(set)
    for r in mentions:
        key = unit_key(r["unit_type"], r["unit_code"], r["unit"])
        names[key][r["unit"]] += 1
        info.setdefault(key, {"unit_type": r["unit_type"], "province": r["province"], "unit_code": r["unit_code"]})
        counts[key][r["kind"]] += 1
        docs[key].add(r["doc_id"])
    latest: dict[str, tuple[int, float]] = {}
    for r in sorted(par_figures, key=lambda r: (r["year"], r["id"])):
        if r["value_type"] in COMPARABLE_VALUE_TYPES:
            latest[unit_key(r["unit_type"], r["unit_code"], None)] = (int(r["year"]), float(r["value"]))
    out = []
    for key, c in counts.items():
        where = place(info[key]["unit_type"], info[key]["unit_code"]) if info[key]["unit_code"] else None
        year, value = latest.get(key, (None, None))
        out.append({"unit_key": key, "unit": names[key].most_common(1)[0][0], **info[key], "counts": dict(c),
                    "documents": len(docs[key]), "lat": where[0] if where else None,
                    "lon": where[1] if where else None, "par_value": value, "par_year": year})
    return out


def gazetteer_place(gazetteer=None) -> Place:
    """(lat, lon) of an administrative unit by level and official code, from the gazetteer."""
    if gazetteer is None:
        from nlp.units import gazetteer as load
        gazetteer = load()

    def place(unit_type, unit_code):
        admin = gazetteer.by_code.get((unit_type, unit_code))
        if admin is None or admin.lat is None or admin.lon is None:
            return None
        return float(admin.lat), float(admin.lon)
    return place


def build(conn: store.Connection, gazetteer=None) -> list[dict]:
    """The summaries of a store's findings as they are now."""
    return summarise_units(store.unit_mentions(conn), store.par_index_figures(conn), gazetteer_place(gazetteer))


def rebuild_unit_summaries(conn: store.Connection, gazetteer=None) -> int:
    """The summaries job: build and store; returns the number of units."""
    rows = build(conn, gazetteer)
    store.save_unit_summaries(conn, rows)
    return len(rows)


def current(conn: store.Connection, gazetteer=None) -> list[dict]:
    """The stored summaries when they are up to date, else built on the spot (a store from an
    older ParLens, or one a reader opened before the job ran)."""
    return build(conn, gazetteer) if store.unit_summaries_stale(conn) else store.unit_summaries(conn)
