"""Search: a Vietnamese query over every finding, with filters; each result links to its document."""
import html

import pandas as pd
import streamlit as st

from parlens import appstate, views

DOCS_PAGE = "parlens/pages/documents.py"
EXAMPLES = ("cán bộ thiếu trách nhiệm", "chỉ số cải cách hành chính thấp", "ứng dụng công nghệ thông tin",
            "tuyên truyền cải cách hành chính", "dịch vụ công trực tuyến")
ALL = "__all__"

db = str(appstate.db_path())
ver = appstate.version(db)
appstate.header("Tìm kiếm · Search",
                "Tìm theo nghĩa và từ khóa trong số liệu, hạn chế, nguyên nhân và giải pháp · "
                "Semantic + keyword search over figures, weaknesses, causes and remedies.")

opts = appstate.view("filter_options", db, ver)
st.page_link("parlens/pages/why_low.py", label="Vì sao đơn vị xếp hạng thấp? · Why do units rank low?",
             icon=":material/trending_down:")


def _set_query(q: str) -> None:
    st.session_state["q"] = q


qp = st.query_params   # a shared link opens on its query and filters (widget defaults, first run only)


def _index(options: list, param: str) -> int:
    return options.index(qp.get(param)) if qp.get(param) in options else 0


def _int(param: str, default: int | None = None) -> int | None:
    try:
        return int(qp.get(param))
    except (TypeError, ValueError):
        return default


if "q" not in st.session_state and st.query_params.get("q"):
    st.session_state["q"] = st.query_params.get("q")

query = st.text_input("Câu hỏi · Query", key="q", placeholder="vd. cán bộ thiếu trách nhiệm trong cải cách hành chính",
                      help="Tiếng Việt có dấu cho kết quả tốt nhất · Vietnamese with diacritics works best.")

with st.container(horizontal=True, gap="small"):
    kinds = [ALL, *views.kinds(), *views.kind_aliases()]
    kind = st.selectbox("Loại · Kind", kinds, key="kind", index=_index(kinds, "kind"),
                        format_func=lambda k: "Tất cả · All" if k == ALL else views.kind_label(k), width=200)
    province = st.selectbox("Tỉnh/TP · Province", [ALL] + opts["provinces"], key="province",
                            index=_index([ALL] + opts["provinces"], "province"),
                            format_func=lambda p: "Tất cả · All" if p == ALL else p, width=200)
    unit = st.selectbox("Đơn vị · Unit", [ALL] + opts["units"], key="unit", index=_index([ALL] + opts["units"], "unit"),
                        format_func=lambda u: "Tất cả · All" if u == ALL else u, width=220)
    doc_type = st.selectbox("Loại văn bản · Document type", [ALL] + opts["doc_types"], key="doc_type",
                            index=_index([ALL] + opts["doc_types"], "doc_type"),
                            format_func=lambda d: "Tất cả · All" if d == ALL else views.DOC_TYPE_LABELS.get(d, d),
                            width=220)

years = opts["years"]
year_range = None
with st.container(horizontal=True, vertical_alignment="bottom", gap="medium"):
    limit = st.number_input("Số kết quả · Results", 5, 100, min(max(_int("limit", 10), 5), 100), step=5, key="limit",
                            width=150)
    by_document = st.toggle("Nhóm theo văn bản · Group by document", key="by_doc", value=qp.get("group") == "doc",
                            help="Các kết quả của cùng một bài viết đứng cùng nhau · What one article says, together.")
    if years:
        url_years = (_int("from", years[0]), _int("to", years[-1]))
        url_years = (max(years[0], min(url_years[0], years[-1])), min(years[-1], max(url_years[1], years[0])))
        use_years = st.toggle("Lọc theo năm · Filter by year", key="use_years", value="from" in qp or "to" in qp,
                              help="Năm của số liệu, hoặc năm đăng của văn bản · The year a figure refers to, "
                                   "else the year its document was published.")
        if use_years and years[0] < years[-1]:
            year_range = st.slider("Năm · Years", years[0], years[-1], url_years, key="years",
                                   width=420)
        elif use_years:
            year_range = (years[0], years[0])

if not query.strip():
    st.write("Thử · Try:")
    with st.container(horizontal=True, gap="small"):
        for i, ex in enumerate(EXAMPLES):
            st.button(ex, key=f"ex{i}", on_click=_set_query, args=(ex,), type="secondary", icon=":material/search:")
    st.stop()

