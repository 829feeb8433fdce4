"""underthesea sentence splitting, word segmentation and POS tagging, as spaCy Docs.

spaCy's own Vietnamese tokenizer (pyvi) glues names to verbs ("Ứng Hòa đạt");
underthesea keeps "Ứng Hòa" one word. Its words are aligned back to the
stored text so every token has exact character offsets; numbers, percentages,
fractions, dates and document codes are protected first so that "89,08 %" and
"35,18/38" always come out as one token.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from os.path import dirname, join

import spacy
from spacy.tokens import Doc
from spacy.vocab import Vocab

# Longest sentence handed to underthesea's word segmenter: real sentences are far
# shorter; a 1 MB line without punctuation is cut into pieces of this size.
MAX_CHUNK = 3000

_NUM = r"\d+(?:[.,]\d+)*"
_PROTECTED = re.compile(
    "|".join([
        r"\d{1,2}/\d{1,2}/(?:19|20)\d{2}(?!\d)",           # 05/07/2023
        rf"{_NUM}\s?/\s?{_NUM}(?:\s?điểm)?",              # 35,18/38 điểm, 13/14
        rf"{_NUM}\s?%",                                   # 89,08 %, 61%
        r"\d+/[A-ZĐa-zđ0-9][\w\-–/&.]*[\w]",               # 1003/QĐ-UBND, 134/UBND-KSTT
        r"\b(?:TP|TX|TT|Q|P|H)\.(?=\s?[A-ZĐÀ-Ỹ])",         # TP.Hà Nội, TX. Sơn Tây
        r"\b[A-ZĐ]{1,6}(?:&[A-ZĐ]{1,6})+\b",                # TT&TT, LĐTB&XH
        rf"{_NUM}",
    ])
)


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    tag: str


def protected_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _PROTECTED.finditer(text)]


@lru_cache(maxsize=1)
def _pos_model():
    import underthesea.pipeline.pos_tag as pos_pkg
    from underthesea.models.fast_crf_sequence_tagger import FastCRFSequenceTagger

    model = FastCRFSequenceTagger()
    model.load(join(dirname(pos_pkg.__file__), "models", "pos_crf_vlsp2013_20230303"))
    return model


def _word_tokenize(text: str) -> list[str]:
    from underthesea import word_tokenize

    return word_tokenize(text, use_token_normalize=False)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence offsets: each line is split by underthesea (linear even on a 1 MB line); a line
    never spans two sentences, and a sentence longer than MAX_CHUNK is cut at its last comma or
    space before the limit, so no later stage sees unbounded input."""
    from underthesea import sent_tokenize

    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        cursor = line_start
        found_any = False
        for sent in sent_tokenize(line) or [line]:
            sent = sent.strip()
            found = text.find(sent, cursor, line_start + len(line)) if sent else -1
            if found < 0:  # underthesea changed characters: the line fallback covers it
                continue
            spans += _bounded(text, found, found + len(sent))
            cursor = found + len(sent)
            found_any = True
        if not found_any:
            stripped = line.strip()
            start = text.find(stripped, line_start)
            spans += _bounded(text, start, start + len(stripped))
    return spans


