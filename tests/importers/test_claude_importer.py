"""Claude.ai export: text from content blocks, no thinking/tools, voice, attachments, memories."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.errors import ImportFormatError
from runtime.importers.base import (
    ImportedMemory,
    ImportedSession,
    ImportWarning,
    Progress,
)
from runtime.importers.claude import ClaudeImporter
from tests.fixtures.other_exports import (
    EMOJI,
    ID,
    KO,
    ZH,
    claude_conversations,
    write_claude_export,
)


def _items(root: Path) -> list:
    return list(ClaudeImporter().read(root, Progress()))


def _sessions(items: list) -> list[ImportedSession]:
    return [item for item in items if isinstance(item, ImportedSession)]


@pytest.mark.parametrize("as_zip", [False, True])
def test_reads_folder_and_zip_the_same(tmp_path: Path, as_zip: bool) -> None:
    root = write_claude_export(tmp_path, as_zip=as_zip)
    assert ClaudeImporter().detect(root)
    sessions = _sessions(_items(root))
    assert [s.source_id for s in sessions] == ["conv-aaa", "conv-bbb"]
    first = sessions[0]
    assert first.source == "claude"
    assert first.title == "Stars tonight"
    assert first.created_at == datetime(2025, 1, 5, 20, 0, tzinfo=UTC)
    assert sessions[1].title is None  # an empty name is no title


def test_reply_is_built_from_text_blocks_only(tmp_path: Path) -> None:
    first = _sessions(_items(write_claude_export(tmp_path)))[0]
    by_id = {m.source_id: m for m in first.messages}
    # Not the top-level text (thinking + answer), not the tool traffic.
    assert by_id["m2"].text == "好啊！" + EMOJI
    assert "think" not in by_id["m2"].text and "TOOL" not in by_id["m2"].text
    # A message that was only thinking is dropped, and the thread stays linear around it.
    assert "m4" not in by_id
    assert [m.source_id for m in first.messages] == ["m1", "m2", "m3", "m5"]
    assert [m.parent_source_id for m in first.messages] == [None, "m1", "m2", "m3"]
    assert [m.role for m in first.messages] == ["user", "assistant", "user", "assistant"]


def test_voice_note_kept_and_attachments_become_placeholders(tmp_path: Path) -> None:
    first = _sessions(_items(write_claude_export(tmp_path)))[0]
    by_id = {m.source_id: m for m in first.messages}
    assert by_id["m1"].text == f"{ZH}\n\n[attachment: sky.txt]\n[attachment: photo.jpg]"
    assert "SECRET EXTRACTED TEXT" not in by_id["m1"].text
    assert by_id["m3"].text == ID
    assert by_id["m3"].metadata == {"voice": True}


def test_multilingual_text_is_byte_exact(tmp_path: Path) -> None:
    sessions = _sessions(_items(write_claude_export(tmp_path)))
    texts = [m.text for s in sessions for m in s.messages]
    assert KO in texts and ID in texts
    assert texts[1].encode("utf-8") == ("好啊！" + EMOJI).encode("utf-8")


def test_memories_become_claude_memories(tmp_path: Path) -> None:
    memories = [i for i in _items(write_claude_export(tmp_path)) if isinstance(i, ImportedMemory)]
    assert [(m.kind, m.source_id) for m in memories] == [
        ("claude_memory", "conversations_memory"),
        ("claude_memory", "project:proj-1"),
    ]
    assert memories[0].text == "**Work**: night shifts at a bakery\n- likes 绿茶"
    assert memories[1].text == "[project: Garden]\nPlanting tomatoes in May."


def test_top_level_text_used_only_without_content_blocks(tmp_path: Path) -> None:
    second = _sessions(_items(write_claude_export(tmp_path)))[1]
    assert [m.text for m in second.messages] == [KO, "나도 보고 싶었어!"]
    assert second.messages[0].created_at is None


def test_progress_counts_bytes_and_sessions(tmp_path: Path) -> None:
    root = write_claude_export(tmp_path)
    progress = Progress()
    list(ClaudeImporter().read(root, progress))
    size = (root / "conversations.json").stat().st_size
    assert (progress.bytes_total, progress.bytes_done, progress.sessions) == (size, size, 2)


def test_not_detected_for_chatgpt_or_other_json(tmp_path: Path) -> None:
    chatgpt = tmp_path / "chatgpt"
    chatgpt.mkdir()
    (chatgpt / "conversations.json").write_text(
        json.dumps([{"id": "c", "title": None, "mapping": {}}]), encoding="utf-8"
    )
    (chatgpt / "user.json").write_text("{}", encoding="utf-8")
    assert not ClaudeImporter().detect(chatgpt)
    other = tmp_path / "x.json"
    other.write_text('{"hello": 1}', encoding="utf-8")
    assert not ClaudeImporter().detect(other)
    assert not ClaudeImporter().detect(tmp_path / "missing")


def test_empty_export_with_users_json_is_detected(tmp_path: Path) -> None:
    (tmp_path / "conversations.json").write_text("[]", encoding="utf-8")
    (tmp_path / "users.json").write_text("[]", encoding="utf-8")
    assert ClaudeImporter().detect(tmp_path)
    assert _items(tmp_path) == []


def test_truncated_conversations_is_one_line_error(tmp_path: Path) -> None:
    text = json.dumps(claude_conversations())
    (tmp_path / "conversations.json").write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ImportFormatError) as caught:
        _items(tmp_path)
    assert "\n" not in caught.value.message
    assert "conversations.json" in caught.value.message


def test_missing_conversations_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match=r"no conversations\.json"):
        _items(tmp_path)


def test_odd_items_are_warnings_not_crashes(tmp_path: Path) -> None:
    odd = [
        "not a conversation",
        {"uuid": "empty", "chat_messages": []},
        {
            "uuid": "weird",
            "chat_messages": [
                {"uuid": "w1", "sender": "robot", "text": "?"},
                {"uuid": "w2", "sender": "human", "content": [{"type": "text", "text": "hi"}, 7]},
                {"uuid": "w2", "sender": "assistant", "content": "not a list", "text": "hello"},
                None,
            ],
        },
    ]
    (tmp_path / "conversations.json").write_text(json.dumps(odd), encoding="utf-8")
    (tmp_path / "memories.json").write_text("{broken", encoding="utf-8")
    items = _items(tmp_path)
    warnings = [i.message for i in items if isinstance(i, ImportWarning)]
    assert "memories.json is not valid JSON; skipped" in warnings
    assert any("not a conversation" in w for w in warnings)
    assert "no messages; conversation skipped" in warnings
    assert "skipped 1 message(s) with an unknown sender" in warnings
    (weird,) = _sessions(items)
    # Repeated ids are made unique instead of dropping a message.
    assert [(m.source_id, m.text) for m in weird.messages] == [("w2", "hi"), ("w2-2", "hello")]


def test_zip_with_nested_folder(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data-1/conversations.json", json.dumps(claude_conversations()))
    assert ClaudeImporter().detect(path)
    assert len(_sessions(_items(path))) == 2


# --- through `hearth import` --------------------------------------------------------------


def test_hearth_import_claude_zip_is_idempotent(run_cli, tmp_path: Path) -> None:
    path = write_claude_export(tmp_path, as_zip=True)
    first = run_cli("import", str(path), "--companion", "Claude", "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert (report["format"], report["sessions_added"], report["messages_added"]) == (
        "claude",
        2,
        6,
    )
    assert report["memories_added"] == 2
    again = json.loads(run_cli("import", str(path), "--companion", "Claude", "--json").stdout)
    assert (again["sessions_added"], again["sessions_skipped_duplicate"]) == (0, 2)
    shown = json.loads(run_cli("sessions", "show", "1", "--json").stdout)
    assert [m["text"] for m in shown["messages"]][1] == "好啊！" + EMOJI


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "uuid",
                    "name",
                    "chat_messages",
                    "sender",
                    "text",
                    "content",
                    "type",
                    "attachments",
                    "files",
                    "file_name",
                    "created_at",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_json, max_size=4), _json)
def test_fuzz_conversations_never_crash(tmp_path_factory, conversations: list, memories) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "conversations.json").write_text(json.dumps(conversations), encoding="utf-8")
    (root / "memories.json").write_text(json.dumps(memories), encoding="utf-8")
    for item in _items(root):
        assert isinstance(item, ImportedSession | ImportedMemory | ImportWarning)
