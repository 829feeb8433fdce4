"""The one spaCy Language every extractor runs on, assembled from registered parts.

Built once per process and reused; documents go through ``nlp.pipe``.
"""
from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language

import nlp.entities  # noqa: F401  (registers the component)
import nlp.segment  # noqa: F401  (registers the tokenizer)

COMPONENTS = ("parlens_entities", "parlens_figures", "parlens_statements", "parlens_speakers")


def build(components: tuple[str, ...] = COMPONENTS) -> Language:
    """A blank Vietnamese pipeline on underthesea words, with our components."""
    import importlib

    for module in ("nlp.figures", "nlp.statements", "nlp.speakers"):
        if any(c.endswith(module.rsplit(".", 1)[1]) for c in components):
            importlib.import_module(module)

    config = {"nlp": {"tokenizer": {"@tokenizers": "parlens.underthesea_tokenizer.v1"}}}
    pipeline = spacy.blank("vi", config=config)
    for name in components:
        pipeline.add_pipe(name)
    return pipeline


@lru_cache(maxsize=4)
def load(components: tuple[str, ...] = COMPONENTS) -> Language:
    return build(components)
