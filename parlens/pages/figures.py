"""Figures: every score, rate and rank, a unit's scores over the years, lowest and highest per year."""
import altair as alt
import streamlit as st

from parlens import appstate, views

db = str(appstate.db_path())
ver = appstate.version(db)
appstate.header("Số liệu · Figures",
                "Điểm chỉ số, tỉ lệ và thứ hạng theo đơn vị và năm, kèm câu nguồn · "
                "Scores, rates and ranks by unit and year, each with its source sentence.")

figs = appstate.view("figures_with_sources", db, ver)
if figs.empty:
    st.info("Chưa có số liệu · No figures yet.")
    st.stop()

ext = views.figure_extremes(figs)
no_year = int((figs["year"].isna() & figs["unit"].notna()).sum())
if no_year:
    st.caption(views.undated_text(no_year, "số liệu không rõ năm · figures without a year"))
left, right = st.columns(2, gap="large")

with left:
    st.subheader("Theo đơn vị · A unit over the years", anchor=False)
    comparable = figs[figs["value_type"].isin(views.COMPARABLE_VALUE_TYPES) & figs["year"].notna()
                      & figs["value"].notna() & figs["unit"].notna()]
    if comparable.empty:
        st.info("Chưa có điểm số theo năm · No yearly scores yet.")
    else:
        keys = comparable.assign(key=[views.unit_key(t, c, u) for t, c, u in
                                      zip(comparable["unit_type"], comparable["unit_code"], comparable["unit"])])
        counts = keys.groupby("key").agg(unit=("unit", "first"), n=("value", "size"),
                                         years=("year", "nunique")).sort_values(["years", "n"], ascending=False)
        labels = {k: f"{r.unit} — {r.years} năm, {r.n} số liệu" for k, r in counts.iterrows()}
        key = st.selectbox("Đơn vị · Unit", list(counts.index), format_func=labels.get, key="fig_series_unit")
        series = views.unit_series(figs, key)
        chart = alt.Chart(series).mark_line(point=alt.OverlayMarkDef(size=70)).encode(
            x=alt.X("year:O", title="Năm · Year", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title="Giá trị · Value (%)", scale=alt.Scale(zero=False)),
            color=alt.Color("metric_label:N", title="Chỉ số · Metric",
                            legend=alt.Legend(orient="bottom", labelLimit=400)),
            tooltip=[alt.Tooltip("metric_label:N", title="Chỉ số"), alt.Tooltip("year:O", title="Năm"),
                     alt.Tooltip("value:Q", title="Giá trị", format=".2f"),
                     alt.Tooltip("mentions:Q", title="Số lần nêu")],
        ).properties(height=320)
        st.altair_chart(chart, width="stretch")
        appstate.dataframe(series)
        appstate.csv_download(series, "parlens-unit-series.csv", key="dl_series")

with right:
    st.subheader("Thấp nhất & cao nhất · Lowest & highest", anchor=False)
    if ext.empty:
        st.info("Chưa đủ số liệu để so sánh · Not enough comparable figures.")
    else:
        ext_metrics = sorted(ext["metric"].unique())
        metric = st.selectbox("Chỉ số · Metric", ext_metrics, format_func=views.metric_label, key="ext_metric",
                              index=ext_metrics.index("par_index") if "par_index" in ext_metrics else 0, width=420)
        sub = ext[ext["metric"] == metric]
        points = figs[(figs["metric"] == metric) & figs["value_type"].isin(views.COMPARABLE_VALUE_TYPES)
                      & figs["year"].notna() & figs["value"].notna() & figs["unit"].notna()].copy()
        points["year"] = points["year"].astype(int)
        lows = set(zip(sub["year"], sub["lowest_unit"]))
        highs = set(zip(sub["year"], sub["highest_unit"]))
        points["mark"] = ["thấp nhất · lowest" if (y, u) in lows else "cao nhất · highest" if (y, u) in highs
                          else "khác · other" for y, u in zip(points["year"], points["unit"])]
        dots = alt.Chart(points).mark_circle(size=110, opacity=.9).encode(
            x=alt.X("year:O", title="Năm · Year", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=views.metric_label(metric), scale=alt.Scale(zero=False)),
            color=alt.Color("mark:N", title=None, scale=alt.Scale(
                domain=["thấp nhất · lowest", "cao nhất · highest", "khác · other"],
                range=["#dc2626", "#16a34a", "#94a3b8"]), legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("unit:N", title="Đơn vị"), alt.Tooltip("year:O", title="Năm"),
                     alt.Tooltip("value:Q", title="Giá trị", format=".2f")],
        )
        labels = dots.transform_filter(alt.datum.mark != "khác · other").mark_text(
            align="left", dx=9, fontSize=11).encode(text="unit:N", color=alt.value("#334155"))
        st.altair_chart((dots + labels).properties(height=320), width="stretch")

if not ext.empty:
    appstate.dataframe(ext, column_config={
        "lowest_value": st.column_config.NumberColumn("lowest_value", format="%.2f"),
        "highest_value": st.column_config.NumberColumn("highest_value", format="%.2f"),
        "year": st.column_config.NumberColumn("year", format="%d"),
    })
    appstate.csv_download(ext, "parlens-lowest-highest.csv", key="dl_extremes")

