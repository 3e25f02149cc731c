"""Blind A/B test of a tuned companion: the same held-out user turn answered by the base model and
by base + adapter, shown as "A" and "B" in random order; the owner picks one.

Shared by `hearth train ab` (plain terminal) and the TUI's A/B screen, so it imports neither
torch nor training (the runtime never does). What it knows of the training layout — where the
held-out conversations and the choices are — mirrors `training.layout.TrainingPaths`:

    <companion>/training/dataset/eval.jsonl   held-out conversations (OpenAI `messages`)
    <companion>/training/ab.jsonl             one line per choice (this user's file)

A choice line is `{"at", "run", "prompt_session_id", "tuned_was": "A"|"B", "choice":
"tuned"|"base"|"tie"|"skip"}`; no message text is written anywhere else. The win rate counts a
tie as half a win and leaves skips out: `(tuned_wins + ties / 2) / (tuned_wins + base_wins + ties)`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from runtime.errors import NotFoundError
from runtime.heldout import read_heldout
from runtime.paths import CompanionPaths

if TYPE_CHECKING:
    from runtime.companion import GenerationSettings
    from runtime.engine import ChatMessage, Engine

Side = Literal["A", "B"]
Choice = Literal["tuned", "base", "tie", "skip"]

KEYS: dict[str, str] = {"1": "A", "2": "B", "=": "tie", "s": "skip", "q": "quit"}
"""What the owner types (plain chat) or presses (TUI), and what it means."""


def eval_file(companion: CompanionPaths) -> Path:
    """The held-out conversations of the companion's training dataset."""
    return companion.root / "training" / "dataset" / "eval.jsonl"


def ab_file(companion: CompanionPaths) -> Path:
    """Where the owner's A/B choices are kept (same as `TrainingPaths.ab_file`)."""
    return companion.root / "training" / "ab.jsonl"


@dataclass(frozen=True)
class ABPrompt:
    """A held-out conversation cut just before a reply the companion gave."""

    session_id: str | None
    messages: list[ChatMessage]
    """System message (if any), history, and the user turn to answer last."""

    @property
    def user_text(self) -> str:
        """The user turn both models answer."""
        return self.messages[-1]["content"]


def _prompt_of(example: dict[str, Any]) -> ABPrompt | None:
    messages = example.get("messages")
    if not isinstance(messages, list):
        return None
    for index in range(len(messages) - 1, 0, -1):
        message, before = messages[index], messages[index - 1]
        trained = message.get("role") == "assistant" and message.get("weight", 1) != 0
        if trained and before.get("role") == "user":
            context = [{"role": m["role"], "content": m["content"]} for m in messages[:index]]
            session = example.get("session_id")
            return ABPrompt(None if session is None else str(session), context)
    return None


def load_prompts(path: Path, n: int, *, seed: int = 0) -> list[ABPrompt]:
    """Up to `n` held-out user turns from `path` (eval.jsonl), in a seeded random order."""
    found = read_heldout(path, _prompt_of, "a conversation")
    prompts = [prompt for prompt in found if prompt is not None]
    if not prompts:
        raise NotFoundError(
            f"{path} holds no user turn answered by the companion",
            hint="rebuild the dataset with more conversations: hearth train dataset",
        )
    random.Random(seed).shuffle(prompts)
    return prompts[:n]


@dataclass(frozen=True)
class Trial:
    """One blind comparison: which side ("A" or "B") shows the tuned reply."""

    prompt: ABPrompt
    tuned_was: Side

    def order(self, base_reply: str, tuned_reply: str) -> tuple[str, str]:
        """The replies as shown: (A, B)."""
        return (tuned_reply, base_reply) if self.tuned_was == "A" else (base_reply, tuned_reply)

    def choice(self, picked: str) -> Choice:
        """What the owner's pick ("A", "B", "tie", "skip") means for tuned vs base."""
        if picked in ("tie", "skip"):
            return picked  # type: ignore[return-value]
        if picked not in ("A", "B"):
            raise ValueError(f"not a pick: {picked!r}")
        return "tuned" if picked == self.tuned_was else "base"


def blind_trials(prompts: Sequence[ABPrompt], *, seed: int | None = None) -> list[Trial]:
    """One trial per prompt, the tuned reply on a random side (seeded for tests)."""
    rng = random.Random(seed)
    return [Trial(prompt, rng.choice(("A", "B"))) for prompt in prompts]


def reply(
    engine: Engine, messages: Sequence[ChatMessage], settings: GenerationSettings, seed: int
) -> str:
    """The engine's whole reply to `messages`, sampled with `settings` and a fixed `seed`."""
    from runtime.engine import sampling_arguments

    sampling = {**sampling_arguments(settings), "seed": seed}
    return "".join(engine.generate(engine.render(messages), sampling=sampling)).strip()


def record_choice(
    path: Path, run: str, trial: Trial, choice: Choice, *, now: datetime | None = None
) -> None:
    """Append one choice to the owner's A/B file (no message text)."""
    line = {
        "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "run": run,
        "prompt_session_id": trial.prompt.session_id,
        "tuned_was": trial.tuned_was,
        "choice": choice,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def read_choices(path: Path, run: str | None = None) -> list[dict[str, Any]]:
    """The recorded choices (of `run` only, when given); unreadable lines are skipped."""
    if not path.is_file():
        return []
    records = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and (run is None or record.get("run") == run):
                records.append(record)
    return records


@dataclass(frozen=True)
class ABReport:
    """Counts of the owner's choices and the tuned model's win rate (None before any choice)."""

    trials: int
    tuned_wins: int
    base_wins: int
    ties: int
    win_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of `hearth train ab --json`."""
        return {
            "trials": self.trials,
            "tuned_wins": self.tuned_wins,
            "base_wins": self.base_wins,
            "ties": self.ties,
            "win_rate": self.win_rate,
        }

    def summary(self) -> str:
        """One line for people."""
        if self.win_rate is None:
            return "no choices recorded yet"
        return (
            f"tuned won {self.tuned_wins}, base won {self.base_wins}, {self.ties} ties "
            f"in {self.trials} trials: win rate {self.win_rate:.0%}"
        )


def summarize(choices: Iterable[str]) -> ABReport:
    """Count choices ("tuned", "base", "tie"; "skip" and anything else are left out)."""
    counted = [choice for choice in choices if choice in ("tuned", "base", "tie")]
    tuned, base, ties = (counted.count(kind) for kind in ("tuned", "base", "tie"))
    rate = (tuned + ties / 2) / len(counted) if counted else None
    return ABReport(len(counted), tuned, base, ties, rate)
