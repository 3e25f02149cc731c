"""Prompt assembly: persona, core memories, history, per-turn parts, newest turn, under a budget.

    builder = PromptBuilder(engine, retriever=retriever)
    prompt = builder.build(companion, path, session_id=3, now=now_utc(), max_tokens=512)
    engine.generate(prompt.tokens, companion.generation)
    prompt.report.format()

Order (DESIGN, "Prompt order for cache reuse"): the stable parts first (persona, core memories),
then the conversation's active path (append-only), then the per-turn parts (retrieved memories,
the current date and time, the card's post-history instructions) just before the newest user
message. Between two turns the rendered prompt therefore only grows at its end, and llama.cpp
evaluates just the new tokens (see `Layout` for where each part goes in the chat template).

Budget, in the model's own tokens: the context window minus a reserve for the reply
(`max_tokens`, at most a quarter of the window) minus a reserve for the per-turn parts (an eighth
of the window, at most 1024 tokens); history gets the rest, dropped in blocks from the oldest end
when it does not fit (`runtime.prompt.window`). Turns that fall out of the window are not lost:
only the messages inside the window are excluded from retrieval, so the others can come back as
memories when they matter.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from runtime.companion import Companion
from runtime.engine.template import ChatMessage, ChatTemplate
from runtime.errors import HearthError
from runtime.prompt import persona as persona_parts
from runtime.prompt.layout import PART_SEPARATOR, Layout, arrange
from runtime.prompt.report import ContextReport, MemoryUse, ReportPart
from runtime.prompt.window import Entry, choose_start
from runtime.retrieval import RetrievedMemory, Retriever
from runtime.store import Message

BLOCK_FRACTION = 0.3
"""History is dropped in blocks of this share of the context window."""
PER_TURN_FRACTION = 0.125
PER_TURN_MAX = 1024
REPLY_FRACTION = 0.25
MEMORIES_K = 4
MEMORIES_HEADER = "Things {char} remembers that may matter now:"


class ContextTooSmallError(HearthError):
    """The persona, core memories and newest message alone do not fit the context window."""


class PromptModel(Protocol):
    """What assembly needs from the engine: its template, tokenizer and window."""

    @property
    def n_ctx(self) -> int: ...

    @property
    def template(self) -> ChatTemplate: ...

    def tokenize(self, text: str) -> list[int]: ...

    def count_tokens(self, text: str) -> int: ...


@dataclass(frozen=True)
class Prompt:
    """An assembled prompt: its text, its tokens, the messages rendered, and the report."""

    text: str
    tokens: list[int]
    messages: list[ChatMessage]
    report: ContextReport
    window_start_id: int | None
    """The oldest message kept; pass it back as `keep_from` so the window never moves back."""


@dataclass(frozen=True)
class PerTurn:
    """The parts that change every turn, placed just before the newest user message."""

    memories: str
    """The retrieved memories under their header ("" when none were used)."""
    time: str
    notes: str
    """The card's post-history instructions ("" when it has none)."""
    used: list[tuple[RetrievedMemory, str]]
    """The memories included, each with its line in the prompt."""

    @property
    def text(self) -> str:
        """The parts joined, in order, without empty ones."""
        return PART_SEPARATOR.join(p for p in (self.memories, self.time, self.notes) if p)


def time_line(now: datetime) -> str:
    """The current local date and time, to the minute ("Tuesday, 14 January 2025, 20:30")."""
    local = now.astimezone()
    offset = local.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "local time"
    return f"Current date and time: {local:%A, %d %B %Y, %H:%M} ({zone})."


def memory_line(memory: RetrievedMemory) -> str:
    """One retrieved memory as a bullet, dated when its date is known."""
    text = " ".join(memory.text.split())
    return f"- ({memory.created_at:%Y-%m-%d}) {text}" if memory.created_at else f"- {text}"


