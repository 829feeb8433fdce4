"""Streamlit glue shared by the explorer's pages: the store, caches, downloads, first-run build.

Data views are cached with ``st.cache_data`` keyed by the store path and its data
version (counts and max ids of documents, findings and embeddings), so any ingest
invalidates them; heavy objects (sentence encoder, vector index, NLP analyser,
themes) live in ``st.cache_resource``.
"""
from __future__ import annotations

import hashlib
import shutil
import threading
from contextlib import closing
from pathlib import Path
from typing import Callable

import pandas as pd
import streamlit as st

import corpus
from corpus import store
from corpus.records import theme_groups
from corpus.export import CONTRACT_COLUMNS, EXTRA_COLUMNS, contract_rows, dataframe_to_csv_bytes
from parlens import views

APP_TITLE = "ParLens"
PAGES_DIR = Path(__file__).parent / "pages"
_BUILD_LOCK = threading.Lock()


# --------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------


def seeds_dir() -> Path:
    """The bundled corpus the explorer starts from when the store is empty."""
    return Path(corpus.__file__).parent / "seeds"


def db_path() -> Path:
    return store.default_db_path()


def connect_ro(db: str | Path) -> store.Connection:
    return store.connect(Path(db), readonly=True)


def version(db: str | Path) -> tuple:
    """The data version: cheap enough to read on every rerun."""
    try:
        with closing(connect_ro(db)) as conn:
            return views.data_version(conn)
    except (store.StoreError, store.DatabaseError):
        return ()


def store_state(db: Path) -> dict:
    """Documents, findings and embedded findings in the store (zeros if there is none)."""
    state = {"exists": db.exists(), "documents": 0, "findings": 0, "embedded": 0}
    if not db.exists():
        return state
    try:
        with closing(store.connect(db)) as conn:
            state.update(store.counts(conn))
    except (store.StoreError, store.DatabaseError):
        pass
    return state


# --------------------------------------------------------------------------
# Heavy resources
# --------------------------------------------------------------------------


@st.cache_resource(show_spinner="Đang nạp mô hình câu · Loading the sentence encoder…")
def get_encoder():
    from parlens.service import encoder
    return encoder()


def try_encoder():
    """The encoder, or None (search then runs on keywords alone)."""
    try:
        return get_encoder()
    except Exception as exc:  # a missing or broken model must not take the explorer down
        st.session_state["_encoder_error"] = f"{exc.__class__.__name__}: {exc}"
        return None


@st.cache_resource(show_spinner="Đang nạp bộ phân tích · Loading the analyser…")
def get_analyser(embed: bool = True):
    from parlens.service import make_analyser
    return make_analyser(embed=embed)


@st.cache_resource(show_spinner="Đang dựng chỉ mục · Building the search index…", max_entries=2)
def get_index(db: str, data_version: tuple, model: str):
    from parlens.service import build_index
    with closing(connect_ro(db)) as conn:
        return build_index(conn, model, db_path=Path(db))


@st.cache_resource(show_spinner="Đang gom nhóm chủ đề · Grouping statements into themes…", max_entries=4)
def get_themes(db: str, data_version: tuple, kind: str):
    from parlens.service import load_themes
    with closing(connect_ro(db)) as conn:
        return load_themes(conn, kind).themes


def themes_status(db: str, kind: str) -> dict:
    """Whether the stored themes of `kind` predate the findings (then the page offers a rebuild)."""
    from parlens.service import themes_status as status
    with closing(connect_ro(db)) as conn:
        return status(conn, kind)


def rebuild_themes(db: Path) -> None:
    """The themes job, run from the explorer on request."""
    from parlens.service import rebuild_themes as rebuild
    with closing(store.connect(db)) as conn:
        for kind in theme_groups():
            rebuild(conn, kind)


def run_jobs(db: Path) -> None:
    """The jobs after an ingest from the explorer: themes of every kind, then unit summaries."""
    from parlens.summaries import rebuild_unit_summaries
    rebuild_themes(db)
    with closing(store.connect(db)) as conn:
        rebuild_unit_summaries(conn)


@st.cache_data(show_spinner=False, max_entries=16)
def get_gazetteer_points(db: str, data_version: tuple) -> pd.DataFrame:
    with closing(connect_ro(db)) as conn:
        return views.map_points(conn)


