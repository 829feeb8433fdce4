"""Title, publication date, source site and document type read from the text.

Scraped pages put the headline and a date line near the top in many layouts
("Thứ tư, ngày 05/07/2023 15:56 PM", "Cập nhật lúc09:59, Thứ Ba, 11/07/2017",
"Ngày đăng 30/08/2023 | 13:30", "03/06/2022 5:53 PM"); all of them carry a
dd/mm/yyyy date, which is what is looked for in the header lines. A date counts only
on a dateline: a header line that, once its date, times and dateline words (weekdays,
"ngày đăng", "cập nhật lúc", GMT+7, view counts) are taken out, holds at most a few
words, and that is not the headline: "Ban hành Luật Quy hoạch từ 1.1.2019" dates no
article.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlparse

from corpus.lexicons import regex_union, table

DOC_TYPES = ("news article", "session report", "transcript")
HEADER_LINES = 8

_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d{2})(?!\d)")
# Times and dateline words around a publication date; what is left of a dateline is at most
# DATELINE_WORDS other words (a site name, an author's initials).
_TIME = re.compile(r"(?<!\d)\d{1,2}\s*[:hg]\s*\d{2}(?:\s*:\s*\d{2})?(?!\d)", re.IGNORECASE)
_DATELINE_VOCAB = re.compile(
    r"\b(?:thứ\s*(?:hai|ba|tư|năm|sáu|bảy|[2-7])|chủ\s*nhật|cn|t[2-7]|ngày|đăng|cập\s*nhật|xuất\s*bản|lúc|giờ|"
    r"gmt|utc|am|pm|sa|ch|view\s*count|lượt\s*xem|updated|published|posted)\b", re.IGNORECASE)
DATELINE_WORDS = 3
_DOMAIN = re.compile(r"\b((?:[a-z0-9-]+\.)+(?:gov\.vn|com\.vn|org\.vn|net\.vn|edu\.vn|vn|com|net|org))\b", re.IGNORECASE)
# A transcript turn: a speaker label at the start of a line, then a colon.
_TURN = re.compile(
    r"^(?:Đại biểu|ĐB|Chủ tịch|Phó Chủ tịch|Giám đốc|Phó Giám đốc|Bộ trưởng|Thứ trưởng|Chủ tọa|Trưởng ban|Ông|Bà)\b[^:\n]{0,120}:",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Metadata:
    title: str
    published: str | None  # ISO date
    site: str | None
    doc_type: str


def is_dateline(line: str) -> bool:
    """A header line that states when the page was published: a date with little else."""
    if len(line) > 120 or not _DATE.search(line):
        return False
    rest = _DATELINE_VOCAB.sub(" ", _TIME.sub(" ", _DATE.sub(" ", line)))
    return len(re.findall(r"[^\W\d_]+", rest)) <= DATELINE_WORDS


def _first_date(line: str) -> str | None:
    for m in _DATE.finditer(line):
        day, month, year = (int(g) for g in m.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            continue
    return None


def parse_date(text: str, title: str | None = None) -> str | None:
    """The first valid date on a dateline among the header lines, as ISO yyyy-mm-dd.

    Body paragraphs are skipped (their dates are of decisions and meetings), and so is
    the headline (`title`, or any line that reads as more than a date): a number in a
    title is never a publication date.
    """
    headline = " ".join((title or "").split())
    for line in text.split("\n")[:HEADER_LINES]:
        if headline and " ".join(line.split()) == headline:
            continue
        if is_dateline(line) and (found := _first_date(line)):
            return found
    return None


def _is_date_line(line: str) -> bool:
    return len(line) < 80 and is_dateline(line)


def guess_title(text: str) -> str:
    """The headline: the longest short line above the date line.

    Kickers and section names ("Huyện An Dương") sit above the headline and
    are shorter than it; without a date line the first short line is used.
    """
    lines = [ln.strip() for ln in text.split("\n")[:HEADER_LINES] if ln.strip()]
    head: list[str] = []
    for line in lines:
        if _is_date_line(line):
            break
        head.append(line)
    else:
        head = []
    candidates = [ln for ln in head if len(ln) <= 250]
    if candidates:
        return max(candidates, key=len)
    for line in lines:
        if len(line) <= 250:
            return line
    return (lines[0][:120] + "…") if lines else ""


def guess_site(text: str, url: str | None = None) -> str | None:
    if url:
        host = urlparse(url).netloc.lower()
        if host:
            return host.removeprefix("www.")
    head = text[:400] + "\n" + text[-1500:]
    for name, pattern in table("corpus", "sites.tsv"):
        if re.search(pattern, head, re.IGNORECASE):
            return name
    domains = [d.lower() for d in _DOMAIN.findall(head) if not d.lower().startswith(("email", "mail"))]
    return domains[-1].removeprefix("www.") if domains else None


def guess_doc_type(text: str, title: str = "") -> str:
    if len(_TURN.findall(text)) >= 3:
        return "transcript"
    paragraphs = [p for p in text.split("\n") if len(p) > 80]
    lead = title + "\n" + "\n".join(text.split("\n")[:HEADER_LINES]) + "\n" + (paragraphs[0] if paragraphs else "")
    if regex_union("corpus", "doc_types.tsv").search(lead):
        return "session report"
    return "news article"


def extract_metadata(text: str, title: str | None = None, url: str | None = None,
                     published: str | None = None, raw_text: str | None = None) -> Metadata:
    """Metadata for a cleaned text; values given by the source win.

    `raw_text` (before boilerplate removal) is searched for the site, since
    footers that name the portal are dropped from the stored text.
    """
    title = (title or "").strip() or guess_title(text)
    pub = normalise_date(published) if published else None
    return Metadata(
        title=title,
        published=pub or parse_date(text, title),
        site=guess_site(raw_text or text, url),
        doc_type=guess_doc_type(text, title),
    )


def normalise_date(value: str) -> str | None:
    """Accept ISO dates and dd/mm/yyyy from JSONL `date` fields."""
    value = str(value).strip()
    m = re.match(r"((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})", value)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            return None
    return _first_date(value)