st.subheader("Bảng số liệu · All figures", anchor=False)
metrics = sorted(figs["metric"].dropna().unique())
vtypes = sorted(figs["value_type"].dropna().unique())
with st.container(horizontal=True):
    url_metrics = [m for m in (st.query_params.get("metric") or "").split(",") if m in metrics]
    sel_metrics = st.multiselect("Chỉ số · Metric", metrics, format_func=views.metric_label, key="fig_metric",
                                 placeholder="Tất cả · All", width=360, default=url_metrics)
    sel_types = st.multiselect("Kiểu giá trị · Value type", vtypes, key="fig_vtype",
                               format_func=lambda v: views.VALUE_TYPE_LABELS.get(v, v),
                               placeholder="Tất cả · All", width=260)
    unit_query = st.text_input("Đơn vị chứa · Unit contains", key="fig_unit", width=240,
                               value=st.query_params.get("unit") or "")
    with_unit = st.toggle("Chỉ số liệu có đơn vị · Only figures with a unit", value=True, key="fig_with_unit")
years = sorted(int(y) for y in figs["year"].dropna().unique())
year_range = None
if len(years) > 1:
    year_range = st.slider("Năm · Years", years[0], years[-1], (years[0], years[-1]), key="fig_years", width=480)
appstate.share_link({"metric": ",".join(sel_metrics), "unit": unit_query.strip()})
view = figs
if sel_metrics:
    view = view[view["metric"].isin(sel_metrics)]
if sel_types:
    view = view[view["value_type"].isin(sel_types)]
if unit_query.strip():
    view = view[view["unit"].fillna("").str.contains(unit_query.strip(), case=False, regex=False)]
if with_unit:
    view = view[view["unit"].fillna("") != ""]
if year_range and (year_range[0] > years[0] or year_range[1] < years[-1]):
    view = view[view["year"].notna() & view["year"].between(*year_range)]
st.caption(f"{len(view)} / {len(figs)} số liệu · figures — bấm tiêu đề cột để sắp xếp · click a header to sort")
appstate.dataframe(view.drop(columns=["finding_id", "site", "url"]), column_config={
    "metric": st.column_config.TextColumn("metric"),
    "value": st.column_config.NumberColumn("value", format="%.2f"),
    "year": st.column_config.NumberColumn("year", format="%d"),
    "text": st.column_config.TextColumn("text", width="medium"),
    "sentence": st.column_config.TextColumn("sentence", width="large"),
    "title": st.column_config.TextColumn("title", width="medium"),
    "citation": st.column_config.TextColumn("Nguồn · citation", width="medium"),
    "sources": st.column_config.NumberColumn("Số nguồn · sources",
                                             help="Văn bản nêu cùng đơn vị, chỉ số, năm (bài đăng lại tính một lần) · "
                                                  "documents reporting this unit, metric and year (copies once)"),
    "conflict": st.column_config.CheckboxColumn("Lệch · conflict", help="Các nguồn nêu giá trị khác nhau · "
                                                                        "the sources give different values"),
    "consensus": st.column_config.NumberColumn("Đồng thuận · consensus", format="%.2f"),
})
ids = view["finding_id"].tolist()
extra = {"sources": view["sources"].tolist(), "conflict": view["conflict"].tolist()}
appstate.csv_download(lambda: appstate.findings_by_ids(db, ids, extra), "parlens-figures.csv", key="dl_figures")

st.subheader("Đối chiếu giữa các nguồn · Reconciled across sources", anchor=False)
st.caption("Mỗi đơn vị, chỉ số và năm: giá trị được nhiều nguồn nêu nhất (trung vị khi ngang nhau), số nguồn "
           "(bài đăng lại tính một lần) và các giá trị lệch nhau · Per unit, metric and year: the value most "
           "sources give (the median on a tie), the number of sources (copies once) and any disagreement.")
reconciled = appstate.view("reconciled_figures", db, ver)
only_conflicts = st.toggle("Chỉ số liệu lệch nhau · Only disagreements", key="fig_conflicts",
                           value=bool(reconciled["conflict"].any()))
shown_rec = reconciled[reconciled["conflict"]] if only_conflicts else reconciled
appstate.dataframe(shown_rec.drop(columns=["unit_key"]), column_config={
    "consensus": st.column_config.NumberColumn("Đồng thuận · consensus", format="%.2f"),
    "year": st.column_config.NumberColumn("year", format="%d"),
    "sources": st.column_config.NumberColumn("Số nguồn · sources"),
    "conflict": st.column_config.CheckboxColumn("Lệch · conflict"),
    "values": st.column_config.TextColumn("Giá trị ← nguồn · values ← sources", width="large"),
}, key="fig_reconciled")
appstate.csv_download(shown_rec, "parlens-figures-reconciled.csv", key="dl_reconciled")
disagree = appstate.view("disagreements", db, ver)
if not disagree.empty:
    st.markdown("#### Nguồn của từng giá trị lệch · Each disagreeing value and its source")
    appstate.dataframe(disagree.drop(columns=["finding_id", "site", "title", "published"]), column_config={
        "value": st.column_config.NumberColumn("value", format="%.2f"),
        "consensus": st.column_config.NumberColumn("consensus", format="%.2f"),
        "year": st.column_config.NumberColumn("year", format="%d"),
        "citation": st.column_config.TextColumn("Nguồn · citation", width="large"),
        "link": st.column_config.LinkColumn("Câu nguồn · sentence", display_text="Mở · open"),
        "text": st.column_config.TextColumn("text", width="medium"),
    }, key="fig_disagreements")
    appstate.csv_download(disagree, "parlens-figures-disagreements.csv", key="dl_disagreements")

