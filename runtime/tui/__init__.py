"""Hearth's terminal UI (Textual). Bare `hearth` opens it.

Layout: `app` (thin: bindings, palette, routing), `routing` (which screen a companion needs),
`backend` (ChatHost: the loaded engine, opening chats through runtime.chat), `messages`,
`screens/` (each with a sibling .tcss), `widgets/`.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtime.cli.context import CliContext

FIRST_FRAME_ENV = "HEARTH_TUI_EXIT_AFTER_FIRST_FRAME"
"""Set (to the process start time from time.time()) by bench/first_frame.py: the app exits right
after its first frame and prints the elapsed seconds."""


def quiet_logging(ctx: CliContext) -> None:
    """While the TUI runs, log records go to <data home>/tui.log (if the home exists), never to
    the terminal, where they would garble the screen."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler
        ):
            root.removeHandler(handler)
    if ctx.home.root.is_dir():
        handler: logging.Handler = logging.FileHandler(
            ctx.home.root / "tui.log", delay=True, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler = logging.NullHandler()
    root.addHandler(handler)
    logging.captureWarnings(True)
    logging.lastResort = None  # type: ignore[assignment]


def run_tui(ctx: CliContext) -> None:
    """Open the TUI; returns when the user quits."""
    from runtime.tui.app import make_app

    quiet_logging(ctx)
    started = os.environ.get(FIRST_FRAME_ENV)
    app = make_app(ctx, exit_after_first_frame=bool(started))
    app.run()
    if started:
        print(f"first_frame_s {time.time() - float(started):.4f}")
