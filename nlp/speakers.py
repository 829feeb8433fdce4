"""Who says what: reported speech in news, turns in transcripts, questions paired with answers.

News writes "Ông Nguyễn Quang Trung - Chủ tịch UBND quận Hai Bà Trưng cho biết, …",
"Theo bà Y, …" or closes a quote with "…” ông X nói", and keeps quoting the same
person in the following sentences until someone else is introduced or the
journalist narrates again; transcripts write turns "Đại biểu Nguyễn Văn A (Tổ
đại biểu huyện X): …". In session reports each speaker is asking (delegates,
supervising bodies), answering (the officials questioned) or neither (chairs,
experts); every answer is paired with the question before it.

A speaker is found sentence by sentence: a person or role mention standing right
before a speech verb (only filler words or a constituency gloss between them), a
"Theo WHO," opening, or a turn label. Short references ("ông Thiện", "Bộ trưởng")
resolve to the full name introduced earlier.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp.entities import GROUP, UnitRef, expand_abbreviations
from corpus.lexicons import lines, regex_union, table
from corpus.normalize import UPPER, fold
from nlp.segment import text_of
from nlp.statements import is_heading

MAX_LABEL = 160
MAX_INTRO_OFFSET = 160   # a speaker named deeper into a sentence is reported, not speaking
_TURN = re.compile(r"(?P<label>[^:\n]{3,%d}?)\s*:\s+" % MAX_LABEL)
_CLOSE_QUOTE = "”\""
# between a speaker and the verb: a constituency or title gloss ("(đoàn ĐBQH tỉnh X)", ", đoàn Vĩnh Long",
# ", Trưởng Công an quận 2")
_GLOSS = re.compile(rf"\s*(?:\([^()]{{2,80}}\)|[,–-]\s*[{UPPER}{UPPER.lower()}][^,.:;()“”]{{0,70}}?"
                    rf"(?=\s*[,–-]?\s*$))\s*[,–-]?\s*")
if not Doc.has_extension("turns"):
    Doc.set_extension("turns", default=None)


@dataclass
class Turn:
    start: int                    # the stretch of text this speaker holds
    end: int
    name: str | None
    role: str | None
    unit: str | None
    stance: str | None            # asking | answering | None (narration, chairs, experts)
    number: int = 0
    answers_turn: int | None = None
    label_start: int = 0
    label_end: int = 0
    unit_ref: object | None = None  # the body this speaker speaks for (answering officials)
    asker: str | None = None        # "Trả lời câu hỏi của đại biểu X": whom this answers
    verb: str | None = None         # the speech verb that introduced the speaker
    addressee: UnitRef | None = None  # "chất vấn Giám đốc Sở Y tế …": the body a question is put to

    def as_speaker(self) -> dict:
        return {"name": self.name or self.role, "role": self.role, "unit": self.unit, "stance": self.stance,
                "turn": self.number, "answers_turn": self.answers_turn}

    def same_speaker(self, other: "Turn") -> bool:
        return (self.name or self.role or "") == (other.name or other.role or "")


@dataclass
class Person:
    name: str
    role: str | None
    start: int
    unit: UnitRef | None = None     # the body their title names ("Bộ trưởng Bộ Nội vụ" -> Bộ Nội vụ)


# -- lexicons -----------------------------------------------------------------

@lru_cache(maxsize=None)
def words(kind: str) -> str:
    """The alternation of the speaker_words.tsv rows of one kind."""
    return "|".join(f"(?:{p})" for k, p in table("nlp", "speaker_words.tsv") if k == kind)


@lru_cache(maxsize=1)
def _theo() -> re.Pattern:
    """ "Theo WHO, …" at the start of a sentence."""
    return re.compile(rf"^(?:(?:{words('frame')})\s*,?\s+)?(?:{words('according')})\s+(?P<who>[^,:]{{3,160}}?),\s",
                      re.IGNORECASE)


@lru_cache(maxsize=1)
def _answer_opening() -> re.Pattern:
    return re.compile(rf"^(?:[\w\s,]{{0,30}}?)(?<!\w)(?:{words('answer')})(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=1)
def _short_ref() -> re.Pattern:
    """A title or honorific and a given name ("ông Thiện", "Bộ trưởng Thiện")."""
    return re.compile(rf"(?<!\w)(?P<title>(?i:{words('honorific')})|{words('title')})\s+"
                      rf"(?P<name>[{UPPER}][\w]+(?:\s[{UPPER}][\w]+)?)(?!\w)")


@lru_cache(maxsize=1)
def _honorific() -> re.Pattern:
    return re.compile(rf"^(?:{words('honorific')}|đb|đại biểu)$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _speech_verbs() -> tuple[tuple[str, str], ...]:
    return tuple((stance, pattern) for stance, pattern in table("nlp", "speech_verbs.tsv"))


@lru_cache(maxsize=1)
def _verb_re() -> re.Pattern:
    verbs = "|".join(f"(?:{p})" for _, p in _speech_verbs())
    return re.compile(rf"(?<!\w)(?P<verb>{verbs})(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=1)
def _filler_re() -> re.Pattern:
    words = "|".join(f"(?:{w})" for w in lines("nlp", "speech_fillers.tsv"))
    return re.compile(rf"^\s*(?:(?:{words})\s+)*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _stance_rows() -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((stance, re.compile(p, re.IGNORECASE)) for stance, p in table("nlp", "speaker_stances.tsv"))


@lru_cache(maxsize=1)
def _not_person_before() -> re.Pattern:
    words = "|".join(f"(?:{w})" for w in lines("nlp", "not_person_contexts.tsv"))
    return re.compile(rf"(?<!\w)(?:{words})\s*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _not_person_names() -> frozenset[str]:
    return frozenset(fold(n) for n in lines("nlp", "not_person_names.tsv"))


def _constituency_re() -> re.Pattern:
    return regex_union("nlp", "constituency_cues.tsv")


def constituencies(doc: Doc) -> list[tuple[int, int]]:
    """Where the text writes a delegate's constituency: a bracket after a person's name, or a
    constituency cue up to the next punctuation ("đoàn ĐBQH tỉnh Bến Tre")."""
    text = text_of(doc)
    out = []
    for p in _persons(doc):
        m = re.match(r"\s*\(([^()]{2,80})\)", text[p.end_char:p.end_char + 90])
        if m:
            out.append((p.end_char, p.end_char + m.end()))
    for m in _constituency_re().finditer(text):
        stop = re.search(r"[,.;:()\n]|\s(?:cho|nói|chất vấn|đề nghị|hỏi)\b", text[m.end():m.end() + 60])
        out.append((m.start(), m.end() + (stop.start() if stop else 60)))
    return out


@lru_cache(maxsize=1)
def _group_rows() -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((kind, re.compile(p, re.IGNORECASE)) for kind, p in table("nlp", "speaker_groups.tsv"))


def group_mention(text: str, at: int, end: int) -> tuple[str, re.Match] | None:
    """A group or a bare delegate title starting at `at`, as (kind, match)."""
    for kind, pattern in _group_rows():
        m = pattern.match(text, at, end)
        if m:
            return kind, m
    return None


def _narrator_re() -> re.Pattern:
    return regex_union("nlp", "narrator_cues.tsv")


@lru_cache(maxsize=1)
def _sectors() -> tuple[str, ...]:
    return tuple(sorted(lines("nlp", "sectors.txt"), key=len, reverse=True))


# -- people ---------------------------------------------------------------------

def is_person(text: str, span_start: int, name: str) -> bool:
    """A PERSON span names someone who can speak: not a street, school, award or historical figure."""
    if fold(name) in _not_person_names():
        return False
    return not _not_person_before().search(text[max(0, span_start - 25):span_start])


def _titles_non_person(text: str, start: int, end: int) -> bool:
    """A title before a name that is no speaker ("Chủ tịch Hồ Chí Minh", where the name may have been
    read as the city and taken into the title) is no speaker either."""
    title, after = fold(text[start:end]), fold(text[end:end + 40])
    return any(after.startswith(name) or title.endswith(f" {name}") for name in _not_person_names())


def _persons(doc: Doc) -> list[Span]:
    text = text_of(doc)
    return [s for s in doc.spans[GROUP] if s.label_ == "PERSON" and is_person(text, s.start_char, s.text)]


def _roles(doc: Doc) -> list[Span]:
    return [s for s in doc.spans[GROUP] if s.label_ == "ROLE"]


def _role_text(text: str, role: Span, limit: int) -> str:
    """The whole title from a ROLE span up to `limit` ("Bộ trưởng Văn hóa, Thể thao và Du lịch")."""
    out = text[role.start_char:limit]
    h = words("honorific")
    out = re.split(rf"\s*(?:,\s*(?:{h})(?!\w)|[–\-:(]|\s(?:{h})\s)", out)[0]
    return out.strip(" ,;–-") or role.text


def people_of(doc: Doc) -> list[Person]:
    """Every person the text names, with the title written next to them."""
    text = text_of(doc)
    roles = _roles(doc)
    out = []
    for p in _persons(doc):
        role = None
        unit = None
        before = [r for r in roles if r.end_char <= p.start_char and p.start_char - r.start_char <= 90
                  and re.fullmatch(rf"[\w\s,&.\-–]*?(?:,\s*)?(?:{words('honorific')})?\s*",
                                   text[r.end_char:p.start_char] or " ", re.IGNORECASE)
                  and "\n" not in text[r.start_char:p.start_char]
                  and not re.search(r"(?<!TP)(?<!TX)[.!?]\s", text[r.end_char:p.start_char])]   # not across a sentence
        after = [r for r in roles if 0 <= r.start_char - p.end_char <= 4
                 and re.fullmatch(r"\s*[,–\-(]?\s*", text[p.end_char:r.start_char])]
        if before:
            r = before[-1]
            role = _role_text(text, r, p.start_char)
            unit = _body_of(doc, r.start_char, p.start_char, role)
        elif after:
            r = after[0]
            role, unit = r.text, _body_of(doc, r.start_char, r.end_char, r.text)
        if role is not None and role_stance(role) == "asking":
            unit = None   # a delegate's unit is their constituency, not a body they speak for
        out.append(Person(name=p.text, role=role, start=p.start_char, unit=unit))
    return out


def _resolve_short(name: str, people: list[Person], before: int) -> Person | None:
    """ "ông Thiện", "Bộ trưởng Thiện" -> the last person introduced whose name ends so."""
    key = fold(name)
    for p in sorted((p for p in people if p.start < before), key=lambda p: -p.start):
        if fold(p.name).endswith(key):
            return p
    for p in people:  # named in full only later (a headline's short form)
        if fold(p.name).endswith(key):
            return p
    return None


def _role_key(role: str) -> str:
    """A title compared loosely: "Chủ tịch UBND TP Hà Nội" and "Chủ tịch TP. Hà Nội" are one title."""
    key = f" {fold(role)} "
    for long, short in ((" uy ban nhan dan ", " "), (" ubnd ", " "), (" thanh pho ", " tp "), (" chinh phu ", " ")):
        key = key.replace(long, short)
    return " ".join(key.split())


def _resolve_role(role: str, people: list[Person], before: int) -> Person | None:
    """A title alone ("Thứ trưởng Bộ Công Thương", "Thủ tướng") -> the person the text gives it to."""
    key = _role_key(role)
    if not key:
        return None
    cands = [p for p in people if p.role and (_role_key(p.role).startswith(key) or key.startswith(_role_key(p.role)))]
    if not cands:
        return None
    earlier = [p for p in cands if p.start < before]
    return earlier[-1] if earlier else cands[0]


# -- finding who speaks in a sentence -------------------------------------------

@dataclass
class Intro:
    start: int          # the mention naming the speaker
    end: int
    verb: str | None
    quote_start: int    # where the speech begins (a quote closed before the attribution)
    label_end: int = 0  # the introduction ends here (after a constituency gloss, before the verb)
    anaphor: bool = False  # "Đại biểu cho rằng": the delegate named last


def short_refs(doc: Doc, people: list[Person]) -> list[re.Match]:
    """ "ông Thiện", "Bộ trưởng Thiện": a title and a given name, kept when the name is a known
    person's or follows an honorific ("Bộ trưởng Bộ Công" is a body being named, not a person)."""
    text = text_of(doc)
    units = [(s.start_char, s.end_char) for s in doc.spans[GROUP] if s.label_ in ("UNIT", "ROLE")]
    out = []
    for m in _short_ref().finditer(text):
        a, b = m.span("name")
        if any(u0 < b and a < u1 for u0, u1 in units) or fold(m.group("name")) in _not_person_names():
            continue
        if _honorific().match(m.group("title")) or _resolve_short(m.group("name"), people, m.start()) is not None:
            out.append(m)
    return out


