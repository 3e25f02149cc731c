"""ChatSession: one conversation's turns — send, regenerate, edit, alternatives, undo — for any UI.

The plain chat (`hearth chat --plain`) and the TUI both drive this class; neither touches the
store, the prompt or the engine directly. Every step is persisted as it happens:

1. the user's message is committed before anything is generated;
2. the reply's row is created (marked partial) as soon as the prompt is built;
3. its text is written every `FLUSH_SECONDS` while tokens stream in;
4. at the end the partial mark is cleared — unless generation was cancelled or failed, in
   which case the text so far stays, still marked partial.

So a crash or `kill -9` loses at most the last fraction of a second of a reply, never the user's
message. Regenerating and editing add siblings in the message tree; nothing is overwritten.

Methods block while generating; call them from a worker thread in a UI and pass `on_text` (called
with each piece of text, in that thread) and a `cancel` event (set it from any thread).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from runtime.companion import Companion
from runtime.engine import Engine, GenerationStats
from runtime.errors import UsageError
from runtime.prompt import ContextReport, PromptBuilder, greeting
from runtime.retrieval import Retriever
from runtime.store import Message, PathStep, TranscriptStore, now_utc

if TYPE_CHECKING:
    from runtime.chat.memory import ChatMemory

TextSink = Callable[[str], None]
TITLE_LENGTH = 60


@dataclass(frozen=True)
class Turn:
    """One answered message: what was answered, the stored reply and what it cost."""

    user: Message
    reply: Message
    """The reply as stored at the end (`reply.partial` when cancelled)."""
    stats: GenerationStats
    report: ContextReport


@dataclass(frozen=True)
class BranchPoint:
    """The latest place on the active path with alternatives, and those alternatives."""

    step: PathStep
    """The active message there (`step.position` of `step.alternatives`)."""
    siblings: list[Message]
    """All alternatives, oldest first (position 1 is `siblings[0]`)."""


class ChatSession:
    """Turn logic over a transcript store, an engine and a companion, for one session."""

    FLUSH_SECONDS = 0.25
    """How often a streaming reply is written to the store."""

    def __init__(
        self,
        store: TranscriptStore,
        engine: Engine,
        companion: Companion,
        session_id: int,
        *,
        retriever: Retriever | None = None,
        memory: ChatMemory | None = None,
        user_name: str = "User",
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        """Chat in session `session_id`. `memory`: the companion's long-term memory, which
        retrieves for each prompt and indexes each stored reply; or a plain `retriever` (tests,
        benchmarks; it wins when both are given)."""
        self.store = store
        self.memory = memory
        retriever = retriever if retriever is not None else memory
        self.engine = engine
        self.companion = companion
        self.session_id = session_id
        self.user_name = user_name
        self.clock = clock
        self.builder = PromptBuilder(engine, retriever=retriever, user_name=user_name)
        self.last_report: ContextReport | None = None
        self._window_start: int | None = None

    @property
    def name(self) -> str:
        """The companion's name."""
        return self.companion.persona.name

    def path(self) -> list[PathStep]:
        """The active branch with each message's alternatives."""
        return self.store.active_path_with_alternatives(self.session_id)

    def greet(self) -> Message | None:
        """Store the card's greeting as the first reply of an empty session; None otherwise."""
        text = greeting(self.companion.persona, user=self.user_name)
        if text is None or self.store.active_path(self.session_id):
            return None
        return self.store.append(self.session_id, "assistant", text, metadata={"greeting": True})

    # --- turns ----------------------------------------------------------------------------

    def send(
        self, text: str, *, on_text: TextSink | None = None, cancel: threading.Event | None = None
    ) -> Turn:
        """Add the user's message to the active branch and stream the reply to it."""
        if not text.strip():
            raise UsageError("the message is empty", hint="type something to say")
        session = self.store.get_session(self.session_id)
        user = self.store.append(self.session_id, "user", text)
        if session.title is None:
            self.store.rename_session(self.session_id, _title(text))
        return self._answer(user, None, on_text, cancel)

    def regenerate(
        self,
        message_id: int | None = None,
        *,
        on_text: TextSink | None = None,
        cancel: threading.Event | None = None,
    ) -> Turn:
        """A new reply beside the last one (or a first reply to an unanswered message).

        With `message_id`, beside that reply of the active branch instead: the new reply starts
        a branch there (what came after the old one stays on its branch).
        """
        path = self.store.active_path(self.session_id)
        if not path or path[-1].role == "system":
            raise UsageError("there is no reply to regenerate yet", hint="send a message first")
        last = path[-1] if message_id is None else self._on_path(path, message_id, "assistant")
        if last.role == "user":
            return self._answer(last, None, on_text, cancel)
        if last.parent_id is None:
            raise UsageError(
                "the greeting has no message before it to answer", hint="send a message first"
            )
        user = self.store.get_message(last.parent_id)
        if user.role != "user":
            raise UsageError("that reply does not answer a message of yours")
        if last.id != path[-1].id:
            self.reset_window()  # the kept window may start after the new branch point
        return self._answer(user, last, on_text, cancel)

    def edit(
        self,
        text: str,
        message_id: int | None = None,
        *,
        on_text: TextSink | None = None,
        cancel: threading.Event | None = None,
    ) -> Turn:
        """Replace your last message (or your message `message_id` on the active branch) with
        `text`, as a new version beside it, and answer it."""
        if not text.strip():
            raise UsageError("the new text is empty", hint="/edit NEW TEXT")
        if message_id is None:
            original = self._last_user_message()
        else:
            path = self.store.active_path(self.session_id)
            original = self._on_path(path, message_id, "user")
            if original.id != self._last_user_message().id:
                self.reset_window()
        user = self.store.edit(original.id, text)
        return self._answer(user, None, on_text, cancel)

    @staticmethod
    def _on_path(path: list[Message], message_id: int, role: str) -> Message:
        """Message `message_id` of the active branch, which must be the `role`'s."""
        for message in path:
            if message.id == message_id:
                if message.role != role:
                    mine = "your message" if role == "user" else "a reply"
                    raise UsageError(f"message {message_id} is not {mine}")
                return message
        raise UsageError(
            f"message {message_id} is not on the active branch",
            hint="switch to its branch first",
        )

    def _answer(
        self,
        user: Message,
        replacing: Message | None,
        on_text: TextSink | None,
        cancel: threading.Event | None,
    ) -> Turn:
        """Build the prompt for `user`, create the reply row, stream into it, finish it."""
        path = self.store.active_path(self.session_id)
        path = path[: [m.id for m in path].index(user.id) + 1]
        settings = self.companion.generation
        prompt = self.builder.build(
            self.companion, path, session_id=self.session_id, now=self.clock(),
            max_tokens=settings.max_tokens, keep_from=self._window_start,
            exclude=self._other_versions(user),
        )  # fmt: skip
        self._window_start = prompt.window_start_id
        self.last_report = prompt.report
        generation = self.engine.generate(prompt.tokens, settings, cancel=cancel)
        model = self.engine.model_name
        if replacing is not None:
            reply = self.store.regenerate(replacing.id, "", model=model, partial=True)
        else:
            reply = self.store.append(
                self.session_id, "assistant", "", parent_id=user.id, model=model, partial=True
            )
        pieces = iter(generation)
        finished = False
        flushed = time.monotonic()
        try:
            for piece in pieces:
                if on_text is not None:
                    on_text(piece)
                if time.monotonic() - flushed >= self.FLUSH_SECONDS:
                    self.store.set_text(reply.id, generation.text, partial=True)
                    flushed = time.monotonic()
            finished = True
        finally:
            pieces.close()  # ends generation (and fills in its stats) if we left early
            stats = generation.stats
            done = finished and stats is not None and stats.finish_reason != "cancelled"
            self.store.set_text(reply.id, generation.text, partial=not done)
            if self.memory is not None:
                self.memory.index_in_background()
        assert stats is not None
        return Turn(user, self.store.get_message(reply.id), stats, prompt.report)

    # --- branches -------------------------------------------------------------------------

    def branch_point(self) -> BranchPoint | None:
        """The latest message on the active path that has alternatives (None: no branches)."""
        for step in reversed(self.path()):
            if step.alternatives > 1:
                return BranchPoint(step, self.store.siblings(step.message.id))
        return None

    def switch_alternative(self, number: int) -> list[PathStep]:
        """Show alternative `number` (1-based) at the latest branch point; the new path."""
        point = self.branch_point()
        if point is None:
            raise UsageError(
                "there are no alternatives to switch between",
                hint="/regen makes another reply, /edit another version of your message",
            )
        if not 1 <= number <= len(point.siblings):
            raise UsageError(
                f"there is no alternative {number}: choose 1 to {len(point.siblings)}",
                hint=f"/alt 1 … /alt {len(point.siblings)}",
            )
        self.store.switch_to(point.siblings[number - 1].id)
        self._window_start = None  # another branch: the previous window may not be on it
        return self.path()

    def reset_window(self) -> None:
        """Forget the kept history window: call after switching branches outside this class
        (the store's `switch_to`, `delete_branch`), since the old window may not be on the new
        path."""
        self._window_start = None

    def undo(self) -> int:
        """Delete your last message and the replies to it; how many messages went."""
        deleted = self.store.delete_branch(self._last_user_message().id)
        self._window_start = None
        return deleted

    def context_report(self) -> ContextReport:
        """What the model saw for the last reply (rebuilt from the transcript if needed)."""
        if self.last_report is not None:
            return self.last_report
        path = self.store.active_path(self.session_id)
        users = [index for index, message in enumerate(path) if message.role == "user"]
        if not users:
            raise UsageError("nothing has been said yet", hint="send a message first")
        user = path[users[-1]]
        prompt = self.builder.build(
            self.companion, path[: users[-1] + 1], session_id=self.session_id, now=self.clock(),
            max_tokens=self.companion.generation.max_tokens, keep_from=self._window_start,
            exclude=self._other_versions(user) | {m.id for m in path[users[-1] + 1 :]},
        )  # fmt: skip
        return prompt.report

    def _other_versions(self, user: Message) -> set[int]:
        """Earlier replies to `user` and the other versions of it with their replies: what a
        regeneration or an edit replaces, which retrieval must not offer back as memories."""
        versions = self.store.siblings(user.id)
        replies = [reply for version in versions for reply in self.store.children(version.id)]
        return {message.id for message in (*versions, *replies)} - {user.id}

    def _last_user_message(self) -> Message:
        for message in reversed(self.store.active_path(self.session_id)):
            if message.role == "user":
                return message
        raise UsageError("you have not said anything in this conversation yet")


def _title(text: str) -> str:
    """A session title from its first message: the first line, shortened."""
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1] + "…"
