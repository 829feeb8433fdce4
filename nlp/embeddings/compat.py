"""Shims over sentence-transformers/transformers API differences between versions."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def st_modules() -> tuple[Any, Any, Any]:
    """Transformer, Pooling, Normalize from wherever this sentence-transformers keeps them."""
    try:
        from sentence_transformers.sentence_transformer.modules import (
            Normalize, Pooling, Transformer)
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Normalize, Pooling, Transformer
    return Transformer, Pooling, Normalize


def embedding_dimension(model: SentenceTransformer) -> int:
    """The model's output size; renamed in sentence-transformers 6, so try either name."""
    getter = getattr(model, "get_embedding_dimension", None) or getattr(
        model, "get_sentence_embedding_dimension")
    return int(getter() or 0)


@contextmanager
def quiet_hf_progress() -> Iterator[None]:
    """Hide transformers' per-load progress bars (noise for a CLI), then restore."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
