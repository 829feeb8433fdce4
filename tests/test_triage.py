"""Triage: the automaton-guided matcher must give exactly the verdicts of plain `finditer`."""
from __future__ import annotations

import re

import pytest

from corpus import triage
from corpus.triage import MAX_COUNT, TEXT_WINDOW, Verdict, judge, literal_prefixes

# Hand-written news-style sentences (not from any evaluation set), chosen for the tricky cases:
# a negative lookahead ("chất vấn đề"), word boundaries (cchc, tthc, đbqh), an optional space
# (par index), a term that is a prefix of another (một cửa / một cửa liên thông), overlapping
# prefixes of different terms, capitals, repeated mentions, and text with no term at all.
SENTENCES = [
    "Năm 2017, chỉ số cải cách hành chính (PAR INDEX) của tỉnh tăng 5 bậc so với năm trước.",
    "UBND huyện đã rà soát 120 thủ tục hành chính, cắt giảm 30% thời gian giải quyết hồ sơ.",
    "Tại kỳ họp thứ tư HĐND tỉnh, đại biểu đã chất vấn Giám đốc Sở Tài nguyên và Môi trường.",
    "Đây là một chất vấn đề cập tới nhiều vấn đề nóng của người dân.",
    "Chất vấn đề án sáp nhập không nhận được câu trả lời thỏa đáng.",
    "Bộ phận một cửa liên thông của quận tiếp nhận và trả kết quả cho 5.000 hồ sơ trễ hạn.",
    "Kết quả CCHC năm nay cho thấy cchc-2017 và xcchc không phải là chỉ số nào cả.",
    "Đoàn giám sát của Hội đồng nhân dân thành phố làm việc với cán bộ, công chức phường.",
    "Chỉ số PCI và DDCI của tỉnh cùng chỉ số hài lòng SIPAS đều được công bố công khai.",
    "Chính quyền điện tử, cổng dịch vụ công và chuyển đổi số là ưu tiên của ủy ban nhân dân.",
    "Người dân phản ánh tình trạng nhũng nhiễu, sách nhiễu, gây phiền hà khi làm TTHC.",
    "ĐBQH đề nghị Bộ Nội vụ siết chặt kỷ luật, kỷ cương hành chính trong công chức, viên chức.",
    "Đội tuyển bóng đá giành chiến thắng 3-0 trong trận giao hữu tối qua.",
    "Giá vàng hôm nay tăng nhẹ, giá xăng dầu giữ nguyên.",
    "",
]


def _reference_counts(text: str) -> dict[int, tuple[int, str]]:
    """The semantics triage had before the automaton: every match of the combined regex."""
    pattern, _ = triage._combined()
    out: dict[int, tuple[int, str]] = {}
    for m in pattern.finditer(text.lower()):
        i = int(m.lastgroup[1:])
        n, first = out.get(i, (0, m.group(0)))
        out[i] = (n + 1, first)
    return out


def _reference_judge(title: str, text: str) -> Verdict:
    return triage.verdict(_reference_counts(text[:TEXT_WINDOW]), _reference_counts(title))


def test_automaton_is_in_use():
    assert triage._automaton() is not None, "ahocorasick-rs missing: triage falls back to slow finditer"


@pytest.mark.parametrize("sentence", SENTENCES)
def test_matches_equal_finditer_on_each_sentence(sentence):
    assert triage._counts(sentence) == _reference_counts(sentence)


def test_verdicts_equal_reference_on_combined_texts():
    body = " ".join(SENTENCES)
    for title in ("", SENTENCES[0], SENTENCES[3], SENTENCES[12]):
        assert judge(title, body) == _reference_judge(title, body)
    for a, b in zip(SENTENCES, SENTENCES[1:]):
        assert judge(a, b) == _reference_judge(a, b)


def test_lookahead_and_word_boundaries_are_honoured():
    assert judge("", "Một chất vấn đề cập nhiều vấn đề.").score == 0
    assert judge("", "Đại biểu chất vấn Chủ tịch UBND.").terms == ("chất vấn", "ubnd")
    assert judge("", "Mã xcchc không phải viết tắt.").score == 0
    assert "cchc" in judge("", "Kết quả CCHC năm 2017.").terms


def test_a_term_that_extends_another_counts_once_per_position():
    verdict = judge("", "Bộ phận một cửa liên thông hoạt động tốt.")
    assert verdict.terms == ("một cửa",) and verdict.score == 2


def test_score_caps_mentions_and_doubles_the_title():
    text = "thủ tục hành chính " * 5
    assert judge("", text).score == 4 * MAX_COUNT
    assert judge("Thủ tục hành chính", "").score == 4 * 2
    assert judge("", "thủ tục hành chính").score == 4


def test_text_beyond_the_window_is_not_scored():
    far = "a" * TEXT_WINDOW + " cải cách hành chính"
    assert judge("", far).score == 0 == _reference_judge("", far).score


def test_lone_surrogates_fall_back_to_the_regex():
    text = "Kết quả cải cách hành chính \ud800 tại UBND tỉnh."
    assert judge("", text) == _reference_judge("", text)
    assert judge("", text).relevant


def test_literal_prefixes_cover_every_match():
    for _, regex in triage.table("corpus", "relevance.tsv"):
        prefixes = literal_prefixes(regex)
        assert prefixes and "" not in prefixes


        for sentence in SENTENCES:
            for m in re.finditer(regex, sentence.lower()):
                assert any(m.group(0).startswith(p) for p in prefixes), (regex, m)


def test_literal_prefixes_expand_optional_parts_and_branches():
    assert literal_prefixes(r"par ?index") == {"par index", "parindex"}
    assert literal_prefixes(r"\bcchc\b") == {"cchc"}
    assert literal_prefixes(r"hđnd (?:tỉnh|huyện)") >= {"hđnd tỉnh", "hđnd huyện"}
    assert literal_prefixes(r"\w+ công") is None  # may start anywhere: no finite literal start
    assert literal_prefixes(r"(?:x)?y") == {"xy", "y"}
    assert literal_prefixes(r"(?i)ubnd") is None  # case-insensitive: no fixed literal


def test_a_lexicon_without_literal_starts_falls_back(monkeypatch):
    rows = (("4", r"cải cách hành chính"), ("2", r"[a-z]+ công"))
    monkeypatch.setattr(triage, "table", lambda *a: rows)
    triage._combined.cache_clear()
    triage._automaton.cache_clear()
    try:
        assert triage._automaton() is None
        verdict = judge("", "cải cách hành chính và dịch công")
        assert verdict.score == 4 + 2 and verdict.relevant
    finally:
        triage._combined.cache_clear()
        triage._automaton.cache_clear()
