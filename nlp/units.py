"""Official administrative units (before the 2025 reorganisation) and name resolution.

The table is vietnamadminunits' LEGACY dataset (63 provinces, ~700 districts,
~10,000 communes). Many district and commune names repeat across provinces
("huyện Châu Thành" exists ten times), so resolution takes the document's
context: the provinces and districts it names unambiguously. A name that
stays ambiguous or unknown is returned unresolved rather than guessed.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from corpus.normalize import fold

LEVELS = ("province", "district", "ward")


@dataclass(frozen=True)
class AdminUnit:
    code: str
    name: str            # official full name, "Quận Hai Bà Trưng"
    short: str           # "Hai Bà Trưng"
    level: str           # province | district | ward
    type: str            # Tỉnh, Thành phố, Quận, Huyện, Thị xã, Phường, Xã, Thị trấn
    province: str        # "Thành phố Hà Nội"
    province_code: str
    district: str | None = None
    district_code: str | None = None
    lat: float | None = None
    lon: float | None = None

    @property
    def display(self) -> str:
        """How the text would name it: "huyện Ứng Hòa", "TP. Hà Nội" -> "thành phố Hà Nội"."""
        return f"{self.type.lower()} {self.short}"


def _key(name: str) -> str:
    return fold(name).replace(" ", "")


class Gazetteer:
    """Lookup by folded short name (and the package's aliases) per level."""

    def __init__(self, units: list[AdminUnit], aliases: dict[tuple[str, str], list[AdminUnit]] | None = None):
        self.units = units
        self._by_key: dict[tuple[str, str], list[AdminUnit]] = {}
        for unit in units:
            self._by_key.setdefault((unit.level, _key(unit.short)), []).append(unit)
        for key, items in (aliases or {}).items():
            bucket = self._by_key.setdefault(key, [])
            bucket.extend(u for u in items if u not in bucket)
        self.by_code = {(u.level, u.code): u for u in units}

    @classmethod
    def load(cls) -> "Gazetteer":
        """Read through the package's own query function (the dataset ships as its database)."""
        from vietnamadminunits.database import query

        columns = ("province, provinceShort, provinceCode, provinceLat, provinceLon, provinceKeywords, "
                   "district, districtShort, districtType, districtCode, districtLat, districtLon, districtKeywords, "
                   "ward, wardShort, wardType, wardCode, wardLat, wardLon")
        rows = [tuple(r.values()) for r in query(f"SELECT {columns} FROM admin_units_legacy")]
        units: dict[tuple[str, str], AdminUnit] = {}
        aliases: dict[tuple[str, str], list[AdminUnit]] = {}
        for (prov, prov_short, prov_code, plat, plon, prov_kw, dist, dist_short, dist_type, dist_code, dlat, dlon,
             dist_kw, ward, ward_short, ward_type, ward_code, wlat, wlon) in rows:
            ptype = prov.split(" " + prov_short)[0] if prov.endswith(prov_short) else "Tỉnh"
            p = units.setdefault(("province", prov_code), AdminUnit(
                prov_code, prov, prov_short, "province", ptype, prov, prov_code, lat=plat, lon=plon))
            for kw in json.loads(prov_kw or "[]"):
                bucket = aliases.setdefault(("province", kw), [])
                if p not in bucket:
                    bucket.append(p)
            if dist_code:
                units.setdefault(("district", dist_code), AdminUnit(
                    dist_code, dist, dist_short, "district", dist_type, prov, prov_code, dist, dist_code, dlat, dlon))
            if ward_code and ward_short:
                units.setdefault(("ward", ward_code), AdminUnit(
                    ward_code, ward, ward_short, "ward", ward_type or "Xã", prov, prov_code, dist, dist_code, wlat, wlon))
        return cls(list(units.values()), aliases)

    def candidates(self, name: str, level: str | None = None, unit_type: str | None = None) -> list[AdminUnit]:
        key = _key(name)
        levels = [level] if level in LEVELS else list(LEVELS)
        found = [u for lv in levels for u in self._by_key.get((lv, key), [])]
        # Units change type over the years (huyện -> thị xã -> quận); the type
        # word only narrows the choice when some candidate still carries it.
        typed = [u for u in found if unit_type and u.type == unit_type]
        return typed or found

    def is_province(self, name: str) -> bool:
        return bool(self._by_key.get(("province", _key(name))))


@dataclass
class Context:
    """Votes for provinces and districts named in one document."""
    provinces: Counter
    districts: Counter

    @classmethod
    def empty(cls) -> "Context":
        return cls(Counter(), Counter())

    def add(self, unit: AdminUnit) -> None:
        self.provinces[unit.province_code] += 1
        if unit.level == "district":
            self.districts[unit.code] += 1
        elif unit.district_code:
            self.districts[unit.district_code] += 1

    @property
    def main_province(self) -> str | None:
        if not self.provinces:
            return None
        (code, n), *rest = self.provinces.most_common(2) + [(None, 0)]
        return code if n > rest[0][1] else None


def choose(candidates: list[AdminUnit], context: Context) -> AdminUnit | None:
    """The one candidate the context supports; None while it stays ambiguous."""
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return None
    def score(u: AdminUnit) -> tuple[int, int]:
        d = context.districts.get(u.district_code or "", 0) if u.level == "ward" else 0
        return (d, context.provinces.get(u.province_code, 0))
    ranked = sorted(candidates, key=score, reverse=True)
    if score(ranked[0]) > score(ranked[1]) and score(ranked[0]) > (0, 0):
        return ranked[0]
    return None


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return Gazetteer.load()
