"""Figures: percentages, scores, fractions and ranks bound to unit, metric, role and year.

Every percentage is a candidate. Rules find who could own it (the unit that is
the subject of its clause, a list sharing it, a unit later in the clause, the
subject carried from an earlier sentence, the unit the document is about) and
what it is to that unit (level, target, change, share, a range's end); a
learned model (``nlp.figure_model``) reads the candidate's context and decides
whether the text states it for that unit at all. Values that belong to no
unit — national totals, averages, gaps, thresholds, survey shares — are kept
with no unit and ``value_role`` "neutral", out of unit views and the default
export. Fractions count only as scores or ranks, never dates or document numbers.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp.entities import GROUP, UnitRef
from corpus.lexicons import labelled_patterns, table
from nlp.segment import published_year, text_of

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_PERIOD = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*(?:-|–|đến|tới)\s*((?:19|20)\d{2})(?!\d)")
# The year an index measures: "Chỉ số CCHC năm 2022", "PAR Index 2021", "kết quả ... năm 2016".
_YEAR_CUE = re.compile(r"(?:chỉ số|par ?index|cchc|cải cách hành chính|sipas|papi|pci|xếp hạng)[^.;%]{0,60}?"
                       r"(?:năm\s+)?((?:19|20)\d{2})(?!\d)", re.IGNORECASE)
_COMPARED = re.compile(r"(?:so với|hơn)\s+(?:cùng kỳ\s+)?(?:năm\s+)?$", re.IGNORECASE)
_HORIZON = re.compile(r"(?:đến|tới|đến hết|trước|tầm nhìn|giai đoạn|định hướng|kế hoạch)\s+(?:năm\s+)?(?:\d{4}\s*[-–]\s*)?$",
                      re.IGNORECASE)
_THIS_YEAR = re.compile(r"\bnăm nay\b|\bnăm này\b|\bhiện nay\b|\bhiện tại\b|\bhiện\s*$|\bhiện đang\b|"
                        r"\b(?:đến|tới|cho đến) nay\b|\bđến thời điểm (?:này|hiện tại)\b", re.IGNORECASE)
_DOC_NUMBER_AFTER = re.compile(r"\s*/\s*[A-ZĐ]{2,}")   # the year inside "56/2015/NĐ-CP"
_LAST_YEAR = re.compile(r"\bnăm ngoái\b|\bnăm trước\b", re.IGNORECASE)
# "A với 89,08% và B đạt 88,86%": a list whose items carry their own values
_VALUE_GAP = re.compile(r"\s*(?:với|đạt|:|-|–)?\s*\(?\d+(?:[.,]\d+)?\s*(?:%|điểm)?\)?\s*(?:,|và|;)\s*")
_LIST_GAP = re.compile(r"\s*(?:,|;|và|cùng|cùng với|với)?\s*")
_SHARED = re.compile(r"\b(?:cùng|đều|đồng thời|cả hai|cả ba|lần lượt là|là \d+ đơn vị|các đơn vị|là những đơn vị)\b",
                     re.IGNORECASE)
_RANGE_LOW = re.compile(r"(?:từ\s+)?(\d+(?:,\d+)?)\s*%?\s*(?:-|–|đến|tới)\s*$", re.IGNORECASE)
_RANKING_CONTEXT = re.compile(r"xếp hạng|bảng xếp|chỉ số|index|\bpci\b|\bpapi\b|sipas|cchc|cải cách hành chính|"
                              r"điểm số|tổng điểm|\d+\s*/\s*63", re.IGNORECASE)
# "đứng đầu cả nước", "thấp nhất trong các quận": a superlative among units is a rank
_AMONG = re.compile(r"\s*(?:trong\s+|của\s+|so với\s+)?(?:cả nước|toàn quốc|\d+ tỉnh|các tỉnh|các bộ|các quận|"
                    r"các huyện|các sở|các địa phương|khu vực|toàn thành phố|toàn tỉnh)", re.IGNORECASE)
_LED_BY = re.compile(r"\b(?:do|dưới sự)\s+[^,.;:]{0,150}$", re.IGNORECASE)
_GOAL = re.compile(r"(?:phấn đấu|mục tiêu|phải|sẽ|quyết tâm|hướng tới|cố gắng)(?:\s+\w+){0,3}\s*$", re.IGNORECASE)
# what a fraction counts: "16/24 chỉ tiêu", "35/38 điểm"; anything else ("15/5", "56/2010") is not a figure
_FRACTION_OF = re.compile(r"\s*(?:điểm|chỉ tiêu|tiêu chí|nhiệm vụ|nội dung|thủ tục|xã|phường|đơn vị|huyện|"
                          r"tỉnh|sở|bộ|cơ quan|hồ sơ|dịch vụ|lĩnh vực|kiến nghị)\b", re.IGNORECASE)
_NATIONAL_BODIES = re.compile(r"^(?:chính phủ|quốc hội|thủ tướng|bộ chính trị|ban chấp hành trung ương|"
                              r"trung ương|nhà nước)$", re.IGNORECASE)
MAX_ROLE_WINDOW = 40
_SOURCE = re.compile(r"(?:^|[,.;:(]\s*|\s)(?:theo|căn cứ|nguồn|số liệu của|thống kê của)(?:\s+(?:báo cáo|số liệu|thống kê|"
                     r"kết quả|đánh giá|thông tin|tin|ước tính)(?:\s+\w+){0,2}?(?:\s+của)?)?\s*$", re.IGNORECASE)
_STRONG_GAP = re.compile(r"chênh lệch|khoảng cách", re.IGNORECASE)
# metrics the ownership model learned (the labelled articles' percentages are mostly of these);
# an index or service metric stated in a unit's clause follows the cues, as in PAR ranking news
LEARNED_METRICS = ("other", "progress")
MAX_LATER = 40   # "đạt 95% tại huyện X": an owner after the value must follow it closely
MAX_CUE_WINDOW = 60

if not Doc.has_extension("figures"):
    Doc.set_extension("figures", default=None)

VALUE_ROLES = ("level", "target", "change", "share", "range_low", "range_high", "neutral")


@dataclass
class Figure:
    value: float
    value_type: str                  # percent | fraction | rank | score
    start: int                       # offsets of the figure's own words
    end: int
    sent_start: int
    sent_end: int
    units: list[UnitRef] = field(default_factory=list)
    metric: str = "other"
    year: int | None = None
    role: str | None = None          # None for a unit's own value, else why it is neutral
    value_role: str = "level"        # see VALUE_ROLES
    position: int | None = None
    total: float | None = None
    direction: str | None = None
    quote_start: int = 0             # the clause from the unit (or value) to the value
    source: str = "none"             # how the owner was found: subject | list | later | carried | topic | none
    features: dict = field(default_factory=dict)   # what the ownership model reads
    confidence: float | None = None  # the model's probability that the unit owns the value


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


@lru_cache(maxsize=1)
def _guide_metrics() -> frozenset[str]:
    from corpus.lexicons import lines
    return frozenset(lines("nlp", "guide_metrics.txt"))


def guide_metric(label: str) -> str:
    """The guide's metric for a cue label: PCI, PAPI and other indices the guide does not
    define are `other` (their label is kept apart, as the finding's subtype)."""
    return label if label in _guide_metrics() else "other"


def _year_cues():
    return labelled_patterns("nlp", "figure_year_cues.tsv")


def _metric_cues():
    return labelled_patterns("nlp", "figure_metrics.tsv")


def _role_cues():
    return labelled_patterns("nlp", "figure_roles.tsv")


def _value_role_cues():
    return labelled_patterns("nlp", "figure_value_roles.tsv")


def _rank_cues():
    return labelled_patterns("nlp", "rank_cues.tsv")


@lru_cache(maxsize=1)
def _index_phrases() -> tuple[tuple[str, re.Pattern], ...]:
    """Index names and the metric a rank in them gets, longest phrase first."""
    rows = sorted(table("nlp", "indices.tsv"), key=lambda r: -len(r[1]))
    return tuple((metric, re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", re.IGNORECASE))
                 for metric, phrase in rows)


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


MAX_METRIC_REACH = 100   # a cue further back speaks of something else ("họp trực tuyến ..., GDP tăng 7%")


def _widening(before: str, after: str):
    """The comma clause around the number first, then the sentence before it, up to a reach."""
    cut = before.rfind(",")
    end = after.find(",")
    yield (before[cut + 1:] if cut >= 0 else before), (after[:end] if end >= 0 else after)
    yield before[-MAX_METRIC_REACH:], after


def neutral_cue(before: str, after: str) -> str | None:
    """Why a value may be no unit's own (gap, threshold, average, survey), if a cue says so."""
    window = before[-MAX_ROLE_WINDOW:]
    for reason, pattern in _role_cues():
        if reason in ("survey", "vote", "rate") and (pattern.search(window) or pattern.search(after[:MAX_ROLE_WINDOW])):
            return reason
        if reason not in ("national", "survey", "vote", "rate", "scope") and pattern.search(window):
            return reason
    if re.match(r"\s*trở lên", after):
        return "threshold"
    if re.match(r"\s*so với", after) and not re.search(r"(?:tăng|giảm)(?: thêm| được)?\s*$", window):
        return "gap"   # "cao ... 5% so với X"; but "tăng 5% so với năm 2020" is the unit's change
    return None


def value_role_of(before: str) -> str:
    """What a unit's value is to it: a target when its clause plans it ("phấn đấu giảm 20%"
    is a target for a change), else the nearest role cue before the number, else its level."""
    window = before[-MAX_CUE_WINDOW:]
    best: tuple[int, str] | None = None
    for role, pattern in _value_role_cues():
        for m in pattern.finditer(window):
            if role == "target":
                return role
            cand = (len(window) - m.end(), role)
            best = min(best, cand) if best else cand
    return best[1] if best else "level"


def _clause_start(text: str, sent_start: int, pos: int) -> int:
    """Start of the clause holding `pos`: after the last ';' or ':' or sentence start."""
    cut = max(text.rfind(";", sent_start, pos), text.rfind(":", sent_start, pos))
    return cut + 1 if cut >= 0 else sent_start


def _clause_end(text: str, pos: int, sent_end: int) -> int:
    ends = [i for i in (text.find(";", pos, sent_end), text.find(",", pos, sent_end)) if i >= 0]
    return min(ends) if ends else sent_end


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _owner_kind(ref: UnitRef | None) -> str:
    if ref is None:
        return "none"
    if _NATIONAL_BODIES.match(ref.name.strip()):
        return "national_body"
    if ref.admin is not None:
        return ref.admin.level
    return ref.kind


def topic_unit(units: list[Span], title_end: int) -> UnitRef | None:
    """The unit a document is about: named in its title, else named far more than any other."""
    if not units:
        return None
    in_title = [u._.unit for u in units if u.start_char < title_end]
    counts = Counter(u._.unit.name for u in units)
    by_name = {u._.unit.name: u._.unit for u in units}
    if in_title:
        return in_title[0]
    (name, top), *rest = counts.most_common(2) + [("", 0)]
    second = rest[0][1] if rest else 0
    return by_name[name] if top >= 3 and top >= 2 * second else None


def dominant_year(text: str) -> int | None:
    """The year a report is about: the latest year it names that is not a plan's horizon
    ("đến năm 2020", "tầm nhìn 2030", "giai đoạn 2016-2020")."""
    years = [int(m.group(1)) for m in _YEAR.finditer(text) if not _HORIZON.search(text, max(0, m.start() - 30), m.start())
             and not _not_own_year(text, 0, m, target=False)]
    return max(years) if years else None


def ownership_features(fig: Figure, sentence: str, owner: UnitRef | None, cue: str | None,
                       n_units: int, topic: UnitRef | None = None) -> dict:
    """What the ownership model reads: the sentence's words, how the owner was found, cues.

    (Words just before and after the value as separate features scored lower in grouped CV.)"""
    feats: dict[str, float] = {f"src={fig.source}": 1.0, f"cue={cue}": 1.0, f"role={fig.value_role}": 1.0,
                               f"owner={_owner_kind(owner)}": 1.0, f"units={min(n_units, 3)}": 1.0,
                               f"metric={fig.metric}": 1.0}
    if owner is not None and topic is not None and owner.name == topic.name:
        feats["owner_is_topic"] = 1.0   # the unit the whole report is about (grouped CV F1 0.77 -> 0.81)
    for w in set(_words(sentence)):
        feats[f"s={w}"] = feats.get(f"s={w}", 0.0) + 0.3
    return feats


class FigureExtractor:
    """Finds figure candidates; `model` (an ownership model) decides which a unit owns.

    `cues_only` (default: no model) lets the cues settle every candidate; training sets it
    False without a model, to see the candidates the model will be asked about."""

    def __init__(self, model=None, cues_only: bool | None = None):
        self.model = model
        self.cues_only = model is None if cues_only is None else cues_only

    def __call__(self, doc: Doc) -> Doc:
        figures = self.candidates(doc)
        if self.model is not None:
            self.model.apply(figures)
        doc._.figures = figures
        doc.spans["figures"] = [doc.char_span(f.start, f.end, label=f.value_type, alignment_mode="expand")
                                for f in figures]
        return doc

    def candidates(self, doc: Doc) -> list[Figure]:
        text = text_of(doc)
        units = [s for s in doc.spans[GROUP] if s.label_ == "UNIT" and s._.unit is not None]
        values = [s for s in doc.spans[GROUP] if s.label_ in ("PERCENT", "FRACTION")]
        title_end = text.find("\n") if "\n" in text[:400] else 0
        topic = topic_unit(units, title_end)
        title_years = [int(y) for y in _YEAR.findall(text[:title_end])] if title_end else []
        doc_year = dominant_year(text)
        figures: list[Figure] = []
        carried: list[UnitRef] = []
        last_index_year: int | None = None
        index_metric: str | None = None
        paragraph_year: int | None = None
        for sent in doc.sents:
            s0, s1 = sent.start_char, sent.end_char
            if "\n" in text[max(0, s0 - 1):s0 + 1]:
                paragraph_year = None   # a new paragraph (or a heading) starts
            sentence = text[s0:s1]
            sent_units = [u for u in units if s0 <= u.start_char < s1]
            sent_values = [v for v in values if s0 <= v.start_char < s1]
            year_here = _index_year(sentence)
            if year_here:
                last_index_year = year_here
            named = _named_index(sentence)
            index_metric = ("par_index" if named == "par_component" else named) or index_metric
            context = _YearContext(last_index_year, paragraph_year, title_years[-1] if title_years else None,
                                   published_year(doc), doc_year)
            prev_value_end = s0
            for v in sent_values:
                for fig in self._figures(doc, v, sent, sent_units, carried, topic, prev_value_end):
                    fig.year = _year_for(text, fig, s0, context)
                    figures.append(fig)
                prev_value_end = v.end_char
            figures += self._ranks(doc, sent, sent_units, index_metric, context)
            years = _own_years(text, s0, s1)
            if years:
                paragraph_year = years[-1]
            owners = [u for u in sent_units if not _source(text, s0, u)]
            if owners:
                carried = [owners[0]._.unit]
        return figures

    def _figures(self, doc: Doc, v: Span, sent: Span, sent_units: list[Span], carried: list[UnitRef],
                 topic: UnitRef | None, prev_value_end: int) -> list[Figure]:
        text = text_of(doc)
        s0, s1 = sent.start_char, sent.end_char
        raw = v.text
        if v.label_ == "FRACTION":
            if re.search(r"\b(?:thứ|xếp|đứng|hạng)\s*$|\(\s*$", text[max(s0, v.start_char - 8):v.start_char]):
                return []  # "xếp thứ 10/63", "(58/63)" are ranks, read by _ranks
            a, b = raw.replace("điểm", "").split("/")[:2]
            value, total = parse_number(a), parse_number(b)
            if value is None or total is None or value > total or 1900 <= total <= 2100:
                return []   # "12/2016", "56/2010": a date or a document number
            if value is None or not _FRACTION_OF.match(text, v.end_char if "điểm" not in raw else v.start_char):
                if "điểm" not in raw:
                    return []   # dates ("15/5"), document numbers ("56/2010"): not figures
            value_type = "score" if "điểm" in raw or "điểm" in text[v.end_char:v.end_char + 8] or (
                value is not None and not float(value).is_integer()) else "fraction"
        else:
            value_type, value, total = "percent", parse_number(raw), None
        if value is None:
            return []
        clause0 = _clause_start(text, s0, v.start_char)
        before_units = [u for u in sent_units if u.end_char <= v.start_char and not _aside(text, s0, u, v)
                        and not _source(text, s0, u)]
        subject = before_units[-1] if before_units else None
        chain = _chain(text, before_units) if subject is not None else []
        seg_start = subject.end_char if subject is not None else max(clause0, prev_value_end)
        before = text[seg_start:v.start_char]
        clause_end = _clause_end(text, v.end_char, s1)
        after = text[v.end_char:min(s1, v.end_char + 40)]
        cue = neutral_cue(before, after) if value_type == "percent" else None
        if cue is None and subject is None and _generic_subject(text[clause0:v.start_char]):
            cue = "national"   # (a count naming the listed units, "4 đơn vị", is not a national total)
        if subject is not None:
            shared = len(chain) > 1 and bool(_SHARED.search(text[chain[0].start_char:v.start_char]))
            units, source = ([u._.unit for u in chain], "list") if shared else ([subject._.unit], "subject")
            if subject.start_char < clause0:
                source = "subject_far"
        else:
            later = [u for u in sent_units if v.end_char <= u.start_char < min(clause_end, v.end_char + MAX_LATER)]
            if later:
                units, source = [later[0]._.unit], "later"
            elif carried:
                units, source = list(carried), "carried"
            elif topic is not None:
                units, source = [topic], "topic"
            else:
                units, source = [], "none"
        # a gap between two units ("thấp hơn 5% so với Đà Nẵng") is no one's value; "bằng 47% so
        # với năm 2014" or "cao hơn kế hoạch" compares a unit with itself: the model weighs those
        strong_gap = cue == "gap" and (bool(_STRONG_GAP.search(before)) or any(
            v.end_char <= u.start_char < clause_end for u in sent_units))
        if value_type != "percent" and source not in ("subject", "list", "later"):
            return []          # a score or fraction needs its unit in the clause, as a rank does
        after_end = min(s1, v.end_char + 80)
        semi = text.find(";", v.end_char, after_end)
        metric = metric_of(text[s0:v.start_char], text[v.end_char:semi if semi >= 0 else after_end])
        role = value_role_of(text[clause0:v.start_char])
        if role == "target" and cue == "threshold":
            cue = None   # "phấn đấu đạt trên 90%", "mục tiêu giảm tối thiểu 15%": the unit's own target
        if cue in (None, "gap") and units and all(_owner_kind(u) == "national_body" for u in units):
            cue = "national"   # Chính phủ, Quốc hội: their percentages (growth, plans) are the country's
        elif cue is None and units and all(u.kind == "ministry" for u in units) and _national_scope(text[s0:v.start_char]):
            cue = "national"   # a ministry reporting the country's total ("cả nước", "GDP"), not its own value
        quote_start = subject.start_char if source in ("subject", "list", "subject_far") else max(clause0, prev_value_end)
        base = dict(value_type=value_type, sent_start=s0, sent_end=s1, metric=metric, total=total,
                    quote_start=quote_start, source=source)
        low = _RANGE_LOW.search(text, max(s0, v.start_char - 24), v.start_char) if value_type == "percent" else None
        out = []
        if low and parse_number(low.group(1)) is not None and parse_number(low.group(1)) < value:
            out.append(Figure(value=parse_number(low.group(1)), start=low.start(1), end=v.end_char,
                              units=list(units), value_role="range_low", **base))
            out.append(Figure(value=value, start=low.start(1), end=v.end_char, units=list(units),
                              value_role="range_high", **base))
            before = text[seg_start:low.start()] if low.start() >= seg_start else before
        else:
            out.append(Figure(value=value, start=v.start_char, end=v.end_char, units=list(units),
                              value_role=role, **base))
        for fig in out:
            fig.role = cue
            owner = units[0] if units else None
            fig.features = ownership_features(fig, text[s0:s1], owner, cue, len(sent_units), topic)
            decisive = self.cues_only or value_type != "percent" or _decisive(cue, metric, strong_gap)
            if (cue is not None and decisive) or (
                    (value_type != "percent" or self.cues_only) and source in ("topic", "none")):
                _make_neutral(fig, cue or "unattributed")
        return out

    def _ranks(self, doc: Doc, sent: Span, sent_units: list[Span], index_metric: str | None,
               context: "_YearContext") -> list[Figure]:
        text = text_of(doc)
        s0, s1 = sent.start_char, sent.end_char
        sentence = text[s0:s1]
        ranking = bool(_RANKING_CONTEXT.search(sentence))
        out = []
        taken: list[tuple[int, int]] = []
        for label, pattern in _rank_cues():
            direction, _, strength = label.partition(":")
            for m in pattern.finditer(text, s0, s1):
                a, b = m.span()
                if strength == "weak" and not (ranking or _AMONG.match(text, b, min(s1, b + 30))):
                    continue   # "mức thấp nhất", "cao nhất": a superlative, not a ranking
                if any(a < e and s < b for s, e in taken):
                    continue
                groups = m.groupdict()
                pos = int(groups["pos"]) if groups.get("pos") else (1 if direction == "top" else None)
                total = float(groups["total"]) if groups.get("total") else None
                if total is not None and (pos is None or pos > total or pos == 0 or total > 200):
                    continue   # not a position among units ("15/5", "2/2016")
                taken.append((a, b))
                if _GOAL.search(text, max(s0, a - 30), a):
                    continue   # "phấn đấu dẫn đầu", "phải nằm trong top đầu": a goal, not a position
                if _LED_BY.search(text, s0, a):
                    continue   # "đoàn ... do Chủ tịch X dẫn đầu": led a delegation
                before = [u for u in sent_units if u.end_char <= a and _clause_start(text, s0, a) <= u.start_char]
                after = [u for u in sent_units if u.start_char >= b]
                listed = after and re.match(r"\s*(?:là|gồm|thuộc về|:)\s*$", text[b:after[0].start_char])
                if listed:  # "hai đơn vị thấp điểm nhất là A và B"
                    units = [u._.unit for u in _chain(text, after, forward=True)]
                elif before:
                    units = [before[-1]._.unit]
                else:
                    units = []  # a rank needs its subject in the clause: no carrying over
                if not units or all(_owner_kind(u) == "national_body" for u in units):
                    continue   # no subject, or the country's rank under its government's name
                metric = _named_index(sentence, a - s0) or index_metric or "par_index"
                if metric == "par_index" and _component_cue(text[_clause_start(text, s0, a):_clause_end(text, b, s1)]):
                    metric = "par_component"   # "đứng đầu lĩnh vực cải cách thủ tục hành chính"
                fig = Figure(
                    value=float(pos) if pos is not None else float("nan"), value_type="rank", start=a, end=b,
                    sent_start=s0, sent_end=s1, units=units, metric=metric, year=None,
                    position=pos, total=total, direction=None if direction == "none" else direction,
                    quote_start=before[-1].start_char if before and not listed else a, source="subject",
                )
                fig.year = _year_for(text, fig, s0, context)
                out.append(fig)
        return out


def _aside(text: str, s0: int, unit: Span, value: Span) -> bool:
    """A unit inside a parenthesis closed before the value ("(vay ... Kho bạc Nhà nước) bằng 62%")."""
    opened = text.rfind("(", s0, unit.start_char)
    return opened > text.rfind(")", s0, unit.start_char) and ")" in text[unit.end_char:value.start_char]


def _source(text: str, s0: int, unit: Span) -> bool:
    """A unit cited as the source of the numbers ("Theo báo cáo của Sở Du lịch, khách đến TPHCM
    tăng 10%") reports them; it is not what they measure."""
    if _SOURCE.search(text, max(s0, unit.start_char - 40), unit.start_char):
        return True
    return bool(_reporters().match(text, unit.end_char))   # "Bộ Y tế cho biết, ...": it reports them


@lru_cache(maxsize=1)
def _reporters() -> re.Pattern:
    from corpus.lexicons import lines
    return re.compile(r"\s*(?:" + "|".join(lines("nlp", "figure_reporters.txt")) + r")\b", re.IGNORECASE)


def _decisive(cue: str | None, metric: str, strong_gap: bool) -> bool:
    """Whether a neutral cue settles the matter, or the ownership model should weigh it."""
    if cue in ("average", "survey", "vote", "rate", "national") or (cue == "gap" and strong_gap):
        return True
    return metric not in LEARNED_METRICS


def _make_neutral(fig: Figure, reason: str) -> None:
    fig.units, fig.role, fig.value_role = [], reason, "neutral"
    fig.quote_start = min(fig.quote_start, fig.start) if fig.source in ("subject", "list") else fig.quote_start


def _named_index(sentence: str, at: int | None = None) -> str | None:
    """The index a sentence names ("PCI", "Chỉ số CCHC", "chỉ số thành phần"), as a metric: the
    phrase nearest before `at` (a rank's position), else the sentence's first."""
    before: tuple[int, str] | None = None
    first: tuple[int, str] | None = None
    for metric, pattern in _index_phrases():
        for m in pattern.finditer(sentence):
            if first is None or m.start() < first[0]:
                first = (m.start(), metric)
            if at is not None and m.start() < at and (before is None or m.start() > before[0]):
                before = (m.start(), metric)
    best = before or first
    return best[1] if best else None


def _component_cue(clause: str) -> bool:
    """Whether a clause names a component field of the PAR index (figure_metrics.tsv)."""
    return any(metric == "par_component" and pattern.search(clause) for metric, pattern in _metric_cues())


def _chain(text: str, units: list[Span], forward: bool = False) -> list[Span]:
    """Units listed together ("A, B và C", "A; B; C"): the last one before a value and its list mates."""
    if not units:
        return []
    seq = units if forward else list(reversed(units))
    chain = [seq[0]]
    for nxt in seq[1:]:
        cur = chain[-1]
        gap = text[cur.end_char:nxt.start_char] if forward else text[nxt.end_char:cur.start_char]
        if _LIST_GAP.fullmatch(gap) or (forward and _VALUE_GAP.fullmatch(gap)):
            chain.append(nxt)
        else:
            break
    return chain if forward else list(reversed(chain))


def _national_scope(text: str) -> bool:
    """Whether the text before a value speaks of the whole country (figure_roles.tsv, "scope")."""
    return any(role == "scope" and pattern.search(text) for role, pattern in _role_cues())


def _generic_subject(clause: str) -> bool:
    for role, pattern in _role_cues():
        if role == "national" and pattern.search(clause):
            return True
    return False


def _index_year(sentence: str) -> int | None:
    m = _YEAR_CUE.search(sentence)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class _YearContext:
    index_year: int | None      # the index year last named ("Chỉ số CCHC năm 2016")
    paragraph_year: int | None  # the last year an earlier sentence of the paragraph stated as its own
    title_year: int | None
    published: int | None
    document_year: int | None = None   # the year the report is about (see dominant_year)


def _not_own_year(text: str, a: int, m: re.Match, target: bool) -> bool:
    """A comparison base, a document's number, or (for anything but a target) a plan's horizon."""
    if _DOC_NUMBER_AFTER.match(text, m.end()):
        return True   # "56/2015/NĐ-CP"
    lead = max(a, m.start() - 60)
    for cue, pattern in _year_cues():
        if cue == "horizon" and target:
            continue
        if pattern.search(text, lead, m.start()):
            return True
    return False


def _own_years(text: str, a: int, b: int, target: bool = True) -> list[int]:
    """Years in text[a:b], a period giving its end year; a year compared against, a document
    number's year and, unless the figure is a target, a plan's horizon are not its year."""
    out = []
    ends = {m.start(1): int(m.group(1)) for m in _PERIOD.finditer(text, a, b)}
    starts = {m.start() for m in _PERIOD.finditer(text, a, b)}
    for m in _YEAR.finditer(text, a, b):
        if m.start() in starts and m.start() not in ends:
            continue   # "2014-2016": the period's end year speaks for it
        if _COMPARED.search(text, a, m.start()) or _not_own_year(text, a, m, target):
            continue
        out.append(int(m.group(1)))
    return out


def _year_for(text: str, fig: Figure, s0: int, ctx: _YearContext) -> int | None:
    """The year a figure refers to: its clause, "năm nay"/"hiện nay" just before it, its sentence,
    the index year, its paragraph (or the heading over it), the title, the report's year."""
    target = fig.value_role in ("target", "change")   # a planned change also runs to its horizon
    sentence = text[s0:fig.sent_end]
    near0 = max(s0, fig.start - MAX_CUE_WINDOW)
    now = ctx.published or ctx.document_year
    nows = list(_THIS_YEAR.finditer(text, near0, fig.start))
    clause0 = _clause_start(text, s0, fig.start)
    if now and nows and not target and not _own_years(text, max(clause0, nows[-1].end()), fig.start, target):
        return now   # "đến năm 2020 ..., hiện nay tỷ lệ này là 4%": the current value
    years = _own_years(text, clause0, fig.start, target)
    if years:
        return years[-1]
    years = _own_years(text, fig.end, _clause_end(text, fig.end, fig.sent_end), target)
    if years:
        return years[0]
    near = text[near0:fig.start]
    if now and _THIS_YEAR.search(near):
        return now
    if now and _LAST_YEAR.search(near):
        return now - 1
    years = _own_years(text, s0, fig.sent_end, target)
    if years:
        return years[0]
    if fig.metric in ("par_index", "par_component", "satisfaction", "pci", "papi") and ctx.index_year:
        return ctx.index_year
    if ctx.paragraph_year:
        return ctx.paragraph_year
    if ctx.title_year:
        return ctx.title_year
    if ctx.document_year and fig.metric not in ("par_index", "par_component", "satisfaction", "pci", "papi"):
        return ctx.document_year   # a report on the current state speaks of the year it is about
    if fig.metric == "par_index" and ctx.published and re.search(r"công bố", sentence, re.IGNORECASE):
        return ctx.published - 1   # an index is announced the year after the one it measures
    return None


@Language.factory("parlens_figures", default_config={"model": "default"})
def create_figure_extractor(nlp: Language, name: str, model: str | None) -> FigureExtractor:
    """`model`: "default" for the bundled ownership model, a path to a pickled one, or None (cues only)."""
    from nlp.figure_model import load_model
    return FigureExtractor(load_model(model) if model else None)
