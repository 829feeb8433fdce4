"""Domain entities as spaCy spans: UNIT, PERSON, ROLE, PERCENT, NUMBER, FRACTION,
DATE, YEAR, INDEX and LEGAL_DOC.

All spans go to the span group ``doc.spans["entities"]`` (they may nest: a
ROLE "Chủ tịch UBND quận Hai Bà Trưng" contains a UNIT); ``doc.ents`` holds
the longest non-overlapping ones for display. UNIT spans carry the official
unit they resolve to (``span._.unit``) and the text that refers to it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from nlp.lexicons import lines, table
from nlp.normalize import UPPER, fold
from nlp.segment import text_of
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
    written: str | None = field(default=None, compare=False)  # the mention as the text writes it ("TP.HCM")

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

_QUANTIFIERS = {"các", "những", "mỗi", "từng", "nhiều", "một số", "hai", "ba", "2", "3", "giữa"}
_COUNCIL_PREFIX = {"ubnd", "hđnd", "ủy ban nhân dân", "uỷ ban nhân dân", "hội đồng nhân dân", "ub", "ubmttq"}
_DATE_CUES = {"ngày", "sáng", "chiều", "tối", "trưa", "đêm", "hôm", "từ", "đến", "tới", "hết"}
_LAW = re.compile(r"(?<!\w)Luật [A-ZĐ\u00C0-\u1EF9][\w]*(?: [\w]+){0,7}?(?=\s*[,.;:)“”\"]|\s(?:và|năm|số|đã|được|theo|để|nhằm|mới|hiện hành)\b)")
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
        tail = "" if abbr.endswith(".") else r"(?![\wĐđ&])"  # "TP.Hà Nội" has no space after the dot
        out = re.sub(rf"(?<![\wĐđ]){re.escape(abbr)}{tail}\s*", full + " ", out)
    out = re.sub(r"\s+([,.;:)])", r"\1", out)
    return re.sub(r"\s+", " ", out).strip()


class EntityRecognizer:
    """Rule-based domain NER over underthesea words, with unit resolution."""

    def __init__(self, nlp: Language):
        self.vocab = nlp.vocab
        self.matcher = Matcher(nlp.vocab)
        types = list(_unit_types())
        self.matcher.add("UNIT_TYPED", [
            [{"LOWER": {"IN": types}}, {"TEXT": {"REGEX": rf"^(?:[{UPPER}0-9][^\s]*)(?:\s+[{UPPER}][^\s]*)*$"}, "OP": "+"}],
        ], greedy="LONGEST")
        # Lexicon phrases are matched on the text, not on tokens: underthesea may
        # segment a phrase differently inside a sentence than on its own.
        self.index_re = _phrase_regex([p for _, p in table("nlp", "indices.tsv")], re.IGNORECASE)
        self.body_re = _phrase_regex(lines("nlp", "bodies.txt"))
        self.not_body_re = re.compile(r"\s(?:" + "|".join(f"(?:{p})" for p in lines("nlp", "not_bodies.tsv")) + ")",
                                      re.IGNORECASE)
        self.role_re = _phrase_regex(lines("nlp", "roles.txt"))
        sectors = sorted(lines("nlp", "sectors.txt"), key=len, reverse=True)
        self.sector_only_re = re.compile("|".join(_loose(x) for x in sectors))
        self.sector_re = re.compile(r"(?<!\w)(?P<head>Sở|Bộ|Phòng|Ban|Vụ|Cục|Chi cục) (?:"
                                    + "|".join(_loose(x) for x in sectors) + ")")
        party = sorted(_party(), key=len, reverse=True)
        self.party_re = re.compile(rf"(?<!\w)(?P<party>{'|'.join(p[0].upper() + p[1:] for p in party)})"
                                   rf"(?: (?P<name>[{UPPER}][\w]*(?: [{UPPER}][\w]*){{0,3}}))?(?!\w)")
        heads = sorted((h for h in lines("nlp", "agency_heads.txt")), key=len, reverse=True)
        self.agency_re = re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(h) for h in heads)}) "
                                    rf"(?:[{UPPER}][\w&]*)(?: (?:và |- )?[{UPPER}][\w&]*)*")
        # "Công an tỉnh", "TAND huyện Cam Lộ": an agency named by the territory it serves
        types = sorted((t for t in _unit_types() if t.isalpha() or " " in t), key=len, reverse=True)
        self.agency_of_re = re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(h) for h in heads)})"
                                       rf"(?= (?:{'|'.join(re.escape(t) for t in types)})(?!\w))", re.UNICODE)
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
        legal = self._legal(doc)
        spans += legal
        spans += self._numbers(doc, blocked=_ranges(legal) + _standard_codes(text_of(doc)))
        spans += self._indices(doc)
        spans = sorted(set(spans), key=lambda s: (s.start_char, -s.end_char))
        for span in spans:
            _keep_written(span)
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
            elif re.fullmatch(r"TP[A-ZĐ]{2,4}", tok.text) and g.is_province(tok.text[2:]):
                # "TPHCM": the city's type word run into its abbreviated name
                found.append((doc[tok.i:tok.i + 1], g.candidates(tok.text[2:], "province"), "Thành phố"))
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
        for tok in doc:
            low = tok.lower_
            nxt = tok.i + 1
            # UBND / HĐND + territory, or + a bare type word resolved from context
            if low in _COUNCIL_PREFIX:
                if nxt in by_start:
                    terr = by_start[nxt]
                    span = Span(doc, tok.i, terr.end, label="UNIT")
                    span._.unit = terr._.unit
                    out.append(span)
                elif self._bare_council(doc, tok.i):
                    out.append(Span(doc, tok.i, nxt, label="UNIT"))  # "Huyện ủy, HĐND, UBND huyện"
                elif nxt < len(doc) and doc[nxt].lower_ in _unit_types() and not self._names_place(doc, nxt + 1) \
                        and not (nxt + 2 < len(doc) and doc[nxt + 1].text in (",", "và")
                                 and doc[nxt + 2].lower_ in _unit_types() and not self._names_place(doc, nxt + 3)):
                    out.append(Span(doc, tok.i, nxt + 1, label="UNIT"))  # resolved by reference
                continue
        text = text_of(doc)
        # party committees: "Huyện ủy Ứng Hòa", or bare "Huyện ủy" for the one in context
        for m in self.party_re.finditer(text):
            level = _party()[m.group("party").lower()]
            name = m.group("name")
            cands = gazetteer().candidates(name, level) if name else []
            end = m.end() if cands else m.end("party")
            territory = None if cands else next((t for t in territories if t.start_char == end + 1
                                                 and text[end:t.start_char] == " "), None)
            if territory is not None:   # "Thành ủy TP HCM", "Quận ủy quận 2": the committee of that territory
                span = doc.char_span(m.start(), territory.end_char, label="UNIT", alignment_mode="expand")
                if span is not None:
                    span._.unit = territory._.unit
                    out.append(span)
                continue
            span = doc.char_span(m.start(), end, label="UNIT", alignment_mode="expand")
            if span is None:
                continue
            if cands:
                admin = choose(cands, ctx)
                span._.unit = UnitRef(name=admin.display if admin else name, kind="territory", admin=admin)
            out.append(span)  # a bare one is resolved by reference
        for m in self.body_re.finditer(text):
            if self.not_body_re.match(text, m.end()):
                continue   # "Chính phủ điện tử" is a programme, not the Government
            span = doc.char_span(m.start(), m.end(), label="UNIT", alignment_mode="expand")
            if span is not None:
                span._.unit = UnitRef(name=expand_abbreviations(m.group(0)), kind="body")
                out.append(span)
        out += self._sector_bodies(doc, territories)
        out += self._agencies(doc, territories)
        return out

    @staticmethod
    def _bare_council(doc: Doc, i: int) -> bool:
        """UBND/HĐND standing alone in a list of bodies, meaning the council in context."""
        if doc[i].text not in ("UBND", "HĐND"):
            return False
        prev = doc[i - 1].text if i else ""
        nxt = doc[i + 1].text if i + 1 < len(doc) else ""
        return nxt in (",", ";", "và", ".", "") and prev.lower() not in _QUANTIFIERS

    def _names_place(self, doc: Doc, i: int) -> bool:
        """True when token i starts a place name (not a person: "UBND tỉnh Nguyễn Đức Trung")."""
        if i >= len(doc) or not doc[i].text[:1].isupper():
            return False
        return doc[i].text.split()[0] not in self.surnames

    def _extend(self, doc: Doc, span: Span, territories: list[Span]) -> tuple[Span, UnitRef | None]:
        """Grow a body's span over an "(ABBR)" gloss and the territory it belongs to."""
        text = text_of(doc)
        end = span.end_char
        m = re.match(r"\s*\([^()\n]{1,25}\)", text[end:end + 30])
        if m:
            end += m.end()
        territory = None
        for t in territories:
            if 0 < t.start_char - end <= 1 and text[end:t.start_char].isspace():
                territory, end = t, t.end_char
                break
        if territory is None:
            m = re.match(r"\s+((?:tỉnh|thành phố|TP\.?)\s*)?([" + UPPER + r"][\w]*(?:\s+[" + UPPER + r"][\w]*){0,3})",
                         text[end:end + 40])
            if m and gazetteer().is_province(m.group(2)):
                end += m.end()
        grown = doc.char_span(span.start_char, end, label="UNIT", alignment_mode="expand")
        return grown or span, (territory._.unit if territory is not None else None)

    def _sector_bodies(self, doc: Doc, territories: list[Span]) -> list[Span]:
        """"Sở Tài chính", "Bộ Nội vụ", "Phòng Nội vụ huyện An Dương", "Ban Dân tộc", "Sở LĐTB&XH Hà Nội"."""
        out = []
        for m in self.sector_re.finditer(text_of(doc)):
            span = doc.char_span(m.start(), m.end(), label="UNIT", alignment_mode="expand")
            if span is None:
                continue
            head = m.group("head")
            span, territory = self._extend(doc, span, territories)
            kind = {"Sở": "department", "Bộ": "ministry"}.get(head, "body")
            province = None
            if territory is not None and territory.admin is not None:
                province = territory.admin.province
            else:
                tail = text_of(doc)[m.end():span.end_char]
                prov = re.search(r"([" + UPPER + r"][\w]*(?:\s+[" + UPPER + r"][\w]*){0,3})\s*$", tail)
                if prov and gazetteer().is_province(prov.group(1)):
                    province = gazetteer().candidates(prov.group(1), "province")[0].name
            # the "(LĐTB&XH)" gloss is not part of the name, and "Sở TT&TT" is "Sở Thông tin và Truyền thông"
            surface = re.sub(r"\s*\([^()]*\)", "", span.text)
            name = expand_abbreviations(surface)
            span._.unit = UnitRef(name=name, kind=kind, province=province,
                                  written=_abbreviated_only(doc, surface, name, head))
            out.append(span)
        return out

    def _before_person(self, m: re.Match) -> int:
        """Where an agency's capitalised name stops before a person's ("Bộ trưởng Công an Trần Văn Lâm"):
        a run of two to four capitalised syllables opening with a surname that names no place."""
        words = list(re.finditer(r"\S+", m.group(0)))
        for i in range(1, len(words)):
            run = [w.group(0) for w in words[i:i + 4]]
            if run[0] in self.surnames and 2 <= len(run) and not gazetteer().is_province(" ".join(run[:2])) \
                    and all(w[:1].isupper() for w in run[:2]):
                return m.start() + words[i].start() - 1
        return m.end()

    def _agencies(self, doc: Doc, territories: list[Span]) -> list[Span]:
        """"Cục Kiểm soát TTHC", "Văn phòng HĐND và UBND quận": head word + capitalised name."""
        out = []
        for m in self.agency_re.finditer(text_of(doc)):
            span = doc.char_span(m.start(), self._before_person(m), label="UNIT", alignment_mode="contract")
            if span is None or len(span) < 2:
                continue
            span, territory = self._extend(doc, span, territories)
            end = span.end
            if territory is None and end < len(doc) and doc[end].lower_ in _unit_types() \
                    and not self._names_place(doc, end + 1):
                span = Span(doc, span.start, end + 1, label="UNIT")  # "... UBND quận": the one in context
            span._.unit = UnitRef(name=re.sub(r"\s*\([^()]*\)", "", span.text), kind="body",
                                  admin=territory.admin if territory is not None else None)
            out.append(span)
        taken = {i for s in out for i in range(s.start, s.end)}
        for m in self.agency_of_re.finditer(text_of(doc)):
            head = doc.char_span(m.start(), m.end(), label="UNIT", alignment_mode="expand")
            if head is None or head.start in taken or head.end >= len(doc):
                continue
            span, territory = self._extend(doc, head, territories)
            if territory is None:
                if not doc[head.end].lower_ in _unit_types():
                    continue
                span = Span(doc, head.start, head.end + 1, label="UNIT")  # "Công an tỉnh": the one in context
            span._.unit = UnitRef(name=span.text, kind="body",
                                  admin=territory.admin if territory is not None else None)
            out.append(span)
        return out

    # -- anaphora -------------------------------------------------------------
    def _resolve_references(self, doc: Doc, units: list[Span], ctx: Context) -> None:
        """Bare "huyện", "Thị trấn", "UBND tỉnh", "huyện này" -> the last full mention of that level."""
        refs = _references()
        covered = {i for s in units for i in range(s.start, s.end)}
        last: dict[str, UnitRef] = {}
        extra: list[Span] = []
        for tok in doc:
            if tok.i in covered:
                continue
            prev = doc[tok.i - 1].lower_ if tok.i else ""
            prev2 = doc[tok.i - 2].lower_ if tok.i > 1 else ""
            after2 = doc[tok.i + 2].lower_ if tok.i + 2 < len(doc) else ""
            in_list = prev in (",", "và", "/", "-") and prev2 in _unit_types() and prev2 != tok.lower_
            two = f"{tok.lower_} {tok.nbor(1).lower_}" if tok.i + 1 < len(doc) else ""
            if two in refs:
                if not in_list:  # "lãnh đạo 2 quận, huyện này" names both
                    extra.append(Span(doc, tok.i, tok.i + 2, label="UNIT"))
                covered.update({tok.i, tok.i + 1})
                continue
            if tok.lower_ in _unit_types() or tok.text == "Sở":
                nxt = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
                list_next = nxt is not None and nxt.text in (",", "và", "/") and after2 in _unit_types() \
                    and after2 != tok.lower_
                if prev in _QUANTIFIERS or in_list or list_next or prev in ("cấp", "trực thuộc") or (
                        nxt is not None and nxt.text[:1].isupper()):
                    continue
                extra.append(Span(doc, tok.i, tok.i + 1, label="UNIT"))
        for span in sorted(units + extra, key=lambda s: s.start):
            ref: UnitRef | None = span._.unit
            if ref is not None:
                level = ref.admin.level if ref.admin else ref.kind
                if ref.admin is None and ref.kind == "territory":
                    # a territory the gazetteer does not know ("quận 2" since merged): its type word says its level
                    level = _unit_types().get(ref.name.split()[0].lower() if ref.name else "", (level, ""))[0]
                    if level not in ("province", "district", "ward"):
                        level = ref.kind
                last[level] = ref
                if ref.admin or level != ref.kind:
                    last["territory"] = ref
                    if ref.admin is not None and ref.admin.type == "Thành phố":
                        last["city"] = ref
                continue
            level = self._reference_level(span, refs)
            if span[-1].lower_ in ("thành phố", "tp.", "tp"):
                target = last.get("city") or self._main_province(ctx)
            elif level == "province":
                target = last.get("province") or self._main_province(ctx)
            else:
                target = last.get(level) if level != "any" else last.get("territory")
                if target is None and level == "district":
                    target = self._district_of(last.get("ward"))
            if target is not None:
                span._.unit = UnitRef(name=target.name, kind=target.kind, admin=target.admin, antecedent=True)
            elif span[0].lower_ in _COUNCIL_PREFIX or span[0].lower_ in _party():
                # a council of a unit the text never names ("UBND thành phố"): kept, without a code
                span._.unit = UnitRef(name=span.text, kind="council")
        units.extend(s for s in extra if s._.unit is not None)
        units[:] = [s for s in units if s._.unit is not None]

    @staticmethod
    def _district_of(ward: UnitRef | None) -> UnitRef | None:
        """The district a named commune lies in: "HĐND huyện" in a report on thị trấn Trạm Trôi."""
        if ward is None or ward.admin is None or not ward.admin.district_code:
            return None
        unit = gazetteer().by_code.get(("district", ward.admin.district_code))
        return UnitRef(name=f"{unit.type.lower()} {unit.short}", kind="territory", admin=unit) if unit else None

    @staticmethod
    def _main_province(ctx: Context) -> UnitRef | None:
        code = ctx.main_province
        unit = gazetteer().by_code.get(("province", code)) if code else None
        return UnitRef(name=f"{unit.type.lower()} {unit.short}", kind="territory", admin=unit) if unit else None

    @staticmethod
    def _reference_level(span: Span, refs: dict[str, str]) -> str:
        low = span.text.lower()
        if low in refs:
            return refs[low]
        word = span[-1].lower_
        if word == "sở":
            return "department"
        if word in _COUNCIL_PREFIX:
            return "any"
        if word in _party():
            return _party()[word]
        return _unit_types().get(word, ("any", ""))[0]

    # -- people and roles -----------------------------------------------------
    def _roles(self, doc: Doc, units: list[Span]) -> list[Span]:
        text = text_of(doc)
        unit_at = {s.start_char: s for s in units}
        out = []
        for m in self.role_re.finditer(text):
            end = m.end()
            sector = self.sector_only_re.match(text, end + 1) if text[end:end + 1] == " " else None
            if sector and m.group(0).lower().startswith(("trưởng phòng", "phó trưởng phòng", "trưởng ban",
                                                         "phó trưởng ban", "vụ trưởng", "cục trưởng")):
                end = sector.end()
            unit = None
            nxt = end + 1 if text[end:end + 1] == " " else end
            if nxt in unit_at:
                unit = unit_at[nxt]
                end = unit.end_char
            else:
                after = re.match(r"\s(?:UBND|HĐND|Đảng ủy|Huyện ủy|Quận ủy|Tỉnh ủy|Thành ủy|Thị ủy)"
                                 r"(?:\s(?:tỉnh|huyện|quận|xã|phường|thị trấn|thị xã|thành phố))?(?!\w)", text[end:end + 40])
                if after:
                    end += after.end()
            if end == m.end() and m.group(0).lower() in ("lãnh đạo", "đại biểu"):
                continue  # generic nouns unless tied to a unit
            span = doc.char_span(m.start(), end, label="ROLE", alignment_mode="expand")
            if span is None:
                continue
            span._.role_unit = unit._.unit if unit is not None else None
            out.append(span)
        return filter_spans(out)

    def _persons(self, doc: Doc, taken_spans: list[Span]) -> list[Span]:
        taken = {i for s in taken_spans if s.label_ == "UNIT" for i in range(s.start, s.end)}
        out = []
        for m in _CREDIT.finditer(text_of(doc)):  # "Ảnh: VGP/Minh Anh" names a photographer
            span = doc.char_span(m.start("name"), m.end("name"), label="PERSON", alignment_mode="expand")
            if span is not None:
                out.append(span)
                taken.update(range(span.start, span.end))
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
    def _numbers(self, doc: Doc, blocked: list[tuple[int, int]]) -> list[Span]:
        """Numbers by shape; none inside a document number or a standard's code ("ISO 9001:2008")."""
        out = []
        for tok in doc:
            t = tok.text
            if not t[:1].isdigit() or any(a <= tok.idx < b for a, b in blocked):
                continue
            prev = doc[tok.i - 1].lower_ if tok.i else ""
            if prev == "tháng" and t.isdigit() and 1 <= int(t) <= 12:
                label = "DATE"
            elif prev == "thứ" and tok.i > 1 and doc[tok.i - 2].lower_ == "ngày":
                continue  # a weekday's name ("Ngày thứ 4"), not a quantity
            elif t.endswith("%"):
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
        spans = (doc.char_span(m.start(), m.end(), label="INDEX", alignment_mode="expand")
                 for m in self.index_re.finditer(text_of(doc)))
        return filter_spans([s for s in spans if s is not None])

    def _legal(self, doc: Doc) -> list[Span]:
        out = []
        for m in list(_LEGAL.finditer(text_of(doc))) + list(_LAW.finditer(text_of(doc))):
            span = doc.char_span(m.start(), m.end(), label="LEGAL_DOC", alignment_mode="expand")
            if span is not None:
                out.append(span)
        return out


