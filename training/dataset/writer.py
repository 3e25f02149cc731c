"""Writing the dataset: every file complete or not there at all.

The files are written into a temporary folder inside the output folder and then renamed into
place, stats.json last; an error or Ctrl+C on the way leaves the previous dataset as it was
(save for files already renamed, each of them whole).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runtime.errors import UsageError

TRAIN_FILE = "train.jsonl"
EVAL_FILE = "eval.jsonl"
PAIRS_FILE = "pairs.jsonl"
STATS_FILE = "stats.json"
FILE_MODE = 0o600


def _dump(path: Path, lines: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(json.dumps(line, ensure_ascii=False))
            handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    path.chmod(FILE_MODE)


def write_dataset(
    out: Path,
    train: Iterable[dict[str, Any]],
    evaluation: Iterable[dict[str, Any]],
    pairs: Iterable[dict[str, Any]],
    stats: dict[str, Any],
) -> None:
    """Write train.jsonl, eval.jsonl, pairs.jsonl and stats.json into `out` (created 0700)."""
    try:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".dataset-", dir=out))
    except OSError as exc:
        raise UsageError(
            f"cannot write the dataset to {out}: {exc.strerror or exc}",
            hint="choose a writable folder with --out DIR",
        ) from exc
    try:
        _dump(staging / TRAIN_FILE, train)
        _dump(staging / EVAL_FILE, evaluation)
        _dump(staging / PAIRS_FILE, pairs)
        stats_file = staging / STATS_FILE
        stats_file.write_text(json.dumps(stats, ensure_ascii=False, indent=2) + "\n", "utf-8")
        stats_file.chmod(FILE_MODE)
        for name in (TRAIN_FILE, EVAL_FILE, PAIRS_FILE, STATS_FILE):
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
