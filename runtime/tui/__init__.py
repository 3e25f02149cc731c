"""Hearth's terminal UI (Textual). Bare `hearth` opens it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtime.cli.context import CliContext


def run_tui(ctx: CliContext) -> None:
    """Open the TUI; returns when the user quits."""
    from runtime.tui.app import make_app

    make_app(ctx).run()
