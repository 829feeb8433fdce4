"""The sentence encoder: e5 query/passage conventions over a small worker pool."""
from __future__ import annotations

import os
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp.embeddings.precision import compute_context

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_BATCH_SIZE = 16  # measured best on 2 cores; bigger batches only add padding/cache misses
MEMO_SIZE = 4096  # recent (kind, text) -> vector results kept per encoder


def _nfc(texts: Sequence[str]) -> list[str]:
    # decomposed Vietnamese (NFD) tokenises into different pieces and hurts e5
    return [unicodedata.normalize("NFC", t) for t in texts]


class Encoder:
    """A loaded sentence embedding model with query/passage conventions applied.

    Batches run on a small pool of single-threaded workers, one batch each,
    instead of one batch at a time on torch's OpenMP team: per-op barriers
    make the team collapse (5-10x slower) whenever another process holds a
    core, while independent workers just share the CPU fairly.

    Recent results are remembered (MEMO_SIZE texts): ingest embeds every
    clause for the statement model and then the statements it keeps as
    findings, the same texts with the same model moments later; those, and
    texts repeated within a call, are embedded once.
    """

    def __init__(self, model: SentenceTransformer, name: str, dim: int,
                 precision: str = "float32", workers: int = 1) -> None:
        self.model, self.name, self.dim = model, name, dim
        self.precision, self.workers = precision, max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = os.getpid()
        self._pool_lock = threading.Lock()
        self.memo_size = MEMO_SIZE  # 0: always compute (timing runs set this)
        self._memo: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._memo_lock = threading.Lock()
        _serialise_tokenisation(model)

    def __repr__(self) -> str:
        return (f"Encoder(name={self.name!r}, dim={self.dim}, precision={self.precision!r}, "
                f"workers={self.workers})")

    def encode_passages(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
                        show_progress: bool = False) -> np.ndarray:
        """Embed documents; (n, dim) float32, L2-normalised."""
        return self._encode(texts, "passage", batch_size, show_progress)

    def encode_queries(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
                       show_progress: bool = False) -> np.ndarray:
        """Embed search queries; (n, dim) float32, L2-normalised."""
        return self._encode(texts, "query", batch_size, show_progress)

    def close(self) -> None:
        """Stop the worker threads (they are also stopped at interpreter exit)."""
        with self._pool_lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.shutdown(wait=True)
            self._pool = None

    def _encode(self, texts: Sequence[str], kind: str, batch_size: int,
                show_progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a list of texts, not a single string")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if len(texts) == 0:
            return out
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        clean = _nfc(texts)
        # models without e5-style prompts get the raw text
        prompt_name = kind if kind in (self.model.prompts or {}) else None
        todo: dict[str, list[int]] = {}  # text not remembered -> the rows that want it
        with self._memo_lock:
            for i, text in enumerate(clean):
                known = self._memo.get((kind, text)) if self.memo_size else None
                if known is None:
                    todo.setdefault(text, []).append(i)
                else:
                    self._memo.move_to_end((kind, text))
                    out[i] = known
        fresh = list(todo)
        batches = _length_sorted_batches(fresh, batch_size)
        pool = self._workers()
        futures = [pool.submit(self._embed_batch, [fresh[i] for i in idx], prompt_name)
                   for idx in batches]
        from tqdm.auto import tqdm

        with tqdm(total=len(clean), desc="embedding", unit="text",
                  disable=not show_progress) as bar:
            bar.update(len(clean) - sum(len(rows) for rows in todo.values()))
            for idx, future in zip(batches, futures):
                vectors = future.result()
                with self._memo_lock:
                    for j, vector in zip(idx, vectors):
                        rows = todo[fresh[j]]
                        out[rows] = vector
                        if self.memo_size:
                            self._memo[(kind, fresh[j])] = out[rows[0]].copy()
                        bar.update(len(rows))
                    while len(self._memo) > self.memo_size:
                        self._memo.popitem(last=False)
        return out

    def _embed_batch(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        with compute_context(self.precision):  # per thread: entered in the worker
            emb = self.model.encode(texts, prompt_name=prompt_name, batch_size=len(texts),
                                    show_progress_bar=False, convert_to_numpy=True,
                                    normalize_embeddings=True)
        return np.asarray(emb, dtype=np.float32)

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            # a forked child inherits the pool object but none of its threads
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="parlens-embed",
                                                initializer=_single_threaded_torch)
                self._pool_pid = os.getpid()
            return self._pool


def _single_threaded_torch() -> None:
    # OpenMP's thread count is per calling thread: this leaves the caller's alone
    import torch

    torch.set_num_threads(1)


def _length_sorted_batches(texts: list[str], batch_size: int) -> list[np.ndarray]:
    """Index batches of similar length (little padding), longest first."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def _serialise_tokenisation(model: SentenceTransformer) -> None:
    """Make the model's tokenizer calls mutually exclusive across our workers.

    A fast tokenizer whose padding/truncation settings change while another
    thread encodes fails with "Already borrowed"; tokenising is ~0.1 ms per
    text, so a lock costs nothing measurable.
    """
    lock = threading.RLock()
    for name in ("preprocess", "tokenize"):
        method = getattr(model, name, None)
        if method is None or getattr(method, "_parlens_locked", False):
            continue

        def locked(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with lock:
                return _method(*args, **kwargs)

        locked._parlens_locked = True  # type: ignore[attr-defined]
        setattr(model, name, locked)
