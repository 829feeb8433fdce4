"""Triage: which articles get the full NLP, and why the rest are skipped.

A transparent weighted-term score (terms in corpus/data/relevance.tsv): it
must run at thousands of articles per second over a news dump where a few
hundred of 35,000 articles concern administrative reform, and a researcher
can read exactly why an article was skipped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from corpus.lexicons import table

THRESHOLD = 4
TEXT_WINDOW = 20_000  # characters of body text scored; long texts are judged on their start


@dataclass(frozen=True)
class Verdict:
    relevant: bool
    score: int
    terms: tuple[str, ...]

    @property
    def reason(self) -> str:
        if self.relevant:
            return ""
        found = ", ".join(self.terms) if self.terms else "no administrative-reform terms"
        return f"not about administrative reform (score {self.score} < {THRESHOLD}; {found})"


MAX_COUNT = 3  # repeated mentions count, up to this many per term


@lru_cache(maxsize=1)
def _combined() -> tuple[re.Pattern, list[int]]:
    """One alternation with a group per term: a single pass over case-folded text (the terms are
    written in lower case, and lower-casing the text first is twice as fast as IGNORECASE)."""
    rows = table("corpus", "relevance.tsv")
    pattern = "|".join(f"(?P<t{i}>{p})" for i, (_, p) in enumerate(rows))
    return re.compile(pattern), [int(w) for w, _ in rows]


def _counts(text: str) -> dict[int, tuple[int, str]]:
    pattern, _ = _combined()
    out: dict[int, tuple[int, str]] = {}
    for m in pattern.finditer(text.lower()):
        i = int(m.lastgroup[1:])
        n, first = out.get(i, (0, m.group(0).lower()))
        out[i] = (n + 1, first)
    return out


def judge(title: str, text: str) -> Verdict:
    """Score = sum over terms of weight x mentions (capped); a term in the title counts double."""
    _, weights = _combined()
    body, head = _counts(text[:TEXT_WINDOW]), _counts(title or "")
    score, found = 0, []
    for i in sorted(set(body) | set(head)):
        n = min(body.get(i, (0, ""))[0] + 2 * head.get(i, (0, ""))[0], MAX_COUNT)
        score += weights[i] * n
        found.append((head.get(i) or body.get(i))[1])
    return Verdict(score >= THRESHOLD, score, tuple(found))
