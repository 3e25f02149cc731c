"""What `hearth train dataset` can be asked to do: one frozen value, built once by the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from training.dataset.boilerplate import DEFAULT_PATTERNS

DEFAULT_MAX_LENGTH = 2048
DEFAULT_OVERLAP = 2
DEFAULT_MAX_PER_CONVERSATION = 64
DEFAULT_EVAL_SHARE = 0.1


@dataclass(frozen=True)
class DatasetOptions:
    """Every choice the dataset builder makes, with the CLI's defaults."""

    model_filter: tuple[str, ...] = ()
    """Train only on replies whose model slug matches one of these (fnmatch, any letter case:
    `gpt-4o` is exactly gpt-4o, `gpt-4o*` takes gpt-4o-mini too); empty: every reply.
    Other replies stay in the windows as context, with weight 0."""
    since: datetime | None = None
    """Only conversations with a message at or after this time; replies older than it are
    context only (weight 0). Timezone-aware."""
    max_length: int = DEFAULT_MAX_LENGTH
    """Longest window in tokens, system prompt and chat template included."""
    overlap: int = DEFAULT_OVERLAP
    """How many exchanges (user turn + reply) a window repeats from the one before, as context
    with weight 0, so every reply is trained on once."""
    max_per_conversation: int = DEFAULT_MAX_PER_CONVERSATION
    """At most this many windows from one conversation (a seeded random choice)."""
    eval_share: float = DEFAULT_EVAL_SHARE
    """Fraction of the conversations, the most recent ones, that go to eval.jsonl."""
    scrub_pii: bool = False
    """Replace e-mail addresses with [email] and phone numbers with [phone]."""
    patterns: tuple[str, ...] = field(default=DEFAULT_PATTERNS)
    """Regular expressions (case-insensitive) of boilerplate lines stripped from replies."""
    seed: int = 0
    """Seed for the per-conversation cap's choice."""
