"""`parlens eval` scores exactly what `parlens export` (the default export) gives the shared scorer."""
from __future__ import annotations

import csv
import importlib.util

import pytest

from conftest import GOLD, SEEDS, SHARED


def _scorer():
    path = SHARED / "eval" / "score.py"
    if not path.exists():
        pytest.skip("../shared/eval/score.py is not present")
    spec = importlib.util.spec_from_file_location("shared_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eval_equals_scoring_the_default_export(tmp_path, seed_store):
    from corpus import store
    from corpus.export import export_findings
    from parlens.evaluate import evaluate

    scorer = _scorer()
    out = tmp_path / "export.csv"
    with store.connect(seed_store, readonly=True) as conn:
        export_findings(conn, out)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        exported = scorer.score(list(csv.DictReader(fh)), GOLD)
    result = evaluate(GOLD, SEEDS)
    for key in ("figures", "problems", "remedies"):
        assert result.scores[key] == exported[key], key
    assert result.scores["figure_metric_accuracy"] == exported["figure_metric_accuracy"]
    assert result.scores["statement_unit_accuracy"] == exported["statement_unit_accuracy"]


def test_eval_csv_has_no_neutral_figures(tmp_path):
    from parlens.evaluate import evaluate

    _scorer()
    kept = tmp_path / "kept.csv"
    evaluate(GOLD, SEEDS, keep_csv=kept)
    with open(kept, encoding="utf-8-sig", newline="") as fh:
        figures = [r for r in csv.DictReader(fh) if r["kind"] == "figure"]
    assert figures, "the seeds state figures of named units"
    assert all(r["unit"] for r in figures)
