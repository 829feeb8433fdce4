"""Recurring weaknesses (and remedies): statements from many documents grouped by meaning."""
import altair as alt
import streamlit as st

from parlens import appstate, views

db = str(appstate.db_path())
ver = appstate.version(db)
appstate.header("Hạn chế lặp lại · Recurring weaknesses",
                "Các phát biểu về hạn chế, nguyên nhân (hoặc giải pháp) được gom theo nghĩa qua nhiều văn bản · "
                "Statements grouped by meaning across documents; near-duplicate articles count once.")

GROUPS = views.theme_group_labels()
kind = st.radio("Nhóm · Group", list(GROUPS), format_func=GROUPS.get, horizontal=True, key="theme_kind",
                label_visibility="collapsed",
                index=list(GROUPS).index(st.query_params["kind"]) if st.query_params.get("kind") in GROUPS else 0)
appstate.share_link({"kind": kind})

status = appstate.themes_status(db, kind)
if status["stale"]:
    with st.container(horizontal=True, vertical_alignment="center"):
        st.warning("Chủ đề được gom trước lần nạp dữ liệu mới nhất · These themes were grouped before the latest "
                   "findings were added." if status["built"] else
                   "Chưa gom chủ đề cho kho này · Themes have not been grouped for this store yet.",
                   icon=":material/update:")
        if st.button("Gom lại · Regroup", key="rebuild_themes", icon=":material/refresh:"):
            if appstate.try_encoder() is None:
                st.error("Chưa có mô hình câu · No sentence encoder: " + st.session_state.get("_encoder_error", ""))
                st.stop()
            with st.spinner("Đang gom nhóm chủ đề · Grouping statements into themes…"):
                appstate.embed_missing(appstate.db_path())
                appstate.rebuild_themes(appstate.db_path())
            appstate.clear_caches()
            st.rerun()

themes = appstate.get_themes(db, ver, kind)
if not themes:
    st.info("Chưa có phát biểu nào để gom nhóm · No statements to group yet.")
    st.stop()

table = views.themes_frame(themes)
doc_years = appstate.view("document_years", db, ver)
year_totals = appstate.view("documents_per_year", db, ver)

with st.container(horizontal=True):
    st.metric("Chủ đề · Themes", len(themes), border=True)
    st.metric("Phát biểu · Statements", int(table["statements"].sum()), border=True)
    st.metric("Văn bản · Documents", len({m.canonical_doc for t in themes for m in t.members}), border=True)
    st.metric("Đơn vị · Units", len({m.unit_key for t in themes for m in t.members if m.unit_key}), border=True)

appstate.dataframe(table, column_config={
    "theme_id": st.column_config.NumberColumn("#", width="small"),
    "label": st.column_config.TextColumn("Chủ đề · Theme", width="medium"),
    "statements": st.column_config.ProgressColumn("Phát biểu · Statements", format="%d", min_value=0,
                                                  max_value=int(table["statements"].max())),
    "documents": st.column_config.NumberColumn("Văn bản · Docs"),
    "units": st.column_config.NumberColumn("Đơn vị · Units"),
    "years": st.column_config.NumberColumn("Số năm · Years"),
    "first_year": st.column_config.NumberColumn("Từ · From", format="%d"),
    "last_year": st.column_config.NumberColumn("Đến · To", format="%d"),
    "quote": st.column_config.TextColumn("Trích dẫn tiêu biểu · Representative quote", width="large"),
})
with st.container(horizontal=True):
    appstate.csv_download(table, f"parlens-themes-{kind}.csv", key="dl_themes")
    appstate.csv_download(lambda: views.themes_sharing_units(themes), f"parlens-theme-units-{kind}.csv",
                          key="dl_theme_units", label="Tải CSV đơn vị theo chủ đề · Units per theme CSV")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Quy mô · Size", anchor=False)
    bars = views.theme_bars(themes)
    measure = st.radio("Đo theo · Measure", ["documents", "units", "statements"], horizontal=True, key="bar_measure",
                       format_func={"documents": "Văn bản · documents", "units": "Đơn vị · units",
                                    "statements": "Phát biểu · statements"}.get)
    data = bars[bars["measure"] == measure]
    chart = alt.Chart(data).mark_bar(cornerRadiusEnd=3, color="#ef4444" if kind == "weakness" else "#10b981").encode(
        x=alt.X("count:Q", title=None, axis=alt.Axis(format="d", tickMinStep=1)),
        y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
        tooltip=[alt.Tooltip("label:N", title="Chủ đề"), alt.Tooltip("count:Q", title="Số lượng")],
    ).properties(height=max(120, 28 * len(data)))
    st.altair_chart(chart, width="stretch")
    appstate.csv_download(data, f"parlens-theme-bars-{kind}.csv", key="dl_theme_bars")

