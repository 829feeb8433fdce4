"""Removing page furniture (counters, menus, widgets) from scraped articles."""
from __future__ import annotations

from corpus.lexicons import regex_union
from corpus.normalize import normalize_text, tidy_lines


def is_boilerplate(line: str) -> bool:
    """True for a whole line of page furniture, by the patterns in data/boilerplate.patterns."""
    stripped = line.strip().strip("•·-*|").strip()
    if not stripped:
        return False
    return bool(regex_union("corpus", "boilerplate.patterns", whole_line=True).match(stripped))


def drop_boilerplate(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not is_boilerplate(line))


def clean_text(text: str) -> str:
    """Normalise, then drop boilerplate lines; the result is what gets stored."""
    return tidy_lines(drop_boilerplate(normalize_text(text)))
