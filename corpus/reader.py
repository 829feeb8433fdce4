"""Reading documents from files: plain text, HTML, JSONL (optionally gzipped), folders.

Reading never raises for a bad input: each problem comes out as a `ReadError`
naming the file (and line) so one broken file cannot stop a whole ingest.
Every read is bounded before it allocates: only regular files are opened,
sizes are checked while streaming (decompressed bytes and line length),
JSON nesting is limited, and a file's error list is capped.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

MAX_FILE_BYTES = 50 * 1024 * 1024       # one .txt/.html document
MAX_LINE_BYTES = 20 * 1024 * 1024       # one JSONL line
MAX_EXPANSION = 100                     # decompressed / compressed bytes of a .gz, beyond the slack
EXPANSION_SLACK = 16 * 1024 * 1024
MAX_JSON_DEPTH = 32                     # a document record needs two or three levels
MAX_ERRORS_PER_FILE = 20                # reported one by one; the rest are counted
MAX_BAD_RUN = 1000                      # bad lines before a first good one: not a document file
HTML_TIME_BUDGET = 20.0                 # seconds for extracting the main text of one large page
HTML_INLINE_BYTES = 512 * 1024          # pages above this are extracted in a child process with the budget
TEXT_SUFFIXES = {".txt"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl", ".jsonl.gz"}


@dataclass(frozen=True)
class RawDocument:
    doc_id: str
    text: str
    source: str
    title: str | None = None
    url: str | None = None
    published: str | None = None
    is_html: bool = False
    id_from_path: bool = False       # the id is the file name, not chosen by the data


@dataclass(frozen=True)
class ReadError:
    source: str
    message: str
    count: int = 1                   # documents this error stands for (a capped run of bad lines)

    def __str__(self) -> str:
        return f"{printable(self.source)}: {self.message}"


Item = RawDocument | ReadError

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """A file name or value shown on one line: control characters become escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def kind_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".jsonl.gz"):
        return "jsonl"
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix == ".jsonl":
        return "jsonl"
    return None


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (bad byte at offset {exc.start}); convert it to UTF-8 first") from None


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode is not read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, what in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return f"is {what}, not a regular file; skipped"
    return "is not a regular file; skipped"


def iter_paths(paths: list[Path]) -> Iterator[Path | ReadError]:
    """Files under the given paths, recursively, each once; symlink loops are cut."""
    seen_dirs: set[str] = set()
    for path in paths:
        path = Path(path)
        try:
            mode = path.stat().st_mode        # follows symlinks: what would be read
        except FileNotFoundError:
            yield ReadError(str(path), "no such file or directory" if not path.is_symlink()
                            else "broken symbolic link")
            continue
        except OSError as exc:
            yield ReadError(str(path), _describe(exc))
            continue
        if not stat.S_ISDIR(mode):
            yield path
            continue
        for root, dirs, files in os.walk(path, followlinks=True, onerror=None):
            real = os.path.realpath(root)
            if real in seen_dirs:
                dirs[:] = []
                yield ReadError(root, "directory already visited (symlink loop or duplicate); skipped")
                continue
            seen_dirs.add(real)
            dirs.sort()
            dirs[:] = [d for d in dirs if not d.startswith((".", "__"))]
            for name in sorted(files):
                file = Path(root) / name
                if kind_of(file):
                    yield file


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading; FIFOs, devices and sockets are refused without blocking."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        why = _not_regular(os.fstat(fd).st_mode)
        if why:
            raise NotRegularFile(why)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class NotRegularFile(OSError):
    """The path names a FIFO, a device, a socket or a directory."""


