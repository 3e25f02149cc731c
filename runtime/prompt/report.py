"""The context report: what is in the prompt, part by part, with token counts.

Shown by the TUI's inspector, by `/context` in the plain chat and by `hearth chat --context
--json`. The parts' tokens add up exactly to the prompt's tokens (each part is measured as the
growth of the tokenized prompt, or counted directly where it sits inside a message).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ReportPart:
    """One part of the prompt, in prompt order."""

    name: str
    """"persona", "core:<label>", "history", "memories", "time", "instructions" or "user"."""
    tokens: int


@dataclass(frozen=True)
class MemoryUse:
    """A retrieved memory that made it into the prompt."""

    id: str
    kind: str
    score: float
    tokens: int
    text: str
    session_id: int | None
    message_ids: tuple[int, ...]


@dataclass(frozen=True)
class ContextReport:
    """Everything the model saw for one turn, measured with its own tokenizer."""

    parts: tuple[ReportPart, ...]
    memories: tuple[MemoryUse, ...]
    total_tokens: int
    n_ctx: int
    reply_reserve: int
    """Tokens kept free for the reply."""
    history_messages: int
    """Messages of the conversation in the prompt (the newest user message not counted)."""
    dropped_messages: int
    """Older messages left out because the window is full (reachable through memory)."""
    window_start_id: int | None
    """Id of the oldest message in the prompt (None when no history is included)."""
    template: str
    """Where the chat template came from ("gguf" or the fallback)."""
    layout: str
    """Where the persona and the per-turn parts were placed."""

    def tokens_of(self, name: str) -> int:
        """Tokens of the part called `name` (0 when absent)."""
        return sum(part.tokens for part in self.parts if part.name == name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; shape: {"total_tokens", "n_ctx", "reply_reserve", "parts": [{"name",
        "tokens"}], "memories": [{"id", "kind", "score", "tokens", "text", "session_id",
        "message_ids"}], "history_messages", "dropped_messages", "window_start_id",
        "template", "layout"}."""
        return {
            "total_tokens": self.total_tokens,
            "n_ctx": self.n_ctx,
            "reply_reserve": self.reply_reserve,
            "parts": [asdict(part) for part in self.parts],
            "memories": [
                {**asdict(memory), "message_ids": list(memory.message_ids)}
                for memory in self.memories
            ],
            "history_messages": self.history_messages,
            "dropped_messages": self.dropped_messages,
            "window_start_id": self.window_start_id,
            "template": self.template,
            "layout": self.layout,
        }

    def format(self) -> str:
        """A plain-text table for people (no colours: it is read in pipes and by screen readers)."""
        used = f"{self.total_tokens} of {self.n_ctx} tokens"
        lines = [f"Context: {used} ({self.reply_reserve} kept free for the reply)"]
        width = max(len(part.name) for part in self.parts)
        for part in self.parts:
            extra = ""
            if part.name == "history":
                extra = f"  {_count(self.history_messages, 'message')}"
                if self.dropped_messages:
                    extra += f", {_count(self.dropped_messages, 'older one')} left out"
            elif part.name == "memories":
                extra = f"  {len(self.memories)} retrieved"
            lines.append(f"  {part.name:<{width}}  {part.tokens:>6}{extra}")
        for memory in self.memories:
            snippet = " ".join(memory.text.split())
            snippet = snippet if len(snippet) <= 60 else snippet[:59] + "…"
            about = f"{memory.kind}, score {memory.score:.2f}"
            lines.append(f"    memory {memory.id} ({about}): {snippet}")
        lines.append(f"  template: {self.template}; {self.layout}")
        return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
