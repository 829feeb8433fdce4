"""Hostile and careless input: each case here fails without the protection it names.

Exit codes that tell the truth, bounded reads, no silent replacement, CSV cells that
never become formulas, and stores that are refused without being written to.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from corpus import store
from corpus.export import neutralise, write_csv
from corpus.ingest import ingest
from corpus.reader import MAX_ERRORS_PER_FILE, RawDocument, ReadError, iter_documents
from parlens.cli import main

GOOD = ("Sở Nội vụ tỉnh Quảng Bình cho biết chỉ số cải cách hành chính năm 2016 của tỉnh đạt 72,5%. "
        "Công tác cải cách thủ tục hành chính còn chậm, một số cán bộ còn gây phiền hà cho người dân.")


def read(*paths):
    items = list(iter_documents([Path(p) for p in paths]))
    return [i for i in items if isinstance(i, RawDocument)], [i for i in items if isinstance(i, ReadError)]


def run_cli(*argv) -> int:
    return main([str(a) for a in argv])


def stored_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return sorted(r[0] for r in conn.execute("SELECT id FROM documents"))


def peak_rss_mb(code: str) -> tuple[float, str]:
    """Run `code` in a fresh interpreter; its peak resident memory in MB and its stdout."""
    # VmHWM is this program's own peak (ru_maxrss would include the forking parent's pages)
    script = code + ("\nhwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]"
                     "\nprint('RSS', int(hwm.split()[1]) / 1024)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    rss = float(out.stdout.rsplit("RSS", 1)[1])
    return rss, out.stdout


# -- 1. exit status ----------------------------------------------------------------------------

def test_a_failed_file_makes_the_exit_status_non_zero(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "latin.txt").write_bytes("Quảng Bình".encode("utf-16-le")[2:] + b"\xff\xfe\x00")
    db = tmp_path / "s.sqlite"
    assert run_cli("--db", db, "ingest", folder, "--no-embed", "--quiet") == 1
    out = capsys.readouterr()
    assert "1 added" in out.out and "1 failed" in out.out and "latin.txt" in out.err
    assert stored_ids(db) == ["good"]
    assert run_cli("--db", db, "ingest", folder / "good.txt", "--no-embed", "--quiet") == 0


def test_usage_and_store_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        run_cli("--db", tmp_path / "s.sqlite", "export", "--csv", tmp_path / "o.csv", "--kind", "bogus")
    assert exc.value.code == 2 and "unknown kind 'bogus'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        run_cli("--db", tmp_path / "s.sqlite", "search", "cải cách", "--limit", "-1")
    assert exc.value.code == 2 and "must be 1 or more" in capsys.readouterr().err
    assert run_cli("--db", tmp_path / "missing.sqlite", "export", "--csv", tmp_path / "o.csv") == 2


# -- 2. bounded reads ------------------------------------------------------------------------

def test_a_json_line_nested_200000_deep_fails_alone(tmp_path, analyser):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"id": "deep", "text": ' + "[" * 200_000 + "]" * 200_000 + "}\n"
                                    + json.dumps({"id": "ok", "text": GOOD}, ensure_ascii=False) + "\n")
    (folder / "b.txt").write_text(GOOD, encoding="utf-8")
    conn = store.connect(tmp_path / "s.sqlite")
    summary = ingest([folder], conn, analyser[0], analyser[1], progress=False)
    assert summary.failed == 1 and "nested deeper" in summary.errors[0]
    assert sorted(r[0] for r in conn.execute("SELECT id FROM documents")) == ["b", "ok"]


def _finishes(fn, seconds: float = 30.0):
    result: list = []
    worker = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "reading hung"
    return result[0]


def test_a_fifo_in_a_folder_is_reported_not_read(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "p.txt")
    (folder / "q.txt").write_text(GOOD, encoding="utf-8")
    docs, errors = _finishes(lambda: read(folder))
    assert [d.doc_id for d in docs] == ["q"]
    assert len(errors) == 1 and "named pipe" in errors[0].message and "p.txt" in errors[0].source
    docs, errors = _finishes(lambda: read(folder / "p.txt"))  # named directly, too
    assert not docs and "named pipe" in errors[0].message


@pytest.mark.parametrize("name", ["zero.txt", "zero.jsonl", "zero.jsonl.gz"])
def test_a_symlink_to_a_device_is_refused(tmp_path, name):
    link = tmp_path / name
    link.symlink_to("/dev/zero")
    docs, errors = _finishes(lambda: read(link))
    assert not docs and "character device" in errors[0].message


def test_a_long_line_is_never_held_whole(tmp_path):
    """A 100 MB line without a newline (a sparse file) is skipped in 20 MB steps."""
    path = tmp_path / "one-line.jsonl"
    with open(path, "wb") as fh:
        fh.truncate(100 * 1024 * 1024)
        fh.seek(0, 2)
        fh.write(b"\n" + json.dumps({"id": "after", "text": GOOD}, ensure_ascii=False).encode() + b"\n")
    rss, out = peak_rss_mb(f"""
