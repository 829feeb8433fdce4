"""The store's file: schema, migrations, opening and explicit transactions.

One database file in WAL mode, so the explorer can read while an ingest
writes. Connections stay in Python's default (deferred) transaction mode;
writes go through `transaction`, which never changes that mode.
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

SCHEMA_VERSION = 6
ENV_DB = "PARLENS_DB"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    published TEXT,
    site TEXT,
    doc_type TEXT NOT NULL DEFAULT 'news article',
    source TEXT,
    url TEXT,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'processed',   -- processed | skipped
    skip_reason TEXT,
    duplicate_of TEXT,
    ingested_at TEXT NOT NULL DEFAULT (datetime('now')),
    notes TEXT                                  -- v3: why the analysis was bounded (cut text, capped figures)
);
CREATE TABLE IF NOT EXISTS sentences (
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    PRIMARY KEY (doc_id, idx)
);
CREATE TABLE IF NOT EXISTS entities (
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    norm TEXT,
    code TEXT,
    province TEXT
);
CREATE INDEX IF NOT EXISTS entities_doc ON entities(doc_id);
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,              -- figure | weakness | cause | remedy
    subtype TEXT,                    -- objective | subjective for causes
    unit TEXT,                       -- as the text names it ("TP.HCM")
    unit_name TEXT,                  -- v4: normalised ("thành phố Hồ Chí Minh")
    unit_code TEXT,
    province TEXT,
    unit_type TEXT,
    metric TEXT,
    value REAL,
    value_type TEXT,                 -- percent | fraction | rank | count | score
    value_role TEXT,                 -- v4: level | target | change | share | range_low | range_high | neutral
    year INTEGER,
    rank_position INTEGER,
    rank_total INTEGER,
    rank_direction TEXT,             -- top | bottom
    speaker TEXT,
    speaker_role TEXT,
    speaker_unit TEXT,
    stance TEXT,                     -- asking | answering
    turn INTEGER,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    sent_start INTEGER,
    sent_end INTEGER,
    confidence REAL,
    extra TEXT
);
CREATE INDEX IF NOT EXISTS findings_doc ON findings(doc_id);
CREATE INDEX IF NOT EXISTS findings_kind ON findings(kind);
CREATE INDEX IF NOT EXISTS findings_unit ON findings(unit);
CREATE TABLE IF NOT EXISTS embeddings (
    finding_id INTEGER PRIMARY KEY REFERENCES findings(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS findings_fts USING fts5(
    text, unit, content='findings', content_rowid='id', tokenize='unicode61 remove_diacritics 0'
);
CREATE TRIGGER IF NOT EXISTS findings_ai AFTER INSERT ON findings BEGIN
    INSERT INTO findings_fts(rowid, text, unit) VALUES (new.id, new.text, coalesce(new.unit, ''));
END;
CREATE TRIGGER IF NOT EXISTS findings_ad AFTER DELETE ON findings BEGIN
    INSERT INTO findings_fts(findings_fts, rowid, text, unit) VALUES ('delete', old.id, old.text, coalesce(old.unit, ''));
END;
CREATE TABLE IF NOT EXISTS signatures (
    doc_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    sig BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS themes (
    kind TEXT NOT NULL,
    theme_id INTEGER NOT NULL,
    label TEXT NOT NULL,
    centroid BLOB NOT NULL,
    PRIMARY KEY (kind, theme_id)
);
CREATE TABLE IF NOT EXISTS theme_members (       -- v2: remembered so ids follow their members
    kind TEXT NOT NULL,
    theme_id INTEGER NOT NULL,
    finding_id INTEGER NOT NULL,
    similarity REAL NOT NULL DEFAULT 0          -- v5: to the centroid; theme_id -1 holds the outliers
);
CREATE TABLE IF NOT EXISTS unit_summaries (      -- v6: built after an ingest so pages only read
    unit_key TEXT PRIMARY KEY,
    unit TEXT NOT NULL,
    unit_type TEXT,
    province TEXT,
    unit_code TEXT,
    counts TEXT NOT NULL,                        -- JSON {kind: findings}
    documents INTEGER NOT NULL,
    lat REAL,                                    -- the gazetteer's place, for territorial units
    lon REAL,
    par_value REAL,                              -- the latest comparable PAR Index figure
    par_year INTEGER
);
"""


class StoreError(Exception):
    """The database cannot be opened or has an unknown layout."""


