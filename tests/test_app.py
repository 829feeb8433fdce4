"""The Streamlit explorer, driven in-process with streamlit.testing.v1.AppTest.

One store is built from corpus/seeds per session (reused across runs while the seeds and
the extractor version are unchanged) and copied for each test that writes to it.
"""
from __future__ import annotations


import io
import os
import re
import shutil
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
SEEDS = ROOT / "corpus" / "seeds"
CONTRACT = ["doc_id", "title", "published", "kind", "unit", "unit_code", "province", "metric", "value",
            "value_type", "year", "speaker", "text", "start", "end"]


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


def plain(markdown: str) -> str:
    """What a reader sees of escaped Markdown: backslash escapes and invisible word joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


@pytest.fixture(scope="session")
def app_cache_dir(tmp_path_factory) -> Path:
    """PARLENS_CACHE_DIR for the app: the caller's if set, else one kept beside pytest's temp dirs
    (the converted sentence encoder is large; converting it once per machine is enough)."""
    path = Path(os.environ.get("PARLENS_CACHE_DIR") or tmp_path_factory.getbasetemp().parent / "parlens-cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def template_store(app_cache_dir) -> Path:
    """The seeds, analysed and embedded: built once, then reused while nothing changed."""
    mp = pytest.MonkeyPatch()
    mp.setenv("PARLENS_CACHE_DIR", str(app_cache_dir))
    from parlens.appstate import cached_store
    try:
        return cached_store(app_cache_dir / "stores", [SEEDS])
    finally:
        mp.undo()


@pytest.fixture(scope="session")
def shared_db(template_store, tmp_path_factory) -> Path:
    """A copy for tests that only read."""
    dest = tmp_path_factory.mktemp("app-store") / "parlens.sqlite"
    shutil.copyfile(template_store, dest)
    return dest


@pytest.fixture
def app_env(monkeypatch, app_cache_dir):
    def use(db: Path) -> None:
        monkeypatch.setenv("PARLENS_DB", str(db))
        monkeypatch.setenv("PARLENS_CACHE_DIR", str(app_cache_dir))
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    return use


@pytest.fixture
def ro_app(app_env, shared_db):
    app_env(shared_db)
    return shared_db


@pytest.fixture
def rw_db(app_env, template_store, tmp_path) -> Path:
    db = tmp_path / "parlens.sqlite"
    shutil.copyfile(template_store, db)
    app_env(db)
    return db


@pytest.fixture
def media_managers(monkeypatch):
    """AppTest's media file managers, kept reachable so deferred downloads can be run."""
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.media_file_manager import MediaFileManager

    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)
    return managers


