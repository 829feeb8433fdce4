"""Library functions behind the CLI and the explorer: one place that wires stages together."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from corpus import store


def make_analyser(embed: bool = True, workers: int = 1, model: str | None = None) -> tuple[Callable, str]:
    """The document analyser ingest runs, and the version that goes into content hashes."""
    from nlp.extract import Analyser, version

    encoder = None
    if embed:
        from nlp.embeddings import load_encoder
        encoder = load_encoder(model)
    analyser = Analyser(embed=encoder.encode_passages if encoder else None,
                        model_name=encoder.name if encoder else None)
    return analyser, version()
