"""Where derived artefacts (converted models, trained classifiers) are cached."""
from __future__ import annotations

import os
from pathlib import Path

ENV_CACHE = "PARLENS_CACHE_DIR"


def cache_dir() -> Path:
    """$PARLENS_CACHE_DIR, else the user's cache directory; created on demand."""
    env = os.environ.get(ENV_CACHE)
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_cache_dir
        path = Path(user_cache_dir("parlens"))
    path.mkdir(parents=True, exist_ok=True)
    return path
