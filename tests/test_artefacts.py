"""Learned-model artefacts: concurrent workers on a cold cache build once and read the same file."""
import multiprocessing as mp
import pickle
import time

from nlp.artefacts import load_or_build


def _build(path):
    with open(path.with_suffix(".builds"), "a") as fh:   # count who built
        fh.write("x")
    time.sleep(0.5)
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))


def _worker(path, out):
    out.put(load_or_build(path, _build))


def test_two_workers_on_a_cold_cache_build_once(tmp_path):
    path = tmp_path / "models" / "toy.pkl"
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(path, out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]   # a hang guard, not a speed target (spawn under load)
    for p in procs:
        p.join(timeout=600)
    assert results == [{"weights": [1, 2, 3]}] * 2
    assert path.with_suffix(".builds").read_text() == "x"
