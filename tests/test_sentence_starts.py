"""Sentence starts glued to a heading or caption (nlp.sentence_starts), on training-article text."""
from collections import Counter

from nlp.sentence_starts import count, glued_starts, select


def _cut(text):
    return [text[i:] for i in glued_starts(text, 0, len(text))]


def test_caption_cut_from_the_sentence_it_is_glued_to():
    text = "Ảnh minh họa Đồng thời, tạo mọi thuận lợi để phát triển doanh nghiệp nhỏ và vừa"
    assert _cut(text) == ["Đồng thời, tạo mọi thuận lợi để phát triển doanh nghiệp nhỏ và vừa"]


def test_missing_full_stop_between_two_sentences():
    text = "Nhiều doanh nghiệp FDI vẫn chưa hài lòng về thủ tục hành chính Đó là một trong những vấn đề"
    assert _cut(text) == ["Đó là một trong những vấn đề"]


def test_name_after_its_type_word_is_not_a_sentence_start():
    text = "dự thảo Luật Hỗ trợ doanh nghiệp nhỏ và vừa được xây dựng theo hướng bảo đảm phù hợp với chủ trương của Đảng"
    assert _cut(text) == []


def test_lower_case_pair_mid_sentence_is_not_cut():
    assert _cut("Nhiều doanh nghiệp FDI vẫn chưa hài lòng, đó là một trong những vấn đề") == []


def test_selection_keeps_pairs_capitalised_only_after_a_full_stop():
    lines = ["Xong việc. Sau đó họ về."] * 10 + ["họ làm sau đó nghỉ"] * 30 + ["Tỉnh Quảng Nam. tỉnh Quảng Nam họp"] * 30
    pairs = [row[0] for row in select(count(lines))]
    assert "sau đó" in pairs and "quảng nam" not in pairs
    assert isinstance(count(["a b"]).get("a b", Counter()), Counter)