from pathlib import Path
from corpus.reader import iter_documents
items = list(iter_documents([Path({str(path)!r})]))
print([type(i).__name__ for i in items], items[0].message)""")
    assert "['ReadError', 'RawDocument']" in out and "over 20 MB" in out
    assert rss < 250, rss


def test_a_gzip_bomb_line_stops_with_bounded_memory(tmp_path):
    """A 1.2 GB line in a ~1.2 MB .jsonl.gz: refused while streaming, long before 1.2 GB."""
    path = tmp_path / "bomb.jsonl.gz"
    chunk = b"a" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(b'{"id": "x", "text": "')
        for _ in range(1200):
            fh.write(chunk)
        fh.write(b'"}\n')
    assert path.stat().st_size < 3 * 1024 * 1024
    rss, out = peak_rss_mb(f"""
from pathlib import Path
from corpus.reader import iter_documents
items = list(iter_documents([Path({str(path)!r})]))
print(len(items), ' | '.join(str(i) for i in items))""")
    assert "decompression bomb" in out or "over 20 MB" in out
    assert rss < 400, rss


def test_millions_of_bad_lines_stop_early_with_a_capped_list(tmp_path):
    path = tmp_path / "empty-objects.jsonl.gz"
    path.write_bytes(gzip.compress(b"{}\n" * 40_000_000, compresslevel=9))
    assert path.stat().st_size < 400_000
    rss, out = peak_rss_mb(f"""
