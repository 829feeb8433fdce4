"""A warm search process for the CLI: `parlens search` answers in well under 2 s after the first.

Loading the sentence encoder and the vector index takes most of a cold CLI search. The first
`parlens search` starts this server in the background on a unix socket (one per user and code
version, in the temp dir); later searches send their question over the socket and get the hits
back, the model already loaded. The server keeps one index per store and data version (an ingest
makes it rebuild), never writes to a store, and exits after `PARLENS_SEARCH_IDLE` seconds
(default 600) without a request. `PARLENS_SEARCH_SERVER=off` makes the CLI search in-process.

Protocol: one JSON object per line each way. Requests: {"op": "search", "db", "query",
"filters", "limit", "model"}, {"op": "ping"}, {"op": "stop"}; answers: {"hits": [...]},
{"pid": n} or {"error": text, "type": name}.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = 1
DEFAULT_IDLE_S = 600.0
START_TIMEOUT_S = 300.0
# the code a running server has loaded: a change to any of these makes the CLI use a new server
CODE = ("parlens/service.py", "parlens/search_server.py", "nlp/index.py", "nlp/query_intent.py",
        "nlp/embeddings.py", "corpus/store/findings.py", "nlp/data/query_cues.tsv", "nlp/data/query_intents.tsv")


class SearchServerError(RuntimeError):
    """The search server could not be started or did not answer."""


def enabled() -> bool:
    return os.environ.get("PARLENS_SEARCH_SERVER", "on").strip().lower() not in ("off", "0", "no", "false")


def idle_seconds() -> float:
    raw = os.environ.get("PARLENS_SEARCH_IDLE", "")
    try:
        return float(raw) if raw else DEFAULT_IDLE_S
    except ValueError:
        raise SearchServerError(f"PARLENS_SEARCH_IDLE={raw!r} is not a number of seconds") from None


def socket_path() -> Path:
    """The socket of the server for this user, code version and model cache."""
    h = hashlib.sha256(f"{PROTOCOL}|{ROOT}|{os.environ.get('PARLENS_CACHE_DIR', '')}".encode())
    for rel in CODE:
        try:
            st = (ROOT / rel).stat()
            h.update(f"{rel}:{st.st_mtime_ns}:{st.st_size}".encode())
        except OSError:
            h.update(rel.encode())
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"parlens-search-{uid}-{h.hexdigest()[:12]}.sock"


def log_path(sock: Path) -> Path:
    return sock.with_suffix(".log")


# -- client ------------------------------------------------------------------------------------


def _read_line(sock: socket.socket) -> bytes:
    """One newline-terminated message (requests and answers are one JSON line each)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        data += chunk
    return data


def _exchange(sock: Path, request: dict, timeout: float) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(sock))
        s.sendall(json.dumps(request, ensure_ascii=False).encode() + b"\n")
        data = _read_line(s)
    if not data:
        raise SearchServerError(f"the search server at {sock} closed the connection without answering")
    return json.loads(data)


