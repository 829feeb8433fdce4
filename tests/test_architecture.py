"""The one-way architecture, checked on the source: records at the bottom, reading and the
store below the NLP, orchestration and the explorer on top, SQL only in the store.

Every import counts, including those inside functions (a lazy import is still a dependency).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("corpus", "nlp", "parlens", "app")

READING = ("corpus.reader", "corpus.clean", "corpus.metadata", "corpus.triage", "corpus.dedup",
           "corpus.normalize", "corpus.lexicons")
STORE = ("corpus.store", "corpus.export")
EXPLORER = ("parlens.appstate", "parlens.views", "parlens.pages", "parlens.browser", "app")

# (modules the rule is about, prefixes they must never import, why)
RULES = [
    (("corpus.records",), ("corpus.", "nlp", "parlens", "app"), "records import nothing of the project"),
    (READING, ("nlp", "parlens", "corpus.store", "corpus.export", "corpus.ingest"),
     "reading, cleaning, triage and dedup never import the NLP, the store or the jobs"),
    (STORE, ("nlp", "parlens", "corpus.ingest") + READING, "the store knows only records"),
    (("corpus.ingest",), ("nlp", "parlens"), "ingest gets its analyser passed in"),
    (("nlp",), ("corpus.store", "corpus.export", "corpus.ingest", "corpus.dedup", "parlens"),
     "the NLP produces records and never touches a connection"),
    (("parlens.service", "parlens.cli", "parlens.evaluate", "parlens.sample"),
     EXPLORER, "the jobs never import the explorer"),   # (parlens.bench measures all of it, the explorer too)
]
SQL_MODULE = "corpus.store"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports_of(source: str, module: str) -> set[str]:
    """Every module a source imports (absolute names; relative imports resolved against `module`)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".")[: -node.level] if module else []
                base = ".".join(pkg + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p.rstrip(".") or name.startswith(p if p.endswith(".") else p + ".") for p in prefixes)


def violations(module: str, imported: set[str]) -> list[str]:
    found = []
    for subjects, forbidden, why in RULES:
        if not _within(module, subjects):
            continue
        for name in sorted(imported):
            if _within(name, forbidden) and not _within(name, (module,)):
                if subjects == ("corpus.records",) or not _within(name, subjects):
                    found.append(f"{module} imports {name}: {why}")
    if "sqlite3" in imported and not _within(module, (SQL_MODULE,)):
        found.append(f"{module} imports sqlite3: only {SQL_MODULE} speaks SQL")
    return found


def project_modules() -> list[tuple[str, Path]]:
    paths = [ROOT / "app.py"] + [p for pkg in PROJECT[:-1] for p in (ROOT / pkg).rglob("*.py")]
    return sorted((module_name(p), p) for p in paths)


def test_every_import_runs_one_way_and_sql_stays_in_the_store():
    problems = []
    for module, path in project_modules():
        problems += violations(module, imports_of(path.read_text(encoding="utf-8"), module))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module,source,expected", [
    ("nlp.figures", "def f():\n    from corpus.store import connect\n", "never touches a connection"),
    ("nlp.speakers", "import sqlite3\n", "only corpus.store speaks SQL"),
    ("corpus.triage", "from nlp.segment import text_of\n", "never import the NLP"),
    ("corpus.records", "from corpus.normalize import fold\n", "import nothing of the project"),
    ("corpus.store.findings", "from nlp.units import gazetteer\n", "knows only records"),
    ("parlens.service", "from parlens import views\n", "never import the explorer"),
    ("corpus.export", "from .ingest import ingest\n", "knows only records"),
])
def test_the_check_catches_an_import_against_the_direction(module, source, expected):
    found = violations(module, imports_of(source, module))
    assert any(expected in v for v in found), found


def test_allowed_imports_pass_the_check():
    assert violations("nlp.statements", imports_of("from corpus.records import Finding\n", "nlp.statements")) == []
    assert violations("corpus.store.documents", imports_of("import sqlite3\nfrom corpus.records import Analysis\n",
                                                           "corpus.store.documents")) == []
    assert violations("parlens.views", imports_of("from corpus import store\n", "parlens.views")) == []
