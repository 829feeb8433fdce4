"""Learned models as files: built once, under a lock, so concurrent workers never race."""
from __future__ import annotations

import fcntl
import os
import pickle
from pathlib import Path
from typing import Callable


def load_or_build(path: Path, build: Callable[[Path], object]):
    """The pickled artefact at `path`; when missing, `build(path)` writes it first (one process
    builds while the others wait on the lock, then all read the same file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            build(path)
        return pickle.loads(path.read_bytes())


def save_artefact(path: Path, obj) -> None:
    """Pickle `obj` to `path` atomically: written beside it, then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(pickle.dumps(obj))
    tmp.replace(path)