from pathlib import Path
from corpus.reader import iter_documents
items = list(iter_documents([Path({str(path)!r})]))
print(len(items), sum(i.count for i in items), items[-1].message)""")
    n_items, n_failed, last = out.split(" ", 2)
    assert int(n_items) <= 22 and int(n_failed) >= 1000 and "Stopped reading" in last
    assert rss < 250, rss


def test_error_lists_are_capped_per_file_but_counted(tmp_path, analyser):
    lines = [json.dumps({"id": "ok", "text": GOOD}, ensure_ascii=False)] + ["{broken"] * 500
    (tmp_path / "many.jsonl").write_text("\n".join(lines), encoding="utf-8")
    docs, errors = read(tmp_path / "many.jsonl")
    assert len(docs) == 1 and len(errors) == MAX_ERRORS_PER_FILE + 1
    assert sum(e.count for e in errors) == 500 and "480 more bad lines" in errors[-1].message


def test_explorer_upload_refuses_a_gzip_that_expands_too_far():
    from corpus.reader import gzip_problem

    bomb = gzip.compress(b"{}\n" * 20_000_000, compresslevel=9)
    assert "decompression bomb" in gzip_problem(bomb, 200 * 1024 * 1024)
    honest = gzip.compress((json.dumps({"text": GOOD}, ensure_ascii=False) + "\n").encode() * 200)
    assert gzip_problem(honest, 200 * 1024 * 1024) is None


# -- 3. no silent replacement ------------------------------------------------------------------

def test_same_file_name_in_two_folders_keeps_both(tmp_path, analyser, capsys):
    for project, unit in (("projA", "Quảng Bình"), ("projB", "Quảng Trị")):
        (tmp_path / project).mkdir()
        (tmp_path / project / "report.txt").write_text(GOOD.replace("Quảng Bình", unit), encoding="utf-8")
    db = tmp_path / "s.sqlite"
    assert run_cli("--db", db, "ingest", tmp_path / "projA", "--no-embed", "--quiet") == 0
    assert run_cli("--db", db, "ingest", tmp_path / "projB", "--no-embed", "--quiet") == 0
    err = capsys.readouterr().err
    assert "already used by another document" in err
    ids = stored_ids(db)
    assert len(ids) == 2 and "report" in ids
    # the same files again: nothing changes, nothing is renamed again
    assert run_cli("--db", db, "ingest", tmp_path / "projA", tmp_path / "projB", "--no-embed", "--quiet") == 0
    assert "2 unchanged" in capsys.readouterr().out and stored_ids(db) == ids


def test_txt_and_html_of_one_stem_in_one_batch(tmp_path, analyser):
    (tmp_path / "bai.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bai.html").write_text(f"<html><body><article><p>{GOOD.replace('Quảng Bình', 'Nghệ An')}</p>"
                                       "</article></body></html>", encoding="utf-8")
    conn = store.connect(tmp_path / "s.sqlite")
    summary = ingest([tmp_path], conn, analyser[0], analyser[1], progress=False)
    assert summary.added == 2 and summary.warnings
    assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 2


def test_duplicate_and_blank_ids_in_one_batch_count_what_is_stored(tmp_path, analyser):
    rows = [{"id": "d1", "text": GOOD}, {"id": "d1", "text": GOOD.replace("72,5", "70,1")},
            {"id": "  ", "text": GOOD.replace("Quảng Bình", "Hà Tĩnh")}]
    (tmp_path / "dup.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    conn = store.connect(tmp_path / "s.sqlite")
    summary = ingest([tmp_path / "dup.jsonl"], conn, analyser[0], analyser[1], progress=False)
    stored = sorted(r[0] for r in conn.execute("SELECT id FROM documents"))
    assert summary.added + summary.skipped == len(stored) == 2 and summary.failed == 1
    assert "" not in stored and "dup-3" in stored
    assert "already read in this run" in summary.errors[0]


def test_replacing_a_stored_id_from_another_file_is_reported(tmp_path, analyser):
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "x", "text": GOOD}, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps({"id": "x", "text": GOOD.replace("72,5", "60")},
                                                 ensure_ascii=False), encoding="utf-8")
    conn = store.connect(tmp_path / "s.sqlite")
    ingest([tmp_path / "a.jsonl"], conn, analyser[0], analyser[1], progress=False)
    summary = ingest([tmp_path / "b.jsonl"], conn, analyser[0], analyser[1], progress=False)
    assert summary.replaced == 1 and any("replaces the stored document 'x'" in w for w in summary.warnings)


def test_a_file_name_with_a_newline_cannot_fake_an_error_line(tmp_path, capsys):
    bad = tmp_path / "x\nerror: all documents deleted.txt"
    bad.write_bytes(b"\xff\xfe\xfa not utf-8 \xc3")
    db = tmp_path / "s.sqlite"
    assert run_cli("--db", db, "ingest", bad, "--no-embed", "--quiet") == 1
    err_lines = capsys.readouterr().err.splitlines()
    assert len(err_lines) == 1 and "x\\x0aerror: all documents deleted.txt" in err_lines[0]


# -- 4. CSV cells that never become formulas -----------------------------------------------------

HOSTILE_CELLS = ["\x00=HYPERLINK(\"http://example.invalid\",\"x\")", " =1+1", "  +1+1", "\u200b=1+1",
                 "\u2060=1+1", "\ufeff@SUM(1)", "＝1+1", "＋1+1", "\t=1+1", "\r=1+1", "\x85=1+1", "-2+3",
                 "\u00a0=1+1", "\u3000=1+1"]


@pytest.mark.parametrize("cell", HOSTILE_CELLS)
def test_every_formula_lead_is_neutralised(cell):
    out = neutralise(cell)
    assert out.startswith("'") and "\x00" not in out and "\x85" not in out


def test_numbers_and_plain_text_pass():
    assert neutralise(-5.5) == -5.5 and neutralise(3) == 3
    assert neutralise("Chỉ số đạt 72,5% = cao") == "Chỉ số đạt 72,5% = cao"
    assert neutralise("dòng\x01 một\x1f") == "dòng một"


def _soffice() -> str:
    import shutil

    found = shutil.which("soffice")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("LibreOffice is missing and cannot be installed here (not root); "
                    "install Debian's libreoffice-calc-nogui")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "libreoffice-calc-nogui"]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
        if proc.returncode != 0:
            pytest.skip(f"could not install libreoffice-calc-nogui: {proc.stderr.strip()[-300:]}")
    return shutil.which("soffice") or pytest.skip("soffice not found after installing libreoffice-calc-nogui")


@pytest.mark.slow
@pytest.mark.parametrize("trim_spaces", [False, True])
def test_libreoffice_opens_no_cell_as_a_formula(tmp_path, trim_spaces):
    import zipfile

    soffice = _soffice()
    rows = [{"doc_id": cell, "title": cell, "site": cell, "unit": cell, "text": "ok", "value": 1.5}
            for cell in HOSTILE_CELLS]
    csv_path = tmp_path / "findings.csv"
    write_csv(rows, csv_path, ["doc_id", "title", "site", "unit", "text", "value"])
    # tokens: separator, quote, UTF-8, first line, formats, language, quoted-as-text, special numbers,
    # (export-only x2), trim spaces; formulas are evaluated (LibreOffice's default)
    options = f"44,34,76,1,,0,false,true,false,false,{'true' if trim_spaces else 'false'}"
    proc = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                           f"--infilter=CSV:{options}", "--convert-to", "ods", "--outdir", str(tmp_path),
                           str(csv_path)], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    content = zipfile.ZipFile(tmp_path / "findings.ods").read("content.xml").decode("utf-8")
    assert "table:formula" not in content
    assert "HYPERLINK" in content  # the text is there, as text


@pytest.mark.slow
def test_libreoffice_would_run_the_unneutralised_cell(tmp_path):
    """The check above can fail: the same cell written raw does become a formula."""
    import zipfile

    soffice = _soffice()
    (tmp_path / "raw.csv").write_text("a\r\n =1+1\r\n", encoding="utf-8")  # as csv writes it, unquoted
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                    "--infilter=CSV:44,34,76,1,,0,false,true,false,false,true", "--convert-to", "ods",
                    "--outdir", str(tmp_path), str(tmp_path / "raw.csv")], capture_output=True, timeout=240)
    assert "table:formula" in zipfile.ZipFile(tmp_path / "raw.ods").read("content.xml").decode("utf-8")


# -- 6. store opening ------------------------------------------------------------------------------

def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_foreign_sqlite_file_is_refused_untouched(tmp_path, capsys):
    other = tmp_path / "contacts.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE people (name TEXT)")
        conn.execute("INSERT INTO people VALUES ('Lan')")
    before = _digest(other)
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    assert run_cli("--db", other, "ingest", tmp_path / "a.txt", "--no-embed", "--quiet") == 2
    err = capsys.readouterr().err
    assert "another program" in err and len(err.strip().splitlines()) == 1
    assert _digest(other) == before and not Path(f"{other}-wal").exists()


@pytest.mark.parametrize("case", ["empty", "directory", "corrupt-version", "garbage"])
def test_unusable_stores_give_one_line(tmp_path, capsys, case):
    db = tmp_path / "s.sqlite"
    if case == "empty":
        db.write_bytes(b"")
    elif case == "directory":
        db.mkdir()
    elif case == "garbage":
        db.write_bytes(b"\x00\x01 not a database " * 50)
    else:
        store.connect(db).close()
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE meta SET value='v?' WHERE key='schema_version'")
    assert run_cli("--db", db, "export", "--csv", tmp_path / "o.csv") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(db) in err and "Traceback" not in err


def test_an_empty_file_becomes_a_store_for_ingest(tmp_path):
    db = tmp_path / "s.sqlite"
    db.write_bytes(b"")
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    assert run_cli("--db", db, "ingest", tmp_path / "a.txt", "--no-embed", "--quiet") == 0
    assert stored_ids(db) == ["a"]


def test_read_only_commands_never_create_a_store(tmp_path, capsys):
    db = tmp_path / "typo.sqlite"
    assert run_cli("--db", db, "search", "cải cách hành chính") == 2
    assert run_cli("--db", db, "themes") == 2
    assert run_cli("--db", db, "export", "--csv", tmp_path / "o.csv") == 2
    assert not db.exists() and "no store here yet" in capsys.readouterr().err


@pytest.fixture
def read_only_dir(tmp_path):
    mount = tmp_path / "ro"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a filesystem here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_store_on_read_only_media(read_only_dir, tmp_path, capsys):
    db = read_only_dir / "s.sqlite"
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    assert run_cli("--db", db, "ingest", tmp_path / "a.txt", "--no-embed", "--quiet") == 0
    import gc
    gc.collect()
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_dir)], check=True)
    assert run_cli("--db", db, "ingest", tmp_path / "a.txt", "--no-embed", "--quiet") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write" in err[0]
    assert run_cli("--db", db, "export", "--csv", tmp_path / "o.csv") == 0   # reading still works
    assert "a" in (tmp_path / "o.csv").read_text(encoding="utf-8-sig")


# -- 7. length caps --------------------------------------------------------------------------------

def test_html_extraction_has_a_time_budget():
    from corpus.reader import HTML_INLINE_BYTES, HtmlTimeout, html_to_text

    table = "<html><body><table>" + "".join(f"<tr><td>Xã {i}</td><td>{i % 97},5%</td></tr>"
                                            for i in range(40_000)) + "</table></body></html>"
    assert len(table) > HTML_INLINE_BYTES
    with pytest.raises(HtmlTimeout, match="took over"):
        html_to_text(table, budget=0.05)


def test_figures_per_document_are_capped_with_a_note(tmp_path, analyser):
    from nlp.extract import MAX_FIGURES

    rows = " ".join(f"Xã Tân Lập {i} đạt {i % 90 + 5},{i % 10}%." for i in range(MAX_FIGURES + 150))
    (tmp_path / "bang.txt").write_text("Kết quả chỉ số cải cách hành chính năm 2016 các xã. " + rows,
                                       encoding="utf-8")
    conn = store.connect(tmp_path / "s.sqlite")
    ingest([tmp_path / "bang.txt"], conn, analyser[0], analyser[1], progress=False, triage=False)
    n = conn.execute("SELECT count(*) FROM findings WHERE kind='figure'").fetchone()[0]
    notes = conn.execute("SELECT notes FROM documents").fetchone()[0]
    assert n == MAX_FIGURES and "figures found" in notes


def test_long_text_is_cut_with_a_note(tmp_path, analyser, monkeypatch):
    import nlp.extract

    monkeypatch.setattr(nlp.extract, "MAX_CHARS", 2_000)
    (tmp_path / "dai.txt").write_text((GOOD + "\n") * 40, encoding="utf-8")
    conn = store.connect(tmp_path / "s.sqlite")
    ingest([tmp_path / "dai.txt"], conn, analyser[0], analyser[1], progress=False)
    notes = conn.execute("SELECT notes FROM documents").fetchone()[0]
    assert "only the first 2,000 were analysed" in notes
    assert conn.execute("SELECT max(end) FROM findings").fetchone()[0] <= 2_000


# -- 8. filters ------------------------------------------------------------------------------------

def test_like_wildcards_in_unit_filters_are_literal(seed_conn):
    from corpus.store import FindingFilter, findings

    assert findings(seed_conn, FindingFilter(unit="%")) == [] and findings(seed_conn, FindingFilter(unit="_")) == []
    some = findings(seed_conn, FindingFilter(unit="Ứng Hòa"))
    assert some and all("Ứng Hòa" in (r["unit"] or "") + (r["unit_name"] or "") for r in some)


# -- fuzzing the reader ----------------------------------------------------------------------------
# `make bench` runs these with PARLENS_READER_FUZZ=2000 examples each; CI runs fewer.

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as hst  # noqa: E402

READER_FUZZ = settings(max_examples=int(os.environ.get("PARLENS_READER_FUZZ", "150")), deadline=None,
                       suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
json_values = hst.recursive(hst.none() | hst.booleans() | hst.integers() | hst.floats(allow_nan=True) | hst.text(),
                            lambda inner: hst.lists(inner, max_size=4) | hst.dictionaries(hst.text(max_size=8),
                                                                                          inner, max_size=4),
                            max_leaves=30)
records = hst.dictionaries(hst.sampled_from(["id", "title", "text", "url", "date", "html", "x"]), json_values,
                           max_size=6)


def _read_all(path: Path) -> list:
    items = list(iter_documents([path]))
    for item in items:
        assert isinstance(item, (RawDocument, ReadError))
        if isinstance(item, ReadError):
            assert "\n" not in str(item)
    return items


@READER_FUZZ
@given(data=hst.binary(max_size=4096), suffix=hst.sampled_from([".txt", ".html", ".jsonl", ".jsonl.gz"]))
def test_fuzz_random_bytes(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fz") / f"f{suffix}"
    path.write_bytes(data)
    _read_all(path)


@READER_FUZZ
@given(members=hst.lists(hst.binary(max_size=2048), min_size=1, max_size=4), cut=hst.integers(0, 64))
def test_fuzz_gzip_members_possibly_truncated(tmp_path_factory, members, cut):
    blob = b"".join(gzip.compress(m) for m in members)
    path = tmp_path_factory.mktemp("fz") / "f.jsonl.gz"
    path.write_bytes(blob[: max(len(blob) - cut, 0)])
    _read_all(path)


@READER_FUZZ
@given(lines=hst.lists(hst.one_of(records, json_values), max_size=6))
def test_fuzz_random_json_lines(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fz") / "f.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    items = _read_all(path)
    ok = [x for x in lines if isinstance(x, dict) and isinstance(x.get("text"), str) and x["text"].strip()]
    assert len([i for i in items if isinstance(i, RawDocument)]) <= len(ok)