def _ranges(spans: list[Span]) -> list[tuple[int, int]]:
    return [(s.start_char, s.end_char) for s in spans]


_CREDIT = re.compile(r"(?:Ảnh|Ảnh minh họa|Video|Clip)\s*:\s*(?:[A-ZĐ]{2,}/)?(?P<name>[A-ZĐ\u00C0-\u1EF9][\w]*(?: [A-ZĐ\u00C0-\u1EF9][\w]*){1,3})")
_STANDARD = re.compile(r"\b(?:ISO|TCVN|IEC)\s*[\d:.\-]+")


def _standard_codes(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _STANDARD.finditer(text)]


def _phrase_regex(phrases, flags: int = 0) -> re.Pattern:
    """One pattern for a phrase list, longest first, whole words only."""
    alts = "|".join(_loose(p) for p in sorted(set(phrases), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alts})", flags)


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


def _abbreviated_only(doc: Doc, surface: str, name: str, head: str) -> str | None:
    """A body the text writes only abbreviated ("Bộ KH-ĐT", never "Kế hoạch và Đầu tư") is
    reported as written; one the text also spells out keeps its full name."""
    if name == surface:
        return None
    folded = doc.user_data.get("parlens_folded_text")
    if folded is None:
        folded = doc.user_data["parlens_folded_text"] = f" {fold(text_of(doc))} "
    spelled = fold(name[len(head):] if name.startswith(head) else name)
    return None if spelled and f" {spelled} " in folded else surface


def _keep_written(span: Span) -> None:
    """Remember how the text writes a territory it names outright ("TP.HCM", "Hà Nội"), which
    readers quote; a council's prefix is dropped ("UBND TP.HCM" names the city), bodies keep
    their full name ("Sở TT&TT" is reported as "Sở Thông tin và Truyền thông"), and a bare or
    anaphoric mention ("thành phố") keeps the resolved name."""
    ref = span._.unit if span.label_ == "UNIT" else None
    if ref is None or ref.antecedent or ref.written is not None or ref.admin is None:
        return
    words = " ".join(span.text.split()).strip(" ,.;:()").split()
    if words and words[0].lower() in _COUNCIL_PREFIX:
        words = words[1:]
    written = " ".join(words)
    if written and written.lower() != ref.name.lower() and any(ch.isupper() for ch in written[1:]):
        span._.unit = replace(ref, written=written)
