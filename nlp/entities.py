"""Domain entities as spaCy spans: UNIT, PERSON, ROLE, PERCENT, NUMBER, FRACTION,
DATE, YEAR, INDEX and LEGAL_DOC.

All spans go to the span group ``doc.spans["entities"]`` (they may nest: a
ROLE "Chủ tịch UBND quận Hai Bà Trưng" contains a UNIT); ``doc.ents`` holds
the longest non-overlapping ones for display. UNIT spans carry the official
unit they resolve to (``span._.unit``) and the text that refers to it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from nlp.lexicons import lines, table
from nlp.normalize import UPPER, fold
from nlp.units import AdminUnit, Context, choose, gazetteer

GROUP = "entities"


@dataclass(frozen=True)
class UnitRef:
    """What a UNIT span names: a territory (with code) or a body, and its display name."""
    name: str                      # "huyện Ứng Hòa", "Sở Tài chính"
    kind: str                      # territory | department | ministry | body | council
    admin: AdminUnit | None = None
    province: str | None = None    # province name for bodies of a known province
    antecedent: bool = False       # resolved from a bare or anaphoric mention

    @property
    def code(self) -> str | None:
        return self.admin.code if self.admin else None

    @property
    def province_name(self) -> str | None:
        return self.admin.province if self.admin else self.province


for _name in ("unit", "role_unit"):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=None)
if not Doc.has_extension("context"):
    Doc.set_extension("context", default=None)

_QUANTIFIERS = {"các", "những", "mỗi", "từng", "nhiều", "một số", "hai", "ba", "2", "3", "cả", "toàn", "giữa"}
_COUNCIL_PREFIX = {"ubnd", "hđnd", "ủy ban nhân dân", "uỷ ban nhân dân", "hội đồng nhân dân", "ub", "ubmttq"}
_DATE_CUES = {"ngày", "sáng", "chiều", "tối", "trưa", "đêm", "hôm", "từ", "đến", "tới", "hết"}
_LEGAL = re.compile(
    r"\b(?:Nghị quyết|Quyết định|Công văn|Chỉ thị|Kế hoạch|Thông tư|Nghị định|Đề án|Chương trình|Văn bản|"
    r"Thông báo|Hướng dẫn|Luật|Thông tư liên tịch)(?:\s+số)?\s+\d+[\w/\-–.&Đđ]*(?<![.,])"
)
_DATE_FULL = re.compile(r"^\d{1,2}/\d{1,2}/(?:19|20)\d{2}$")
_MONTH_YEAR = re.compile(r"^\d{1,2}/(?:19|20)\d{2}$")
_FRACTION = re.compile(r"^(\d+(?:[.,]\d+)?)\s?/\s?(\d+(?:[.,]\d+)?)(?:\s?điểm)?$")


@lru_cache(maxsize=1)
def _unit_types() -> dict[str, tuple[str, str]]:
    return {surface.lower(): (level, official) for surface, level, official in table("nlp", "unit_types.tsv")}


@lru_cache(maxsize=1)
def _abbreviations() -> dict[str, str]:
    return {abbr: full for abbr, full in table("nlp", "abbreviations.tsv")}


@lru_cache(maxsize=1)
def _party() -> dict[str, str]:
    return {w.lower(): level for w, level in table("nlp", "party_committees.tsv")}


@lru_cache(maxsize=1)
def _references() -> dict[str, str]:
    return {w.lower(): level for w, level in table("nlp", "reference_words.tsv")}


def expand_abbreviations(text: str) -> str:
    """"UBND TP. Hà Nội" -> "Ủy ban nhân dân thành phố Hà Nội", for display and search."""
    out = text
    for abbr, full in sorted(_abbreviations().items(), key=lambda kv: -len(kv[0])):
        out = re.sub(rf"(?<![\wĐđ]){re.escape(abbr)}(?![\wĐđ&])\s*", full + " ", out)
    return re.sub(r"\s+", " ", out).strip()


class EntityRecognizer:
    """Rule-based domain NER over underthesea words, with unit resolution."""

    def __init__(self, nlp: Language):
        self.vocab = nlp.vocab
        self.matcher = Matcher(nlp.vocab)
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        types = list(_unit_types())
        make = nlp.make_doc
        self.matcher.add("UNIT_TYPED", [
            [{"LOWER": {"IN": types}}, {"TEXT": {"REGEX": rf"^(?:[{UPPER}0-9][^\s]*)(?:\s+[{UPPER}][^\s]*)*$"}, "OP": "+"}],
        ], greedy="LONGEST")
        self.matcher.add("UNIT_BARE", [[{"LOWER": {"IN": types}}]])
        self.phrases.add("INDEX", [make(p) for _, p in table("nlp", "indices.tsv")])
        self.exact.add("BODY", [make(p) for p in lines("nlp", "bodies.txt")])
        self.exact.add("ROLE", [make(p) for p in lines("nlp", "roles.txt")])
        self.sectors = [re.compile(_loose(s)) for s in sorted(lines("nlp", "sectors.txt"), key=len, reverse=True)]
        self.agency_heads = sorted(lines("nlp", "agency_heads.txt"), key=len, reverse=True)
        self.surnames = set(lines("nlp", "surnames.txt"))
        self.honorifics = {h.lower() for h in lines("nlp", "honorifics.txt")}

    # -- the component ------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        ctx = Context.empty()
        spans: list[Span] = []
        units = self._territories(doc, ctx)
        units += self._bodies(doc, units, ctx)
        units = filter_spans(units)
        self._resolve_references(doc, units, ctx)
        spans += units
        spans += self._roles(doc, units)
        spans += self._persons(doc, spans)
        spans += self._numbers(doc)
        spans += self._indices(doc)
        spans += self._legal(doc)
        spans = sorted(set(spans), key=lambda s: (s.start_char, -s.end_char))
        doc.spans[GROUP] = spans
        doc.ents = filter_spans([s for s in spans if s.label_ != "ROLE"] )
        doc._.context = ctx
        return doc

    # -- territorial units --------------------------------------------------
    def _territories(self, doc: Doc, ctx: Context) -> list[Span]:
        found: list[tuple[Span, list[AdminUnit], str]] = []
        for match_id, start, end in self.matcher(doc):
            if self.vocab.strings[match_id] != "UNIT_TYPED":
                continue
            type_tok = doc[start]
            level, official = _unit_types()[type_tok.lower_]
            span = self._best_name(doc, start, end, level, official)
            if span is None:
                continue
            name_span, cands = span
            found.append((name_span, cands, official))
        # Bare province names ("so với Đà Nẵng") also name territories.
        g = gazetteer()
        taken = {i for s, _, _ in found for i in range(s.start, s.end)}
        for tok in doc:
            if tok.i in taken or not tok.text[:1].isupper() or " " not in tok.text and tok.tag_ != "Np":
                continue
            if g.is_province(tok.text):
                found.append((doc[tok.i:tok.i + 1], g.candidates(tok.text, "province"), "Tỉnh"))
        # Unambiguous ones first build the context the ambiguous ones need.
        for span, cands, _ in found:
            if len(cands) == 1:
                ctx.add(cands[0])
        out = []
        for span, cands, official in found:
            admin = choose(cands, ctx)
            words = span.text
            type_word = span[0].lower_ if span[0].lower_ in _unit_types() else None
            written_type = official.lower() if type_word else None
            if admin:
                name = f"{written_type or admin.type.lower()} {admin.short}"
            else:
                name = f"{written_type} {doc[span.start + 1:span.end].text}" if type_word else words
            span = Span(doc, span.start, span.end, label="UNIT")
            span._.unit = UnitRef(name=name, kind="territory", admin=admin)
            out.append(span)
        return out

    def _best_name(self, doc: Doc, start: int, end: int, level: str, official: str):
        """Longest run of capitalised words after a type word that the gazetteer knows."""
        g = gazetteer()
        lvl = None if level == "any" else level
        for stop in range(end, start + 1, -1):
            name = doc[start + 1:stop].text
            cands = g.candidates(name, lvl, official)
            if cands:
                return doc[start:stop], cands
        # Unknown name: keep the first word only (names run into following capitals).
        if start > 0 and doc[start - 1].lower_ in _QUANTIFIERS:
            return None
        nxt = doc[start + 1]
        if nxt.text[:1].isdigit():
            # "Quận 1", "phường 5" -- but not "tỉnh 6 tháng đầu năm"
            after = doc[start + 2].lower_ if start + 2 < len(doc) else ""
            if level not in ("district", "ward") or not nxt.text.isdigit() or after in ("tháng", "năm", "ngày"):
                return None
            return doc[start:start + 2], []
        if nxt.text.split()[0] in self.surnames:
            return None  # "UBND tỉnh Nguyễn Đức Trung": a person follows the type word
        if nxt.tag_ in ("Np", "N", "Ny") or " " in nxt.text:
            return doc[start:start + 2], []
        return None

    # -- bodies: councils, departments, ministries, named agencies ----------
    def _bodies(self, doc: Doc, territories: list[Span], ctx: Context) -> list[Span]:
        out: list[Span] = []
        by_start = {s.start: s for s in territories}
        text = doc.text
        for tok in doc:
            low = tok.lower_
            # UBND / HĐND + territory or bare type word
            if low in _COUNCIL_PREFIX:
                nxt = tok.i + 1
                if nxt in by_start:
                    terr = by_start[nxt]
                    span = Span(doc, tok.i, terr.end, label="UNIT")
                    span._.unit = terr._.unit
                    out.append(span)
                elif nxt < len(doc) and doc[nxt].lower_ in _unit_types() and not (
                        nxt + 1 < len(doc) and doc[nxt + 1].text[:1].isupper()):
                    span = Span(doc, tok.i, nxt + 1, label="UNIT")
                    out.append(span)  # resolved by reference
                continue
            if low in _party():
                nxt = tok.i + 1
                if nxt < len(doc) and doc[nxt].text[:1].isupper() and nxt not in by_start:
                    cands = gazetteer().candidates(doc[nxt].text, _party()[low])
                    if cands:
                        span = Span(doc, tok.i, nxt + 1, label="UNIT")
                        admin = choose(cands, ctx)
                        span._.unit = UnitRef(
                            name=admin.display if admin else doc[nxt].text, kind="territory", admin=admin)
                        out.append(span)
                continue
            if tok.text in ("Sở", "Bộ"):
                span = self._sector(doc, tok)
                if span is not None:
                    kind = "department" if tok.text == "Sở" else "ministry"
                    span._.unit = UnitRef(name=span.text, kind=kind)
                    out.append(span)
                continue
        for match_id, start, end in self.exact(doc):
            if self.vocab.strings[match_id] == "BODY":
                span = Span(doc, start, end, label="UNIT")
                span._.unit = UnitRef(name=span.text, kind="body")
                out.append(span)
        out += self._agencies(doc, text)
        return out

    def _sector(self, doc: Doc, tok) -> Span | None:
        at = tok.idx + len(tok.text)
        if doc.text[at:at + 1] != " ":
            return None
        for sector in self.sectors:
            m = sector.match(doc.text, at + 1)
            if m:
                return doc.char_span(tok.idx, m.end(), label="UNIT", alignment_mode="expand")
        return None

    def _agencies(self, doc: Doc, text: str) -> list[Span]:
        """"Phòng Nội vụ huyện An Dương", "Cục Kiểm soát TTHC": head word + capitalised name."""
        out = []
        heads = "|".join(re.escape(h) for h in self.agency_heads if h not in ("Sở", "Bộ"))
        pattern = re.compile(rf"(?<!\w)(?:{heads}) (?:[{UPPER}][\w&]*)(?: (?:và |- )?[{UPPER}][\w&]*)*")
        for m in pattern.finditer(text):
            span = doc.char_span(m.start(), m.end(), label="UNIT", alignment_mode="contract")
            if span is None or len(span) < 2:
                continue
            span._.unit = UnitRef(name=span.text, kind="body")
            out.append(span)
        return out

    # -- anaphora -------------------------------------------------------------
    def _resolve_references(self, doc: Doc, units: list[Span], ctx: Context) -> None:
        """Bare "huyện", "Thị trấn", "UBND tỉnh", "huyện này" -> the last full mention of that level."""
        refs = _references()
        covered = {i for s in units for i in range(s.start, s.end)}
        last: dict[str, UnitRef] = {}
        items: list[Span] = sorted(units, key=lambda s: s.start)
        extra: list[Span] = []
        # anaphoric phrases ("huyện này")
        for tok in doc:
            if tok.i in covered:
                continue
            two = f"{tok.lower_} {tok.nbor(1).lower_}" if tok.i + 1 < len(doc) else ""
            level = refs.get(two)
            if level:
                span = Span(doc, tok.i, tok.i + 2, label="UNIT")
                extra.append(span)
                covered.update({tok.i, tok.i + 1})
                continue
            if tok.lower_ in _unit_types() or tok.text == "Sở":
                prev = doc[tok.i - 1].lower_ if tok.i else ""
                prev2 = doc[tok.i - 2].lower_ if tok.i > 1 else ""
                nxt = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
                in_list = prev in (",", "và", "/", "-") and prev2 in _unit_types()
                if prev in _QUANTIFIERS or in_list or (
                        nxt is not None and (nxt.text in (",", "và", "/") or nxt.text[:1].isupper())):
                    continue
                extra.append(Span(doc, tok.i, tok.i + 1, label="UNIT"))
        for span in sorted(items + extra, key=lambda s: s.start):
            ref: UnitRef | None = span._.unit
            if ref is not None:
                level = ref.admin.level if ref.admin else ref.kind
                last[level] = ref
                if ref.admin:
                    last["territory"] = ref
                    if ref.admin.type == "Thành phố":
                        last["city"] = ref
                continue
            level = self._reference_level(span, refs)
            if span[-1].lower_ in ("thành phố", "tp.", "tp"):
                target = last.get("city")
            else:
                target = last.get(level) if level != "any" else last.get("territory")
            if target is not None:
                span._.unit = UnitRef(name=target.name, kind=target.kind, admin=target.admin, antecedent=True)
        units.extend(s for s in extra if s._.unit is not None)
        units[:] = [s for s in units if s._.unit is not None]

    @staticmethod
    def _reference_level(span: Span, refs: dict[str, str]) -> str:
        low = span.text.lower()
        if low in refs:
            return refs[low]
        word = span[-1].lower_
        if word == "sở":
            return "department"
        level = _unit_types().get(word, ("any", ""))[0]
        return level

    # -- people and roles -----------------------------------------------------
    def _roles(self, doc: Doc, units: list[Span]) -> list[Span]:
        unit_at = {s.start: s for s in units}
        matches = filter_spans([Span(doc, s, e) for mid, s, e in self.exact(doc) if self.vocab.strings[mid] == "ROLE"])
        out = []
        for m in matches:
            end = m.end
            # "Phó Bí thư Thường trực Đảng ủy", "Chủ tịch UBND quận Hai Bà Trưng"
            while end < len(doc) and end in unit_at:
                end = unit_at[end].end
                break
            if end == m.end and end < len(doc) and (doc[end].lower_ in _party() or doc[end].lower_ in _COUNCIL_PREFIX):
                end += 1
                if end < len(doc) and doc[end].lower_ in _unit_types():
                    end += 1
            if end == m.end and m.text.lower() in ("lãnh đạo", "đại biểu"):
                continue  # generic nouns unless tied to a unit
            span = Span(doc, m.start, end, label="ROLE")
            span._.role_unit = unit_at[m.end]._.unit if m.end in unit_at else None
            out.append(span)
        return out

    def _persons(self, doc: Doc, taken_spans: list[Span]) -> list[Span]:
        taken = {i for s in taken_spans if s.label_ == "UNIT" for i in range(s.start, s.end)}
        out = []
        i = 0
        while i < len(doc):
            tok = doc[i]
            if i in taken or not tok.text[:1].isupper():
                i += 1
                continue
            syllables = tok.text.split()
            j = i + 1
            while j < len(doc) and j not in taken and doc[j].text[:1].isupper() and doc[j].tag_ in ("Np", "N") \
                    and len(syllables) < 4 and doc[j].text.replace(" ", "").isalpha():
                syllables += doc[j].text.split()
                j += 1
            prev = doc[i - 1].lower_ if i else ""
            if syllables[0] in self.surnames and 2 <= len(syllables) <= 4 and all(s[:1].isupper() for s in syllables):
                out.append(Span(doc, i, j, label="PERSON"))
                i = j
                continue
            if prev in self.honorifics and 2 <= len(syllables) <= 4 and all(s[:1].isupper() for s in syllables):
                out.append(Span(doc, i, j, label="PERSON"))
                i = j
                continue
            i += 1
        return out

    # -- numbers, indices, legal documents -----------------------------------
    def _numbers(self, doc: Doc) -> list[Span]:
        out = []
        for tok in doc:
            t = tok.text
            if not t[:1].isdigit():
                continue
            prev = doc[tok.i - 1].lower_ if tok.i else ""
            if t.endswith("%"):
                label = "PERCENT"
            elif _DATE_FULL.match(t) or _MONTH_YEAR.match(t) and prev == "tháng":
                label = "DATE"
            elif _FRACTION.match(t):
                a, b = (float(x.replace(",", ".")) for x in _FRACTION.match(t).groups()[:2])
                is_date = prev in _DATE_CUES and "," not in t and 1 <= a <= 31 and 1 <= b <= 12
                label = "DATE" if is_date else "FRACTION"
            elif re.fullmatch(r"(?:19|20)\d{2}", t):
                label = "YEAR"
            elif re.fullmatch(r"\d+(?:[.,]\d+)*", t):
                label = "NUMBER"
            else:
                continue
            out.append(Span(doc, tok.i, tok.i + 1, label=label))
        return out

    def _indices(self, doc: Doc) -> list[Span]:
        return filter_spans([Span(doc, s, e, label="INDEX") for _, s, e in self.phrases(doc)])

    def _legal(self, doc: Doc) -> list[Span]:
        out = []
        for m in _LEGAL.finditer(doc.text):
            span = doc.char_span(m.start(), m.end(), label="LEGAL_DOC", alignment_mode="expand")
            if span is not None:
                out.append(span)
        return out


def _loose(phrase: str) -> str:
    """A regex for a name that tolerates spacing and punctuation variants around "-" and ","."""
    parts = re.split(r"\s*([-–,])\s*|\s+", phrase)
    out = []
    for part in parts:
        if part is None or part == "":
            continue
        out.append(r"\s*[-–,]?\s*" if part in "-–," else re.escape(part))
    body = r"\s+".join(out).replace(r"\s+\s*[-–,]?\s*\s+", r"\s*[-–,]?\s*")
    return body + r"(?!\w)"


@Language.factory("parlens_entities")
def create_entity_recognizer(nlp: Language, name: str) -> EntityRecognizer:
    return EntityRecognizer(nlp)


def unit_key(ref: UnitRef | None) -> str:
    """A grouping key for a unit: its code when territorial, else its folded name."""
    if ref is None:
        return ""
    return ref.code or fold(ref.name)
