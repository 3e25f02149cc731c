"""Conversation → exchanges: which replies are trained on, boilerplate and personal data removed.

Per turn, in this order:
- a reply whose model slug does not match `--model-filter`, that was stopped before it
  finished, or that is older than `--since` stays as context but is not trained on;
- boilerplate lines are stripped from replies; a reply left empty is dropped together with
  the user turn(s) it answered (the request is what it refused);
- e-mail addresses and phone numbers are replaced (`--scrub-pii`), in every turn;
- consecutive turns of one speaker are joined (chat templates want turns to alternate);
then the conversation is read as exchanges (user turn, reply): a greeting before the first user
turn and a user turn without a reply are left out. What was dropped or changed is counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

from training.dataset.boilerplate import Boilerplate
from training.dataset.conversations import Conversation, Turn
from training.dataset.options import DatasetOptions
from training.dataset.pii import PiiCounts, scrub

JOIN = "\n\n"


@dataclass
class FilterCounts:
    """What was filtered and why; the `filtered` object of stats.json."""

    counts: Counter[str] = field(default_factory=Counter)
    pii: PiiCounts = field(default_factory=PiiCounts)

    def add(self, reason: str, n: int = 1) -> None:
        self.counts[reason] += n

    def to_json(self) -> dict[str, object]:
        return {
            "model_filter": self.counts["model_filter"],
            "boilerplate_lines": self.counts["boilerplate_lines"],
            "duplicates": self.counts["duplicates"],
            "per_conversation_cap": self.counts["per_conversation_cap"],
            "pii": self.pii.to_json(),
            "empty": self.counts["empty"],
            "too_long_turns": self.counts["too_long_turns"],
            "partial": self.counts["partial"],
            "before_since": self.counts["before_since"],
        }


@dataclass(frozen=True)
class Exchange:
    """A user turn and the reply to it."""

    user: Turn
    reply: Turn


class Cleaner:
    """Applies the options' filters to conversations, counting into `counts`."""

    def __init__(self, options: DatasetOptions, counts: FilterCounts) -> None:
        self.options = options
        self.counts = counts
        self.boilerplate = Boilerplate(options.patterns)
        self._filters = tuple(pattern.casefold() for pattern in options.model_filter)

    def model_matches(self, model: str | None) -> bool:
        """Whether a reply written by `model` passes `--model-filter` (always, without one)."""
        if not self._filters:
            return True
        return model is not None and any(fnmatchcase(model.casefold(), p) for p in self._filters)

    def clean_text(self, text: str, *, reply: bool) -> str:
        """Boilerplate (replies only) and personal data removed from one text."""
        if reply:
            stripped = self.boilerplate.apply(text)
            self.counts.add("boilerplate_lines", stripped.lines_removed)
            text = stripped.text
        if self.options.scrub_pii and text:
            text = scrub(text, self.counts.pii)
        return text

    def _reply(self, turn: Turn) -> Turn | None:
        trained = True
        if turn.partial:
            self.counts.add("partial")
            trained = False
        elif not self.model_matches(turn.model):
            self.counts.add("model_filter")
            trained = False
        elif self.options.since is not None and turn.created_at < self.options.since:
            self.counts.add("before_since")
            trained = False
        text = self.clean_text(turn.text, reply=True)
        if not text:
            self.counts.add("empty")
            return None
        rejected = tuple(
            cleaned
            for cleaned in (self.clean_text(alt, reply=True) for alt in turn.rejected)
            if cleaned and cleaned != text
        )
        return replace(turn, text=text, trained=trained, rejected=rejected)

    def turns(self, conversation: Conversation) -> list[Turn]:
        """The conversation's turns after the per-turn filters (roles not yet alternating)."""
        kept: list[Turn] = []
        for turn in conversation.turns:
            if turn.role == "assistant":
                reply = self._reply(turn)
                if reply is None:
                    while kept and kept[-1].role == "user":
                        kept.pop()  # the request the dropped reply answered
                    continue
                kept.append(reply)
            else:
                kept.append(turn.with_text(self.clean_text(turn.text, reply=False)))
        return kept

    def exchanges(self, conversation: Conversation) -> list[Exchange]:
        """The conversation as (user turn, reply) exchanges, filtered."""
        merged = merge_speakers(self.turns(conversation))
        while merged and merged[0].role != "user":
            merged.pop(0)
        return [
            Exchange(merged[i], merged[i + 1])
            for i in range(0, len(merged) - 1, 2)
            if merged[i + 1].role == "assistant"
        ]


def merge_speakers(turns: list[Turn]) -> list[Turn]:
    """Consecutive turns of one speaker joined into one. A joined reply is trained on only if
    every part is, and keeps no alternatives (they belonged to one part)."""
    merged: list[Turn] = []
    for turn in turns:
        if merged and merged[-1].role == turn.role:
            last = merged[-1]
            merged[-1] = replace(
                last,
                text=last.text + JOIN + turn.text,
                trained=last.trained and turn.trained,
                rejected=(),
            )
        else:
            merged.append(turn)
    return merged
