"""A finished training run read back: `runs/<run>/run.json` (written by `training.train`), the
Hugging Face base it was trained on, and its PEFT adapter. Export, eval and A/B start here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.errors import HearthError, NotFoundError
from training.layout import TrainingPaths

RUN_SUMMARY = "run.json"


@dataclass(frozen=True)
class TrainingRun:
    """A finished training run: its folder, the HF base it was trained on, its adapter."""

    root: Path
    base: Path
    """Local Hugging Face folder of the base model (full precision)."""
    adapter: Path
    """The PEFT adapter folder (adapter_config.json + adapter_model.safetensors)."""
    info: dict[str, Any]
    """run.json as written by `hearth train run`."""

    @property
    def name(self) -> str:
        return self.root.name


def load_run(paths: TrainingPaths, run_dir: Path | None = None) -> TrainingRun:
    """The run in `run_dir`, else the companion's latest run; clear errors when unusable."""
    root = Path(run_dir).expanduser().absolute() if run_dir else paths.latest_run()
    info_file = root / RUN_SUMMARY
    try:
        info = json.loads(info_file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotFoundError(
            f"{root} is not a finished training run (no run.json)",
            hint="pass a run folder from `hearth train run` with --run, or train again",
        ) from exc
    except ValueError as exc:
        raise HearthError(f"{info_file} is not valid JSON ({exc})", hint="train again") from exc
    if not isinstance(info, dict) or not info.get("base"):
        raise HearthError(f"{info_file} does not name the base model", hint="train again")
    adapter = Path(info.get("adapter") or root / "adapter")
    if not adapter.is_absolute():
        adapter = root / adapter
    if not (adapter / "adapter_config.json").is_file():
        raise NotFoundError(
            f"the run {root.name} has no adapter ({adapter} holds no adapter_config.json)",
            hint="the run may have failed or still be running; train again",
        )
    base = Path(info["base"]).expanduser()
    if not (base / "config.json").is_file():
        raise NotFoundError(
            f"the base model the run {root.name} was trained on is gone: {base}",
            hint="put the Hugging Face base model folder back where it was",
        )
    return TrainingRun(root, base.absolute(), adapter.absolute(), info)