def read_bounded(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The whole file, refused before reading if it is (or grows while read) over `limit` bytes."""
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise TooLarge(f"file is {size / 2**20:.0f} MB, over the {limit // 2**20} MB limit for single "
                           "documents; split it or convert it to JSONL")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"file grew past the {limit // 2**20} MB limit while being read")
    return data


class TooLarge(ValueError):
    """An input over one of the size limits."""


def read_text_file(path: Path) -> Item:
    try:
        text = decode(read_bounded(path))
    except (OSError, ValueError) as exc:
        return ReadError(str(path), _describe(exc))
    if not text.strip():
        return ReadError(str(path), "empty document")
    return RawDocument(doc_id=path.stem, text=text, source=str(path), id_from_path=True)


def read_html_file(path: Path) -> Item:
    item = read_text_file(path)
    if isinstance(item, ReadError):
        return item
    try:
        text, title = html_to_text(item.text)
    except HtmlTimeout as exc:
        return ReadError(str(path), str(exc))
    except Exception as exc:  # trafilatura raises many kinds on broken markup
        return ReadError(str(path), f"could not extract text from HTML: {exc}")
    if not text.strip():
        return ReadError(str(path), "no main text found in the HTML page")
    return RawDocument(doc_id=path.stem, text=text, title=title, source=str(path), is_html=True,
                       id_from_path=True)


class HtmlTimeout(Exception):
    """Extracting a page's main text took longer than its budget."""


def _extract_html(html: str) -> tuple[str, str | None]:
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True,
                               favor_recall=True, deduplicate=False) or ""
    meta = trafilatura.extract_metadata(html)
    return text, (meta.title if meta is not None else None)


def html_to_text(html: str, budget: float = HTML_TIME_BUDGET) -> tuple[str, str | None]:
    """Main text and title of a page, via trafilatura (no script is ever run).

    Large pages (huge tables) can take trafilatura minutes, so above
    HTML_INLINE_BYTES the extraction runs in a child process that is ended
    when the time budget is spent.
    """
    if len(html) <= HTML_INLINE_BYTES or budget is None:
        return _extract_html(html)
    import multiprocessing

    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ctx.Pool(1) as pool:
        result = pool.apply_async(_extract_html, (html,))
        try:
            return result.get(timeout=budget)
        except multiprocessing.TimeoutError:
            pool.terminate()
            raise HtmlTimeout(f"HTML text extraction took over {budget:g} s (page of {len(html) / 2**20:.1f} MB "
                              "characters); skipped") from None


class _Bounded:
    """Counts decompressed bytes of a .gz while streaming and stops a decompression bomb."""

    def __init__(self, fh: BinaryIO, compressed: int | None):
        self.fh = fh
        self.limit = None if compressed is None else MAX_EXPANSION * compressed + EXPANSION_SLACK
        self.read_bytes = 0

    def readline(self, size: int) -> bytes:
        line = self.fh.readline(size)
        self.read_bytes += len(line)
        if self.limit is not None and self.read_bytes > self.limit:
            raise TooLarge(f"expands to over {self.limit // 2**20} MB, more than {MAX_EXPANSION} times its "
                           "compressed size: not a text dump (possible decompression bomb); stopped reading")
        return line


def gzip_problem(data: bytes, limit: int) -> str | None:
    """Why gzip bytes cannot be read within `limit` decompressed bytes (or the expansion bound), or None.

    Decompresses in bounded steps, so a bomb is refused after at most `limit` bytes.
    """
    limit = min(limit, MAX_EXPANSION * len(data) + EXPANSION_SLACK)
    inflater, total, rest = zlib.decompressobj(wbits=31), 0, data
    try:
        while rest:
            total += len(inflater.decompress(rest, 1 << 20))
            rest = inflater.unconsumed_tail
            if total > limit:
                return f"expands to over {limit // 2**20} MB; refused (possible decompression bomb)"
            if inflater.eof:
                rest = inflater.unused_data      # a further gzip member
                if rest:
                    inflater = zlib.decompressobj(wbits=31)
    except zlib.error as exc:
        return f"not a valid gzip file ({exc})"
    return None


