"""Which part of a long conversation fits the context window, chosen so the prompt stays cacheable.

llama.cpp reuses its KV cache only for the prompt's common *prefix*. Dropping the oldest turn
every time a new one arrives would change the prefix right after the system message on every
turn, and the whole history would be evaluated again each time. So history is dropped in
**blocks**: cut points ("boundaries") sit at user messages roughly `block_tokens` apart, counted
from the start of the conversation, and the window always starts at one of them. Adding turns at
the end never moves earlier boundaries, so the window start stays put until the conversation
outgrows the window, then jumps a whole block (or more) at once: one full re-evaluation every
block's worth of turns instead of one per turn.

The start is also *sticky*: it never moves back before where the previous prompt started (a
short message after a long one must not pull old turns back in and change the prefix again).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """A history message as the window sees it: its role and estimated token cost."""

    role: str
    tokens: int


def boundaries(entries: Sequence[Entry], block_tokens: int) -> list[int]:
    """Indexes where a window may start: 0, then the first user message after each block.

    Depends only on the entries before each boundary, so appending never moves one.
    """
    found = [0]
    since = 0
    for index, entry in enumerate(entries):
        if since >= block_tokens and entry.role == "user" and index > found[-1]:
            found.append(index)
            since = 0
        since += entry.tokens
    return found


def choose_start(
    entries: Sequence[Entry],
    *,
    block_tokens: int,
    fixed_tokens: int,
    limit: int,
    fits: Callable[[int], bool],
    floor: int = 0,
) -> int:
    """The first history index to keep: the earliest candidate at or after `floor` that fits.

    Candidates are the block boundaries plus `floor` itself (the previous start). `fixed_tokens`
    is what the prompt costs besides history; a candidate whose estimate exceeds `limit` is
    skipped without rendering, the others are confirmed with `fits` (a real render and token
    count). When nothing fits, everything is dropped: `len(entries)`.
    """
    floor = min(max(floor, 0), len(entries))
    candidates = sorted({b for b in boundaries(entries, block_tokens) if b >= floor} | {floor})
    suffix = [0] * (len(entries) + 1)
    for index in range(len(entries) - 1, -1, -1):
        suffix[index] = suffix[index + 1] + entries[index].tokens
    for start in candidates:
        if start < len(entries) and fixed_tokens + suffix[start] > limit:
            continue
        if fits(start):
            return start
    return len(entries)
