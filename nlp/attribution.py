"""Which unit a statement is about: the addressee of a request, the clause's subject, the last
unit before it in the sentence, the unit of a leader speaking for it, else the topic.

Units inside a speaker's introduction (a delegate's constituency "đoàn ĐBQH tỉnh X", the unit
in a title) describe the speaker, not the statement, and are left out when `blocked` names them.
"""
from __future__ import annotations

import dataclasses
import re
from functools import lru_cache

from typing import TYPE_CHECKING

from spacy.tokens import Doc, Span

from nlp.entities import _COUNCIL_PREFIX, UnitRef, expand_abbreviations
from corpus.lexicons import lines
from nlp.segment import text_of

if TYPE_CHECKING:
    from nlp.statements import Statement


_REQUEST = re.compile(r"\b(?:đề nghị|yêu cầu|giao|giao cho|chỉ đạo|kiến nghị|đề xuất với)\b", re.IGNORECASE)
_SUPERVISOR = re.compile(r"^(?:HĐND|Hội đồng nhân dân|Đoàn giám sát|Thường trực HĐND)", re.IGNORECASE)
# A unit right after one of these is a complement ("Nghị quyết 63 của Chính phủ", "trước Quốc hội"), not a
# subject; "năm trước quận …" (last year the district …) is time, not a preposition.
_COMPLEMENT = re.compile(r"(?:của|với|so với|tại|theo|cho|đối với|từ|về|trong|thuộc|giữa|như|tinh thần"
                         r"|(?<!năm )(?<!tháng )(?<!tuần )(?<!ngày )(?<!hôm )(?<!lần )(?<!kỳ )trước)\s*$",
                         re.IGNORECASE)


def as_written(span: Span):
    """The span's territory named as the text writes it ("TP HCM", "Hà Nội"), code and province
    kept: a unit is reported as written. A bare reference ("thành phố", "huyện này")
    takes the name of the full mention it refers to, as written there."""
    ref = span._.unit
    if ref is None:
        return None
    if ref.antecedent:
        return _written_names(span.doc).get(span.start_char, ref)
    words = span.text.split()
    if ref.admin is not None and words and words[0].lower() in _COUNCIL_PREFIX:
        words = words[1:]   # "UBND quận Hai Bà Trưng": the territory, as written
    surface = " ".join(words)
    if ref.admin is None or not any(ch.isupper() for ch in surface[1:]):
        return ref   # bodies keep their full name ("Sở TT&TT" is "Sở Thông tin và Truyền thông")
    return dataclasses.replace(ref, written=surface)   # the normalised name stays beside it


def _written_names(doc: Doc) -> dict[int, object]:
    """Each bare reference's unit named as the text last wrote it in full (computed once per Doc)."""
    from nlp.entities import GROUP

    cached = doc.user_data.get("parlens_written_units")
    if cached is not None:
        return cached
    last: dict[str, object] = {}
    out: dict[int, object] = {}
    for s in sorted((s for s in doc.spans[GROUP] if s.label_ == "UNIT" and s._.unit is not None),
                    key=lambda s: s.start_char):
        ref = s._.unit
        key = ref.code or ref.name
        if not ref.antecedent:
            last[key] = as_written(s)
        elif key in last:
            out[s.start_char] = dataclasses.replace(ref, written=last[key].written)
    doc.user_data["parlens_written_units"] = out
    return out


def _can_be_subject(span: Span) -> bool:
    """Councils that question or supervise (HĐND) are not what a statement is about."""
    return not _SUPERVISOR.match(span.text)


def attribute_units(doc: Doc, statements: list["Statement"], blocked: list[tuple[int, int]] = ()) -> None:
    """Each statement's unit, most specific evidence first: the addressee of a request (for
    remedies), the clause's own subject, the last unit before it in the sentence, the unit
    of a leader speaking for it, else the unit the text has been talking about (topic)."""
    from nlp.entities import GROUP

    roles = [s for s in doc.spans[GROUP] if s.label_ == "ROLE"]
    in_role = {i for r in roles for i in range(r.start_char, r.end_char)}
    # units inside a title ("Phó Chủ tịch HĐND huyện") describe a person, not a subject
    units = [s for s in doc.spans[GROUP] if s.label_ == "UNIT" and s._.unit is not None and _can_be_subject(s)
             and s.start_char not in in_role and not any(a <= s.start_char < b for a, b in blocked)]
    pending = sorted(statements, key=lambda st: st.clause.start)
    frames = sector_frames(doc)
    topic = None
    i = 0
    for sent in doc.sents:
        s_units = [u for u in units if sent.start_char <= u.start_char < sent.end_char]
        leader = None
        for r in roles:  # "Lãnh đạo UBND huyện Ứng Hòa cho biết, ...": a territory's leader speaks for it
            if any(a <= r.start_char < b for a, b in blocked):
                continue   # the speaker's own title: the speaker attribution decides
            ref = r._.role_unit
            if sent.start_char <= r.start_char < sent.start_char + 80 and ref is not None and ref.admin is not None:
                leader = ref
                break
        while i < len(pending) and pending[i].clause.start < sent.end_char:
            st = pending[i]
            while frames and frames[0][0] <= st.clause.start:
                _, framed = frames.pop(0)
                if topic is None or topic.admin is None:   # a territory's report keeps its territory
                    topic = framed
            st.unit, st.unit_source = _unit_for(doc, st, s_units, leader, topic)
            i += 1
        while frames and frames[0][0] < sent.end_char:
            _, framed = frames.pop(0)
            if topic is None or topic.admin is None:
                topic = framed
        # only a territory or a department can be what a stretch of text is about;
        # national bodies ("Chính phủ", "Quốc hội") appear as issuers and addressees
        head = [u for u in s_units if u.start_char - sent.start_char < 80
                and (u._.unit.admin is not None or u._.unit.kind in ("department", "ministry"))]
        if leader is not None:
            topic = leader
        elif head:
            topic = as_written(head[0])


