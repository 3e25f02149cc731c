"""The Textual App: wires screens, key bindings and the command palette, nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from runtime.cli.context import CliContext
from runtime.tui.backend import ChatHost, EngineLoader, load_engine
from runtime.tui.messages import CompanionChanged
from runtime.tui.routing import start_screen


class HearthApp(App[None]):
    """Hearth's main window."""

    TITLE = "Hearth"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit"),
        Binding("ctrl+t", "toggle_dark", "Theme", show=False),
        Binding("f5", "switch_companion", "Companion", show=False),
    ]

    def __init__(
        self,
        ctx: CliContext,
        *,
        loader: EngineLoader = load_engine,
        exit_after_first_frame: bool = False,
    ) -> None:
        super().__init__()
        self.hearth = ctx
        self.host = ChatHost(ctx, loader)
        self.slug: str | None = None
        self.exit_after_first_frame = exit_after_first_frame

    def on_mount(self) -> None:
        self.push_screen(start_screen(self))
        if self.exit_after_first_frame:
            self.call_after_refresh(self.exit)

    def on_unmount(self) -> None:
        self.host.close()

    def on_companion_changed(self, message: CompanionChanged) -> None:
        self.show_companion(message.slug)

    def show_companion(self, slug: str | None) -> None:
        """Route to the right screen for `slug` (first run, model choice or chat)."""
        if slug is not None:
            self.slug = slug
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(start_screen(self))

    def action_help(self) -> None:
        from runtime.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_ab_test(self) -> None:
        from runtime.tui.screens.ab_test import open_ab_test

        open_ab_test(self)

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def action_switch_companion(self) -> None:
        from runtime.errors import HearthError
        from runtime.tui.screens.dialogs import PickScreen

        try:
            entries = self.host.registry().all()
        except HearthError as exc:
            self.notify(exc.message, title="Companions", severity="error")
            return
        choices = [(e.slug, e.name) for e in entries] + [("+new", "+ create or import a companion")]

        def chosen(slug: str | None) -> None:
            if slug == "+new":
                from runtime.tui.screens.first_run import FirstRunScreen

                self.push_screen(FirstRunScreen())
            elif slug is not None:
                self.show_companion(slug)

        self.push_screen(PickScreen("Switch companion", choices), chosen)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help: keys and commands", "Every key binding (F1)", self.action_help)
        yield SystemCommand(
            "Switch companion", "Choose or create a companion (F5)", self.action_switch_companion
        )
        yield SystemCommand("Toggle light/dark theme", "Ctrl+T", self.action_toggle_dark)
        yield SystemCommand(
            "Blind A/B test: base vs tuned", "Pick the better of two replies", self.action_ab_test
        )
        for title, help_text, action in SCREEN_COMMANDS:
            method = getattr(screen, f"action_{action}", None)
            if method is not None:
                yield SystemCommand(title, help_text, method)


SCREEN_COMMANDS = [
    ("Stop the reply", "Esc", "stop"),
    ("Regenerate the latest reply", "Ctrl+R (any reply: Ctrl+O, then r)", "regenerate"),
    ("Edit your last message", "Ctrl+E (any message: Ctrl+O, then e)", "edit_last"),
    ("Focus the messages", "Ctrl+O; then ←/→ alternatives, r e c d", "focus_messages"),
    ("Sessions sidebar", "Ctrl+S: search, open, rename (F2), delete (Del)", "toggle_sessions"),
    ("New session", "Ctrl+N", "new_session"),
    ("Why this reply? (context inspector)", "F2", "inspect"),
    ("Memory", "F3: search, pin, forget, core blocks, history", "memory"),
    ("Persona editor", "F4: card fields, import/export a card", "persona"),
]


def make_app(
    ctx: CliContext, *, loader: EngineLoader = load_engine, exit_after_first_frame: bool = False
) -> HearthApp:
    """The app factory used by `hearth`, tests and the first-frame benchmark."""
    return HearthApp(ctx, loader=loader, exit_after_first_frame=exit_after_first_frame)
