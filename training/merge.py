"""Merge a run's LoRA into its full-precision base, then convert (and quantize) to one GGUF.

    hearth train export --companion Mira --merge --quantize Q4_K_M

A merged model runs a little faster than base + adapter and needs no adapter support. The
merge happens in the base's own precision (bf16/f16/f32 as its config says, f32 otherwise) and
never into a 4-bit model: merging into quantized weights would round the adapter away, so a
base whose config carries a `quantization_config` is refused. The merged HF folder is a
temporary; the output is `<name>-<KIND>.gguf` (or `<name>-f16.gguf` without --quantize) in the
data home's `models/` folder, where `hearth model list` finds it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from runtime.errors import ConversionError
from training.gguf_convert import convert_and_quantize
from training.llama_sources import LlamaSources
from training.runs import TrainingRun

_DTYPES = ("bfloat16", "float16", "float32")
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    "generation_config.json",
)


def merge_dtype(base_dir: Path) -> str:
    """The precision to merge in: the base's own when it is a float type, else float32."""
    config = json.loads((base_dir / "config.json").read_text(encoding="utf-8"))
    if config.get("quantization_config"):
        raise ConversionError(
            f"the base model {base_dir} is quantized; merging into it would lose the adapter",
            hint="train on (or point run.json at) the full-precision base model, or export "
            "without --merge",
        )
    dtype = str(config.get("torch_dtype") or config.get("dtype") or "float32")
    return dtype if dtype in _DTYPES else "float32"


def merge_lora(run: TrainingRun, out_dir: Path) -> Path:
    """Save the run's base with its adapter merged in as a HF folder at `out_dir`."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    dtype = getattr(torch, merge_dtype(run.base))
    model = AutoModelForCausalLM.from_pretrained(run.base, dtype=dtype)
    merged = PeftModel.from_pretrained(model, run.adapter).merge_and_unload()
    merged.save_pretrained(out_dir)
    # The tokenizer (and its chat template) the run was trained with: the adapter folder's copy
    # when the trainer saved one, else the base's.
    for name in _TOKENIZER_FILES:
        for folder in (run.adapter, run.base):
            if (folder / name).is_file():
                shutil.copy2(folder / name, out_dir / name)
                break
    return out_dir


def merge_to_gguf(
    run: TrainingRun,
    out_dir: Path,
    name: str,
    quantize: str | None,
    *,
    pretokenizer: str | None = None,
    sources: LlamaSources | None = None,
) -> dict[str, Path]:
    """Merge, convert to f16 GGUF, quantize to `quantize` (the f16 file is then removed).

    Returns {"merged": the GGUF to chat with, "f16"?: the f16 file when it is kept}.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}-merge-", dir=out_dir) as tmp:
        merged_hf = merge_lora(run, Path(tmp) / "hf")
        kinds = [quantize.upper()] if quantize else []
        outputs = convert_and_quantize(
            merged_hf, out_dir, kinds, name=name, pretokenizer=pretokenizer, sources=sources
        )
    if not quantize:
        return {"merged": outputs["f16"], "f16": outputs["f16"]}
    outputs["f16"].unlink(missing_ok=True)
    return {"merged": outputs[quantize.upper()]}
