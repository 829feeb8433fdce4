"""Choosing a CPU precision for the encoder and rewriting the model for it.

"auto" follows the CPU: bf16 only pays where the hardware computes it
natively (AVX512-BF16 or AMX); elsewhere it is slower than float32.
"""
from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

Precision = Literal["auto", "float32", "bfloat16", "int8"]
PRECISIONS: tuple[str, ...] = ("auto", "float32", "bfloat16", "int8")
PRECISION_ENV = "PARLENS_EMBED_PRECISION"


def resolve_precision(precision: str | None) -> str:
    """Turn "auto"/None/env into a concrete precision for this CPU."""
    value = (precision or os.environ.get(PRECISION_ENV) or "auto").strip().lower()
    if value not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {value!r}")
    if value == "auto":
        return "bfloat16" if native_bf16() else "float32"
    return value


def native_bf16() -> bool:
    """True when the CPU computes bf16 in hardware (else bf16 is slower than fp32)."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, c, lambda: False)()) for c in checks)


def apply_precision(model: SentenceTransformer, precision: str) -> None:
    """Rewrite the transformer's Linear layers in place for the chosen precision."""
    if precision == "float32":
        return
    for network in _transformer_networks(model):
        if precision == "bfloat16":
            _swap_linears(network, _bf16_linear)
        elif precision == "int8":
            _swap_linears(network, _int8_linear)
        else:
            raise ValueError(f"unsupported precision {precision!r}")


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
    """Multiply in bfloat16 but keep float32 in and out of the layer.

    LayerNorm, softmax and pooling stay float32, which keeps parity with the
    float model at ~0.99999 while the matmuls use the CPU's bf16 units.
    """
    import torch

    linear = linear.to(torch.bfloat16)
    linear.register_forward_pre_hook(_inputs_to_bf16)
    linear.register_forward_hook(_output_to_float32)
    return linear


def _inputs_to_bf16(module: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    import torch

    return (args[0].to(torch.bfloat16), *args[1:])


def _output_to_float32(module: Any, args: tuple[Any, ...], output: Any) -> Any:
    import torch

    return output.to(torch.float32)
