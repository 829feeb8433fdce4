"""What a search question asks for: causes, remedies, or nothing in particular.

Search ranks the finding kinds that answer the question first ("nguyên nhân chỉ số thấp" wants
causes, not the figures that share its words). The cue words and the kinds of each intent are
data (nlp/data/query_cues.tsv, query_intents.tsv), so a reader can extend them without code.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from corpus.lexicons import table
from corpus.records import KINDS


class IntentDataError(ValueError):
    """query_intents.tsv or query_cues.tsv names an unknown intent or finding kind."""


@dataclass(frozen=True)
class Intent:
    """The intents a question shows, leading one first, and the kinds to rank first, best first."""
    names: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.names)


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


@lru_cache(maxsize=1)
def _intents() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for row in table("nlp", "query_intents.tsv"):
        if len(row) != 2:
            raise IntentDataError(f"query_intents.tsv: expected 'intent<TAB>kinds', got {row!r}")
        kinds = tuple(k.strip() for k in row[1].split(",") if k.strip())
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise IntentDataError(f"query_intents.tsv: intent {row[0]!r} names unknown kinds {unknown}; "
                                  f"use {', '.join(KINDS)}")
        out[row[0]] = kinds
    return out


@lru_cache(maxsize=1)
def _cues() -> tuple[tuple[str, re.Pattern], ...]:
    intents = _intents()
    out = []
    for row in table("nlp", "query_cues.tsv"):
        if len(row) != 2 or row[0] not in intents:
            raise IntentDataError(f"query_cues.tsv: {row!r} is not 'intent<TAB>cue' with an intent of "
                                  f"query_intents.tsv ({', '.join(intents)})")
        words = r"\s+".join(re.escape(w) for w in _fold(row[1]).split())
        out.append((row[0], re.compile(rf"(?<!\w){words}(?!\w)")))
    return tuple(out)


def query_intent(query: str) -> Intent:
    """The intents whose cue words occur in `query` (earliest cue first) and the finding kinds
    they rank first; an empty Intent for a question that shows none."""
    text = _fold(query)
    first: dict[str, int] = {}
    for name, pattern in _cues():
        m = pattern.search(text)
        if m and m.start() < first.get(name, len(text) + 1):
            first[name] = m.start()
    names = tuple(sorted(first, key=first.get))
    kinds: list[str] = []
    for name in names:
        kinds += [k for k in _intents()[name] if k not in kinds]
    return Intent(names, tuple(kinds))
