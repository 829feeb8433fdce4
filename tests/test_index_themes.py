"""Hybrid search, incremental indexing, filters, themes and the notebook, with the real encoder."""
import json
import shutil

import numpy as np
import pytest

from conftest import ROOT
from corpus import store
from corpus.ingest import ingest
from corpus.store import FindingFilter as Filters
from nlp.index import VectorIndex
from parlens.cli import main as cli
from parlens.service import build_index, encoder, hybrid_search, load_themes, make_analyser, rebuild_themes


@pytest.fixture()
def db(seed_store_embedded, tmp_path):
    path = tmp_path / "s.sqlite"
    shutil.copy(seed_store_embedded, path)
    return path


def test_every_finding_is_indexed(db):
    conn = store.connect(db)
    n_find = conn.execute("SELECT count(*) FROM findings").fetchone()[0]
    n_emb = conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    assert n_find == n_emb > 100


def test_ingest_adds_to_the_index_incrementally(db, tmp_path):
    conn = store.connect(db)
    before = conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    doc = tmp_path / "new.txt"
    doc.write_text("Tiêu đề\nNăm 2022, chỉ số cải cách hành chính của huyện Mê Linh đạt 80,5%. "
                   "Nguyên nhân chủ quan là công tác tuyên truyền về cải cách hành chính còn hạn chế.",
                   encoding="utf-8")
    analyse, version = make_analyser(embed=True)
    summary = ingest([doc], conn, analyse, version, progress=False)
    after = conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    assert summary.added == 1 and after > before
    assert after == conn.execute("SELECT count(*) FROM findings").fetchone()[0]
    hits = hybrid_search(conn, build_index(conn, encoder().name), encoder().encode_queries(["Mê Linh"])[0],
                         "Mê Linh", limit=3)
    assert hits and hits[0].doc_id == "new"


