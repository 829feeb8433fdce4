"""The explorer on an archive like the real one (issue #16), driven with AppTest on a fixture
store built from tests/data/explorer: several years, a district ranked last with its causes and
a promised remedy, two articles disagreeing on its score, a republished near-duplicate, an
off-topic article, an undated one, and a questioning session (delegates ask, officials answer).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from test_app import (app_cache_dir, app_env, download, html_bodies, media_managers, plain,  # noqa: F401
                      read_csv, start, store_rows)

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE = ROOT / "tests" / "data" / "explorer"
CONTRACT = ["doc_id", "title", "published", "kind", "unit", "unit_code", "province", "metric", "value",
            "value_type", "year", "speaker", "text", "start", "end"]
LOW = "huyện Sơn Động"


@pytest.fixture(scope="session")
def archive_template(app_cache_dir) -> Path:  # noqa: F811
    mp = pytest.MonkeyPatch()
    mp.setenv("PARLENS_CACHE_DIR", str(app_cache_dir))
    from parlens.appstate import cached_store
    try:
        return cached_store(app_cache_dir / "stores", [ARCHIVE])
    finally:
        mp.undo()


@pytest.fixture
def archive(app_env, archive_template, tmp_path) -> Path:  # noqa: F811
    db = tmp_path / "parlens.sqlite"
    shutil.copyfile(archive_template, db)
    app_env(db)
    return db


def shown_tables(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def assert_no_missing_markers(at) -> None:
    """No table shows None, nan or NaN: missing text is empty, missing numbers show "–"."""
    for d in at.dataframe:
        assert d.proto.placeholder == "–", "missing values must not show as None"
        df = d.value
        for col in df.columns:
            if df[col].dtype == object:
                bad = [v for v in df[col] if v is None or (isinstance(v, float) and v != v)
                       or (isinstance(v, str) and v.strip() in ("None", "nan", "NaN", "<NA>"))]
                assert not bad, (col, bad[:3])


# --------------------------------------------------------------------------
# 1. Honest counts and dates
# --------------------------------------------------------------------------


def test_the_store_of_the_archive(archive):
    rows = dict(store_rows(archive, "SELECT id, coalesce(published, '') FROM documents"))
    assert rows["khong-ngay"] == "" and rows["bg-2022-huyen"] == "2022-03-08"
    assert store_rows(archive, "SELECT duplicate_of FROM documents WHERE id = 'bg-2022-huyen-dang-lai'") == \
        [("bg-2022-huyen",)]
    assert store_rows(archive, "SELECT status FROM documents WHERE id = 'bong-da'") == [("skipped",)]


def test_sidebar_counts_what_the_documents_are(archive):
    at = start()
    side = " ".join(plain(c.value) for c in at.sidebar.caption)
    assert "**7** văn bản" in side
    assert "**6** đã phân tích" in side and "**1** gần trùng" in side and "**1** không rõ ngày" in side
    assert "**1** bỏ qua" in side


def test_documents_page_says_what_its_count_is_made_of(archive):
    at = start("documents", doc="bg-2022-huyen")
    captions = " ".join(plain(c.value) for c in at.caption)
    assert "7 văn bản · documents: 6 đã phân tích · analysed (1 gần trùng" in captions
    docs = at.dataframe[0].value
    assert docs.set_index("doc_id").loc["bg-2022-huyen-dang-lai", "duplicate_of"] == "bg-2022-huyen"
    assert_no_missing_markers(at)


@pytest.mark.parametrize("page", ["figures", "units", "documents", "themes"])
def test_no_none_or_nan_in_tables(archive, page):
    at = start(page, **({"doc": "khong-ngay"} if page == "documents" else {}))
    assert at.dataframe
    assert_no_missing_markers(at)


def test_per_year_views_leave_out_undated_documents_and_say_so(archive, media_managers):  # noqa: F811
    from contextlib import closing

    from corpus import store
    from parlens import views

    with closing(store.connect(archive, readonly=True)) as conn:
        years = views.document_years(conn)
        per_year = views.documents_per_year(conn)
    assert years["khong-ngay"] is None
    assert per_year == {2020: 1, 2022: 2, 2023: 1}          # the near-duplicate counts once
    at = start("themes")
    captions = " ".join(plain(c.value) for c in at.caption)
    assert "left out of this per-year view" in captions
    trend = read_csv(download(at, media_managers, "dl_theme_trend"))
    assert set(trend["year"]) <= {2020, 2022, 2023}


# --------------------------------------------------------------------------
# 2. Why low
# --------------------------------------------------------------------------


def test_why_low_is_one_click_from_the_start_page(archive):
    at = start()
    links = [link.proto for link in at.get("page_link")]
    assert any("why_low" in link.page or "why-low" in link.page for link in links)


def test_why_low_lists_the_bottom_district_with_causes_and_remedies(archive, media_managers):  # noqa: F811
    at = start("why_low")
    assert not at.exception
    assert at.selectbox(key="wl_metric").value == "par_index"
    at.selectbox(key="wl_year").set_value(2021).run()
    at.selectbox(key="wl_group").set_value("district").run()
    assert at.selectbox(key="wl_province").value == "Tỉnh Bắc Giang"
    bottom = at.dataframe[0].value
    assert list(bottom["unit"]) == [LOW, "huyện Hiệp Hòa", "huyện Việt Yên"]    # by rank: last place first
    assert bottom.iloc[0]["rank"] == "10/10" and bool(bottom.iloc[0]["conflict"])
    assert any(LOW in plain(s.value) and "10/10" in plain(s.value) for s in at.subheader)

    rows = read_csv(download(at, media_managers, "dl_why_low"))
    low = rows[rows["unit"] == LOW]
    assert {"weakness", "cause", "remedy"} <= set(low["kind"])
    assert low["link"].str.startswith("documents?doc=").all() and low["citation"].str.len().min() > 0
    # what the unit's questioner asked and what the official answered and promised are there too
    assert "Nguyễn Văn An" in set(low["speaker"].dropna())
    assert ((low["speaker"] == "Trần Thị Bình") & (low["kind"] == "remedy")).any()
    # the promise the district's chairman made
    assert ((low["kind"] == "remedy") & low["text"].str.contains("đào tạo cán bộ một cửa")).any()
    # a republished copy adds nothing
    assert "bg-2022-huyen-dang-lai" not in set(rows["doc_id"])
    ids = dict(zip(rows["finding_id"], rows["doc_id"]))
    for fid, doc in ids.items():
        assert store_rows(archive, "SELECT doc_id FROM findings WHERE id = ?", (int(fid),)) == [(doc,)]
    assert_no_missing_markers(at)

    # by score, one unit
    at.radio(key="wl_by").set_value("score")
    at.number_input(key="wl_n").set_value(1).run()
    assert list(at.dataframe[0].value["unit"]) == [LOW]


def test_why_low_link_opens_the_source_sentence(archive, media_managers):  # noqa: F811
    at = start("why_low", index="par_index", year="2021", group="district", province="Tỉnh Bắc Giang")
    rows = read_csv(download(at, media_managers, "dl_why_low"))
    row = rows[rows["kind"] == "cause"].iloc[0]
    from urllib.parse import parse_qs, urlparse
    q = {k: v[0] for k, v in parse_qs(urlparse(row["link"]).query).items()}
    at = start("documents", **q)
    assert at.selectbox(key="doc").value == row["doc_id"]
    assert f'id="f{int(row["finding_id"])}"' in html_bodies(at) and "pl-focus" in html_bodies(at)


# --------------------------------------------------------------------------
# 3. Figure reconciliation
# --------------------------------------------------------------------------


def test_figures_reconciled_across_sources(archive, media_managers):  # noqa: F811
    at = start("figures")
    rec = read_csv(download(at, media_managers, "dl_reconciled"))
    low = rec[(rec["unit"] == LOW) & (rec["value_type"] == "percent") & (rec["year"] == 2021)]
    assert len(low) == 1
    low = low.iloc[0]
    # two articles, 72.3 and 71.8; the republished copy of the first is not a third source
    assert low["sources"] == 2 and bool(low["conflict"]) and low["distinct_values"] == 2
    assert low["consensus"] == pytest.approx(72.05)
    assert "72.3 ← bg-2022-huyen" in low["values"] and "71.8 ← bg-2022-huyen-khac" in low["values"]
    assert "dang-lai" not in low["values"]
    assert not rec[rec["unit"] == "huyện Việt Yên"]["conflict"].any() or rec.empty

    dis = read_csv(download(at, media_managers, "dl_disagreements"))
    assert set(dis["value"]) == {72.3, 71.8} and dis["citation"].str.contains("tinbacgiang.example.vn").any()

    # the figures download: the findings contract, then sources and conflict
    figs = read_csv(download(at, media_managers, "dl_figures"))
    assert list(figs.columns[:len(CONTRACT)]) == CONTRACT and list(figs.columns[-2:]) == ["sources", "conflict"]
    mine = figs[(figs["unit"].str.contains("Sơn Động", na=False)) & (figs["value"] == 71.8)]
    assert len(mine) == 1 and mine.iloc[0]["sources"] == 2 and bool(mine.iloc[0]["conflict"])
    assert_no_missing_markers(at)


def test_the_cli_export_contract_is_unchanged(archive, tmp_path):
    from corpus.export import CONTRACT_COLUMNS, EXTRA_COLUMNS
    from parlens.cli import main

    out = tmp_path / "f.csv"
    assert main(["--db", str(archive), "export", "--csv", str(out)]) == 0
    df = pd.read_csv(out, encoding="utf-8-sig")
    assert list(df.columns) == list(CONTRACT_COLUMNS) + list(EXTRA_COLUMNS)


# --------------------------------------------------------------------------
# 4. Sessions
# --------------------------------------------------------------------------

SESSION = "bg-2023-chat-van"


def test_session_page_pairs_questions_with_answers_and_promises(archive, media_managers):  # noqa: F811
    at = start("sessions")
    assert at.selectbox(key="session_doc").value == SESSION      # the only session; articles are not listed
    sessions = read_csv(download(at, media_managers, "dl_sessions"))
    assert list(sessions["doc_id"]) == [SESSION]

    speakers = next(d.value for d in at.dataframe if "constituency" in d.value.columns)
    asking = speakers[speakers["stance"].str.startswith("chất vấn")]
    assert {"Nguyễn Văn An", "Lê Thị Hoa"} <= set(asking["speaker"])
    assert "huyện Sơn Động" in set(asking["constituency"])
    assert not speakers["speaker_role"].fillna("").str.contains(r"\)$").any()

    pairs = read_csv(download(at, media_managers, "dl_session_pairs"))
    first = pairs[pairs["asker"] == "Nguyễn Văn An"].iloc[0]
    assert first["answerer"] == "Trần Thị Bình" and first["answerer_unit"] == "Sở Nội vụ"
    assert first["answer_turn"] > first["question_turn"] and "phối hợp với huyện Sơn Động" in first["promises"]
    assert any("Hỏi · Q" in plain(m.value) for m in at.markdown)
    assert any("Sở Nội vụ sẽ phối hợp" in plain(s.value) for s in at.success)

    promises = read_csv(download(at, media_managers, "dl_session_promises"))
    assert list(promises.columns[:len(CONTRACT)]) == CONTRACT
    assert set(promises["kind"]) == {"remedy"} and set(promises["speaker"]) <= {"Trần Thị Bình", "Phạm Văn Cường"}
    everything = read_csv(download(at, media_managers, "dl_session_findings"))
    assert set(everything["doc_id"]) == {SESSION} and {"answers_turn", "citation", "turn", "stance"} <= set(
        everything.columns)
    (n,) = store_rows(archive, "SELECT count(*) FROM findings WHERE doc_id = ?", (SESSION,))[0]
    assert len(everything) == n
    assert_no_missing_markers(at)


# --------------------------------------------------------------------------
# 5. Shareable links and citations
# --------------------------------------------------------------------------


def open_link(**query):
    """A browser opening a shared link to the start page: the query is there on the first run."""
    from streamlit.testing.v1 import AppTest

    from test_app import APP
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_shared_search_link_opens_on_its_query_and_filters(archive):
    at = open_link(q="cán bộ một cửa yếu về chuyên môn", kind="cause", unit=LOW)
    assert at.text_input(key="q").value == "cán bộ một cửa yếu về chuyên môn"
    assert at.selectbox(key="kind").value == "cause" and at.selectbox(key="unit").value == LOW
    hits = at.dataframe[0].value
    assert len(hits) and set(hits["kind"]) == {"cause"} and set(hits["unit"]) == {LOW}
    assert hits["citation"].str.contains(r"\.example\.vn · \d\d/\d\d/20\d\d · https://", regex=True).all()
    # changing a filter rewrites the link
    at.selectbox(key="kind").set_value("__all__").run()
    assert "kind" not in at.query_params and at.query_params.get("unit") in (LOW, [LOW])


def test_why_low_selection_is_in_the_url(archive):
    at = start("why_low")
    at.selectbox(key="wl_year").set_value(2021).run()
    at.radio(key="wl_by").set_value("score").run()
    q = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert q["index"] == "par_index" and q["year"] == "2021" and q["group"] == "district" and q["by"] == "score"
    assert q["province"] == "Tỉnh Bắc Giang"
    again = start("why_low", **q)
    assert again.radio(key="wl_by").value == "score" and again.selectbox(key="wl_year").value == 2021


def test_units_and_documents_put_their_selection_in_the_url(archive):
    at = start("units")
    keys = at.selectbox(key="unit_key").options
    rows = store_rows(archive, "SELECT unit_type || ':' || unit_code FROM findings WHERE unit_name = ? LIMIT 1", (LOW,))
    at.selectbox(key="unit_key").set_value(rows[0][0]).run()
    assert at.selectbox(key="unit_key").value == rows[0][0] and len(keys) > 1
    assert at.query_params.get("unit") in (rows[0][0], [rows[0][0]])
    at = start("documents")
    at.selectbox(key="doc").set_value("bg-2022-huyen-khac").run()
    assert at.selectbox(key="doc").value == "bg-2022-huyen-khac"
    assert at.query_params.get("doc") in ("bg-2022-huyen-khac", ["bg-2022-huyen-khac"])


@pytest.mark.parametrize("page,query", [("documents", {"doc": "bg-2022-huyen"}), ("units", {}), ("figures", {}),
                                        ("why_low", {}), ("sessions", {})])
def test_every_finding_row_shown_has_a_citation(archive, page, query):
    at = start(page, **query)
    finding_tables = [d.value for d in at.dataframe if "text" in d.value.columns]
    assert finding_tables
    for df in finding_tables:
        assert "citation" in df.columns
        assert (df["citation"].fillna("").str.len() > 0).all()


# --------------------------------------------------------------------------
# 5. Search that reads intent, grouped by document
# --------------------------------------------------------------------------


def test_search_for_causes_shows_causes_first_and_groups_by_document(archive):
    at = open_link(q="vì sao huyện Sơn Động xếp cuối bảng chỉ số cải cách hành chính", limit="60")
    hits = at.dataframe[0].value
    kinds = list(hits["kind"])
    assert kinds[0] == "cause" and "figure" in kinds
    assert kinds.index("figure") > max(i for i, k in enumerate(kinds) if k in ("cause", "weakness"))
    at.toggle(key="by_doc").set_value(True).run()
    assert at.query_params.get("group") in ("doc", ["doc"])
    headings = [plain(h.value) for h in at.subheader]
    assert len(headings) == hits["doc_id"].nunique() > 1
    # the first group is the document of the best hit, with every one of its hits under it
    assert headings[0].startswith(hits.iloc[0]["title"])
    assert headings[0].endswith(f"· {int((hits['doc_id'] == hits.iloc[0]['doc_id']).sum())}")
