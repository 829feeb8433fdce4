import unicodedata

from corpus.clean import clean_text, is_boilerplate
from corpus.normalize import fix_tone_marks, fold, normalize_text


def test_tone_mark_variants_become_one_name():
    assert normalize_text("huyện Ứng Hoà") == normalize_text("huyện Ứng Hòa") == "huyện Ứng Hòa"
    assert fix_tone_marks("Thuỷ Nguyên, Uỷ ban, khoẻ, tuỳ") == "Thủy Nguyên, Ủy ban, khỏe, tùy"


def test_tone_marks_left_alone_where_placement_is_fixed():
    # closed syllables and the "qu" cluster keep their marks
    for word in ("hoàng", "quý", "toán", "khuyết", "Quảng", "hòa"):
        assert fix_tone_marks(word) == word


def test_decomposed_input_is_composed():
    nfd = unicodedata.normalize("NFD", "Cải cách hành chính ở Hà Nội")
    assert nfd != "Cải cách hành chính ở Hà Nội"
    assert normalize_text(nfd) == "Cải cách hành chính ở Hà Nội"


def test_control_characters_and_spacing():
    assert normalize_text("Sở\u200b Nội\x07 vụ\u00a0\u00a0tỉnh\r\n\r\n\r\nNghệ An") == "Sở Nội vụ tỉnh\n\nNghệ An"


def test_fold_strips_marks():
    assert fold("Đà Nẵng – Ứng Hòa") == "da nang ung hoa"


def test_page_furniture_is_recognised():
    for line in ("Thống kê truy cập", "• Đang online: 12", "Hôm nay: 221", "Trong tuần: 2 263", "Tất cả: 73476",
                 "Lượt xem: 43", "Vui lòng nhập nội dung bình luận.", "Top", "Thời tiết", "image banner"):
        assert is_boilerplate(line), line
    for line in ("Huyện An Dương", "Tất cả các xã đều đạt chuẩn", "Thời tiết xấu làm chậm tiến độ giải ngân"):
        assert not is_boilerplate(line), line


def test_clean_text_drops_counters_from_seed_003():
    from conftest import seed_path
    text = clean_text(seed_path("003").read_text(encoding="utf-8"))
    assert "Đang online" not in text and "Lượt xem" not in text and "Thống kê truy cập" not in text
    assert text.startswith("Tiêu chí đánh giá công tác cải cách hành chính")
