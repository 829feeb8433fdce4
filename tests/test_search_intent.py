"""Search that reads intent (#16): the question's cue words decide which finding kinds come first,
and results can be grouped by document."""
from __future__ import annotations

import shutil

import pytest

from corpus import store
from nlp.query_intent import Intent, query_intent


@pytest.mark.parametrize("query,names,kinds", [
    ("nguyên nhân chỉ số cải cách hành chính thấp", ("cause",), ("cause", "weakness")),
    ("Vì sao huyện Sơn Động xếp cuối bảng?", ("cause",), ("cause", "weakness")),
    ("TẠI SAO tỷ lệ hồ sơ trễ hạn còn cao", ("cause",), ("cause", "weakness")),
    ("giải pháp nâng cao chỉ số cải cách hành chính", ("remedy",), ("remedy",)),
    ("khắc phục tình trạng hồ sơ trễ hạn", ("remedy",), ("remedy",)),
    ("giải pháp khắc phục nguyên nhân hồ sơ trễ hạn", ("remedy", "cause"), ("remedy", "cause", "weakness")),
    ("nguyên nhân và giải pháp", ("cause", "remedy"), ("cause", "weakness", "remedy")),
    ("chỉ số cải cách hành chính tỉnh Bắc Giang năm 2019", (), ()),
    ("cán bộ thiếu trách nhiệm", (), ()),
])
def test_query_intent_reads_the_cue_words(query, names, kinds):
    got = query_intent(query)
    assert got.names == names and got.kinds == kinds


def test_cues_are_whole_words():
    # "sao" in "ngôi sao" and "do" in "tự do" are no cue; "lý do" split across words is none either
    assert not query_intent("ngôi sao cải cách hành chính")
    assert not query_intent("tự do báo chí")
    assert query_intent("lý do chậm trễ") == Intent(("cause",), ("cause", "weakness"))


def test_unknown_kind_in_the_data_is_an_actionable_error(monkeypatch):
    import nlp.query_intent as qi

    qi._intents.cache_clear()
    qi._cues.cache_clear()
    monkeypatch.setattr(qi, "table", lambda pkg, name: (("cause", "cause, reason"),) if name == "query_intents.tsv"
                        else (("cause", "nguyên nhân"),))
    try:
        with pytest.raises(qi.IntentDataError, match="unknown kinds.*reason"):
            qi.query_intent("nguyên nhân")
    finally:
        qi._intents.cache_clear()
        qi._cues.cache_clear()


@pytest.fixture()
def db(seed_store_embedded, tmp_path):
    path = tmp_path / "s.sqlite"
    shutil.copy(seed_store_embedded, path)
    return path


CAUSE_QUERY = "nguyên nhân chỉ số cải cách hành chính thấp"


def _search(db, query, **kw):
    from parlens.service import build_index, encoder, hybrid_search
    conn = store.connect(db, readonly=True)
    try:
        enc = encoder()
        return hybrid_search(conn, build_index(conn, enc.name), enc.encode_queries([query])[0], query, **kw)
    finally:
        conn.close()


def test_a_question_about_causes_gets_causes_first(db):
    hits = _search(db, CAUSE_QUERY, limit=10)
    plain = _search(db, CAUSE_QUERY, limit=10, prefer=())
    kinds = [h.kind for h in hits]
    assert kinds[0] == "cause", kinds
    # causes, then weaknesses, then the rest: never a figure above a cause or weakness
    order = [{"cause": 0, "weakness": 1}.get(k, 2) for k in kinds]
    assert order == sorted(order)
    # the plain fused order is what the intent changed (figures share the words "chỉ số ... thấp")
    assert [h.kind for h in plain] != kinds and "figure" in [h.kind for h in plain]


def test_a_question_about_remedies_gets_remedies_first(db):
    hits = _search(db, "giải pháp nâng cao chỉ số cải cách hành chính", limit=8)
    assert hits[0].kind == "remedy"
    kinds = [h.kind for h in hits]
    assert kinds == sorted(kinds, key=lambda k: k != "remedy")


def test_results_grouped_by_document(db):
    from parlens.service import group_by_document

    hits = _search(db, CAUSE_QUERY, limit=15)
    groups = group_by_document(hits)
    assert sum(len(g.hits) for g in groups) == len(hits)
    assert len({g.doc_id for g in groups}) == len(groups) > 1
    assert all(h.doc_id == g.doc_id for g in groups for h in g.hits)
    # documents in the order of their best hit; within one, the hits keep their ranking
    firsts = [hits.index(g.hits[0]) for g in groups]
    assert firsts == sorted(firsts)
    assert all([hits.index(h) for h in g.hits] == sorted(hits.index(h) for h in g.hits) for g in groups)


def test_cli_groups_by_document(db, capsys):
    import json

    from parlens.cli import main as cli

    assert cli(["--db", str(db), "search", CAUSE_QUERY, "--by-document", "--json", "--no-server"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert groups and {"doc_id", "title", "hits"} <= set(groups[0])
    assert groups[0]["hits"][0]["kind"] == "cause"
    assert cli(["--db", str(db), "search", CAUSE_QUERY, "--by-document", "--no-server"]) == 0
    out = capsys.readouterr().out
    assert out.lstrip().startswith("■") and "nguyên nhân" in out.casefold()
