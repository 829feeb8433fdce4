"""Figures: percentages, scores, fractions and ranks bound to unit, metric and year.

A value belongs to the unit that is the subject of its clause: the nearest
unit before it in the sentence, not merely the nearest name (an enumeration
"A với 89,08% và B đạt 88,86%" gives each its own), shared by every unit of
a list joined by "và"/"," when the text says so ("cùng", "đều"), carried
over from the previous sentence when the sentence names none. Values that
describe a change, gap, threshold, average, target or a group of units are
kept as neutral figures with no unit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp.entities import GROUP, UnitRef
from nlp.lexicons import labelled_patterns
from nlp.segment import published_year, text_of

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
# The year an index measures: "Chỉ số CCHC năm 2022", "PAR Index 2021", "kết quả ... năm 2016".
_YEAR_CUE = re.compile(r"(?:chỉ số|par ?index|cchc|cải cách hành chính|sipas|papi|xếp hạng)[^.;%]{0,60}?"
                       r"(?:năm\s+)?((?:19|20)\d{2})(?!\d)", re.IGNORECASE)
_COMPARED = re.compile(r"(?:so với|hơn)\s+(?:cùng kỳ\s+)?(?:năm\s+)?$", re.IGNORECASE)
# "A với 89,08% và B đạt 88,86%": a list whose items carry their own values
_VALUE_GAP = re.compile(r"\s*(?:với|đạt|:|-|–)?\s*\(?\d+(?:[.,]\d+)?\s*(?:%|điểm)?\)?\s*(?:,|và|;)\s*")
_SHARED = re.compile(r"\b(?:cùng|đều|đồng thời|cả hai|lần lượt)\b")
MAX_ROLE_WINDOW = 40

if not Doc.has_extension("figures"):
    Doc.set_extension("figures", default=None)


@dataclass
class Figure:
    value: float
    value_type: str                  # percent | fraction | rank | count | score
    start: int                       # offsets of the figure's own words
    end: int
    sent_start: int
    sent_end: int
    units: list[UnitRef] = field(default_factory=list)
    metric: str = "other"
    year: int | None = None
    role: str | None = None          # None for a unit's own value, else why it is neutral
    position: int | None = None
    total: float | None = None
    direction: str | None = None
    quote_start: int = 0             # the clause from the unit (or value) to the value


def parse_number(text: str) -> float | None:
    """Vietnamese numbers: decimal comma, dot thousands ("2.358", "89,08")."""
    m = _NUMBER.search(text)
    if not m:
        return None
    raw = m.group(0)
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
        raw = raw.replace(".", "")
    try:
        return float(raw)
    except ValueError:
        return None


def _metric_cues():
    return labelled_patterns("nlp", "figure_metrics.tsv")


def _role_cues():
    return labelled_patterns("nlp", "figure_roles.tsv")


def _rank_cues():
    return labelled_patterns("nlp", "rank_cues.tsv")


# "progress" cues are verbs ("hoàn thành", "đạt ... kế hoạch") that frame any
# number; what follows the number ("100% cấp CCCD") says more, so they weigh less.
_WEAK_METRICS = {"progress": 30}


def metric_of(clause_before: str, clause_after: str) -> str:
    """The metric whose cue is nearest the number, widening from the comma clause outwards."""
    for before, after in _widening(clause_before, clause_after):
        best: tuple[int, int, str] | None = None
        for order, (metric, pattern) in enumerate(_metric_cues()):
            weight = _WEAK_METRICS.get(metric, 0)
            for m in pattern.finditer(before):
                cand = (len(before) - m.end() + weight, order, metric)
                best = min(best, cand) if best else cand
            m = pattern.search(after)
            if m:
                cand = (m.start() + weight, order, metric)
                best = min(best, cand) if best else cand
        if best:
            return best[2]
    return "other"


def _widening(before: str, after: str):
    """The comma clause around the number first, then the whole clause."""
    cut = before.rfind(",")
    end = after.find(",")
    yield (before[cut + 1:] if cut >= 0 else before), (after[:end] if end >= 0 else after)
    yield before, after


def role_of(before: str, after: str) -> str | None:
    """Why a value is not a unit's own figure, if it is not."""
    window = before[-MAX_ROLE_WINDOW:]
    for role, pattern in _role_cues():
        if role != "national" and pattern.search(window):
            return role
    if re.match(r"\s*(?:so với|trở lên)", after):
        return "gap" if after.strip().startswith("so") else "threshold"
    return None


