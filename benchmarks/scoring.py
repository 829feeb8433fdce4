"""The evaluation's own scorer (score.py beside the gold folders), for benchmark scripts."""
from __future__ import annotations

import csv
import importlib.util
import tempfile
from pathlib import Path


def load_scorer(gold_dir: Path):
    """score.py of the evaluation folder that holds `gold_dir` (…/eval/gold/<set>)."""
    spec = importlib.util.spec_from_file_location("score", Path(gold_dir).parents[1] / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def score_rows(scorer, rows: list[dict], gold_dir: Path) -> dict:
    """Score findings rows exactly as a findings CSV read back by score.py would be."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["doc_id", "kind", "unit", "value", "text"], extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    with open(fh.name, encoding="utf-8") as f:
        result = scorer.score(list(csv.DictReader(f)), Path(gold_dir))
    Path(fh.name).unlink()
    return result