def _bounded(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    while end - start > MAX_CHUNK:
        window = text[start:start + MAX_CHUNK]
        cut = max(window.rfind(", "), window.rfind("; "))
        cut = cut + 1 if cut > MAX_CHUNK // 2 else window.rfind(" ")
        cut = cut if cut > MAX_CHUNK // 2 else MAX_CHUNK
        out.append((start, start + cut))
        start += cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append((start, end))
    return out


def _align(text: str, words: list[str], offset: int) -> list[tuple[int, int]] | None:
    spans = []
    cursor = 0
    for word in words:
        found = text.find(word, cursor)
        if found < 0 or text[cursor:found].strip():
            return None
        spans.append((offset + found, offset + found + len(word)))
        cursor = found + len(word)
    return spans


def _fallback_words(text: str, offset: int) -> list[tuple[int, int]]:
    return [(offset + m.start(), offset + m.end()) for m in re.finditer(r"\w+|[^\w\s]", text)]


def _merge_protected(spans: list[tuple[int, int]], protected: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Replace words overlapping a protected span by that span (and any outside parts)."""
    if not protected:
        return spans
    out: list[tuple[int, int]] = []
    i = 0
    for ps, pe in protected:
        while i < len(spans) and spans[i][1] <= ps:
            out.append(spans[i])
            i += 1
        first = True
        while i < len(spans) and spans[i][0] < pe:
            s, e = spans[i]
            if s < ps and first:
                out.append((s, ps))
            first = False
            if e > pe:
                spans[i] = (pe, e)
                break
            i += 1
        out.append((ps, pe))
    out.extend(spans[i:])
    return out


_GLUED_ABBR = re.compile(r"^(?:UBND|HĐND|UB|TP\.?)(?=[A-ZĐ\u00C0-\u1EF9][a-zđ\u00E0-\u1EF9])")


def _split_case_joins(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split a word that runs from lowercase into a capitalised name ("giao Văn phòng" ->
    "giao" + "Văn phòng"): Vietnamese names start with a capital, so such joins are errors.
    Likewise an abbreviation glued to the next word by a missing space ("UBNDThị trấn")."""
    out = []
    for s, e in spans:
        word = text[s:e]
        glued = _GLUED_ABBR.match(word)
        if glued and glued.end() < len(word) and word[glued.end()].isupper():
            out += [(s, s + glued.end()), (s + glued.end(), e)]
            continue
        parts = word.split(" ")
        if len(parts) >= 3 and all(p[:1].isupper() for p in parts[:-1]) and parts[-1][:1].islower():
            # a name glued to the verb after it ("Mỹ Đức xếp" -> "Mỹ Đức" + "xếp")
            cut = len(word) - len(parts[-1]) - 1
            out += [(s, s + cut), (s + cut + 1, e)]
            continue
        if " " in word and word[:1].islower():
            cut = next((m.start() for m in re.finditer(r" (?=[^\W\d_])", word) if word[m.start() + 1].isupper()), -1)
            if cut > 0:
                out += [(s, s + cut), (s + cut + 1, e)]
                continue
        out.append((s, e))
    return out


def _strip_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Words never start or end with whitespace (a cut word like "10/30 bộ" leaves " bộ")."""
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def segment_sentence(text: str, start: int, end: int) -> list[Token]:
    """Words of one sentence (at most MAX_CHUNK long: see split_sentences) with underthesea POS
    tags, offsets into `text`."""
    sentence = text[start:end]
    spans = _align(sentence, _word_tokenize(sentence), start)
    if spans is None:  # underthesea changed characters: fall back to plain word boundaries
        spans = _fallback_words(sentence, start)
    protected = [(start + s, start + e) for s, e in protected_spans(sentence)]
    spans = _split_case_joins(text, _strip_spans(text, _merge_protected(spans, protected)))
    words = [text[s:e] for s, e in spans]
    return [Token(s, e, tag) for (s, e), tag in zip(spans, pos_tags(words))]


def pos_tags(words: list[str]) -> list[str]:
    """underthesea POS tags; its native featurizer can panic on odd input, which costs only the tags."""
    if not words:
        return []
    try:
        tags = _pos_model().predict([[w] for w in words])
    except BaseException as exc:  # pyo3 panics derive from BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return ["X"] * len(words)
    return [t[2:] if t.startswith(("B-", "I-")) else t for t in tags]


def text_of(doc: Doc) -> str:
    """The document's text, cached: spaCy rebuilds `doc.text` from its tokens on every access,
    which components calling it per sentence or per clause would pay again and again."""
    text = doc.user_data.get("text")
    length = doc[-1].idx + len(doc[-1].text_with_ws) if len(doc) else 0
    if text is None or len(text) != length:  # a Doc not made by our tokenizer
        text = doc.user_data["text"] = doc.text
    return text


def published_year(doc: Doc) -> int | None:
    """The year of the document's publication date, which ingest puts in `doc.user_data`."""
    published = doc.user_data.get("published")
    return int(published[:4]) if published else None


class UndertheseaTokenizer:
    """A spaCy tokenizer: underthesea words, spaces and tags, sentence starts set."""

    def __init__(self, vocab: Vocab):
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        tags: list[str] = []
        sent_starts: list[bool] = []
        cursor = 0
        for s_start, s_end in split_sentences(text):
            first = True
            for tok in segment_sentence(text, s_start, s_end):
                self._gap(text, cursor, tok.start, words, spaces, tags, sent_starts)
                words.append(text[tok.start:tok.end])
                spaces.append(False)
                tags.append(tok.tag)
                sent_starts.append(first)
                first = False
                cursor = tok.end
        self._gap(text, cursor, len(text), words, spaces, tags, sent_starts)
        if not words:
            return Doc(self.vocab, words=[], spaces=[])
        doc = Doc(self.vocab, words=words, spaces=spaces, tags=tags, sent_starts=sent_starts)
        doc.user_data["text"] = text
        return doc

    @staticmethod
    def _gap(text: str, a: int, b: int, words, spaces, tags, sent_starts) -> None:
        """Whitespace between words: a single space is the previous token's; the rest become tokens."""
        gap = text[a:b]
        if not gap:
            return
        if gap.strip():  # text no sentence covered (should not happen): keep it as its own token
            words.append(gap)
            spaces.append(False)
            tags.append("X")
            sent_starts.append(False)
            return
        if words and gap[0] == " " and not spaces[-1]:
            spaces[-1] = True
            gap = gap[1:]
        if gap:
            words.append(gap)
            spaces.append(False)
            tags.append("_SP")
            sent_starts.append(False)

    def to_bytes(self, **kwargs) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **kwargs) -> "UndertheseaTokenizer":
        return self

    def to_disk(self, path, **kwargs) -> None:
        pass

    def from_disk(self, path, **kwargs) -> "UndertheseaTokenizer":
        return self


@spacy.registry.tokenizers("parlens.underthesea_tokenizer.v1")
def create_tokenizer():
    def make(nlp):
        return UndertheseaTokenizer(nlp.vocab)
    return make
