"""Sessions: one questioning or supervision session at a time — who asked (delegate, constituency),
who answered (official, unit), question → answer pairs with their findings, and the promises made."""
import streamlit as st

from parlens import appstate, views

DOCS_PAGE = "parlens/pages/documents.py"

db = str(appstate.db_path())
ver = appstate.version(db)
appstate.header("Phiên chất vấn · Sessions",
                "Phiên chất vấn, giám sát của HĐND, Quốc hội: ai hỏi, ai trả lời, hỏi gì, đáp gì, hứa gì · "
                "Questioning and supervision sessions: who asked, who answered, and what was promised.")

sessions = appstate.view("sessions_table", db, ver)
if sessions.empty:
    st.info("Chưa có văn bản phiên họp nào · No session reports or transcripts yet.")
    st.stop()

ids = sessions["doc_id"].tolist()
labels = {r["doc_id"]: f"{r['title'] or r['doc_id']} ({views.date_text(r['published']) or 'không rõ ngày'})"
          for r in sessions.to_dict("records")}
appstate.from_url("session_doc", "doc", ids)
with st.expander(f"Tất cả phiên · All sessions ({len(sessions)})", expanded=False):
    appstate.dataframe(sessions, column_config={"title": st.column_config.TextColumn("title", width="large")},
                       key="sessions_all")
    appstate.csv_download(sessions, "parlens-sessions.csv", key="dl_sessions")
doc_id = st.selectbox("Phiên · Session", ids, key="session_doc", format_func=lambda d: labels.get(d, d))
appstate.share_link({"doc": doc_id})

view = appstate.view("session_view", db, ver, doc_id)
if view is None:
    st.error("Không tìm thấy văn bản · Document not found.")
    st.stop()
doc = view["doc"]
st.subheader(views.md(doc["title"] or doc_id), anchor=False)
st.caption(f"Trích dẫn · Cite: {views.md(doc['citation'])}")
st.page_link(DOCS_PAGE, label="Đọc toàn văn · Read the document", query_params={"doc": doc_id},
             icon=":material/article:")

participants, pairs, promises = view["participants"], view["pairs"], view["promises"]
with st.container(horizontal=True):
    st.metric("Câu hỏi · Questions", int((participants["stance"] == views.STANCE_LABELS["asking"]).sum()),
              border=True)
    st.metric("Trả lời · Answers", int((participants["stance"] == views.STANCE_LABELS["answering"]).sum()),
              border=True)
    st.metric("Lời hứa · Promises", len(promises), border=True)
    st.metric("Phát hiện · Findings", len(view["findings"]), border=True)

st.markdown("#### Người phát biểu · Speakers")
if participants.empty:
    st.caption("Không nhận ra lượt phát biểu · No speaking turns recognised in this document.")
else:
    appstate.dataframe(participants, column_config={
        "turn": st.column_config.NumberColumn("Lượt · turn", format="%d"),
        "answers_turn": st.column_config.NumberColumn("Trả lời lượt · answers turn", format="%d"),
        "constituency": st.column_config.TextColumn("Đơn vị, đơn vị bầu cử · unit or constituency")},
        key="session_participants")

st.markdown("#### Hỏi → đáp · Question → answer")
if pairs.empty:
    st.caption("Không có cặp hỏi đáp · No question → answer pairs.")
for i, p in enumerate(pairs.to_dict("records")):
    with st.container(border=True):
        asker = " — ".join(x for x in (p["asker"], p["asker_constituency"]) if isinstance(x, str) and x)
        st.markdown(f"**Hỏi · Q** (lượt · turn {p['question_turn']}) {views.md(asker)}")
        st.caption(views.md(p["question"]) or "–")
        if p["answerer"] is None or p["answerer"] != p["answerer"]:
            st.caption("Chưa thấy trả lời · No answer recorded.")
            continue
        answerer = " — ".join(x for x in (p["answerer"], p["answerer_role"], p["answerer_unit"])
                              if isinstance(x, str) and x)
        st.markdown(f"**Đáp · A** (lượt · turn {p['answer_turn']}) {views.md(answerer)}")
        st.caption(views.md(p["answer"]) or "–")
        if p["promises"]:
            st.success(f"Hứa · Promised: {views.md(p['promises'])}", icon=":material/handshake:")
appstate.csv_download(pairs, f"parlens-session-{doc_id}-pairs.csv", key="dl_session_pairs",
                      label="Tải CSV hỏi đáp · Question → answer CSV")

st.markdown("#### Lời hứa · Promises made")
if promises.empty:
    st.caption("Không có · None.")
else:
    appstate.dataframe(promises[["turn", "speaker", "speaker_role", "speaker_unit", "text", "citation", "link"]],
                       column_config={"text": st.column_config.TextColumn("Giải pháp · remedy", width="large"),
                                      "turn": st.column_config.NumberColumn("Lượt · turn", format="%d"),
                                      "citation": st.column_config.TextColumn("Nguồn · source", width="medium"),
                                      "link": st.column_config.LinkColumn("Câu nguồn · sentence",
                                                                          display_text="Mở · open")},
                       key="session_promises")
    promise_ids = promises["finding_id"].tolist()
    appstate.csv_download(lambda: appstate.findings_by_ids(db, promise_ids), f"parlens-session-{doc_id}-promises.csv",
                          key="dl_session_promises", label="Tải CSV lời hứa · Promises CSV")

st.markdown("#### Mọi phát hiện theo lượt · Every finding by turn")
findings = view["findings"]
appstate.dataframe(findings.drop(columns=["finding_id", "sentence"]).assign(kind=findings["kind"].map(views.kind_short)),
                   column_config={"text": st.column_config.TextColumn("text", width="large"),
                                  "turn": st.column_config.NumberColumn("Lượt · turn", format="%d"),
                                  "answers_turn": st.column_config.NumberColumn("Trả lời lượt · answers", format="%d"),
                                  "year": st.column_config.NumberColumn("year", format="%d"),
                                  "link": st.column_config.LinkColumn("Câu nguồn · sentence", display_text="Mở · open")},
                   key="session_findings")
finding_ids = findings["finding_id"].tolist()
appstate.csv_download(lambda: appstate.findings_by_ids(db, finding_ids, {
    "answers_turn": findings["answers_turn"].tolist(), "citation": findings["citation"].tolist()}),
    f"parlens-session-{doc_id}.csv", key="dl_session_findings")
