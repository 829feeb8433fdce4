"""Adding a finding kind is its declaration plus its extractor: a toy kind reaches the store,
the export and the views with no other change."""
from __future__ import annotations

import csv
import re

import pytest
from spacy.language import Language
from spacy.tokens import Doc

from corpus import records, store
from corpus.export import export_findings
from corpus.ingest import ingest
from corpus.records import Finding, Kind, register_kind
from nlp.extract import Analyser
from nlp.pipeline import COMPONENTS, build
from nlp.segment import text_of
from parlens import views

PLEDGE = re.compile(r"[^.]*\bcam kết\b[^.]*\.", re.IGNORECASE)


@Language.component("toy_pledges")
def toy_pledges(doc: Doc) -> Doc:
    """Every sentence with "cam kết" (a pledge) as a finding of the toy kind."""
    text = text_of(doc)
    found = [Finding(kind="pledge", text=m.group(0).strip(), start=m.start() + len(m.group(0)) - len(
        m.group(0).lstrip()), end=m.end()) for m in PLEDGE.finditer(text)]
    doc._.findings = (doc._.findings or []) + found
    return doc


@pytest.fixture()
def pledge_kind():
    kind = register_kind(Kind("pledge", "Cam kết · Pledge", "Cam kết", "pledges", "#6366f1", "#e0e7ff"))
    yield kind
    del records.KINDS["pledge"]


def test_a_registered_kind_flows_to_store_export_and_views(pledge_kind, tmp_path):
    src = tmp_path / "toy.txt"
    src.write_text("Huyện Mỹ Đức xếp cuối về chỉ số cải cách hành chính năm 2023\n"
                   "Năm 2023, chỉ số cải cách hành chính của huyện Mỹ Đức đạt 78,5%. "
                   "Chủ tịch UBND huyện cam kết cải thiện thứ hạng trong năm 2024. "
                   "Nguyên nhân là việc giải quyết hồ sơ còn chậm.", encoding="utf-8")
    analyser = Analyser(nlp=build(COMPONENTS + ("toy_pledges",)))
    conn = store.connect(tmp_path / "s.sqlite")
    summary = ingest([src], conn, analyser, "toy", progress=False, triage=False)
    assert summary.findings["pledge"] == 1

    rows = store.findings(conn, store.FindingFilter(kind="pledge"))
    assert [r["text"] for r in rows] == ["Chủ tịch UBND huyện cam kết cải thiện thứ hạng trong năm 2024."]

    out = tmp_path / "pledges.csv"
    assert export_findings(conn, out, store.FindingFilter(kind="pledge")) == 1
    with open(out, encoding="utf-8-sig") as fh:
        assert [r["kind"] for r in csv.DictReader(fh)] == ["pledge"]

    docs = views.documents_table(conn)
    assert "pledges" in docs.columns and int(docs["pledges"].iloc[0]) == 1
    assert views.findings_table(conn, kind="pledge")["kind"].tolist() == ["pledge"]
    html = views.render_document(views.document(conn, "toy"))
    assert 'class="pl-f pl-f-pledge' in html and ".pl-f-pledge{background:#e0e7ff" in views.reader_css()
    assert "Cam kết · Pledge" in views.legend_html()
    # the existing kinds are untouched by the new one
    assert summary.findings["figure"] >= 1 and summary.findings["cause"] + summary.findings["weakness"] >= 1


def test_unknown_kinds_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown kind 'pledge'.*figure, weakness, cause, remedy, problem"):
        records.expand_kinds("pledge")
    assert records.expand_kinds("problem,remedy") == ["weakness", "cause", "remedy"]


def test_an_alias_name_cannot_be_declared_as_a_kind():
    with pytest.raises(ValueError, match="already an alias"):
        register_kind(Kind("problem", "x", "x", "xs", "#000", "#fff"))
