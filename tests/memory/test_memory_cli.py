"""`hearth memory …` end to end: JSON contracts, edits and their history, errors."""

from __future__ import annotations

import json
import sqlite3

from runtime.memory.directory import FORMAT
from runtime.store import NewMemory, TranscriptStore
from tests.memory.test_search import SMALL_TALK

SEARCH_KEYS = ["text", "score", "kind", "session_id", "message_ids", "source_ids", "created_at"]


def test_search_json_contract(run_cli, entry, converse) -> None:
    ids = converse([*SMALL_TALK, ("I adopted a grey kitten named Mochi.", "Cute!")])
    result = run_cli("memory", "search", "what is my pet called?", "--k", "2", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert len(found) == 2
    assert list(found[0])[: len(SEARCH_KEYS)] == SEARCH_KEYS
    # The turn is shown after the message before it, whose id is a context id, not a message id.
    assert found[0]["text"].endswith("User: I adopted a grey kitten named Mochi.\nMira: Cute!")
    assert found[0]["kind"] == "episodic"
    assert found[0]["message_ids"] == ids[-2:]
    assert found[0]["context_ids"] == ids[-3:-2]
    assert sorted(found[0]["speakers"]) == ["Mira", "User"]
    assert found[0]["source_ids"] == []
    assert isinstance(found[0]["score"], float) and found[0]["score"] >= found[1]["score"]
    assert found[0]["created_at"].endswith("+00:00")


def test_search_text_output_and_bad_k(run_cli, entry, converse) -> None:
    converse(SMALL_TALK)
    result = run_cli("memory", "search", "whales")
    assert result.exit_code == 0 and "whales" in result.stdout
    bad = run_cli("memory", "search", "whales", "--k", "0")
    assert bad.exit_code == 2 and "error: --k must be at least 1" in bad.stderr


def test_core_memory_edits_are_logged_with_before_and_after(run_cli, entry) -> None:
    assert run_cli("memory", "add", "--core", "user", "Works nights.").exit_code == 0
    assert run_cli("memory", "add", "--core", "user", "Loves green tea.").exit_code == 0
    edited = run_cli("memory", "edit", "user", "Works days now.", "--limit", "100")
    assert edited.stdout == "core memory 'user': 15/100 characters\n"
    over = run_cli("memory", "add", "--core", "user", "x" * 200)
    assert over.exit_code == 2 and "over its limit of 100" in over.stderr
    assert "hearth memory edit user --limit N" in over.stderr
    assert run_cli("memory", "forget", "user", "--yes").stdout == "forgot core memory 'user'\n"
    history = json.loads(run_cli("memory", "history", "--json").stdout)
    assert [(e["action"], e["target"], e["before"], e["after"]) for e in history] == [
        ("core.forget", "user", "Works days now.", None),
        ("core.edit", "user", "Works nights.\nLoves green tea.", "Works days now."),
        ("core.add", "user", "Works nights.", "Works nights.\nLoves green tea."),
        ("core.add", "user", None, "Works nights."),
    ]
    assert all(e["at"].endswith("+00:00") for e in history)


def test_add_pin_edit_forget_stored_memories(run_cli, entry, converse) -> None:
    ids = converse(SMALL_TALK)
    assert run_cli("memory", "add", "Sam's birthday is on 3 May.").stdout == (
        "remembered as memory:1\n"
    )
    found = json.loads(run_cli("memory", "search", "birthday", "--k", "1", "--json").stdout)
    assert (found[0]["id"], found[0]["kind"]) == ("memory:1", "archival")
    assert run_cli("memory", "edit", "memory:1", "Sam's birthday is on 4 May.").exit_code == 0
    pinned = run_cli("memory", "pin", f"turn:{ids[2]}", "--to", "facts")
    assert pinned.exit_code == 0, pinned.output
    listed = json.loads(run_cli("memory", "list", "--json").stdout)
    whales = "User: I watched a documentary about whales last night.\nMira: That sounds lovely!"
    assert listed["core"] == [{"label": "facts", "limit": 2000, "text": whales}]
    assert [m["text"] for m in listed["memories"]] == ["Sam's birthday is on 4 May."]
    assert run_cli("memory", "forget", "memory:1", "--yes").exit_code == 0
    found = json.loads(run_cli("memory", "search", "birthday", "--json").stdout)
    assert "memory:1" not in [m["id"] for m in found]
    actions = [e["action"] for e in json.loads(run_cli("memory", "history", "--json").stdout)]
    assert actions == ["forget", "core.pin", "memory.edit", "memory.add"]


def test_stats_warns_when_the_model_does_not_fit_the_language(run_cli, entry, converse) -> None:
    converse([("我今天很累，工作太多了。", "辛苦了，早点休息。")] * 3)
    result = run_cli("memory", "stats")
    assert result.exit_code == 0
    assert "warning: Mira's conversations are partly in Chinese" in result.stderr
    assert "hearth model pull multilingual-e5-small" in result.stderr
    figures = json.loads(run_cli("memory", "stats", "--json").stdout)
    assert figures["embedding_model"]["name"] == "all-MiniLM-L6-v2"
    assert figures["languages"] == {"zh": 1.0}
    assert figures["warning"].startswith("Mira's conversations are partly in Chinese 100%")


def test_rebuild_and_an_incompatible_directory(run_cli, entry, converse) -> None:
    converse(SMALL_TALK)
    assert run_cli("memory", "index").exit_code == 0
    conn = sqlite3.connect(entry.paths.memory_dir / "memory.sqlite")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'format'", (str(FORMAT + 1),))
    conn.commit()
    conn.close()
    broken = run_cli("memory", "search", "whales")
    assert broken.exit_code == 1
    assert broken.stderr.splitlines()[1] == (
        "hint: rebuild it from the transcript with `hearth memory rebuild` (or upgrade Hearth)"
    )
    rebuilt = run_cli("memory", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.stdout.startswith("rebuilt memory of Mira: 6 memories from 12 messages in ")
    assert run_cli("memory", "search", "whales").exit_code == 0


def test_a_missing_embedding_model_is_one_line_and_a_hint(run_cli, entry) -> None:
    run_cli("companion", "edit", "Mira", "--set", "model.embedding=multilingual-e5-small")
    result = run_cli("memory", "search", "anything")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: embedding model 'multilingual-e5-small' not found")
    assert "hint: download one with `hearth model pull multilingual-e5-small`" in result.stderr


def test_letter_dry_run_then_for_real(run_cli, entry, tmp_path) -> None:
    letter = tmp_path / "letter.md"
    letter.write_text(
        "# About me\nI'm Sam and I work nights as a nurse.\n\n"
        "# Us\nWe met in March 2023 and our song is Clair de Lune.\n\n"
        "The spare key is under the blue pot.\n",
        encoding="utf-8",
    )
    dry = json.loads(run_cli("memory", "letter", str(letter), "--dry-run", "--json").stdout)
    assert [(p["destination"], p["reason"]) for p in dry["pieces"]] == [
        ("user", "heading 'About me'"), ("relationship", "heading 'Us'"),
        ("relationship", "heading 'Us'"),
    ]  # fmt: skip
    assert json.loads(run_cli("memory", "list", "--json").stdout)["core"] == []
    done = run_cli("memory", "letter", str(letter))
    assert done.exit_code == 0 and "put: 2 → relationship, 1 → user" in done.stdout
    core = json.loads(run_cli("memory", "list", "--json").stdout)["core"]
    assert [b["label"] for b in core] == ["user", "relationship"]
    again = json.loads(run_cli("memory", "letter", str(letter), "--json").stdout)
    assert again["pieces"] == []  # everything is already remembered


def test_imported_memories_are_listed(run_cli, entry) -> None:
    with TranscriptStore.open(entry.paths.transcript) as store:
        store.add_memories([NewMemory("saved_memory", "Likes hiking.", "chatgpt", "x1")])
    listed = json.loads(run_cli("memory", "list", "--json").stdout)["memories"]
    assert [(m["id"], m["kind"], m["source"]) for m in listed] == [
        ("memory:1", "saved_memory", "chatgpt")
    ]
