"""The ChatGPT importer over whole exports: layouts, shards, feedback, memories, detection."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from runtime.errors import ImportFormatError
from runtime.importers.archive import ExportSource
from runtime.importers.base import (
    ImportedMemory,
    ImportedSession,
    ImportWarning,
    PersonaUpdate,
    Progress,
)
from runtime.importers.chatgpt import ChatGPTImporter
from tests.fixtures.exports.chatgpt import Conversation, dumps, linear, write_export


def _read(path: Path) -> tuple[list, Progress]:
    progress = Progress()
    return list(ChatGPTImporter().read(path, progress)), progress


def _of(items: list, kind: type) -> list:
    return [item for item in items if isinstance(item, kind)]


@pytest.mark.parametrize("layout", ["zip", "dir", "file"])
def test_every_layout_reads_the_same_sessions(tmp_path: Path, layout: str) -> None:
    conversations = [linear("a", 4), linear("b", 3)]
    name = {"zip": "export.zip", "dir": "export", "file": "conversations.json"}[layout]
    path = write_export(tmp_path / name, conversations, layout=layout)
    items, progress = _read(path)
    sessions = _of(items, ImportedSession)
    assert [s.source_id for s in sessions] == ["a", "b"]
    assert [len(s.messages) for s in sessions] == [4, 3]
    assert progress.sessions == 2
    assert progress.bytes_done == progress.bytes_total > 0


def test_shards_are_read_in_numeric_order_and_a_nested_folder_is_found(tmp_path: Path) -> None:
    conversations = [linear(f"c{i}", 2) for i in range(12)]
    path = write_export(tmp_path / "e.zip", conversations, shards=11, folder="chatgpt-export")
    with zipfile.ZipFile(path) as archive:
        assert "chatgpt-export/conversations-010.json" in archive.namelist()
    sessions = _of(_read(path)[0], ImportedSession)
    # Shard k holds conversations k, k+11, …: numeric order (000, 001, …, 010), not text order.
    assert [s.source_id for s in sessions] == [f"c{i}" for i in (0, 11, *range(1, 11))]


def test_a_wrapped_array_and_a_single_conversation_object(tmp_path: Path) -> None:
    wrapped = write_export(tmp_path / "w.zip", [linear("a", 2), linear("b", 2)], wrap=True)
    assert [s.source_id for s in _of(_read(wrapped)[0], ImportedSession)] == ["a", "b"]
    single = tmp_path / "one.json"
    single.write_bytes(dumps(linear("solo", 2)))
    assert [s.source_id for s in _of(_read(single)[0], ImportedSession)] == ["solo"]


def test_feedback_ratings_are_attached(tmp_path: Path) -> None:
    conv = Conversation("c1")
    conv.user("q")
    good = conv.assistant("a")
    feedback = [
        {"id": "fb-0", "message_id": good, "conversation_id": "c1", "rating": "thumbsUp",
         "content": json.dumps({"tags": ["warm"], "text": "lovely"})},
        {"message_id": "gone", "rating": "thumbsDown"},
        "junk",
    ]  # fmt: skip
    path = write_export(tmp_path / "e.zip", [conv.build()], feedback=feedback)
    session = _of(_read(path)[0], ImportedSession)[0]
    assert session.messages[1].metadata == {
        "feedback": "thumbs_up", "feedback_text": "lovely", "feedback_tags": ["warm"],
    }  # fmt: skip


def test_a_broken_feedback_file_is_a_warning_not_an_error(tmp_path: Path) -> None:
    path = write_export(
        tmp_path / "e.zip", [linear("a", 2)], extra_files={"message_feedback.json": "[{"}
    )
    items = _read(path)[0]
    assert len(_of(items, ImportedSession)) == 1
    assert "message_feedback.json skipped" in _of(items, ImportWarning)[0].message


def test_saved_memory_is_deduplicated_across_conversations_and_bio_writes(tmp_path: Path) -> None:
    first = Conversation("c1", start=1_700_000_000)
    first.saved_memory("1. Likes jasmine tea.\n2. Has a cat named Mochi.")
    first.user("hi")
    second = Conversation("c2", start=1_700_100_000)
    second.saved_memory("1. likes  jasmine tea.\n2. Has a cat named Mochi.\n3. Plays piano.")
    second.user("I play piano")
    second.bio_write("Plays piano.")
    path = write_export(tmp_path / "e.zip", [first.build(), second.build()])
    memories = _of(_read(path)[0], ImportedMemory)
    assert [(m.kind, m.text) for m in memories] == [
        ("saved_memory", "Likes jasmine tea."),
        ("saved_memory", "Has a cat named Mochi."),
        ("saved_memory", "Plays piano."),
    ]
    assert len({m.source_id for m in memories}) == 3


def test_the_newest_custom_instructions_become_one_persona_update(tmp_path: Path) -> None:
    old = Conversation("old", start=1_600_000_000)
    old.custom_instructions("I live in Busan.", "You are Mira. Be playful.")
    old.user("hi")
    new = Conversation("new", start=1_700_000_000)
    new.custom_instructions("I moved to Seoul.", "Your name is Mira. Be gentle.")
    new.user("hello")
    path = write_export(tmp_path / "e.zip", [new.build(), old.build()])  # newest first, as exported
    updates = _of(_read(path)[0], PersonaUpdate)
    assert updates == [
        PersonaUpdate(
            fields={"personality": "Your name is Mira. Be gentle.", "name": "Mira"},
            core_memories={"user": "I moved to Seoul."},
        )
    ]


def test_a_conversation_repeated_in_two_shards_is_yielded_twice_for_the_writer(
    tmp_path: Path,
) -> None:
    # De-duplication is the writer's job (it also covers re-imports); the parser stays simple.
    path = write_export(tmp_path / "e.zip", [linear("a", 2), linear("a", 2)], shards=2)
    assert [s.source_id for s in _of(_read(path)[0], ImportedSession)] == ["a", "a"]


def test_zero_conversations_is_an_error(tmp_path: Path) -> None:
    path = write_export(tmp_path / "e.zip", [])
    with pytest.raises(ImportFormatError, match="holds no conversations"):
        _read(path)


def test_truncated_json_is_an_error_naming_the_file(tmp_path: Path) -> None:
    data = dumps([linear("a", 2), linear("b", 2)])
    path = write_export(tmp_path / "e.zip", [], extra_files={"conversations.json": data[:-40]})
    with pytest.raises(ImportFormatError, match=r"conversations\.json: the file is cut off"):
        _read(path)


def test_detection(tmp_path: Path) -> None:
    importer = ChatGPTImporter()
    chatgpt = write_export(tmp_path / "c.zip", [linear("a", 2)])
    empty = write_export(tmp_path / "empty.zip", [])
    claude = tmp_path / "claude.zip"
    with zipfile.ZipFile(claude, "w") as archive:
        archive.writestr("conversations.json", json.dumps([{"uuid": "x", "chat_messages": []}]))
        archive.writestr("users.json", "[]")
    other = tmp_path / "notes.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("notes.txt", "hello")
    plain = tmp_path / "data.json"
    plain.write_text('[{"name": "x"}]')
    assert importer.detect(chatgpt) and importer.detect(empty)
    assert not importer.detect(claude)
    assert not importer.detect(other)
    assert not importer.detect(plain)
    assert not importer.detect(tmp_path / "missing.zip")
    with ExportSource.open(chatgpt) as source:
        assert importer.detect_source(source)
