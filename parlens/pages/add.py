"""Add documents: upload files or paste text; each is analysed into the store with a progress bar."""
import hashlib
import json
import re
import tempfile
from datetime import date
from pathlib import Path

import streamlit as st

from corpus.reader import gzip_problem
from parlens import appstate, views

MAX_MB = 20
MAX_EXPANDED_MB = 200   # a .jsonl.gz upload may hold at most this much text once decompressed
DOCS_PAGE = "parlens/pages/documents.py"

db = appstate.db_path()
appstate.header("Thêm văn bản · Add documents",
                "Tải tệp .txt, .html, .jsonl lên hoặc dán nội dung bài viết; văn bản được phân tích và thêm vào kho · "
                "Upload .txt, .html or .jsonl files, or paste an article; it is analysed and added to the store.")


def _safe_name(name: str) -> str:
    stem = Path(name).name
    stem = re.sub(r"[^\w.\-]+", "_", stem, flags=re.UNICODE).strip("._") or "document"
    return stem[:120]


def _check(name: str, data: bytes) -> str | None:
    """Why a file cannot be added, or None."""
    lower = name.lower()
    if not lower.endswith((".txt", ".html", ".htm", ".jsonl", ".jsonl.gz")):
        return "không hỗ trợ loại tệp này · unsupported file type: use .txt, .html/.htm, .jsonl or .jsonl.gz"
    if len(data) > MAX_MB * 1024 * 1024:
        return f"tệp {len(data) / 2**20:.1f} MB, vượt giới hạn {MAX_MB} MB · over the {MAX_MB} MB limit per file"
    if not data.strip():
        return "tệp rỗng · the file is empty"
    if lower.endswith(".gz"):
        if not data.startswith(b"\x1f\x8b"):
            return "không phải tệp gzip · not a gzip file"
        problem = gzip_problem(data, MAX_EXPANDED_MB * 1024 * 1024)
        return f"tệp nén không đọc được · {problem}" if problem else None
    head = data[:200_000]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a cut multi-byte character at the end is fine
            return "không phải văn bản UTF-8 · not UTF-8 text; save it as UTF-8 first"
    if b"\x00" in head:
        return "tệp nhị phân · looks like a binary file"
    if lower.endswith(".jsonl"):
        first = next((ln for ln in head.splitlines() if ln.strip()), b"")
        if not first.lstrip().startswith(b"{"):
            return "mỗi dòng JSONL phải là một đối tượng JSON có trường `text` · each JSONL line must be a JSON object"
    return None


def _ingest(files: list[tuple[str, bytes]]) -> None:
    """Ingest (display name, bytes) pairs, one file at a time, reporting per file."""
    results = []
    with tempfile.TemporaryDirectory(prefix="parlens-upload-") as tmp:
        staged = []
        for i, (name, data) in enumerate(files):
            problem = _check(name, data)
            if problem:
                results.append({"name": name, "status": "error", "errors": [problem], "doc_ids": [],
                                "skipped": []})
                continue
            folder = Path(tmp) / str(i)      # two uploads with one name must not overwrite each other
            folder.mkdir()
            path = folder / _safe_name(name)
            path.write_bytes(data)
            staged.append((name, path))
        if staged:
            total = appstate.count_inputs([p for _, p in staged])
            bar = st.progress(0.0, text="Đang phân tích · Analysing…")
            done_before = 0
            for name, path in staged:
                seen: list[tuple[str, str]] = []

                def on_progress(done: int, doc_id: str, status: str, base=done_before, seen=seen) -> None:
                    seen.append((doc_id, status))
                    bar.progress(min((base + done) / total, 1.0),
                                 text=f"Đang phân tích · Analysing {base + done}/{total}: {name}")

                try:
                    summary = appstate.ingest_paths(db, [path], on_progress)
                except Exception as exc:  # one broken file must not stop the others
                    results.append({"name": name, "status": "error", "doc_ids": [], "skipped": [],
                                    "errors": [f"{exc.__class__.__name__}: {exc}"]})
                    continue
                done_before += len(seen)
                errors = [e.replace(str(path), name).replace(str(path.parent) + "/", "") for e in summary.errors]
                doc_ids = [d for d, st_ in seen if st_ not in ("failed", "skipped")]
                skipped = [d for d, st_ in seen if st_ == "skipped"]
                if summary.added or summary.replaced:
                    status = "ok"
                elif summary.unchanged and not summary.failed:
                    status = "unchanged"
                elif skipped and not summary.failed:
                    status = "skipped"
                else:
                    status = "error"
                if status == "error" and not errors:
                    errors = [summary.describe()]
                results.append({"name": name, "status": status, "errors": errors, "doc_ids": doc_ids,
                                "skipped": _skip_reasons(skipped), "summary": summary.describe()})
            bar.progress(1.0, text="Đang tạo vectơ ngữ nghĩa · Embedding new findings…")
            appstate.embed_missing(db, lambda d, t: bar.progress(min(d / max(t, 1), 1.0),
                                                                 text=f"Đang tạo vectơ · Embedding {d}/{t}"))
            bar.progress(1.0, text="Đang gom nhóm chủ đề · Regrouping themes…")
            appstate.run_jobs(db)
            bar.empty()
            appstate.clear_caches()
    st.session_state["add_results"] = results