def _mentions(doc: Doc, people: list[Person]) -> list[tuple[int, int]]:
    """Character ranges that can name a speaker: persons, roles, short references, named bodies."""
    text = text_of(doc)
    out = [(s.start_char, s.end_char) for s in _persons(doc)]
    out += [(s.start_char, s.end_char) for s in _roles(doc) if not _titles_non_person(text, s.start_char, s.end_char)]
    out += [m.span() for m in short_refs(doc, people)]
    out += [(s.start_char, s.end_char) for s in doc.spans[GROUP] if s.label_ == "UNIT" and s._.unit is not None
            and s._.unit.kind != "territory"]
    return sorted(out)


def _mention_before(text: str, mentions: list[tuple[int, int]], floor: int, at: int) -> tuple[int, int] | None:
    """The chain of speaker mentions ending right before position `at` (fillers and a gloss allowed)."""
    best = None
    for a, b in mentions:
        if a < floor or b > at:
            continue
        gap = text[b:at]
        gap = _GLOSS.sub(" ", gap) if _GLOSS.search(gap) else gap
        if _filler_re().match(gap) and (best is None or b > best[1]):
            best = (a, b)
    if best is None:
        return None
    a = best[0]
    changed = True
    while changed:  # "Ông Huỳnh Thanh Khiết – Phó Chủ tịch UBND quận 2", "Chủ tịch UBND tỉnh, ông Đinh Văn Thu"
        changed = False
        for c, d in mentions:
            if c < a and c >= floor and re.fullmatch(rf"[\s,–\-()]*(?:(?:{words('honorific')})\s*)?", text[d:a],
                                                     re.IGNORECASE):
                a, changed = c, True
    return a, best[1]


