"""Who says what: reported speech in news, turns in transcripts, questions paired with answers.

News writes "Ông Nguyễn Quang Trung - Chủ tịch UBND quận Hai Bà Trưng cho biết, …"
and keeps quoting the same person in the following paragraphs until someone
else is introduced; transcripts write turns "Đại biểu Nguyễn Văn A (Tổ đại
biểu huyện X): …". In session reports and transcripts each speaker is asking
(delegates, supervising bodies) or answering (the officials questioned), and
every answer is paired with the question before it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from nlp.entities import GROUP
from nlp.lexicons import regex_union, table
from nlp.statements import is_heading
from nlp.segment import text_of

MAX_LABEL = 160
_TURN = re.compile(r"^(?P<label>[^:\n]{3,%d}?)\s*:\s+" % MAX_LABEL, re.MULTILINE)
_THEO = re.compile(r"^\s*Theo\s+(?P<who>[^,]{3,160}?),\s", re.IGNORECASE)
_EXECUTIVE = re.compile(r"ubnd|ủy ban nhân dân|\bsở\b|giám đốc|bộ trưởng|thứ trưởng|trưởng phòng|cục trưởng|"
                        r"chánh văn phòng|lãnh đạo (?:ubnd|quận|huyện|thị xã|sở|xã|phường)", re.IGNORECASE)

if not Doc.has_extension("turns"):
    Doc.set_extension("turns", default=None)


@dataclass
class Turn:
    start: int                    # the stretch of text this speaker holds
    end: int
    name: str | None
    role: str | None
    unit: str | None
    stance: str | None            # asking | answering | None (news)
    number: int = 0
    answers_turn: int | None = None
    label_start: int = 0
    label_end: int = 0
    unit_ref: object | None = None  # the speaker's territorial unit, for attribution

    def as_speaker(self) -> dict:
        return {"name": self.name, "role": self.role, "unit": self.unit, "stance": self.stance,
                "turn": self.number, "answers_turn": self.answers_turn}


@lru_cache(maxsize=1)
def _speech_verbs() -> list[tuple[str, str]]:
    return [(stance, pattern) for stance, pattern in table("nlp", "speech_verbs.tsv")]


@lru_cache(maxsize=1)
def _verb_re() -> re.Pattern:
    verbs = "|".join(f"(?:{p})" for _, p in _speech_verbs())
    return re.compile(rf"\s(?P<verb>{verbs})\s*(?:[,:]|rằng\b)", re.IGNORECASE)


def _intros(line: str) -> list[tuple[int, int, str | None]]:
    """Candidate speakers of a line as (who start, who end, speech verb): "WHO <verb>," found by
    locating the verb and looking back for WHO (linear, no backtracking), and "Theo WHO, ..."."""
    out = []
    m = _verb_re().search(line)
    if m is not None:
        cut = max(line.rfind(ch, 0, m.start()) for ch in ".;:?!")
        a = max(cut + 1, m.start() - 200)
        while a < m.start() and line[a].isspace():
            a += 1
        if m.start() - a >= 3:
            out.append((a, m.start(), m.group("verb")))
    theo = _THEO.search(line)
    if theo is not None:
        out.append((theo.start("who"), theo.end("who"), None))
    return out


def _asking_roles() -> re.Pattern:
    return regex_union("nlp", "asking_roles.tsv")


def _verb_stance(verb: str) -> str | None:
    for stance, pattern in _speech_verbs():
        if re.fullmatch(pattern, verb, re.IGNORECASE):
            return None if stance == "neutral" else stance
    return None


def _role_stance(label: str) -> str | None:
    if _EXECUTIVE.search(label) and not re.search(r"đại biểu|\bđb\b|hđnd", label, re.IGNORECASE):
        return "answering"
    if _asking_roles().search(label):
        return "asking"
    return "answering" if _EXECUTIVE.search(label) else None


def _territory(doc: Doc, a: int, b: int):
    for s in doc.spans[GROUP]:
        if s.label_ == "UNIT" and a <= s.start_char and s.end_char <= b and s._.unit is not None \
                and s._.unit.admin is not None:
            return s._.unit
    return None


def _describe(doc: Doc, a: int, b: int) -> tuple[str | None, str | None, str | None]:
    """Person, role and unit named in text[a:b], from the entity spans there."""
    spans = [s for s in doc.spans[GROUP] if a <= s.start_char and s.end_char <= b]
    person = next((s.text for s in spans if s.label_ == "PERSON"), None)
    roles = [s for s in spans if s.label_ == "ROLE"]
    role = max(roles, key=lambda s: len(s.text)).text if roles else None
    unit = None
    for s in spans:
        if s.label_ == "UNIT" and s._.unit is not None:
            unit = s._.unit.name
            break
    if role is None and person is None and unit is None:
        return None, None, None
    return person, role, unit


def find_turns(doc: Doc, session: bool) -> list[Turn]:
    text = text_of(doc)
    turns: list[Turn] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue
        turn = _turn_label(doc, line, start) or _reported(doc, line, start, session)
        if turn is not None:
            turn.end = end
            turn.unit_ref = _territory(doc, turn.label_start, turn.label_end)
            turns.append(turn)
        elif turns and is_heading(line):
            turns[-1].end = start  # a new section ends the current speaker's stretch
        elif turns and turns[-1].end == start - 1:
            turns[-1].end = end    # the same speaker goes on in the next paragraph
    last_question = None
    for i, t in enumerate(turns, 1):
        t.number = i
        if t.stance == "asking":
            last_question = i
        elif t.stance == "answering" and last_question is not None:
            t.answers_turn = last_question
    return turns


def _turn_label(doc: Doc, line: str, start: int) -> Turn | None:
    m = _TURN.match(line)
    if not m:
        return None
    label = m.group("label")
    person, role, unit = _describe(doc, start, start + len(label))
    if person is None and role is None:
        return None
    stance = _role_stance(label)
    return Turn(start, start + len(line), person, role or label.strip(), unit, stance,
                label_start=start, label_end=start + len(label))


def _reported(doc: Doc, line: str, start: int, session: bool) -> Turn | None:
    for a, b, verb in _intros(line):
        if a > 60:
            continue
        who_a, who_b = start + a, start + b
        person, role, unit = _describe(doc, who_a, who_b)
        if person is None and role is None:
            continue
        stance = None
        if session:
            stance = (_verb_stance(verb) if verb else None) or _role_stance(line[a:b])
        return Turn(start, start + len(line), person, role, unit, stance, label_start=who_a, label_end=who_b)
    return None


class SpeakerAttributor:
    def __call__(self, doc: Doc) -> Doc:
        session = doc.user_data.get("doc_type") in ("session report", "transcript")
        turns = find_turns(doc, session)
        doc._.turns = turns
        doc.spans["speakers"] = [s for s in (doc.char_span(t.label_start, t.label_end, label=t.stance or "speaker",
                                                           alignment_mode="expand") for t in turns) if s]
        for st in doc._.statements or []:
            turn = next((t for t in turns if t.start <= st.clause.start < t.end), None)
            if turn is None:
                continue
            st.speaker = turn.as_speaker()
            # an official answering speaks for their unit; weak evidence yields to it
            if turn.stance != "asking" and turn.unit_ref is not None and st.unit_source in ("topic", "leader"):
                st.unit, st.unit_source = turn.unit_ref, "speaker"
        return doc


@Language.factory("parlens_speakers")
def create_speaker_attributor(nlp: Language, name: str) -> SpeakerAttributor:
    return SpeakerAttributor()
