"""Fixtures for the transcript store tests: a fresh store file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.store import TranscriptStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's transcript lives (not created yet)."""
    return tmp_path / "companion" / "transcript.sqlite"


@pytest.fixture
def store(db_path: Path) -> Iterator[TranscriptStore]:
    """An open, empty store, closed after the test."""
    opened = TranscriptStore.open(db_path)
    yield opened
    opened.close()
