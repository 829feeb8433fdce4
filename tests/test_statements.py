"""Clause splitting, classification, unit attribution and speakers on real Vietnamese text."""
from pathlib import Path

import pytest

from corpus.clean import clean_text
from nlp.statements import split_clauses

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def run(nlp):
    def go(text, doc_type="news article"):
        doc = nlp.make_doc(text)
        doc.user_data.update(published="2023-07-05", doc_type=doc_type)
        for _, proc in nlp.pipeline:
            doc = proc(doc)
        return doc
    return go


def clause_texts(doc):
    return [doc.text[c.start:c.end] for c in split_clauses(doc)]


def test_semicolon_lists_split_into_one_idea_each(run):
    doc = run("Trong thời gian tới, thị trấn cần tăng cường kỷ luật, kỷ cương hành chính; "
              "đổi mới hình thức tuyên truyền về cải cách hành chính; "
              "bố trí đủ nguồn nhân lực cho bộ phận một cửa.")
    assert clause_texts(doc) == [
        "Trong thời gian tới, thị trấn cần tăng cường kỷ luật, kỷ cương hành chính",
        "đổi mới hình thức tuyên truyền về cải cách hành chính",
        "bố trí đủ nguồn nhân lực cho bộ phận một cửa",
    ]


def test_list_after_nhu_and_comma_clauses_with_own_predicate(run):
    doc = run("Bên cạnh những nguyên nhân khách quan như cơ sở vật chất còn khó khăn, thiếu thốn, "
              "đội ngũ cán bộ công chức còn thiếu, nguyên nhân chủ quan là trách nhiệm người đứng đầu chưa cao.")
    texts = clause_texts(doc)
    assert "cơ sở vật chất còn khó khăn, thiếu thốn" in texts
    assert "đội ngũ cán bộ công chức còn thiếu" in texts
    assert "nguyên nhân chủ quan là trách nhiệm người đứng đầu chưa cao" in texts
    clauses = split_clauses(doc)
    assert [c.enum_pos for c in clauses if c.intro] == [0, 1, 2]


def test_bulleted_lines_are_clauses_under_their_heading(run):
    doc = run("Giải pháp trong thời gian tới\n"
              "- Tăng cường công tác thanh tra, kiểm tra công vụ.\n"
              "- Xử lý nghiêm cán bộ có biểu hiện nhũng nhiễu, gây phiền hà cho người dân.")
    clauses = split_clauses(doc)
    assert [doc.text[c.start:c.end] for c in clauses[-2:]] == [
        "Tăng cường công tác thanh tra, kiểm tra công vụ",
        "Xử lý nghiêm cán bộ có biểu hiện nhũng nhiễu, gây phiền hà cho người dân",
    ]
    assert all(c.heading == "Giải pháp trong thời gian tới" for c in clauses[-2:])


def test_weakness_cause_remedy_with_subtypes(run):
    doc = run("Huyện Ứng Hòa\n"
              "Nguyên nhân khách quan là cơ sở vật chất của huyện Ứng Hòa còn khó khăn, thiếu thốn. "
              "Công tác tuyên truyền về cải cách hành chính của huyện Ứng Hòa còn hạn chế, chưa huy động được người dân tham gia. "
              "UBND huyện Ứng Hòa yêu cầu các phòng, ban tăng cường kiểm tra, xử lý nghiêm cán bộ vi phạm kỷ luật hành chính.")
    got = {(s.kind, s.subtype) for s in doc._.statements}
    assert ("cause", "objective") in got
    assert any(k == "weakness" for k, _ in got)
    assert any(k == "remedy" for k, _ in got)
    assert all(s.unit is not None and s.unit.name == "huyện Ứng Hòa" for s in doc._.statements)


def test_positive_results_are_not_findings(run):
    doc = run("Năm 2022, UBND quận Cầu Giấy đã tiếp nhận 6.926 hồ sơ, 100% hồ sơ được giải quyết đúng hạn, "
              "được người dân đánh giá cao.")
    assert not [s for s in doc._.statements if s.kind in ("weakness", "cause")]


def test_reported_speech_continues_until_another_speaker(run):
    doc = run("Kết quả chỉ số cải cách hành chính\n"
              "Ông Nguyễn Quang Trung - Chủ tịch UBND quận Hai Bà Trưng cho biết, kết quả cải cách hành chính "
              "của quận chưa tương xứng với vị thế của quận.\n"
              "Quận sẽ tập trung khắc phục ngay những tồn tại, hạn chế từ đầu năm 2023.\n"
              "Bà Trần Thị Hoa - Giám đốc Sở Nội vụ cho biết, Sở sẽ tăng cường kiểm tra công vụ tại các quận.\n",
              doc_type="session report")
    by_text = {doc.text[s.clause.start:s.clause.end]: s for s in doc._.statements}
    follow = next(s for t, s in by_text.items() if t.startswith("Quận sẽ tập trung khắc phục"))
    assert follow.speaker["name"] == "Nguyễn Quang Trung"
    assert follow.speaker["role"] == "Chủ tịch UBND quận Hai Bà Trưng"
    assert follow.unit.name == "quận Hai Bà Trưng"
    other = next(s for t, s in by_text.items() if "tăng cường kiểm tra công vụ" in t)
    assert other.speaker["name"] == "Trần Thị Hoa" and other.speaker["unit"] == "Sở Nội vụ"


def test_transcript_turns_stances_and_question_answer_pairs(run):
    text = clean_text((FIXTURES / "transcript_000.txt").read_text(encoding="utf-8"))
    doc = run(text, doc_type="transcript")
    turns = doc._.turns
    labels = [(t.stance, t.name or t.role) for t in turns]
    assert labels == [
        (None, "Chủ tọa"),   # the chair conducts the session: no stance
        ("asking", "Nguyễn Văn An"),
        ("answering", "Chủ tịch UBND huyện Ứng Hòa"),
        ("asking", "Trần Thị Bình"),
        ("answering", "Chủ tịch UBND quận Hai Bà Trưng"),
    ]
    assert turns[2].answers_turn == turns[1].number and turns[4].answers_turn == turns[3].number
    answers = [s for s in doc._.statements if s.speaker.get("stance") == "answering"]
    causes = [s for s in answers if s.kind == "cause"]
    assert causes and all(s.unit.name == "huyện Ứng Hòa" for s in causes)
    assert {s.subtype for s in causes} >= {"objective", "subjective"}
    hbt = [s for s in answers if s.speaker["role"] == "Chủ tịch UBND quận Hai Bà Trưng"]
    assert hbt and all(s.unit.name == "quận Hai Bà Trưng" for s in hbt)
    asked = [s for s in doc._.statements if s.speaker.get("stance") == "asking"]
    assert asked and all(s.speaker["answers_turn"] is None for s in asked)


def test_findings_carry_speaker_fields_into_the_store(run):
    from nlp.extract import doc_to_analysis
    text = clean_text((FIXTURES / "transcript_000.txt").read_text(encoding="utf-8"))
    findings = doc_to_analysis(run(text, doc_type="transcript")).findings
    answered = [f for f in findings if f.stance == "answering" and f.kind != "figure"]
    assert answered and all(f.turn and f.extra.get("answers_turn") for f in answered)
    assert all(f.speaker_role.startswith("Chủ tịch UBND") for f in answered)
