"""The unit of a statement (nlp.attribution), on sentences written for these tests."""
import pytest

from nlp.attribution import attribute_units
from nlp.statements import Clause, Statement


@pytest.fixture(scope="module")
def parse(nlp):
    def go(text, doc_type="news article"):
        doc = nlp.make_doc(text)
        doc.user_data.update(published="2024-05-20", doc_type=doc_type)
        return nlp.get_pipe("parlens_entities")(doc)
    return go


def statement_on(doc, phrase, kind="remedy"):
    a = doc.text.index(phrase)
    sent = next(s for s in doc.sents if s.start_char <= a < s.end_char)
    return Statement(clause=Clause(a, a + len(phrase), sent.start_char, sent.end_char), kind=kind, confidence=1.0)


def test_a_body_named_in_the_spirit_of_a_directive_is_not_the_subject(parse):
    text = ("Sở Tư pháp họp với các phòng chuyên môn.\n"
            "Các phòng phải công khai thủ tục theo đúng tinh thần Chính phủ đã chỉ đạo.")
    doc = parse(text)
    st = statement_on(doc, "Các phòng phải công khai thủ tục theo đúng tinh thần Chính phủ đã chỉ đạo")
    attribute_units(doc, [st])
    assert st.unit is not None and st.unit.name == "Sở Tư pháp"


def test_a_national_report_framed_by_sector_is_about_that_sectors_ministry(parse):
    text = ("Quốc hội thông qua nghị quyết về kết quả giám sát chuyên đề.\n"
            "Đối với lĩnh vực GD&ĐT, nghị quyết yêu cầu rà soát chương trình sách giáo khoa. "
            "Cần chấm dứt tình trạng lạm thu đầu năm học.\n"
            "Với ngành giao thông vận tải, nghị quyết yêu cầu đẩy nhanh tiến độ các dự án cao tốc.")
    doc = parse(text)
    sts = [statement_on(doc, p) for p in ("rà soát chương trình sách giáo khoa",
                                          "Cần chấm dứt tình trạng lạm thu đầu năm học",
                                          "đẩy nhanh tiến độ các dự án cao tốc")]
    attribute_units(doc, sts)
    assert [st.unit.name for st in sts] == ["Bộ Giáo dục và Đào tạo", "Bộ Giáo dục và Đào tạo", "Bộ Giao thông vận tải"]
    assert sts[0].unit.written == "Bộ GD&ĐT"   # as the text writes the sector


def test_a_sector_frame_in_a_provinces_report_keeps_the_province(parse):
    text = ("Kỳ họp HĐND tỉnh Quảng Trị bàn về kinh tế - xã hội. Tỉnh Quảng Trị đã hoàn thành nhiều chỉ tiêu.\n"
            "Đối với lĩnh vực y tế, cần nâng cao chất lượng khám chữa bệnh tuyến xã.\n"
            "Đối với lĩnh vực kinh tế, cần cải thiện môi trường đầu tư.")
    doc = parse(text)
    health = statement_on(doc, "cần nâng cao chất lượng khám chữa bệnh tuyến xã")
    attribute_units(doc, [health])
    assert health.unit is not None and "Quảng Trị" in health.unit.name
    national = parse("Đối với lĩnh vực kinh tế, cần cải thiện môi trường đầu tư.")
    st = statement_on(national, "cần cải thiện môi trường đầu tư")
    attribute_units(national, [st])
    assert st.unit is None   # a sector with no ministry of its own


def test_a_fronted_phrase_ends_at_its_comma_and_the_body_after_it_is_the_subject(parse):
    text = "Trước Bình Phước, Bộ Tư pháp cũng đã số hóa toàn bộ sổ hộ tịch."
    doc = parse(text)
    st = statement_on(doc, text[:-1])
    attribute_units(doc, [st])
    assert st.unit is not None and st.unit.name == "Bộ Tư pháp"
    last_year = "Năm trước huyện đã số hóa toàn bộ sổ hộ tịch."
    doc = parse("UBND huyện Đông Hải họp tổng kết.\n" + last_year)
    st = statement_on(doc, last_year[:-1])
    attribute_units(doc, [st])
    assert st.unit is not None and "Đông Hải" in st.unit.name   # "năm trước": last year, no preposition


def test_a_remedy_a_unit_requests_of_another_belongs_to_the_body_asked(parse):
    text = ("Để công tác một cửa chuyển biến, bên cạnh nỗ lực của địa phương, huyện Phú Tân đề nghị "
            "UBND tỉnh An Giang bổ sung biên chế cho bộ phận một cửa.")
    doc = parse(text)
    st = statement_on(doc, text[:-1])
    attribute_units(doc, [st])
    assert st.unit is not None and "An Giang" in st.unit.name and st.unit_source == "addressee"
    own = "Sở Nội vụ tăng cường kiểm tra công vụ, đồng thời kiến nghị Bộ Nội vụ sửa quy định tuyển dụng."
    doc = parse(own)
    st = statement_on(doc, own[:-1])
    attribute_units(doc, [st])
    assert st.unit is not None and st.unit.name == "Sở Nội vụ"   # a request after another measure
