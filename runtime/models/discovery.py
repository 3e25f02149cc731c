"""Find the GGUF models on this machine and say what each one is.

Searched, in this order (the first place a file is found names its source):
    $HEARTH_HOME/models          recursive          source "data_home"
    ./models                     recursive          source "models_dir"
    <source checkout>/models     recursive          source "models_dir"  (running from git)
    config `model_dirs`          recursive          source "config_dir"
    config `models`              single files       source "added"   (`hearth model add`)
A file reached twice (symlinks, overlapping folders) is listed once. Split GGUFs
(`name-00001-of-00003.gguf`) are listed once, by their first part, with the size of all parts.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import runtime
from runtime.config import Config
from runtime.errors import ModelError
from runtime.models.gguf_header import FILE_TYPES, GGUFHeader, read_gguf_header
from runtime.paths import DataHome

logger = logging.getLogger(__name__)

# llama.cpp architectures that produce embeddings rather than chat (gguf-py MODEL_ARCH names).
EMBEDDING_ARCHITECTURES = frozenset(
    {
        "bert", "modern-bert", "nomic-bert", "nomic-bert-moe", "neo-bert", "jina-bert-v2",
        "jina-bert-v3", "eurobert", "t5encoder", "gemma-embedding", "llama-embed",
    }
)
# Multimodal projectors (mmproj) are not models one can chat with on their own.
NON_CHAT_ARCHITECTURES = frozenset({"clip"})
_SPLIT = re.compile(r"^(?P<base>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})$")
_QUANT_NAMES = sorted(FILE_TYPES.values(), key=len, reverse=True)  # longest first: Q4_K_M > Q4_K
_QUANT_IN_NAME = re.compile(
    r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, _QUANT_NAMES)) + r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ModelFile:
    """A GGUF file found on disk."""

    name: str
    path: Path
    size_bytes: int
    source: str
    """"data_home", "models_dir", "config_dir" or "added"."""
    kind: str
    """"chat", "embedding", "adapter" or "unknown" (unreadable files are "unknown")."""
    architecture: str | None
    quantization: str | None
    error: str | None = None
    """Why the header could not be read; None for a readable GGUF."""

    def to_json(self) -> dict[str, object]:
        """The `hearth model list --json` shape (keys are a contract)."""
        return {
            "name": self.name,
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "kind": self.kind,
            "architecture": self.architecture,
            "quantization": self.quantization,
            "source": self.source,
        }


def checkout_models_dir() -> Path | None:
    """`<repo>/models` when Hearth runs from a source checkout (not from site-packages)."""
    root = Path(runtime.__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "models").is_dir():
        return root / "models"
    return None


def search_dirs(
    home: DataHome, config: Config, cwd: Path | None = None, *, include_checkout: bool = True
) -> list[tuple[Path, str]]:
    """The folders searched recursively, with their source label, in search order."""
    dirs = [(home.models_dir, "data_home"), ((cwd or Path.cwd()) / "models", "models_dir")]
    checkout = checkout_models_dir() if include_checkout else None
    if checkout is not None:
        dirs.append((checkout, "models_dir"))
    dirs.extend((Path(d).expanduser(), "config_dir") for d in config.model_dirs)
    return dirs


def classify(header: GGUFHeader) -> str:
    """"adapter", "embedding", "chat" or "unknown" from the header's metadata."""
    if header.model_type == "adapter" or "adapter.type" in header.metadata:
        return "adapter"
    arch = header.architecture
    if not arch or arch in NON_CHAT_ARCHITECTURES:
        return "unknown"
    pooling = header.metadata.get(f"{arch}.pooling_type")
    # A pooling type other than NONE (0) marks decoder-based embedders such as Qwen3-Embedding.
    if arch in EMBEDDING_ARCHITECTURES or (isinstance(pooling, int) and pooling > 0):
        return "embedding"
    return "chat"


def quantization_from_name(name: str) -> str | None:
    """A quantization named in a file name ("…-Q4_K_M"), for headers without `file_type`."""
    match = _QUANT_IN_NAME.search(name)
    return match.group(1).upper() if match else None


def _split_parts(path: Path) -> tuple[str, list[Path]] | None:
    """(base name, existing parts) for the first part of a split GGUF, else None."""
    match = _SPLIT.match(path.stem)
    if not match:
        return None
    count = int(match["count"])
    parts = [
        path.with_name(f"{match['base']}-{index:05d}-of-{count:05d}{path.suffix}")
        for index in range(1, count + 1)
    ]
    return match["base"], [part for part in parts if part.exists()]


def inspect_model(path: Path, source: str) -> ModelFile:
    """Describe one GGUF file; an unreadable one comes back with kind "unknown" and `error`."""
    name = path.stem
    try:
        size = path.stat().st_size
    except OSError as exc:
        return ModelFile(name, path, 0, source, "unknown", None, None, exc.strerror or str(exc))
    split = _split_parts(path)
    if split is not None:
        name = split[0]
        size = sum(part.stat().st_size for part in split[1])
    try:
        header = read_gguf_header(path)
    except ModelError as exc:
        return ModelFile(name, path, size, source, "unknown", None, None, exc.message)
    quantization = header.quantization or quantization_from_name(path.stem)
    return ModelFile(
        name, path, size, source, classify(header), header.architecture, quantization
    )


def _walk_gguf(root: Path) -> Iterator[Path]:
    """GGUF files under `root`, sorted, skipping hidden folders and later split parts."""
    found: list[Path] = []
    for folder, subdirs, files in os.walk(root, onerror=lambda exc: None):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        found.extend(Path(folder) / f for f in files if f.lower().endswith(".gguf"))
    for path in sorted(found):
        match = _SPLIT.match(path.stem)
        if match and int(match["index"]) != 1:
            continue
        yield path


def discover_models(
    home: DataHome, config: Config, cwd: Path | None = None, *, include_checkout: bool = True
) -> list[ModelFile]:
    """Every GGUF model Hearth can see, de-duplicated by resolved path, in search order."""
    candidates: list[tuple[Path, str]] = []
    for folder, source in search_dirs(home, config, cwd, include_checkout=include_checkout):
        if folder.is_dir():
            candidates.extend((path, source) for path in _walk_gguf(folder))
    candidates.extend((Path(p).expanduser(), "added") for p in config.models)
    seen: set[Path] = set()
    models: list[ModelFile] = []
    for path, source in candidates:
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        models.append(inspect_model(path.absolute(), source))
    logger.debug("found %d model files", len(models))
    return models
