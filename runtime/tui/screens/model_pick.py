"""No model yet: the GGUF files Hearth found, a path box, and how to download a recommended one."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from runtime.errors import HearthError
from runtime.tui.messages import CompanionChanged

DOWNLOAD_HELP = (
    "No model you like? Download a recommended one (the only command that uses the network):\n"
    "  hearth model pull --list      # recommended models and their sizes\n"
    "  hearth model pull NAME        # download one into the data home's models/\n"
    "Or put a .gguf file in models/, then press R to look again."
)


def model_line(model: object) -> str:
    """'name · Q4_K_M · llama · 1.2 GB' for the list."""
    size = getattr(model, "size_bytes", 0) / 1e9
    bits = [getattr(model, "name", "?"), getattr(model, "quantization", None),
            getattr(model, "architecture", None), f"{size:.2f} GB"]  # fmt: skip
    return " · ".join(str(bit) for bit in bits if bit)


class ModelPickScreen(Screen[None]):
    """Choose the companion's chat model; it is saved to companion.toml."""

    CSS_PATH = "model_pick.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "rescan", "Look again")]

    def __init__(self, slug: str, name: str) -> None:
        super().__init__()
        self.slug, self.companion_name = slug, name
        self.paths: dict[str, Path] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="model-pick"):
            yield Static(
                f"{self.companion_name} needs a chat model (a GGUF file).", id="model-title"
            )
            yield Label("Models found — pick one with Enter:")
            yield OptionList(id="models")
            yield Label("…or type the path of a .gguf file:")
            yield Input(placeholder="/path/to/model.gguf", id="model-path")
            yield Static(DOWNLOAD_HELP, id="download-help", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.action_rescan()

    def action_rescan(self) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_option(Option("looking for models…", id="-", disabled=True))
        self.scan()

    @work(thread=True, exclusive=True, group="scan")
    def scan(self) -> None:
        """Read GGUF headers in a thread (many or large files take a moment)."""
        from runtime.models.discovery import discover_models

        try:
            found = discover_models(self.app.hearth.home, self.app.hearth.config)  # type: ignore[attr-defined]
        except HearthError as exc:
            self.app.call_from_thread(self.notify, exc.message, title="Models", severity="error")
            found = []
        chat = [m for m in found if m.kind in ("chat", "unknown") and m.error is None]
        self.app.call_from_thread(self._show, chat)

    def _show(self, models: list) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        self.paths = {str(i): m.path for i, m in enumerate(models)}
        if not models:
            options.add_option(Option("none found (see below)", id="-", disabled=True))
            self.query_one("#model-path").focus()
            return
        for key, model in zip(self.paths, models, strict=True):
            options.add_option(Option(model_line(model), id=key))
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        path = self.paths.get(event.option.id or "")
        if path is not None:
            self.choose(path)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.choose(Path(event.value.strip()))

    def choose(self, path: Path) -> None:
        """Save the model to the companion and go on to the chat."""
        from runtime.companions import check_model_path

        registry = self.app.host.registry()  # type: ignore[attr-defined]
        try:
            model = check_model_path(path)
            entry = registry.load(self.slug)
            companion = entry.companion.model_copy(
                update={"model": entry.companion.model.model_copy(update={"chat": model})}
            )
            registry.save(entry, companion)
        except HearthError as exc:
            self.notify(exc.message, title="Model", severity="error")
            return
        self.notify(f"{self.companion_name} now runs on {model.name}.", title="Model chosen")
        self.post_message(CompanionChanged(self.slug))
