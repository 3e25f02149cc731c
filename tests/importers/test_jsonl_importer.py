"""Hearth JSONL: file order, trees, active leaf, bad lines; export → import gives the same tree."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.errors import ImportFormatError
from runtime.importers.base import ImportedSession, ImportWarning, Progress
from runtime.importers.jsonl import ROLES, HearthJsonlImporter
from runtime.session_export import jsonl_lines, markdown_lines
from runtime.store import TranscriptStore
from tests.fixtures.other_exports import EMOJI, ID, KO, ZH

T0 = datetime(2025, 2, 14, 20, 30, tzinfo=UTC)


def _write(path: Path, rows: list) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _read(path: Path) -> list:
    return list(HearthJsonlImporter().read(path, Progress()))


def _sessions(items: list) -> list[ImportedSession]:
    return [i for i in items if isinstance(i, ImportedSession)]


def _path_to(session: ImportedSession, leaf: str | None) -> list[str]:
    by_id = {m.source_id: m for m in session.messages}
    path = []
    while leaf is not None:
        path.append(leaf)
        leaf = by_id[leaf].parent_source_id
    return path[::-1]


def test_linear_sessions_follow_file_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "chat.jsonl",
        [
            {"session": "a", "role": "user", "text": ZH, "time": "2025-02-14T20:30:00Z"},
            {"session": "b", "id": 1, "role": "user", "text": KO, "time": 1739565000},
            {"session": "a", "role": "assistant", "text": ID, "name": "Mira", "model": "m1"},
            {"session": "b", "id": 2, "role": "assistant", "text": EMOJI, "title": "Second"},
            {"session": "a", "role": "user", "text": "bye", "metadata": {"voice": True}},
        ],
    )
    assert HearthJsonlImporter().detect(path)
    a, b = sorted(_sessions(_read(path)), key=lambda s: s.source_id)
    assert (a.source, a.source_id, a.title) == ("jsonl", "a", None)
    assert [(m.source_id, m.parent_source_id, m.role) for m in a.messages] == [
        ("line-1", None, "user"),
        ("line-3", "line-1", "assistant"),
        ("line-5", "line-3", "user"),
    ]
    assert [m.text for m in a.messages] == [ZH, ID, "bye"]
    assert a.messages[1].metadata == {"name": "Mira"} and a.messages[1].model == "m1"
    assert a.messages[2].metadata == {"voice": True}
    assert a.created_at == T0 and a.active_leaf_source_id == "line-5"
    assert (b.title, [m.source_id for m in b.messages]) == ("Second", ["1", "2"])
    assert b.messages[0].created_at == datetime(2025, 2, 14, 20, 30, tzinfo=UTC)


def test_parents_make_a_tree_in_any_line_order(tmp_path: Path) -> None:
    rows = [
        {"session": "s", "id": "r2", "parent": "u1", "role": "assistant", "text": "second"},
        {"session": "s", "id": "u1", "parent": None, "role": "user", "text": "hi"},
        {"session": "s", "id": "r1", "parent": "u1", "role": "assistant", "text": "first"},
        {"session": "s", "id": "u2", "parent": "r1", "role": "user", "text": "more"},
    ]
    (session,) = _sessions(_read(_write(tmp_path / "t.jsonl", rows)))
    ids = [m.source_id for m in session.messages]
    assert ids.index("u1") < ids.index("r1") < ids.index("u2") and "r2" in ids
    # No "active": the last line is the active leaf.
    assert _path_to(session, session.active_leaf_source_id) == ["u1", "r1", "u2"]


def test_active_flag_and_descend_to_a_leaf(tmp_path: Path) -> None:
    rows = [
        {"session": "s", "id": "u1", "parent": None, "role": "user", "text": "hi"},
        {"session": "s", "id": "r1", "parent": "u1", "role": "assistant", "text": "a"},
        {"session": "s", "id": "r2", "parent": "u1", "role": "assistant", "text": "b"},
        {"session": "s", "id": "x", "parent": "r1", "role": "user", "text": "on r1"},
    ]
    rows[2]["active"] = True
    (session,) = _sessions(_read(_write(tmp_path / "t.jsonl", rows)))
    assert session.active_leaf_source_id == "r2"
    rows[2].pop("active")
    rows.append({"session": "s", "id": "y", "parent": "u1", "role": "user", "text": "?"})
    rows[-1]["parent"] = "u1"
    rows.insert(1, {"session": "s", "id": "z", "parent": "u1", "role": "user", "text": "late"})
    (session,) = _sessions(_read(_write(tmp_path / "t2.jsonl", rows)))
    assert session.active_leaf_source_id == "y"


def test_bad_lines_dangling_parents_cycles_duplicates(tmp_path: Path) -> None:
    rows = [
        "{not json",
        {"role": "user", "text": "no session"},
        {"session": "s", "id": "a", "role": "robot", "text": "?"},
        {"session": "s", "id": "a", "role": "user", "text": 5},
        {"session": "s", "id": "a", "role": "user", "text": "ok"},
        {"session": "s", "id": "a", "role": "user", "text": "dup"},
        {"session": "s", "id": "b", "parent": "ghost", "role": "assistant", "text": "orphan"},
        {"session": "s", "id": "c1", "parent": "c2", "role": "user", "text": "loop"},
        {"session": "s", "id": "c2", "parent": "c1", "role": "assistant", "text": "loop"},
    ]
    items = _read(_write(tmp_path / "bad.jsonl", rows))
    warnings = [w.message for w in items if isinstance(w, ImportWarning)]
    assert warnings == [
        "line 1: not a message object with a 'session'; skipped",
        "line 2: not a message object with a 'session'; skipped",
        "line 3: role must be one of user, assistant, system; skipped",
        "line 4: 'text' must be a string; skipped",
        "line 6: id 'a' is used twice in its session; skipped",
        "session s: parent 'ghost' of message 'b' does not exist; the message starts a new branch",
        "session s: 2 message(s) in a parent cycle skipped",
    ]
    (session,) = _sessions(items)
    assert [(m.source_id, m.parent_source_id) for m in session.messages] == [
        ("a", None),
        ("b", None),
    ]


def test_not_hearth_jsonl(tmp_path: Path) -> None:
    st = _write(tmp_path / "st.jsonl", [{"user_name": "A", "character_name": "B"}])
    assert not HearthJsonlImporter().detect(st)
    with pytest.raises(ImportFormatError, match="not Hearth JSONL"):
        _read(st)
    assert not HearthJsonlImporter().detect(tmp_path / "missing.jsonl")


# --- export → import ----------------------------------------------------------------------


def _import_into(store: TranscriptStore, session: ImportedSession) -> int:
    """Write an imported session with the plain store API (independent of the pipeline)."""
    created = store.create_session(session.title, "jsonl", session.source_id, session.created_at)
    ids: dict[str, int] = {}
    for m in session.messages:
        parent = ids[m.parent_source_id] if m.parent_source_id else None
        ids[m.source_id] = store.append(
            created.id,
            m.role,
            m.text,
            parent_id=parent,
            model=m.model,
            source_id=m.source_id,
            metadata=m.metadata,
            created_at=m.created_at,
            activate=False,
        ).id
    store.switch_to(ids[session.active_leaf_source_id])
    return created.id


def _shape(store: TranscriptStore, session_id: int) -> list[tuple]:
    """The tree as (role, text, parent's text, model, metadata, time), in creation order."""
    messages = store.messages(session_id)
    text = {m.id: m.text for m in messages}
    return [
        (m.role, m.text, text.get(m.parent_id), m.model, m.metadata, m.created_at) for m in messages
    ]


def test_export_then_import_gives_the_same_tree(tmp_path: Path) -> None:
    with TranscriptStore.open(tmp_path / "a.sqlite") as store:
        session = store.create_session("Stars ✨", created_at=T0)
        hello = store.append(session.id, "user", ZH, created_at=T0)
        first = store.append(session.id, "assistant", KO, model="gpt-4o", created_at=T0)
        store.regenerate(first.id, ID, model="llama", metadata={"name": "Mira"})
        question = store.append(session.id, "user", "line one\nline two")
        store.edit(question.id, EMOJI)
        store.switch_to(first.id)  # the active branch is not the newest one
        store.append(session.id, "user", "back on the first branch", metadata={"voice": True})
        original = store.get_session(session.id)
        lines = list(jsonl_lines(original, store.messages(session.id)))
        before = _shape(store, session.id)
        active_before = [m.text for m in store.active_path(session.id)]
        assert hello.id == int(json.loads(lines[0])["id"])
    export = tmp_path / "export.jsonl"
    export.write_text("".join(lines), encoding="utf-8")
    records = [json.loads(line) for line in lines]
    assert records[0]["title"] == "Stars ✨" and records[0]["parent"] is None
    assert sum(1 for r in records if r.get("active")) == 1
    assert {r["session"] for r in records} == {f"hearth-{original.id}"}
    (imported,) = _sessions(_read(export))
    with TranscriptStore.open(tmp_path / "b.sqlite") as other:
        new_id = _import_into(other, imported)
        assert _shape(other, new_id) == before
        assert [m.text for m in other.active_path(new_id)] == active_before
        assert other.get_session(new_id).title == "Stars ✨"
        again = list(jsonl_lines(other.get_session(new_id), other.messages(new_id)))
    # Exporting the imported copy gives the same records (the key is kept as its source id).
    assert [json.loads(line) for line in again] == records


def test_markdown_lines_show_the_active_path(tmp_path: Path) -> None:
    with TranscriptStore.open(tmp_path / "a.sqlite") as store:
        session = store.create_session("Stars", source="chatgpt", source_id="c1", created_at=T0)
        store.append(session.id, "system", "be kind", created_at=T0)
        store.append(session.id, "user", ZH, created_at=T0)
        reply = store.append(session.id, "assistant", "old", created_at=T0)
        store.regenerate(reply.id, f"{KO}\nline two")
        text = "".join(
            markdown_lines(store.get_session(session.id), store.active_path(session.id), "Mira")
        )
    assert text == (
        f"# Stars\n\n_Session {session.id} · chatgpt · 2025-02-14 20:30 UTC_\n\n"
        f"**System:** be kind\n\n**User:** {ZH}\n\n**Mira:** {KO}\nline two\n"
    )


# --- through `hearth import` and `hearth sessions export` -----------------------------------


def test_cli_export_then_import_round_trip(run_cli, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    _write(
        source,
        [
            {"session": "s", "id": "u", "parent": None, "role": "user", "text": ZH, "title": "T"},
            {"session": "s", "id": "a1", "parent": "u", "role": "assistant", "text": KO},
            {
                "session": "s",
                "id": "a2",
                "parent": "u",
                "role": "assistant",
                "text": ID,
                "active": True,
            },
            {"session": "s", "id": "x", "parent": "a1", "role": "user", "text": EMOJI},
        ],
    )
    first = run_cli("import", str(source), "--companion", "Mira", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["messages_added"] == 4
    out = tmp_path / "out.jsonl"
    assert run_cli("sessions", "export", "1", "--out", str(out)).exit_code == 0
    assert run_cli("import", str(out), "--companion", "Kai", "--json").exit_code == 0
    show = [
        json.loads(run_cli("sessions", "show", "1", "--companion", name, "--json").stdout)
        for name in ("Mira", "Kai")
    ]
    steps = [[(m["text"], m["alternatives"], m["position"]) for m in s["messages"]] for s in show]
    assert steps[0] == steps[1] == [(ZH, 1, 1), (ID, 2, 2)]
    assert show[0]["title"] == show[1]["title"] == "T"
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["session"] for r in exported} == {"s"}  # the key survives the round trip
    again = tmp_path / "again.jsonl"
    run_cli("sessions", "export", "1", "--companion", "Kai", "--out", str(again))
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


_value = st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["a", "b", "c", ""])
_line = st.fixed_dictionaries(
    {
        "session": st.sampled_from(["s", "t", 1]) | _value,
        "text": st.text(max_size=5) | _value,
        "role": st.sampled_from(ROLES) | _value,
    },
    optional={
        "id": _value,
        "parent": _value,
        "active": _value,
        "time": _value,
        "name": _value,
        "metadata": st.dictionaries(st.text(max_size=3), _value, max_size=2) | _value,
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line.map(json.dumps) | st.text(max_size=10), max_size=10))
def test_fuzz_lines_give_valid_trees(tmp_path_factory, lines: list[str]) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        items = _read(path)
    except ImportFormatError as exc:
        assert "\n" not in exc.message
        return
    for session in _sessions(items):
        known: set[str] = set()
        for message in session.messages:
            assert message.parent_source_id is None or message.parent_source_id in known
            assert message.source_id not in known
            known.add(message.source_id)
        leaf = session.active_leaf_source_id
        assert leaf in known
        assert not any(m.parent_source_id == leaf for m in session.messages)  # a real leaf


def test_times_it_cannot_read_are_one_warning_and_the_messages_stay(tmp_path: Path) -> None:
    rows = [
        {"session": "s", "role": "user", "text": "hi", "time": "the day after the storm"},
        {"session": "s", "role": "assistant", "text": "hello", "time": "1:56 pm on 8 May, 2023"},
        {"session": "s", "role": "user", "text": "bye", "time": "later"},
    ]
    items = _read(_write(tmp_path / "times.jsonl", rows))
    warnings = [w.message for w in items if isinstance(w, ImportWarning)]
    assert warnings == [
        "2 times could not be read (line 1: 'the day after the storm'); those messages were kept"
        " without a time: write ISO 8601, e.g. 2025-02-14T20:30:00Z"
    ]
    (session,) = _sessions(items)
    assert [m.created_at for m in session.messages] == [
        None,
        datetime(2023, 5, 8, 13, 56, tzinfo=UTC),
        None,
    ]
