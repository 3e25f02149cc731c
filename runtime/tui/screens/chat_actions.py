"""What the chat screen does with one message (regenerate, edit, flip, delete, copy), with
the sessions sidebar (open, new, rename, delete), and the screens it opens over itself.

Mixins of `ChatScreen`, kept apart so the screen module stays about layout and turns; they use
the screen's `opened`, `generating`, `show_path`, `open_session`, `start_turn` and friends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from runtime.errors import HearthError
from runtime.tui.screens.dialogs import AskScreen, ConfirmScreen
from runtime.tui.widgets.chat_input import ChatInput
from runtime.tui.widgets.message import MessageView
from runtime.tui.widgets.sessions import SessionList

if TYPE_CHECKING:
    from runtime.chat import ChatSession
    from runtime.store import PathStep


class MessageActions:
    """Per-message actions of the chat screen."""

    async def on_message_view_action(self, event: MessageView.Action) -> None:
        step, chat = event.view.step, self.opened.chat if self.opened else None
        if event.action == "input":
            self.query_one(ChatInput).focus()
            return
        if event.action == "copy":
            self.app.copy_to_clipboard(event.view.text)
            self.notify("Copied to the clipboard.", title="Copy")
            return
        if step is None or chat is None or self.generating:
            return
        path = chat.path()
        latest = bool(path) and path[-1].message.id == step.message.id
        if event.action == "regenerate":
            if step.message.role != "assistant" or step.message.metadata.get("greeting"):
                self.notify("Choose a reply of your companion's to regenerate.", title="Regenerate")
                return
            await self.start_turn("regenerate", target=None if latest else step.message.id)
        elif event.action == "edit":
            if step.message.role != "user":
                self.notify("Only your own messages can be edited.", title="Edit")
                return
            mine = [s for s in path if s.message.role == "user"]
            self.start_editing(step.message, latest=mine[-1].message.id == step.message.id)
        elif event.action in ("previous", "next"):
            await self._flip(chat, step, -1 if event.action == "previous" else 1)
        elif event.action == "delete":
            self._delete_branch(chat, step)

    async def _flip(self, chat: ChatSession, step: PathStep, delta: int) -> None:
        siblings = chat.store.siblings(step.message.id)
        index = step.position - 1 + delta
        if len(siblings) < 2 or not 0 <= index < len(siblings):
            self.notify(
                f"No other alternative that way ({step.position}/{step.alternatives}).",
                title="Alternatives",
            )
            return
        chat.store.switch_to(siblings[index].id)
        chat.reset_window()
        await self._show_and_focus(chat.path(), siblings[index].id)

    async def _show_and_focus(self, path: list[PathStep], message_id: int) -> None:
        await self.show_path(path)
        for view in self.query(MessageView):
            if view.step is not None and view.step.message.id == message_id:
                view.focus()
                view.scroll_visible(animate=False)

    def _delete_branch(self, chat: ChatSession, step: PathStep) -> None:
        async def confirmed(yes: bool | None) -> None:
            if yes:
                count = chat.store.delete_branch(step.message.id)
                chat.reset_window()
                await self.show_path(chat.path())
                self.notify(f"Deleted {count} message(s).", title="Delete branch")

        self.app.push_screen(
            ConfirmScreen("Delete this message and every reply after it?"), confirmed
        )


class SessionActions:
    """The sessions sidebar of the chat screen."""

    def action_toggle_sessions(self) -> None:
        sidebar = self.query_one(SessionList)
        sidebar.display = not sidebar.display
        if sidebar.display:
            sidebar.query_one("#session-search").focus()
        else:
            self.query_one(ChatInput).focus()

    def action_new_session(self) -> None:
        if not self.generating:
            self.open_session(None, new=True)

    def on_session_list_chosen(self, event: SessionList.Chosen) -> None:
        if self.opened is None or self.generating:
            return
        store = self.opened.chat.store
        target = event.session_id
        if event.action == "new":
            self.action_new_session()
        elif event.action == "open" and target is not None:
            self.open_session(target)
        elif event.action == "rename" and target is not None:
            current = store.get_session(target).title or ""

            def renamed(title: str | None) -> None:
                if title is not None:
                    store.rename_session(target, title.strip() or None)
                    self.refresh_sessions()

            self.app.push_screen(AskScreen("Rename the session", current), renamed)
        elif event.action == "delete" and target is not None:
            title = store.get_session(target).title or "untitled"

            def deleted(yes: bool | None) -> None:
                if not yes:
                    return
                store.delete_session(target)
                if self.opened is not None and target == self.opened.chat.session_id:
                    self.open_session(None)
                else:
                    self.refresh_sessions()
                self.notify(f"Deleted “{title}”.", title="Sessions")

            self.app.push_screen(ConfirmScreen(f"Delete the session “{title}” for good?"), deleted)


def branch_point_path(path: list[PathStep], target: int) -> list[PathStep]:
    """The steps of `path` before message `target` (all of it when the target is not there)."""
    for index, step in enumerate(path):
        if step.message.id == target:
            return path[:index]
    return path


class PanelActions:
    """The screens the chat opens over itself: why this reply (inspector), memory, persona,
    another companion."""

    def action_inspect(self) -> None:
        if self.opened is not None and not self.generating:
            self._load_report()

    @work(thread=True, exclusive=True, group="chat")
    def _load_report(self) -> None:
        assert self.opened is not None
        try:
            report = self.opened.chat.context_report()
        except Exception as exc:
            self._on_ui(self._failed, exc, "")
            return
        from runtime.tui.screens.inspector import InspectorScreen

        companion = self.opened.chat.companion
        self._on_ui(self.app.push_screen, InspectorScreen(report, companion))

    def action_memory(self) -> None:
        from runtime.tui.screens.memory import MemoryScreen

        chat = self.opened.chat if self.opened else None
        self.app.push_screen(MemoryScreen(self.slug, chat), self._companion_edited)

    def action_persona(self) -> None:
        from runtime.tui.screens.persona import PersonaScreen

        self.app.push_screen(PersonaScreen(self.slug), self._companion_edited)

    def _companion_edited(self, _result: object = None) -> None:
        """Persona or core memories changed: the next prompt uses the saved companion."""
        try:
            entry = self.hearth.host.registry().load(self.slug)
        except HearthError as exc:
            self._failed(exc, "")
            return
        self.companion_name = entry.name
        self.sub_title = entry.name
        if self.opened is not None:
            self.opened.chat.companion = entry.companion

    def action_switch_companion(self) -> None:
        self.hearth.action_switch_companion()
