"""The import pipeline on ChatGPT exports: idempotence, continued chats, atomicity, dry runs,
which companion gets the import, persona and memories."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runtime.companion import Companion, CoreMemory, Persona
from runtime.companions import CompanionRegistry
from runtime.errors import ImportFormatError, UsageError
from runtime.importers.pipeline import ImportReport, ImportRequest, run_import
from runtime.importers.target import STAGING_PREFIX
from runtime.paths import DataHome
from runtime.store import TranscriptStore
from tests.fixtures.exports.chatgpt import START, Conversation, dumps, linear, write_export


@pytest.fixture
def home(isolated_home: Path) -> DataHome:
    return DataHome.resolve()


@pytest.fixture(params=["in-process", "worker"])
def parser_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the parser in-process and in the worker process."""
    monkeypatch.setenv("HEARTH_IMPORT_WORKER", "1" if request.param == "worker" else "0")
    return request.param


def _import(home: DataHome, path: Path, **kw) -> ImportReport:
    return run_import(home, ImportRequest(path, **kw))


def _store(home: DataHome, name: str | None = None) -> TranscriptStore:
    entry = CompanionRegistry(home).resolve(name)
    return TranscriptStore.open(entry.paths.transcript)


def _tree(home: DataHome) -> dict[str, list[tuple]]:
    """Every session (by source id) with its messages (source id, parent source id, text)."""
    with _store(home) as store:
        result = {}
        for summary in store.list_sessions():
            messages = store.messages(summary.id)
            by_id = {m.id: m.source_id for m in messages}
            result[summary.source_id] = [
                (m.source_id, by_id.get(m.parent_id), m.role, m.text) for m in messages
            ]
        return result


