"""Where a companion's training files live, so every `hearth train` step finds the last one's.

    <companion>/training/dataset/   train.jsonl, eval.jsonl, pairs.jsonl, stats.json
    <companion>/training/runs/<run>/   config.json, metrics.jsonl, checkpoint-N/, adapter/
    <companion>/adapters/<run>.gguf (+ .gguf.json manifest)    written by `hearth train export`
    <companion>/training/ab.jsonl   blind A/B choices

A run is named by its start time (`20261123-141502`), so names sort by age and the latest run
is the default input of `export` and `eval`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from runtime.errors import NotFoundError
from runtime.paths import CompanionPaths

RUN_NAME_FORMAT = "%Y%m%d-%H%M%S"


@dataclass(frozen=True)
class TrainingPaths:
    """Training files of one companion."""

    companion: CompanionPaths

    @property
    def root(self) -> Path:
        return self.companion.root / "training"

    @property
    def dataset_dir(self) -> Path:
        return self.root / "dataset"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def ab_file(self) -> Path:
        return self.root / "ab.jsonl"

    @property
    def adapters_dir(self) -> Path:
        return self.companion.adapters_dir

    def new_run_dir(self, now: datetime | None = None) -> Path:
        """A fresh run folder name (not created)."""
        return self.runs_dir / (now or datetime.now()).strftime(RUN_NAME_FORMAT)

    def runs(self) -> list[Path]:
        """Run folders, oldest first."""
        if not self.runs_dir.is_dir():
            return []
        return sorted(path for path in self.runs_dir.iterdir() if path.is_dir())

    def latest_run(self) -> Path:
        """The newest run folder, or a NotFoundError that says how to make one."""
        runs = self.runs()
        if not runs:
            raise NotFoundError(
                f"no training run in {self.runs_dir}",
                hint="train one first: hearth train run --companion NAME --base PATH",
            )
        return runs[-1]
