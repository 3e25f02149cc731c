"""The status bar: companion, model, adapter, context used/total, tokens/s, and what is going on."""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual.widgets import Static


@dataclass(frozen=True)
class Status:
    """What the bar shows."""

    model: str = "—"
    adapter: str = "none"
    used: int | None = None
    total: int | None = None
    tokens_per_second: float | None = None
    state: str = "loading model…"

    def line(self) -> str:
        context = f"{self.used}/{self.total}" if self.used is not None and self.total else "—"
        speed = f"{self.tokens_per_second:.1f} tok/s" if self.tokens_per_second else "— tok/s"
        return (
            f"{self.state} │ model {self.model} │ adapter {self.adapter} │ ctx {context} │ {speed}"
        )


class StatusBar(Static):
    """One line at the bottom of the chat."""

    def __init__(self) -> None:
        super().__init__(Status().line(), id="status", markup=False)
        self.status = Status()

    def set(self, **changes: object) -> None:
        """Change some fields and redraw."""
        self.status = replace(self.status, **changes)  # type: ignore[arg-type]
        self.update(self.status.line())
