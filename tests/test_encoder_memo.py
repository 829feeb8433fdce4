"""The encoder's memo of recent texts: what was just embedded is not embedded again."""
from __future__ import annotations

import numpy as np

from nlp.embeddings.encoder import Encoder


class CountingModel:
    """A stand-in sentence-transformers model: a vector per (prompt, text), and a log of the texts
    it was asked to embed."""

    prompts = {"query": "query: ", "passage": "passage: "}

    def __init__(self):
        self.seen: list[tuple[str | None, str]] = []

    def encode(self, texts, prompt_name=None, **kwargs):
        self.seen += [(prompt_name, t) for t in texts]
        out = []
        for t in texts:
            rng = np.random.default_rng(abs(hash((prompt_name, t))) % 2**32)
            v = rng.standard_normal(8)
            out.append(v / np.linalg.norm(v))
        return np.array(out, dtype=np.float32)


CLAUSES = ["Nguyên nhân là do cơ sở vật chất còn thiếu", "Theo báo Nhân Dân", "Theo báo Nhân Dân",
           "Thời gian tới, huyện sẽ đẩy mạnh cải cách thủ tục hành chính", "Ông Nguyễn Văn An"]


def _encoder():
    model = CountingModel()
    return model, Encoder(model=model, name="fake", dim=8)


def test_a_text_repeated_in_one_call_is_embedded_once():
    model, enc = _encoder()
    out = enc.encode_passages(CLAUSES)
    assert sorted(t for _, t in model.seen) == sorted(set(CLAUSES))
    np.testing.assert_array_equal(out[1], out[2])
    assert not np.allclose(out[0], out[1])


def test_findings_after_their_clauses_reuse_the_vectors():
    model, enc = _encoder()
    clauses = enc.encode_passages(CLAUSES)
    before = len(model.seen)
    findings = enc.encode_passages([CLAUSES[3], CLAUSES[0], "Chỉ số đạt 85,5%"])
    assert model.seen[before:] == [("passage", "Chỉ số đạt 85,5%")]
    np.testing.assert_array_equal(findings[0], clauses[3])
    np.testing.assert_array_equal(findings[1], clauses[0])


def test_queries_and_passages_are_remembered_apart():
    model, enc = _encoder()
    passage = enc.encode_passages([CLAUSES[0]])
    query = enc.encode_queries([CLAUSES[0]])
    assert model.seen == [("passage", CLAUSES[0]), ("query", CLAUSES[0])]
    assert not np.allclose(passage, query)


def test_memo_off_and_bounded():
    model, enc = _encoder()
    enc.memo_size = 0
    enc.encode_passages(CLAUSES[:1])
    enc.encode_passages(CLAUSES[:1])
    assert len(model.seen) == 2
    enc.memo_size = 2
    enc.encode_passages(["a", "b", "c"])  # "a" is evicted: only the two most recent stay
    before = len(model.seen)
    enc.encode_passages(["b", "c"])
    assert len(model.seen) == before
    enc.encode_passages(["a"])
    assert model.seen[-1] == ("passage", "a")


def test_nfd_and_nfc_share_one_entry():
    import unicodedata

    model, enc = _encoder()
    nfc = "Huyện Ứng Hòa"
    a = enc.encode_passages([nfc])
    b = enc.encode_passages([unicodedata.normalize("NFD", nfc)])
    assert len(model.seen) == 1
    np.testing.assert_array_equal(a, b)
