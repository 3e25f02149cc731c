"""A companion as data: persona card, core memory blocks, model and adapter choice, settings.

Stored as `companions/<slug>/companion.toml`. The persona fields are those of Character Card V2
(SillyTavern, chub, RisuAI), so a card round-trips; unknown `extensions` keys are kept as they are.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from runtime.errors import ConfigError
from runtime.files import atomic_write_text

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


class Persona(BaseModel):
    """Who the companion is. Field names and meaning follow Character Card V2."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str = Field(min_length=1, max_length=200)
    """The companion's name, as the user calls them."""
    description: str = ""
    """Appearance, background, anything always true about the companion."""
    personality: str = ""
    """A short summary of how the companion behaves."""
    scenario: str = ""
    """The circumstances of the conversation."""
    first_mes: str = ""
    """Greeting shown at the start of a new session."""
    mes_example: str = ""
    """Example dialogue showing the companion's voice (card `<START>` format)."""
    creator_notes: str = ""
    """Notes from whoever wrote the card; never sent to the model."""
    system_prompt: str = ""
    """Replaces the default system prompt when set."""
    post_history_instructions: str = ""
    """Instructions placed after the conversation history (card 'jailbreak' slot)."""
    alternate_greetings: list[str] = Field(default_factory=list)
    """Other greetings the user can pick for a new session."""
    tags: list[str] = Field(default_factory=list)
    """Free-form tags from the card."""
    creator: str = ""
    """Card author."""
    character_version: str = ""
    """Card version string."""
    extensions: dict[str, Any] = Field(default_factory=dict)
    """Card extensions from other tools, kept untouched so a card round-trips."""

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class CoreMemory(BaseModel):
    """A labelled block that is always in the prompt, within its character budget."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    label: str = Field(min_length=1, max_length=64, pattern=r"^[\w .-]+$")
    """Short name of the block, e.g. 'user' or 'relationship'."""
    text: str = ""
    """The remembered text."""
    limit: int = Field(2000, ge=1, le=100_000)
    """Character budget of the block."""

    @model_validator(mode="after")
    def _within_limit(self) -> CoreMemory:
        if len(self.text) > self.limit:
            raise ValueError(
                f"core memory '{self.label}' has {len(self.text)} characters, over its limit "
                f"of {self.limit}"
            )
        return self


class ModelChoice(BaseModel):
    """Which models the companion runs on."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    chat: Path | None = None
    """GGUF chat model; empty means the global default_model."""
    embedding: str = DEFAULT_EMBEDDING_MODEL
    """Embedding model for long-term memory (name or path)."""


class AdapterChoice(BaseModel):
    """A LoRA adapter (GGUF) applied on top of the chat model."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    path: Path | None = None
    """GGUF LoRA adapter; empty means none."""
    scale: float = Field(1.0, ge=0.0, le=4.0)
    """How strongly the adapter applies (1.0 = as trained)."""


class GenerationSettings(BaseModel):
    """Sampling settings, with defaults suited to companion chat."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    temperature: float = Field(0.8, ge=0.0, le=5.0)
    """Randomness; lower is more predictable."""
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    """Nucleus sampling cut-off."""
    min_p: float = Field(0.05, ge=0.0, le=1.0)
    """Drop tokens less likely than this fraction of the best one."""
    repeat_penalty: float = Field(1.1, ge=0.5, le=3.0)
    """Penalty on recently used tokens."""
    max_tokens: int = Field(512, ge=1, le=32_768)
    """Longest reply in tokens."""
    seed: int | None = None
    """Fixed seed for reproducible replies; empty means random."""
    context_size: int | None = Field(None, ge=256)
    """Context window for this companion; empty means the global setting."""


class Companion(BaseModel):
    """Everything in companion.toml."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    persona: Persona
    """The character card."""
    core_memories: list[CoreMemory] = Field(default_factory=list)
    """Always-present memory blocks."""
    model: ModelChoice = Field(default_factory=ModelChoice)
    """Chat and embedding models."""
    adapter: AdapterChoice = Field(default_factory=AdapterChoice)
    """Optional LoRA adapter."""
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    """Sampling settings."""

    @field_validator("core_memories")
    @classmethod
    def _unique_labels(cls, blocks: list[CoreMemory]) -> list[CoreMemory]:
        labels = [block.label for block in blocks]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ValueError(f"duplicate core memory labels: {', '.join(duplicates)}")
        return blocks

    @property
    def name(self) -> str:
        return self.persona.name

    def to_toml(self) -> str:
        return tomli_w.dumps(_without_nulls(self.model_dump(mode="json", exclude_none=True)))


def _without_nulls(value: Any) -> Any:
    """TOML has no null: drop None values nested anywhere (card extensions may hold them)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def _key_of(location: tuple[int | str, ...], data: dict[str, Any]) -> str:
    parts: list[str] = []
    node: Any = data
    for part in location:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            label = item.get("label") if isinstance(item, dict) else None
            parts[-1] = f"{parts[-1]}[{label!r}]" if label else f"{parts[-1]}[{part}]"
            node = item
            continue
        parts.append(str(part))
        node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


def validation_error(exc: ValidationError, source: str, data: dict[str, Any]) -> ConfigError:
    """Turn a pydantic error into one line naming the file, the key and the value."""
    first = exc.errors()[0]
    key = _key_of(first["loc"], data) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    shown = value if not isinstance(value, dict) else "{...}"
    return ConfigError(
        f"{source}: invalid '{key}' = {shown!r}: {message}",
        hint=f"edit {source} (or `hearth companion edit`) and fix '{key}'",
    )


def parse_companion(data: dict[str, Any], source: str) -> Companion:
    """Validate a companion mapping; errors name `source`, the key and the value."""
    try:
        return Companion.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, data) from exc


def load_companion(path: Path) -> Companion:
    """Read and validate companion.toml."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: companion file is missing", hint="recreate it with `hearth companion new`"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text", hint=f"fix the encoding of {path}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", hint=f"fix {path}") from exc
    return parse_companion(data, str(path))


def save_companion(companion: Companion, path: Path) -> None:
    """Write companion.toml atomically (never half-written)."""
    atomic_write_text(path, companion.to_toml())