def _skip_reasons(doc_ids: list[str]) -> list[tuple[str, str]]:
    if not doc_ids:
        return []
    from contextlib import closing

    from corpus import store
    with closing(appstate.connect_ro(db)) as conn:
        reasons = store.skip_reasons(conn, doc_ids)
    return [(d, reasons.get(d, "")) for d in doc_ids]


def _show_results() -> None:
    for r in st.session_state.get("add_results", []):
        name = views.md(r["name"])
        if r["status"] == "ok":
            st.success(f"**{name}**: đã thêm · added {len(r['doc_ids'])} văn bản · document(s)",
                       icon=":material/check_circle:")
            with st.container(horizontal=True):
                for d in r["doc_ids"][:12]:
                    st.page_link(DOCS_PAGE, label=f"Mở · Open {views.md(d)}", query_params={"doc": d},
                                 icon=":material/article:")
        elif r["status"] == "unchanged":
            st.info(f"**{name}**: đã có trong kho, không đổi · already in the store, unchanged")
        elif r["status"] == "skipped":
            st.warning(f"**{name}**: bỏ qua vì không nói về cải cách hành chính · skipped as not about "
                       "administrative reform")
        else:
            st.error(f"**{name}**: không thêm được · could not be added", icon=":material/error:")
        for d, reason in r.get("skipped", []):
            if r["status"] != "skipped" or reason:
                st.caption(f"Bỏ qua · skipped {views.md(d)}: {views.md(reason) or 'không liên quan · not relevant'}")
        for err in r["errors"]:
            st.caption(f"⚠ {views.md(err)}")


upload_tab, paste_tab = st.tabs(["Tải tệp · Upload files", "Dán văn bản · Paste text"])

with upload_tab:
    files = st.file_uploader(
        f"Tệp .txt, .html, .jsonl (tối đa {MAX_MB} MB mỗi tệp) · files, up to {MAX_MB} MB each",
        accept_multiple_files=True, key="uploads", max_upload_size=MAX_MB,
        help="Loại tệp được kiểm tra khi thêm; tệp sai loại được báo riêng · "
             "File types are checked when adding; each rejected file is reported.")
    st.caption("JSONL: mỗi dòng một đối tượng với `text` và tùy chọn `id`, `title`, `url`, `date` · "
               "one object per line with `text` and optional `id`, `title`, `url`, `date`.")
    if st.button("Thêm vào kho · Add to the store", type="primary", key="add_files", disabled=not files,
                 icon=":material/add:"):
        _ingest([(f.name, f.getvalue()) for f in files])

with paste_tab:
    title = st.text_input("Tiêu đề · Title", key="paste_title")
    with st.container(horizontal=True):
        published = st.date_input("Ngày đăng · Published", value=None, key="paste_date", format="DD/MM/YYYY",
                                  min_value=date(2000, 1, 1), width=220)
        url = st.text_input("Địa chỉ nguồn · Source URL", key="paste_url")
    text = st.text_area("Nội dung · Text", height=260, key="paste_text",
                        placeholder="Dán nội dung bài viết về cải cách hành chính · Paste the article text here")
    if st.button("Thêm vào kho · Add to the store", type="primary", key="add_paste", disabled=not text.strip(),
                 icon=":material/add:"):
        digest = hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:12]
        record = {"id": f"pasted-{digest}", "text": text.strip()}
        if title.strip():
            record["title"] = title.strip()
        if published:
            record["date"] = published.isoformat()
        if url.strip():
            record["url"] = url.strip()
        _ingest([(f"pasted-{digest}.jsonl", (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))])

_show_results()

st.divider()
st.subheader("Mới thêm gần đây · Recently added", anchor=False)
recent = appstate.view("recent_documents", str(db), appstate.version(db), 10)
appstate.dataframe(recent, column_config={"title": st.column_config.TextColumn("title", width="large")})
appstate.csv_download(recent, "parlens-recent-documents.csv", key="dl_recent")
