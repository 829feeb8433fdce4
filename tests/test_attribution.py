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
