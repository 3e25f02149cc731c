"""SillyTavern chat JSONL: swipes as siblings, dates in every form, bad lines, fuzzing."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.errors import ImportFormatError
from runtime.importers.base import ImportedSession, ImportWarning, PersonaUpdate, Progress
from runtime.importers.sillytavern import SillyTavernImporter, read_chat
from runtime.importers.timeparse import parse_time
from tests.fixtures.other_exports import (
    EMOJI,
    ID,
    KO,
    ZH,
    sillytavern_lines,
    write_sillytavern_chat,
)

CHAT = "Seraphina - 2024-05-01@12h30m10s.jsonl"


def _read(path: Path) -> list:
    return list(SillyTavernImporter().read(path, Progress()))


def _session(items: list) -> ImportedSession:
    (session,) = [item for item in items if isinstance(item, ImportedSession)]
    return session


def _active_path(session: ImportedSession) -> list[str]:
    by_id = {m.source_id: m for m in session.messages}
    path, current = [], session.active_leaf_source_id
    while current is not None:
        path.append(current)
        current = by_id[current].parent_source_id
    return path[::-1]


def test_header_names_the_companion_and_the_session(tmp_path: Path) -> None:
    path = write_sillytavern_chat(tmp_path / CHAT)
    assert SillyTavernImporter().detect(path)
    items = _read(path)
    assert PersonaUpdate(fields={"name": "Seraphina"}) in items
    session = _session(items)
    assert session.source == "sillytavern"
    assert session.title == "Seraphina - 2024-05-01@12h30m10s"
    assert session.source_id.startswith("Seraphina - 2024-05-01@12h30m10s#")
    assert session.created_at == datetime(2024, 5, 1, 12, 30, 10, tzinfo=UTC)
    assert _session(_read(path)).source_id == session.source_id  # stable on re-import


def test_swipes_are_siblings_and_the_chosen_one_is_active(tmp_path: Path) -> None:
    session = _session(_read(write_sillytavern_chat(tmp_path / CHAT)))
    by_id = {m.source_id: m for m in session.messages}
    # Three swipes of line 4, all children of the user's line 3, in swipe order.
    swipes = [m for m in session.messages if m.parent_source_id == "L3"]
    assert [m.source_id for m in swipes] == ["L4s0", "L4s1", "L4s2"]
    assert [m.text for m in swipes] == ["First swipe", "Second swipe: " + ID, "Third swipe"]
    assert [m.model for m in swipes] == ["llama-3", "gpt-4o", None]
    # The conversation continues from the kept swipe (swipe_id 1), which is on the active path.
    assert by_id["L5"].parent_source_id == "L4s1"
    assert _active_path(session) == ["L2s0", "L3", "L4s1", "L5", "L6"]
    assert session.active_leaf_source_id == "L6"
    # Greeting swipes: siblings at the root.
    roots = [m.source_id for m in session.messages if m.parent_source_id is None]
    assert roots == ["L2s0", "L2s1"]


def test_roles_names_and_multilingual_text(tmp_path: Path) -> None:
    session = _session(_read(write_sillytavern_chat(tmp_path / CHAT)))
    by_id = {m.source_id: m for m in session.messages}
    assert by_id["L2s0"].text == "Greetings, traveller. " + ZH
    assert by_id["L2s1"].text == "Welcome back, " + EMOJI
    assert by_id["L3"].text.encode() == KO.encode()
    assert (by_id["L3"].role, by_id["L3"].metadata) == ("user", {"name": "Alex"})
    assert by_id["L2s0"].role == "assistant"
    assert by_id["L5"].role == "system"  # is_system lines are kept as system messages


def test_send_date_forms(tmp_path: Path) -> None:
    session = _session(_read(write_sillytavern_chat(tmp_path / CHAT)))
    by_id = {m.source_id: m for m in session.messages}
    assert by_id["L2s0"].created_at == datetime(
        2024, 5, 1, 12, 30, tzinfo=UTC
    )  # "May 1, 2024 12:30pm"
    assert by_id["L3"].created_at == datetime(2024, 5, 1, 12, 31, tzinfo=UTC)  # "…@12h31m00s"
    # The chosen swipe keeps the message's epoch-ms date; the others their swipe_info date.
    assert by_id["L4s1"].created_at == datetime(2024, 5, 1, 12, 32, tzinfo=UTC)
    assert by_id["L4s0"].created_at == datetime(2024, 5, 1, 12, 31, 30, tzinfo=UTC)
    assert by_id["L6"].created_at == datetime(2024, 5, 1, 12, 35, tzinfo=UTC)  # JS Date, +02:00


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01@12h30m10s", datetime(2024, 5, 1, 12, 30, 10, tzinfo=UTC)),
        ("2024-05-01 @12h30m10s123ms", datetime(2024, 5, 1, 12, 30, 10, 123000, tzinfo=UTC)),
        ("May 1, 2024 12:30pm", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        ("May 1, 2024 at 9:05 AM", datetime(2024, 5, 1, 9, 5, tzinfo=UTC)),
        ("Sep 3, 2023 11:59pm", datetime(2023, 9, 3, 23, 59, tzinfo=UTC)),
        ("1:56 pm on 8 May, 2023", datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("10:37 am on 27 June, 2023", datetime(2023, 6, 27, 10, 37, tzinfo=UTC)),
        ("8 May 2023", datetime(2023, 5, 8, tzinfo=UTC)),
        ("8 May 2023 18:05", datetime(2023, 5, 8, 18, 5, tzinfo=UTC)),
        ("31 Feb 2023", None),
        (1714566610000, datetime(2024, 5, 1, 12, 30, 10, tzinfo=UTC)),
        (1714566610, datetime(2024, 5, 1, 12, 30, 10, tzinfo=UTC)),
        ("1714566610000", datetime(2024, 5, 1, 12, 30, 10, tzinfo=UTC)),
        ("2024-05-01T14:30:10+02:00", datetime(2024, 5, 1, 12, 30, 10, tzinfo=UTC)),
        ("2024-05-01T12:30:10Z", datetime(2024, 5, 1, 12, 30, 10, tzinfo=UTC)),
        ("Wed May 01 2024 14:30:10 GMT+0200 (CEST)", datetime(2024, 5, 1, 12, 30, 10, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
        (None, None),
        (True, None),
        (float("nan"), None),
        (-1, None),
        (10**30, None),
        ("0001-01-01T00:00:00+01:00", None),
        ({"a": 1}, None),
    ],
)
def test_time_forms(value: object, expected: datetime | None) -> None:
    parsed = parse_time(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


def test_bad_lines_are_skipped_with_their_line_number(tmp_path: Path) -> None:
    lines = sillytavern_lines()
    rows = [lines[0], lines[1], "{not json", '"just a string"', lines[2], '{"mes": 5, "name": "x"}']
    path = write_sillytavern_chat(tmp_path / CHAT, rows)
    items = _read(path)
    warnings = [w.message for w in items if isinstance(w, ImportWarning)]
    assert warnings == [
        "line 3 is not a chat message; skipped",
        "line 4 is not a chat message; skipped",
        "line 6 is not a chat message; skipped",
    ]
    assert [m.source_id for m in _session(items).messages] == ["L2s0", "L2s1", "L5"]


def test_group_chat_without_header(tmp_path: Path) -> None:
    rows = [
        {"name": "Alex", "is_user": True, "mes": "hi all", "send_date": 1714566610000},
        {"name": "Mira", "is_user": False, "mes": "hello!", "send_date": 1714566611000},
        {"name": "Kai", "is_user": False, "mes": "hey " + EMOJI, "send_date": 1714566612000},
    ]
    path = write_sillytavern_chat(tmp_path / "group" / "1714566610000.jsonl", rows)
    assert SillyTavernImporter().detect(path.parent)
    items = _read(path.parent)
    assert not [i for i in items if isinstance(i, PersonaUpdate)]
    session = _session(items)
    assert [m.metadata["name"] for m in session.messages] == ["Alex", "Mira", "Kai"]
    assert [m.parent_source_id for m in session.messages] == [None, "L1", "L2"]


def test_folder_of_chats_names_the_companion_once(tmp_path: Path) -> None:
    write_sillytavern_chat(tmp_path / "chats" / "Seraphina" / "a.jsonl")
    write_sillytavern_chat(tmp_path / "chats" / "Seraphina" / "b.jsonl")
    (tmp_path / "chats" / "notes.jsonl").write_text('{"session": "x"}\n', encoding="utf-8")
    items = _read(tmp_path)
    assert len([i for i in items if isinstance(i, PersonaUpdate)]) == 1
    assert len([i for i in items if isinstance(i, ImportedSession)]) == 2


def test_swipe_id_out_of_range_falls_back_to_mes(tmp_path: Path) -> None:
    rows = [{"name": "M", "is_user": False, "mes": "b", "swipes": ["a", "b"], "swipe_id": 9}]
    session = _session(_read(write_sillytavern_chat(tmp_path / "x.jsonl", rows)))
    assert session.active_leaf_source_id == "L1s1"


def test_not_sillytavern(tmp_path: Path) -> None:
    hearth = tmp_path / "hearth.jsonl"
    hearth.write_text('{"session": "s", "role": "user", "text": "hi"}\n', encoding="utf-8")
    assert not SillyTavernImporter().detect(hearth)
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\xff\xfe garbage\n")
    assert not SillyTavernImporter().detect(garbage)
    with pytest.raises(ImportFormatError, match="not a SillyTavern chat"):
        _read(garbage)
    with pytest.raises(ImportFormatError, match="no SillyTavern chat files"):
        _read(tmp_path / "missing-dir")


def test_header_only_chat_is_a_warning(tmp_path: Path) -> None:
    path = write_sillytavern_chat(tmp_path / "x.jsonl", [sillytavern_lines()[0]])
    items = _read(path)
    assert items[-1] == ImportWarning("x", "no messages; chat skipped")


# --- fuzzing: whatever the lines hold, only ImportFormatError or warnings -----------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_message = st.fixed_dictionaries(
    {"mes": _json | st.text(), "name": _json, "is_user": _json},
    optional={
        "is_system": _json,
        "send_date": _json | st.sampled_from(["2024-05-01@12h30m10s", "May 1, 2024 12:30pm"]),
        "swipes": st.lists(_json | st.text(max_size=10), max_size=4) | _json,
        "swipe_id": _json | st.integers(-2, 5),
        "swipe_info": st.lists(_json, max_size=3) | _json,
        "extra": _json,
    },
)
_line = (
    _message.map(json.dumps)
    | _json.map(json.dumps)
    | st.text(max_size=40)
    | st.binary(max_size=40).map(lambda b: b.decode("latin-1"))
)


def _consume(data: bytes) -> list:
    try:
        items = list(read_chat(io.BytesIO(data), "fuzz.jsonl", Progress()))
    except ImportFormatError as exc:
        assert "\n" not in exc.message
        return []
    for item in items:
        if isinstance(item, ImportedSession):
            ids = [m.source_id for m in item.messages]
            assert len(ids) == len(set(ids))
            known: set[str] = set()
            for message in item.messages:  # parents come before children
                assert message.parent_source_id is None or message.parent_source_id in known
                known.add(message.source_id)
            assert item.active_leaf_source_id in known
    return items


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line, max_size=8), st.booleans())
def test_fuzz_lines_never_crash(lines: list[str], with_header: bool) -> None:
    if with_header:
        lines = [json.dumps(sillytavern_lines()[0]), *lines]
    _consume("\n".join(lines).encode("utf-8", "surrogatepass"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_bytes_never_crash(data: bytes) -> None:
    _consume(data)


# --- through `hearth import` --------------------------------------------------------------


def test_hearth_import_names_the_companion_and_keeps_swipes(run_cli, tmp_path: Path) -> None:
    path = write_sillytavern_chat(tmp_path / CHAT)
    result = run_cli("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["format"], report["sessions_added"], report["messages_added"]) == (
        "sillytavern",
        1,
        8,
    )
    assert report["companion"] == "Seraphina"
    shown = json.loads(run_cli("sessions", "show", "1", "--json").stdout)
    kept = shown["messages"][2]
    assert (kept["text"], kept["alternatives"], kept["position"]) == (
        "Second swipe: " + ID,
        3,
        2,
    )
    assert shown["messages"][-1]["text"] == "Thank you!"


def test_hearth_import_broken_lines_are_warnings(run_cli, tmp_path: Path) -> None:
    lines = sillytavern_lines()
    path = write_sillytavern_chat(tmp_path / CHAT, [lines[0], "{oops", lines[2]])
    report = json.loads(run_cli("import", str(path), "--format", "sillytavern", "--json").stdout)
    assert report["sessions_added"] == 1
    assert any("line 2" in str(w) for w in report["warnings"])


def test_swipe_indices_survive_a_broken_swipe(tmp_path: Path) -> None:
    rows = [{"name": "M", "is_user": False, "mes": "c", "swipes": ["a", None, "c"], "swipe_id": 2}]
    session = _session(_read(write_sillytavern_chat(tmp_path / "x.jsonl", rows)))
    assert [m.source_id for m in session.messages] == ["L1s0", "L1s2"]
    assert session.active_leaf_source_id == "L1s2"
