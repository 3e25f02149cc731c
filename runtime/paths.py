"""Where Hearth keeps the user's data: one directory, private to the user (mode 0700).

Layout (see DESIGN.md):
    $HEARTH_HOME/config.toml
    $HEARTH_HOME/models/                          models downloaded with `hearth model pull`
    $HEARTH_HOME/companions/<slug>/companion.toml
    $HEARTH_HOME/companions/<slug>/transcript.sqlite
    $HEARTH_HOME/companions/<slug>/memory/        Chroma persistent directory
    $HEARTH_HOME/companions/<slug>/adapters/<name>/
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from runtime.errors import DataHomeError

HOME_ENV = "HEARTH_HOME"
PRIVATE_DIR_MODE = 0o700


def default_data_home() -> Path:
    """`$HEARTH_HOME`, else `$XDG_DATA_HOME/hearth`, else `~/.local/share/hearth`."""
    explicit = os.environ.get(HOME_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "hearth"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) with mode 0700; tighten it if it exists with looser bits."""
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR_MODE:
            path.chmod(PRIVATE_DIR_MODE)
    except OSError as exc:
        raise DataHomeError(
            f"cannot create data directory {path}: {exc.strerror or exc}",
            hint=f"choose a writable location with {HOME_ENV}=/some/dir, or fix its permissions",
        ) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise DataHomeError(
            f"data directory {path} is not writable",
            hint=f"fix its permissions or point {HOME_ENV} somewhere writable",
        )
    return path


@dataclass(frozen=True)
class DataHome:
    """The data directory and the paths inside it. Creating it is explicit: `ensure()`."""

    root: Path

    @classmethod
    def resolve(cls, root: Path | None = None) -> DataHome:
        return cls((root or default_data_home()).expanduser().absolute())

    def ensure(self) -> DataHome:
        ensure_private_dir(self.root)
        return self

    @property
    def config_file(self) -> Path:
        return self.root / "config.toml"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def companions_dir(self) -> Path:
        return self.root / "companions"

    def companion_dir(self, slug: str) -> Path:
        return self.companions_dir / slug

    def mode(self) -> int | None:
        """Permission bits of the root, or None when it does not exist yet."""
        try:
            return stat.S_IMODE(self.root.stat().st_mode)
        except FileNotFoundError:
            return None


@dataclass(frozen=True)
class CompanionPaths:
    """Files of one companion."""

    root: Path

    @property
    def card_file(self) -> Path:
        return self.root / "companion.toml"

    @property
    def transcript(self) -> Path:
        return self.root / "transcript.sqlite"

    @property
    def memory_dir(self) -> Path:
        return self.root / "memory"

    @property
    def adapters_dir(self) -> Path:
        return self.root / "adapters"
