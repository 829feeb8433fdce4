"""Units: a unit's profile (figures over time, weaknesses and causes, remedies, who spoke) and a map."""
import math

import altair as alt
import pandas as pd
import streamlit as st

from parlens import appstate, views

db = str(appstate.db_path())
ver = appstate.version(db)
appstate.header("Đơn vị · Units",
                "Hồ sơ từng tỉnh, huyện, xã, sở ngành: số liệu qua các năm, hạn chế, giải pháp và người phát biểu · "
                "Profiles of provinces, districts, communes and departments, and a map.")

units = appstate.view("units_table", db, ver)
if units.empty:
    st.info("Chưa có đơn vị nào · No units yet.")
    st.stop()

keys = units["unit_key"].tolist()


def _label(r: dict) -> str:
    level = views.unit_type_label(r["unit_type"]).split(" · ")[0]
    prov = r["province"] if isinstance(r["province"], str) and r["province"] != r["unit"] else ""
    return f"{r['unit']} — {level}" + (f", {prov}" if prov else "")


labels = {r["unit_key"]: _label(r) for r in units.to_dict("records")}
wanted = st.query_params.get("unit")
if (wanted in keys and st.session_state.get("_unit_from_url") != wanted
        and st.session_state.get("_shared_unit") != wanted):      # a link brought here, not our own URL
    st.session_state["unit_key"] = wanted
    st.session_state["_unit_from_url"] = wanted

profile_tab, map_tab, list_tab = st.tabs(["Hồ sơ đơn vị · Unit profile", "Bản đồ · Map",
                                          f"Danh sách · All units ({len(units)})"])

with profile_tab:
    key = st.selectbox("Đơn vị · Unit", keys, format_func=lambda k: labels.get(k, k), key="unit_key", width=520)
    appstate.share_link({"unit": key})
    prof = appstate.view("unit_profile", db, ver, key)
    u = prof["unit"]
    st.subheader(views.md(u["unit"] or key), anchor=False)
    st.html(appstate.chips([(views.unit_type_label(u["unit_type"]), None), (u["province"] or "", None),
                            (f"mã · code {u['unit_code']}" if u["unit_code"] else "", None)]))
    with st.container(horizontal=True):
        st.metric("Số liệu · Figures", len(prof["figures"]), border=True)
        st.metric("Hạn chế & nguyên nhân · Problems", len(prof["problems"]), border=True)
        st.metric("Giải pháp · Remedies", len(prof["remedies"]), border=True)
        st.metric("Văn bản · Documents", u["documents"], border=True)

    st.markdown("#### Số liệu qua các năm · Figures over time")
    series = prof["series"]
    if not series.empty:
        chart = alt.Chart(series).mark_line(point=alt.OverlayMarkDef(size=70)).encode(
            x=alt.X("year:O", title="Năm · Year", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title="Giá trị · Value (%)", scale=alt.Scale(zero=False)),
            color=alt.Color("metric_label:N", title="Chỉ số · Metric",
                            legend=alt.Legend(orient="bottom", labelLimit=400)),
            tooltip=[alt.Tooltip("metric_label:N", title="Chỉ số"), alt.Tooltip("year:O", title="Năm"),
                     alt.Tooltip("value:Q", title="Giá trị", format=".2f")],
        ).properties(height=260)
        st.altair_chart(chart, width="stretch")
    if prof["figures"].empty:
        st.caption("Không có số liệu · No figures for this unit.")
    else:
        appstate.dataframe(prof["figures"].drop(columns=["finding_id"]), column_config={
            "value": st.column_config.NumberColumn("value", format="%.2f"),
            "year": st.column_config.NumberColumn("year", format="%d"),
            "text": st.column_config.TextColumn("text", width="large")}, key="unit_figures")
        fig_ids = prof["figures"]["finding_id"].tolist()
        appstate.csv_download(lambda: appstate.findings_by_ids(db, fig_ids), "parlens-unit-figures.csv",
                              key="dl_unit_figures")

    statement_cols = {"kind": st.column_config.TextColumn("kind", width="small"),
                      "text": st.column_config.TextColumn("text", width="large"),
                      "title": st.column_config.TextColumn("title", width="medium")}
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("#### Hạn chế & nguyên nhân · Weaknesses & causes")
        problems = prof["problems"]
        if problems.empty:
            st.caption("Không có · None.")
        else:
            shown_p = problems.drop(columns=["finding_id"]).assign(kind=problems["kind"].map(views.kind_short))
            appstate.dataframe(shown_p, column_config=statement_cols)
            ids_p = problems["finding_id"].tolist()
            appstate.csv_download(lambda: appstate.findings_by_ids(db, ids_p), "parlens-unit-problems.csv",
                                  key="dl_unit_problems")
    with right:
        st.markdown("#### Giải pháp đã hứa · Remedies promised")
        remedies = prof["remedies"]
        if remedies.empty:
            st.caption("Không có · None.")
        else:
            appstate.dataframe(remedies.drop(columns=["finding_id", "subtype", "kind"]),
                         column_config=statement_cols)
            ids_r = remedies["finding_id"].tolist()
            appstate.csv_download(lambda: appstate.findings_by_ids(db, ids_r), "parlens-unit-remedies.csv",
                                  key="dl_unit_remedies")

    st.markdown("#### Ai phát biểu · Who spoke")
    speakers = prof["speakers"]
    if speakers.empty:
        st.caption("Không có người phát biểu được ghi nhận · No attributed speakers.")
    else:
        appstate.dataframe(speakers)
        appstate.csv_download(speakers, "parlens-unit-speakers.csv", key="dl_unit_speakers")

