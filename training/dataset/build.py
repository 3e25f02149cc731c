"""The dataset builder from start to end: transcript in, train/eval/pairs JSONL and stats out.

sessions → conversations (active paths) → cleaned exchanges → deduplicated → windows
→ capped per conversation → split by time → written, with the stats report
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.companion import Companion
from runtime.prompt.persona import persona_text
from runtime.store import TranscriptStore, format_timestamp
from training.dataset import stats as stats_report
from training.dataset.clean import Cleaner, FilterCounts
from training.dataset.conversations import Conversation, ordered_sessions, read_conversation
from training.dataset.dedup import Deduplicator
from training.dataset.options import DatasetOptions
from training.dataset.pairs import pairs as preference_pairs
from training.dataset.split import split_by_time
from training.dataset.tokens import TokenCounter
from training.dataset.windows import Budget, Window, cap, cut, size
from training.dataset.writer import write_dataset

USER_NAME = "User"
"""The user's name in the persona's {{user}} placeholders, as the chat uses it."""

Progress = Callable[[int, int], None]
"""Called with (conversations read, conversations in all)."""


def system_prompt(companion: Companion) -> str:
    """The persona as the chat renders it (runtime.prompt.persona): the system message of
    every example. Core memories are left out: they change over time and are not the voice."""
    return persona_text(companion.persona, user=USER_NAME)


@dataclass
class _Kept:
    """What one conversation gave."""

    conversation: Conversation
    windows: list[Window]
    pairs: list[dict[str, Any]] = field(default_factory=list)


def _example(window: Window, conversation: Conversation) -> dict[str, Any]:
    return {
        "messages": window.messages,
        "session_id": conversation.session_id,
        "source": conversation.source,
        "created_at": format_timestamp(window.created_at),
    }


def build_dataset(
    store: TranscriptStore,
    companion: Companion,
    options: DatasetOptions,
    counter: TokenCounter,
    out: Path,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build the dataset into `out` and return the stats report (also written as stats.json)."""
    counts = FilterCounts()
    cleaner = Cleaner(options, counts)
    dedup = Deduplicator(counts)
    budget = Budget(counter, system_prompt(companion), options.max_length)
    sessions = ordered_sessions(store)
    kept: list[_Kept] = []
    for done, session in enumerate(sessions, 1):
        conversation = read_conversation(store, session)
        if progress is not None:
            progress(done, len(sessions))
        if not conversation.turns:
            continue
        if options.since is not None and conversation.last_at < options.since:
            counts.add("before_since", sum(t.role == "assistant" for t in conversation.turns))
            continue
        exchanges = dedup(cleaner.exchanges(conversation))
        if not any(exchange.reply.trained for exchange in exchanges):
            continue  # nothing to learn here: no need to count its tokens
        sized = size(exchanges, counter)
        windows = cut(sized, budget, options.overlap)
        counts.add("too_long_turns", windows.too_long)
        rng = random.Random(f"{options.seed}:{conversation.session_id}")
        chosen = cap(windows.windows, options.max_per_conversation, rng)
        counts.add("per_conversation_cap", len(windows.windows) - len(chosen))
        found = _Kept(conversation, chosen, preference_pairs(sized, budget, session.id))
        if found.windows or found.pairs:
            kept.append(found)

    with_windows = [k for k in kept if k.windows]
    held_out = split_by_time(
        [(k.conversation.session_id, k.conversation.last_at) for k in with_windows],
        options.eval_share,
    )
    train = [k for k in with_windows if k.conversation.session_id not in held_out]
    evaluation = [k for k in with_windows if k.conversation.session_id in held_out]
    pairs = [
        {**pair, "split": "eval" if k.conversation.session_id in held_out else "train"}
        for k in kept
        for pair in k.pairs
    ]
    report = stats_report.report(
        [w for k in train for w in k.windows],
        [w for k in evaluation for w in k.windows],
        (len(train), len(evaluation)),
        counts,
        len(pairs),
        max_length=options.max_length,
        out=str(out),
        tokenizer=counter.description,
    )
    write_dataset(
        out,
        (_example(w, k.conversation) for k in train for w in k.windows),
        (_example(w, k.conversation) for k in evaluation for w in k.windows),
        pairs,
        report,
    )
    return report