def _intros(doc: Doc, mentions: list[tuple[int, int]], s0: int, s1: int) -> Intro | None:
    """The speaker introduced in sentence text[s0:s1], if any."""
    text = text_of(doc)
    bodies = {(s.start_char, s.end_char) for s in doc.spans[GROUP] if s.label_ == "UNIT"}
    sent = text[s0:s1]
    theo = _theo().match(sent)
    if theo and _narrator_re().match(sent.strip()):
        theo = None   # "Theo quy định của Chính phủ, …" cites a document
    if theo and any(s0 + theo.start("who") <= a and b <= s0 + theo.end("who") for a, b in mentions):
        return Intro(s0 + theo.start("who"), s0 + theo.end("who"), None, s0, label_end=s0 + theo.end("who"))
    group = _group_intro(text, s0, s1)
    if group is not None:
        return group
    for m in _verb_re().finditer(text, s0, s1):
        at = m.start()
        floor = s0
        for ch in ".;?!“" + _CLOSE_QUOTE:
            floor = max(floor, text.rfind(ch, s0, at) + 1)
        who = _mention_before(text, mentions, floor, at)
        if who is None:
            continue
        if who in bodies and text[s0:who[0]].strip() and not text[s0:who[0]].rstrip().endswith(","):
            continue   # a body named inside a clause ("báo cáo Sở Nội vụ trình bày") is not taking the floor
        after_quote = floor > s0 and text[floor - 1] in _CLOSE_QUOTE
        if who[0] - s0 > MAX_INTRO_OFFSET and not after_quote:
            continue
        quote_start = s0
        if after_quote:
            opening = text.rfind("“", 0, floor)
            quote_start = opening if opening >= 0 and floor - opening < 3000 else s0
        return Intro(who[0], who[1], m.group("verb"), quote_start, label_end=at)
    return None


