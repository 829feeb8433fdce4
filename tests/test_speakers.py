"""Speakers, stances, question/answer pairs and the unit of what they say, on sentences written
for these tests (not taken from any evaluation document)."""
import pytest

from nlp.speakers import attribute, find_turns, is_person
from nlp.statements import Clause, Statement


@pytest.fixture(scope="module")
def parse(nlp):
    def go(text, doc_type="session report"):
        doc = nlp.make_doc(text)
        doc.user_data.update(published="2024-05-20", doc_type=doc_type)
        return nlp.get_pipe("parlens_entities")(doc)
    return go


def turn_at(turns, text, phrase):
    at = text.index(phrase)
    return next((t for t in turns if t.start <= at < t.end), None)


def statement_on(doc, phrase, kind="weakness"):
    a = doc.text.index(phrase)
    sent = next(s for s in doc.sents if s.start_char <= a < s.end_char)
    return Statement(clause=Clause(a, a + len(phrase), sent.start_char, sent.end_char), kind=kind, confidence=1.0)


def test_reported_speech_holds_over_following_sentences_until_another_speaker(parse):
    text = ("Ông Lê Văn Tâm, Giám đốc Sở Xây dựng cho biết, việc cấp phép xây dựng còn chậm. "
            "Nguyên nhân là hồ sơ của người dân thường thiếu giấy tờ. "
            "Thời gian tới sở sẽ công khai quy trình trên cổng thông tin.\n"
            "Bà Phan Thị Mai, Giám đốc Sở Tư pháp nhấn mạnh, bộ phận một cửa cần trả kết quả đúng hẹn.")
    turns = find_turns(parse(text))
    for phrase in ("việc cấp phép", "Nguyên nhân là hồ sơ", "công khai quy trình"):
        assert turn_at(turns, text, phrase).name == "Lê Văn Tâm"
    other = turn_at(turns, text, "bộ phận một cửa")
    assert other.name == "Phan Thị Mai" and other.role.startswith("Giám đốc Sở Tư pháp")


def test_short_reference_and_quote_closed_by_attribution_resolve_to_the_full_name(parse):
    text = ("Bộ trưởng Bộ Nội vụ Phạm Văn Bình trả lời chất vấn chiều nay.\n"
            "“Chúng tôi nhận trách nhiệm. Việc tuyển dụng công chức còn nhiều bất cập” - ông Bình nói.")
    turns = find_turns(parse(text))
    t = turn_at(turns, text, "Chúng tôi nhận trách nhiệm")
    assert t is not None and t.name == "Phạm Văn Bình"


def test_narrator_gets_no_speaker(parse):
    text = ("Sáng 20/5, HĐND tỉnh khai mạc kỳ họp thường lệ giữa năm.\n"
            "Nhiều thủ tục hành chính trong lĩnh vực đất đai vẫn còn rườm rà.\n"
            "Ông Đỗ Minh Quân cho biết, tỉnh sẽ rà soát lại các thủ tục này. "
            "Chiều cùng ngày, kỳ họp chuyển sang phần thảo luận tổ.")
    turns = find_turns(parse(text))
    assert turn_at(turns, text, "Nhiều thủ tục hành chính") is None
    assert turn_at(turns, text, "tỉnh sẽ rà soát").name == "Đỗ Minh Quân"
    assert turn_at(turns, text, "kỳ họp chuyển sang") is None   # the narrator resumes


def test_delegate_asks_official_answers_and_the_answer_is_paired_with_the_question(parse):
    text = ("Đại biểu Trần Văn Nam (đoàn ĐBQH tỉnh Bến Tre) chất vấn, thủ tục cấp phép xây dựng còn rườm rà.\n"
            "Trả lời đại biểu Trần Văn Nam, Bộ trưởng Bộ Xây dựng Nguyễn Văn Hùng cho biết, "
            "bộ sẽ cắt giảm một nửa số thủ tục trong năm nay.\n"
            "Chủ tọa phiên họp, Phó Chủ tịch Quốc hội Lê Thị Hà kết luận, các bộ cần khắc phục ngay.")
    turns = find_turns(parse(text))
    ask = turn_at(turns, text, "thủ tục cấp phép")
    answer = turn_at(turns, text, "cắt giảm một nửa")
    chair = turn_at(turns, text, "các bộ cần khắc phục")
    assert (ask.name, ask.stance) == ("Trần Văn Nam", "asking")
    assert (answer.name, answer.stance) == ("Nguyễn Văn Hùng", "answering")
    assert answer.answers_turn == ask.number
    assert chair.name == "Lê Thị Hà" and chair.stance is None   # a chair speaks without a stance


