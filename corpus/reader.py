"""Reading documents from files: plain text, HTML, JSONL (optionally gzipped), folders.

Reading never raises for a bad input: each problem comes out as a `ReadError`
naming the file (and line) so one broken file cannot stop a whole ingest.
"""
from __future__ import annotations

import gzip
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_LINE_BYTES = 20 * 1024 * 1024
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


@dataclass(frozen=True)
class ReadError:
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


Item = RawDocument | ReadError


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


def iter_paths(paths: list[Path]) -> Iterator[Path | ReadError]:
    """Files under the given paths, recursively, each once; symlink loops are cut."""
    seen_dirs: set[str] = set()
    for path in paths:
        path = Path(path)
        if not path.exists():
            yield ReadError(str(path), "no such file or directory")
            continue
        if path.is_file():
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


def read_text_file(path: Path) -> Item:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return ReadError(str(path), f"file is {size / 2**20:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit "
                                        "for single documents; split it or convert it to JSONL")
        data = path.read_bytes()
        text = decode(data)
    except (OSError, ValueError) as exc:
        return ReadError(str(path), _describe(exc))
    if not text.strip():
        return ReadError(str(path), "empty document")
    return RawDocument(doc_id=path.stem, text=text, source=str(path))


def read_html_file(path: Path) -> Item:
    item = read_text_file(path)
    if isinstance(item, ReadError):
        return item
    try:
        text, title = html_to_text(item.text)
    except Exception as exc:  # trafilatura raises many kinds on broken markup
        return ReadError(str(path), f"could not extract text from HTML: {exc}")
    if not text.strip():
        return ReadError(str(path), "no main text found in the HTML page")
    return RawDocument(doc_id=path.stem, text=text, title=title, source=str(path), is_html=True)


def html_to_text(html: str) -> tuple[str, str | None]:
    """Main text and title of a page, via trafilatura (no script is ever run)."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True,
                               favor_recall=True, deduplicate=False) or ""
    meta = trafilatura.extract_metadata(html)
    title = meta.title if meta is not None else None
    return text, title


def iter_jsonl(path: Path) -> Iterator[Item]:
    """One document per line; bad lines are reported by number and skipped."""
    source = str(path)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    lineno = 0
    try:
        with opener(path, "rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                if len(raw) > MAX_LINE_BYTES:
                    yield ReadError(f"{source}:{lineno}", f"line is over {MAX_LINE_BYTES // 2**20} MB; skipped")
                    continue
                yield _jsonl_record(raw, path, lineno)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        where = f"{source}:{lineno + 1}" if lineno else source
        yield ReadError(where, f"file is truncated or corrupt ({_describe(exc)}); lines before this were read")


def _jsonl_record(raw: bytes, path: Path, lineno: int) -> Item:
    where = f"{path}:{lineno}"
    try:
        obj = json.loads(decode(raw))
    except (ValueError, UnicodeDecodeError) as exc:
        return ReadError(where, f"not valid JSON ({exc})")
    if not isinstance(obj, dict):
        return ReadError(where, "a JSONL line must be a JSON object with a `text` field")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return ReadError(where, "missing or empty `text` field")
    doc_id = str(obj.get("id") or f"{path.name.split('.')[0]}-{lineno}").strip()
    is_html = bool(obj.get("html")) or text.lstrip().startswith("<")
    title = obj.get("title") if isinstance(obj.get("title"), str) else None
    if is_html:
        try:
            text, html_title = html_to_text(text)
        except Exception as exc:
            return ReadError(where, f"could not extract text from HTML: {exc}")
        title = title or html_title
    return RawDocument(
        doc_id=doc_id,
        text=text,
        source=where,
        title=title,
        url=obj.get("url") if isinstance(obj.get("url"), str) else None,
        published=str(obj["date"]) if obj.get("date") else None,
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
            if not os.access(entry, os.R_OK):
                yield ReadError(str(entry), "permission denied")
                continue
            yield from iter_jsonl(entry)
        else:
            yield ReadError(str(entry), "unsupported file type; use .txt, .html/.htm, .jsonl or .jsonl.gz")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return str(exc) or exc.__class__.__name__
