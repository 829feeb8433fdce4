"""How much the scope gates add (issue #12, item 4): document triage and a paragraph-level gate.

    python benchmarks/scope_gates.py GOLD_DIR TEXT_DIR [--window 2] [--min-score 2]

Extracts every document with triage off (as `parlens eval` does), then scores the statement rows
(problems = weakness + cause, remedies) with the evaluation's scorer four ways: no gate; only
documents the triage would analyse; only statements whose neighbourhood (the sentence and
`window` sentences either side) scores at least `min-score` on the triage lexicon; both.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scoring import load_scorer, score_rows  # noqa: E402


def extract(text_dir: Path) -> tuple[list[dict], dict[str, tuple[str, str]]]:
    from corpus import store
    from corpus.export import contract_rows
    from corpus.ingest import ingest
    from parlens.service import make_analyser

    with tempfile.TemporaryDirectory() as tmp:
        conn = store.connect(Path(tmp) / "s.sqlite")
        analyse, version = make_analyser(embed=False)
        ingest([text_dir], conn, analyse, version, progress=False, triage=False)
        rows = contract_rows(conn, store.FindingFilter(kind="weakness,cause,remedy"))
        texts = store.document_texts(conn, sorted({r["doc_id"] for r in rows}))
        conn.close()
    return rows, texts


def neighbourhood(text: str, start: int, window: int) -> str:
    from nlp.segment import split_sentences

    sents = split_sentences(text)
    at = next((i for i, (s, e) in enumerate(sents) if s <= start < e), 0)
    lo, hi = max(0, at - window), min(len(sents), at + window + 1)
    return text[sents[lo][0]:sents[hi - 1][1]] if sents else text


def main(argv=None) -> int:
    from corpus.triage import judge

    p = argparse.ArgumentParser()
    p.add_argument("gold_dir")
    p.add_argument("text_dir")
    p.add_argument("--window", type=int, default=2)
    p.add_argument("--min-score", type=int, default=2)
    args = p.parse_args(argv)
    gold_dir = Path(args.gold_dir)
    scorer = load_scorer(gold_dir)
    rows, texts = extract(Path(args.text_dir))
    relevant_doc = {d: judge(title, text).relevant for d, (title, text) in texts.items()}
    in_scope = [judge("", neighbourhood(texts[r["doc_id"]][1], r["start"], args.window)).score >= args.min_score
                for r in rows]
    variants = {
        "no gate": [True] * len(rows),
        "document triage": [relevant_doc[r["doc_id"]] for r in rows],
        f"paragraph gate (±{args.window} sentences, score ≥ {args.min_score})": in_scope,
    }
    variants["both"] = [a and b for a, b in zip(variants["document triage"], in_scope)]
    print(f"{len(rows)} statement rows from {len(texts)} documents; "
          f"{sum(not v for v in relevant_doc.values())} documents the triage would skip\n")
    print("| gate | rows kept | problems P / R / F1 | remedies P / R / F1 |")
    print("| --- | --- | --- | --- |")
    for name, keep in variants.items():
        kept = [r for r, k in zip(rows, keep) if k]
        res = score_rows(scorer, kept, gold_dir)
        cells = [f"{res[k]['precision']:.3f} / {res[k]['recall']:.3f} / **{res[k]['f1']:.3f}**"
                 for k in ("problems", "remedies")]
        print(f"| {name} | {len(kept)} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
