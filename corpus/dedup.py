"""Near-duplicate articles (syndicated copies, re-posts), linked to their original.

MinHash signatures over word 5-shingles, kept in the store; an LSH index
finds candidates and the estimated Jaccard similarity decides (>= 0.9).
"""
from __future__ import annotations

import re
from typing import Iterable

import numpy as np

NUM_PERM = 128
SHINGLE = 5
THRESHOLD = 0.9
SCHEME = "affine32"

_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, k: int = SHINGLE) -> set[bytes]:
    words = _WORD.findall(text.lower())
    if len(words) < k:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i:i + k]).encode("utf-8") for i in range(len(words) - k + 1)}


def signature(text: str):
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)
    m.update_batch(list(shingles(text)))
    return m


def signature_bytes(text: str) -> bytes:
    """The stored form of a text's signature (computed where the text is analysed)."""
    return np.asarray(signature(text).hashvalues, dtype=np.uint64).tobytes()


def _minhash(blob: bytes):
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1, hashvalues=np.frombuffer(blob, dtype=np.uint64), scheme=SCHEME)


class DuplicateFinder:
    """LSH over the signatures of documents already stored (and remembered since)."""

    def __init__(self, signatures: Iterable[tuple[str, bytes]] = ()):
        from datasketch import MinHashLSH

        self.lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        self.sigs: dict[str, object] = {}
        for doc_id, blob in signatures:
            self._add(doc_id, _minhash(blob))

    def _add(self, doc_id: str, m) -> None:
        if doc_id in self.sigs:
            self.lsh.remove(doc_id)
        self.sigs[doc_id] = m
        self.lsh.insert(doc_id, m)

    def original_of(self, doc_id: str, sig: bytes) -> str | None:
        """The known document this one copies (Jaccard >= THRESHOLD), if any."""
        m = _minhash(sig)
        best, best_sim = None, 0.0
        for other in self.lsh.query(m):
            if other == doc_id:
                continue
            sim = m.jaccard(self.sigs[other])
            if sim >= THRESHOLD and (sim > best_sim or (sim == best_sim and other < (best or other))):
                best, best_sim = other, sim
        return best

    def remember(self, doc_id: str, sig: bytes) -> None:
        self._add(doc_id, _minhash(sig))
