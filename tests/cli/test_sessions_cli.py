"""`hearth sessions …` on a real transcript store: exact JSON contracts, branches, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runtime.companion import Companion, Persona
from runtime.companions import CompanionRegistry
from runtime.paths import DataHome
from runtime.store import TranscriptStore

T0 = datetime(2025, 2, 14, 20, 30, tzinfo=UTC)


@pytest.fixture
def mira_store(isolated_home: Path) -> TranscriptStore:
    entry = CompanionRegistry(DataHome.resolve()).create(Companion(persona=Persona(name="Mira")))
    store = TranscriptStore.open(entry.paths.transcript)
    yield store
    store.close()


def _conversation(store: TranscriptStore) -> tuple[int, list[int]]:
    """A session with an edited user turn and a regenerated reply (so two forks)."""
    session = store.create_session(
        "Valentine's", source="chatgpt", source_id="conv-1", created_at=T0
    )
    hello = store.append(session.id, "user", "你好 🌙", created_at=T0, source_id="m1")
    first = store.append(session.id, "assistant", "안녕하세요!", model="gpt-4o", created_at=T0)
    second = store.regenerate(first.id, "Halo, apa kabar?", model="gpt-4o")
    question = store.append(session.id, "user", "how are you?", created_at=T0)
    edited = store.edit(question.id, "how was your day?")
    return session.id, [hello.id, first.id, second.id, question.id, edited.id]


def test_sessions_list_json_contract(run_cli, mira_store: TranscriptStore) -> None:
    assert run_cli("sessions", "list", "--json").stdout == "[]\n"
    session_id, _ = _conversation(mira_store)
    listed = json.loads(run_cli("sessions", "list", "--companion", "Mira", "--json").stdout)
    assert len(listed) == 1
    item = listed[0]
    assert list(item)[:6] == ["id", "title", "source", "source_id", "created_at", "message_count"]
    assert item["id"] == session_id
    assert (item["title"], item["source"], item["source_id"]) == (
        "Valentine's",
        "chatgpt",
        "conv-1",
    )
    assert item["created_at"] == "2025-02-14T20:30:00.000000+00:00"
    assert item["message_count"] == 5


def test_sessions_show_json_is_the_active_path(run_cli, mira_store: TranscriptStore) -> None:
    session_id, (hello, _first, second, _question, edited) = _conversation(mira_store)
    result = run_cli("sessions", "show", str(session_id), "--companion", "mira", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert list(shown)[:4] == ["id", "title", "source_id", "messages"]
    assert (shown["id"], shown["title"], shown["source_id"]) == (
        session_id,
        "Valentine's",
        "conv-1",
    )
    contract = ["id", "role", "text", "model", "created_at", "source_id", "alternatives"]
    assert [list(m)[:7] for m in shown["messages"]] == [contract] * 3
    assert [(m["id"], m["role"], m["text"], m["alternatives"]) for m in shown["messages"]] == [
        (hello, "user", "你好 🌙", 1),
        (second, "assistant", "Halo, apa kabar?", 2),
        (edited, "user", "how was your day?", 2),
    ]
    assert shown["messages"][0]["source_id"] == "m1"
    assert shown["messages"][1]["model"] == "gpt-4o"
    assert shown["messages"][0]["created_at"] == "2025-02-14T20:30:00.000000+00:00"


def test_sessions_show_human_marks_branches(run_cli, mira_store: TranscriptStore) -> None:
    session_id, (hello, _f, second, _q, edited) = _conversation(mira_store)
    out = run_cli("sessions", "show", str(session_id)).stdout
    assert out == (
        f"# Valentine's  [chatgpt, session {session_id}]\n"
        f"\n[{hello}] user:\n你好 🌙\n"
        f"\n[{second}] Mira (2/2):\nHalo, apa kabar?\n"
        f"\n[{edited}] user (2/2):\nhow was your day?\n"
    )


def test_unknown_session_is_one_line(run_cli, mira_store: TranscriptStore) -> None:
    _conversation(mira_store)
    result = run_cli("sessions", "show", "999")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "999" in result.stderr.splitlines()[0]
    assert "Traceback" not in result.output
    bad = run_cli("sessions", "show", "abc")
    assert bad.exit_code == 2


def test_rename_and_delete(run_cli, mira_store: TranscriptStore) -> None:
    session_id, _ = _conversation(mira_store)
    assert run_cli("sessions", "rename", str(session_id), "새 제목").exit_code == 0
    assert json.loads(run_cli("sessions", "list", "--json").stdout)[0]["title"] == "새 제목"
    assert run_cli("sessions", "delete", str(session_id), input="n\n").exit_code == 1
    deleted = run_cli("sessions", "delete", str(session_id), "--yes")
    assert deleted.stdout == f"deleted session {session_id}\n"
    assert run_cli("sessions", "list", "--json").stdout == "[]\n"


def test_sessions_without_any_companion(run_cli) -> None:
    result = run_cli("sessions", "list")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: there is no companion yet\n"
        "hint: create one with `hearth companion new NAME [--card CARD]`\n"
    )
