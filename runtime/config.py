"""Global settings: `$HEARTH_HOME/config.toml`, overridden by `HEARTH_*` environment variables.

Built once by the CLI and passed down; nothing here is a module-level singleton.
Environment overrides: `HEARTH_<FIELD>` for top-level fields and `HEARTH_<SECTION>__<FIELD>`
for nested ones, e.g. `HEARTH_LLAMA__THREADS=4`. List fields take `os.pathsep`-separated values.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runtime.errors import ConfigError
from runtime.files import atomic_write_text

ENV_PREFIX = "HEARTH_"


class LlamaSettings(BaseModel):
    """How llama.cpp runs models on this machine (per-companion settings may refine these)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    context_size: int = Field(8192, ge=256)
    """Context window in tokens for chat models."""
    threads: int | None = Field(None, ge=1)
    """CPU threads for generation; empty means llama.cpp's choice (physical cores)."""
    gpu_layers: int = -1
    """Layers to offload to a GPU when llama.cpp was built with one; -1 offloads all."""


class Config(BaseModel):
    """Everything in config.toml. Unknown keys are an error, so typos do not go unnoticed."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    model_dirs: list[Path] = Field(default_factory=list)
    """Extra directories searched for GGUF files (besides $HEARTH_HOME/models and ./models)."""
    models: list[Path] = Field(default_factory=list)
    """Single GGUF files registered with `hearth model add`."""
    default_model: Path | None = None
    """Chat model used by new companions when `--model` is not given."""
    hf_endpoint: str = "https://huggingface.co"
    """Base URL that `hearth model pull` downloads Hugging Face files from (a mirror works)."""
    llama: LlamaSettings = Field(default_factory=LlamaSettings)
    """llama.cpp settings."""
    log_level: str = Field("WARNING", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    """Logging level; logs never contain message text."""


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == "HEARTH_HOME":
            continue
        path = key[len(ENV_PREFIX) :].lower().split("__")
        if path[0] not in Config.model_fields:
            continue
        target = overrides
        for part in path[:-1]:
            target = target.setdefault(part, {})
        annotation = str(Config.model_fields[path[0]].annotation)
        target[path[-1]] = value.split(os.pathsep) if "list" in annotation else value
    return overrides


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe_validation_error(exc: ValidationError, source: str) -> ConfigError:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    value = first.get("input")
    return ConfigError(
        f"{source}: invalid value for '{key}': {value!r} ({first['msg']})",
        hint=f"fix '{key}' in {source} (see README, section Configuration)",
    )


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read config.toml (missing file = defaults) and apply environment overrides."""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{path}: not valid TOML ({exc})", hint=f"fix or delete {path}"
            ) from exc
    try:
        Config.model_validate(data)
    except ValidationError as exc:
        raise _describe_validation_error(exc, str(path)) from exc
    env = _env_overrides(os.environ if environ is None else environ)
    try:
        return Config.model_validate(_merge(data, env))
    except ValidationError as exc:
        raise _describe_validation_error(exc, "environment (HEARTH_* variables)") from exc


def save_config(config: Config, path: Path) -> None:
    """Write the settings that differ from the defaults, atomically."""
    data = config.model_dump(mode="json", exclude_defaults=True)
    atomic_write_text(path, tomli_w.dumps(data))