def _lines(fh: _Bounded) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) per line; None for a line over MAX_LINE_BYTES, which is never held whole."""
    lineno = 0
    while True:
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while True:                      # skip the rest of the long line in bounded pieces
                rest = fh.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, None
            continue
        yield lineno, raw


def iter_jsonl(path: Path) -> Iterator[Item]:
    """One document per line; bad lines are reported by number (up to a cap, then counted) and skipped."""
    source = str(path)
    gz = path.name.lower().endswith(".gz")
    lineno = good = bad = hidden = 0
    try:
        with open_regular(path) as raw_fh:
            compressed = os.fstat(raw_fh.fileno()).st_size if gz else None
            fh = _Bounded(gzip.GzipFile(fileobj=raw_fh) if gz else raw_fh, compressed)
            for lineno, raw in _lines(fh):
                if raw is None:
                    item = ReadError(f"{source}:{lineno}", f"line is over {MAX_LINE_BYTES // 2**20} MB; skipped")
                elif not raw.strip():
                    continue
                else:
                    item = _jsonl_record(raw, path, lineno)
                if isinstance(item, RawDocument):
                    good += 1
                    yield item
                    continue
                bad += 1
                if bad <= MAX_ERRORS_PER_FILE:
                    yield item
                else:
                    hidden += 1
                if not good and bad >= MAX_BAD_RUN:
                    yield from _hidden(source, hidden)
                    hidden = 0
                    yield ReadError(source, f"{bad} bad lines and not one document: is this a JSONL file of "
                                            "documents with a `text` field? Stopped reading", count=0)
                    return
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError, TooLarge) as exc:
        yield from _hidden(source, hidden)
        hidden = 0
        where = f"{source}:{lineno + 1}" if lineno else source
        tail = "; lines before this were read" if lineno else ""
        if isinstance(exc, TooLarge) or isinstance(exc, NotRegularFile):
            yield ReadError(where if lineno else source, f"{exc}{tail}")
        else:
            yield ReadError(where, f"file is truncated or corrupt ({_describe(exc)}){tail}")
    yield from _hidden(source, hidden)


def _hidden(source: str, n: int) -> Iterator[ReadError]:
    if n:
        yield ReadError(source, f"{n} more bad lines not listed", count=n)


def _too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON nesting exceeds `limit` (strings ignored); cheap when brackets are few."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for tok in re.findall(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', raw):
        if tok in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif tok in (b"]", b"}"):
            depth -= 1
    return False


def _jsonl_record(raw: bytes, path: Path, lineno: int) -> Item:
    where = f"{path}:{lineno}"
    if _too_deep(raw):
        return ReadError(where, f"JSON nested deeper than {MAX_JSON_DEPTH} levels; not a document record")
    try:
        obj = json.loads(decode(raw))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return ReadError(where, f"not valid JSON ({exc})")
    if not isinstance(obj, dict):
        return ReadError(where, "a JSONL line must be a JSON object with a `text` field")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return ReadError(where, "missing or empty `text` field")
    given = obj.get("id")
    doc_id = str(given).strip() if given is not None and not isinstance(given, (dict, list)) else ""
    doc_id = doc_id or f"{path.name.split('.')[0]}-{lineno}"
    is_html = bool(obj.get("html")) or text.lstrip().startswith("<")
    title = obj.get("title") if isinstance(obj.get("title"), str) else None
    if is_html:
        try:
            text, html_title = html_to_text(text)
        except HtmlTimeout as exc:
            return ReadError(where, str(exc))
        except Exception as exc:
            return ReadError(where, f"could not extract text from HTML: {exc}")
        title = title or html_title
    date = obj.get("date")
    return RawDocument(
        doc_id=doc_id,
        text=text,
        source=where,
        title=title,
        url=obj.get("url") if isinstance(obj.get("url"), str) else None,
        published=str(date) if isinstance(date, (str, int)) and str(date).strip() else None,
        is_html=is_html,
    )


def iter_documents(paths: list[Path]) -> Iterator[Item]:
    """Every document (or read error) under the given paths, in a stable order."""
    for entry in iter_paths(paths):
        if isinstance(entry, ReadError):
            yield entry
            continue
        kind = kind_of(entry)
        if kind == "text":
            yield read_text_file(entry)
        elif kind == "html":
            yield read_html_file(entry)
        elif kind == "jsonl":
            yield from iter_jsonl(entry)
        else:
            yield ReadError(str(entry), "unsupported file type; use .txt, .html/.htm, .jsonl or .jsonl.gz")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return str(exc) or exc.__class__.__name__
