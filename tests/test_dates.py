"""Publication dates: only a source's date field or a dateline dates a document, and
`ingest --default-year` dates a dump that carries none (analyse_batch stays pure)."""
from __future__ import annotations

import json
from contextlib import closing

import pytest

from corpus import store
from corpus.ingest import DEFAULT_YEAR_NOTE, Task, analyse_batch, ingest, prepare
from corpus.reader import RawDocument
from corpus.records import Analysis
from parlens.cli import build_parser

TEXT = ("Chỉ số cải cách hành chính của huyện Lục Nam tăng\n"
        "Huyện Lục Nam còn chậm trong giải quyết thủ tục hành chính cho người dân.\n")


def fake_analyse(records):
    """Records in, one empty Analysis each: what the map step needs of an analyser."""
    fake_analyse.seen += [(r.id, r.published) for r in records]
    return [Analysis() for _ in records]


fake_analyse.seen = []


def raw(doc_id: str, text: str = TEXT, **kw) -> RawDocument:
    return RawDocument(doc_id=doc_id, text=text, source=f"{doc_id}.jsonl:1", **kw)


def test_default_year_dates_only_undated_documents():
    undated = prepare(raw("a"), "v1", default_year=2019)
    dated = prepare(raw("b", published="2021-04-02"), "v1", default_year=2019)
    dateline = prepare(raw("c", text=TEXT.replace("\n", "\nThứ hai, 03/05/2021 08:15 (GMT+7)\n", 1)), "v1",
                       default_year=2019)
    assert undated.published == "2019"
    assert dated.published == "2021-04-02" and dateline.published == "2021-05-03"
    assert prepare(raw("a"), "v1").published is None
    # the year is part of what was analysed: another year is another content
    assert prepare(raw("a"), "v1", 2020).content_hash != undated.content_hash
    assert prepare(raw("b", published="2021-04-02"), "v1").content_hash == dated.content_hash


def test_a_title_with_a_date_does_not_date_the_article():
    record = prepare(raw("d", text="Ban hành Luật Quy hoạch từ 1.1.2019\n" + TEXT,
                         title="Ban hành Luật Quy hoạch từ 1.1.2019"), "v1")
    assert record.published is None
    assert prepare(raw("d", text="Ban hành Luật Quy hoạch từ 1.1.2019\n" + TEXT), "v1").published is None


def test_analyse_batch_passes_the_year_to_the_analyser_and_notes_it():
    fake_analyse.seen = []
    out = analyse_batch([Task(raw("a")), Task(raw("b", published="2021-04-02"))], fake_analyse, "v1",
                        triage=False, default_year=2018)
    assert fake_analyse.seen == [("a", "2018"), ("b", "2021-04-02")]
    assert DEFAULT_YEAR_NOTE in out[0].analysis.notes and DEFAULT_YEAR_NOTE not in out[1].analysis.notes


def test_ingest_default_year_reaches_the_store(tmp_path):
    src = tmp_path / "dump.jsonl"
    src.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in (
        {"id": "khong-ngay", "text": TEXT},
        {"id": "co-ngay", "text": TEXT.replace("Lục Nam", "Yên Thế"), "date": "2022-01-05"})) + "\n",
        encoding="utf-8")
    with closing(store.connect(tmp_path / "s.sqlite")) as conn:
        summary = ingest([src], conn, fake_analyse, "v1", progress=False, triage=False, default_year=2017)
        assert summary.added == 2
        dates = store.publication_dates(conn)
        assert dates == {"khong-ngay": "2017", "co-ngay": "2022-01-05"}
        # the same dump again with the same year changes nothing; another year replaces the undated one
        again = ingest([src], conn, fake_analyse, "v1", progress=False, triage=False, default_year=2017)
        assert again.unchanged == 2
        other = ingest([src], conn, fake_analyse, "v1", progress=False, triage=False, default_year=2016)
        assert other.replaced == 1 and store.publication_dates(conn)["khong-ngay"] == "2016"


def test_cli_default_year_flag():
    args = build_parser().parse_args(["ingest", "dump.jsonl", "--default-year", "2019"])
    assert args.default_year == 2019
    assert build_parser().parse_args(["ingest", "dump.jsonl"]).default_year is None
    for bad in ("19", "abcd", "3000"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["ingest", "dump.jsonl", "--default-year", bad])