def test_delegate_constituency_is_not_the_unit_of_the_question(parse):
    text = ("Đại biểu Trần Văn Nam (đoàn ĐBQH tỉnh Bến Tre) chất vấn, thủ tục cấp phép xây dựng còn rườm rà.\n"
            "Trả lời đại biểu, Bộ trưởng Bộ Xây dựng Nguyễn Văn Hùng cho biết, "
            "việc số hóa hồ sơ còn chậm.")
    doc = parse(text)
    asked = statement_on(doc, "thủ tục cấp phép xây dựng còn rườm rà")
    answered = statement_on(doc, "việc số hóa hồ sơ còn chậm")
    doc._.statements = [asked, answered]
    attribute(doc, find_turns(doc))
    assert asked.speaker["stance"] == "asking"
    assert asked.unit is not None and asked.unit.name == "Bộ Xây dựng"   # the body questioned
    assert answered.unit.name == "Bộ Xây dựng"                           # the body that answers


def test_a_question_with_no_body_named_keeps_no_unit(parse):
    text = "Đại biểu Trần Văn Nam (đoàn ĐBQH tỉnh Bến Tre) chất vấn, thủ tục cấp phép xây dựng còn rườm rà."
    doc = parse(text)
    asked = statement_on(doc, "thủ tục cấp phép xây dựng còn rườm rà")
    doc._.statements = [asked]
    attribute(doc, find_turns(doc))
    assert asked.speaker["name"] == "Trần Văn Nam"
    assert asked.unit is None or "Bến Tre" not in asked.unit.name


def test_streets_schools_and_historical_figures_are_not_speakers(parse):
    text = ("Theo trường Trần Đại Nghĩa, thủ tục chuyển trường còn phức tạp.\n"
            "Tấm gương Chủ tịch Hồ Chí Minh nhắc nhở cán bộ phải gần dân.\n"
            "Dự án trên đường Phạm Văn Đồng cho biết, tiến độ giải phóng mặt bằng còn chậm.")
    turns = find_turns(parse(text))
    named = {t.name for t in turns} | {t.role for t in turns}
    assert not named & {"Trần Đại Nghĩa", "Hồ Chí Minh", "Phạm Văn Đồng", "Chủ tịch Hồ Chí Minh", "Chủ tịch"}
    assert not is_person("trên đường Phạm Văn Đồng", len("trên đường "), "Phạm Văn Đồng")
    assert is_person("ông Phạm Văn Đồng", len("ông "), "Phạm Văn Đồng")


def test_bare_delegate_title_points_back_to_the_delegate_named_last(parse):
    text = ("Đại biểu Lò Văn Quý (đoàn ĐBQH tỉnh Sơn La) chất vấn, việc cấp sổ đỏ cho đồng bào còn chậm.\n"
            "Đại biểu cho rằng, cán bộ địa chính xã còn thiếu và yếu.")
    turns = find_turns(parse(text))
    again = turn_at(turns, text, "cán bộ địa chính")
    assert again.name == "Lò Văn Quý" and again.stance == "asking"


def test_a_group_of_delegates_speaks_without_a_name(parse):
    text = ("Ông Hà Văn Lực cho biết, tỉnh đã giảm một nửa thời gian cấp phép.\n"
            "Nhiều đại biểu cho rằng, việc giảm thời gian mới chỉ có trên giấy.")
    turns = find_turns(parse(text))
    group = turn_at(turns, text, "mới chỉ có trên giấy")
    assert group.name is None and group.as_speaker()["name"] == "Nhiều đại biểu"   # not ông Lực carried over
    assert group.stance == "asking"


def test_a_question_put_to_a_body_takes_that_body_as_its_unit(parse):
    text = ("Đại biểu Lò Văn Quý (đoàn ĐBQH tỉnh Sơn La) chất vấn Bộ Tài nguyên và Môi trường về việc "
            "cấp sổ đỏ còn chậm.")
    doc = parse(text)
    asked = statement_on(doc, "cấp sổ đỏ còn chậm")
    doc._.statements = [asked]
    attribute(doc, find_turns(doc))
    assert asked.unit is not None and asked.unit.name == "Bộ Tài nguyên và Môi trường"


