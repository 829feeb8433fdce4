"""VectorIndex: filters inside FAISS give what filtering the unfiltered ranking afterwards gives."""
from __future__ import annotations

import numpy as np
import pytest

from nlp import index as index_module
from nlp.index import VectorIndex


def _clustered(n: int, dim: int = 32, centres: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    v = c[rng.integers(0, centres, n)] + 0.4 * rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _ids(n: int, seed: int = 1) -> np.ndarray:
    """Finding ids that are neither positions nor sorted: the index must map them itself."""
    return np.random.default_rng(seed).permutation(np.arange(10_000, 10_000 + 3 * n, 3))[:n]


def _truth(vecs, ids, q, k, allowed=None):
    scores = vecs @ q
    order = np.argsort(-scores, kind="stable")
    keep = [i for i in order if allowed is None or ids[i] in allowed]
    return [int(ids[i]) for i in keep[:k]]


@pytest.fixture(scope="module")
def data():
    vecs = _clustered(4000)
    return vecs, _ids(4000)


def test_exact_search_is_a_faiss_flat_index_with_true_ranking(data):
    vecs, ids = data
    index = VectorIndex(ids, vecs, ann_threshold=10**9)
    assert index.kind == "exact" and index.flat is not None
    for q in vecs[:20]:
        got = index.search(q, 10)
        assert [i for i, _ in got] == _truth(vecs, ids, q, 10)
        assert all(a[1] >= b[1] for a, b in zip(got, got[1:]))


@pytest.mark.parametrize("share", [0.5, 0.05, 0.003])
def test_exact_filtered_equals_unfiltered_then_filtered(data, share):
    vecs, ids = data
    index = VectorIndex(ids, vecs, ann_threshold=10**9)
    rng = np.random.default_rng(7)
    allowed = rng.choice(ids, size=max(1, int(share * len(ids))), replace=False)
    allowed_set = set(int(a) for a in allowed)
    for q in vecs[100:120]:
        full = index.search(q, len(ids))
        expected = [(i, s) for i, s in full if i in allowed_set][:10]
        got = index.search(q, 10, allowed=list(allowed))
        assert [i for i, _ in got] == [i for i, _ in expected]
        assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-6)


def test_allowed_ids_outside_the_index_are_ignored(data):
    vecs, ids = data
    index = VectorIndex(ids, vecs, ann_threshold=10**9)
    assert index.search(vecs[0], 10, allowed=[-5, 1, 2]) == []  # no such finding ids
    got = index.search(vecs[0], 10, allowed=np.array([ids[3], -5, ids[9], ids[3]]))
    assert sorted(i for i, _ in got) == sorted([int(ids[3]), int(ids[9])])


def test_sparse_ids_map_like_dense_ones(data):
    """Ids spread too thinly for the lookup table go through binary search: same results."""
    vecs, ids = data
    sparse = ids.astype(np.int64) * 1_000_003
    dense_index = VectorIndex(ids, vecs, ann_threshold=10**9)
    sparse_index = VectorIndex(sparse, vecs, ann_threshold=10**9)
    assert dense_index._lookup is not None and sparse_index._lookup is None
    pick = np.random.default_rng(2).choice(len(ids), size=300, replace=False)
    for q in vecs[:5]:
        a = [i for i, _ in dense_index.search(q, 10, allowed=ids[pick])]
        b = [i for i, _ in sparse_index.search(q, 10, allowed=sparse[pick])]
        assert [x * 1_000_003 for x in a] == b


def test_the_old_boolean_mask_still_works(data):
    vecs, ids = data
    index = VectorIndex(ids, vecs, ann_threshold=10**9)
    chosen = ids[::7]
    mask = index.mask(chosen)
    assert mask.dtype == bool and mask.sum() == len(chosen)
    assert index.search(vecs[1], 10, mask) == index.search(vecs[1], 10, allowed=chosen)


@pytest.mark.parametrize("share", [None, 0.6, 0.1, 0.02])
def test_ivf_filtered_keeps_recall_against_exact_filtered(data, share, monkeypatch):
    vecs, ids = data
    monkeypatch.setattr(index_module, "EXACT_SUBSET_MAX", 50)  # make the IVF selector path run
    exact = VectorIndex(ids, vecs, ann_threshold=10**9)
    ivf = VectorIndex(ids, vecs, ann_threshold=1000)
    assert ivf.kind == "ivf" and ivf.ann is not None
    allowed = None
    if share is not None:
        allowed = np.random.default_rng(3).choice(ids, size=int(share * len(ids)), replace=False)
    allowed_set = None if allowed is None else set(int(a) for a in allowed)
    recalls = []
    for q in vecs[200:260]:
        got = ivf.search(q, 10, allowed=allowed)
        assert len(got) == 10
        assert allowed_set is None or all(i in allowed_set for i, _ in got)
        truth = {i for i, _ in exact.search(q, 10, allowed=allowed)}
        recalls.append(len(truth & {i for i, _ in got}) / 10)
    assert np.mean(recalls) >= 0.95


def test_ivf_with_a_tiny_filter_is_exact(data):
    vecs, ids = data
    ivf = VectorIndex(ids, vecs, ann_threshold=1000)
    allowed = ids[[5, 50, 500, 1500, 3999]]
    for q in vecs[:5]:
        got = ivf.search(q, 3, allowed=allowed)
        assert [i for i, _ in got] == _truth(vecs, ids, q, 3, set(int(a) for a in allowed))


def test_empty_index_and_empty_filter():
    empty = VectorIndex(np.zeros(0, dtype=np.int64), np.zeros((0, 8), dtype=np.float32))
    assert empty.search(np.ones(8), 5) == []
    assert empty.search(np.ones(8), 5, allowed=[1, 2]) == [] and not empty.mask([1, 2]).any()
    vecs = _clustered(50, dim=8)
    index = VectorIndex(np.arange(50), vecs)
    assert index.search(vecs[0], 5, allowed=[]) == []
    assert len(index.search(vecs[0], 500)) == 50