filters = {
    "kind": None if kind == ALL else kind,
    "province": None if province == ALL else province,
    "unit": None if unit == ALL else unit,
    "doc_type": None if doc_type == ALL else doc_type,
    "year_from": year_range[0] if year_range else None,
    "year_to": year_range[1] if year_range else None,
}
appstate.share_link({"q": query.strip(), "kind": filters["kind"], "province": filters["province"],   # bookmarkable
                     "unit": filters["unit"], "doc_type": filters["doc_type"],
                     "from": filters["year_from"], "to": filters["year_to"],
                     "limit": None if int(limit) == 10 else str(int(limit)),
                     "group": "doc" if by_document else None})
enc = appstate.try_encoder()
hits, mode = appstate.search(db, ver, query.strip(), tuple(sorted(filters.items())), int(limit),
                             enc.name if enc is not None else None)

missing = appstate.view("index_status", db, ver)["missing"]
if missing and mode != "keyword":
    st.caption(f"{missing} phát hiện chưa có vectơ, chỉ tìm được theo từ khóa · {missing} findings have no vector "
               "yet and are found by keywords only (the index is stale: run `parlens index`).")
if mode == "keyword":
    st.warning("Đang tìm theo từ khóa (chưa có vectơ ngữ nghĩa) · Keyword search only: no sentence embeddings "
               "are available. " + st.session_state.get("_encoder_error", ""))

if hits.empty:
    st.info("Không có kết quả. Hãy bỏ bớt bộ lọc · No results: try removing some filters.")
    st.stop()

st.caption(f"{len(hits)} kết quả · results")
results_tab, table_tab = st.tabs(["Kết quả · Results", "Bảng · Table"])



def _card(row: dict) -> None:
    with st.container(border=True):
        kind_chip = (views.kind_short(row["kind"]), views.kind_colour(row["kind"]))
        speaker = " — ".join(x for x in (row["speaker"], row["speaker_role"]) if isinstance(x, str) and x)
        year = "" if pd.isna(row["year"]) else f"năm {row['year']}"
        unit_text = row["unit"] if isinstance(row["unit"], str) else ""
        meta = [kind_chip, (unit_text, None), (year, None), (f"Người nói · Speaker: {speaker}" if speaker else "", None)]
        st.html(f'<div class="pl-card-title">{row["rank"]}. {html.escape(row["text"])}</div>'
                f"<div>{appstate.chips(meta)}</div>")
        st.html(views.snippet_html(row["sentence"], row["kind"], row["_offset"], row["_length"],
                                   fallback=row["text"]))
        with st.container(horizontal=True, vertical_alignment="center"):
            title = row["title"] if isinstance(row["title"], str) and row["title"] else row["doc_id"]
            cite = row["citation"] or title
            undated = "" if isinstance(row["published"], str) else " · không rõ ngày · undated"
            st.caption(f"**{views.md(cite)}**{undated} · điểm · score {row['score']:.3f}")
            st.page_link(DOCS_PAGE, label="Mở văn bản · Open document", icon=":material/open_in_new:",
                         query_params={"doc": row["doc_id"], "f": str(row["finding_id"])})


with results_tab:
    if by_document:
        groups = views.hits_by_document(hits)
        st.caption(f"{len(groups)} văn bản · documents")
        for doc_id, group in groups:
            first = group.iloc[0]
            title = first["title"] if isinstance(first["title"], str) and first["title"] else doc_id
            st.subheader(f"{views.md(title)} · {len(group)}", anchor=False)
            for row in group.to_dict("records"):
                _card(row)
    else:
        for row in hits.to_dict("records"):
            _card(row)

with table_tab:
    shown = hits.drop(columns=["_offset", "_length"])
    appstate.dataframe(shown, column_config={
        "text": st.column_config.TextColumn("text", width="large"),
        "sentence": st.column_config.TextColumn("sentence", width="large"),
        "score": st.column_config.NumberColumn("score", format="%.4f"),
    })

appstate.csv_download(
    lambda: appstate.findings_by_ids(db, hits["finding_id"].tolist(),
                                     {"rank": hits["rank"].tolist(), "score": hits["score"].tolist()}),
    "parlens-search.csv", key="dl_search")
