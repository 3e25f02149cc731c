"""The eval split by time: the most recent conversations are held out, whole.

A random split would put windows of one conversation on both sides (and overlapping windows
share text), so eval loss would measure memorisation. Holding out the latest conversations
instead asks what tuning is for: does the model talk like the companion in chats it has not
seen, written after the ones it learned from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime


def eval_count(conversations: int, share: float) -> int:
    """How many conversations go to eval: `share` of them rounded up, at least one when there
    are two or more (and share > 0), never all of them."""
    if conversations < 2 or share <= 0:
        return 0
    return min(conversations - 1, max(1, math.ceil(conversations * share)))


def split_by_time(last_times: Sequence[tuple[int, datetime]], share: float) -> set[int]:
    """The session ids held out for eval, from (session id, time of its last message) pairs."""
    ordered = sorted(last_times, key=lambda item: (item[1], item[0]))
    held = eval_count(len(ordered), share)
    return {session_id for session_id, _ in ordered[len(ordered) - held :]}