def _group_intro(text: str, s0: int, s1: int) -> Intro | None:
    """ "Nhiều ĐB cho rằng, …", "Tuy nhiên, cử tri đề nghị …", "Theo đại biểu, …": a group, or the
    delegate named last, takes the floor at the start of the sentence (after an opening phrase)."""
    opening = re.match(r"(?:[^,.;:“”]{0,30},\s*)?(?:(?i:theo)\s+)?", text[s0:s1])
    at = s0 + (opening.end() if opening else 0)
    found = group_mention(text, at, s1) or group_mention(text, s0, s1)
    if found is None:
        return None
    kind, m = found
    theo = re.search(r"(?i:theo)\s+$", text[s0:m.start()])
    if theo and text[m.end():m.end() + 2].startswith(","):
        return Intro(m.start(), m.end(), None, s0, label_end=m.end(), anaphor=kind == "anaphor")
    verb = _verb_re().search(text, m.end(), min(s1, m.end() + 40))
    if verb is None or not _filler_re().match(re.sub(r"\s*\([^()]*\)", " ", text[m.end():verb.start()])):
        return None
    return Intro(m.start(), m.end(), verb.group("verb"), s0, label_end=verb.start(), anaphor=kind == "anaphor")


def _verb_class(verb: str | None) -> str | None:
    """The row of speech_verbs.tsv a verb belongs to (asking, answering, directive, request, neutral)."""
    if not verb:
        return None
    for stance, pattern in _speech_verbs():
        if re.fullmatch(pattern, verb, re.IGNORECASE):
            return stance
    return None


def _verb_stance(verb: str | None) -> str | None:
    cls = _verb_class(verb)
    return None if cls in ("neutral", "request") else cls


def role_stance(label: str) -> str | None:
    """asking | answering | other (chairs, experts) | None, from the words of a speaker's label."""
    for stance, pattern in _stance_rows():
        if pattern.search(label):
            return stance
    return None


