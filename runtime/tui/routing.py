"""Which screen a companion needs: first run, an error, a model choice, or the chat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from runtime.errors import HearthError, ModelError

if TYPE_CHECKING:
    from runtime.tui.app import HearthApp


def start_screen(app: HearthApp) -> Screen:
    """The screen for `app.slug` (or the first companion); never raises for user errors."""
    from runtime.chat import chat_model
    from runtime.tui.screens.chat import ChatScreen
    from runtime.tui.screens.error import ErrorScreen
    from runtime.tui.screens.first_run import FirstRunScreen
    from runtime.tui.screens.model_pick import ModelPickScreen

    registry = app.host.registry()
    try:
        slugs = registry.slugs()
        if not slugs:
            return FirstRunScreen()
        slug = app.slug if app.slug in slugs else slugs[0]
        entry = registry.load(slug)
        app.slug = slug
        chat_model(entry, app.hearth.config)
    except ModelError:
        return ModelPickScreen(entry.slug, entry.name)
    except HearthError as exc:
        return ErrorScreen(exc.message, exc.hint)
    return ChatScreen(entry.slug, entry.name)
