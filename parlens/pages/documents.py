"""Documents: the list, and a reader with findings and entities highlighted."""

import streamlit as st

from parlens import appstate, views

db = str(appstate.db_path())
ver = appstate.version(db)
appstate.header("Văn bản · Documents",
                "Danh sách văn bản trong kho và trình đọc có tô sáng phát hiện, thực thể · "
                "Every document in the store, and a reader with findings and entities highlighted.")

docs = appstate.view("documents_table", db, ver)
if docs.empty:
    st.info("Kho chưa có văn bản · The store has no documents yet.")
    st.stop()

ids = docs["doc_id"].tolist()
labels = {r["doc_id"]: f"{r['title'] or r['doc_id']}  ({r['published'] or 'không rõ ngày'})"
          for r in docs.to_dict("records")}
wanted = st.query_params.get("doc")
from_url = wanted in ids
if from_url and st.session_state.get("_doc_from_url") != wanted:
    st.session_state["doc"] = wanted
    st.session_state["_doc_from_url"] = wanted

counts = appstate.view("document_counts", db, ver)
with st.expander(f"Tất cả văn bản · All documents ({len(docs)})", expanded=not from_url):
    st.caption(views.md(views.counts_text(counts)))
    appstate.dataframe(docs, column_config={
        "title": st.column_config.TextColumn("title", width="large"),
        "url": st.column_config.LinkColumn("url"),
    })
    appstate.csv_download(docs, "parlens-documents.csv", key="dl_docs")

doc_id = st.selectbox("Văn bản · Document", ids, key="doc", format_func=lambda d: labels.get(d, d))


if doc_id != wanted:
    # the reader shows another document now: the URL names it (a shareable link), and the URL's
    # finding no longer applies
    st.query_params.pop("f", None)
    st.query_params["doc"] = doc_id
    st.session_state["_doc_from_url"] = doc_id

doc = appstate.view("document", db, ver, doc_id)
if doc is None:
    st.error("Không tìm thấy văn bản · Document not found.")
    st.stop()

focus = None
if st.query_params.get("f") and st.query_params.get("doc") == doc_id:
    try:
        focus = int(st.query_params.get("f"))
    except ValueError:
        focus = None

st.subheader(views.md(doc["title"] or doc["id"]), anchor=False)
meta = [(doc.get("published") or "không rõ ngày · undated", None),
        (views.DOC_TYPE_LABELS.get(doc.get("doc_type"), doc.get("doc_type") or ""), None),
        (doc.get("site") or "", None), (f"id: {doc['id']}", None)]
kind_counts = {}
for f in doc["findings"]:
    kind_counts[f["kind"]] = kind_counts.get(f["kind"], 0) + 1
meta += [(f"{views.kind_short(k)} {kind_counts[k]}", views.kind_colour(k)) for k in views.kinds()
         if kind_counts.get(k)]
st.html(f"<div>{appstate.chips(meta)}</div>")
if doc.get("url"):
    st.caption(f"Nguồn · Source: {views.md(doc['url'])}")
if doc.get("status") == "skipped":
    st.warning(f"Văn bản bị bỏ qua · Skipped: {views.md(doc.get('skip_reason'))}")

present = sorted({e["label"] for e in doc["entities"]})
pick_kinds, pick_entities = st.columns([1, 1], gap="large")
with pick_kinds:
    kinds = st.pills("Tô sáng phát hiện · Highlight findings", list(views.kinds()), selection_mode="multi",
                     default=list(views.kinds()), format_func=views.kind_label, key="hl_kinds")
with pick_entities:
    labels_shown = st.pills("Thực thể · Entities", present, selection_mode="multi",
                            default=[lab for lab in present if lab not in ("NUMBER", "DATE")],
                            format_func=lambda lab: views.ENTITY_LABELS.get(lab, lab.lower()),
                            key=f"hl_entities_{'-'.join(present)}")
focus_finding = next((f for f in doc["findings"] if f["id"] == focus), None)
if focus_finding is not None:
    st.info(f"Phát hiện được chọn (viền xanh) · Selected finding (blue outline): "
            f"{views.kind_label(focus_finding['kind'])} — “{views.md(focus_finding['text'])}”")
st.html(views.legend_html(kinds or [], labels_shown or []))
st.html(views.render_document(doc, kinds=kinds or [], entity_labels=labels_shown or [], focus=focus))
if focus_finding is not None:
    # our own static script (the id is an integer), never document text: bring the finding into view
    st.html(f"<script>setTimeout(function(){{var e=document.getElementById('f{int(focus)}');"
            f"if(e)e.scrollIntoView({{block:'center'}});}},300);</script>", unsafe_allow_javascript=True)

st.divider()
st.subheader("Phát hiện trong văn bản · Findings in this document", anchor=False)
table = appstate.view("findings_table", db, ver, None, None, None, doc_id)
appstate.dataframe(table, column_config={
    "text": st.column_config.TextColumn("text", width="large"),
    "sentence": st.column_config.TextColumn("sentence", width="large"),
})
appstate.csv_download(lambda: table[appstate.FINDINGS_CSV_COLUMNS], f"parlens-findings-{doc_id}.csv",
                      key="dl_doc_findings")