def test_a_minister_named_by_a_bare_title_speaks_for_the_ministry_the_text_names(parse):
    text = ("Phiên chất vấn Bộ Giao thông vận tải.\n"
            "Bộ trưởng Đỗ Văn Thắng cho biết, việc bảo trì quốc lộ còn chậm.")
    doc = parse(text)
    said = statement_on(doc, "việc bảo trì quốc lộ còn chậm")
    doc._.statements = [said]
    turns = find_turns(doc)
    attribute(doc, turns)
    assert turn_at(turns, text, "bảo trì quốc lộ").stance == "answering"
    assert said.unit.name == "Bộ Giao thông vận tải"


def test_a_deputy_prime_minister_speaks_for_the_government_not_a_ministry_the_text_names(parse):
    text = ("Đại biểu Hoàng Thị Lan (đoàn ĐBQH tỉnh Nghệ An) chất vấn Phó Thủ tướng Lê Minh Khoa.\n"
            "Bà Lan cho rằng, việc phối hợp giữa các bộ còn chồng chéo.\n"
            "Trả lời đại biểu, Phó thủ tướng Lê Minh Khoa cho biết, năm qua Bộ Nội vụ đã kiểm tra mười địa phương. "
            "Tuy vậy, việc xử lý cán bộ sai phạm còn chậm.")
    doc = parse(text)
    asked = statement_on(doc, "việc phối hợp giữa các bộ còn chồng chéo")
    answered = statement_on(doc, "việc xử lý cán bộ sai phạm còn chậm")
    doc._.statements = [asked, answered]
    turns = find_turns(doc)
    attribute(doc, turns)
    assert turn_at(turns, text, "việc xử lý cán bộ").stance == "answering"
    assert answered.unit is not None and answered.unit.name == "Chính phủ"   # not the Bộ Nội vụ just named
    assert asked.unit is not None and asked.unit.name == "Chính phủ"         # the body questioned


def test_a_prime_ministers_directions_concern_the_government_unless_the_text_is_about_a_province(parse):
    national = "Thủ tướng Phạm Quốc Việt yêu cầu cắt giảm mạnh thủ tục kinh doanh."
    doc = parse(national)
    order = statement_on(doc, "cắt giảm mạnh thủ tục kinh doanh", kind="remedy")
    doc._.statements = [order]
    attribute(doc, find_turns(doc))
    assert order.unit is not None and order.unit.name == "Chính phủ"
    visit = ("Chiều qua, Thủ tướng Phạm Quốc Việt làm việc với lãnh đạo tỉnh Hà Giang.\n"
             "Thủ tướng Phạm Quốc Việt yêu cầu tăng cường kỷ luật hành chính.")
    doc = parse(visit)
    order = statement_on(doc, "tăng cường kỷ luật hành chính", kind="remedy")
    doc._.statements = [order]
    attribute(doc, find_turns(doc))
    assert order.unit is not None and order.unit.name == "tỉnh Hà Giang"


def test_a_delegate_keeps_asking_when_later_quoted_only_by_surname(parse):
    text = ("Phát biểu thảo luận, đại biểu Đặng Văn Khôi (Ninh Bình) cho rằng việc cấp phép khai thác cát còn buông lỏng.\n"
            "“Nhiều địa phương chưa kiểm tra thực tế”, ông Khôi nói.\n"
            "Theo ông Khôi, chính quyền cơ sở còn né tránh trách nhiệm.")
    turns = find_turns(parse(text))
    for phrase in ("việc cấp phép khai thác", "Nhiều địa phương chưa", "chính quyền cơ sở"):
        t = turn_at(turns, text, phrase)
        assert t.name == "Đặng Văn Khôi" and t.stance == "asking"


def test_answering_a_delegate_named_first_the_official_nearest_the_verb_speaks(parse):
    text = ("Phó Thủ tướng Lê Minh Khoa trả lời chất vấn chiều nay.\n"
            "Đại biểu Lê Thu Hà chất vấn, thủ tục đầu tư còn rườm rà.\n"
            "Trả lời ĐB, Phó Thủ tướng cho biết, việc phân cấp đầu tư còn chậm.")
    doc = parse(text)
    said = statement_on(doc, "việc phân cấp đầu tư còn chậm")
    doc._.statements = [said]
    turns = find_turns(doc)
    attribute(doc, turns)
    answer = turn_at(turns, text, "việc phân cấp")
    assert (answer.name, answer.role, answer.stance) == ("Lê Minh Khoa", "Phó Thủ tướng", "answering")
    assert said.unit is not None and said.unit.name == "Chính phủ"
    delegate = turn_at(turns, text, "thủ tục đầu tư")
    assert delegate.name == "Lê Thu Hà" and not (delegate.role or "").startswith("Phó Thủ tướng")  # no title across a sentence


