"""`hearth import` indexes what it brought in the companion's long-term memory (real Chroma,
the real embedding model); memory trouble is a warning, never a failed import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.companions import CompanionRegistry
from runtime.memory import open_memory
from runtime.paths import DataHome

pytestmark = pytest.mark.slow

LINES = [
    {"session": "pets", "id": "1", "role": "user", "text": "I named my kitten Biscuit today.",
     "time": "2025-02-14T20:30:00Z", "title": "Pets"},
    {"session": "pets", "id": "2", "role": "assistant", "text": "Biscuit is a lovely name!"},
    {"session": "trip", "id": "3", "role": "user", "text": "We should visit the sea in June.",
     "time": "2025-03-01T10:00:00Z", "title": "Trip"},
    {"session": "trip", "id": "4", "role": "assistant", "text": "The sea in June, yes!"},
]  # fmt: skip


def export(tmp_path: Path) -> Path:
    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in LINES) + "\n", encoding="utf-8")
    return path


def test_an_import_is_searchable_right_away(run_cli, tmp_path: Path) -> None:
    result = run_cli("import", str(export(tmp_path)), "--companion", "Mira", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["messages_added"] == 4
    assert result.stderr == ""
    entry = CompanionRegistry(DataHome.resolve()).find("Mira")
    with open_memory(entry) as memory:
        assert memory.pending() == 0
        hits = memory.search("what is my cat called?", 3)
        assert hits[0].item.source_ids == ("1", "2")
        count = memory.items.count()
    again = run_cli("import", str(export(tmp_path)), "--companion", "Mira", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["messages_added"] == 0
    with open_memory(entry) as memory:
        assert memory.items.count() == count


def test_a_broken_embedding_model_is_a_warning_and_the_import_stands(
    run_cli, tmp_path: Path
) -> None:
    assert run_cli("companion", "new", "Mira").exit_code == 0
    edited = run_cli("companion", "edit", "Mira", "--set", "model.embedding=/nowhere/model")
    assert edited.exit_code == 0, edited.output
    result = run_cli("import", str(export(tmp_path)), "--companion", "Mira")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("warning: the memory index was not updated: embedding model")
    assert lines[1].startswith("hint: ")
    assert "messages added" in result.stdout


def test_no_index_leaves_memory_for_later(run_cli, tmp_path: Path) -> None:
    result = run_cli("import", str(export(tmp_path)), "--companion", "Mira", "--no-index")
    assert result.exit_code == 0, result.output
    entry = CompanionRegistry(DataHome.resolve()).find("Mira")
    with open_memory(entry) as memory:
        assert memory.pending() == 4
