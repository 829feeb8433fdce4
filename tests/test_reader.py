"""Each input format, and every kind of bad input, read without losing the good parts."""
import gzip
import json
import os
from pathlib import Path


from corpus.reader import MAX_FILE_BYTES, RawDocument, ReadError, iter_documents

TEXT = "Huyện An Dương\nChỉ số cải cách hành chính năm 2016 của huyện An Dương đạt 71,5%."


def read(*paths):
    items = list(iter_documents([Path(p) for p in paths]))
    return [i for i in items if isinstance(i, RawDocument)], [i for i in items if isinstance(i, ReadError)]


def test_txt_id_is_the_file_stem(tmp_path):
    (tmp_path / "22413696.txt").write_text(TEXT, encoding="utf-8")
    docs, errors = read(tmp_path / "22413696.txt")
    assert not errors and docs[0].doc_id == "22413696" and docs[0].text == TEXT


def test_html_main_text_without_scripts(tmp_path):
    html = f"""<html><head><title>CCHC ở An Dương</title><style>p {{color:red}}</style>
    <script>alert('xss')</script></head><body><nav>Trang chủ | Liên hệ</nav>
    <article><h1>CCHC ở An Dương</h1><p>{TEXT.splitlines()[1]}</p>
    <p>Công tác tuyên truyền về cải cách hành chính còn hạn chế, chưa huy động được người dân tham gia.</p>
    <iframe src="http://example.invalid/x"></iframe></article></body></html>"""
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    docs, errors = read(tmp_path / "page.html")
    assert not errors
    assert "71,5%" in docs[0].text and "tuyên truyền" in docs[0].text
    assert "alert" not in docs[0].text and "color:red" not in docs[0].text and "iframe" not in docs[0].text
    assert docs[0].title == "CCHC ở An Dương"


def test_jsonl_and_gzip(tmp_path):
    rows = [{"id": "a1", "title": "T1", "text": TEXT, "url": "https://baohaiphong.vn/x", "date": "2017-07-11"},
            {"id": "a2", "text": "Sở Nội vụ tỉnh Nghệ An đạt 80%."}]
    plain = tmp_path / "docs.jsonl"
    plain.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    with gzip.open(tmp_path / "docs2.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "b1", "text": TEXT}, ensure_ascii=False) + "\n")
    docs, errors = read(tmp_path)
    assert not errors
    assert [d.doc_id for d in docs] == ["a1", "a2", "b1"]
    assert docs[0].url == "https://baohaiphong.vn/x" and docs[0].published == "2017-07-11"


def test_directories_are_recursive_and_skip_other_files(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "a" / "notes.py").write_text("print(1)", encoding="utf-8")
    docs, errors = read(tmp_path)
    assert [d.doc_id for d in docs] == ["deep"] and not errors


def test_malformed_jsonl_lines_are_reported_by_number(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([
        json.dumps({"id": "ok1", "text": TEXT}, ensure_ascii=False),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"id": "notext"}),
        json.dumps({"id": "ok2", "text": TEXT}, ensure_ascii=False),
    ]), encoding="utf-8")
    docs, errors = read(path)
    assert [d.doc_id for d in docs] == ["ok1", "ok2"]
    assert [e.source.rsplit(":", 1)[1] for e in errors] == ["2", "3", "4"]
    assert "not valid JSON" in errors[0].message and "`text`" in errors[2].message


def test_truncated_gzip_keeps_lines_before_the_break(tmp_path):
    payload = gzip.compress("\n".join(json.dumps({"id": f"d{i}", "text": TEXT * 20}, ensure_ascii=False)
                                      for i in range(200)).encode("utf-8"))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(payload[: len(payload) // 2])
    docs, errors = read(path)
    assert 0 < len(docs) < 200
    assert len(errors) == 1 and "truncated or corrupt" in errors[0].message and str(path) in errors[0].source


def test_not_utf8_empty_unsupported_and_missing(tmp_path):
    (tmp_path / "latin.txt").write_bytes("Hu\xe1n".encode("latin-1") + b"\xff\xfe\xfa")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.4")
    docs, errors = read(tmp_path / "latin.txt", tmp_path / "empty.txt", tmp_path / "doc.pdf", tmp_path / "nope.txt")
    assert not docs
    messages = " | ".join(str(e) for e in errors)
    assert "not UTF-8" in messages and "empty document" in messages
    assert "unsupported file type" in messages and "no such file" in messages


def test_oversized_file_is_refused_with_a_message(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    docs, errors = read(big)
    assert not docs and "over the 50 MB limit" in errors[0].message


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text(TEXT, encoding="utf-8")
    import corpus.reader

    real = corpus.reader.open_regular

    def deny(p):
        if Path(p).name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real(p)

    monkeypatch.setattr(corpus.reader, "open_regular", deny)
    docs, errors = read(path)
    assert not docs and errors[0].message == "permission denied" and "locked.txt" in errors[0].source


def test_symlink_loop_is_cut(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "one.txt").write_text(TEXT, encoding="utf-8")
    os.symlink(tmp_path / "d", tmp_path / "d" / "loop")
    docs, errors = read(tmp_path)
    assert [d.doc_id for d in docs] == ["one"]
    assert any("symlink loop" in e.message for e in errors)