@st.cache_data(show_spinner=False, max_entries=128)
def view(name: str, db: str, data_version: tuple, *args):
    """Any `parlens.views` function of a connection, cached per store version."""
    fn = getattr(views, name)
    with closing(connect_ro(db)) as conn:
        return fn(conn, *args)


@st.cache_data(show_spinner=False, max_entries=32)
def view_plain(name: str, *args):
    """A `parlens.views` function that needs no store (gazetteer backdrops), cached by its arguments."""
    return getattr(views, name)(*args)


def clear_caches() -> None:
    """After an ingest: every view recomputes; the encoder and analyser stay loaded."""
    st.cache_data.clear()
    get_index.clear()
    get_themes.clear()


# --------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def search(db: str, data_version: tuple, query: str, filters: tuple, limit: int,
           model: str | None) -> tuple[pd.DataFrame, str]:
    """Hybrid (dense + keyword) search; keywords alone when `model` is None (no encoder)."""
    from parlens.service import hybrid_search

    with closing(connect_ro(db)) as conn:
        index = qvec = None
        mode = "keyword"
        if model:
            enc = get_encoder()
            index = get_index(db, data_version, model)
            if len(index):
                qvec = enc.encode_queries([query])[0]
                mode = "hybrid"
        hits = hybrid_search(conn, index, qvec, query, store.FindingFilter(**dict(filters)), limit)
        return views.hits_table(conn, hits), mode


# --------------------------------------------------------------------------
# Findings downloads: the CSV contract
# --------------------------------------------------------------------------

FINDINGS_CSV_COLUMNS = list(CONTRACT_COLUMNS) + list(EXTRA_COLUMNS)


def findings_by_ids(db: str, ids: list[int], extra_cols: dict[str, list] | None = None) -> pd.DataFrame:
    """Findings in the contract layout (the CLI export's columns), in the order of `ids`."""
    ids = [int(i) for i in ids]
    with closing(connect_ro(db)) as conn:
        rows = contract_rows(conn, ids=ids)
    df = pd.DataFrame(rows, columns=FINDINGS_CSV_COLUMNS)
    found = {r["id"] for r in rows}
    for name, values in (extra_cols or {}).items():
        df[name] = [v for i, v in zip(ids, values) if i in found]
    return df


# --------------------------------------------------------------------------
# Page furniture
# --------------------------------------------------------------------------


def csv_download(make_df: Callable[[], pd.DataFrame] | pd.DataFrame, file_name: str, key: str,
                 label: str = "Tải CSV · Download CSV") -> None:
    """A download button whose CSV (UTF-8 with BOM, formulas neutralised) is built only on click."""
    def build() -> bytes:
        df = make_df() if callable(make_df) else make_df
        return dataframe_to_csv_bytes(df)

    st.download_button(label, data=build, file_name=file_name, mime="text/csv", key=key,
                       icon=":material/download:", on_click="ignore", type="tertiary")


def icon():
    """The page icon, drawn here (a lens over a bar chart) so nothing is fetched from a CDN."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, 63, 63), radius=14, fill=(185, 28, 28, 255))
    for i, h in enumerate((14, 24, 18)):
        d.rectangle((12 + i * 9, 44 - h, 18 + i * 9, 44), fill=(254, 243, 199, 255))
    d.ellipse((26, 14, 52, 40), outline=(255, 255, 255, 255), width=5)
    d.line((47, 36, 57, 50), fill=(255, 255, 255, 255), width=6)
    return img


def header(title: str, caption: str | None = None) -> None:
    st.title(title, anchor=False)
    if caption:
        st.caption(caption)


def style() -> None:
    """A little CSS for the whole app: tighter header, readable result cards."""
    st.html("""
