"""Shared fixtures: the bundled seeds, a store built from them once per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "corpus" / "seeds"
SHARED = ROOT.parent / "shared"
SHARED_CORPUS = SHARED / "corpus" / "baomoi-2017.jsonl.gz"
GOLD = SHARED / "eval" / "gold" / "seeds"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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
