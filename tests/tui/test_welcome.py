"""The stand-in main screen: shows companions and models, or how to get started; never crashes."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from runtime.cli.context import CliContext
from runtime.companion import Companion, Persona
from runtime.companions import CompanionRegistry
from runtime.paths import DataHome
from runtime.tui.app import make_app


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def test_first_run_explains_next_steps(isolated_home: Path) -> None:
    app = make_app(CliContext(home=DataHome.resolve()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "No companion yet." in _text(app, "#companions")
        assert "--card CARD.png" in _text(app, "#companions")
        assert "No models found." in _text(app, "#models")
        await pilot.press("q")
    assert not isolated_home.exists(), "looking must not create the data home"


async def test_lists_companions_and_survives_a_broken_one(isolated_home: Path) -> None:
    home = DataHome.resolve()
    registry = CompanionRegistry(home)
    registry.create(Companion(persona=Persona(name="Mira")))
    app = make_app(CliContext(home=home))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "• Mira" in _text(app, "#companions")
    (home.companion_dir("mira") / "companion.toml").write_text("[persona", encoding="utf-8")
    app = make_app(CliContext(home=home))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Could not read companions" in _text(app, "#companions")
        assert "not valid TOML" in _text(app, "#companions")
