"""Tiny *real* LoRA adapters for tests: PEFT adapters on the tiny Llama, converted to GGUF.

    python -m training.tiny_model --out /tmp/tiny
    python -m training.tiny_adapter --models /tmp/tiny --out /tmp/tiny-adapters

Two adapters, both with random non-zero LoRA B weights (PEFT's `init_lora_weights=False`), so they
change the model's output without any training:

- `adapter.gguf` for the tiny model itself, with a manifest recording the tiny model's base
  identity (`adapter.gguf.json`, see `runtime.engine.adapters`);
- `other-base.gguf` for a Llama of another width, with no manifest: llama.cpp itself must
  refuse it when it sees the tensor shapes.

Conversion goes through llama.cpp's `convert_lora_to_gguf.py` (`training.gguf_convert`), the
same path a tuned companion's adapter takes. Everything is seeded; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from training.tiny_model import TinyModels, _locked

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class TinyAdapters:
    """Built adapters: one for the tiny model, one for a model of another shape."""

    root: Path

    @property
    def peft_dir(self) -> Path:
        return self.root / "peft"

    @property
    def gguf(self) -> Path:
        return self.root / "adapter.gguf"

    @property
    def other_base_gguf(self) -> Path:
        return self.root / "other-base.gguf"


def save_random_lora(base_dir: Path, out_dir: Path, *, rank: int = 8, seed: int = 0) -> Path:
    """A PEFT LoRA on the HF model in `base_dir` with random A *and* B, saved to `out_dir`."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    config = LoraConfig(
        r=rank,
        # A large alpha/rank (8): random LoRA weights are small, and the change must show in
        # greedy output at scale 1.0.
        lora_alpha=8 * rank,
        target_modules=list(TARGET_MODULES),
        lora_dropout=0.0,
        init_lora_weights=False,  # B != 0: the adapter changes the output before any training
        task_type="CAUSAL_LM",
    )
    get_peft_model(model, config).save_pretrained(out_dir)
    return out_dir


def save_other_base(like: Path, out_dir: Path, *, hidden: int = 128) -> Path:
    """An untrained Llama like the one in `like` but `hidden` wide (config and weights)."""
    from transformers import AutoConfig, LlamaForCausalLM
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    config = AutoConfig.from_pretrained(like)
    config.hidden_size = hidden
    config.intermediate_size = 2 * hidden
    LlamaForCausalLM(config).save_pretrained(out_dir)
    return out_dir


def build_tiny_adapters(
    models: TinyModels, out_dir: Path, *, sources: Path | None = None
) -> TinyAdapters:
    """Build both adapters for the tiny `models` into `out_dir`."""
    from runtime.engine.adapters import base_identity, write_adapter_manifest
    from training.gguf_convert import convert_lora_to_gguf

    adapters = TinyAdapters(Path(out_dir))
    adapters.root.mkdir(parents=True, exist_ok=True)
    save_random_lora(models.hf_dir, adapters.peft_dir)
    convert_lora_to_gguf(adapters.peft_dir, adapters.gguf, base_dir=models.hf_dir, sources=sources)
    write_adapter_manifest(
        adapters.gguf, base_identity(models.gguf_f16), {"base_model": models.gguf_f16.name}
    )
    with tempfile.TemporaryDirectory(prefix="other-base-") as tmp:
        other = save_other_base(models.hf_dir, Path(tmp) / "hf")
        lora = save_random_lora(other, Path(tmp) / "peft")
        convert_lora_to_gguf(lora, adapters.other_base_gguf, base_dir=other, sources=sources)
    return adapters


def build_test_adapters(
    models: TinyModels, cache_root: Path, version: str, *, sources: Path | None = None
) -> TinyAdapters:
    """The adapters in `cache_root/<version>/`, built there once (atomically, under a lock)."""
    cache_root = Path(cache_root).absolute()
    adapters = TinyAdapters(cache_root / version)
    if adapters.other_base_gguf.is_file():
        return adapters
    with _locked(cache_root / f".{version}.lock"):
        if adapters.other_base_gguf.is_file():
            return adapters
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=cache_root))
        try:
            build_tiny_adapters(models, staging, sources=sources)
            if adapters.root.exists():
                shutil.rmtree(adapters.root)  # incomplete: complete builds arrive by rename
            os.replace(staging, adapters.root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return adapters


def main(argv: list[str] | None = None) -> None:
    """`python -m training.tiny_adapter --models DIR --out DIR [--llama-cpp DIR]`."""
    parser = argparse.ArgumentParser(description="Build tiny LoRA adapters for the tiny models.")
    parser.add_argument("--models", type=Path, required=True, help="tiny models directory")
    parser.add_argument("--out", type=Path, required=True, help="directory to create")
    parser.add_argument("--llama-cpp", type=Path, help="llama.cpp conversion scripts directory")
    args = parser.parse_args(argv)
    adapters = build_tiny_adapters(TinyModels(args.models), args.out, sources=args.llama_cpp)
    for path in (adapters.gguf, adapters.other_base_gguf):
        print(path)


if __name__ == "__main__":
    main()
