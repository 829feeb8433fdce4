"""The records that cross stages: documents, findings (with their kinds) and analyses.

This module is the bottom of the project: it imports nothing of ParLens, so
reading, the store, the NLP and the explorer can all share these types
without importing each other. Finding kinds are declared here once; the store,
export, search, themes, CLI and explorer read their names, labels, colours and
fields from ``KINDS``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Kind:
    """A kind of finding and how every part of ParLens presents it."""
    name: str                      # stored in findings.kind
    label: str                     # "Hạn chế · Weakness": filters, legends, headings
    short: str                     # "Hạn chế": badges and chips
    plural: str                    # count column in tables ("weaknesses")
    colour: str                    # highlight underline / chip colour
    background: str                # highlight background
    fields: tuple[str, ...] = ()   # Finding fields this kind fills beyond text, unit and offsets
    theme_group: str | None = None  # the themes this kind's statements are grouped into (by meaning)


STATEMENT_FIELDS = ("subtype", "speaker", "speaker_role", "speaker_unit", "stance", "turn", "year")
FIGURE_FIELDS = ("metric", "value", "value_type", "value_role", "year", "rank_position", "rank_total",
                 "rank_direction")

KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("figure", "Số liệu · Figure", "Số liệu", "figures", "#f59e0b", "#fef3c7", FIGURE_FIELDS),
    Kind("weakness", "Hạn chế · Weakness", "Hạn chế", "weaknesses", "#ef4444", "#fee2e2", STATEMENT_FIELDS,
         theme_group="weakness"),
    Kind("cause", "Nguyên nhân · Cause", "Nguyên nhân", "causes", "#f97316", "#ffedd5", STATEMENT_FIELDS,
         theme_group="weakness"),
    Kind("remedy", "Giải pháp · Remedy", "Giải pháp", "remedies", "#10b981", "#d1fae5", STATEMENT_FIELDS,
         theme_group="remedy"),
)}
# Names a user may give for several kinds at once.
ALIASES: dict[str, tuple[str, ...]] = {"problem": ("weakness", "cause")}
ALIAS_LABELS: dict[str, str] = {"problem": "Hạn chế & nguyên nhân · Problems"}


def register_kind(kind: Kind) -> Kind:
    """Declare a new finding kind (its extractor then emits Findings of `kind.name`)."""
    if kind.name in ALIASES:
        raise ValueError(f"{kind.name!r} is already an alias of {', '.join(ALIASES[kind.name])}")
    KINDS[kind.name] = kind
    return kind


def kind_names() -> tuple[str, ...]:
    return tuple(KINDS)


def theme_groups() -> dict[str, tuple[str, ...]]:
    """{theme kind: the finding kinds grouped under it}, e.g. weakness themes hold causes too."""
    groups: dict[str, tuple[str, ...]] = {}
    for k in KINDS.values():
        if k.theme_group:
            groups[k.theme_group] = groups.get(k.theme_group, ()) + (k.name,)
    return groups


def expand_kinds(kind: str | None) -> list[str]:
    """Kinds named in a comma list (an alias such as "problem" stands for several);
    unknown names are refused with the list of known ones."""
    if not kind:
        return []
    out: list[str] = []
    for name in (k.strip().lower() for k in kind.split(",") if k.strip()):
        if name in ALIASES:
            out += ALIASES[name]
        elif name in KINDS:
            out.append(name)
        else:
            raise ValueError(f"unknown kind {name!r}: use {', '.join(tuple(KINDS) + tuple(ALIASES))}")
    return list(dict.fromkeys(out))


def kind_label(name: str | None) -> str:
    if name in KINDS:
        return KINDS[name].label
    return ALIAS_LABELS.get(name or "", name or "")


@dataclass
class Finding:
    """One extracted fact, with offsets into its document's stored text."""
    kind: str
    text: str
    start: int
    end: int
    unit: str | None = None          # as the text names it
    unit_name: str | None = None     # normalised name, shared by every way of writing it
    unit_code: str | None = None
    province: str | None = None
    unit_type: str | None = None
    subtype: str | None = None
    metric: str | None = None
    value: float | None = None
    value_type: str | None = None
    value_role: str | None = None    # figures: level | target | change | share | range_low | range_high | neutral
    year: int | None = None
    rank_position: int | None = None
    rank_total: int | None = None
    rank_direction: str | None = None
    speaker: str | None = None
    speaker_role: str | None = None
    speaker_unit: str | None = None
    stance: str | None = None
    turn: int | None = None
    sent_start: int | None = None
    sent_end: int | None = None
    confidence: float | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Entity:
    label: str
    start: int
    end: int
    text: str
    norm: str | None = None
    code: str | None = None
    province: str | None = None


@dataclass
class DocumentRecord:
    id: str
    text: str
    content_hash: str
    title: str = ""
    published: str | None = None
    site: str | None = None
    doc_type: str = "news article"
    source: str | None = None
    url: str | None = None
    status: str = "processed"
    skip_reason: str | None = None
    duplicate_of: str | None = None


@dataclass
class Analysis:
    """Everything derived from one document, written together."""
    sentences: list[tuple[int, int]] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    embeddings: np.ndarray | None = None  # one row per finding, or None
    model: str | None = None
    signature: bytes | None = None        # MinHash of the text, for near-duplicate detection
    notes: list[str] = field(default_factory=list)  # why the analysis was bounded


@dataclass
class Analysed:
    """What the map step of ingest returns for one document: the reduce step stores it.

    `status` is "processed" or "skipped" (with `record` and `analysis`),
    "unchanged" (stored already with this content), or "failed" (`error` says why).
    """
    status: str
    record: DocumentRecord | None = None
    analysis: Analysis | None = None
    error: str | None = None
