"""Title, publication date, source site and document type read from the text.

Scraped pages put the headline and a date line near the top in many layouts
("Thứ tư, ngày 05/07/2023 15:56 PM", "Cập nhật lúc09:59, Thứ Ba, 11/07/2017",
"Ngày đăng 30/08/2023 | 13:30", "03/06/2022 5:53 PM"); all of them carry a
dd/mm/yyyy date, which is what is looked for in the header lines.
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


def parse_date(text: str) -> str | None:
    """First valid dd/mm/yyyy date on a short header line, as ISO yyyy-mm-dd.

    Body paragraphs are skipped: their dates are of decisions and meetings.
    """
    for line in text.split("\n")[:HEADER_LINES]:
        if len(line) > 120:
            continue
        for m in _DATE.finditer(line):
            day, month, year = (int(g) for g in m.groups())
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                continue
    return None


def _is_date_line(line: str) -> bool:
    return bool(_DATE.search(line)) and len(line) < 80


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
        published=pub or parse_date(text),
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
    return parse_date(value)
