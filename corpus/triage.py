"""Triage: which articles get the full NLP, and why the rest are skipped.

A transparent weighted-term score (terms in corpus/data/relevance.tsv): it
must run near the speed of just reading the dump, where a few hundred of
35,000 articles concern administrative reform, and a researcher can read
exactly why an article was skipped.

Speed: most articles contain no term at all, and Python's regex engine tries
every alternative at every character. So the literal prefixes every match of
a term must start with are derived from the regexes themselves and found in
one Aho-Corasick pass (a compiled automaton, in Rust) over the lower-cased
text; the combined regex is then tried only at those positions, which gives
exactly the matches `finditer` would (same leftmost-first, non-overlapping
order), hence the same verdicts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from corpus.lexicons import table

try:
    import re._parser as _sre_parse  # Python >= 3.11
    from re._constants import (ASSERT, ASSERT_NOT, AT, BRANCH, IN, LITERAL, MAX_REPEAT,
                               MIN_REPEAT, SUBPATTERN)
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse  # type: ignore[no-redef]
    from sre_constants import (ASSERT, ASSERT_NOT, AT, BRANCH, IN, LITERAL,  # type: ignore[no-redef]
                               MAX_REPEAT, MIN_REPEAT, SUBPATTERN)

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
PREFIX_CHARS = 8      # literal prefixes are expanded up to this length ...
PREFIX_VARIANTS = 64  # ... and this many variants per term


@lru_cache(maxsize=1)
def _combined() -> tuple[re.Pattern, list[int]]:
    """One alternation with a group per term: the reference semantics (leftmost match, first term
    wins) over case-folded text (the terms are written in lower case)."""
    rows = table("corpus", "relevance.tsv")
    pattern = "|".join(f"(?P<t{i}>{p})" for i, (_, p) in enumerate(rows))
    return re.compile(pattern), [int(w) for w, _ in rows]


class _Open(Exception):
    """A pattern item whose matches have no finite set of literal starts."""


def _expand(items, limit: int = PREFIX_CHARS) -> tuple[set[str], bool]:
    """Strings every match of the parsed sequence `items` starts with; True when they are whole
    matches (so what follows may extend them), False when they are only prefixes."""
    out = {""}
    for op, av in items:
        if op in (AT, ASSERT, ASSERT_NOT):  # zero-width: checked by the regex at the candidate
            continue
        if op is LITERAL:
            alts, whole = {chr(av)}, True
        elif op is IN and all(o is LITERAL for o, _ in av):
            alts, whole = {chr(v) for _, v in av}, True
        elif op is SUBPATTERN:
            alts, whole = _expand(av[-1], limit)
        elif op is BRANCH:
            alts, whole = set(), True
            for branch in av[1]:
                a, w = _expand(branch, limit)
                alts |= a
                whole = whole and w
        elif op in (MAX_REPEAT, MIN_REPEAT) and av[1] == 1:  # x? (or x{1}): with or without it
            a, whole = _expand(av[2], limit)
            alts = a | ({""} if av[0] == 0 else set())
        else:
            if out == {""}:
                raise _Open(op)
            return out, False
        grown = {p + a for p in out for a in alts}
        if "" in grown and not whole:
            raise _Open(op)
        if len(grown) > PREFIX_VARIANTS:
            if out == {""}:
                raise _Open(op)
            return out, False
        out = grown
        if not whole or min(map(len, out)) >= limit:
            return out, False
    return out, True


def literal_prefixes(regex: str) -> set[str] | None:
    """Non-empty literal strings that every match of `regex` starts with; None when there are none
    (a match may start with a class, a wildcard or nothing)."""
    try:
        parsed = _sre_parse.parse(regex)
        if parsed.state.flags & re.IGNORECASE:  # literals would have to match in any case
            return None
        found, _ = _expand(parsed)
    except _Open:
        return None
    return None if "" in found else found


@lru_cache(maxsize=1)
def _automaton():
    """The Aho-Corasick automaton over every term's literal prefixes, or None (then `finditer`)."""
    rows = table("corpus", "relevance.tsv")
    prefixes: set[str] = set()
    for _, regex in rows:
        found = literal_prefixes(regex)
        if found is None:
            return None
        prefixes |= found
    try:
        import ahocorasick_rs
    except ImportError:  # a dependency; without it triage is slower, never different
        return None
    return ahocorasick_rs.AhoCorasick(sorted(prefixes), matchkind=ahocorasick_rs.MatchKind.Standard)


def _matches(low: str):
    """The combined pattern's matches in `low`, exactly as `finditer` yields them."""
    pattern, _ = _combined()
    automaton = _automaton()
    if automaton is None:
        yield from pattern.finditer(low)
        return
    try:
        hits = automaton.find_matches_as_indexes(low, overlapping=True)
    except UnicodeEncodeError:  # lone surrogates (from JSON escapes) cannot cross into Rust
        yield from pattern.finditer(low)
        return
    if not hits:
        return
    cursor = 0
    for start in sorted({s for _, s, _ in hits}):
        if start < cursor:
            continue  # inside the previous match: finditer resumes after it
        m = pattern.match(low, start)  # lookarounds and \b still see the text around `start`
        if m is not None:
            yield m
            cursor = m.end()


def _counts(text: str) -> dict[int, tuple[int, str]]:
    out: dict[int, tuple[int, str]] = {}
    for m in _matches(text.lower()):
        i = int(m.lastgroup[1:])
        n, first = out.get(i, (0, m.group(0)))
        out[i] = (n + 1, first)
    return out


def judge(title: str, text: str) -> Verdict:
    """Score = sum over terms of weight x mentions (capped); a term in the title counts double."""
    return verdict(_counts(text[:TEXT_WINDOW]), _counts(title or ""))


def verdict(body: dict[int, tuple[int, str]], head: dict[int, tuple[int, str]]) -> Verdict:
    """The verdict from term counts of the body and the title (however they were found)."""
    _, weights = _combined()
    score, found = 0, []
    for i in sorted(set(body) | set(head)):
        n = min(body.get(i, (0, ""))[0] + 2 * head.get(i, (0, ""))[0], MAX_COUNT)
        score += weights[i] * n
        found.append((head.get(i) or body.get(i))[1])
    return Verdict(score >= THRESHOLD, score, tuple(found))
