"""The store's repository API: one filter with documented semantics, explicit transactions that
leave the caller's connection as it was, and documents written whole or not at all."""
from __future__ import annotations

import pytest

from corpus import store
from corpus.records import Analysis, DocumentRecord, Finding
from corpus.store import FindingFilter


def _doc(doc_id: str, published: str | None, findings: list[Finding]) -> tuple[DocumentRecord, Analysis]:
    text = " ".join(f.text for f in findings) or "trống"
    return DocumentRecord(id=doc_id, text=text, content_hash=doc_id, published=published), Analysis(findings=findings)


def _finding(kind: str, text: str, start: int, **kw) -> Finding:
    return Finding(kind=kind, text=text, start=start, end=start + len(text), **kw)


@pytest.fixture()
def conn(tmp_path):
    conn = store.connect(tmp_path / "s.sqlite")
    a = "Huyện Ứng Hòa đạt 80%."
    b = "Tỉnh Nghệ An còn chậm."
    store.save_documents(conn, [
        _doc("d1", "2023-05-01", [
            _finding("figure", a, 0, unit="huyện Ứng Hòa", unit_name="huyện Ứng Hòa", unit_code="277",
                     unit_type="district", province="thành phố Hà Nội", year=2022, value=80.0),
            _finding("weakness", b, len(a) + 1, unit="Nghệ An", unit_name="tỉnh Nghệ An", unit_code="40",
                     unit_type="province", province="tỉnh Nghệ An"),
        ]),
        _doc("d2", "2021-02-03", [
            _finding("figure", "Bình quân cả nước đạt 81%.", 0),
            _finding("remedy", "Sở Nội vụ tham mưu cải thiện.", 27, unit="Sở Nội vụ", unit_name="Sở Nội vụ",
                     unit_type="department", province="thành phố Hà Nội", speaker_unit="Sở Nội vụ"),
        ]),
    ])
    yield conn
    conn.close()


def _texts(conn, **kw) -> list[str]:
    return [r["text"] for r in store.findings(conn, FindingFilter(**kw))]


def test_unit_matches_written_or_normalised_name_or_code_but_not_the_province(conn):
    assert _texts(conn, unit="Ứng Hòa") == _texts(conn, unit="277") == ["Huyện Ứng Hòa đạt 80%."]
    assert _texts(conn, unit="tỉnh Nghệ") == ["Tỉnh Nghệ An còn chậm."]          # the normalised name
    assert _texts(conn, unit="Hà Nội") == []                                     # a province, not a unit
    assert len(_texts(conn, province="Hà Nội")) == 2


def test_year_is_the_findings_own_else_its_documents_publication_year(conn):
    assert _texts(conn, year=2022) == ["Huyện Ứng Hòa đạt 80%."]                 # own year, not 2023
    assert _texts(conn, year=2023) == ["Tỉnh Nghệ An còn chậm."]                 # publication year
    assert sorted(_texts(conn, year_from=2021, year_to=2021)) == sorted(
        ["Bình quân cả nước đạt 81%.", "Sở Nội vụ tham mưu cải thiện."])


def test_kind_aliases_unit_keys_speakers_and_neutral_figures(conn):
    assert _texts(conn, kind="problem") == ["Tỉnh Nghệ An còn chậm."]
    assert _texts(conn, kind="figure", with_neutral=False) == ["Huyện Ứng Hòa đạt 80%."]
    assert _texts(conn, unit_key=store.unit_key("district", "277", None)) == ["Huyện Ứng Hòa đạt 80%."]
    assert _texts(conn, unit_key=store.unit_key("department", None, "Sở Nội vụ")) == ["Sở Nội vụ tham mưu cải thiện."]
    assert _texts(conn, speaker_unit="Sở Nội vụ") == ["Sở Nội vụ tham mưu cải thiện."]
    assert store.count_findings(conn, FindingFilter(doc_id="d2")) == 2
    with pytest.raises(ValueError, match="unknown kind 'problems'"):
        store.findings(conn, FindingFilter(kind="problems"))


def test_writes_leave_the_connection_mode_as_it_was(conn):
    mode = conn.isolation_level
    store.save_document(conn, *_doc("d3", None, [_finding("cause", "Cán bộ thiếu.", 0)]))
    assert conn.isolation_level == mode and not conn.in_transaction
    store.save_vectors(conn, "m", [1], [[1.0, 0.0]])
    assert conn.isolation_level == mode and not conn.in_transaction


def test_a_write_inside_a_callers_transaction_is_rolled_back_with_it(conn):
    before = store.counts(conn)
    with pytest.raises(RuntimeError):
        with store.transaction(conn):
            store.save_document(conn, *_doc("d4", None, [_finding("cause", "Thiếu người.", 0)]))
            assert store.count_findings(conn) == before["findings"] + 1
            raise RuntimeError("the caller's work fails after the save")
    assert store.counts(conn) == before and store.document(conn, "d4") is None


def test_a_batch_is_written_whole_or_not_at_all(conn):
    before = store.counts(conn)
    good = _doc("d5", None, [_finding("cause", "Thiếu người.", 0)])
    bad = (DocumentRecord(id="d6", text=None, content_hash="x"), Analysis())   # text is required
    with pytest.raises(store.DatabaseError):
        store.save_documents(conn, [good, bad])
    assert store.counts(conn) == before and store.document(conn, "d5") is None