def stance_of(label: str, verb: str | None, sentence: str) -> str | None:
    """ "Trả lời …" answers; delegates ask; a questioning verb asks; an answering verb answers;
    a directive has no stance; then the role decides."""
    if _answer_opening().match(sentence):
        return "answering"   # "Trả lời đại biểu A, Bộ trưởng B cho biết": the label names the asker too
    by_role = role_stance(label)
    if by_role == "asking":
        return "asking"
    by_verb = _verb_stance(verb)
    if by_verb == "asking" and by_role != "other" or by_verb == "asking" and re.search(r"chất vấn", verb or "", re.I):
        return "asking"
    if by_verb == "answering" and by_role != "other":
        return "answering"
    if by_verb == "directive":
        return None   # instructions and conclusions come from those who lead, not those questioned
    return by_role if by_role in ("asking", "answering") else None


# -- the speaker's body -------------------------------------------------------------

def _body_of(doc: Doc, a: int, b: int, role: str | None) -> UnitRef | None:
    """The body an official speaks for: the unit in their title, or "Bộ X" for "Bộ trưởng X"."""
    from nlp.attribution import as_written

    for s in doc.spans[GROUP]:
        if s.label_ == "UNIT" and a <= s.start_char and s.end_char <= b and s._.unit is not None:
            return as_written(s)
    own = own_body(role)
    if own is not None:
        return own
    if role:
        m = re.search(r"(?:Bộ trưởng|Thứ trưởng)\s+(?:Bộ\s+)?(?P<sector>.+)$", role)
        if m:
            written = fold(expand_abbreviations(m.group("sector")))   # "Bộ trưởng KH&ĐT"
            for sector in _sectors():
                if written.startswith(fold(sector)):
                    return UnitRef(name=f"Bộ {sector}", kind="ministry")
    return None


@lru_cache(maxsize=1)
def _own_bodies() -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((body, re.compile(p, re.IGNORECASE)) for body, p in table("nlp", "title_own_bodies.tsv"))


def own_body(role: str | None) -> UnitRef | None:
    """The body a title names by itself ("Phó Thủ tướng" speaks for the Government)."""
    if not role:
        return None
    title = " ".join(role.split()).strip(" ,;:")
    body = next((b for b, p in _own_bodies() if p.search(title)), None)
    return UnitRef(name=body, kind="body") if body else None


@lru_cache(maxsize=1)
def _title_kinds() -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((kind, re.compile(p, re.IGNORECASE)) for kind, p in table("nlp", "title_bodies.tsv"))


def _main_body(doc: Doc, role: str | None, blocked: list[tuple[int, int]]) -> UnitRef | None:
    """For a bare title ("Bộ trưởng"), the body of its kind the text names most (outside speakers'
    introductions and constituencies)."""
    from nlp.attribution import as_written

    if not role:
        return None
    kind = next((k for k, p in _title_kinds() if p.search(role.strip())), None)
    if kind is None:
        return None
    spans = [s for s in doc.spans[GROUP] if s.label_ == "UNIT" and s._.unit is not None and s._.unit.kind == kind
             and not s._.unit.antecedent and not any(a <= s.start_char < b for a, b in blocked)]
    if not spans:
        return None
    names = [fold(s._.unit.name) for s in spans]
    top = max(set(names), key=names.count)
    return as_written(next(s for s in spans if fold(s._.unit.name) == top))


# -- turns ------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _photo_credit() -> re.Pattern:
    return regex_union("nlp", "photo_credits.tsv")


def skip_credit(text: str, s0: int, s1: int) -> int:
    """Where a sentence starts once a photo credit glued in front of it is left out ("Ảnh: Nguyễn
    Khang – TTXVN Theo Bộ trưởng …"): the credit ends with its agency after a dash or a slash."""
    m = _photo_credit().match(text, s0, s1)
    if m is None:
        return s0
    end = re.match(r"[^.\n“”]{0,40}?[–\-/]\s*[A-ZĐ][\w.+]*\s+", text[m.end():s1])
    return m.end() + end.end() if end else s0


def _sentences(doc: Doc) -> list[tuple[int, int]]:
    """Sentence ranges, cut again at line breaks (a heading never runs into the text below)."""
    text = text_of(doc)
    out = []
    for s in doc.sents:
        for part in re.finditer(r"[^\n]+", text[s.start_char:s.end_char]):
            a0, b0 = s.start_char + part.start(), s.start_char + part.end()
            if text[a0:b0].strip():
                out.append((a0, b0))
    return out


