"""First run: create a companion (name, persona) or import an export (progress, then a summary).

After an import the companion's long-term memory indexes what came in (a second progress bar);
memory trouble is a warning beside the summary, never a failed import."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import ValidationError
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, ProgressBar, Static, TextArea

from runtime.companion import Companion, Persona
from runtime.companions import CompanionRegistry
from runtime.errors import HearthError
from runtime.tui.messages import CompanionChanged


def import_summary(report: object) -> str:
    """What an import added, in words (from ImportReport)."""
    r = report
    lines = [
        f"Imported into {getattr(r, 'companion', '?')}"
        + (" (new companion)" if getattr(r, "companion_created", False) else ""),
        f"  sessions added: {r.sessions_added}, updated: {r.sessions_updated}, "  # type: ignore[attr-defined]
        f"skipped (already there): {r.sessions_skipped_duplicate}",  # type: ignore[attr-defined]
        f"  messages added: {r.messages_added}, memories added: {r.memories_added}",  # type: ignore[attr-defined]
        f"  persona updated: {'yes' if r.persona_updated else 'no'}",  # type: ignore[attr-defined]
    ]
    warnings = getattr(r, "warnings", [])
    if warnings:
        lines.append(f"  warnings: {len(warnings)} (first: {warnings[0].message})")
    return "\n".join(lines)


def imported_slug(registry: CompanionRegistry, report: object) -> str | None:
    """The slug of the companion the import went into. The report names it by display name,
    which need not slugify to its directory (a renamed companion keeps its slug), so look it
    up; None (route to the first companion) if it cannot be found."""
    name = getattr(report, "companion", None)
    if not name:
        return None
    try:
        return registry.find(name).slug
    except HearthError:
        return None


class FirstRunScreen(Screen[None]):
    """No companion yet (or the user asked for another one)."""

    CSS_PATH = "first_run.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "create", "Create"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.imported_slug: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="first-run"):
            yield Static("Welcome to Hearth. Let's meet your companion.", id="welcome")
            yield Label("Create one — name:")
            yield Input(placeholder="e.g. Mira", id="name")
            yield Label("Who they are (persona description, optional):")
            yield TextArea(id="description")
            yield Button("Create companion (Ctrl+S)", id="create", variant="primary")
            yield Label(
                "…or import an export (ChatGPT/Claude zip, SillyTavern, card, JSONL) — path:"
            )
            with Horizontal(id="import-row"):
                yield Input(placeholder="/path/to/export.zip", id="import-path")
                yield Button("Import", id="import")
            yield ProgressBar(id="progress", show_eta=False)
            yield Static("", id="import-status", markup=False)
            yield Button("Continue", id="continue", variant="success")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#progress").display = False
        self.query_one("#continue").display = False
        self.query_one("#name", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":  # only when opened over another screen (F5 → create or import)
            return len(self.app.screen_stack) > 2
        return True

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self.action_create()
        elif event.button.id == "import":
            self.start_import()
        elif event.button.id == "continue":
            self.post_message(CompanionChanged(self.imported_slug))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "import-path":
            self.start_import()
        else:
            self.query_one("#description").focus()

    def action_create(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        description = self.query_one("#description", TextArea).text.strip()
        if not name:
            self.notify(
                "Give your companion a name first.", title="Name needed", severity="warning"
            )
            self.query_one("#name").focus()
            return
        app = self.app
        try:
            persona = Persona(name=name, description=description)
            entry = app.host.registry().create(Companion(persona=persona))  # type: ignore[attr-defined]
        except ValidationError as exc:
            self.notify(exc.errors()[0]["msg"], title="Invalid name", severity="error")
            return
        except HearthError as exc:
            self.notify(exc.message, title="Could not create", severity="error")
            return
        self.notify(f"{entry.name} is here.", title="Companion created")
        self.post_message(CompanionChanged(entry.slug))

    def start_import(self) -> None:
        raw = self.query_one("#import-path", Input).value.strip()
        if not raw:
            self.notify(
                "Type the path of the export file.", title="Path needed", severity="warning"
            )
            return
        path = Path(raw).expanduser()
        if not path.exists():
            self.notify(f"There is no file at {path}.", title="Import", severity="error")
            return
        self.query_one("#progress").display = True
        self.query_one("#import-status", Static).update(f"Importing {path.name}…")
        self.query_one("#import").disabled = True
        self.run_import(path)

    @work(thread=True, exclusive=True, group="import")
    def run_import(self, path: Path) -> None:
        """The import pipeline in a thread; progress reaches the bar via call_from_thread."""
        from runtime.importers.pipeline import ImportRequest, run_import

        def on_progress(progress: object) -> None:
            done = getattr(progress, "bytes_done", 0)
            total = getattr(progress, "bytes_total", 0) or None
            sessions = getattr(progress, "sessions", 0)
            self.app.call_from_thread(self._progress, done, total, sessions)

        try:
            self.app.hearth.ensured_home()  # type: ignore[attr-defined]
            report = run_import(
                self.app.hearth.home, ImportRequest(path=path), on_progress=on_progress
            )  # type: ignore[attr-defined]
        except Exception as exc:
            self.app.call_from_thread(self._import_failed, exc)
            return
        warning = None if report.dry_run else self._index_memory(report)
        self.app.call_from_thread(self._imported, report, warning)

    def _index_memory(self, report: object) -> tuple[str, str] | None:
        """Index the import in long-term memory (worker thread); a warning to show, or None."""
        from runtime.memory import index_companion

        slug = imported_slug(self.app.host.registry(), report)  # type: ignore[attr-defined]
        if slug is None:
            return None

        def on_progress(done: int, total: int) -> None:
            self.app.call_from_thread(self._indexing, done, total)

        try:
            entry = self.app.host.registry().load(slug)  # type: ignore[attr-defined]
            model_dirs = self.app.hearth.config.model_dirs  # type: ignore[attr-defined]
            _, warning = index_companion(entry, on_progress, model_dirs=model_dirs)
        except HearthError as exc:
            return (f"The memory index was not updated: {exc.message}", exc.hint or "")
        return warning

    def _indexing(self, done: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=total or None, progress=done)
        self.query_one("#import-status", Static).update(
            f"Indexing memory… {done:,} of {total:,} messages"
        )

    def _progress(self, done: int, total: int | None, sessions: int) -> None:
        self.query_one(ProgressBar).update(total=total, progress=done)
        self.query_one("#import-status", Static).update(
            f"Importing… {sessions} conversation(s) so far"
        )

    def _import_failed(self, exc: BaseException) -> None:
        from runtime.tui.failures import describe

        message, title = describe(exc)
        self.query_one("#import").disabled = False
        self.query_one("#progress").display = False
        self.query_one("#import-status", Static).update("Import failed: " + message)
        self.notify(message, title=f"Import failed · {title}", severity="error", timeout=10)

    def _imported(self, report: object, warning: tuple[str, str] | None = None) -> None:
        self.query_one("#progress").display = False
        self.query_one("#import").disabled = False
        summary = import_summary(report)
        if warning is not None:
            summary += f"\n  memory: {warning[0]}"
            self.notify(
                "\n".join(filter(None, warning)), title="Memory", severity="warning", timeout=10
            )
        self.query_one("#import-status", Static).update(summary)
        self.imported_slug = imported_slug(self.app.host.registry(), report)  # type: ignore[attr-defined]
        self.query_one("#continue").display = True
        self.query_one("#continue").focus()