def test_the_chair_of_the_assembly_abbreviated_has_no_stance(parse):
    text = "Kết luận phiên chất vấn, Chủ tịch QH Ngô Thị Lan đề nghị các bộ khắc phục những tồn tại."
    turns = find_turns(parse(text))
    assert turn_at(turns, text, "khắc phục").stance is None


def test_an_official_reporting_what_his_body_or_its_head_did_keeps_the_floor(parse):
    text = ("Trả lời chất vấn, Phó Thủ tướng Lê Minh Khoa cho biết, việc bổ nhiệm sai quy định gây bức xúc.\n"
            "Chính phủ đã giao các bộ kiểm tra công tác cán bộ. "
            "Thủ tướng yêu cầu thu hồi các quyết định bổ nhiệm trái luật.")
    turns = find_turns(parse(text))
    for phrase in ("Chính phủ đã giao", "thu hồi các quyết định"):
        t = turn_at(turns, text, phrase)
        assert t.name == "Lê Minh Khoa" and t.stance == "answering"
    alone = "Thủ tướng yêu cầu thu hồi các quyết định bổ nhiệm trái luật."
    t = turn_at(find_turns(parse(alone)), alone, "thu hồi")
    assert t.role == "Thủ tướng"   # with no official speaking, the head of government speaks himself


def test_debate_and_interruption_introduce_the_speaker(parse):
    text = ("Bộ trưởng Bộ Công Thương Phan Quốc Dũng cho biết, bộ đã cắt giảm nhiều điều kiện kinh doanh.\n"
            "Ngay sau đó, đại biểu Hồ Thị Yến có ý kiến tranh luận và cho rằng nhiều điều kiện mới chỉ đổi tên.\n"
            "Ông Dũng ngắt lời và nói rằng bộ sẽ rà soát lại toàn bộ danh mục.")
    turns = find_turns(parse(text))
    debate = turn_at(turns, text, "nhiều điều kiện mới")
    assert debate.name == "Hồ Thị Yến" and debate.stance == "asking"
    assert turn_at(turns, text, "rà soát lại toàn bộ").name == "Phan Quốc Dũng"


def test_citing_a_rule_of_a_body_gives_the_floor_to_nobody(parse):
    text = ("Kết luận thanh tra nêu nhiều sai phạm của tỉnh.\n"
            "Theo quy định của Chính phủ về thu tiền thuê đất, đơn giá thuê được giữ ổn định 5 năm. "
            "Tuy nhiên, tỉnh chậm điều chỉnh đơn giá thuê đất.")
    turns = find_turns(parse(text))
    assert turn_at(turns, text, "đơn giá thuê được giữ") is None
    assert turn_at(turns, text, "tỉnh chậm điều chỉnh") is None
    quoted = "Theo Bộ Tài chính, nhiều địa phương chậm điều chỉnh đơn giá thuê đất."
    assert turn_at(find_turns(parse(quoted)), quoted, "nhiều địa phương").name == "Bộ Tài chính"


# -- photo credits (sentences from 2017 dump article 22341042, not an evaluation or judged document) --

def test_photo_credit_names_no_speaker_and_is_cut_from_the_sentence_it_is_glued_to(parse):
    text = ("Bộ trưởng Bộ Công Thương Trần Tuấn Anh phát biểu. Ảnh: Nguyễn Khang – TTXVN "
            "Theo Bộ trưởng Trần Tuấn Anh, Việt Nam ủng hộ việc kết thúc về cơ bản đàm phán Hiệp định này "
            "trong năm 2017.")
    assert not is_person(text, text.index("Nguyễn Khang"), "Nguyễn Khang")
    turns = find_turns(parse(text, "news article"), learned=False)
    assert all(t.name != "Nguyễn Khang" for t in turns)
    assert turn_at(turns, text, "Việt Nam ủng hộ").name == "Trần Tuấn Anh"

