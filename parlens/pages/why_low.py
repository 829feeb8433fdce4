"""Why low: the units at the bottom of an index in a year, with the weaknesses and causes stated about
them or by their questioners and the remedies they promised, each linked to its source sentence."""
import streamlit as st

from parlens import appstate, views

db = str(appstate.db_path())
ver = appstate.version(db)
appstate.header("Vì sao xếp hạng thấp · Why low",
                "Các đơn vị cuối bảng của một chỉ số trong một năm, cùng hạn chế, nguyên nhân và giải pháp đã nêu · "
                "The units at the bottom of an index, with the weaknesses, causes and remedies stated about them.")

options = appstate.view("ranking_options", db, ver)
if options.empty:
    st.info("Chưa có thứ hạng hay điểm số theo năm · No yearly ranks or scores yet.")
    st.stop()

metrics = sorted(options["metric"].unique(), key=lambda m: (m != "par_index", m))
appstate.from_url("wl_metric", "index", metrics)
with st.container(horizontal=True):
    metric = st.selectbox("Chỉ số · Index", metrics, format_func=views.metric_label, key="wl_metric", width=320)
    sub = options[options["metric"] == metric]
    years = sorted(sub["year"].unique(), reverse=True)
    appstate.from_url("wl_year", "year", years, int)
    year = st.selectbox("Năm · Year", years, key="wl_year", width=120)
    sub = sub[sub["year"] == year]
    groups = [g for g in views.RANK_GROUPS if g in set(sub["unit_type"])]
    appstate.from_url("wl_group", "group", groups)
    group = st.selectbox("Nhóm · Group", groups, format_func=views.RANK_GROUPS.get, key="wl_group", width=300)
    province = None
    if group in views.GROUPS_IN_PROVINCE:
        provinces = sorted(p for p in sub[sub["unit_type"] == group]["province"].unique() if p)
        appstate.from_url("wl_province", "province", provinces)
        province = st.selectbox("Tỉnh/TP · Province", provinces, key="wl_province", width=240)
with st.container(horizontal=True, vertical_alignment="bottom"):
    appstate.from_url("wl_by", "by", ["rank", "score"])
    by = st.radio("Xếp theo · Order by", ["rank", "score"], horizontal=True, key="wl_by",
                  format_func={"rank": "Thứ hạng · rank", "score": "Điểm · score"}.get)
    appstate.from_url("wl_n", "n", list(range(1, 51)), int, default=5)
    n = st.number_input("Số đơn vị cuối bảng · Bottom units", 1, 50, key="wl_n", width=200)
    window = st.toggle("Chỉ năm đó và 2 năm sau · Only that year and the 2 after", value=True, key="wl_window",
                       help="Phát biểu về kết quả năm N thường được đưa ra trong năm N+1 · An index for year N is "
                            "discussed in year N+1.")

appstate.share_link({"index": metric, "year": str(year), "group": group, "province": province, "by": by,
                     "n": str(int(n))})
result = appstate.view("why_low", db, ver, metric, int(year), group, province, by, int(n), 2 if window else None)
table, bottom, rows = result["ranking"], result["bottom"], result["findings"]
if bottom.empty:
    st.info("Không có đơn vị nào có thứ hạng hay điểm số · No unit of this group has a rank or a score.")
    st.stop()

st.caption(f"{len(table)} đơn vị có số liệu · units with figures; cuối bảng · bottom {len(bottom)}. "
           + ("Điểm là giá trị đồng thuận của các nguồn · Scores are the sources' consensus values. "
              if (table["sources"] > 1).any() else "")
           + views.undated_text(result["undated"], "phát biểu không rõ năm · undated statements")
           + (f" {result['copies']} phát biểu từ bài đăng lại không tính · statements from republished copies "
              "are counted once." if result["copies"] else ""))
appstate.dataframe(bottom.drop(columns=["unit_key", "rank_position", "rank_total"]), column_config={
    "score": st.column_config.NumberColumn("Điểm · score", format="%.2f"),
    "rank": st.column_config.TextColumn("Hạng · rank"),
    "sources": st.column_config.NumberColumn("Nguồn · sources"),
    "conflict": st.column_config.CheckboxColumn("Lệch số liệu · sources disagree"),
}, key="wl_bottom")

appstate.csv_download(lambda: rows, f"parlens-why-low-{metric}-{year}-{group}.csv", key="dl_why_low",
                      label="Tải CSV tất cả đơn vị · Download CSV (all units)")

for i, u in enumerate(bottom.to_dict("records")):
    mine = rows[rows["unit_key"] == u["unit_key"]]
    score = f" · {u['score']:.2f}" if u["score"] == u["score"] and u["score"] is not None else ""
    with st.container(border=True):
        st.subheader(f"{views.md(u['rank'] or '–')}{score} — {views.md(u['unit'])}", anchor=False)
        with st.container(horizontal=True):
            for kind in views.STATEMENT_KINDS:
                st.metric(views.kind_label(kind), int((mine["kind"] == kind).sum()), border=True)
            st.page_link("parlens/pages/units.py", label="Hồ sơ đơn vị · Unit profile",
                         query_params={"unit": u["unit_key"]}, icon=":material/location_city:")
        if mine.empty:
            st.caption("Không có phát biểu nào về đơn vị này trong các năm chọn · Nothing was said about this unit "
                       "in the years chosen.")
            continue
        appstate.dataframe(
            mine[["kind", "text", "relation", "speaker", "speaker_role", "year", "citation", "link"]]
            .assign(kind=mine["kind"].map(views.kind_short)),
            column_config={"text": st.column_config.TextColumn("Phát biểu · statement", width="large"),
                           "citation": st.column_config.TextColumn("Nguồn · source", width="medium"),
                           "link": st.column_config.LinkColumn("Câu nguồn · sentence", display_text="Mở · open"),
                           "year": st.column_config.NumberColumn("Năm · year", format="%d")},
            key=f"wl_rows_{i}")