<style>
.block-container{padding-top:2.2rem;max-width:78rem}
section[data-testid="stSidebar"]{min-width:340px}
h1{font-size:1.9rem !important}
.pl-card-title{font:600 1.0rem/1.35 system-ui,sans-serif;margin:0 0 .1rem 0}
.pl-chip{display:inline-block;font:500 .74rem/1.5 system-ui,sans-serif;border-radius:999px;padding:0 .55rem;
  margin:0 .25rem .15rem 0;background:#f1f5f9;color:#334155;border:1px solid #e2e8f0}
.pl-chip-k{color:#fff;border:none}
.pl-muted{color:#64748b;font-size:.82rem}
</style>
""")
    st.html(views.reader_css())


def chips(items: list[tuple[str, str | None]]) -> str:
    """Small labelled chips (escaped): [(text, colour or None)]."""
    import html
    out = []
    for text, color in items:
        if not text:
            continue
        if color:
            out.append(f'<span class="pl-chip pl-chip-k" style="background:{color}">{html.escape(text)}</span>')
        else:
            out.append(f'<span class="pl-chip">{html.escape(text)}</span>')
    return "".join(out)


def document_counts(db: str | Path) -> dict[str, int]:
    """Documents in all, analysed, skipped, near-duplicates, undated (zeros without a store)."""
    try:
        with closing(connect_ro(db)) as conn:
            return views.document_counts(conn)
    except (store.StoreError, store.DatabaseError):
        return {"documents": 0, "analysed": 0, "skipped": 0, "duplicates": 0, "undated": 0}


def sidebar_status(db: Path) -> None:
    state = store_state(db)
    with st.sidebar:
        if state["documents"]:
            c = document_counts(db)
            st.caption(f"**{c['documents']}** văn bản · documents  \n"
                       f"**{c['analysed']}** đã phân tích · analysed (**{c['duplicates']}** gần trùng · "
                       f"near-duplicates, **{c['undated']}** không rõ ngày · undated)  \n"
                       f"**{c['skipped']}** bỏ qua vì không liên quan · skipped as off-topic  \n"
                       f"**{state['findings']}** phát hiện · findings")
        else:
            st.caption(f"**0** văn bản · documents  \n**{state['findings']}** phát hiện · findings")
        st.caption(f"Kho · Store: `{db}`")


def from_url(key: str, param: str, options, cast: Callable = str, default=None) -> None:
    """Let the URL choose a widget's value: `?param=value` sets `st.session_state[key]` once per
    new URL value (when it is one of `options`), so a shared link opens on the same selection;
    `default` seeds the widget when neither the URL nor the user has chosen yet."""
    raw = st.query_params.get(param)
    if raw is not None:
        try:
            value = cast(raw)
        except (TypeError, ValueError):
            value = None
        came_from_us = st.session_state.get(f"_shared_{param}") == raw      # share_link wrote it
        if (value is not None and value in list(options) and not came_from_us
                and st.session_state.get(f"_url_{key}") != raw):
            st.session_state[key] = value
            st.session_state[f"_url_{key}"] = raw
            return
    if default is not None and key not in st.session_state:
        st.session_state[key] = default


def share_link(params: dict[str, str | None]) -> None:
    """Write the page's current selection into the URL (st.query_params), so the address bar is a
    link to this view; parameters given as None are removed. What is written is remembered, so
    `from_url` applies only a URL the user brought, never the one this page wrote."""
    for name, value in params.items():
        if value is None or value == "":
            if name in st.query_params:
                del st.query_params[name]
            st.session_state.pop(f"_shared_{name}", None)
        else:
            if st.query_params.get(name) != str(value):
                st.query_params[name] = str(value)
            st.session_state[f"_shared_{name}"] = str(value)


def dataframe(df: pd.DataFrame, **kwargs) -> None:
    """st.dataframe as every page shows tables: no index, and no None/nan/NaN for missing values
    (empty text cells, "–" for missing numbers)."""
    kwargs.setdefault("hide_index", True)
    st.dataframe(views.display_frame(df), placeholder=views.MISSING, **kwargs)


# --------------------------------------------------------------------------
# First run: build the store from the bundled corpus
# --------------------------------------------------------------------------


def ingest_paths(db: Path, paths: list[Path], on_progress: Callable[[int, str, str], None] | None = None,
                 embed: bool = True):
    """Ingest files into the store; `on_progress(done, doc_id, status)` after each document."""
    from corpus.ingest import ingest

    try:
        analyse, ver = get_analyser(embed)
    except Exception:
        if not embed:
            raise
        analyse, ver = get_analyser(False)
    done = [0]

    def on_document(doc_id: str, status: str) -> None:
        done[0] += 1
        if on_progress:
            on_progress(done[0], doc_id, status)

    with closing(store.connect(db)) as conn:
        return ingest(paths, conn, analyse, ver, progress=False, on_document=on_document)


def embed_missing(db: Path, on_progress: Callable[[int, int], None] | None = None) -> int:
    """Embed findings stored without a vector; 0 (and a warning) when no encoder can be loaded."""
    from parlens.service import embed_missing as embed

    if try_encoder() is None:
        return 0
    with closing(store.connect(db)) as conn:
        return embed(conn, progress=on_progress)


def count_inputs(paths: list[Path]) -> int:
    n = 0
    for p in paths:
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
        for f in files:
            name = f.name.lower()
            if name.endswith(".jsonl"):
                with open(f, "rb") as fh:
                    n += sum(1 for line in fh if line.strip())
            elif name.endswith((".txt", ".html", ".htm", ".jsonl.gz")):
                n += 1
    return max(n, 1)


def ensure_store(db: Path) -> None:
    """Build the store from the bundled corpus when it is missing or empty, with progress bars;
    then embed any finding stored without a vector and rebuild the themes (explicit jobs: the
    explorer's pages only read)."""
    state = store_state(db)
    if state["documents"] and state["embedded"] >= state["findings"]:
        return
    with _BUILD_LOCK:
        state = store_state(db)
        if not state["documents"]:
            seeds = seeds_dir()
            total = count_inputs([seeds])
            box = st.empty()
            with box.container():
                st.info("Lần chạy đầu: đang dựng kho dữ liệu từ các bài viết kèm theo · "
                        f"First run: building the store from the bundled corpus ({total} documents).")
                bar = st.progress(0.0, text="Đang phân tích · Analysing…")

                def on_progress(done: int, doc_id: str, status: str) -> None:
                    bar.progress(min(done / total, 1.0), text=f"Đang phân tích · Analysing {done}/{total}: {doc_id}")

                summary = ingest_paths(db, [seeds], on_progress)
            box.empty()
            state = store_state(db)
            if not state["documents"]:
                st.error("Không dựng được kho dữ liệu · Could not build the store from the bundled corpus: "
                         + views.md(summary.describe()))
                for err in summary.errors[:20]:
                    st.caption(views.md(err))
                st.stop()
        if state["findings"] > state["embedded"]:
            box = st.empty()
            with box.container():
                bar = st.progress(0.0, text="Đang tạo vectơ ngữ nghĩa · Embedding findings…")

                def on_embed(done: int, total: int) -> None:
                    bar.progress(min(done / max(total, 1), 1.0),
                                 text=f"Đang tạo vectơ ngữ nghĩa · Embedding findings {done}/{total}")

                embed_missing(db, on_embed)
            box.empty()
        run_jobs(db)
        clear_caches()


def cached_store(cache_root: Path, paths: list[Path] | None = None, embed: bool = True) -> Path:
    """A store built from `paths` (default: the bundled corpus), reused while the inputs and the
    extractor version are unchanged. For tests and benchmarks; returns a read-only template
    that callers copy before writing to it."""
    from corpus.ingest import ingest
    from nlp.extract import version as extractor_version
    from parlens.service import embed_missing as embed_findings
    from parlens.service import make_analyser
    from parlens.service import rebuild_themes as rebuild
    from parlens.summaries import rebuild_unit_summaries

    paths = [Path(p) for p in (paths or [seeds_dir()])]
    h = hashlib.sha256(extractor_version().encode())
    for p in paths:
        for f in sorted([p] if p.is_file() else p.rglob("*")):
            if f.is_file():
                h.update(f.name.encode())
                h.update(f.read_bytes())
    h.update(b"embed" if embed else b"no-embed")
    target = Path(cache_root) / f"store-{h.hexdigest()[:16]}.sqlite"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    conn = store.connect(tmp)
    analyse, ver = make_analyser(embed=False)
    summary = ingest(paths, conn, analyse, ver, progress=False)
    if not summary.added:
        conn.close()
        raise RuntimeError(f"nothing ingested from {paths}: {summary.describe()}; {summary.errors[:3]}")
    if embed:
        embed_findings(conn)
        for kind in theme_groups():
            rebuild(conn, kind)
    rebuild_unit_summaries(conn)
    store.compact(conn)
    conn.close()
    tmp.replace(target)
    return target


def copy_store(template: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, dest)
    return dest
