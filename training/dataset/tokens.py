"""Counting tokens the way the model will see them.

A window's length is its messages rendered with the tokenizer's chat template (no generation
prompt: the window ends with a reply), then tokenized with special tokens parsed — exactly the
sequence a trainer feeds the model. Which tokenizer, in order:
1. `--tokenizer PATH`: a Hugging Face tokenizer folder (or its tokenizer.json), or a GGUF file;
2. the base model of the companion's latest training run, when its config.json names one;
3. the vocabulary of the companion's GGUF chat model, read by llama.cpp (no weights loaded).
There is no guessing from byte counts: with none of these, the command says how to name one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from runtime.errors import ModelError, UsageError

if TYPE_CHECKING:
    from runtime.companions import CompanionEntry
    from runtime.config import Config
    from runtime.engine import Engine

logger = logging.getLogger(__name__)

ChatMessages = Sequence[dict[str, str]]
RUN_BASE_KEY = "base"
"""The key of a run's config.json (training.train) naming its base model's folder."""
TOKENIZER_HINT = (
    "pass --tokenizer PATH (the base model's Hugging Face folder or tokenizer.json, or a GGUF), "
    "or give the companion a chat model: hearth companion edit {slug} --model FILE.gguf"
)


class TokenCounter(Protocol):
    """Counts tokens of plain text and of whole chats rendered with the chat template."""

    description: str
    """What counts, for the stats report ("hf:/path", "gguf:/path")."""

    def count_text(self, text: str) -> int:
        """Tokens of `text` alone (no special tokens added)."""
        ...

    def count_chat(self, messages: ChatMessages) -> int:
        """Tokens of `messages` rendered with the chat template, without a generation prompt."""
        ...

    def close(self) -> None:
        """Free what the tokenizer holds."""
        ...


class HfCounter:
    """A Hugging Face tokenizer (transformers, from the train extra) and its chat template."""

    def __init__(self, folder: Path) -> None:
        try:
            from transformers import AutoTokenizer
        except ImportError as exc:
            raise UsageError(
                "reading a Hugging Face tokenizer needs transformers (the train extra)",
                hint="pip install 'hearth[train]', or pass a GGUF file to --tokenizer",
            ) from exc
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(folder))
        except (OSError, ValueError, TypeError) as exc:
            raise UsageError(
                f"cannot load a tokenizer from {folder}: {exc}",
                hint="--tokenizer takes a Hugging Face model folder with tokenizer.json and "
                "tokenizer_config.json, that tokenizer.json itself, or a .gguf file",
            ) from exc
        if not self._tokenizer.chat_template:
            raise UsageError(
                f"the tokenizer in {folder} has no chat template",
                hint="use the instruct/chat model's tokenizer, which has one",
            )
        self.description = f"hf:{folder}"

    def count_text(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0

    def count_chat(self, messages: ChatMessages) -> int:
        text = self._tokenizer.apply_chat_template(list(messages), tokenize=False)
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def close(self) -> None:
        pass


class GgufCounter:
    """A GGUF model's vocabulary and chat template, through the engine (vocabulary only)."""

    def __init__(self, path: Path) -> None:
        from runtime.engine import Engine, EngineConfig
        from runtime.engine.llamacpp import load_vocab

        self._engine: Engine = Engine(load_vocab(path), EngineConfig(model=Path(path)))
        self.description = f"gguf:{path}"

    def count_text(self, text: str) -> int:
        return self._engine.count_tokens(text)

    def count_chat(self, messages: ChatMessages) -> int:
        rendered = self._engine.render(list(messages), add_generation_prompt=False)
        return self._engine.count_tokens(rendered)

    def close(self) -> None:
        self._engine.close()


def open_counter(path: Path) -> TokenCounter:
    """The counter for a path given by the user: a .gguf file, a tokenizer.json or a folder."""
    path = Path(path).expanduser().absolute()
    if not path.exists():
        raise UsageError(
            f"--tokenizer: {path} does not exist", hint=TOKENIZER_HINT.format(slug="NAME")
        )
    if path.is_file() and path.suffix.lower() == ".gguf":
        return GgufCounter(path)
    return HfCounter(path.parent if path.is_file() else path)


def run_base(entry: CompanionEntry) -> Path | None:
    """The base model folder named by the companion's latest training run, if any."""
    from training.layout import TrainingPaths

    runs = TrainingPaths(entry.paths).runs()
    if not runs:
        return None
    config_file = runs[-1] / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = config.get(RUN_BASE_KEY) if isinstance(config, dict) else None
    if isinstance(value, str) and Path(value).expanduser().is_dir():
        return Path(value).expanduser()
    return None


def resolve_counter(tokenizer: Path | None, entry: CompanionEntry, config: Config) -> TokenCounter:
    """The counter to use: `--tokenizer`, else the last run's base, else the chat model's GGUF."""
    if tokenizer is not None:
        return open_counter(tokenizer)
    base = run_base(entry)
    if base is not None:
        logger.info("counting tokens with the last run's base model")
        return HfCounter(base)
    from runtime.chat.setup import chat_model

    try:
        return GgufCounter(chat_model(entry, config))
    except ModelError as exc:
        raise UsageError(
            f"no tokenizer to count tokens with: {exc.message}",
            hint=TOKENIZER_HINT.format(slug=entry.slug),
        ) from exc