def start(page: str | None = None, **query):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page:
        at.query_params.update(query)
        at.switch_page(f"parlens/pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def download(at, managers, key: str) -> bytes:
    """Click-equivalent of a deferred st.download_button: run its callable, return the file's bytes."""
    buttons = [b for b in at.get("download_button") if b.proto.id.endswith(f"-{key}")]
    assert buttons, f"no download button {key!r}: {[b.proto.id for b in at.get('download_button')]}"
    proto = buttons[0].proto
    assert proto.deferred_file_id, "downloads must be built on click (deferred), not on every run"
    manager = managers[-1]
    url = manager.execute_deferred(proto.deferred_file_id)
    file_id = url.rsplit("/", 1)[-1].split(".")[0]
    return manager._storage.get_file(file_id).content


def read_csv(data: bytes) -> pd.DataFrame:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV downloads are UTF-8 with BOM"
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")


def html_bodies(at) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def store_rows(db: Path, sql: str, args=()) -> list:
    from corpus import store
    with closing(store.connect(db, readonly=True)) as conn:
        return [tuple(r) for r in conn.execute(sql, args)]


# --------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------


def test_search_returns_results_and_filters_narrow_them(ro_app):
    at = start()
    assert at.title[0].value.startswith("Tìm kiếm")
    at.number_input(key="limit").set_value(50)
    at.text_input(key="q").input("cán bộ thiếu trách nhiệm cải cách hành chính").run()
    assert not at.exception
    hits = at.dataframe[0].value
    assert len(hits) >= 10
    assert {"weakness", "cause", "remedy"} & set(hits["kind"])
    cards = html_bodies(at)
    assert 'class="pl-card-title"' in cards and "pl-snip" in cards      # finding + highlighted sentence
    doc_links = [link for link in at.get("page_link") if "documents" in link.proto.page]
    assert len(doc_links) == len(hits)                                    # each result links to its document

    at.selectbox(key="kind").set_value("remedy").run()
    remedies = at.dataframe[0].value
    assert len(remedies) > 0 and set(remedies["kind"]) == {"remedy"} != set(hits["kind"])

    at.selectbox(key="kind").set_value("__all__")
    at.selectbox(key="province").set_value("Tỉnh Nghệ An").run()
    nghe_an = at.dataframe[0].value
    assert 0 < len(nghe_an) < len(hits)
    assert set(nghe_an["province"]) == {"Tỉnh Nghệ An"}

    at.selectbox(key="province").set_value("__all__")
    at.selectbox(key="unit").set_value("huyện Ứng Hòa").run()
    assert set(at.dataframe[0].value["unit"]) == {"huyện Ứng Hòa"}

    at.selectbox(key="unit").set_value("__all__")
    at.toggle(key="use_years").set_value(True).run()
    years = at.slider(key="years").value
    at.slider(key="years").set_value((2021, 2021)).run()
    dated = at.dataframe[0].value if at.dataframe else pd.DataFrame(columns=["year"])
    assert years[0] <= 2021 <= years[1]
    assert len(dated) < len(hits) and all(y == 2021 for y in dated["year"])


def test_search_result_opens_its_document_with_the_finding_marked(ro_app):
    at = start()
    at.text_input(key="q").input("chỉ số cải cách hành chính thấp").run()
    links = [link.proto for link in at.get("page_link") if "why" not in link.proto.page]
    assert links and all(link.page.endswith("documents.py") or "documents" in link.page for link in links)
    hit = at.dataframe[0].value.iloc[0]
    at = start("documents", doc=hit["doc_id"], f=str(hit["finding_id"]))
    assert at.selectbox(key="doc").value == hit["doc_id"]
    body = html_bodies(at)
    assert f'id="f{hit["finding_id"]}"' in body and "pl-focus" in body


def test_search_download_is_the_findings_contract(ro_app, media_managers):
    at = start()
    at.text_input(key="q").input("ứng dụng công nghệ thông tin").run()
    df = read_csv(download(at, media_managers, "dl_search"))
    assert list(df.columns[:len(CONTRACT)]) == CONTRACT
    assert list(df.columns[-2:]) == ["rank", "score"]
    assert len(df) == len(at.dataframe[0].value)


# --------------------------------------------------------------------------
# Recurring weaknesses
# --------------------------------------------------------------------------


def test_themes_expand_to_members_and_units(ro_app, media_managers):
    at = start("themes")
    table = at.dataframe[0].value
    assert {"label", "statements", "documents", "units", "years"} <= set(table.columns)
    assert len(table) >= 1 and table["statements"].sum() > 0
    first = at.expander[0]
    assert f"{table.iloc[0]['statements']} phát biểu" in first.label
    members = first.dataframe[0].value
    assert len(members) == table.iloc[0]["statements"] and members["text"].str.len().min() > 0
    units = first.dataframe[1].value
    assert {"unit", "statements", "documents"} <= set(units.columns) and len(units) >= 1
    theme_csv = read_csv(download(at, media_managers, "dl_members_0"))
    assert list(theme_csv.columns[:len(CONTRACT)]) == CONTRACT and len(theme_csv) == len(members)

    # the trend: shares of each year's documents by default, raw counts on request
    trend = read_csv(download(at, media_managers, "dl_theme_trend"))
    assert trend["value"].between(0, 1).all()
    at.toggle(key="trend_raw").set_value(True).run()
    raw = read_csv(download(at, media_managers, "dl_theme_trend"))
    assert (raw["value"] == raw["documents"]).all()

    at.radio(key="theme_kind").set_value("remedy").run()
    assert not at.exception
    assert at.dataframe[0].value["statements"].sum() > 0


# --------------------------------------------------------------------------
# Figures and units
# --------------------------------------------------------------------------


def test_figures_table_filters_and_extremes(ro_app, media_managers):
    def all_figures(at) -> pd.DataFrame:
        return next(d.value for d in at.dataframe if {"sentence", "rank_position"} <= set(d.value.columns))

    at = start("figures")
    all_figs = all_figures(at)
    assert {"unit", "metric", "value", "year", "rank_position", "sentence", "doc_id"} <= set(all_figs.columns)
    at.multiselect(key="fig_metric").set_value(["par_index"]).run()
    par = all_figures(at)
    assert 0 < len(par) <= len(all_figs) and set(par["metric"]) == {"par_index"}
    csv = read_csv(download(at, media_managers, "dl_figures"))
    assert list(csv.columns[:len(CONTRACT)]) == CONTRACT and len(csv) == len(par)
    extremes = read_csv(download(at, media_managers, "dl_extremes"))
    assert {"metric", "year", "lowest_unit", "lowest_value", "highest_unit", "highest_value"} <= set(extremes.columns)
    assert (extremes["lowest_value"] <= extremes["highest_value"]).all()


def test_unit_profile_shows_its_figures(ro_app):
    rows = store_rows(ro_app, "SELECT unit_type, unit_code, unit, count(*) FROM findings WHERE kind = 'figure' "
                              "AND unit_code IS NOT NULL GROUP BY unit_type, unit_code ORDER BY count(*) DESC LIMIT 1")
    unit_type, code, name, n = rows[0]
    at = start("units")
    at.selectbox(key="unit_key").set_value(f"{unit_type}:{code}").run()
    assert not at.exception
    assert any(name == plain(s.value) for s in at.subheader)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Số liệu · Figures"] == str(n)
    figures = at.dataframe[0].value
    stored = store_rows(ro_app, "SELECT value FROM findings WHERE kind='figure' AND unit_type=? AND unit_code=?",
                        (unit_type, code))
    assert sorted(figures["value"].dropna()) == pytest.approx(sorted(v for (v,) in stored if v is not None))


def test_units_map_places_territorial_units(ro_app, media_managers):
    at = start("units")
    points = read_csv(download(at, media_managers, "dl_map"))
    assert len(points) >= 3
    assert points["lat"].between(8, 24).all() and points["lon"].between(102, 110).all()
    assert set(points["unit_type"]) <= {"province", "district", "ward"}
    assert points["par_value"].notna().any()


# --------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------


def test_document_reader_and_findings_download(ro_app, media_managers):
    doc_id = "000_bb6e3388e7b8cfd8"
    at = start("documents", doc=doc_id)
    assert at.selectbox(key="doc").value == doc_id
    body = html_bodies(at)
    assert 'class="pl-doc"' in body and "pl-f-figure" in body and 'class="pl-e"' in body
    df = read_csv(download(at, media_managers, "dl_doc_findings"))
    assert list(df.columns[:len(CONTRACT)]) == CONTRACT
    assert set(df["doc_id"]) == {doc_id}
    (n,) = store_rows(ro_app, "SELECT count(*) FROM findings WHERE doc_id = ?", (doc_id,))[0]
    assert len(df) == n
    docs = read_csv(download(at, media_managers, "dl_docs"))
    assert doc_id in set(docs["doc_id"])


def test_renderer_escapes_document_text():
    from parlens import views

    text = 'Huyện <b>A</b> đạt 80% <script>alert("x")</script> & "B"'
    html = views.render_highlights(
        text, findings=[{"kind": "figure", "start": 0, "end": 19, "id": 7, "unit": "<i>A</i>"}],
        entities=[{"label": "PERCENT", "start": 16, "end": 19, "text": "80%"},
                  {"label": "UNIT", "start": 0, "end": 14, "text": "<b>A</b>", "norm": '"><img src=x>'}],
        focus=7)
    assert "<script>" not in html and "<b>" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;A&lt;/b&gt;" in html and "&amp;" in html
    assert 'id="f7"' in html and "pl-focus" in html


# --------------------------------------------------------------------------
# Adding documents
# --------------------------------------------------------------------------


def test_upload_adds_a_document_and_reports_bad_files(rw_db):
    before = store_rows(rw_db, "SELECT count(*) FROM documents")[0][0]
    seed = next(SEEDS.glob("001_*.txt")).read_bytes()
    marked = seed.replace("\n".encode(), " <script>alert(1)</script>\n".encode(), 1)
    at = start("add")
    uploader = at.file_uploader(key="uploads")
    uploader.upload("bai-moi.txt", marked, "text/plain")
    uploader.upload("bao-cao.pdf", b"%PDF-1.4 not text", "application/pdf")
    uploader.upload("qua-lon.txt", b"a" * (21 * 1024 * 1024), "text/plain")
    at.run()
    at.button(key="add_files").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("bai-moi.txt" in plain(s.value) for s in at.success)
    errors = " ".join(plain(e.value) for e in at.error)
    assert "bao-cao.pdf" in errors and "qua-lon.txt" in errors
    captions = " ".join(plain(c.value) for c in at.caption)
    assert "unsupported file type" in captions and "20 MB" in captions
    assert store_rows(rw_db, "SELECT count(*) FROM documents")[0][0] == before + 1
    assert store_rows(rw_db, "SELECT count(*) FROM findings WHERE doc_id = 'bai-moi'")[0][0] > 0
    missing = store_rows(rw_db, "SELECT count(*) FROM findings f LEFT JOIN embeddings e ON e.finding_id = f.id "
                                "WHERE e.finding_id IS NULL")[0][0]
    assert missing == 0

    # the views refresh: the new document is listed and its markup shows as text
    at = start("documents", doc="bai-moi")
    assert at.selectbox(key="doc").value == "bai-moi"
    body = html_bodies(at)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body


def test_pasted_text_is_added(rw_db):
    text = next(SEEDS.glob("004_*.txt")).read_text(encoding="utf-8")
    at = start("add")
    at.text_input(key="paste_title").input("Bài dán thử · pasted")
    at.text_area(key="paste_text").input(text)
    at.run()
    at.button(key="add_paste").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success
    rows = store_rows(rw_db, "SELECT id, title FROM documents WHERE id LIKE 'pasted-%'")
    assert len(rows) == 1 and rows[0][1] == "Bài dán thử · pasted"


# --------------------------------------------------------------------------
# First start
# --------------------------------------------------------------------------


def test_first_start_builds_the_store_from_the_bundled_corpus(app_env, tmp_path, monkeypatch):
    from parlens import appstate

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(next(SEEDS.glob("000_*.txt")), seeds)
    monkeypatch.setattr(appstate, "seeds_dir", lambda: seeds)
    db = tmp_path / "new" / "parlens.sqlite"
    app_env(db)
    at = start()
    assert at.title[0].value.startswith("Tìm kiếm")
    assert store_rows(db, "SELECT count(*) FROM documents")[0][0] == 1
    findings, embedded = store_rows(db, "SELECT (SELECT count(*) FROM findings), (SELECT count(*) FROM embeddings)")[0]
    assert findings > 0 and embedded == findings


def test_theme_trend_is_a_share_of_each_years_documents():
    from collections import Counter
    from types import SimpleNamespace

    from parlens import views

    def member(doc, unit="huyện A"):
        return SimpleNamespace(doc_id=doc, canonical_doc=doc, unit=unit, unit_key=unit, unit_type="district",
                               year=None, text="x", similarity=1.0, finding_id=1)

    theme = SimpleNamespace(id=3, label="tuyên truyền", members=[member("a"), member("b"), member("b", "huyện B")])
    years = {"a": 2020, "b": 2021, "c": 2021, "d": 2021}
    share = views.theme_trend([theme], years, share=True, year_totals=Counter(years.values()))
    assert dict(zip(share["year"], share["value"])) == {2020: 1.0, 2021: pytest.approx(1 / 3)}
    raw = views.theme_trend([theme], years, share=False)
    assert dict(zip(raw["year"], raw["value"])) == {2020: 1, 2021: 1}
    units = views.theme_units(theme)
    assert list(units["unit"]) == ["huyện A", "huyện B"] and list(units["statements"]) == [2, 1]


# --------------------------------------------------------------------------
# Hostile documents: Markdown from a document is shown as text, never rendered
# --------------------------------------------------------------------------

HOSTILE_URL = "https://evil.example/beacon.png"
HOSTILE_TITLE = f"[Bấm vào đây](https://evil.example/) ![beacon]({HOSTILE_URL}) **Sở Nội vụ**"
HOSTILE_TEXT = (f"# Tiêu đề giả\nSở Nội vụ ![beacon]({HOSTILE_URL}) cho biết công tác cải cách hành chính "
                "[còn chậm](https://evil.example/link), cán bộ còn gây phiền hà :red[cho người dân]. "
                "Chỉ số cải cách hành chính năm 2016 của tỉnh Quảng Bình đạt 72,5%.")


def add_hostile_document(db: Path) -> str:
    import json

    from corpus import store
    from corpus.ingest import ingest
    from nlp.extract import Analyser, version

    src = db.parent / "hostile.jsonl"
    src.write_text(json.dumps({"id": "hostile", "title": HOSTILE_TITLE, "url": HOSTILE_URL, "text": HOSTILE_TEXT},
                              ensure_ascii=False), encoding="utf-8")
    with closing(store.connect(db)) as conn:
        summary = ingest([src], conn, Analyser(), version(), progress=False, triage=False)
    assert summary.added == 1, summary.describe()
    return "hostile"


MARKDOWN_ELEMENTS = ("title", "subheader", "caption", "info", "warning", "error", "success", "markdown")
LIVE_MARKDOWN = re.compile(r"(?<!\\)\]\(|(?<!\\)!\[|(?<!\\)\*\*Sở|(?<!\\):red\[|^#\s|(?<!\\)https?:")


def rendered_markdown(at) -> list[str]:
    return [el.value for name in MARKDOWN_ELEMENTS for el in getattr(at, name) if isinstance(el.value, str)]


def test_hostile_markdown_is_shown_as_text(rw_db):
    doc_id = add_hostile_document(rw_db)
    at = start("documents", doc=doc_id)
    shown = rendered_markdown(at)
    assert any("Bấm vào đây" in plain(s) for s in shown), "the title is shown"
    assert any(HOSTILE_URL in plain(s) for s in shown), "the source URL is shown, as text"
    live = [s for s in shown if LIVE_MARKDOWN.search(s) and ("evil" in s or "Sở" in s)]
    assert not live, live
    body = html_bodies(at)
    assert "evil.example" in body and 'src="https://evil' not in body and 'href="https://evil' not in body

    at = start("search", q="cán bộ gây phiền hà cải cách hành chính chậm")
    live = [s for s in rendered_markdown(at) if LIVE_MARKDOWN.search(s) and "evil" in s]
    assert not live, live


def test_sessions_and_why_low_pages_load_on_the_seeds(ro_app):
    at = start("sessions")
    assert at.title[0].value.startswith("Phiên chất vấn")
    listed = store_rows(ro_app, "SELECT count(*) FROM documents WHERE doc_type IN ('session report', 'transcript') "
                                "AND status = 'processed' AND duplicate_of IS NULL")[0][0]
    assert listed and len(at.selectbox(key="session_doc").options) == listed
    at = start("why_low")
    assert at.title[0].value.startswith("Vì sao xếp hạng thấp") and not at.exception
