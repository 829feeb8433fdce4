"""Text normalisation applied once, at ingest, before anything is stored.

Every offset in the store points into the normalised text, so this module is
the only place that may change characters. Two spellings of one name must
become one string: Unicode NFC, and one tone-mark placement ("Hoà" -> "Hòa",
"Thuỷ" -> "Thủy"), the placement used by official unit names.
"""
from __future__ import annotations

import re
import unicodedata

# Combining tone marks (grave, acute, tilde, hook above, dot below).
_TONES = "\u0300\u0301\u0303\u0309\u0323"
# A syllable ending in an open "oa", "oe" or "uy" (no final consonant), where
# the old-style placement puts the tone on the first vowel. "qu" + vowel is a
# consonant cluster, so "quý" keeps its mark.
_WORD = re.compile(r"\w+")
_OPEN_PAIR = re.compile(r"(?<![qQ])([oOuU])([" + _TONES + r"]?)([aAeEyY])([" + _TONES + r"]?)$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def _fix_tone(match: re.Match) -> str:
    word = match.group(0)
    if not any(ord(c) > 127 for c in word):
        return word
    nfd = unicodedata.normalize("NFD", word)
    m = _OPEN_PAIR.search(nfd)
    if not m or m.group(2) or not m.group(4):
        return word
    first, _, second, tone = m.groups()
    # "oa"/"oe" only pair with o; "uy" only with u.
    if (first.lower() == "o") != (second.lower() in "ae"):
        return word
    fixed = nfd[: m.start()] + first + tone + second
    return unicodedata.normalize("NFC", fixed)


def fix_tone_marks(text: str) -> str:
    """Move tone marks in open oa/oe/uy syllables to the first vowel."""
    return _WORD.sub(_fix_tone, text)


def normalize_text(text: str) -> str:
    """NFC, consistent tone marks, no control characters, tidy spaces.

    Line structure is kept (paragraphs and headings matter to extraction);
    runs of blank lines collapse to one.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    return tidy_lines(fix_tone_marks(text))


def tidy_lines(text: str) -> str:
    """One space between words, no blank-line runs: the cheap half of normalize_text."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def fold(text: str) -> str:
    """Lowercase without diacritics ("Ứng Hòa" -> "ung hoa"), for lookups."""
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d").replace("\u0111", "d")
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


# Every uppercase letter Vietnamese uses, for regex classes ("[À-Ỹ]" would
# also take lowercase letters, which interleave with capitals in Unicode).
UPPER = "A-Z" + "".join(chr(c) for c in range(0xC0, 0x1F00) if chr(c).isupper() and chr(c).isalpha())
