"""A training run's PEFT adapter → a GGUF LoRA that llama.cpp applies to the companion's base GGUF.

    hearth train export --companion Mira            # latest run → adapters/<run>.gguf, registered

Steps, all or nothing (everything is written into a private staging folder, then renamed):

1. read the run (`runs/<run>/run.json`: the Hugging Face base it was trained on, the adapter);
2. check the adapter config: llama.cpp's GGUF LoRA has one `lora_alpha` and scales by
   alpha / r, so DoRA and per-module ranks/alphas are refused, and **rsLoRA** (scale
   alpha / sqrt(r)) is converted with `lora_alpha = alpha * sqrt(r)`, which gives the same scale;
3. check the base: the run's HF base and the companion's base GGUF must have the same base
   identity (`runtime.engine.adapters`: architecture, sizes, vocabulary digest). The HF side
   is read through a vocabulary-only conversion by the same llama.cpp converter (no weights);
4. convert with llama.cpp's `convert_lora_to_gguf.py` (`training.gguf_convert`), record the
   base identity in the manifest beside the adapter (`<name>.gguf.json`), move both into place.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runtime import __version__
from runtime.engine.errors import AdapterMismatchError
from runtime.errors import ConversionError
from training.gguf_convert import convert_hf_vocab_to_gguf, convert_lora_to_gguf
from training.llama_sources import LlamaSources, find_sources
from training.runs import TrainingRun


def lora_config(adapter_dir: Path) -> dict[str, Any]:
    """The adapter's PEFT config, refused when llama.cpp's GGUF LoRA cannot express it."""
    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    kind = config.get("peft_type", "LORA")
    if kind != "LORA":
        raise ConversionError(
            f"the adapter in {adapter_dir} is a {kind} adapter; only LoRA converts to GGUF",
            hint="train a LoRA adapter (the default of `hearth train run`)",
        )
    if config.get("use_dora"):
        raise ConversionError(
            f"the adapter in {adapter_dir} uses DoRA, which llama.cpp's GGUF LoRA cannot express",
            hint="train without DoRA, or export with --merge (merges it into the base first)",
        )
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise ConversionError(
            f"the adapter in {adapter_dir} has per-module ranks or alphas; a GGUF LoRA has one "
            "alpha",
            hint="export with --merge, or train with one rank and alpha for every module",
        )
    return config


def converter_input(adapter_dir: Path, config: dict[str, Any], staging: Path) -> Path:
    """The folder to hand the converter: the adapter itself, or for rsLoRA a copy whose
    lora_alpha gives llama.cpp's alpha / r the value alpha / sqrt(r)."""
    if not config.get("use_rslora"):
        return adapter_dir
    rank = int(config["r"])
    copy = staging / "rslora-adapter"
    copy.mkdir()
    for item in adapter_dir.iterdir():
        if item.name != "adapter_config.json":
            (copy / item.name).symlink_to(item.absolute())
    rescaled = {**config, "use_rslora": False, "lora_alpha": config["lora_alpha"] * math.sqrt(rank)}
    (copy / "adapter_config.json").write_text(json.dumps(rescaled), encoding="utf-8")
    return copy


def check_same_base(base_dir: Path, base_gguf: Path, staging: Path, sources: LlamaSources):
    """The base identity of `base_gguf`, after checking the HF base `base_dir` has the same."""
    from runtime.engine.adapters import base_identity

    wanted = base_identity(base_gguf)
    vocab = convert_hf_vocab_to_gguf(base_dir, staging / "base-vocab.gguf", sources=sources)
    trained = base_identity(vocab)
    if trained != wanted:
        raise AdapterMismatchError(
            f"the run was trained on {base_dir}, which is another model than {base_gguf} "
            f"(trained base vs this GGUF: {'; '.join(trained.differences(wanted))})",
            hint="pass the GGUF of the model the run was trained on with --base-gguf (convert "
            "it with `hearth convert`), or train on the companion's model",
        )
    return wanted


@dataclass(frozen=True)
class ExportedAdapter:
    """The GGUF adapter and its manifest."""

    adapter: Path
    manifest: Path


def export_adapter(
    run: TrainingRun,
    base_gguf: Path,
    out: Path,
    *,
    sources: Path | LlamaSources | None = None,
) -> ExportedAdapter:
    """Convert the run's adapter to the GGUF LoRA `out` for `base_gguf` (see module docstring)."""
    from runtime.engine.adapters import check_adapter, manifest_path, write_adapter_manifest
    from runtime.engine.llamacpp import check_gguf_file

    config = lora_config(run.adapter)
    base_gguf = check_gguf_file(base_gguf)
    if not isinstance(sources, LlamaSources):
        sources = find_sources(sources)
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        identity = check_same_base(run.base, base_gguf, staging, sources)
        staged = staging / out.name
        source = converter_input(run.adapter, config, staging)
        convert_lora_to_gguf(source, staged, base_dir=run.base, sources=sources)
        extra = {
            "run": run.name,
            "run_dir": str(run.root),
            "base_hf": str(run.base),
            "base_gguf": str(base_gguf),
            "base_digest": identity.digest,
            "lora_rank": config.get("r"),
            "lora_alpha": config.get("lora_alpha"),
            "use_rslora": bool(config.get("use_rslora")),
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "hearth": __version__,
        }
        staged_manifest = write_adapter_manifest(staged, identity, extra)
        check_adapter(staged, base_gguf)
        # The manifest first: an adapter never sits in place without its base identity.
        os.replace(staged_manifest, manifest_path(out))
        os.replace(staged, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportedAdapter(out, manifest_path(out))
