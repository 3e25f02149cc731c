"""Options the `hearth train` steps share, spelled once: which run, which dataset folder.
(`--companion` is the memory commands' `companion_option`.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

run_option = click.option(
    "--run",
    "run_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Training run folder (default: the latest).",
)


def data_option(holding: str) -> Callable[[Any], Any]:
    """`--data DIR`, the dataset folder (default: the companion's); `holding` says what in it."""
    return click.option(
        "--data",
        "data_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help=f"Folder with {holding} (default: the companion's training dataset).",
    )
