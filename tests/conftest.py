"""Shared fixtures: the bundled seeds, a store built from them once per session."""
from __future__ import annotations

import getpass
import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "corpus" / "seeds"
SHARED = ROOT.parent / "shared"
SHARED_CORPUS = SHARED / "corpus" / "baomoi-2017.jsonl.gz"
GOLD = SHARED / "eval" / "gold" / "seeds"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# CLI searches run in-process in tests; tests of the warm search server start their own
os.environ.setdefault("PARLENS_SEARCH_SERVER", "off")
# One cache (converted embedding model, trained classifier) shared by every test run on this machine.
os.environ.setdefault("PARLENS_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}"
                                                / "parlens-cache"))


def seed_path(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


@pytest.fixture(scope="session")
def nlp():
    from nlp.pipeline import load
    return load()


@pytest.fixture(scope="session")
def analyser(nlp):
    from nlp.extract import Analyser, version
    return Analyser(nlp=nlp), version()


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory, analyser):
    """A store holding the five seeds (no embeddings: those have their own tests)."""
    from corpus import store
    from corpus.ingest import ingest

    path = tmp_path_factory.mktemp("store") / "seeds.sqlite"
    conn = store.connect(path)
    analyse, version = analyser
    summary = ingest([SEEDS], conn, analyse, version, progress=False)
    assert summary.added == 5, summary.describe()
    return path


@pytest.fixture
def seed_conn(seed_store):
    from corpus import store
    conn = store.connect(seed_store, readonly=True)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def shared_corpus():
    if not SHARED_CORPUS.exists():
        pytest.skip("../shared/corpus is not present")
    return SHARED_CORPUS


@pytest.fixture(scope="session")
def seed_store_embedded(tmp_path_factory):
    """The five seeds with embeddings, built once per machine and copied per session."""
    import shutil

    from parlens.appstate import cached_store
    template = cached_store(Path(os.environ["PARLENS_CACHE_DIR"]) / "stores", [SEEDS])
    path = tmp_path_factory.mktemp("emb") / "seeds.sqlite"
    shutil.copy(template, path)
    return path
