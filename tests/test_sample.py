"""Judged samples: fixed-seed draws of exported rows with their sources, from the CLI."""
import csv

from parlens.cli import main


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_sample_is_reproducible_leaves_neutral_out_and_carries_sources(seed_store, tmp_path, capsys):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((a, 7), (b, 7), (c, 8)):
        assert main(["--db", str(seed_store), "sample", "--kind", "figure", "--n", "5", "--seed", str(seed),
                     "--out", str(out)]) == 0
    first, again, other = _rows(a / "rows.csv"), _rows(b / "rows.csv"), _rows(c / "rows.csv")
    assert len(first) == 5 and first == again and first != other
    assert all(r["kind"] == "figure" and r["unit"] and r["value_role"] != "neutral" for r in first)
    assert {"verdict", "note", "row"} <= set(first[0])
    for r in first:   # every row's quote is in the source text handed to the reader
        source = (a / "docs" / f"{r['doc_id']}.txt").read_text(encoding="utf-8")
        assert r["text"] in source


def test_sample_leaves_out_listed_documents(seed_store, tmp_path):
    out = tmp_path / "all"
    assert main(["--db", str(seed_store), "sample", "--kind", "problem", "--n", "1000", "--out", str(out)]) == 0
    every = _rows(out / "rows.csv")
    first_doc = every[0]["doc_id"]
    ids = tmp_path / "ids.txt"
    ids.write_text(f"# trained on\n{first_doc}\n", encoding="utf-8")
    rest = tmp_path / "rest"
    assert main(["--db", str(seed_store), "sample", "--kind", "problem", "--n", "1000", "--out", str(rest),
                 "--exclude-ids", str(ids)]) == 0
    kept = _rows(rest / "rows.csv")
    assert kept and first_doc not in {r["doc_id"] for r in kept}
    assert len(kept) == len([r for r in every if r["doc_id"] != first_doc])
