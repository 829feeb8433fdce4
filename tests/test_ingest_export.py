"""Ingest into the store, idempotence, and the findings CSV contract."""
import csv
import json
import sqlite3

import pytest

from conftest import SEEDS
from corpus import store
from corpus.export import CONTRACT_COLUMNS, export_findings, neutralise, write_csv
from corpus.ingest import ingest
from parlens.cli import main as cli


def rows_of(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_seed_000_figures_in_the_csv(seed_conn, tmp_path):
    out = tmp_path / "out.csv"
    export_findings(seed_conn, out)
    rows = [r for r in rows_of(out) if r["doc_id"].startswith("000_") and r["kind"] == "figure"]
    got = {(r["unit"], r["value"], r["value_type"]) for r in rows}
    assert ("quận Hai Bà Trưng", "89.08", "percent") in got
    assert ("huyện Ứng Hòa", "88.86", "percent") in got
    hbt = next(r for r in rows if r["value"] == "89.08")
    assert hbt["unit_code"] == "007" and hbt["province"] == "Thành phố Hà Nội" and hbt["year"] == "2022"


def test_offsets_point_into_the_stored_text(seed_conn):
    docs = {r["id"]: r["text"] for r in seed_conn.execute("SELECT id, text FROM documents")}
    findings = list(seed_conn.execute("SELECT doc_id, text, start, end FROM findings"))
    assert findings
    for f in findings:
        assert docs[f["doc_id"]][f["start"]:f["end"]] == f["text"]


def test_reingest_is_a_noop_and_a_change_replaces(tmp_path, analyser):
    analyse, version = analyser
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text((SEEDS / next(p.name for p in SEEDS.glob("000_*"))).read_text(encoding="utf-8"),
                               encoding="utf-8")
    conn = store.connect(tmp_path / "s.sqlite")
    first = ingest([src], conn, analyse, version, progress=False)
    again = ingest([src], conn, analyse, version, progress=False)
    assert (first.added, again.added, again.unchanged, again.replaced) == (1, 0, 1, 0)
    before = conn.execute("SELECT count(*) FROM findings WHERE doc_id='a'").fetchone()[0]
    (src / "a.txt").write_text("Tiêu đề\nNăm 2022, huyện Mỹ Đức đạt 77,5% chỉ số cải cách hành chính.",
                               encoding="utf-8")
    changed = ingest([src], conn, analyse, version, progress=False)
    assert changed.replaced == 1
    values = [r[0] for r in conn.execute("SELECT value FROM findings WHERE doc_id='a' AND kind='figure'")]
    assert values == [77.5] and before > 1


def test_bad_input_keeps_what_is_stored(tmp_path, analyser):
    analyse, version = analyser
    conn = store.connect(tmp_path / "s.sqlite")
    good = tmp_path / "good.txt"
    good.write_text("Tiêu đề\nQuận Hoàn Kiếm đạt 90,5% chỉ số cải cách hành chính năm 2021.", encoding="utf-8")
    ingest([good], conn, analyse, version, progress=False)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "Sở Tài chính đạt 91% chỉ số cải cách hành chính."}\n{broken\n',
                   encoding="utf-8")
    summary = ingest([bad, tmp_path / "missing.txt"], conn, analyse, version, progress=False)
    assert summary.added == 1 and summary.failed == 2
    assert any("bad.jsonl:2" in e for e in summary.errors) and any("missing.txt" in e for e in summary.errors)
    ids = {r[0] for r in conn.execute("SELECT id FROM documents")}
    assert ids == {"good", "x"}


def test_store_schema_and_wal(seed_store):
    conn = sqlite3.connect(seed_store)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(store.SCHEMA_VERSION)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    conn = store.connect(path)
    conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(store.StoreError, match="newer than this ParLens"):
        store.connect(path)


def test_not_a_store_is_refused(tmp_path):
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(store.StoreError, match="junk.sqlite"):
        store.connect(path)


def test_csv_contract_bom_and_injection(tmp_path):
    rows = [{"doc_id": "=cmd|' /C calc'!A0", "title": "+SUM(1,2)", "unit": "@huyện", "text": "-1 tồn tại\n\"dòng 2\"",
             "speaker": "\tông A", "kind": "figure", "value": -5.5, "start": 0, "end": 3, "published": "\rx"}]
    out = tmp_path / "x.csv"
    write_csv(rows, out, CONTRACT_COLUMNS)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = rows_of(out)
    assert list(back[0]) == list(CONTRACT_COLUMNS) and len(back) == 1
    r = back[0]
    assert r["doc_id"].startswith("'=") and r["title"].startswith("'+") and r["unit"] == "'@huyện"
    assert r["text"] == "'-1 tồn tại\n\"dòng 2\"" and r["speaker"] == "'\tông A" and r["published"] == "'\rx"
    assert r["value"] == "-5.5"  # numbers stay numbers
    assert neutralise(3) == 3 and neutralise("Hà Nội") == "Hà Nội"


