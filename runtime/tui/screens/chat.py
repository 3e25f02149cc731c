"""The chat: messages on the active branch, the message box, the sessions sidebar, a status bar.

Turns go through `runtime.chat.ChatSession` in a worker thread (`group="chat"`, exclusive);
streamed text reaches the screen only through `call_from_thread` (`_on_ui`). Esc sets the
event, which the engine checks at every token, so generation stops at once and the partial
reply stays stored (marked partial).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import get_current_worker

from runtime.chat import ChatSession, parse
from runtime.errors import HearthError
from runtime.tui.backend import model_label
from runtime.tui.failures import describe
from runtime.tui.screens.chat_actions import (
    MessageActions,
    PanelActions,
    SessionActions,
    branch_point_path,
)
from runtime.tui.widgets.chat_input import ChatInput
from runtime.tui.widgets.message import MessageView
from runtime.tui.widgets.sessions import SessionList
from runtime.tui.widgets.status import StatusBar

if TYPE_CHECKING:
    from runtime.chat import OpenChat, Turn
    from runtime.prompt import ContextReport
    from runtime.store import Message, PathStep, SessionSummary
    from runtime.tui.app import HearthApp


SHOWN_MESSAGES = 200
"""Newest messages shown; older ones stay in the store (and in memory)."""
FLUSH_SECONDS = 0.05
"""How often streamed text is handed to the screen."""


class ChatScreen(MessageActions, SessionActions, PanelActions, Screen[None]):
    """Talk with one companion."""

    CSS_PATH = "chat.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        # The footer fits about six keys at 80 columns: send (ChatInput), stop, regenerate,
        # sessions, help and quit (the app) show; the rest are in help (F1) and the palette.
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+r", "regenerate", "Regen"),
        Binding("ctrl+s", "toggle_sessions", "Sessions"),
        Binding("ctrl+e", "edit_last", "Edit", priority=True, show=False),
        Binding("ctrl+o", "focus_messages", "Messages", show=False),
        Binding("ctrl+n", "new_session", "New", show=False),
        Binding("f2", "inspect", "Why?", show=False),
        Binding("f3", "memory", "Memory", show=False),
        Binding("f4", "persona", "Persona", show=False),
        Binding("f5", "switch_companion", "Companion", show=False),
    ]

    def __init__(self, slug: str, name: str) -> None:
        super().__init__()
        self.slug, self.companion_name = slug, name
        self.opened: OpenChat | None = None
        self.generating = False
        self.turns = 0
        """Turns finished (answered, stopped or failed) since the screen opened."""
        self.editing: int | None = None
        """The id of the message of yours being edited (its text is in the input), if any."""
        self._cancel: threading.Event | None = None
        self._gone = threading.Event()
        """Set when the screen is unmounted: a chat that opens after that is closed at once."""

    @property
    def hearth(self) -> HearthApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield SessionList()
            with Vertical(id="main"):
                yield VerticalScroll(id="messages")
                yield ChatInput(id="input")
                yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.companion_name
        self.query_one(ChatInput).focus()
        self.open_session(None)

    def on_unmount(self) -> None:
        self._gone.set()
        if self._cancel is not None:
            self._cancel.set()
        if self.opened is not None:
            self.opened.close()

    # --- opening --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="chat")
    def open_session(self, session_id: int | None, new: bool = False) -> None:
        """Load the model (first time) and open a session: slow, so in a thread."""
        self._on_ui(lambda: self.status.set(state="loading model…"))
        try:
            opened = self.hearth.host.open(self.slug, session_id=session_id, new=new)
            path = opened.chat.path()
            summaries = opened.chat.store.list_sessions()
            report = _report_or_none(opened.chat)
        except Exception as exc:
            self._on_ui(self._failed, exc, "")
            return
        if not self._on_ui(self._opened, opened, path, summaries, report):
            opened.close()  # the screen (or the app) went while it opened: nobody else will
            return
        warning = opened.memory_warning  # waits for the memory to open: fine in this thread
        if warning:
            self._on_ui(
                self.notify, "\n".join(warning), title="Memory", severity="warning", timeout=10
            )

    def _on_ui(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`callback(*args)` on the UI thread, from a worker; None once the app has stopped."""
        if self._gone.is_set():
            return None
        try:
            return self.app.call_from_thread(callback, *args, **kwargs)
        except RuntimeError:  # "App is not running": the user quit meanwhile
            return None

    async def _opened(
        self,
        opened: OpenChat,
        path: list[PathStep],
        summaries: list[SessionSummary],
        report: ContextReport | None,
    ) -> bool:
        if self._gone.is_set():
            return False
        if self.opened is not None and self.opened is not opened:
            self.opened.close()
        self.opened = opened
        model, adapter = model_label(opened.entry, self.hearth.host)
        used = report.total_tokens if report else None
        total = report.n_ctx if report else opened.chat.engine.n_ctx
        self.status.set(model=model, adapter=adapter, used=used, total=total, state="ready")
        self.query_one(SessionList).show(summaries, opened.session.id)
        await self.show_path(path)
        return True

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    async def show_path(self, path: list[PathStep]) -> None:
        """Show the active branch (UI thread)."""
        box = self.query_one("#messages", VerticalScroll)
        await box.remove_children()
        await box.mount_all(
            [MessageView(step, self.companion_name) for step in path[-SHOWN_MESSAGES:]]
        )
        box.scroll_end(animate=False)

    def refresh_sessions(self) -> None:
        if self.opened is not None:
            chat = self.opened.chat
            self.query_one(SessionList).show(chat.store.list_sessions(), chat.session_id)

    # --- turns ----------------------------------------------------------------------------

    async def on_chat_input_submitted(self, event: ChatInput.Submitted) -> None:
        text = event.text
        if not text.strip():
            return
        if self.opened is None or self.generating:
            self.notify(
                "Wait a moment: "
                + (
                    "the model is still loading."
                    if self.opened is None
                    else "a reply is being written."
                ),
                title="Not yet",
            )
            return
        try:
            command = parse(text)
        except HearthError as exc:
            self._failed(exc, text)
            return
        event.input.text = ""
        if self.editing is not None and command.name == "say":
            target, self.editing = self.editing, None
            await self.start_turn("edit", text, target=target)
        elif command.name == "say":
            await self.start_turn("send", command.text)
        elif command.name in ("regen", "edit"):
            await self.start_turn("regenerate" if command.name == "regen" else "edit", command.text)
        elif command.name == "alt":
            self._alternative_command(command.number)
        elif command.name == "undo":
            self.opened.chat.undo()
            await self.show_path(self.opened.chat.path())
        elif command.name == "context":
            self.action_inspect()
        elif command.name == "help":
            self.app.action_help()  # type: ignore[attr-defined]
        elif command.name == "quit":
            self.app.exit()

    async def start_turn(self, kind: str, text: str = "", target: int | None = None) -> None:
        """Show the user's text and an empty reply, then stream into it from a worker.

        `target`: the earlier reply to regenerate or message of yours to edit (default: the
        latest); the messages after the new branch point leave the screen while it streams.
        """
        if self.opened is None or self.generating:
            return
        if target is not None:
            await self.show_path(branch_point_path(self.opened.chat.path(), target))
        box = self.query_one("#messages", VerticalScroll)
        if kind in ("send", "edit"):
            mine = MessageView(None, self.companion_name, role="user")
            await box.mount(mine)
            mine._streamed = text
            await mine.query_one("Markdown").update(text)  # type: ignore[attr-defined]
        reply = MessageView(None, self.companion_name)
        await box.mount(reply)
        box.scroll_end(animate=False)
        self.generating = True
        self._cancel = threading.Event()
        self.status.set(state="writing… (Esc stops)")
        self.run_turn(kind, text, target, reply, self._cancel)

    @work(thread=True, exclusive=True, group="chat")
    def run_turn(
        self, kind: str, text: str, target: int | None, view: MessageView, cancel: threading.Event
    ) -> None:
        """One turn through ChatSession, streamed into `view`."""
        worker = get_current_worker()
        assert self.opened is not None
        chat = self.opened.chat
        pending: list[str] = []
        flushed = time.monotonic()

        def on_text(piece: str) -> None:
            nonlocal flushed
            if worker.is_cancelled:
                cancel.set()
            pending.append(piece)
            if time.monotonic() - flushed >= FLUSH_SECONDS and not cancel.is_set():
                self._on_ui(view.append, "".join(pending))
                pending.clear()
                flushed = time.monotonic()

        try:
            if kind == "send":
                turn = chat.send(text, on_text=on_text, cancel=cancel)
            elif kind == "edit":
                turn = chat.edit(text, target, on_text=on_text, cancel=cancel)
            else:
                turn = chat.regenerate(target, on_text=on_text, cancel=cancel)
        except Exception as exc:
            if kind == "send":
                _drop_unanswered(chat, text)
            self._on_ui(self._turn_failed, exc, text, chat.path())
            return
        self._on_ui(self._turn_done, turn, chat.path())

    async def _turn_done(self, turn: Turn, path: list[PathStep]) -> None:
        stopped = turn.reply.partial
        self.status.set(
            used=turn.report.total_tokens, total=turn.report.n_ctx,
            tokens_per_second=turn.stats.tokens_per_second,
            state="stopped" if stopped else "ready",
        )  # fmt: skip
        await self.show_path(path)
        self.refresh_sessions()
        self.generating = False
        self.turns += 1

    async def _turn_failed(self, exc: BaseException, text: str, path: list[PathStep]) -> None:
        self.status.set(state="ready")
        await self.show_path(path)
        self.generating = False
        self.turns += 1
        self._failed(exc, text)

    def _failed(self, exc: BaseException, text: str) -> None:
        message, title = describe(exc)
        self.notify(message, title=title, severity="error", timeout=8)
        if self.opened is None:
            self.status.set(state="not loaded — see the message")
        if text:
            self.query_one(ChatInput).put_back(text)

    def action_stop(self) -> None:
        """Esc: stop the reply at once (or leave edit mode)."""
        if self.generating and self._cancel is not None:
            self._cancel.set()
            self.status.set(state="stopping…")
        elif self.editing is not None:
            self.editing = None
            self.query_one(ChatInput).text = ""
            self.status.set(state="ready")

    async def action_regenerate(self) -> None:
        await self.start_turn("regenerate")

    def action_edit_last(self) -> None:
        if self.opened is None or self.generating:
            return
        mine = [s for s in self.opened.chat.path() if s.message.role == "user"]
        if not mine:
            self.notify("You have not said anything yet.", title="Nothing to edit")
            return
        self.start_editing(mine[-1].message, latest=True)

    def start_editing(self, message: Message, *, latest: bool) -> None:
        """Put `message` (one of yours) in the input; Enter sends the new version."""
        self.editing = message.id
        box = self.query_one(ChatInput)
        box.put_back(message.text)
        which = "your last message" if latest else "an earlier message (a new branch from there)"
        self.status.set(state=f"editing {which} — Enter resends, Esc cancels")

    def _alternative_command(self, number: int | None) -> None:
        assert self.opened is not None
        chat = self.opened.chat
        try:
            if number is None:
                point = chat.branch_point()
                if point is None:
                    self.notify("There are no alternatives yet.", title="/alt")
                else:
                    self.notify(
                        f"{len(point.siblings)} alternatives; /alt N shows one.", title="/alt"
                    )
                return
            path = chat.switch_alternative(number)
        except HearthError as exc:
            self._failed(exc, "")
            return
        self.run_worker(self.show_path(path))

    def action_focus_messages(self) -> None:
        views = list(self.query(MessageView))
        if views:
            views[-1].focus()
            views[-1].scroll_visible(animate=False)


def _report_or_none(chat: ChatSession) -> ContextReport | None:
    try:
        return chat.context_report()
    except HearthError:
        return None


def _drop_unanswered(chat: ChatSession, text: str) -> None:
    """A failed send leaves the user's message stored without a reply: remove it, since the
    text goes back into the input (sending again must not store it twice)."""
    path = chat.store.active_path(chat.session_id)
    if path and path[-1].role == "user" and path[-1].text == text:
        chat.undo()
