"""`hearth import` from the command line: exact JSON, the summary, one-line errors that write
nothing, and the `sessions show --json` contract on imported ChatGPT data."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from runtime.importers import registry
from tests.fixtures.exports.chatgpt import START, Conversation, dumps, linear, write_export

ZH = "我今天很开心，我们去看樱花吧！"
KO = "벚꽃 보러 가자! 정말 예쁠 거야."
ID = "Ayo kita lihat bunga sakura, pasti indah sekali."
EMOJI = "🌸🌙✨ 👩🏽‍💻 🇰🇷"


def _export(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """One conversation with an edit and a regeneration, multilingual, plus a broken one."""
    conv = Conversation("conv-spring", "봄 🌸")
    ids = {"q1": conv.user(ZH)}
    ids["a1"] = conv.assistant(KO, model="gpt-4o")
    ids["a1b"] = conv.assistant(ID, model="gpt-5", parent=ids["q1"])
    ids["q2"] = conv.user("first version", parent=ids["a1b"])
    ids["q2b"] = conv.user(EMOJI, parent=ids["a1b"])
    ids["a2"] = conv.assistant(f"{ZH}\n{EMOJI}", model=None)
    lost = Conversation("conv-lost", None)
    lost.user("hi")
    path = write_export(tmp_path / "chatgpt.zip", [conv.build(), lost.build(current="gone")])
    return path, ids


def test_json_output_is_exactly_the_contract(run_cli, tmp_path: Path) -> None:
    path, _ = _export(tmp_path)
    result = run_cli("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert json.loads(result.stdout) == {
        "format": "chatgpt",
        "sessions_added": 2,
        "messages_added": 7,
        "sessions_skipped_duplicate": 0,
        "persona_updated": False,
        "memories_added": 0,
        "warnings": [
            {
                "conversation": "untitled (conv-lost)",
                "message": "current_node is not in the export; showing the newest branch",
            }
        ],
        "sessions_updated": 0,
        "companion": "Companion",
        "companion_created": True,
        "dry_run": False,
    }
    assert list(json.loads(result.stdout))[:7] == [
        "format", "sessions_added", "messages_added", "sessions_skipped_duplicate",
        "persona_updated", "memories_added", "warnings",
    ]  # fmt: skip
    again = json.loads(run_cli("import", str(path), "--json").stdout)
    assert (again["sessions_added"], again["sessions_skipped_duplicate"]) == (0, 2)


def test_sessions_show_json_on_imported_data(run_cli, tmp_path: Path) -> None:
    path, ids = _export(tmp_path)
    run_cli("import", str(path), "--format", "chatgpt")
    listed = json.loads(run_cli("sessions", "list", "--json").stdout)
    spring = next(s for s in listed if s["source_id"] == "conv-spring")
    assert (spring["title"], spring["source"], spring["message_count"]) == ("봄 🌸", "chatgpt", 6)
    shown = json.loads(run_cli("sessions", "show", str(spring["id"]), "--json").stdout)
    assert (shown["source"], shown["source_id"], shown["title"]) == (
        "chatgpt", "conv-spring", "봄 🌸",
    )  # fmt: skip
    assert shown["created_at"] == "2025-02-14T20:30:00.000000+00:00"
    steps = [
        (m["source_id"], m["role"], m["text"], m["model"], m["alternatives"], m["position"])
        for m in shown["messages"]
    ]
    assert steps == [
        (ids["q1"], "user", ZH, None, 1, 1),
        (ids["a1b"], "assistant", ID, "gpt-5", 2, 2),
        (ids["q2b"], "user", EMOJI, None, 2, 2),
        (ids["a2"], "assistant", f"{ZH}\n{EMOJI}", "gpt-4o", 1, 1),
    ]
    assert shown["messages"][0]["parent_id"] is None
    assert [m["parent_id"] for m in shown["messages"][1:]] == [
        m["id"] for m in shown["messages"][:-1]
    ]
    assert shown["messages"][1]["created_at"] == "2025-02-14T20:30:03.000000+00:00"
    assert not any(m["partial"] for m in shown["messages"])
    # Byte-exact text through import, store and JSON output.
    assert shown["messages"][3]["text"].encode("utf-8") == f"{ZH}\n{EMOJI}".encode()


def test_the_summary_table_and_warnings_for_people(run_cli, tmp_path: Path) -> None:
    path, _ = _export(tmp_path)
    result = run_cli("import", str(path), "--companion", "Mira")
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert "Imported" in lines[0]
    for expected in (
        "format                          │ chatgpt",
        "companion                       │ Mira (new)",
        "conversations added             │ 2",
        "messages added                  │ 7",
        "warnings                        │ 1",
    ):
        assert any(line.startswith(expected) for line in lines), expected
    assert result.stderr == (
        "warning: untitled (conv-lost): current_node is not in the export; "
        "showing the newest branch\n"
    )
    dry = run_cli("import", str(path), "--dry-run")
    assert "Dry run: nothing was written" in dry.stdout


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    cases: dict[str, tuple[Path, str]] = {}
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(dumps([linear("a", 4)])[:-25])
    cases["truncated"] = (truncated, "truncated.json: the file is cut off after")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("conversations.json", dumps([linear("a", 2)]))
        archive.writestr("../../outside.txt", "x")
    cases["dotdot"] = (evil, "refusing a zip with an unsafe entry '../../outside.txt'")
    absolute = tmp_path / "absolute.zip"
    with zipfile.ZipFile(absolute, "w") as archive:
        info = zipfile.ZipInfo("x")
        info.filename = "/etc/evil"
        archive.writestr(info, "x")
    cases["absolute"] = (absolute, "unsafe entry '/etc/evil' (an absolute path)")
    other = tmp_path / "photos.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("IMG_0001.jpg", b"\xff\xd8\xff")
    cases["not an export"] = (other, "photos.zip: not an export Hearth recognises")
    empty = tmp_path / "conversations.json"
    empty.write_bytes(b"")
    cases["empty"] = (empty, "conversations.json is empty")
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(dumps([linear("a", 2)]).replace(b"msg 0", "café".encode("latin-1")))
    cases["not utf-8"] = (latin1, "latin1.json: not UTF-8 text")
    zero = write_export(tmp_path / "zero.zip", [])
    cases["zero conversations"] = (zero, "zero.zip: the export holds no conversations")
    cases["missing"] = (tmp_path / "nope.zip", "nope.zip: no such file or folder")
    deep = tmp_path / "deep.json"
    deep.write_bytes(b'[{"mapping": ' + b"[" * 200_000 + b"]" * 200_000 + b"}]")
    cases["deeply nested"] = (deep, "deep.json: nested too deeply")
    return cases


@pytest.mark.parametrize(
    "case",
    ["truncated", "dotdot", "absolute", "not an export", "empty", "not utf-8",
     "zero conversations", "missing", "deeply nested"],
)  # fmt: skip
def test_bad_input_is_one_line_an_exit_code_and_nothing_written(
    run_cli, tmp_path: Path, isolated_home: Path, case: str
) -> None:
    path, message = _bad_inputs(tmp_path)[case]
    result = run_cli("import", str(path), "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    error, hint = result.stderr.splitlines()
    assert error.startswith("error: ") and message in error
    assert hint.startswith("hint: ")
    assert not isolated_home.exists()
    assert not (tmp_path.parent / "outside.txt").exists()


def test_several_companions_without_a_name_is_a_usage_error(run_cli, tmp_path: Path) -> None:
    run_cli("companion", "new", "Mira")
    run_cli("companion", "new", "Sera")
    path = write_export(tmp_path / "e.zip", [linear("a", 2)])
    result = run_cli("import", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: several companions exist (mira, sera): say which one gets the import",
        "hint: add --companion NAME (a new name creates a new companion)",
    ]


def test_a_format_that_is_not_available_yet_is_a_clear_error(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "IMPORTERS", {"chatgpt": registry.IMPORTERS["chatgpt"]})
    path = tmp_path / "My Activity.json"
    path.write_text("[]")
    result = run_cli("import", str(path), "--format", "gemini")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "error: importing gemini exports is not available in this version of Hearth yet"
    )


def test_null_times_and_titles_survive_the_cli(run_cli, tmp_path: Path) -> None:
    conv = Conversation("c", None)
    conv.user("q", time=None)
    conv.assistant("a", time=START + 5)
    built = conv.build()
    built["create_time"] = built["update_time"] = None
    run_cli("import", str(write_export(tmp_path / "e.zip", [built])))
    shown = json.loads(run_cli("sessions", "show", "1", "--json").stdout)
    assert shown["title"] is None
    assert [m["text"] for m in shown["messages"]] == ["q", "a"]


def test_hearth_help_does_not_import_parsers() -> None:
    code = (
        "import sys; from runtime.cli import cli; "
        "print(sorted(m for m in sys.modules if m in ('runtime.importers.chatgpt', "
        "'runtime.importers.pipeline')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