def _clause_start(text: str, sent_start: int, pos: int) -> int:
    """Start of the clause holding `pos`: after the last ';' or ':' or sentence start."""
    cut = max(text.rfind(";", sent_start, pos), text.rfind(":", sent_start, pos))
    return cut + 1 if cut >= 0 else sent_start


def _clause_end(text: str, pos: int, sent_end: int) -> int:
    ends = [i for i in (text.find(";", pos, sent_end), text.find(",", pos, sent_end)) if i >= 0]
    return min(ends) if ends else sent_end


class FigureExtractor:
    def __call__(self, doc: Doc) -> Doc:
        text = text_of(doc)
        units = [s for s in doc.spans[GROUP] if s.label_ == "UNIT" and s._.unit is not None]
        values = [s for s in doc.spans[GROUP] if s.label_ in ("PERCENT", "FRACTION")]
        figures: list[Figure] = []
        carried: list[UnitRef] = []
        last_index_year: int | None = None
        for sent in doc.sents:
            s0, s1 = sent.start_char, sent.end_char
            sent_units = [u for u in units if s0 <= u.start_char < s1]
            sent_values = [v for v in values if s0 <= v.start_char < s1]
            year_here = _index_year(text[s0:s1])
            if year_here:
                last_index_year = year_here
            prev_value_end = s0
            for v in sent_values:
                fig = self._figure(doc, v, sent, sent_units, carried, prev_value_end)
                if fig is None:
                    continue
                fig.year = _year_for(text, fig, s0, last_index_year, doc)
                figures.append(fig)
                prev_value_end = v.end_char
            figures += self._ranks(doc, sent, sent_units, carried, last_index_year)
            if sent_units:
                carried = [sent_units[0]._.unit]
        doc._.figures = figures
        doc.spans["figures"] = [doc.char_span(f.start, f.end, label=f.value_type, alignment_mode="expand")
                                for f in figures]
        return doc

    def _figure(self, doc: Doc, v: Span, sent: Span, sent_units: list[Span], carried: list[UnitRef],
                prev_value_end: int) -> Figure | None:
        text = text_of(doc)
        s0, s1 = sent.start_char, sent.end_char
        raw = v.text
        if v.label_ == "FRACTION" and re.search(r"\bthứ\s*$", text[max(s0, v.start_char - 8):v.start_char]):
            return None  # "xếp thứ 10/63" is a rank, read by _ranks
        if v.label_ == "PERCENT":
            value_type, value, total = "percent", parse_number(raw), None
        else:
            a, b = raw.replace("điểm", "").split("/")[:2]
            value, total = parse_number(a), parse_number(b)
            value_type = "score" if "điểm" in raw or "điểm" in text[v.end_char:v.end_char + 8] or (
                value is not None and not float(value).is_integer()) else "fraction"
        if value is None:
            return None
        before_units = [u for u in sent_units if u.end_char <= v.start_char]
        clause0 = _clause_start(text, s0, v.start_char)
        subject = before_units[-1] if before_units else None
        chain = _chain(text, before_units) if subject is not None else []
        seg_start = subject.end_char if subject is not None else max(clause0, prev_value_end)
        before = text[seg_start:v.start_char]
        after = text[v.end_char:min(s1, v.end_char + 40)]
        role = role_of(before, after) if value_type == "percent" else None
        if subject is None and role is None:
            # no unit before it: a unit later in the clause, else the previous sentence's subject
            later = [u for u in sent_units if u.start_char >= v.end_char
                     and u.start_char < _clause_end(text, v.end_char, s1)]
            units = [later[0]._.unit] if later else list(carried)
            if _generic_subject(text[clause0:v.start_char]):
                units, role = [], "national"
        elif role is not None:
            units = []
        else:
            shared = len(chain) > 1 and bool(_SHARED.search(before))
            units = [u._.unit for u in chain] if shared else [subject._.unit]
        after_end = min(s1, v.end_char + 80)
        semi = text.find(";", v.end_char, after_end)
        metric = metric_of(text[clause0:v.start_char], text[v.end_char:semi if semi >= 0 else after_end])
        quote_start = subject.start_char if subject is not None and not role else max(clause0, prev_value_end)
        return Figure(value=value, value_type=value_type, start=v.start_char, end=v.end_char,
                      sent_start=s0, sent_end=s1, units=units if not role else [], metric=metric,
                      role=role, total=total, quote_start=quote_start)

    def _ranks(self, doc: Doc, sent: Span, sent_units: list[Span], carried: list[UnitRef],
               year: int | None) -> list[Figure]:
        text = text_of(doc)
        s0, s1 = sent.start_char, sent.end_char
        out = []
        taken: list[tuple[int, int]] = []
        for direction, pattern in _rank_cues():
            for m in pattern.finditer(text, s0, s1):
                a, b = m.span()
                if any(a < e and s < b for s, e in taken):
                    continue
                taken.append((a, b))
                groups = m.groupdict()
                pos = int(groups["pos"]) if groups.get("pos") else (1 if direction == "top" else None)
                total = float(groups["total"]) if groups.get("total") else None
                before = [u for u in sent_units if u.end_char <= a and _clause_start(text, s0, a) <= u.start_char]
                after = [u for u in sent_units if u.start_char >= b]
                listed = after and re.match(r"\s*(?:là|gồm|thuộc về|:)\s*$", text[b:after[0].start_char])
                if listed:  # "hai đơn vị thấp điểm nhất là A và B"
                    units = [u._.unit for u in _chain(text, after, forward=True)]
                elif before:
                    units = [before[-1]._.unit]
                else:
                    units = []  # a rank needs its subject in the clause: no carrying over
                if not units:
                    continue
                fig = Figure(
                    value=float(pos) if pos is not None else float("nan"), value_type="rank", start=a, end=b,
                    sent_start=s0, sent_end=s1, units=units, metric="par_index", year=None,
                    position=pos, total=total, direction=None if direction == "none" else direction,
                    quote_start=before[-1].start_char if before and not listed else a,
                )
                fig.year = _year_for(text, fig, s0, year, doc)
                out.append(fig)
        return out


