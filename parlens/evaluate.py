"""`parlens eval`: ingest the gold's documents into a temporary store and score them.

Scoring follows the shared scorer's rules exactly (it is imported when
available beside the gold, so both print the same numbers).
"""
from __future__ import annotations

import csv
import importlib.util
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from corpus import store
from corpus.export import export_findings


class EvalError(Exception):
    pass


@dataclass
class EvalResult:
    scores: dict
    report: str


ROOT = Path(__file__).resolve().parents[1]
SHARED_SCORER = ROOT.parent / "shared" / "eval" / "score.py"


def _load_scorer(gold_dir: Path):
    """The shared scorer beside the gold, else the one in ../shared/eval (for the team's own gold sets)."""
    for candidate in (gold_dir / "score.py", gold_dir.parent / "score.py", gold_dir.parent.parent / "score.py",
                      SHARED_SCORER):
        if candidate.exists():
            spec = importlib.util.spec_from_file_location("parlens_gold_scorer", candidate)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise EvalError(f"{gold_dir}: no score.py found beside the gold files or in {SHARED_SCORER.parent}")


def evaluate(gold_dir: Path, text_dir: Path, verbose: bool = False, keep_csv: Path | None = None,
             embed: bool = False) -> EvalResult:
    from corpus.ingest import ingest
    from parlens.service import make_analyser

    gold_dir, text_dir = Path(gold_dir), Path(text_dir)
    golds = sorted(gold_dir.glob("*.json"))
    if not golds:
        raise EvalError(f"{gold_dir}: no gold .json files")
    docs = []
    for g in golds:
        name = json.loads(g.read_text(encoding="utf-8")).get("doc") or g.stem + ".txt"
        path = text_dir / name
        if not path.exists():
            raise EvalError(f"{path}: gold document not found in {text_dir}")
        docs.append(path)
    scorer = _load_scorer(gold_dir)
    with tempfile.TemporaryDirectory() as tmp:
        conn = store.connect(Path(tmp) / "eval.sqlite")
        analyse, version = make_analyser(embed=embed)
        ingest(docs, conn, analyse, version, progress=False, triage=False)
        out = keep_csv or Path(tmp) / "findings.csv"
        export_findings(conn, out)  # the default export, exactly what a user scores
        with open(out, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        conn.close()
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        res = scorer.score(rows, gold_dir, verbose)
    lines = [buf.getvalue().rstrip()] if verbose else []
    for key in ("figures", "problems", "remedies"):
        r = res[key]
        lines.append(f"{key:9s} P={r['precision']:.3f} R={r['recall']:.3f} F1={r['f1']:.3f} "
                     f"(tp={r['tp']} fp={r['fp']} fn={r['fn']})")
    lines.append(f"figure metric acc={res['figure_metric_accuracy']} year acc={res['figure_year_accuracy']} "
                 f"statement unit acc={res['statement_unit_accuracy']} docs={res['documents']}")
    if res.get("statement_speaker_accuracy") is not None:
        lines.append(f"statement speaker acc={res['statement_speaker_accuracy']} "
                     f"stance acc={res['statement_stance_accuracy']}")
    return EvalResult(scores=res, report="\n".join(l for l in lines if l))
