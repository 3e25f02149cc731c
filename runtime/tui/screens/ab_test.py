"""Blind A/B test screen: two replies to a held-out user turn, base and tuned in random order.

Opened from the command palette ("Blind A/B test"). Keys: 1 / 2 pick A / B, = tie, s skip,
q or Esc close. Both models load and write in a worker thread; choices are recorded with
`runtime.ab` (the same file and report as `hearth train ab`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from runtime.ab import (
    ABPrompt,
    ABReport,
    Trial,
    blind_trials,
    read_choices,
    record_choice,
    reply,
    summarize,
)

if TYPE_CHECKING:
    from runtime.companion import GenerationSettings
    from runtime.engine import Engine
    from runtime.tui.app import HearthApp

EngineLoader = Callable[[], "tuple[Engine, Engine]"]
"""Loads (base, tuned): called once, in a worker thread."""


class ABTestScreen(Screen[ABReport | None]):
    """One trial at a time; the result is the run's report when the owner closes the screen."""

    DEFAULT_CSS = """
    ABTestScreen #ab { padding: 0 1; }
    ABTestScreen .reply { border: round $primary; padding: 0 1; margin-top: 1; }
    ABTestScreen #ab-status { margin-top: 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "pick('A')", "A is better"),
        Binding("2", "pick('B')", "B is better"),
        Binding("equals_sign", "pick('tie')", "Tie"),
        Binding("s", "pick('skip')", "Skip"),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(
        self,
        prompts: Sequence[ABPrompt],
        load_engines: EngineLoader,
        *,
        run: str,
        record_to: Path,
        settings: GenerationSettings,
        seed: int | None = None,
        close_engines: bool = True,
    ) -> None:
        super().__init__()
        self.trials: list[Trial] = blind_trials(prompts, seed=seed)
        self.load_engines, self.close_engines = load_engines, close_engines
        self.run, self.record_to, self.settings = run, record_to, settings
        self.sample_seed = settings.seed if settings.seed is not None else random.randrange(2**31)
        self.engines: tuple[Engine, Engine] | None = None
        self.index = 0
        self.ready = False
        """True while both replies of the current trial are shown and a pick is awaited."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="ab"):
            yield Static("", id="ab-prompt", markup=False)
            yield Static("", id="ab-a", classes="reply", markup=False)
            yield Static("", id="ab-b", classes="reply", markup=False)
            yield Static("Loading the base model and the tuned one…", id="ab-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ab-a").border_title = "A  (1)"
        self.query_one("#ab-b").border_title = "B  (2)"
        self._write_replies()

    @work(thread=True, exclusive=True)
    def _write_replies(self) -> None:
        from runtime.errors import HearthError

        trial = self.trials[self.index]
        seed = self.sample_seed + self.index
        try:
            if self.engines is None:
                self.engines = self.load_engines()
            base, tuned = self.engines
            base_text = reply(base, trial.prompt.messages, self.settings, seed)
            tuned_text = reply(tuned, trial.prompt.messages, self.settings, seed)
        except HearthError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._show, trial, *trial.order(base_text, tuned_text))

    def _failed(self, error: Exception) -> None:
        message = getattr(error, "message", str(error))
        self.query_one("#ab-status", Static).update(f"Failed: {message}")
        self.notify(message, title="A/B test", severity="error")

    def _show(self, trial: Trial, a: str, b: str) -> None:
        total = len(self.trials)
        self.query_one("#ab-prompt", Static).update(
            f"{self.index + 1}/{total}  You: {trial.prompt.user_text}"
        )
        self.query_one("#ab-a", Static).update(a)
        self.query_one("#ab-b", Static).update(b)
        self.query_one("#ab-status", Static).update("Which is better? 1 / 2, = tie, s skip")
        self.ready = True

    def action_pick(self, picked: str) -> None:
        if not self.ready:
            return
        self.ready = False
        trial = self.trials[self.index]
        record_choice(self.record_to, self.run, trial, trial.choice(picked))
        self.index += 1
        if self.index < len(self.trials):
            self.query_one("#ab-status", Static).update("Writing both replies…")
            self._write_replies()
        else:
            self.query_one("#ab-status", Static).update(f"Done: {self.report().summary()}")

    def report(self) -> ABReport:
        """The run's report from every choice recorded so far."""
        return summarize(r["choice"] for r in read_choices(self.record_to, self.run))

    def action_close(self) -> None:
        self.dismiss(self.report())

    def on_unmount(self) -> None:
        if self.close_engines and self.engines is not None:
            for engine in self.engines:
                engine.close()


def open_ab_test(app: HearthApp) -> None:
    """Push the A/B screen for the current companion's registered adapter (or say what is
    missing)."""
    from runtime.ab import ab_file, eval_file, load_prompts
    from runtime.chat import engine_config
    from runtime.engine import Engine, manifest_path
    from runtime.errors import HearthError

    try:
        if app.slug is None:
            raise HearthError("open a companion first")
        entry = app.host.registry().load(app.slug)
        settings = engine_config(entry, app.hearth.config)
        if settings.adapter is None:
            raise HearthError(
                f"{entry.name} has no tuned adapter to compare",
                hint="hearth train export --companion NAME",
            )
        prompts = load_prompts(eval_file(entry.paths), 10)
        manifest = json.loads(manifest_path(settings.adapter).read_text(encoding="utf-8"))
    except (HearthError, OSError, ValueError) as exc:
        message = getattr(exc, "message", str(exc))
        app.notify(message, title="A/B test", severity="error")
        return
    base_model = Path(manifest.get("base_gguf") or settings.model)
    base = replace(settings, model=base_model, adapter=None)
    tuned = replace(settings, model=base_model)

    def load_engines() -> tuple[Engine, Engine]:
        first = Engine.load(base)
        try:
            return first, Engine.load(tuned)
        except BaseException:
            first.close()
            raise

    app.push_screen(
        ABTestScreen(
            prompts,
            load_engines,
            run=str(manifest.get("run") or settings.adapter.stem),
            record_to=ab_file(entry.paths),
            settings=entry.companion.generation,
        )
    )
