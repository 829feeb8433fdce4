"""Training examples derived from exhaustively annotated articles.

The articles under ``nlp/data/training/articles/`` carry gold in the format
of the evaluation guide (problems, remedies, figures, unsure). Each article
is cut into clauses by the same splitter the pipeline uses; a clause takes
the kind of the gold item it would be scored as matching (the scorer's
token-overlap rule), ``none`` when it overlaps no gold item, and is left out
when it only partly covers one (a fragment of a finding) or matches an
``unsure`` quote. So labels have exactly the shape the extractor must learn.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ARTICLES_DIR = "articles"
# how much of a gold quote a clause must cover to be that finding, and how much of the
# clause must lie inside the quote (the evaluation scorer's rule)
COVER_GOLD, INSIDE_GOLD = 0.6, 0.25
FRAGMENT = 0.5   # a clause mostly inside a gold quote but covering too little of it: left out


@dataclass(frozen=True)
class Article:
    doc_id: str
    text: str
    gold: dict


def articles_dir() -> Path:
    return Path(str(resources.files("nlp").joinpath("data", "training", ARTICLES_DIR)))


def load_articles(folder: Path | None = None) -> list[Article]:
    """Every `<id>.txt` with its `<id>.json` gold; a text without gold is an error."""
    folder = folder or articles_dir()
    out = []
    for text_path in sorted(folder.glob("*.txt")):
        gold_path = text_path.with_suffix(".json")
        if not gold_path.exists():
            raise ValueError(f"{text_path}: no gold file {gold_path.name} beside it")
        try:
            gold = json.loads(gold_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{gold_path}: not valid JSON ({exc})") from None
        out.append(Article(text_path.stem, text_path.read_text(encoding="utf-8"), gold))
    return out


def _fold(text: str) -> list[str]:
    """Case- and diacritic-folded word tokens (as the evaluation scorer compares text)."""
    s = unicodedata.normalize("NFD", (text or "").lower()).replace("đ", "d")
    s = "".join(c for c in s if unicodedata.category(c) != "Mn")
    return re.sub(r"[^0-9a-z]+", " ", s).split()


def gold_items(gold: dict) -> list[tuple[str, set[str]]]:
    items = [(p.get("type") or "weakness", set(_fold(p["quote"]))) for p in gold.get("problems", [])]
    items += [("remedy", set(_fold(r["quote"]))) for r in gold.get("remedies", [])]
    return [(k, t) for k, t in items if t]


def label_for(clause_text: str, items: list[tuple[str, set[str]]], unsure: list[set[str]]) -> str | None:
    """The clause's kind, "none", or None when the clause is a fragment or unsure."""
    tokens = set(_fold(clause_text))
    if not tokens:
        return None
    best, best_cover = None, 0.0
    for kind, gold in items:
        inter = len(tokens & gold)
        cover, inside = inter / len(gold), inter / len(tokens)
        if cover >= COVER_GOLD and inside >= INSIDE_GOLD and cover > best_cover:
            best, best_cover = kind, cover
        elif inside >= FRAGMENT and best is None:
            best_cover = -1.0       # a piece of a finding, cut differently: no clean label
    if best is not None:
        return best
    if best_cover < 0:
        return None
    for gold in unsure:
        inter = len(tokens & gold)
        if inter / len(gold) >= COVER_GOLD or inter / len(tokens) >= FRAGMENT:
            return None
    return "none"


def article_examples(nlp, articles: list[Article]) -> tuple[list[dict], list[str], list[str]]:
    """Featurised clauses, their labels and their document (the group for cross-validation)."""
    from corpus.clean import clean_text
    from nlp.statements import featurise, split_clauses
    from nlp.segment import text_of

    rows, labels, groups = [], [], []
    texts = [clean_text(a.text) for a in articles]
    for article, doc in zip(articles, nlp.pipe(texts, batch_size=8)):
        items = gold_items(article.gold)
        unsure = [set(_fold(u)) for u in article.gold.get("unsure", []) if _fold(u)]
        text = text_of(doc)
        for clause in split_clauses(doc):
            label = label_for(text[clause.start:clause.end], items, unsure)
            if label is None:
                continue
            rows.append(featurise(doc, clause))
            labels.append(label)
            groups.append(article.doc_id)
    return rows, labels, groups
