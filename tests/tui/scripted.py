"""A scripted engine for UI-only tests and snapshots: deterministic replies, token counts and
speeds, no llama.cpp model. It has what ChatSession and the prompt builder use from `Engine`."""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterable, Sequence
from pathlib import Path

from runtime.cli.context import CliContext
from runtime.companion import Companion, CoreMemory, GenerationSettings, ModelChoice, Persona
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.engine import GenerationStats
from runtime.engine.template import ChatTemplate
from runtime.paths import DataHome
from runtime.tui.app import HearthApp, make_app

SCRIPTED_MODEL = Path("models/scripted.gguf")
"""The companion's model path in scripted tests (relative: snapshots must not show tmp dirs)."""
HOME = Path("hearth-home")
"""The data home, relative to the test's tmp working directory (see the autouse
`isolated_home`), so no absolute tmp path reaches the screen."""
REPLY = "It was lovely, thank you! I made **green tea** and read a book."


class ScriptedGeneration:
    """One reply, streamed word by word; `stats` is filled in when the stream ends."""

    def __init__(self, reply: str, prompt_tokens: int, cancel: threading.Event | None) -> None:
        self.reply, self.prompt_tokens, self.cancel = reply, prompt_tokens, cancel
        self.text = ""
        self.stats: GenerationStats | None = None

    def __iter__(self) -> Generator[str, None, None]:
        return self._run()

    def _run(self) -> Generator[str, None, None]:
        pieces = self.reply.split(" ")
        reason = "stop"
        try:
            for index, word in enumerate(pieces):
                if self.cancel is not None and self.cancel.is_set():
                    reason = "cancelled"
                    break
                piece = word if index == 0 else " " + word
                self.text += piece
                yield piece
        except GeneratorExit:
            reason = "cancelled"
            raise
        finally:
            words = len(self.text.split())
            self.stats = GenerationStats(
                finish_reason=reason,  # type: ignore[arg-type]
                prompt_tokens=self.prompt_tokens,
                prompt_tokens_evaluated=self.prompt_tokens,
                completion_tokens=words,
                prompt_seconds=0.5,
                seconds=0.5 + words / 25,  # 25.0 tok/s, whatever the machine
            )


class ScriptedEngine:
    """Replies come from `replies` in order (the last one repeats); a token is a word."""

    def __init__(self, replies: Iterable[str] = ("Hello! How are you today?",)) -> None:
        self.replies = list(replies)
        self.calls = 0
        self.template = ChatTemplate(None, bos_token="", eos_token="")
        self.model_name = SCRIPTED_MODEL.stem
        self.n_ctx = 1024

    def tokenize(self, text: str) -> list[int]:
        return [len(word) for word in text.split()]

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(
        self,
        prompt: str | Sequence[int],
        settings: object = None,
        *,
        cancel: threading.Event | None = None,
        **_: object,
    ) -> ScriptedGeneration:
        reply = self.replies[min(self.calls, len(self.replies) - 1)]
        self.calls += 1
        tokens = self.tokenize(prompt) if isinstance(prompt, str) else list(prompt)
        return ScriptedGeneration(reply, len(tokens), cancel)

    def close(self) -> None:
        pass


def scripted_companion(name: str = "Mira") -> CompanionEntry:
    """A companion on the scripted model, with a greeting and two core memory blocks."""
    return CompanionRegistry(DataHome(HOME)).create(
        Companion(
            persona=Persona(
                name=name,
                description="A warm, curious friend who loves tea and long walks.",
                personality="Kind, playful, a good listener.",
                first_mes="Hi {{user}}! I'm {{char}}. How was your day?",
            ),
            core_memories=[
                CoreMemory(label="user", text="Sam likes green tea.", limit=200),
                CoreMemory(label="persona", text=f"{name} grew up by the sea.", limit=200),
            ],
            model=ModelChoice(chat=SCRIPTED_MODEL),
            generation=GenerationSettings(temperature=0.0, max_tokens=64, context_size=1024),
        )
    )


def scripted_app(*, companion: bool = True) -> HearthApp:
    """The app over HOME with a ScriptedEngine (and Mira, unless `companion` is False)."""
    if companion:
        scripted_companion()
    engine = ScriptedEngine([REPLY])
    return make_app(CliContext(home=DataHome(HOME)), loader=lambda _settings: engine)  # type: ignore[arg-type, return-value]