def _chain(text: str, units: list[Span], forward: bool = False) -> list[Span]:
    """Units listed together ("A, B và C"): the last one before a value and its list mates."""
    if not units:
        return []
    seq = units if forward else list(reversed(units))
    chain = [seq[0]]
    for nxt in seq[1:]:
        cur = chain[-1]
        gap = text[cur.end_char:nxt.start_char] if forward else text[nxt.end_char:cur.start_char]
        if re.fullmatch(r"\s*(?:,|và|cùng|cùng với|;)?\s*", gap) or (forward and _VALUE_GAP.fullmatch(gap)):
            chain.append(nxt)
        else:
            break
    return chain if forward else list(reversed(chain))


def _generic_subject(clause: str) -> bool:
    for role, pattern in _role_cues():
        if role == "national" and pattern.search(clause):
            return True
    return False


def _index_year(sentence: str) -> int | None:
    m = _YEAR_CUE.search(sentence)
    return int(m.group(1)) if m else None


def _year_for(text: str, fig: Figure, s0: int, index_year: int | None, doc: Doc) -> int | None:
    """The year a figure refers to: a year in its clause, else the index year in force."""
    def own_years(a: int, b: int) -> list[int]:
        # a year being compared against ("so với năm 2020") is not the figure's year
        return [int(m.group(1)) for m in _YEAR.finditer(text, a, b) if not _COMPARED.search(text, a, m.start())]

    years = own_years(_clause_start(text, s0, fig.start), fig.start)
    if years:
        return years[-1]
    years = own_years(fig.end, _clause_end(text, fig.end, fig.sent_end))
    if years:
        return years[0]
    years = own_years(s0, fig.start)
    if years:
        return years[-1]
    if fig.metric in ("par_index", "par_component", "satisfaction"):
        if index_year:
            return index_year
        # indices are published the year after the one they measure
        return published_year(doc) - 1 if published_year(doc) and fig.metric == "par_index" else None
    return published_year(doc)



@Language.factory("parlens_figures")
def create_figure_extractor(nlp: Language, name: str) -> FigureExtractor:
    return FigureExtractor()