@lru_cache(maxsize=1)
def _sector_frame_re() -> re.Pattern:
    openers = "|".join(f"(?:{p})" for p in lines("nlp", "sector_frames.tsv"))
    sectors = "|".join(re.escape(x) for x in sorted(lines("nlp", "sectors.txt"), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{openers})\s+(?:lĩnh vực|ngành)\s+(?P<sector>(?i:{sectors}))\s*[,:]")


def sector_frames(doc: Doc) -> list[tuple[int, UnitRef]]:
    """ "Đối với lĩnh vực y tế, ...": where the text turns to a sector, and that sector's ministry."""
    from corpus.normalize import fold

    out = []
    for m in _sector_frame_re().finditer(text_of(doc)):
        sector = m.group("sector")
        key = fold(expand_abbreviations(sector))
        ministry = next((x for x in lines("nlp", "ministries.txt") if fold(x).startswith(key) or key.startswith(fold(x))),
                        None)
        if ministry is None:
            continue   # "lĩnh vực kinh tế" has no ministry of its own
        written = f"Bộ {sector[0].upper()}{sector[1:]}"
        out.append((m.start(), UnitRef(name=f"Bộ {ministry}", kind="ministry", written=written)))
    return out


def _addressed_title(doc: Doc, at: int):
    """The body of an official addressed by title right after a request ("giao Bộ trưởng GTVT")."""
    from nlp.entities import GROUP
    from nlp.speakers import _body_of, _role_text

    text = text_of(doc)
    for r in doc.spans[GROUP]:
        if r.label_ == "ROLE" and at <= r.start_char <= at + 3:
            limit = re.search(r"[,.;:]", text[r.start_char:r.start_char + 80])
            end = r.start_char + (limit.start() if limit else 80)
            return _body_of(doc, r.start_char, r.end_char, _role_text(text, r, end))
    return None


def _subject_request(text: str, units: list[Span], start: int, end: int):
    """A request a unit makes inside the clause ("…, huyện đề nghị UBND thành phố bảo đảm kinh phí"):
    the unit right before the request verb (only adverbs between) asks, so the measure is the
    addressee's. A request after some other verb ("Sở tăng cường kiểm tra, đồng thời kiến nghị …")
    leaves the clause to its subject."""
    for m in _REQUEST.finditer(text, start, end):
        asker = [u for u in units if u.end_char <= m.start() and m.start() - u.end_char <= 12]
        if asker and re.fullmatch(r"[\s\w]*", text[asker[-1].end_char:m.start()]) \
                and len(text[asker[-1].end_char:m.start()].split()) <= 2:
            return m
    return None


def _complements(text: str, units: list[Span], sent_start: int = -1) -> set[int]:
    """Units after "của", "với", "tại" ... and the list mates that follow them ("của Huyện ủy, UBND huyện").
    A fronted phrase ("Trước Đồng Nai, Bộ Y tế …", "Theo Sở Nội vụ, UBND huyện …") ends at its comma:
    the unit after that comma is the subject, not a list mate."""
    out: set[int] = set()
    prev = None
    for u in units:
        lead = text[max(0, u.start_char - 12):u.start_char]
        gap = text[prev.end_char:u.start_char] if prev is not None else ""
        fronted = (prev is not None and "," in gap and 0 <= sent_start <= prev.start_char
                   and _COMPLEMENT.fullmatch(text[sent_start:prev.start_char].strip()) is not None)
        joined = prev is not None and prev.start_char in out and not fronted and re.fullmatch(r"\s*(?:,|và)\s*", gap)
        if _COMPLEMENT.search(lead) or joined:
            out.add(u.start_char)
        prev = u
    return out


def _unit_for(doc: Doc, st: "Statement", s_units: list[Span], leader, topic):
    c = st.clause
    text = text_of(doc)
    if st.kind == "remedy":
        request = None
        for m in _REQUEST.finditer(text, c.sent_start, min(c.end, c.start + 15)):
            request = m
        if request is None:
            request = _subject_request(text, s_units, c.start, c.end)
        if request is not None:
            addressees = [u for u in s_units if request.end() <= u.start_char < request.end() + 40]
            if addressees:
                return as_written(addressees[0]), "addressee"
            body = _addressed_title(doc, request.end())
            if body is not None:   # "giao Bộ trưởng GTVT chủ trì …": the minister's ministry
                return body, "addressee"
    comp = _complements(text, s_units, c.sent_start)
    own = [u for u in s_units if c.start <= u.start_char < c.end]
    subjects = [u for u in own if u.start_char not in comp]
    if subjects:
        return as_written(subjects[0]), "own"
    before = [u for u in s_units if u.end_char <= c.start and u.start_char not in comp]
    if before:
        return as_written(before[-1]), "sentence"
    owners = [u for u in own if u._.unit.admin is not None]  # "chỉ số CCHC của Thị trấn ..."
    if owners:
        return as_written(owners[0]), "owner"
    if leader is not None:
        return leader, "leader"
    return topic, "topic"