def test_acceptance_query_finds_causes_of_low_rankings(db, capsys):
    assert cli(["--db", str(db), "search", "vì sao huyện xếp cuối bảng chỉ số cải cách hành chính", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert set(hits[0]) == {"doc_id", "kind", "unit", "year", "text", "score"}
    top5 = hits[:5]
    assert any(h["doc_id"][:3] in ("000", "001") and h["kind"] in ("cause", "weakness") for h in top5)


def test_keyword_match_hits_exact_unit_names(db):
    conn = store.connect(db)
    q = "Trạm Trôi"
    hits = hybrid_search(conn, build_index(conn, encoder().name), encoder().encode_queries([q])[0], q, limit=5)
    assert hits and all(h.doc_id.startswith("002") for h in hits[:3])


@pytest.mark.parametrize("filters,check", [
    (Filters(kind="remedy"), lambda h: h.kind == "remedy"),
    (Filters(kind="problem"), lambda h: h.kind in ("weakness", "cause")),
    (Filters(unit="Ứng Hòa"), lambda h: "Ứng Hòa" in (h.unit or "")),
    (Filters(province="Nghệ An"), lambda h: "Nghệ An" in (h.province or "")),
    (Filters(doc_id="001_b52f3883570da9d2"), lambda h: h.doc_id == "001_b52f3883570da9d2"),
    (Filters(year_from=2023, year_to=2023), lambda h: h.doc_id[:3] in ("000", "002")),
])
def test_filters_narrow_results(db, filters, check):
    conn = store.connect(db)
    q = "tăng cường công tác tuyên truyền cải cách hành chính"
    qv = encoder().encode_queries([q])[0]
    index = build_index(conn, encoder().name)
    unfiltered = hybrid_search(conn, index, qv, q, limit=50)
    hits = hybrid_search(conn, index, qv, q, filters, limit=50)
    assert hits and all(check(h) for h in hits)
    assert any(not check(h) for h in unfiltered)  # the filter removed results that would have come


def test_ann_and_exact_agree_behind_one_interface():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((50, 32)).astype(np.float32)
    vecs = centres[rng.integers(0, 50, 3000)] + 0.3 * rng.standard_normal((3000, 32)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    exact = VectorIndex(np.arange(3000), vecs, ann_threshold=10**9)
    ann = VectorIndex(np.arange(3000), vecs, ann_threshold=1000)
    assert ann.ann is not None and exact.ann is None
    recall = np.mean([len({i for i, _ in exact.search(q, 10)} & {i for i, _ in ann.search(q, 10)}) / 10
                      for q in vecs[:50]])
    assert recall >= 0.95
    assert all(i < 100 for i, _ in ann.search(vecs[5], 10, np.arange(100)))


def _theme_of(result, needle):
    return {t.id for t in result.themes for m in t.members if needle in m.text.lower()}


def test_seed_themes_group_communication_and_facilities(db):
    conn = store.connect(db)
    result = rebuild_themes(conn, "weakness")
    comm = [t for t in result.themes if len({m.doc_id for m in t.members if "tuyên truyền" in m.text.lower()}) >= 3]
    assert comm, "no theme holds communication weaknesses from three seeds"
    facilities = _theme_of(result, "cơ sở vật chất")
    assert facilities and not facilities & {t.id for t in comm}
    assert result.outlier_share < 0.2
    for t in result.themes:
        assert t.label and "_" not in t.label and t.quote in [m.text for m in t.members]
        assert t.n_documents <= t.n_statements


def test_themes_are_deterministic_and_ids_stable_when_documents_are_added(db, tmp_path):
    conn = store.connect(db)
    first = rebuild_themes(conn, "weakness")
    again = rebuild_themes(conn, "weakness")
    assert [(t.id, t.label, [m.finding_id for m in t.members]) for t in first.themes] == \
           [(t.id, t.label, [m.finding_id for m in t.members]) for t in again.themes]
    before = {t.id: {m.finding_id for m in t.members} for t in first.themes}
    extra = tmp_path / "extra.txt"
    extra.write_text("Tiêu đề\nHạn chế của huyện Gia Lâm là công tác tuyên truyền về thủ tục hành chính "
                     "còn hạn chế, người dân chưa biết đến dịch vụ công trực tuyến.", encoding="utf-8")
    analyse, version = make_analyser(embed=True)
    ingest([extra], conn, analyse, version, progress=False)
    after = {t.id: {m.finding_id for m in t.members} for t in rebuild_themes(conn, "weakness").themes}
    # a theme that goes on (a new theme made mostly of most of its statements) keeps its id
    followed = [tid for tid, members in before.items()
                if any(len(members & new) >= 0.5 * max(len(members), len(new)) for new in after.values())]
    kept = [tid for tid in followed if tid in after and len(before[tid] & after[tid]) >= 0.5 * len(before[tid])]
    assert followed and kept == followed


def test_stored_themes_read_back_as_built_and_go_stale_on_new_findings(db, tmp_path):
    from parlens.service import themes_status

    conn = store.connect(db)
    built = rebuild_themes(conn, "weakness")
    read = load_themes(conn, "weakness")
    assert [(t.id, t.label, t.quote, [m.finding_id for m in t.members]) for t in built.themes] == \
           [(t.id, t.label, t.quote, [m.finding_id for m in t.members]) for t in read.themes]
    assert {m.finding_id for m in read.outliers} == {m.finding_id for m in built.outliers}
    assert themes_status(conn, "weakness") == {"built": True, "stale": False}
    before = store.data_version(conn)
    load_themes(conn, "weakness")                       # reading writes nothing
    assert store.data_version(conn) == before and not conn.in_transaction
    extra = tmp_path / "more.txt"
    extra.write_text("Tiêu đề\nNăm 2022, chỉ số cải cách hành chính của huyện Sóc Sơn đạt 81,2%. Nguyên nhân "
                     "chủ quan là việc tiếp nhận hồ sơ qua mạng về cải cách hành chính còn chậm.", encoding="utf-8")
    analyse, version = make_analyser(embed=True)
    assert sum(ingest([extra], conn, analyse, version, progress=False).findings.values()) >= 1
    assert themes_status(conn, "weakness")["stale"]


def test_search_reads_without_writing(db, tmp_path):
    """A store ingested without vectors is searched by keywords; search adds none (`parlens index` does)."""
    from parlens.service import search

    conn = store.connect(db)
    doc = tmp_path / "novec.txt"
    doc.write_text("Tiêu đề\nNăm 2022, chỉ số cải cách hành chính của huyện Ba Vì đạt 79,1%. Nguyên nhân chủ quan "
                   "là bộ phận một cửa về cải cách hành chính còn thiếu máy tính.", encoding="utf-8")
    analyse, version = make_analyser(embed=False)
    assert ingest([doc], conn, analyse, version, progress=False).added == 1
    before = store.counts(conn)
    assert before["embedded"] < before["findings"]
    conn.close()
    hits = search(db, "Ba Vì máy tính")
    conn = store.connect(db)
    assert any(h.doc_id == "novec" for h in hits)
    assert store.counts(conn) == before


def test_remedy_themes_and_cli_outputs(db, tmp_path, capsys):
    assert cli(["--db", str(db), "themes", "--kind", "remedy", "--rebuild"]) == 0
    capsys.readouterr()
    assert cli(["--db", str(db), "themes", "--kind", "remedy", "--json"]) == 0
    themes = json.loads(capsys.readouterr().out)
    assert themes and {"id", "label", "counts", "members"} <= set(themes[0])
    assert {"doc_id", "unit", "text"} <= set(themes[0]["members"][0])
    out = tmp_path / "themes.csv"
    assert cli(["--db", str(db), "themes", "--csv", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbfid,label,statements,documents,units,years")


def test_notebook_runs(db, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PARLENS_DB", str(db))
    nb = nbformat.read(ROOT / "notebooks" / "recurring_weaknesses.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
