"""Exchanges → windows: pieces of a conversation that fit `--max-length` tokens.

Each window is the system prompt, then consecutive exchanges: it starts on a user turn and ends
on a reply that is trained on. A window repeats the last `overlap` exchanges of the one before
as context (weight 0), so the model sees what led up to a reply while every reply is trained
on once. Lengths are first estimated from each turn's own tokens plus the template's per-turn
cost, then checked by rendering the window with the chat template; a window over the limit
loses exchanges at its end until it fits. An exchange too long to fit any window on its own is
dropped (and counted).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime

from runtime.errors import UsageError
from training.dataset.clean import Exchange
from training.dataset.tokens import TokenCounter

Message = dict[str, object]


@dataclass(frozen=True)
class Window:
    """One training example."""

    messages: list[Message]
    """System prompt, then user/assistant turns; assistant turns carry `weight` 0 or 1."""
    tokens: int
    """Length of the rendered window in tokens."""
    trained_tokens: int
    """Tokens of the replies with weight 1 (their text alone)."""
    created_at: datetime
    """When the window's first user turn was written."""


class Budget:
    """Token arithmetic for one dataset: the system prompt, the limit and the counter."""

    def __init__(self, counter: TokenCounter, system: str, max_length: int) -> None:
        self.counter = counter
        self.max_length = max_length
        self.system: Message = {"role": "system", "content": system}
        self.system_tokens = counter.count_chat([self.system])
        probe = [
            self.system,
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
        ]
        per_two_turns = (
            counter.count_chat(probe)
            - self.system_tokens
            - counter.count_text("a")
            - counter.count_text("b")
        )
        self.per_turn = max(0, per_two_turns // 2)
        if self.system_tokens + 2 * self.per_turn >= max_length:
            raise UsageError(
                f"the persona alone is {self.system_tokens} tokens, which leaves no room for a "
                f"conversation within --max-length {max_length}",
                hint="raise --max-length, or shorten the persona (hearth companion edit)",
            )

    def exact(self, messages: list[Message]) -> int:
        """Tokens of the window rendered with the chat template."""
        return self.counter.count_chat(
            [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
        )


@dataclass(frozen=True)
class Sized:
    """An exchange with its turns' token counts."""

    exchange: Exchange
    user_tokens: int
    reply_tokens: int

    def estimate(self, per_turn: int) -> int:
        return self.user_tokens + self.reply_tokens + 2 * per_turn


@dataclass
class Cut:
    """The windows of one conversation, and how many exchanges could not fit any."""

    windows: list[Window]
    too_long: int


def size(exchanges: list[Exchange], counter: TokenCounter) -> list[Sized]:
    """Token counts of every turn."""
    return [
        Sized(e, counter.count_text(e.user.text), counter.count_text(e.reply.text))
        for e in exchanges
    ]


def _window(budget: Budget, sized: list[Sized], start: int, end: int, new_from: int) -> Window:
    messages: list[Message] = [budget.system]
    trained = 0
    for index in range(start, end):
        item = sized[index]
        weight = int(item.exchange.reply.trained and index >= new_from)
        trained += item.reply_tokens * weight
        messages.append({"role": "user", "content": item.exchange.user.text})
        reply = {"role": "assistant", "content": item.exchange.reply.text, "weight": weight}
        messages.append(reply)
    return Window(messages, 0, trained, sized[start].exchange.user.created_at)


def cut(sized: list[Sized], budget: Budget, overlap: int) -> Cut:
    """Windows over the exchanges, oldest first (see the module docstring)."""
    windows: list[Window] = []
    too_long = 0
    new_from = 0  # exchanges before this one were trained on by an earlier window
    start = 0
    count = len(sized)

    def trainable(index: int) -> bool:
        return sized[index].exchange.reply.trained and index >= new_from

    while start < count:
        total, end = budget.system_tokens, start
        while end < count and total + sized[end].estimate(budget.per_turn) <= budget.max_length:
            total += sized[end].estimate(budget.per_turn)
            end += 1
        end = max(end, start + 1)
        window = None
        while True:
            while end > start and not trainable(end - 1):
                end -= 1
            if end == start:
                break
            candidate = _window(budget, sized, start, end, new_from)
            tokens = budget.exact(candidate.messages)
            if tokens <= budget.max_length:
                window = replace(candidate, tokens=tokens)
                break
            end -= 1
        if window is None:
            if trainable(start):
                too_long += 1  # not even this exchange alone fits
            start += 1
            continue
        windows.append(window)
        new_from = end
        start = max(start + 1, end - overlap)
    return Cut(windows, too_long)


def cap(windows: list[Window], limit: int, rng: random.Random) -> list[Window]:
    """At most `limit` windows, chosen at random by `rng` (seeded: the same every run), kept in
    conversation order."""
    if len(windows) <= limit:
        return windows
    chosen = sorted(rng.sample(range(len(windows)), limit))
    return [windows[index] for index in chosen]
