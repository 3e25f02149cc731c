"""Reading the held-out examples `hearth train dataset` writes (`eval.jsonl`), line by line, for
the loss evaluation (training) and the blind A/B test (runtime, no torch)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from runtime.errors import HearthError, NotFoundError

T = TypeVar("T")


def read_heldout(path: Path, parse: Callable[[dict[str, Any]], T], what: str) -> Iterator[T]:
    """`parse(record)` of each line of `path`; a line it cannot parse is a one-line error that
    names the file, the line and `what` it should have been."""
    if not path.is_file():
        raise NotFoundError(
            f"no held-out conversations: {path} does not exist",
            hint="build the dataset first: hearth train dataset --companion NAME",
        )
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield parse(json.loads(line))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise HearthError(
                    f"{path}, line {number}: not {what} ({exc})",
                    hint="rebuild it with `hearth train dataset`",
                ) from exc
