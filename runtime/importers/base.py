"""What every importer produces: format-neutral sessions, memories and persona updates.

An importer reads one export and yields `ImportItem`s in a stream (never the whole export in
memory). The pipeline, not the importer, writes them: it de-duplicates by source ids, creates the
companion when needed, and commits atomically. So an importer is a pure parser, easy to fuzz.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from runtime.store.models import Role

if TYPE_CHECKING:
    from runtime.importers.archive import ExportSource

MemoryKind = Literal[
    "saved_memory",  # ChatGPT saved memory (model_editable_context) and `bio` writes
    "custom_instructions",  # what the user told the vendor about themselves
    "claude_memory",  # Claude memories.json
    "lorebook",  # character card character_book entries
    "note",  # anything else worth remembering (a memory letter, a summary)
]


@dataclass
class ImportedMessage:
    """One message of a conversation tree, as the export has it."""

    source_id: str
    """The export's id for this message; unique within its session (synthesize one if absent)."""
    parent_source_id: str | None
    """The parent's source_id; None for a root. Parents always come before children."""
    role: Role
    text: str
    created_at: datetime | None = None
    """Aware UTC datetime, or None when the export has no time."""
    model: str | None = None
    """Model slug that wrote an assistant message (e.g. "gpt-4o"), when known."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Extra facts kept with the message: {"voice": true}, {"feedback": "thumbs_up"}, …"""


@dataclass
class ImportedSession:
    """A conversation: its messages in tree order (parents first) and which leaf was shown."""

    source: str
    """Importer name: "chatgpt", "claude", "sillytavern", "gemini", "text", "jsonl"."""
    source_id: str
    """The conversation's id in the export (re-imports are recognised by (source, source_id))."""
    title: str | None
    created_at: datetime | None
    messages: list[ImportedMessage]
    active_leaf_source_id: str | None = None
    """The leaf of the thread the user saw; None = the last message in the list."""


@dataclass
class ImportedMemory:
    """A fact to remember that is not part of a conversation."""

    kind: MemoryKind
    text: str
    source_id: str | None = None
    created_at: datetime | None = None


@dataclass
class PersonaUpdate:
    """Persona fields and core memory blocks learned from the export (custom instructions, card)."""

    fields: dict[str, Any] = field(default_factory=dict)
    """Persona (Character Card V2) field → value; only non-empty fields are applied."""
    core_memories: dict[str, str] = field(default_factory=dict)
    """Core memory label → text (e.g. "user" → what the user said about themselves)."""


@dataclass
class ImportWarning:
    """Something skipped but not fatal; names the conversation and what was skipped."""

    conversation: str | None
    message: str


ImportItem = ImportedSession | ImportedMemory | PersonaUpdate | ImportWarning


@dataclass
class Progress:
    """How far an importer got, for progress bars: bytes read of the total, sessions parsed."""

    bytes_done: int = 0
    bytes_total: int = 0
    sessions: int = 0


class Importer(Protocol):
    """One export format."""

    name: str
    """Format name used by `--format` and stored as the session source."""

    def detect(self, root: Path) -> bool:
        """True when `root` (an extracted folder or a single file) looks like this format."""
        ...

    def read(self, root: Path, progress: Progress) -> Iterator[ImportItem]:
        """Stream the export's items; raise an ImportFormatError for a file it cannot read."""
        ...


@dataclass(frozen=True)
class ImportOptions:
    """What the user told `hearth import` that an importer may need.

    The pipeline sets it as `importer.options` before calling `detect`/`read` (importers are
    created without arguments), so an importer that needs none can ignore it.
    """

    companion_speaker: str | None = None
    """`--companion-speaker NAME`: which speaker of a plain transcript is the companion."""
    companion_name: str | None = None
    """`--companion NAME` as typed (None when left out), e.g. to guess the speaker."""


@runtime_checkable
class SourceImporter(Protocol):
    """An importer that reads the export through an `ExportSource` instead of a path.

    Optional: when an importer has these two methods the pipeline calls them and never extracts
    a zip (members are streamed from it); otherwise it calls `detect(root)`/`read(root, …)` with
    the folder, the file, or the zip extracted into a temporary directory.
    """

    name: str

    def detect_source(self, source: ExportSource) -> bool:
        """True when the source (zip, folder or file) looks like this format."""
        ...

    def read_source(self, source: ExportSource, progress: Progress) -> Iterator[ImportItem]:
        """Stream the export's items; raise an ImportFormatError for a file it cannot read."""
        ...