with map_tab:
    points = appstate.get_gazetteer_points(db, ver)
    if points.empty:
        st.info("Chưa có đơn vị hành chính có tọa độ · No territorial units with coordinates yet.")
    else:
        scored = points["par_value"].dropna()
        st.caption("Màu theo điểm Chỉ số CCHC gần nhất (đỏ: thấp, xanh: cao; xám: chưa có điểm) · "
                   "Coloured by the latest PAR Index figure (red low, green high, grey none). "
                   + (f"Thang · Scale: {scored.min():.2f}–{scored.max():.2f}%." if len(scored) else ""))
        level_filter = st.pills("Cấp · Level", ["province", "district", "ward"], selection_mode="multi",
                                default=["province", "district", "ward"], format_func=views.unit_type_label,
                                key="map_levels")
        shown = points[points["unit_type"].isin(level_filter or [])]
        whole = st.toggle("Toàn quốc · Whole country", key="map_whole")
        bounds = views.map_bounds(points.iloc[0:0] if whole else shown)
        lon0, lon1, lat0, lat1 = bounds
        backdrop = appstate.view_plain("map_background", bounds)
        data = shown.assign(par_text=[f"{v:.2f}% ({y})" if pd.notna(v) else "chưa có điểm · no figure"
                                      for v, y in zip(shown["par_value"], shown["par_year"])],
                            size=shown["unit_type"].map({"province": 520, "district": 260, "ward": 140}))
        data = data.drop(columns=["color"]).astype({"par_year": "object"})
        x = alt.X("lon:Q", scale=alt.Scale(domain=[lon0, lon1], nice=False), axis=None)
        y = alt.Y("lat:Q", scale=alt.Scale(domain=[lat0, lat1], nice=False), axis=None)
        ghost = alt.Chart(backdrop).mark_circle(size=14, color="#cbd5e1", clip=True).encode(
            x=x, y=y, tooltip=[alt.Tooltip("name:N", title="")])
        ghost_labels = alt.Chart(backdrop[backdrop["level"] == "province"]).mark_text(
            fontSize=10, color="#94a3b8", dy=-8, clip=True).encode(x=x, y=y, text="name:N")
        tooltip = [alt.Tooltip("unit:N", title="Đơn vị · Unit"), alt.Tooltip("level:N", title="Cấp · Level"),
                   alt.Tooltip("par_text:N", title="Chỉ số CCHC · PAR"),
                   alt.Tooltip("findings:Q", title="Phát hiện · Findings")]
        scored_pts = alt.Chart(data[data["par_value"].notna()]).mark_circle(
            opacity=.95, stroke="white", strokeWidth=1.2, clip=True).encode(
            x=x, y=y, size=alt.Size("size:Q", legend=None, scale=None),
            color=alt.Color("par_value:Q", title="PAR (%)", scale=alt.Scale(scheme="redyellowgreen"),
                            legend=alt.Legend(orient="right", gradientLength=160)),
            tooltip=tooltip)
        unscored = alt.Chart(data[data["par_value"].isna()]).mark_circle(
            color="#94a3b8", opacity=.85, stroke="white", strokeWidth=1, clip=True).encode(
            x=x, y=y, size=alt.Size("size:Q", legend=None, scale=None), tooltip=tooltip)
        names = alt.Chart(data).mark_text(fontSize=12, fontWeight=600, color="#1e293b", align="left",
                                          dx=9, dy=-2, clip=True).encode(x=x, y=y, text="unit:N")
        mid_lat = (lat0 + lat1) / 2
        aspect = (lat1 - lat0) / max((lon1 - lon0) * math.cos(math.radians(mid_lat)), 1e-6)
        width = 820
        chart = (ghost + ghost_labels + unscored + scored_pts + names).properties(
            width=width, height=int(min(max(width * aspect, 320), 900))).configure_view(
            stroke="#e2e8f0", fill="#f8fafc")
        st.altair_chart(chart.interactive(), width="content")
        appstate.dataframe(shown.drop(columns=["color", "radius", "label"]), column_config={
            "par_value": st.column_config.NumberColumn("par_value", format="%.2f"),
            "par_year": st.column_config.NumberColumn("par_year", format="%d")})
        appstate.csv_download(shown.drop(columns=["color", "radius"]), "parlens-map-units.csv", key="dl_map")

with list_tab:
    appstate.dataframe(units)
    appstate.csv_download(units, "parlens-units.csv", key="dl_units")
