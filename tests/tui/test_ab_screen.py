"""The blind A/B screen: two replies per held-out turn; keys record choices; then the report."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import Static

from runtime.ab import ABPrompt, read_choices
from runtime.companion import GenerationSettings
from runtime.engine import Engine, EngineConfig
from runtime.tui.screens.ab_test import ABTestScreen
from tests.tui.conftest import new_app, wait_until

pytestmark = pytest.mark.slow

PROMPTS = [
    ABPrompt("s1", [{"role": "user", "content": "Hello there!"}]),
    ABPrompt("s2", [{"role": "user", "content": "Good night."}]),
]


@pytest.fixture(scope="module")
def engines(tiny_models, tiny_adapters):
    base = Engine.load(EngineConfig(model=tiny_models.gguf_q4_k_m, context_size=256))
    tuned = Engine.load(
        EngineConfig(model=tiny_models.gguf_q4_k_m, adapter=tiny_adapters.gguf, context_size=256)
    )
    yield base, tuned
    base.close()
    tuned.close()


class Host(App[None]):
    def __init__(self, screen: ABTestScreen) -> None:
        super().__init__()
        self.ab_screen = screen
        self.result: object = "open"

    def on_mount(self) -> None:
        self.push_screen(self.ab_screen, lambda report: setattr(self, "result", report))


async def test_two_trials_are_recorded_and_reported(engines, tmp_path):
    record_to = tmp_path / "ab.jsonl"
    screen = ABTestScreen(
        PROMPTS,
        lambda: engines,
        run="r1",
        record_to=record_to,
        settings=GenerationSettings(temperature=0.0, max_tokens=12),
        seed=2,
        close_engines=False,
    )
    app = Host(screen)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: screen.ready)
        assert "1/2  You: Hello there!" in str(screen.query_one("#ab-prompt", Static).content)
        await pilot.press("1")
        await wait_until(pilot, lambda: screen.ready and screen.index == 1)
        await pilot.press("equals_sign")
        await wait_until(pilot, lambda: "Done:" in str(screen.query_one("#ab-status").content))
        await pilot.press("q")
        await wait_until(pilot, lambda: app.result != "open")
    choices = [r["choice"] for r in read_choices(record_to, "r1")]
    first = screen.trials[0]
    assert choices == [("tuned" if first.tuned_was == "A" else "base"), "tie"]
    assert app.result.trials == 2 and app.result.ties == 1


async def test_palette_offers_the_ab_test_and_says_what_is_missing(mira):
    app = new_app(loader=lambda settings: None)
    async with app.run_test() as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Blind A/B test: base vs tuned" in titles
        app.slug = mira.slug
        notified = []
        app.notify = lambda message, **kwargs: notified.append(message)
        app.action_ab_test()
        await pilot.pause()
        assert notified == ["Mira has no tuned adapter to compare"]
