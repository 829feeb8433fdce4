"""Which statement extractor to ship: the comparison issue #12 asks for, on the dev gold.

    python benchmarks/statement_models.py GOLD_DIR TEXT_DIR [--out TABLE.md]

(a) the clause classifier on TF-IDF and lexical features alone, (b) the same plus the shipped
encoder's clause vectors (the default pipeline), (c) a sequence tagger for statement spans:
a linear-chain CRF (sklearn-crfsuite) over underthesea words, their POS tags, word shapes and
the statement cue lexicon, trained on the same annotated articles (nlp/data/training/articles)
with BIO labels from the gold quotes. Every variant is scored by the evaluation's own scorer
(score.py beside GOLD_DIR's parent) on problems (weakness + cause) and remedies.

The dev gold is only measured here: nothing of it enters training.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scoring import load_scorer, score_rows  # noqa: E402

LABELS = {"problems": "PROB", "remedies": "REM"}
KIND_OF = {"PROB": "weakness", "REM": "remedy"}


def _locate(text: str, quote: str) -> tuple[int, int] | None:
    """The quote's offsets in the text (exact, else whitespace-insensitive)."""
    at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    pattern = r"\s+".join(re.escape(w) for w in quote.split())
    m = re.search(pattern, text) if pattern else None
    return m.span() if m else None


def _cue_words() -> set[str]:
    """Single words of the statement cue lexicon (the CRF's only domain knowledge)."""
    from corpus.lexicons import table

    words: set[str] = set()
    for row in table("nlp", "statement_cues.tsv"):
        for w in re.findall(r"[^\W\d_]+", row[-1].lower()):
            if len(w) > 1:
                words.add(w)
    return words


def _features(doc, cues: set[str]) -> list[dict]:
    toks = list(doc)
    out = []
    for i, t in enumerate(toks):
        w = t.text.lower()
        f = {"bias": 1.0, "w": w, "pos": t.tag_ or "", "title": t.text[:1].isupper(), "punct": t.is_punct,
             "digit": any(c.isdigit() for c in w), "cue": any(p in cues for p in w.split("_")),
             "sent_start": bool(t.is_sent_start)}
        for d in (-2, -1, 1, 2):
            j = i + d
            if 0 <= j < len(toks):
                u = toks[j]
                f[f"{d}:w"] = u.text.lower()
                f[f"{d}:pos"] = u.tag_ or ""
                f[f"{d}:punct"] = u.is_punct
            else:
                f[f"{d}:edge"] = True
        out.append(f)
    return out


def _sentences(doc):
    return [list(s) for s in doc.sents]


def _labels(doc, spans: list[tuple[int, int, str]]) -> list[str]:
    labels = ["O"] * len(doc)
    for start, end, lab in spans:
        inside = [t.i for t in doc if t.idx >= start and t.idx + len(t.text) <= end]
        for k, i in enumerate(inside):
            labels[i] = ("B-" if k == 0 else "I-") + lab
    return labels


def train_crf(nlp, cues: set[str]):
    import sklearn_crfsuite

    from nlp.training import load_articles

    X, y = [], []
    for art in load_articles():
        doc = nlp.make_doc(art.text)
        spans = []
        for field, lab in LABELS.items():
            for item in art.gold.get(field, []):
                loc = _locate(art.text, item["quote"])
                if loc:
                    spans.append((loc[0], loc[1], lab))
        feats, labels = _features(doc, cues), _labels(doc, spans)
        for sent in _sentences(doc):
            idx = [t.i for t in sent]
            X.append([feats[i] for i in idx])
            y.append([labels[i] for i in idx])
    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=0.1, c2=0.1, max_iterations=150,
                               all_possible_transitions=True)
    crf.fit(X, y)
    return crf, sum(len(s) for s in X)


def crf_rows(nlp, crf, cues: set[str], text_dir: Path) -> list[dict]:
    from corpus.clean import clean_text

    rows = []
    for path in sorted(text_dir.glob("*.txt")):
        text = clean_text(path.read_text(encoding="utf-8"))
        doc = nlp.make_doc(text)
        feats = _features(doc, cues)
        for sent in _sentences(doc):
            pred = crf.predict_single([feats[t.i] for t in sent])
            run: list = []
            for tok, lab in list(zip(sent, pred)) + [(None, "O")]:
                if run and (lab == "O" or lab.startswith("B-") or lab[2:] != run[0][1][2:]):
                    s, e = run[0][0].idx, run[-1][0].idx + len(run[-1][0].text)
                    rows.append({"doc_id": path.stem, "kind": KIND_OF[run[0][1][2:]], "unit": "",
                                 "value": "", "text": text[s:e], "start": s, "end": e})
                    run = []
                if tok is not None and lab != "O":
                    run.append((tok, lab))
    return rows


def pipeline_rows(encoder: str | None, text_dir: Path) -> list[dict]:
    """The default export of a store built with the statement component's `encoder` setting."""
    from corpus import store
    from corpus.export import contract_rows
    from corpus.ingest import ingest
    from nlp.extract import Analyser
    from nlp.pipeline import COMPONENTS, build

    pipeline = build(COMPONENTS)      # registers the components; rebuilt with this encoder setting
    pipeline.remove_pipe("parlens_statements")
    pipeline.add_pipe("parlens_statements", config={"encoder": encoder}, before="parlens_speakers")
    nlp = pipeline
    with tempfile.TemporaryDirectory() as tmp:
        conn = store.connect(Path(tmp) / "s.sqlite")
        ingest([text_dir], conn, Analyser(nlp=nlp), f"cmp-{encoder}", progress=False, triage=False)
        rows = contract_rows(conn, store.FindingFilter(kind="weakness,cause,remedy"))
        conn.close()
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("gold_dir")
    p.add_argument("text_dir")
    p.add_argument("--out")
    args = p.parse_args(argv)
    gold_dir, text_dir = Path(args.gold_dir), Path(args.text_dir)
    scorer = load_scorer(gold_dir)
    from nlp.pipeline import load

    results = {}
    for name, encoder in (("(a) clause classifier, TF-IDF + lexical", None),
                          ("(b) clause classifier + encoder vectors (shipped)", "default")):
        t0 = time.perf_counter()
        results[name] = (score_rows(scorer, pipeline_rows(encoder, text_dir), gold_dir), time.perf_counter() - t0)
    nlp = load()
    cues = _cue_words()
    t0 = time.perf_counter()
    crf, n_tokens = train_crf(nlp, cues)
    rows = crf_rows(nlp, crf, cues, text_dir)
    results[f"(c) CRF span tagger ({n_tokens:,} training tokens)"] = (score_rows(scorer, rows, gold_dir),
                                                                        time.perf_counter() - t0)
    lines = ["| model | problems P / R / F1 | remedies P / R / F1 | seconds |", "| --- | --- | --- | --- |"]
    for name, (res, secs) in results.items():
        cells = []
        for k in ("problems", "remedies"):
            r = res.get(k, {})
            cells.append(f"{r.get('precision', 0):.3f} / {r.get('recall', 0):.3f} / **{r.get('f1', 0):.3f}**")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {secs:.0f} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
