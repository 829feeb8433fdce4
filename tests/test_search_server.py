"""The warm search server behind `parlens search` (#16): the first search starts it, later ones
reuse it (same process, same answers as an in-process search), it follows an ingest, reports a
bad store as the CLI does, and exits when idle."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parlens import search_server

ROOT = Path(__file__).resolve().parents[1]
QUERY = "nguyên nhân chỉ số cải cách hành chính thấp"


@pytest.fixture()
def db(seed_store_embedded, tmp_path):
    path = tmp_path / "s.sqlite"
    shutil.copy(seed_store_embedded, path)
    return path


@pytest.fixture()
def server_env(tmp_path, monkeypatch):
    """A private socket (this test's server only) and the server switched on for the CLI."""
    sock = tmp_path / "srv.sock"
    monkeypatch.setenv("PARLENS_SEARCH_SERVER", "on")
    monkeypatch.setattr(search_server, "socket_path", lambda: sock)
    yield sock
    try:
        search_server.request({"op": "stop"}, sock, timeout=10, autostart=False)
    except (search_server.SearchServerError, OSError):
        pass


def _cli(db, *args, env=None):
    """`parlens` as a user runs it: a new process each time."""
    cmd = [sys.executable, "-m", "parlens.cli", "--db", str(db), "search", QUERY, "--json", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_first_search_starts_the_server_and_the_next_reuses_it(db, server_env):
    from parlens.service import search

    first = search_server.search(db, QUERY, {}, 8)
    pid = search_server.request({"op": "ping"}, server_env, autostart=False)["pid"]
    second = search_server.search(db, QUERY, {"kind": "cause"}, 8)
    assert search_server.request({"op": "ping"}, server_env, autostart=False)["pid"] == pid != os.getpid()
    direct = search(db, QUERY, limit=8)
    assert [(h.finding_id, h.kind) for h in first] == [(h.finding_id, h.kind) for h in direct]
    assert first[0].kind == "cause" and second and all(h.kind == "cause" for h in second)


def test_the_cli_goes_through_one_warm_server(db, tmp_path):
    sock = search_server.socket_path()   # the CLI's own: a new process computes the same path
    env = dict(os.environ, PARLENS_SEARCH_SERVER="on", PARLENS_SEARCH_IDLE="120")
    try:
        a, b = _cli(db, env=env), _cli(db, env=env)
        assert a.returncode == b.returncode == 0, a.stderr + b.stderr
        assert json.loads(a.stdout) == json.loads(b.stdout) and json.loads(a.stdout)[0]["kind"] == "cause"
        pid = search_server.request({"op": "ping"}, sock, autostart=False)["pid"]
        c = _cli(db, env=env)
        assert c.returncode == 0
        assert search_server.request({"op": "ping"}, sock, autostart=False)["pid"] == pid
    finally:
        try:
            search_server.request({"op": "stop"}, sock, timeout=10, autostart=False)
        except (search_server.SearchServerError, OSError):
            pass


def test_the_server_sees_an_ingest(db, server_env):
    from corpus import store
    from corpus.ingest import ingest
    from parlens.service import make_analyser

    q = "Phường Tân Phong tiếp nhận hồ sơ trực tuyến"
    before = search_server.search(db, q, {}, 5)
    doc = db.parent / "tan-phong.txt"
    doc.write_text("Phường Tân Phong đẩy mạnh cải cách hành chính\nNăm 2023, UBND phường Tân Phong tiếp nhận "
                   "1.250 hồ sơ trực tuyến. Tuy nhiên, nhiều người dân chưa biết cách nộp hồ sơ trực tuyến.",
                   encoding="utf-8")
    conn = store.connect(db)
    analyse, version = make_analyser(embed=True)
    assert ingest([doc], conn, analyse, version, progress=False).added == 1
    conn.close()
    after = search_server.search(db, q, {}, 5)
    assert "tan-phong" not in {h.doc_id for h in before}
    assert after[0].doc_id == "tan-phong"


def test_a_missing_store_is_a_store_error(tmp_path, server_env):
    from corpus import store
    with pytest.raises(store.StoreError, match="no store at"):
        search_server.search(tmp_path / "nope.sqlite", QUERY, {}, 5)


def test_the_server_exits_when_idle(tmp_path):
    sock = tmp_path / "idle.sock"
    proc = search_server.start(sock, idle=1.0)
    try:
        deadline = time.monotonic() + 300
        while not sock.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert search_server.request({"op": "ping"}, sock, autostart=False)["pid"] == proc.pid
        assert proc.wait(timeout=120) == 0
        assert not sock.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