def test_cli_ingest_export_and_filters(tmp_path, capsys):
    db = tmp_path / "cli.sqlite"
    assert cli(["--db", str(db), "ingest", str(SEEDS), "--no-embed", "--quiet"]) == 0
    assert "5 added" in capsys.readouterr().out
    out = tmp_path / "fig.csv"
    assert cli(["--db", str(db), "export", "--csv", str(out), "--kind", "figure", "--unit", "Hai Bà Trưng"]) == 0
    rows = rows_of(out)
    assert rows and all(r["kind"] == "figure" and "Hai Bà Trưng" in r["unit"] for r in rows)
    assert cli(["--db", str(db), "export", "--csv", str(out), "--year", "2021", "--kind", "figure"]) == 0
    assert all(r["year"] == "2021" for r in rows_of(out))


def test_cli_reports_a_missing_store(tmp_path, capsys):
    assert cli(["--db", str(tmp_path / "none.sqlite"), "export", "--csv", str(tmp_path / "o.csv")]) == 2
    assert "run `parlens ingest` first" in capsys.readouterr().err


def test_triage_skips_unrelated_articles_with_a_reason(tmp_path, analyser):
    analyse, version = analyser
    conn = store.connect(tmp_path / "s.sqlite")
    src = tmp_path / "news.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "football", "title": "Messi lập cú đúp", "text": "Messi ghi hai bàn, đội bóng thắng 3-1 tối qua."},
        {"id": "reform", "title": "Cải cách hành chính ở Hải Phòng",
         "text": "Chỉ số cải cách hành chính năm 2016 của huyện An Dương đạt 71,5%, xếp cuối bảng."},
    ]), encoding="utf-8")
    summary = ingest([src], conn, analyse, version, progress=False)
    assert (summary.added, summary.skipped) == (1, 1)
    row = conn.execute("SELECT status, skip_reason FROM documents WHERE id='football'").fetchone()
    assert row["status"] == "skipped" and "not about administrative reform" in row["skip_reason"]
    assert conn.execute("SELECT count(*) FROM findings WHERE doc_id='football'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM findings WHERE doc_id='reform'").fetchone()[0] >= 1


def test_near_duplicates_are_linked_to_their_original(tmp_path, analyser):
    analyse, version = analyser
    conn = store.connect(tmp_path / "s.sqlite")
    body = (SEEDS / next(p.name for p in SEEDS.glob("001_*"))).read_text(encoding="utf-8")
    src = tmp_path / "wire.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "orig", "text": body},
        {"id": "copy", "text": body.replace("Huyện An Dương\n", "Huyện An Dương (Hải Phòng)\n", 1) + "\nTheo báo Hải Phòng"},
        {"id": "other", "text": (SEEDS / next(p.name for p in SEEDS.glob("000_*"))).read_text(encoding="utf-8")},
    ]), encoding="utf-8")
    summary = ingest([src], conn, analyse, version, progress=False)
    dup = {r["id"]: r["duplicate_of"] for r in conn.execute("SELECT id, duplicate_of FROM documents")}
    assert dup == {"orig": None, "copy": "orig", "other": None} and summary.duplicates == 1


def test_real_news_dump_sample(shared_corpus, tmp_path, analyser):
    """The first 400 articles of the shared 2017 dump ingest without failure; reform articles are
    analysed and everything else is skipped with a reason."""
    import gzip
    analyse, version = analyser
    sample = tmp_path / "sample.jsonl"
    with gzip.open(shared_corpus, "rt", encoding="utf-8") as src, open(sample, "w", encoding="utf-8") as out:
        for i, line in enumerate(src):
            if i == 400:
                break
            out.write(line)
    conn = store.connect(tmp_path / "s.sqlite")
    summary = ingest([sample], conn, analyse, version, progress=False)
    assert summary.failed == 0 and summary.added + summary.skipped == 400
    assert 0 < summary.added < 100
    assert conn.execute("SELECT count(*) FROM documents WHERE status='skipped' AND skip_reason LIKE "
                        "'not about administrative reform%'").fetchone()[0] == summary.skipped
    assert conn.execute("SELECT count(*) FROM findings").fetchone()[0] > 0


def test_triage_terms_are_lower_case_and_match_any_case():
    """Triage matches lower-cased text, so a term written with capitals would never match."""
    import re

    from corpus.triage import judge
    from corpus.lexicons import table

    for _, pattern in table("corpus", "relevance.tsv"):
        assert re.sub(r"\\[A-Z]", "", pattern) == re.sub(r"\\[A-Z]", "", pattern).lower(), pattern
    upper = judge("KẾT QUẢ CHỈ SỐ CẢI CÁCH HÀNH CHÍNH", "THỦ TỤC HÀNH CHÍNH CÒN RƯỜM RÀ TẠI UBND HUYỆN")
    lower = judge("kết quả chỉ số cải cách hành chính", "thủ tục hành chính còn rườm rà tại ubnd huyện")
    assert upper.relevant and upper.score == lower.score
