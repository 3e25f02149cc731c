"""Which companion an import goes to, and creating a new one all at once or not at all.

Without `--companion`, the only companion is used; with none yet, a new one is made; with
several, the user must say which (`--companion NAME`; a new name makes a new companion).

A new companion is built in a private staging directory `companions/.import-<pid>-<random>/`
(its transcript written there, its companion.toml last) and renamed into place when the import
has succeeded: other commands never see a half-imported companion, a failed import leaves
nothing, and a killed one leaves only a staging directory that the next import removes.
Nothing is created before the first write, so input rejected early creates no directory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runtime.companion import save_companion
from runtime.companions import CompanionEntry, CompanionRegistry, slugify
from runtime.errors import NotFoundError, UsageError
from runtime.importers.persona import PersonaPlan
from runtime.paths import DataHome, ensure_private_dir
from runtime.store import TranscriptStore

log = logging.getLogger(__name__)

STAGING_PREFIX = ".import-"
DEFAULT_NAME = "Companion"


@dataclass(frozen=True)
class TargetChoice:
    """An existing companion, or the name asked for a new one (None: to be derived)."""

    entry: CompanionEntry | None
    requested_name: str | None


def choose_target(home: DataHome, companion_name: str | None) -> TargetChoice:
    """Resolve `--companion` (or its absence) without creating anything."""
    registry = CompanionRegistry(home)
    if companion_name is not None:
        try:
            return TargetChoice(registry.find(companion_name), None)
        except NotFoundError:
            return TargetChoice(None, companion_name.strip())
    slugs = registry.slugs()
    if len(slugs) == 1:
        return TargetChoice(registry.load(slugs[0]), None)
    if not slugs:
        return TargetChoice(None, None)
    raise UsageError(
        f"several companions exist ({', '.join(slugs)}): say which one gets the import",
        hint="add --companion NAME (a new name creates a new companion)",
    )


def new_companion_name(
    choice: TargetChoice, plan: PersonaPlan, ask_name: Callable[[str], str] | None
) -> str:
    """The new companion's name: --companion, else the export's, else asked, else "Companion"."""
    name = choice.requested_name or plan.name
    if name:
        return name
    if ask_name is not None:
        answer = ask_name(DEFAULT_NAME).strip()
        if answer:
            return answer
    return DEFAULT_NAME


def remove_stale_staging(home: DataHome) -> None:
    """Delete staging directories of imports that were killed (their process is gone)."""
    root = home.companions_dir
    if not root.is_dir():
        return
    for path in root.glob(f"{STAGING_PREFIX}*"):
        pid_text = path.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            log.info("removing the staging directory of an interrupted import: %s", path.name)
            shutil.rmtree(path, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ImportTarget:
    """The companion being written: opens its store on first use, finishes or undoes at the end."""

    def __init__(self, home: DataHome, choice: TargetChoice) -> None:
        """Nothing is created until `open_store` or `finish`."""
        self.home = home
        self.choice = choice
        self.store: TranscriptStore | None = None
        self._staging: Path | None = None
        self._created: list[Path] = []  # directories and files this import created, in order

    def open_store(self) -> TranscriptStore:
        """The transcript to write to (the existing companion's, or the staging one)."""
        if self.store is not None:
            return self.store
        if self.choice.entry is not None:
            transcript = self.choice.entry.paths.transcript
            if not transcript.exists():
                self._created.append(transcript)
            self.store = TranscriptStore.open(transcript)
        else:
            self.store = TranscriptStore.open(self._staging_dir() / "transcript.sqlite")
            self.store.fast_fill()  # nobody sees the staging store; a failure deletes it
        return self.store

    def _staging_dir(self) -> Path:
        if self._staging is None:
            for directory in (self.home.root, self.home.companions_dir):
                if not directory.exists():
                    ensure_private_dir(directory)
                    self._created.append(directory)
            remove_stale_staging(self.home)
            self._staging = Path(
                tempfile.mkdtemp(
                    prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=self.home.companions_dir
                )
            )
        return self._staging

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def finish(self, plan: PersonaPlan, name: str | None) -> tuple[CompanionEntry, bool, bool]:
        """Apply the persona and publish a new companion; returns (entry, created, persona_updated).

        Call after the store's transaction committed. `name` is the new companion's name.
        """
        if self.store is not None and self.choice.entry is None:
            self.store.make_durable()
        self._close_store()
        registry = CompanionRegistry(self.home)
        entry = self.choice.entry
        if entry is not None:
            updated, changed = plan.apply(entry.companion)
            if changed:
                entry = registry.save(entry, updated)
            return entry, False, changed
        assert name is not None
        companion, changed = plan.new_companion(name)
        staging = self._staging_dir()
        save_companion(companion, staging / "companion.toml")
        slug = self._publish(staging, slugify(companion.name))
        self._staging = None
        self._created.clear()
        return registry.load(slug), True, changed

    def _publish(self, staging: Path, slug: str) -> str:
        """Rename the staging directory to `companions/<slug>` (or `<slug>-2`, … when taken)."""
        for attempt in range(1, 100):
            candidate = slug if attempt == 1 else f"{slug}-{attempt}"
            target = self.home.companion_dir(candidate)
            if target.exists():
                continue
            try:
                os.rename(staging, target)
            except OSError:
                if target.exists():
                    continue  # created meanwhile by another process
                raise
            _fsync_dir(self.home.companions_dir)  # the rename itself survives a power cut
            return candidate
        raise UsageError(f"too many companions named like {slug!r}", hint="pick another name")

    def abort(self) -> None:
        """Undo what this import created (the transaction itself was rolled back)."""
        self._close_store()
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        for path in reversed(self._created):
            with contextlib.suppress(OSError):
                if path.is_dir():
                    path.rmdir()  # only when empty: never someone else's files
                else:
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
        self._created.clear()