def _describe(doc: Doc, people: list[Person], a: int, b: int) -> tuple[str | None, str | None, UnitRef | None]:
    """Name, role and the role's unit of the speaker named in text[a:b]."""
    text = text_of(doc)
    label = text[a:b]
    persons = [s for s in _persons(doc) if a <= s.start_char and s.end_char <= b]
    roles = [s for s in _roles(doc) if a <= s.start_char and s.end_char <= b]
    role = None
    if persons:  # "Trả lời đại biểu A, Bộ trưởng B cho biết": the one nearest the verb speaks
        persons = persons[-1:]
        near = [r for r in roles if r.end_char <= persons[0].start_char
                and not any(r.end_char <= p.start_char < persons[0].start_char for p in _persons(doc))]
        after = [r for r in roles if r.start_char >= persons[0].end_char]
        roles = near[-1:] or after[:1]
    asker_first = bool(roles) and not persons and len(roles) > 1 and role_stance(roles[0].text) == "asking" \
        and role_stance(roles[-1].text) != "asking" \
        and re.fullmatch(r"\s*,\s*", text[roles[-2].end_char:roles[-1].start_char]) is not None
    if asker_first:
        roles = roles[-1:]   # "Trả lời ĐB, Phó Thủ tướng cho biết": the asker is named first, the one nearest the verb speaks
    if roles:
        r = roles[0]
        limit = persons[0].start_char if persons and persons[0].start_char > r.start_char else b
        role = _role_text(text, r, limit)
    if persons:
        name = persons[0].text
        known = next((p for p in people if p.name == name and p.role), None)
        if role is None:
            role = known.role if known else None
        return name, role, known.unit if known else None
    short = next((m for m in short_refs(doc, people) if a <= m.start() and m.end() <= b), None)
    if short:
        person = _resolve_short(short.group("name"), people, a)
        if person is not None:
            return person.name, role or person.role, person.unit
        return short.group("name"), role or (short.group("title") if short.group("title")[0].isupper() else None), None
    if group_mention(label, 0, len(label)) and not asker_first:
        return None, label.strip(), None
    if role:
        person = _resolve_role(role, people, a)
        return (person.name, role, person.unit) if person else (None, role, None)
    bodies = [s for s in doc.spans[GROUP] if s.label_ == "UNIT" and a <= s.start_char and s.end_char <= b
              and s._.unit is not None and s._.unit.kind != "territory"]
    if bodies:  # "VCCI cho biết", "UBND thành phố yêu cầu": a body speaks through its documents
        return bodies[-1].text, bodies[-1].text, None
    return None, None, None


def speaker_matches(pred: str | None, gold: str | None) -> bool:
    """Same speaker: both empty, or the folded words of one name contained in the other."""
    p, g = fold(pred or ""), fold(gold or "")
    if not g:
        return not p
    return bool(p) and (f" {g} " in f" {p} " or f" {p} " in f" {g} ")


def find_turns(doc: Doc, session: bool = True, learned: bool = True) -> list[Turn]:
    """Speaker stretches: each introduced speaker holds the text until the next one, a heading,
    or a sentence where the narrator resumes. With `learned`, the stance comes from the model
    trained on the annotated articles (`nlp.stance`), which reads the rules' verdict as a feature."""
    text = text_of(doc)
    people = people_of(doc)
    mentions = _mentions(doc, people)
    turns: list[Turn] = []
    current: Turn | None = None
    for s0, s1 in _sentences(doc):
        sentence = text[s0:s1]
        s0 = skip_credit(text, s0, s1)
        sentence = text[s0:s1]
        line_start = s0 == 0 or text[s0 - 1] == "\n"
        turn = _turn_label(doc, people, s0, s1) if line_start else None
        if turn is None:
            intro = _intros(doc, mentions, s0, s1)
            if intro is not None:
                turn = _make_turn(doc, people, intro, s0, s1)
                if turn is not None and intro.anaphor:
                    _resolve_delegate(turn, turns)
            if turn is not None and current is not None and _reports_own_body(current, turn):
                current.end = s1   # "Chính phủ đã giao …", "Thủ tướng yêu cầu …" in a Deputy PM's answer
                continue
        if turn is not None:
            if current is not None and current.end > turn.start:
                current.end = turn.start
            turns.append(turn)
            current = turn
            continue
        if current is None:
            continue
        if line_start and is_heading(sentence) or _narrator_re().match(sentence.strip()):
            current = None
            continue
        current.end = s1
    turns = [t for t in turns if t.end > t.start]
    if learned and turns:
        from nlp.stance import predict
        for t, stance in zip(turns, predict(turns, doc)):
            t.stance = stance
        _keep_sides(turns, text)
    for t in turns:
        t.unit = t.unit_ref.name if t.unit_ref is not None and t.stance != "asking" else None
    _pair(turns)
    return turns


