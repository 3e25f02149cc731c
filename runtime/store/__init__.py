"""The transcript store: one SQLite file per companion holding sessions as trees of messages.

It is the source of truth; the memory index and training datasets are rebuilt from it.
"""

from runtime.store.migrations import LATEST_VERSION, MIGRATIONS, migrate, schema_version
from runtime.store.models import (
    ROLES,
    Memory,
    Message,
    NewMemory,
    NewMessage,
    NewTreeMessage,
    PathStep,
    Role,
    Session,
    SessionSummary,
    TreeRow,
    format_timestamp,
    now_utc,
    parse_timestamp,
)
from runtime.store.transcript import ACTIVE_LEAF, TranscriptStore

__all__ = [
    "ACTIVE_LEAF",
    "LATEST_VERSION",
    "MIGRATIONS",
    "ROLES",
    "Memory",
    "Message",
    "NewMemory",
    "NewMessage",
    "NewTreeMessage",
    "PathStep",
    "Role",
    "Session",
    "SessionSummary",
    "TranscriptStore",
    "TreeRow",
    "format_timestamp",
    "migrate",
    "now_utc",
    "parse_timestamp",
    "schema_version",
]
