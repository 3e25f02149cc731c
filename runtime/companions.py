"""The companions in a data home: list, find by name, create, save, delete.

Each companion has a directory `companions/<slug>/`; the slug is derived from the name once,
at creation, and never changes (renaming the persona keeps the directory).
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from runtime.companion import Companion, load_companion, save_companion
from runtime.errors import ConfigError, NotFoundError, UsageError
from runtime.paths import CompanionPaths, DataHome, ensure_private_dir


def slugify(name: str) -> str:
    """A directory-safe slug that keeps non-Latin names readable ('小明' stays '小明')."""
    normalized = unicodedata.normalize("NFKC", name).strip().lower()
    slug = re.sub(r"[^\w]+", "-", normalized).strip("-_")
    return slug[:64] or "companion"


@dataclass(frozen=True)
class CompanionEntry:
    """A companion found on disk: its slug, paths and validated data."""

    slug: str
    paths: CompanionPaths
    companion: Companion

    @property
    def name(self) -> str:
        return self.companion.name


class CompanionRegistry:
    """Reads and writes companions under one data home."""

    def __init__(self, home: DataHome) -> None:
        self.home = home

    def slugs(self) -> list[str]:
        """Slugs of every companion directory that has a companion.toml, sorted."""
        root = self.home.companions_dir
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / "companion.toml").is_file())

    def paths(self, slug: str) -> CompanionPaths:
        return CompanionPaths(self.home.companion_dir(slug))

    def load(self, slug: str) -> CompanionEntry:
        paths = self.paths(slug)
        return CompanionEntry(slug, paths, load_companion(paths.card_file))

    def all(self) -> list[CompanionEntry]:
        """Every companion, validated (an invalid file raises ConfigError naming it)."""
        return [self.load(slug) for slug in self.slugs()]

    def find(self, name: str) -> CompanionEntry:
        """Find by slug or by display name (case-insensitive)."""
        slugs = self.slugs()
        if name in slugs:
            return self.load(name)
        wanted = name.strip().casefold()
        for slug in slugs:
            if slug == slugify(name):
                return self.load(slug)
        for slug in slugs:
            entry = self.load(slug)
            if entry.name.casefold() == wanted:
                return entry
        known = ", ".join(slugs) if slugs else "none yet"
        raise NotFoundError(
            f"no companion named '{name}' (known: {known})",
            hint="see `hearth companion list`, or create one with `hearth companion new NAME`",
        )

    def resolve(self, name: str | None) -> CompanionEntry:
        """The named companion, or the only one when `name` is None."""
        if name is not None:
            return self.find(name)
        slugs = self.slugs()
        if len(slugs) == 1:
            return self.load(slugs[0])
        if not slugs:
            raise NotFoundError(
                "there is no companion yet",
                hint="create one with `hearth companion new NAME [--card CARD]`",
            )
        raise UsageError(
            f"several companions exist ({', '.join(slugs)}): say which one",
            hint="add --companion NAME",
        )

    def create(self, companion: Companion) -> CompanionEntry:
        """Create the companion's directory (0700) and companion.toml; refuses duplicates."""
        slug = slugify(companion.name)
        paths = self.paths(slug)
        if paths.card_file.exists():
            raise UsageError(
                f"a companion '{companion.name}' already exists ({paths.root})",
                hint="choose another name, or change it with `hearth companion edit`",
            )
        self.home.ensure()
        ensure_private_dir(self.home.companions_dir)
        ensure_private_dir(paths.root)
        save_companion(companion, paths.card_file)
        return CompanionEntry(slug, paths, companion)

    def save(self, entry: CompanionEntry, companion: Companion) -> CompanionEntry:
        """Replace a companion's data atomically."""
        save_companion(companion, entry.paths.card_file)
        return CompanionEntry(entry.slug, entry.paths, companion)

    def delete(self, entry: CompanionEntry) -> None:
        """Remove the companion's directory with everything in it."""
        root = entry.paths.root
        if root.parent != self.home.companions_dir.absolute():
            raise ConfigError(f"refusing to delete {root}: not inside {self.home.companions_dir}")
        shutil.rmtree(root)


def check_model_path(path: Path) -> Path:
    """An absolute path to an existing file (model or adapter), or a UsageError naming it."""
    resolved = path.expanduser().absolute()
    if not resolved.is_file():
        raise UsageError(
            f"model file not found: {path}",
            hint="give the path of a .gguf file (see `hearth model list`)",
        )
    return resolved
