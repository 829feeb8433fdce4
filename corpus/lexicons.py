"""Reading the commented data files (lexicons) that hold domain knowledge."""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources


def _data_lines(package: str, name: str) -> list[str]:
    text = resources.files(package).joinpath("data", name).read_text(encoding="utf-8")
    return [line.rstrip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@lru_cache(maxsize=None)
def lines(package: str, name: str) -> tuple[str, ...]:
    """Non-comment lines of `package/data/name`."""
    return tuple(line.strip() for line in _data_lines(package, name))


@lru_cache(maxsize=None)
def table(package: str, name: str) -> tuple[tuple[str, ...], ...]:
    """Tab-separated rows of `package/data/name`."""
    return tuple(tuple(cell.strip() for cell in line.split("\t")) for line in _data_lines(package, name))


@lru_cache(maxsize=None)
def labelled_patterns(package: str, name: str) -> tuple[tuple[str, re.Pattern], ...]:
    """(label, case-insensitive pattern) rows of a `label<TAB>regex` file, in file order."""
    return tuple((label, re.compile(pattern, re.IGNORECASE)) for label, pattern in table(package, name))


@lru_cache(maxsize=None)
def regex_union(package: str, name: str, whole_line: bool = False) -> re.Pattern:
    """One case-insensitive pattern matching any regex line of the file."""
    parts = [f"(?:{p})" for p in lines(package, name)]
    body = "|".join(parts) or r"(?!x)x"
    if whole_line:
        body = rf"^(?:{body})$"
    return re.compile(body, re.IGNORECASE)