def _reports_own_body(current: Turn, turn: Turn) -> bool:
    """An official who speaks for a body reports what that body or its head did ("Chính phủ đã giao
    …", "Thủ tướng yêu cầu …" in a Deputy Prime Minister's answer): a bare title or the body
    itself, with no person named, does not take the floor from the named official."""
    if not current.name or current.name == current.role or current.unit_ref is None or current.stance == "asking":
        return False
    if turn.unit_ref is None or (turn.name and turn.name != turn.role) or turn.stance == "asking":
        return False
    return fold(turn.unit_ref.name) == fold(current.unit_ref.name)


def _keep_sides(turns: list[Turn], text: str) -> None:
    """A person keeps their side through a report: a delegate introduced as such ("đại biểu A
    (Ninh Bình)") still asks when the text later writes only "ông A nói", and an official
    introduced by an answering title still answers. Only a side the person's introductions show
    one-sidedly is carried; directives and chairs (no stance) are left alone."""
    sides: dict[str, set[str]] = {}
    for t in turns:
        if t.name and t.name != t.role:
            if _answer_opening().match(text[t.start:t.label_end]):
                by_label = "answering"   # "Trả lời đại biểu A, Bộ trưởng B cho biết": the label names the asker too
            else:
                by_label = role_stance(" ".join(x for x in (text[t.label_start:t.label_end], t.role or "") if x))
            if by_label in ("asking", "answering"):
                sides.setdefault(t.name, set()).add(by_label)
    for t in turns:
        side = sides.get(t.name or "")
        if side and len(side) == 1 and t.stance in ("asking", "answering"):
            t.stance = next(iter(side))


def _resolve_delegate(turn: Turn, turns: list[Turn]) -> None:
    """ "Đại biểu cho rằng": the delegate named last speaks again."""
    named = next((t for t in reversed(turns) if t.stance == "asking" and t.name and t.name != t.role), None)
    if named is not None:
        turn.name, turn.role = named.name, named.role or turn.role


def _make_turn(doc: Doc, people: list[Person], intro: Intro, s0: int, s1: int) -> Turn | None:
    text = text_of(doc)
    name, role, known_body = _describe(doc, people, intro.start, intro.end)
    if name is None and role is None:
        return None
    label = text[intro.start:max(intro.end, intro.label_end)]
    stance = stance_of(" ".join(x for x in (label, role or "") if x), intro.verb, text[s0:s1])
    body = _body_of(doc, intro.start, max(intro.end, intro.label_end), role) or known_body  # gloss: ", Giám đốc Công an tỉnh"
    if role_stance(label) == "asking" and role_stance(role or "") != "answering":
        body = None   # a delegate's unit is their constituency ("Trả lời ĐB, Bộ trưởng ..." keeps the minister's)
    turn = Turn(min(intro.quote_start, s0), s1, name, role, None, stance,
                label_start=intro.start, label_end=max(intro.end, intro.label_end), unit_ref=body, verb=intro.verb)
    asked = re.match(rf"^[^,]{{0,20}}?(?:{words('answer')})\s(?:(?:{words('answer_object')})\s)?(?:(?:{words('of')})\s)?"
                     rf"(?P<who>[^,]{{3,80}}),",
                     text[s0:s1], re.IGNORECASE)
    if asked:
        turn.asker = asked.group("who")
    return turn


def _turn_label(doc: Doc, people: list[Person], s0: int, s1: int) -> Turn | None:
    text = text_of(doc)
    m = _TURN.match(text, s0, s1)
    if not m:
        return None
    a, b = s0, s0 + len(m.group("label"))
    name, role, known_body = _describe(doc, people, a, b)
    if name is None and role is None:
        return None
    label = m.group("label")
    verb = _verb_re().search(label)
    if verb is not None and verb.start() > 0:
        return None   # "Phó Chủ tịch HĐND huyện nhấn mạnh: …" is reported speech, the verb names it
    if name is not None and name == role and len(name) < len(label.strip()) - 3:
        return None   # "Bên lề Quốc hội: …" is a rubric, not the body speaking
    stance = stance_of(label, None, "")
    body = None if stance == "asking" else _body_of(doc, a, b, role or label.strip()) or known_body
    return Turn(s0, s1, name, role or label.strip(), None, stance, label_start=a, label_end=b, unit_ref=body)


def _pair(turns: list[Turn]) -> None:
    """Number the turns; each answer points to the question it answers (the named asker, else the last one)."""
    last_question = None
    for i, t in enumerate(turns, 1):
        t.number = i
    for t in turns:
        if t.stance == "asking":
            last_question = t.number
        elif t.stance == "answering":
            named = None
            if t.asker:
                key = fold(t.asker)
                named = next((q.number for q in reversed(turns[:t.number - 1]) if q.stance == "asking"
                              and q.name and fold(q.name).split()[-1] in key.split()), None)
            t.answers_turn = named or last_question


WEAK_UNIT_SOURCES = ("topic", "leader", "")


