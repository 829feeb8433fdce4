"""Random rows of a store for readers to judge against their sources.

Quality on the real archive is measured by drawing exported rows with a fixed
seed and having someone who did not write the extractor judge each one against
its document. The draw takes rows of the default export (neutral figures left
out), so it judges what users see.
"""
from __future__ import annotations

import random
from pathlib import Path

from corpus import store
from corpus.export import CONTRACT_COLUMNS, EXTRA_COLUMNS, contract_rows, write_csv


def read_ids(path: Path) -> set[str]:
    """Document ids, one per line; blank lines and '#' comments ignored."""
    return {ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")}

JUDGE_COLUMNS = ("verdict", "note")


def draw(conn: store.Connection, kind: str, n: int, seed: int, exclude: set[str] = frozenset()) -> list[dict]:
    """`n` rows of the given kinds, drawn uniformly with `seed` (all of them when fewer), leaving
    out the documents in `exclude` (for instance those the models were trained on)."""
    rows = [r for r in contract_rows(conn, store.FindingFilter(kind=kind, with_neutral=False))
            if r["doc_id"] not in exclude]
    rng = random.Random(seed)
    picked = rng.sample(rows, min(n, len(rows)))
    return sorted(picked, key=lambda r: (r["doc_id"], r["start"]))


def write_sample(conn: store.Connection, rows: list[dict], out: Path) -> Path:
    """`rows.csv` (export columns plus empty verdict/note) and the source text of every row's document."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "docs").mkdir(exist_ok=True)
    for doc_id, (title, text) in store.document_texts(conn, [r["doc_id"] for r in rows]).items():
        (out / "docs" / f"{doc_id}.txt").write_text(f"{title}\n{text}", encoding="utf-8")
    numbered = [{"row": i + 1, **r} for i, r in enumerate(rows)]
    write_csv(numbered, out / "rows.csv", ("row",) + CONTRACT_COLUMNS + EXTRA_COLUMNS + JUDGE_COLUMNS)
    return out / "rows.csv"
