"""Ingest as map/reduce: the same documents through the local process pool and through a Dask
LocalCluster give the same store; the map step is a pure function that pickles."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from conftest import SEEDS
from corpus import store
from corpus.ingest import Task, analyse_batch, ingest
from corpus.reader import iter_documents
from parlens import service

pytest.importorskip("distributed")


def _sample(tmp_path: Path) -> Path:
    """The seeds plus a near-duplicate of one and an off-topic article (skipped by triage)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for p in sorted(SEEDS.glob("*.txt")):
        (folder / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    first = sorted(SEEDS.glob("*.txt"))[0].read_text(encoding="utf-8")
    (folder / "copy.txt").write_text(first + "\nNguồn: báo địa phương.", encoding="utf-8")
    (folder / "sport.txt").write_text("Bóng đá\nĐội tuyển thắng 2-0 trong trận giao hữu tối qua.", encoding="utf-8")
    return folder


def _contents(db: Path) -> tuple:
    conn = store.connect(db, readonly=True)
    try:
        docs = sorted((d["doc_id"], d["title"], d["status"], d["chars"]) for d in store.documents_summary(conn))
        rows = store.findings(conn)
        key = {r["id"]: (r["doc_id"], r["kind"], r["start"], r["end"], r["unit"]) for r in rows}
        findings = sorted((tuple(v for k, v in r.items() if k != "id") for r in rows), key=repr)
        ids, vecs = store.load_vectors(conn)
        vectors = sorted(((key[int(i)], v.tobytes()) for i, v in zip(ids, vecs)), key=lambda kv: repr(kv[0]))
        dups = {d: store.document(conn, d)["duplicate_of"] for d, *_ in docs}
        return docs, findings, vectors, dups
    finally:
        conn.close()


def _ingest(db: Path, src: Path, workers: int, dask: str | None):
    conn = store.connect(db)
    try:
        with service.executor(workers, dask) as (pool, in_flight):
            return ingest([src], conn, service.WorkerAnalyser(embed=True), service.pipeline_version(),
                          progress=False, batch_size=2, pool=pool, in_flight=in_flight)
    finally:
        conn.close()


def test_local_pool_and_dask_cluster_store_the_same(tmp_path):
    src = _sample(tmp_path)
    local = _ingest(tmp_path / "pool.sqlite", src, 2, None)
    dask = _ingest(tmp_path / "dask.sqlite", src, 2, "local")
    assert (local.added, local.skipped, local.duplicates) == (dask.added, dask.skipped, dask.duplicates) == (6, 1, 1)
    a, b = _contents(tmp_path / "pool.sqlite"), _contents(tmp_path / "dask.sqlite")
    assert a[0] == b[0] and a[1] == b[1] and a[3] == b[3]
    assert [k for k, _ in a[2]] == [k for k, _ in b[2]] and len(a[2]) == len(a[1]) > 100
    va = np.vstack([np.frombuffer(v, dtype=np.float32) for _, v in a[2]])
    vb = np.vstack([np.frombuffer(v, dtype=np.float32) for _, v in b[2]])
    assert np.abs(va - vb).max() < 1e-5


def test_the_map_step_is_pure_and_pickles(tmp_path):
    """analyse_batch depends only on its arguments: it pickles with its analyser, and a stored
    hash equal to the new one short-cuts to "unchanged" without analysis."""
    analyser = service.WorkerAnalyser(embed=False)
    assert pickle.loads(pickle.dumps(analyser)) == analyser
    raw = next(r for r in iter_documents([SEEDS]) if hasattr(r, "doc_id"))
    (first,) = analyse_batch([Task(raw)], analyser, "v1")
    assert first.status == "processed" and first.analysis.findings and first.analysis.signature
    (again,) = analyse_batch([Task(raw, first.record.content_hash)], analyser, "v1")
    assert again.status == "unchanged" and again.analysis is None
    (bumped,) = analyse_batch([Task(raw, first.record.content_hash)], analyser, "v2")
    assert bumped.status == "processed"


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(service.DaskError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        with service.executor(2, "tcp://127.0.0.1:9"):
            pass


def _touch_pid(folder: str) -> None:
    import os
    (Path(folder) / str(os.getpid())).write_text("loaded", encoding="utf-8")


@pytest.mark.parametrize("dask", [None, "local"])
def test_warm_up_runs_on_every_worker_before_work_is_handed_out(tmp_path, dask):
    """Models load once per worker up front, so a benchmark times the work and not the loading."""
    from functools import partial

    with service.executor(2, dask, warm_up=partial(_touch_pid, str(tmp_path))) as (pool, in_flight):
        loaded = sorted(p.name for p in tmp_path.iterdir())
        assert len(loaded) == 2, loaded
        assert in_flight >= 2 * service.WINDOW_PER_WORKER   # a wide window: a slow batch starves no one