def _addressee(doc: Doc, turn: Turn) -> UnitRef | None:
    """The body named right after the asking verb ("chất vấn Giám đốc Sở Y tế", "đề nghị UBND huyện")."""
    from nlp.attribution import as_written

    text = text_of(doc)
    verb = _verb_re().search(text, turn.label_end, min(turn.end, turn.label_end + 30))
    if verb is None or _verb_class(verb.group("verb")) == "neutral":
        return None   # "ĐB A cho biết, tỉnh B …": what follows a plain speech verb is a subject
    for s in doc.spans[GROUP]:
        if s.label_ == "UNIT" and s._.unit is not None and verb.end() <= s.start_char <= verb.end() + 40:
            return as_written(s)
    return None


def questioned_body(turn: Turn, turns: list[Turn]) -> UnitRef | None:
    """The body a question is put to: the one the question names, else that of the official
    answering it, else of the next answer, else of the official who answers most in the text."""
    if turn.addressee is not None:
        return turn.addressee
    answers = [t for t in turns if t.stance == "answering" and t.unit_ref is not None]
    paired = next((t for t in answers if t.answers_turn == turn.number), None)
    if paired is None:
        paired = next((t for t in answers if t.number > turn.number), None)
    if paired is not None:
        return paired.unit_ref
    if not answers:
        return None
    names = [t.unit_ref.name for t in answers]
    top = max(set(names), key=names.count)
    return next(t.unit_ref for t in answers if t.unit_ref.name == top)


def _province_report(st, turn: Turn) -> bool:
    """A provincial department reporting while the text is about its province speaks of the
    province ("Giám đốc Sở Nội vụ cho biết, … hồ sơ trễ hạn" in a report on the province)."""
    ref = st.unit
    body = turn.unit_ref
    return (st.unit_source == "topic" and ref is not None and ref.admin is not None and ref.admin.level == "province"
            and body is not None and body.kind == "department")


def _leader_directs_own_body(st, turn: Turn) -> bool:
    """A head of government giving directions ("Thủ tướng yêu cầu ...") speaks for the Government,
    unless the text is about a territory: directions given on a visit to a province concern it."""
    if turn.stance is not None or own_body(turn.role) is None:
        return False
    return st.unit is None or st.unit.admin is None


def attribute(doc: Doc, turns: list[Turn]) -> None:
    """Speakers onto statements, and the units their speech points to: the clause's own evidence
    first (the speaker's constituency and title never count), else the body an answering official
    speaks for, else the body a question is put to."""
    from nlp.attribution import attribute_units

    statements = doc._.statements or []
    text = text_of(doc)
    blocked = [(t.label_start, t.label_end) for t in turns] + constituencies(doc)
    blocked += [(r.start_char, r.end_char) for r in _roles(doc) if _titles_non_person(text, r.start_char, r.end_char)]
    attribute_units(doc, statements, blocked=blocked)
    for t in turns:
        if t.unit_ref is None and t.stance == "answering":
            t.unit_ref = _main_body(doc, t.role, blocked)
        if t.stance == "asking" and t.addressee is None:
            t.addressee = _addressee(doc, t)
    for st in statements:
        turn = next((t for t in turns if t.start <= st.clause.start < t.end), None)
        if turn is None:
            continue
        st.speaker = turn.as_speaker()
        if st.unit is not None and st.unit_source not in WEAK_UNIT_SOURCES:
            continue   # the clause names what it is about
        if _province_report(st, turn):
            continue
        if turn.unit_ref is not None and (turn.stance == "answering" or turn.name == turn.role
                                          or turn.stance is None and turn.unit_ref.admin is not None
                                          or _leader_directs_own_body(st, turn)):
            st.unit, st.unit_source = turn.unit_ref, "speaker"   # an official, or a body, speaking for itself
        elif turn.stance == "asking":
            body = questioned_body(turn, turns)
            if body is not None:
                st.unit, st.unit_source = body, "questioned"


class SpeakerAttributor:
    def __call__(self, doc: Doc) -> Doc:
        session = doc.user_data.get("doc_type") in ("session report", "transcript")
        turns = find_turns(doc, session)
        doc._.turns = turns
        doc.spans["speakers"] = [s for s in (doc.char_span(t.label_start, t.label_end, label=t.stance or "speaker",
                                                           alignment_mode="expand") for t in turns) if s]
        attribute(doc, turns)
        return doc


@Language.factory("parlens_speakers")
def create_speaker_attributor(nlp: Language, name: str) -> SpeakerAttributor:
    from nlp.stance import trained_model
    trained_model()   # the stance model loads with the pipeline, not inside a document's time budget
    return SpeakerAttributor()