def start(sock: Path | None = None, idle: float | None = None) -> subprocess.Popen:
    """Start a server in the background (its own session: it outlives the CLI that started it)."""
    sock = sock or socket_path()
    log = open(log_path(sock), "ab")
    cmd = [sys.executable, "-m", "parlens.search_server", "--socket", str(sock),
           "--idle", str(idle_seconds() if idle is None else idle)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    try:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
    finally:
        log.close()


def request(req: dict, sock: Path | None = None, timeout: float = 120.0, autostart: bool = True) -> dict:
    """Send one request, starting the server first when none answers on the socket."""
    sock = sock or socket_path()
    try:
        return _exchange(sock, req, timeout)
    except (FileNotFoundError, ConnectionRefusedError):
        if not autostart:
            raise SearchServerError(f"no search server is running at {sock}") from None
    sock.unlink(missing_ok=True)        # a server that died leaves its socket file behind
    proc = start(sock)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            return _exchange(sock, req, timeout)
        except (FileNotFoundError, ConnectionRefusedError):
            pass
        if proc.poll() is not None and not sock.exists():
            tail = log_path(sock).read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
            raise SearchServerError(f"the search server exited with {proc.returncode}: {' / '.join(tail)} "
                                    f"(log: {log_path(sock)}); PARLENS_SEARCH_SERVER=off searches in-process")
        if time.monotonic() > deadline:
            raise SearchServerError(f"the search server did not start within {START_TIMEOUT_S:.0f} s "
                                    f"(log: {log_path(sock)})")
        time.sleep(0.1)


def search(db: Path, query: str, filters: dict, limit: int, model: str | None = None) -> list:
    """Hits from the warm server, as `parlens.service.search` returns them."""
    from corpus import store
    from nlp.index import Hit

    answer = request({"op": "search", "db": str(Path(db).resolve()), "query": query, "filters": filters,
                      "limit": limit, "model": model})
    if "error" in answer:
        if answer.get("type") == "StoreError":
            raise store.StoreError(answer["error"])
        if answer.get("type") == "ValueError":
            raise ValueError(answer["error"])
        raise SearchServerError(f"the search server failed: {answer['error']}")
    return [Hit(**row) for row in answer["hits"]]


# -- server ------------------------------------------------------------------------------------


class _Warm:
    """The loaded encoders and one vector index per (store, data version, model)."""

    def __init__(self):
        self.indexes: dict[tuple, object] = {}

    def search(self, req: dict) -> dict:
        from corpus import store
        from parlens import service

        db = Path(req["db"])
        if not db.exists():
            raise store.StoreError(f"no store at {db}: pass --db, or ingest documents first")
        enc = service.encoder(req.get("model"))
        conn = store.connect(db, readonly=True)
        try:
            key = (str(db), store.data_version(conn), enc.name)
            index = self.indexes.get(key)
            if index is None:
                self.indexes = {k: v for k, v in self.indexes.items() if k[0] != str(db)}   # an older version
                index = self.indexes[key] = service.build_index(conn, enc.name, db_path=db)
            where = store.FindingFilter(**(req.get("filters") or {}))
            hits = service.hybrid_search(conn, index, enc.encode_queries([req["query"]])[0], req["query"], where,
                                         int(req.get("limit") or 10))
        finally:
            conn.close()
        return {"hits": [h.as_row() for h in hits]}


def serve(sock: Path, idle: float = DEFAULT_IDLE_S, preload: bool = True) -> int:
    """Answer requests on `sock` until `idle` seconds pass without one (or a stop request)."""
    warm = _Warm()
    if preload:
        from parlens import service
        service.encoder()           # the slow part, done before the socket accepts anyone
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        srv.bind(str(sock))
    except OSError:
        try:                        # another server won the race: leave it be
            _exchange(sock, {"op": "ping"}, 5)
            return 0
        except OSError:
            sock.unlink(missing_ok=True)
            srv.bind(str(sock))
    os.chmod(sock, 0o600)
    srv.listen(8)
    srv.settimeout(1.0)
    last = time.monotonic()
    try:
        while time.monotonic() - last < idle:
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                continue
            last = time.monotonic()
            with conn:
                if not _handle(conn, warm):
                    break
            last = time.monotonic()
    finally:
        srv.close()
        sock.unlink(missing_ok=True)
    return 0


def _handle(conn: socket.socket, warm: _Warm) -> bool:
    """Answer one request; False when asked to stop."""
    conn.settimeout(30)
    data = _read_line(conn)
    try:
        req = json.loads(data)
        op = req.get("op", "search")
        if op == "ping":
            answer = {"pid": os.getpid()}
        elif op == "stop":
            conn.sendall(json.dumps({"pid": os.getpid(), "stopping": True}).encode() + b"\n")
            return False
        else:
            answer = warm.search(req)
    except Exception as exc:   # one bad request must not take the warm process down
        answer = {"error": str(exc), "type": type(exc).__name__}
    conn.sendall(json.dumps(answer, ensure_ascii=False, default=float).encode() + b"\n")
    return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m parlens.search_server")
    p.add_argument("--socket", default=None, help="unix socket path (default: the CLI's)")
    p.add_argument("--idle", type=float, default=DEFAULT_IDLE_S, help="exit after this many idle seconds")
    args = p.parse_args(argv)
    return serve(Path(args.socket) if args.socket else socket_path(), args.idle)


if __name__ == "__main__":
    sys.exit(main())
