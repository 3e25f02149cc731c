"""The import pipeline: open the export, pick its importer, stream its items into a companion.

    report = run_import(home, ImportRequest(Path("chatgpt-export.zip")))

Steps: `ExportSource.open` checks the input (zip safety, empty file) → `choose_importer` finds
the format → the importer streams items (in a worker process for a big export, see `worker`)
→ `ImportWriter` adds what is new → the persona is updated and a new companion published
(`ImportTarget`). One transaction covers the whole run:
an import that fails or is killed leaves the transcript exactly as it was (SQLite's WAL drops
the uncommitted pages on the next open) and re-running it starts afresh; an import of the same
export again adds nothing. `--dry-run` runs every step but against a read-only view, so it
reports the same numbers and writes nothing, not even the data directory.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.importers.archive import ExportSource
from runtime.importers.base import (
    ImportedMemory,
    ImportedSession,
    ImportOptions,
    ImportWarning,
    PersonaUpdate,
    Progress,
)
from runtime.importers.detect import Chosen, choose_importer
from runtime.importers.dryrun import DryRunBackend
from runtime.importers.persona import PersonaPlan
from runtime.importers.rows import PackedSession, PreparedSession, scrub
from runtime.importers.target import (
    DEFAULT_NAME,
    ImportTarget,
    TargetChoice,
    choose_target,
    new_companion_name,
)
from runtime.importers.worker import read_in_worker, use_worker
from runtime.importers.writer import ImportWriter, StoreBackend
from runtime.paths import DataHome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportRequest:
    """What `hearth import` was asked to do."""

    path: Path
    format: str = "auto"
    companion: str | None = None
    companion_speaker: str | None = None
    dry_run: bool = False


@dataclass
class ImportReport:
    """What an import added and skipped; `to_json` is the `hearth import --json` contract."""

    format: str
    sessions_added: int = 0
    messages_added: int = 0
    sessions_skipped_duplicate: int = 0
    persona_updated: bool = False
    memories_added: int = 0
    warnings: list[ImportWarning] = field(default_factory=list)
    sessions_updated: int = 0
    """Sessions that were stored already and got new messages (a continued conversation)."""
    companion: str | None = None
    companion_created: bool = False
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        """The contract's keys first, in order; keys after `warnings` may grow."""
        return {
            "format": self.format,
            "sessions_added": self.sessions_added,
            "messages_added": self.messages_added,
            "sessions_skipped_duplicate": self.sessions_skipped_duplicate,
            "persona_updated": self.persona_updated,
            "memories_added": self.memories_added,
            "warnings": [
                {"conversation": w.conversation, "message": w.message} for w in self.warnings
            ],
            "sessions_updated": self.sessions_updated,
            "companion": self.companion,
            "companion_created": self.companion_created,
            "dry_run": self.dry_run,
        }


ProgressCallback = Callable[[Progress], None]
NameAsker = Callable[[str], str]
Writable = ImportedSession | PackedSession | PreparedSession | ImportedMemory


class _LazyStore:
    """Writes through the target's store, opened (and its one transaction begun) on first use,
    so input rejected before anything is written never creates a file."""

    def __init__(self, target: ImportTarget, stack: contextlib.ExitStack, fmt: str) -> None:
        self._target = target
        self._stack = stack
        self._fmt = fmt
        self.writer: ImportWriter | None = None

    def __call__(self, item: Writable) -> None:
        if self.writer is None:
            store = self._target.open_store()
            self._stack.enter_context(store.transaction())
            self.writer = ImportWriter(StoreBackend(store), self._fmt)
        _write(self.writer, item)


def _write(writer: ImportWriter, item: Writable) -> None:
    if isinstance(item, ImportedMemory):
        writer.memory(item)
    else:
        writer.session(item)


def _items(chosen: Chosen, options: ImportOptions, progress: Progress) -> Iterator[Any]:
    """The importer's items, parsed in a worker process when the export is big."""
    if use_worker(chosen.source.total_size):
        return read_in_worker(chosen.name, options, chosen.source.path, chosen.root, progress)
    return chosen.read(progress)


