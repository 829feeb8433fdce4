"""Choosing a CPU precision for the encoder and rewriting the model for it.

"auto" is measured, not guessed (nlp.embeddings.calibration): the fastest
precision that keeps parity on this CPU, where bf16 is a candidate only with
native hardware support (AVX512-BF16 or AMX; emulated it is slower). bf16 is
torch.autocast around each forward pass; int8 is torch's dynamic quantisation
of the Linear layers that tolerate it.
"""
from __future__ import annotations

import os
import warnings
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

Precision = Literal["auto", "float32", "bfloat16", "int8"]
PRECISIONS: tuple[str, ...] = ("auto", "float32", "bfloat16", "int8")
PRECISION_ENV = "PARLENS_EMBED_PRECISION"


def requested_precision(precision: str | None) -> str:
    """The explicit choice, else PARLENS_EMBED_PRECISION, else "auto" (validated)."""
    value = (precision or os.environ.get(PRECISION_ENV) or "auto").strip().lower()
    if value not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {value!r}")
    return value


def resolve_precision(precision: str | None, model_name: str = "default") -> str:
    """Turn "auto"/None/env into a concrete precision for this CPU.

    An explicit precision (argument or env) is used as given; "auto" is the fastest precision
    that keeps parity, measured once per model and CPU (see nlp.embeddings.calibration).
    """
    value = requested_precision(precision)
    if value == "auto":
        from nlp.embeddings.calibration import precision_report

        return precision_report(model_name)["choice"]
    return value


def native_bf16() -> bool:
    """True when the CPU computes bf16 in hardware (else bf16 is slower than fp32)."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, c, lambda: False)()) for c in checks)


def apply_precision(model: SentenceTransformer, precision: str) -> None:
    """Prepare the transformer's Linear layers in place for the chosen precision.

    bfloat16 stores the Linear weights in bf16 once, so autocast (see
    `compute_context`) finds them ready instead of casting every weight on
    every call (+10% per single query when left float32); int8 swaps in
    dynamically quantised layers; float32 changes nothing.
    """
    if precision not in PRECISIONS or precision == "auto":
        raise ValueError(f"unsupported precision {precision!r}: resolve it with resolve_precision")
    make = {"bfloat16": _bf16_linear, "int8": _int8_linear}.get(precision)
    if make is not None:
        for network in _transformer_networks(model):
            _swap_linears(network, make)


def compute_context(precision: str) -> AbstractContextManager[Any]:
    """The context a forward pass runs under: bf16 autocast for "bfloat16", else none.

    CPU autocast runs the matmuls (Linear layers, attention) on the CPU's bf16
    units while the residual stream, LayerNorm and pooling stay float32:
    cosine ~0.99999 to float32 on e5-small. Autocast state is per thread, so
    enter this in the thread that runs the model; a bf16-prepared model called
    outside it fails with a dtype mismatch rather than computing anything.
    """
    if precision == "bfloat16":
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)
    return nullcontext()


def _transformer_networks(model: SentenceTransformer) -> list[torch.nn.Module]:
    from transformers import PreTrainedModel

    return [m for m in model.modules() if isinstance(m, PreTrainedModel)]


def _swap_linears(root: torch.nn.Module, make: Any) -> None:
    import torch

    for parent_name, parent in list(root.named_modules()):
        for child_name, child in list(parent.named_children()):
            if type(child) is torch.nn.Linear:
                full = f"{parent_name}.{child_name}" if parent_name else child_name
                replacement = make(full, child)
                if replacement is not None:
                    setattr(parent, child_name, replacement)


_INT8_SKIP_SUFFIXES = (".value", ".v_proj", ".v")


def _int8_linear(name: str, linear: torch.nn.Linear) -> torch.nn.Module | None:
    """Dynamic int8 (per-channel weights) for the layers that tolerate it.

    Activations are quantised per tensor. Measured on multilingual-e5-small:
    quantising everything gives cosine ~0.97-0.98 to float32 (FFN
    down-projections, fed by GELU outliers, are the worst, then the value
    projections); keeping those two in float32 gives >= 0.993 at ~1.9x float32
    speed.
    """
    if linear.in_features > linear.out_features or name.endswith(_INT8_SKIP_SUFFIXES):
        return None
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    from torch.ao.quantization import per_channel_dynamic_qconfig

    linear.qconfig = per_channel_dynamic_qconfig
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao deprecation notice; still supported
        return DynamicLinear.from_float(linear)


def _bf16_linear(name: str, linear: torch.nn.Linear) -> torch.nn.Module:
    """The same layer with bf16 weights; only usable under `compute_context`."""
    import torch

    return linear.to(torch.bfloat16)
