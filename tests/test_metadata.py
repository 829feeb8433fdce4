import pytest

from conftest import seed_path
from corpus.clean import clean_text
from corpus.metadata import extract_metadata, guess_doc_type, normalise_date, parse_date

EXPECTED = {
    "000": ('"Nhóm cuối bảng" về chỉ số cải cách hành chính', "2023-07-05", None, "session report"),
    "001": ("Xốc lại công tác cải cách hành chính", "2017-07-11", None, "news article"),
    "002": ("HĐND huyện giám sát công tác cải cách hành chính tại thị trấn Trạm Trôi", "2023-08-30", None,
            "session report"),
    "003": ("Tiêu chí đánh giá công tác cải cách hành chính cho các đơn vị", None, "noivu.nghean.gov.vn",
            "session report"),
    "004": ("Hướng tới mục tiêu top 5 địa phương dẫn đầu cả nước về chuyển đổi số", "2022-06-03", "chinhphu.vn",
            "news article"),
}


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_seed_metadata(seed):
    raw = seed_path(seed).read_text(encoding="utf-8")
    meta = extract_metadata(clean_text(raw), raw_text=raw)
    title, published, site, doc_type = EXPECTED[seed]
    assert meta.title.startswith(title)
    assert meta.published == published
    assert meta.site == site
    assert meta.doc_type == doc_type


@pytest.mark.parametrize("line,iso", [
    ("Thứ tư, ngày 05/07/2023 15:56 PM (GMT+7)", "2023-07-05"),
    ("Cập nhật lúc09:59, Thứ Ba, 11/07/2017 (GMT+7)", "2017-07-11"),
    ("Ngày đăng 30/08/2023 | 13:30  | View count: 122", "2023-08-30"),
    ("03/06/2022 5:53 PM", "2022-06-03"),
    ("31/02/2022", None),
])
def test_date_lines(line, iso):
    assert parse_date("Tiêu đề\n" + line) == iso


def test_body_dates_are_not_publication_dates():
    body = "Tỉnh đã ban hành Công văn số 134/UBND-KSTT ngày 10/3/2022 " + "về việc triển khai. " * 10
    assert parse_date("Tiêu đề bài viết\n" + body) is None


def test_jsonl_dates_and_transcripts():
    assert normalise_date("2017-03-05T10:00:00") == "2017-03-05"
    turns = ("Đại biểu Nguyễn Văn A (Tổ đại biểu huyện X): Vì sao chỉ số thấp?\n"
             "Chủ tịch UBND huyện X: Do cơ sở vật chất còn thiếu.\n"
             "Đại biểu Trần Thị B: Giải pháp là gì?\n"
             "Chủ tịch UBND huyện X: Tăng cường tuyên truyền.\n")
    assert guess_doc_type(turns) == "transcript"


@pytest.mark.parametrize("text", [
    "Ban hành Luật Quy hoạch từ 1.1.2019\nLuật có hiệu lực thi hành kể từ ngày 1.1.2019 trên cả nước.",
    "Từ 01/7/2021: tăng lương cơ sở\nNội dung bài viết.",
    "Tin tức\nHướng dẫn thực hiện Nghị quyết số 12 ngày 5/3/2020 của HĐND\nNội dung.",
])
def test_a_number_in_a_title_is_not_a_publication_date(text):
    meta = extract_metadata(text)
    assert meta.published is None
    assert meta.title == text.split("\n")[0] or "Nghị quyết" in meta.title


def test_a_title_given_by_the_source_is_not_a_dateline():
    text = "Từ 1.1.2019\nThứ hai, 03/12/2018 08:15 (GMT+7)\nNội dung."
    assert extract_metadata(text, title="Từ 1.1.2019").published == "2018-12-03"
    assert extract_metadata("Từ 1.1.2019\nNội dung bài viết.", title="Từ 1.1.2019").published is None