with right:
    st.subheader("Xu hướng theo năm · Trend by year", anchor=False)
    raw = st.toggle("Số văn bản thay vì tỉ lệ · Raw document counts", key="trend_raw")
    trend = views.theme_trend(themes, doc_years, share=not raw, year_totals=year_totals)
    undated = sum(1 for d in {m.canonical_doc for t in themes for m in t.members} if not doc_years.get(d))
    if undated:
        st.caption(views.undated_text(undated))
    if trend.empty:
        st.caption("Chưa có văn bản có năm · No dated documents.")
    else:
        y_title = "Số văn bản · documents" if raw else "Tỉ lệ văn bản · share"
        y_axis = alt.Axis(format="d", tickMinStep=1) if raw else alt.Axis(format="%")
        y_scale = alt.Scale(zero=True) if raw else alt.Scale(domain=[0, 1])
        chart = alt.Chart(trend).mark_line(point=alt.OverlayMarkDef(size=60)).encode(
            x=alt.X("year:O", title="Năm · Year", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=y_title, axis=y_axis, scale=y_scale),
            color=alt.Color("label:N", title="Chủ đề · Theme", legend=alt.Legend(orient="bottom", columns=1,
                                                                              labelLimit=420)),
            tooltip=[alt.Tooltip("label:N", title="Chủ đề"), alt.Tooltip("year:O", title="Năm"),
                     alt.Tooltip("documents:Q", title="Văn bản"),
                     alt.Tooltip("year_documents:Q", title="Văn bản trong năm"),
                     alt.Tooltip("share:Q", title="Tỉ lệ", format=".0%")],
        ).properties(height=300)
        st.altair_chart(chart, width="stretch")
        appstate.csv_download(trend, f"parlens-theme-trend-{kind}.csv", key="dl_theme_trend")

st.subheader("Chi tiết chủ đề · Theme details", anchor=False)
cites = appstate.view("citations", db, ver, tuple(m.finding_id for t in themes[:40] for m in t.members))
for i, t in enumerate(themes[:40]):
    title = (f"#{t.id} {views.md(t.label)} — {t.n_statements} phát biểu · {t.n_documents} văn bản · "
             f"{t.n_units} đơn vị · {t.years_text}")
    with st.expander(title, expanded=False):
        st.markdown(f"> {views.md(t.quote)}")
        members = views.theme_members(t, cites)
        units = views.theme_units(t)
        mtab, utab = st.tabs([f"Phát biểu · Statements ({len(members)})",
                              f"Đơn vị cùng hạn chế · Units sharing it ({len(units)})"])
        with mtab:
            appstate.dataframe(members, column_config={
                "text": st.column_config.TextColumn("text", width="large")})
            appstate.csv_download(
                lambda t=t: appstate.findings_by_ids(db, [m.finding_id for m in t.members]),
                f"parlens-theme-{kind}-{t.id}.csv", key=f"dl_members_{i}")
        with utab:
            appstate.dataframe(units)
            appstate.csv_download(units, f"parlens-theme-{kind}-{t.id}-units.csv", key=f"dl_units_{i}")
if len(themes) > 40:
    st.caption(f"… và {len(themes) - 40} chủ đề nhỏ hơn (xem bảng CSV) · and {len(themes) - 40} smaller themes "
               "(see the CSV).")
