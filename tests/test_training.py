"""Training data derived from annotated articles, grouped cross-validation and the threshold it picks.

Sentences here were written for the tests, in the style of provincial reports.
"""
from __future__ import annotations

import numpy as np

from nlp.statements import decide, statement_f1
from nlp.training import gold_items, label_for, load_articles

GOLD = {
    "problems": [
        {"quote": "việc giải quyết hồ sơ đất đai tại bộ phận một cửa của huyện còn chậm", "type": "weakness"},
        {"quote": "do đội ngũ công chức địa chính còn thiếu về số lượng", "type": "cause"},
    ],
    "remedies": [{"quote": "huyện sẽ tăng cường kiểm tra đột xuất việc tiếp nhận và trả kết quả hồ sơ"}],
    "unsure": ["người dân còn e ngại khi phản ánh"],
}


def test_a_clause_takes_the_kind_of_the_gold_item_it_covers():
    items = gold_items(GOLD)
    assert label_for("Việc giải quyết hồ sơ đất đai tại bộ phận một cửa của huyện còn chậm", items, []) == "weakness"
    assert label_for("do đội ngũ công chức địa chính còn thiếu về số lượng", items, []) == "cause"
    assert label_for("Thời gian tới, huyện sẽ tăng cường kiểm tra đột xuất việc tiếp nhận và trả kết quả hồ sơ",
                     items, []) == "remedy"


def test_narration_is_none_and_fragments_or_unsure_are_left_out():
    items = gold_items(GOLD)
    unsure = [set("nguoi dan con e ngai khi phan anh".split())]
    assert label_for("Sáng 12/6, đoàn công tác của tỉnh đã làm việc với lãnh đạo huyện", items, unsure) == "none"
    assert label_for("tại bộ phận một cửa", items, unsure) is None          # a piece of the weakness
    assert label_for("Người dân còn e ngại khi phản ánh", items, unsure) is None


def test_decide_keeps_a_kind_only_above_the_threshold():
    classes = ["cause", "none", "remedy", "weakness"]
    probs = np.array([[0.1, 0.3, 0.5, 0.1], [0.05, 0.7, 0.15, 0.1], [0.35, 0.3, 0.05, 0.3],
                      [0.3, 0.4, 0.05, 0.25]])
    assert decide(classes, probs, 0.5) == ["remedy", "none", "cause", "none"]   # 0.3 < P(none) 0.4: none
    assert decide(classes, probs, 0.69) == ["remedy", "none", "cause", "none"]
    assert decide(classes, probs, 0.71) == ["none", "none", "none", "none"]
    assert statement_f1(["remedy", "none", "weakness"], ["remedy", "none", "cause"]) == 0.5


def test_bundled_training_articles_are_kept_apart_from_evaluation():
    from conftest import SHARED

    articles = load_articles()
    assert len(articles) >= 60
    ids = {a.doc_id for a in articles}
    heldout = SHARED / "eval" / "heldout.txt"
    if heldout.exists():
        banned = {ln.strip() for ln in heldout.read_text().splitlines() if ln.strip() and not ln.startswith("#")}
        banned |= {p.stem for p in (SHARED / "eval" / "dev").glob("*.txt")}
        assert not ids & banned
        from nlp.statements import load_training
        assert not {ex["doc_id"].replace("baomoi:", "") for ex in load_training()} & banned
    for a in articles:        # every quote is an exact substring of its text
        for item in a.gold.get("problems", []) + a.gold.get("remedies", []):
            assert item["quote"] in a.text, (a.doc_id, item["quote"])