def default_db_path() -> Path:
    """$PARLENS_DB, else parlens.sqlite in the user's data directory."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("parlens")) / "parlens.sqlite"


SQLITE_MAGIC = b"SQLite format 3\x00"


def connect(path: Path | str | None = None, readonly: bool = False, create: bool = True) -> sqlite3.Connection:
    """Open a store (creating it when `create` and not `readonly`) and bring its schema up to date.

    Nothing is written before the file is known to be a ParLens store (or new):
    a foreign SQLite file, a directory, a damaged file or one on read-only media
    gives one StoreError line instead.
    """
    path = Path(path) if path else default_db_path()
    new = _check_file(path, must_exist=readonly or not create)
    if not new:
        _inspect(path)
    try:
        if readonly:
            conn = _open_readonly(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"{path}: cannot open the store ({exc})") from None
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            _migrate(conn, path)
    except sqlite3.OperationalError as exc:
        conn.close()
        if "readonly" in str(exc) or "read-only" in str(exc) or "unable to open" in str(exc):
            raise StoreError(f"{path}: cannot write to the store ({exc}); put it on a writable disk "
                             "or use a read-only command (export, search)") from None
        raise StoreError(f"{path}: not a ParLens store or damaged ({exc})") from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: not a ParLens store or damaged ({exc})") from None
    return conn


def _check_file(path: Path, must_exist: bool) -> bool:
    """Whether the store is new (absent or an empty file); errors for paths that cannot be a store."""
    if path.is_dir():
        raise StoreError(f"{path}: is a directory; give a store file name, e.g. {path / 'parlens.sqlite'}")
    if not path.exists():
        if must_exist:
            raise StoreError(f"{path}: no store here yet; run `parlens ingest` first (or check --db)")
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the store ({exc.strerror or exc})") from None
    if not head:
        if must_exist:
            raise StoreError(f"{path}: empty file, not a ParLens store yet; run `parlens ingest` first")
        return True
    if head != SQLITE_MAGIC:
        raise StoreError(f"{path}: not an SQLite file, so not a ParLens store; check --db")
    return False


def _open_readonly(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return conn
    except sqlite3.OperationalError:
        # a WAL store on read-only media cannot create its -shm file: read it as immutable
        return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def _inspect(path: Path) -> None:
    """Refuse, without writing, a file that is not a ParLens store of a version this code reads."""
    try:
        conn = _open_readonly(path)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                return
            if "meta" not in tables or "documents" not in tables:
                raise StoreError(f"{path}: an SQLite database of another program (no ParLens tables); "
                                 "refusing to write to it; choose another --db")
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a ParLens store or damaged ({exc})") from None
    if row is None:
        raise StoreError(f"{path}: has no ParLens schema version; refusing to write to it; choose another --db")
    try:
        version = int(row[0])
    except (TypeError, ValueError):
        raise StoreError(f"{path}: damaged store (schema version {row[0]!r} is not a number)") from None
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: store schema v{version} is newer than this ParLens (v{SCHEMA_VERSION}); "
                         "upgrade ParLens")
    if version < 1:
        raise StoreError(f"{path}: damaged store (schema version {version})")


def _version(conn: sqlite3.Connection) -> int:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0]) if row else 0


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = _version(conn)
    if version == SCHEMA_VERSION:
        return
    with transaction(conn):
        for statement in _statements(_SCHEMA):
            conn.execute(statement)
        columns = {r[1] for r in conn.execute("PRAGMA table_info(documents)")}
        if "notes" not in columns:    # v3: why a document's analysis was bounded
            conn.execute("ALTER TABLE documents ADD COLUMN notes TEXT")
        columns = {r[1] for r in conn.execute("PRAGMA table_info(findings)")}
        if "value_role" not in columns:   # v4: what a figure is to its unit (level, target, ...)
            conn.execute("ALTER TABLE findings ADD COLUMN value_role TEXT")
        if "unit_name" not in columns:    # v4: the unit's normalised name beside the written one
            conn.execute("ALTER TABLE findings ADD COLUMN unit_name TEXT")
            conn.execute("UPDATE findings SET unit_name = unit")
        columns = {r[1] for r in conn.execute("PRAGMA table_info(theme_members)")}
        if "similarity" not in columns:   # v5: themes are read back whole, not recomputed on read
            conn.execute("ALTER TABLE theme_members ADD COLUMN similarity REAL NOT NULL DEFAULT 0")
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('application', 'parlens')")


def _statements(script: str) -> list[str]:
    """Split the schema into statements (triggers keep their inner semicolons)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return [s for s in out if s]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """An explicit write transaction; inside a caller's transaction, a savepoint of it.

    Either way the caller's own transaction stays atomic and the connection's
    mode (isolation level) is left exactly as it was.
    """
    if conn.in_transaction:
        conn.execute("SAVEPOINT parlens_write")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK TO parlens_write")
            conn.execute("RELEASE parlens_write")
            raise
        conn.execute("RELEASE parlens_write")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


Connection = sqlite3.Connection
DatabaseError = sqlite3.Error