def _consume(
    items: Iterator[Any],
    write: Callable[[Writable], None],
    plan: PersonaPlan,
    warnings: list[ImportWarning],
    progress: Progress,
    on_progress: ProgressCallback | None,
) -> None:
    """Route every item: sessions and memories to `write`, the rest to the plan and warnings."""
    with _collector_paused():
        for item in items:
            if isinstance(item, PersonaUpdate):
                plan.add(_scrubbed_update(item))
            elif isinstance(item, ImportWarning):
                conversation = scrub(item.conversation) if item.conversation else None
                warnings.append(ImportWarning(conversation, scrub(item.message)))
            else:
                write(item)
            if on_progress is not None:
                on_progress(progress)


def _scrubbed_update(update: PersonaUpdate) -> PersonaUpdate:
    """The update with lone surrogates replaced in every string (they cannot go into TOML)."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        return value

    return PersonaUpdate(fields=clean(update.fields), core_memories=clean(update.core_memories))


def _report(
    fmt: str,
    writer: ImportWriter | None,
    plan: PersonaPlan,
    warnings: list[ImportWarning],
    dry_run: bool,
) -> ImportReport:
    report = ImportReport(format=fmt, warnings=warnings + plan.warnings, dry_run=dry_run)
    if writer is not None:
        report.sessions_added = writer.sessions_added
        report.messages_added = writer.messages_added
        report.sessions_skipped_duplicate = writer.sessions_skipped_duplicate
        report.memories_added = writer.memories_added
        report.sessions_updated = writer.sessions_updated
    return report


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: an import allocates millions of small objects that
    die young without cycles, and the collector's passes over them cost a large share."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_import(
    home: DataHome,
    request: ImportRequest,
    *,
    on_progress: ProgressCallback | None = None,
    ask_name: NameAsker | None = None,
) -> ImportReport:
    """Import the export at `request.path`; see the module docstring. Raises HearthError
    subclasses (ImportFormatError, UsageError, StoreError) for problems the user can fix."""
    options = ImportOptions(
        companion_speaker=request.companion_speaker, companion_name=request.companion
    )
    plan = PersonaPlan()
    warnings: list[ImportWarning] = []
    progress = Progress()
    with ExportSource.open(request.path) as source:
        chosen = choose_importer(source, request.format, options)
        choice = choose_target(home, request.companion)
        items = _items(chosen, options, progress)
        if request.dry_run:
            return _dry_run(chosen.name, items, choice, plan, progress, on_progress)
        target = ImportTarget(home, choice)
        try:
            with contextlib.ExitStack() as stack:
                write = _LazyStore(target, stack, chosen.name)
                _consume(items, write, plan, warnings, progress, on_progress)
            # Committed (the stack ended the transaction). Now the persona, and publishing.
            name = None if choice.entry else new_companion_name(choice, plan, ask_name)
            entry, created, persona_updated = target.finish(plan, name)
        except BaseException:
            target.abort()
            raise
    report = _report(chosen.name, write.writer, plan, warnings, dry_run=False)
    report.companion, report.companion_created = entry.name, created
    report.persona_updated = persona_updated
    return report


def _dry_run(
    fmt: str,
    items: Iterator[Any],
    choice: TargetChoice,
    plan: PersonaPlan,
    progress: Progress,
    on_progress: ProgressCallback | None,
) -> ImportReport:
    """Everything but the writes: the numbers a real import would report."""
    transcript = choice.entry.paths.transcript if choice.entry is not None else None
    backend = DryRunBackend(transcript)
    writer = ImportWriter(backend, fmt)
    warnings: list[ImportWarning] = []
    try:
        _consume(items, lambda item: _write(writer, item), plan, warnings, progress, on_progress)
    finally:
        backend.close()
    if choice.entry is not None:
        _, persona_updated = plan.apply(choice.entry.companion)
        name, created = choice.entry.name, False
    else:
        name = choice.requested_name or plan.name or DEFAULT_NAME
        _, persona_updated = plan.new_companion(name)
        created = True
    report = _report(fmt, writer, plan, warnings, dry_run=True)
    report.companion, report.companion_created = name, created
    report.persona_updated = persona_updated
    return report
