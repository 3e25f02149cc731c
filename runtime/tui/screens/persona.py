"""Persona editor: the card fields, saved to companion.toml; import or export a card."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import ValidationError
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, TextArea

from runtime.companion import Persona
from runtime.errors import HearthError
from runtime.tui.screens.dialogs import AskScreen

LINE_FIELDS = ("name", "creator", "character_version")
TEXT_FIELDS = (
    "description", "personality", "scenario", "first_mes", "mes_example", "system_prompt",
    "post_history_instructions", "creator_notes",
)  # fmt: skip
LABELS = {"first_mes": "first message (greeting)", "mes_example": "example dialogue",
          "post_history_instructions": "post-history instructions"}  # fmt: skip


class PersonaScreen(Screen[None]):
    """Edit who the companion is."""

    CSS_PATH = "persona.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "dismiss", "Back"),
        Binding("f6", "import_card", "Import card"),
        Binding("f7", "export_card", "Export card"),
    ]

    def __init__(self, slug: str) -> None:
        super().__init__()
        self.slug = slug

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="persona"):
            for field in LINE_FIELDS:
                yield Label(LABELS.get(field, field.replace("_", " ")))
                yield Input(id=field)
            yield Label("tags (comma-separated)")
            yield Input(id="tags")
            for field in TEXT_FIELDS:
                yield Label(LABELS.get(field, field.replace("_", " ")))
                yield TextArea(id=field)
            with Horizontal(id="persona-buttons"):
                yield Button("Save (Ctrl+S)", id="save", variant="primary")
                yield Button("Import card (F6)", id="import")
                yield Button("Export card (F7)", id="export")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Persona"
        try:
            self.show(self.app.host.registry().load(self.slug).companion.persona)  # type: ignore[attr-defined]
        except HearthError as exc:
            self.notify(exc.message, title="Persona", severity="error")
        self.query_one("#name").focus()

    def show(self, persona: Persona) -> None:
        for field in LINE_FIELDS:
            self.query_one(f"#{field}", Input).value = getattr(persona, field)
        self.query_one("#tags", Input).value = ", ".join(persona.tags)
        for field in TEXT_FIELDS:
            self.query_one(f"#{field}", TextArea).text = getattr(persona, field)

    def edited(self, base: Persona) -> Persona:
        """The persona as the fields say (other card data, e.g. extensions, kept)."""
        values: dict[str, object] = {f: self.query_one(f"#{f}", Input).value for f in LINE_FIELDS}
        values.update({f: self.query_one(f"#{f}", TextArea).text for f in TEXT_FIELDS})
        tags = self.query_one("#tags", Input).value
        values["tags"] = [t.strip() for t in tags.split(",") if t.strip()]
        return Persona.model_validate({**base.model_dump(), **values})

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {
            "save": self.action_save,
            "import": self.action_import_card,
            "export": self.action_export_card,
        }[event.button.id or "save"]()

    def action_save(self) -> None:
        registry = self.app.host.registry()  # type: ignore[attr-defined]
        try:
            entry = registry.load(self.slug)
            persona = self.edited(entry.companion.persona)
            registry.save(entry, entry.companion.model_copy(update={"persona": persona}))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            self.notify(f"{where}: {error['msg']}", title="Not saved", severity="error")
            return
        except HearthError as exc:
            self.notify(exc.message, title="Not saved", severity="error")
            return
        self.notify("Persona saved; the next reply uses it.", title="Persona")

    def action_import_card(self) -> None:
        def chosen(raw: str | None) -> None:
            if not raw or not raw.strip():
                return
            from runtime.cards import load_card

            try:
                persona = load_card(Path(raw.strip()).expanduser())
            except HearthError as exc:
                self.notify(exc.message, title="Card not imported", severity="error")
                return
            except OSError as exc:
                self.notify(str(exc), title="Card not imported", severity="error")
                return
            self.show(persona)
            self.notify("Card loaded into the fields; Ctrl+S saves it.", title="Card")

        self.app.push_screen(AskScreen("Card to import (.png, .json, .charx)"), chosen)

    def action_export_card(self) -> None:
        def chosen(raw: str | None) -> None:
            if not raw or not raw.strip():
                return
            from runtime.cards import write_card

            try:
                persona = self.edited(self.app.host.registry().load(self.slug).companion.persona)  # type: ignore[attr-defined]
                fmt = write_card(persona, Path(raw.strip()).expanduser())
            except ValidationError as exc:
                self.notify(exc.errors()[0]["msg"], title="Card not written", severity="error")
                return
            except (HearthError, OSError) as exc:
                self.notify(
                    getattr(exc, "message", str(exc)), title="Card not written", severity="error"
                )
                return
            self.notify(f"Card written ({fmt}).", title="Card")

        self.app.push_screen(AskScreen("Write the card to (.png or .json)"), chosen)