class PromptBuilder:
    """Builds prompts for one engine; caches per-message token counts between turns."""

    def __init__(
        self,
        model: PromptModel,
        *,
        retriever: Retriever | None = None,
        user_name: str = "User",
        memories_k: int = MEMORIES_K,
        block_fraction: float = BLOCK_FRACTION,
    ) -> None:
        self.model = model
        self.retriever = retriever
        self.user_name = user_name
        self.memories_k = memories_k
        self.block_tokens = max(64, int(model.n_ctx * block_fraction))
        self.layout = Layout.for_traits(model.template.traits)
        self._counts: dict[tuple[int, int], int] = {}

    # --- the parts ------------------------------------------------------------------------

    def _estimate(self, message: Message) -> int:
        """Tokens of a message's text plus a few for its template framing (cached by id)."""
        key = (message.id, len(message.text))
        if key not in self._counts:
            self._counts[key] = self.model.count_tokens(message.text) + 8
        return self._counts[key]

    def _render(self, messages: list[ChatMessage], *, generation: bool = True) -> list[int]:
        return self.model.tokenize(
            self.model.template.render(messages, add_generation_prompt=generation)
        )

    # --- building -------------------------------------------------------------------------

    def build(
        self,
        companion: Companion,
        path: Sequence[Message],
        *,
        session_id: int | None,
        now: datetime,
        max_tokens: int,
        keep_from: int | None = None,
        exclude: Collection[int] = (),
    ) -> Prompt:
        """The prompt answering the last message of `path` (the active path; it ends with the
        user message being answered). `keep_from` is the previous prompt's window start;
        `exclude` names more messages retrieval must not bring back (replies being replaced)."""
        if not path or path[-1].role != "user":
            raise ValueError("the path must end with the user message being answered")
        user, char = self.user_name, companion.persona.name
        history = [m for m in path[:-1] if m.role != "system" and m.text.strip()]
        newest = path[-1].text
        sections = persona_parts.system_sections(companion, user=user)
        system = persona_parts.system_text(sections)
        n_ctx = self.model.n_ctx
        reply_reserve = min(max_tokens, int(n_ctx * REPLY_FRACTION))
        per_turn_reserve = min(PER_TURN_MAX, int(n_ctx * PER_TURN_FRACTION))
        limit = n_ctx - reply_reserve - per_turn_reserve
        bare = self._render(arrange(self.layout, system, [], "", newest))
        if len(bare) + reply_reserve > n_ctx:
            raise ContextTooSmallError(
                f"the persona, core memories and your message need {len(bare)} tokens and the "
                f"reply {reply_reserve}, more than the context window of {n_ctx} tokens",
                hint=f"raise it (hearth companion edit {char} --set "
                "generation.context_size=8192), or shorten the persona or core memories",
            )
        limit = max(limit, len(bare))  # a tight window squeezes the per-turn parts first

        chat = [{"role": m.role, "content": m.text} for m in history]
        entries = [Entry(m.role, self._estimate(m)) for m in history]
        ids = [m.id for m in history]
        floor = ids.index(keep_from) if keep_from in ids else 0

        def fits(start: int) -> bool:
            messages = arrange(self.layout, system, chat[start:], "", newest)
            return len(self._render(messages)) <= limit

        start = choose_start(
            entries, block_tokens=self.block_tokens, fixed_tokens=len(bare), limit=limit,
            fits=fits, floor=floor,
        )  # fmt: skip
        kept = chat[start:]
        without = len(self._render(arrange(self.layout, system, kept, "", newest)))
        room = n_ctx - reply_reserve - without  # at least the reserve; more while history is short
        window_ids = set(ids[start:]) | {path[-1].id} | set(exclude)
        per_turn = self._per_turn(companion, newest, session_id, window_ids, now, room)
        messages = arrange(self.layout, system, kept, per_turn.text, newest)
        text = self.model.template.render(messages)
        tokens = self.model.tokenize(text)
        report = self._report(sections, kept, history, start, per_turn, tokens, reply_reserve)
        return Prompt(text, tokens, messages, report, ids[start] if kept else None)

    def _per_turn(
        self,
        companion: Companion,
        query: str,
        session_id: int | None,
        window_ids: set[int],
        now: datetime,
        room: int,
    ) -> PerTurn:
        """The per-turn parts within `room` tokens: memories (best first), time, instructions."""
        when = time_line(now)
        notes = persona_parts.instructions(companion.persona, user=self.user_name)
        header = MEMORIES_HEADER.format(char=companion.persona.name)
        count = self.model.count_tokens
        budget = room - count(when) - count(notes) - count(header) - 8
        used: list[tuple[RetrievedMemory, str]] = []
        if self.retriever is not None and budget > 0:
            found = self.retriever.retrieve(
                query, session_id=session_id, exclude_message_ids=window_ids, k=self.memories_k
            )
            for memory in found:
                line = memory_line(memory)
                cost = count(line) + 1
                if cost <= budget:
                    used.append((memory, line))
                    budget -= cost
        block = "\n".join([header, *(line for _, line in used)]) if used else ""
        return PerTurn(block, when, notes, used)

    def _report(
        self,
        sections: list[persona_parts.Section],
        kept: list[ChatMessage],
        history: list[Message],
        start: int,
        per_turn: PerTurn,
        tokens: list[int],
        reply_reserve: int,
    ) -> ContextReport:
        """Measure every part; they add up to `len(tokens)` exactly.

        The system message and the history are measured as growth of the rendered prompt
        (template framing included); parts inside a message are counted on their own text,
        and the newest user turn gets the rest.
        """
        count = self.model.count_tokens
        system = persona_parts.system_text(sections)
        opening = arrange(self.layout, system, [], "", "x")[:-1]
        system_tokens = len(self._render(opening, generation=False)) if opening else count(system)
        history_tokens = 0
        if kept:
            with_history = arrange(self.layout, system, kept, "", "x")[:-1]
            history_tokens = len(self._render(with_history, generation=False)) - system_tokens
        core = [ReportPart(s.name, count(s.text)) for s in sections[1:]]
        parts = [
            ReportPart("persona", system_tokens - sum(part.tokens for part in core)),
            *core,
            ReportPart("history", history_tokens),
        ]
        for name, text in (("memories", per_turn.memories), ("time", per_turn.time)):
            if text:
                parts.append(ReportPart(name, count(text)))
        if per_turn.notes:
            parts.append(ReportPart("instructions", count(per_turn.notes)))
        parts.append(ReportPart("user", len(tokens) - sum(part.tokens for part in parts)))
        memories = [
            MemoryUse(m.id, m.kind, m.score, count(line), m.text, m.session_id, m.message_ids)
            for m, line in per_turn.used
        ]
        return ContextReport(
            parts=tuple(parts),
            memories=tuple(memories),
            total_tokens=len(tokens),
            n_ctx=self.model.n_ctx,
            reply_reserve=reply_reserve,
            history_messages=len(history) - start,
            dropped_messages=start,
            window_start_id=history[start].id if start < len(history) else None,
            template=self.model.template.origin,
            layout=self.layout.describe(),
        )
