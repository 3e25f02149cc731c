"""Why this reply: exactly what the last prompt held, from the context report — the persona
parts and core memory blocks with their tokens, the retrieved memories with scores and sources,
and how much history."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from runtime.companion import Companion
from runtime.prompt import ContextReport


def memory_source(session_id: int | None, message_ids: tuple[int, ...]) -> str:
    """'session 3, messages 12–13' or 'imported'."""
    if session_id is None and not message_ids:
        return "stored memory"
    where = f"session {session_id}" if session_id is not None else "no session"
    if message_ids:
        ids = ", ".join(str(i) for i in message_ids[:4]) + ("…" if len(message_ids) > 4 else "")
        where += f", message {ids}"
    return where


def summary_lines(report: ContextReport, companion: Companion) -> list[str]:
    """The overview at the top of the inspector."""
    used = report.total_tokens
    lines = [
        f"Prompt: {used} of {report.n_ctx} tokens ({report.reply_reserve} kept for the reply)",
        f"History: {report.history_messages} message(s) in the prompt"
        + (
            f", {report.dropped_messages} older left out (reachable through memory)"
            if report.dropped_messages
            else ""
        ),
        f"Retrieved memories: {len(report.memories)}",
        f"Template: {report.template}; {report.layout}",
    ]
    core = [p.name.removeprefix("core:") for p in report.parts if p.name.startswith("core:")]
    lines.append("Core memories in the prompt: " + (", ".join(core) if core else "none"))
    return lines


class InspectorScreen(ModalScreen[None]):
    """The context report of the last reply."""

    CSS_PATH = "inspector.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,f2", "dismiss", "Close")]

    def __init__(self, report: ContextReport, companion: Companion) -> None:
        super().__init__()
        self.report, self.companion = report, companion

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="inspector"):
            yield Static("Why this reply — what the model saw", id="inspector-title")
            yield Static(
                "\n".join(summary_lines(self.report, self.companion)), id="summary", markup=False
            )
            yield Static("Parts of the prompt", classes="section")
            yield DataTable(id="parts", cursor_type="row", zebra_stripes=True)
            yield Static("Memories retrieved for this turn", classes="section")
            if self.report.memories:
                yield DataTable(id="memories", cursor_type="row", zebra_stripes=True)
            else:
                yield Static("none — nothing relevant was found", id="no-memories")
        yield Footer()

    def on_mount(self) -> None:
        parts = self.query_one("#parts", DataTable)
        parts.add_columns("part", "tokens", "what")
        for part in self.report.parts:
            what = ""
            if part.name == "history":
                what = f"{self.report.history_messages} messages"
            elif part.name.startswith("core:"):
                what = "core memory block"
            elif part.name == "memories":
                what = f"{len(self.report.memories)} retrieved"
            parts.add_row(part.name, part.tokens, what)
        if self.report.memories:
            table = self.query_one("#memories", DataTable)
            table.add_columns("id", "kind", "score", "tokens", "source", "text")
            for memory in self.report.memories:
                text = " ".join(memory.text.split())
                table.add_row(
                    memory.id, memory.kind, f"{memory.score:.3f}", memory.tokens,
                    memory_source(memory.session_id, memory.message_ids),
                    text if len(text) <= 60 else text[:59] + "…",
                )  # fmt: skip