def _files(root: Path) -> dict[str, str]:
    """Every file under `root` with its content hash (to prove nothing changed)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _branchy() -> dict:
    conv = Conversation("branchy", "Branches 🌿")
    conv.custom_instructions("I work nights as a nurse.", "Your name is Mira. Be warm.")
    conv.saved_memory("1. Works nights.\n2. Loves jasmine tea.")
    q = conv.user("안녕!")
    conv.assistant("안녕하세요!")
    b = conv.assistant("Halo! Apa kabar?", parent=q)
    conv.user("我很好")
    return conv.build(current=b)


def test_import_then_reimport_adds_nothing(home: DataHome, tmp_path: Path, parser_mode) -> None:
    export = write_export(tmp_path / "e.zip", [_branchy(), linear("plain", 4)])
    first = _import(home, export)
    assert first.to_json() == {
        "format": "chatgpt", "sessions_added": 2, "messages_added": 8,
        "sessions_skipped_duplicate": 0, "persona_updated": True, "memories_added": 2,
        "warnings": [], "sessions_updated": 0, "companion": "Mira", "companion_created": True,
        "dry_run": False,
    }  # fmt: skip
    stored = _tree(home)
    again = _import(home, export)
    assert (again.sessions_added, again.messages_added, again.memories_added) == (0, 0, 0)
    assert again.sessions_skipped_duplicate == 2
    assert (again.persona_updated, again.companion_created) == (False, False)
    assert _tree(home) == stored


def test_a_conversation_continued_since_the_last_export_gets_only_its_new_messages(
    home: DataHome, tmp_path: Path
) -> None:
    conv = Conversation("chat", "Ongoing")
    conv.user("day one")
    conv.assistant("hello")
    _import(home, write_export(tmp_path / "v1.zip", [conv.build()]))
    conv.user("day two")
    newest = conv.assistant("welcome back")
    report = _import(home, write_export(tmp_path / "v2.zip", [conv.build()]))
    assert (report.sessions_added, report.sessions_updated, report.messages_added) == (0, 1, 2)
    with _store(home) as store:
        (session,) = store.list_sessions()
        path = store.active_path(session.id)
        assert [m.text for m in path] == ["day one", "hello", "day two", "welcome back"]
        assert path[-1].source_id == newest
        assert session.message_count == 4


def test_a_conversation_in_two_shards_is_stored_once(home: DataHome, tmp_path: Path) -> None:
    export = write_export(tmp_path / "e.zip", [linear("same", 4), linear("same", 4)], shards=2)
    report = _import(home, export)
    assert (report.sessions_added, report.messages_added) == (1, 4)
    assert report.sessions_skipped_duplicate == 1
    assert len(_tree(home)["same"]) == 4


def test_null_times_inherit_from_the_parent(home: DataHome, tmp_path: Path) -> None:
    conv = Conversation("c")
    conv.user("q", time=START + 10)
    conv.assistant("a", time=None)
    _import(home, write_export(tmp_path / "e.zip", [conv.build()]))
    with _store(home) as store:
        messages = store.messages(1)
    assert [m.created_at for m in messages] == [datetime.fromtimestamp(START + 10, UTC)] * 2


def test_a_dry_run_writes_nothing_and_reports_the_same_numbers(
    home: DataHome, tmp_path: Path, parser_mode
) -> None:
    export = write_export(tmp_path / "e.zip", [_branchy(), linear("a", 3), linear("a", 3)])
    dry = _import(home, export, dry_run=True)
    assert not home.root.exists()
    real = _import(home, export)
    assert {**dry.to_json(), "dry_run": False} == real.to_json()
    before = _files(home.root)
    again = _import(home, export, dry_run=True)
    assert _files(home.root) == before
    assert (again.sessions_added, again.sessions_skipped_duplicate, again.memories_added) == (
        0, 3, 0,
    )  # fmt: skip
    assert (again.companion, again.companion_created, again.persona_updated) == (
        "Mira", False, False,
    )  # fmt: skip


def test_a_failing_import_of_a_new_companion_leaves_no_directory(
    home: DataHome, tmp_path: Path, parser_mode
) -> None:
    good = dumps([linear(f"c{i}", 4) for i in range(5)])
    export = write_export(
        tmp_path / "e.zip", [linear("first", 2)], shards=1,
        extra_files={"conversations-001.json": good[: len(good) // 2]},
    )  # fmt: skip
    with pytest.raises(ImportFormatError, match=r"conversations-001\.json: the file is cut off"):
        _import(home, export)
    assert not home.root.exists()


def test_a_failing_import_into_an_existing_companion_changes_nothing(
    home: DataHome, tmp_path: Path, parser_mode
) -> None:
    _import(home, write_export(tmp_path / "first.zip", [linear("kept", 2)]))
    before = _files(home.root)
    bad = dumps([linear("new", 2), linear("also-new", 2)])[:-10]
    with pytest.raises(ImportFormatError):
        _import(home, write_export(tmp_path / "bad.zip", [], extra_files={
            "conversations.json": bad}))  # fmt: skip
    assert list(_tree(home)) == ["kept"]
    assert {k: v for k, v in _files(home.root).items() if "sqlite" not in k} == {
        k: v for k, v in before.items() if "sqlite" not in k
    }


def test_zero_conversations_is_an_error_and_writes_nothing(home: DataHome, tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="holds no conversations"):
        _import(home, write_export(tmp_path / "e.zip", []))
    assert not home.root.exists()


def test_the_only_companion_is_used_and_several_need_a_name(home: DataHome, tmp_path: Path) -> None:
    registry = CompanionRegistry(home.ensure())
    registry.create(Companion(persona=Persona(name="Sera")))
    report = _import(home, write_export(tmp_path / "a.zip", [linear("a", 2)]))
    assert (report.companion, report.companion_created) == ("Sera", False)
    registry.create(Companion(persona=Persona(name="Luna")))
    with pytest.raises(UsageError, match="several companions exist"):
        _import(home, write_export(tmp_path / "b.zip", [linear("b", 2)]))
    report = _import(home, write_export(tmp_path / "b.zip", [linear("b", 2)]), companion="luna")
    assert (report.companion, report.sessions_added) == ("Luna", 1)
    report = _import(home, tmp_path / "b.zip", companion="Nova")
    assert (report.companion, report.companion_created, report.sessions_added) == ("Nova", True, 1)


def test_a_new_companion_is_named_from_the_export_or_asked_or_companion(
    home: DataHome, tmp_path: Path
) -> None:
    asked: list[str] = []

    def ask(default: str) -> str:
        asked.append(default)
        return "Kai"

    report = run_import(
        home, ImportRequest(write_export(tmp_path / "a.zip", [linear("a", 2)])), ask_name=ask
    )
    assert (report.companion, asked) == ("Kai", ["Companion"])
    registry = CompanionRegistry(home)
    registry.delete(registry.find("Kai"))
    report = _import(home, tmp_path / "a.zip")
    assert report.companion == "Companion"


def test_persona_fills_empty_fields_and_keeps_what_the_user_wrote(
    home: DataHome, tmp_path: Path
) -> None:
    registry = CompanionRegistry(home.ensure())
    registry.create(
        Companion(
            persona=Persona(name="Mira", personality="Dry wit."),
            core_memories=[CoreMemory(label="user", text="")],
        )
    )
    report = _import(home, write_export(tmp_path / "e.zip", [_branchy()]))
    assert report.persona_updated is True
    assert [w.message for w in report.warnings] == [
        "kept the companion's own personality; the export has another"
    ]
    companion = registry.find("Mira").companion
    assert companion.persona.personality == "Dry wit."
    assert [(b.label, b.text) for b in companion.core_memories] == [
        ("user", "I work nights as a nurse.")
    ]


def test_memories_are_stored_durably_and_once(home: DataHome, tmp_path: Path) -> None:
    export = write_export(tmp_path / "e.zip", [_branchy()])
    _import(home, export)
    _import(home, export)
    with _store(home) as store:
        memories = store.memories()
    assert [(m.kind, m.text, m.source) for m in memories] == [
        ("saved_memory", "Works nights.", "chatgpt"),
        ("saved_memory", "Loves jasmine tea.", "chatgpt"),
    ]
    assert all(m.source_id and m.source_id.startswith("saved-") for m in memories)


def test_the_staging_directory_of_a_killed_import_is_removed(
    home: DataHome, tmp_path: Path
) -> None:
    stale = home.ensure().companions_dir / f"{STAGING_PREFIX}999999999-abc"
    stale.mkdir(parents=True)
    (stale / "transcript.sqlite").write_bytes(b"half")
    live = home.companions_dir / f"{STAGING_PREFIX}{os.getpid()}-other"
    live.mkdir()
    _import(home, write_export(tmp_path / "e.zip", [linear("a", 2)]))
    assert not stale.exists()
    assert live.exists()  # a running import's (our own pid) is left alone
    assert CompanionRegistry(home).slugs() == ["companion"]


def test_worker_errors_keep_their_message_and_hint(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_IMPORT_WORKER", "1")
    with pytest.raises(ImportFormatError) as caught:
        _import(home, write_export(tmp_path / "e.zip", []))
    assert caught.value.message.endswith("the export holds no conversations")
    assert caught.value.hint and "right export" in caught.value.hint


def test_lone_surrogates_become_replacement_characters(home: DataHome, tmp_path: Path) -> None:
    conv = Conversation("c", "title \ud800")
    conv.custom_instructions("about \udc00 me", "Be \ud83d kind")
    conv.user("broken \ud83d emoji and a whole one 🌙")
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv.build()]), encoding="ascii")  # escapes them as \\udXXX
    report = _import(home, path)
    assert report.sessions_added == 1
    with _store(home) as store:
        (session,) = store.list_sessions()
        assert session.title == "title \ufffd"
        assert store.messages(session.id)[0].text == "broken \ufffd emoji and a whole one 🌙"
    companion = CompanionRegistry(home).resolve(None).companion
    assert companion.persona.personality == "Be \ufffd kind"


def test_a_new_companion_store_is_filled_fast_but_published_in_wal_mode(
    home: DataHome, tmp_path: Path
) -> None:
    _import(home, write_export(tmp_path / "e.zip", [linear("a", 2)]))
    transcript = CompanionRegistry(home).resolve(None).paths.transcript
    conn = sqlite3.connect(transcript)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
