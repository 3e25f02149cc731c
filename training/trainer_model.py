"""The base model a run trains on: found offline, loaded (4-bit for QLoRA), and its LoRA config.

`--base` is a local Hugging Face folder or a repo id already in the local HF cache; Hearth never
downloads here (the hub is offline, see `runtime.offline`). QLoRA is meant for a CUDA GPU with
bitsandbytes; without a GPU the run stops with a HearthError, or, with `--allow-cpu-fallback`,
trains on the CPU in float32: still QLoRA when bitsandbytes is installed (its CPU kernels keep
the preset's memory budget: 4-bit base, 8-bit AdamW; slow), else a plain LoRA. It says which.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.errors import HearthError, NotFoundError
from training.presets import TrainConfig

if TYPE_CHECKING:
    from peft import LoraConfig
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)
# bitsandbytes' CPU backend asks, at import, for an optional kernel from the Hugging Face hub and
# warns "pip install kernels" when it is absent: Hearth trains offline, the built-in kernel runs.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
BNB_OPTIMIZERS = ("paged_adamw_8bit", "adamw_8bit", "paged_adamw_32bit", "adamw_bnb_8bit")


def resolve_base(base: str) -> Path:
    """A local folder with the model's `config.json`, from a path or the local HF cache."""
    path = Path(base).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise NotFoundError(
                f"{path} is not a Hugging Face model folder (no config.json)",
                hint="--base takes the folder with config.json, the weights and the tokenizer",
            )
        return path.resolve()
    if path.exists() or base.count("/") != 1 or base.startswith((".", "/", "~")):
        raise NotFoundError(
            f"no model folder at {base}",
            hint="--base takes a local folder or a repo id (owner/name)",
        )
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id=base, local_files_only=True))
    except Exception as exc:
        raise NotFoundError(
            f"{base} is not in the local Hugging Face cache (Hearth trains offline)",
            hint=f"download it first: hf download {base}   (or pass a local folder)",
        ) from exc


def has_cuda() -> bool:
    """Whether torch sees a CUDA device."""
    import torch

    return torch.cuda.is_available()


def has_bitsandbytes() -> bool:
    """Whether bitsandbytes is installed (without importing it)."""
    return importlib.util.find_spec("bitsandbytes") is not None


def check_hardware(config: TrainConfig, *, allow_cpu_fallback: bool = False) -> TrainConfig:
    """`config`, or its CPU variant (4-bit with bitsandbytes, else plain LoRA) when it needs a
    GPU or bitsandbytes this machine lacks and that is allowed."""
    needs_bnb = config.quantization == "nf4" or config.optim in BNB_OPTIMIZERS
    missing = []
    if config.quantization == "nf4" and not has_cuda():
        missing.append("a CUDA GPU")
    if needs_bnb and not has_bitsandbytes():
        missing.append("bitsandbytes")
    if not missing:
        return config
    what = f"preset {config.preset} ({config.quantization}, {config.optim}, {config.dtype})"
    if not allow_cpu_fallback:
        raise HearthError(
            f"{what} needs {' and '.join(missing)}",
            hint="use --preset cpu-tiny, install bitsandbytes on a CUDA machine, or pass "
            "--allow-cpu-fallback to train on the CPU in float32 (slow)",
        )
    update: dict[str, Any] = {}
    if not has_cuda():
        update["dtype"] = "float32"
        if config.optim.startswith("paged_adamw_8bit"):  # paging is a GPU feature
            update["optim"] = "adamw_8bit"
    if has_bitsandbytes():
        log.warning("%s needs %s: training on the CPU, still 4-bit (slow)", what, missing[0])
    else:
        log.warning("%s needs %s: training a plain LoRA instead", what, ", ".join(missing))
        update["quantization"] = "none"
        if config.optim in BNB_OPTIMIZERS:
            update["optim"] = "adamw_torch"
    return config.model_copy(update=update)


def lora_config(config: TrainConfig) -> LoraConfig:
    """The peft LoRA settings (plain LoRA: the GGUF export keeps only r, alpha and the matrices)."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.target_modules,
        bias="none",
        task_type="CAUSAL_LM",
        use_rslora=False,
        use_dora=False,
    )


def load_tokenizer(path: Path) -> PreTrainedTokenizerBase:
    """The base model's tokenizer (a pad token is the eos token when it has none)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path: Path, config: TrainConfig) -> PreTrainedModel:
    """The base model in the config's dtype, or 4-bit NF4 for QLoRA (on this process's GPU, or
    the CPU when there is none)."""
    import torch
    from transformers import AutoModelForCausalLM

    dtype = getattr(torch, config.dtype)
    kwargs: dict[str, Any] = {"dtype": dtype}
    if config.quantization == "nf4":
        from accelerate import PartialState
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=dtype,
            bnb_4bit_use_double_quant=True,
        )
        # One whole copy per process: `accelerate launch` runs data parallel.
        kwargs["device_map"] = {"": PartialState().local_process_index if has_cuda() else "cpu"}
    try:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as exc:
        raise HearthError(
            f"cannot load the base model from {path}: {exc}",
            hint="--base must be a causal language model in Hugging Face format",
        ) from exc
    model.config.use_cache = False  # the KV cache is useless in training and fights checkpointing
    return model
