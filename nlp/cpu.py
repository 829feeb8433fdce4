"""What the running CPU can do, read from /proc/cpuinfo.

Speed ratios only mean something next to the features behind them (a bf16
speed-up needs native bf16), and a measured precision choice is only valid
on the CPU it was measured on: both read this module.
"""
from __future__ import annotations

import hashlib
import os
import platform
from functools import lru_cache
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")

# label -> flags any of which gives the feature
FEATURES: dict[str, tuple[str, ...]] = {
    "native bf16": ("avx512_bf16", "amx_bf16", "avx_ne_convert"),
    "AVX-512": ("avx512f",),
    "AVX2": ("avx2",),
    "AMX": ("amx_tile",),
}


def _first(key: str, text: str) -> str:
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return ""


@lru_cache(maxsize=4)
def cpu_info(path: Path = CPUINFO) -> tuple[str, frozenset[str]]:
    """(model name, flags) of the first CPU; ("", empty) where /proc/cpuinfo is unreadable."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or "", frozenset()
    flags = _first("flags", text) or _first("Features", text)  # x86 / ARM
    return _first("model name", text) or platform.processor() or "", frozenset(flags.split())


def cpu_features(path: Path = CPUINFO) -> dict[str, bool]:
    """Feature label -> present, for the labels in FEATURES."""
    _, flags = cpu_info(path)
    return {label: any(f in flags for f in names) for label, names in FEATURES.items()}


def describe_features(path: Path = CPUINFO) -> str:
    """One line for reports, e.g. "native bf16 yes, AVX-512 yes, AVX2 yes, AMX no"."""
    return ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in cpu_features(path).items())


def cpu_fingerprint(path: Path = CPUINFO) -> str:
    """Stable id of this CPU model, its flags and core count: a different CPU re-measures."""
    model, flags = cpu_info(path)
    h = hashlib.sha256(f"{platform.machine()}|{model}|{os.cpu_count()}|{' '.join(sorted(flags))}".encode())
    return h.hexdigest()[:16]
