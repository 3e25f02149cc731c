"""Plain text / markdown transcripts: three speaker styles, companion choice, encodings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.errors import ImportFormatError
from runtime.importers.base import ImportedSession, ImportOptions, ImportWarning, Progress
from runtime.importers.text import TextImporter
from tests.fixtures.other_exports import EMOJI, ID, KO, ZH


def _write(tmp_path: Path, text: str, name: str = "chat.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _items(path: Path, importer: TextImporter | None = None) -> list:
    return list((importer or TextImporter()).read(path, Progress()))


def _session(path: Path, importer: TextImporter | None = None) -> ImportedSession:
    (session,) = [i for i in _items(path, importer) if isinstance(i, ImportedSession)]
    return session


def _turns(session: ImportedSession) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in session.messages]


def test_speaker_lines_with_continuations(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"User: {ZH}\nMira: {KO}\nand a second line\n\nafter a blank line\n"
        f"User: {ID}\nMira: {EMOJI}\n",
    )
    assert TextImporter().detect(path)
    session = _session(path)
    assert _turns(session) == [
        ("user", ZH),
        ("assistant", f"{KO}\nand a second line\n\nafter a blank line"),
        ("user", ID),
        ("assistant", EMOJI),
    ]
    assert session.messages[1].metadata == {"name": "Mira"}
    assert session.messages[0].metadata == {}
    assert [m.parent_source_id for m in session.messages] == [None, "m1", "m2", "m3"]
    assert (session.source, session.title) == ("text", "chat")
    assert session.source_id.startswith("text:")
    assert _session(path).source_id == session.source_id


def test_markdown_headings(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "# Our first chat\n\n## user\nhello\n\n"
        "## assistant\nhi there\n\n- a list\n\n## user\nbye\n",
        "chat.md",
    )
    session = _session(path)
    assert session.title == "Our first chat"
    assert _turns(session) == [
        ("user", "hello"),
        ("assistant", "hi there\n\n- a list"),
        ("user", "bye"),
    ]


def test_bold_speakers(tmp_path: Path) -> None:
    path = _write(tmp_path, "**User:** hi\n\n**Mira:** hello\nmore\n\n**User**: ok\n", "c.md")
    assert _turns(_session(path)) == [
        ("user", "hi"),
        ("assistant", "hello\nmore"),
        ("user", "ok"),
    ]


def test_note_lines_inside_a_message_are_not_speakers(tmp_path: Path) -> None:
    text = (
        "User: what should I pack?\n"
        "AI: Here is a list.\nNote: bring water\nhttps://example.com/list\n12:30 is the train\n"
        "User: thanks\nAI: any time\n"
    )
    session = _session(_write(tmp_path, text))
    assert _turns(session)[1] == (
        "assistant",
        "Here is a list.\nNote: bring water\nhttps://example.com/list\n12:30 is the train",
    )
    assert len(session.messages) == 4


def test_ambiguous_speakers_need_companion_speaker(tmp_path: Path) -> None:
    path = _write(tmp_path, "Alex: hi\nMira: hello\nAlex: how are you?\nMira: fine\n")
    with pytest.raises(ImportFormatError) as caught:
        _items(path)
    assert caught.value.message == (
        "chat: cannot tell which speaker is the companion (speakers: Alex, Mira)"
    )
    assert "--companion-speaker" in caught.value.hint
    session = _session(path, TextImporter(companion_speaker="mira"))
    assert [m.role for m in session.messages] == ["user", "assistant", "user", "assistant"]
    assert session.messages[0].metadata == {"name": "Alex"}


def test_companion_speaker_via_pipeline_options(tmp_path: Path) -> None:
    path = _write(tmp_path, "Alex: hi\nMira: hello\n")
    importer = TextImporter()
    importer.options = ImportOptions(companion_speaker="Alex")
    assert [m.role for m in _session(path, importer).messages] == ["assistant", "user"]
    importer.options = ImportOptions(companion_name="Mira")  # --companion names a speaker
    assert [m.role for m in _session(path, importer).messages] == ["user", "assistant"]


def test_unknown_companion_speaker_names_the_speakers(tmp_path: Path) -> None:
    path = _write(tmp_path, "User: hi\nMira: hello\n")
    with pytest.raises(ImportFormatError, match=r"no speaker 'Kai' \(speakers: User, Mira\)"):
        _items(path, TextImporter(companion_speaker="Kai"))


def test_system_lines_and_preamble(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "Exported by some tool\n_italic meta_\nSystem: be kind\nUser: hi\nAI: hey\n"
    )
    items = _items(path)
    assert items[0] == ImportWarning("chat", "skipped 1 line(s) before the first speaker")
    (session,) = [i for i in items if isinstance(i, ImportedSession)]
    assert _turns(session) == [("system", "be kind"), ("user", "hi"), ("assistant", "hey")]


def test_encodings(tmp_path: Path) -> None:
    text = f"User: {ZH}\nMira: {KO}\n"
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "utf16.txt").write_bytes(text.encode("utf-16"))
    (tmp_path / "crlf.txt").write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    for name in ("bom.txt", "utf16.txt", "crlf.txt"):
        assert _turns(_session(tmp_path / name)) == [("user", ZH), ("assistant", KO)], name


def test_non_utf8_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("User: café\nMira: olá\n".encode("latin-1"))
    with pytest.raises(ImportFormatError) as caught:
        _items(path)
    assert caught.value.message == f"{path}: not UTF-8 text (invalid byte at offset 9)"
    assert caught.value.hint == "save the file as UTF-8 and import it again"


def test_no_speakers_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="no speaker lines found"):
        _items(_write(tmp_path, "just some prose\nwithout any speakers\n"))
    with pytest.raises(ImportFormatError, match="no speaker lines found"):
        _items(_write(tmp_path, "", "empty.txt"))


def test_detect_only_text_files(tmp_path: Path) -> None:
    assert not TextImporter().detect(_write(tmp_path, "{}", "x.json"))
    assert not TextImporter().detect(tmp_path / "missing.txt")
    folder = tmp_path / "many"
    folder.mkdir()
    _write(folder, "User: a\nAI: b\n", "one.txt")
    _write(folder, "User: c\nAI: d\n", "two.md")
    assert TextImporter().detect(folder)
    sessions = [i for i in _items(folder) if isinstance(i, ImportedSession)]
    assert [s.title for s in sessions] == ["one", "two"]


def test_markdown_export_imports_back(tmp_path: Path) -> None:
    # What `hearth sessions export --format markdown` writes.
    text = (
        "# Stars\n\n_Session 3 · chatgpt · 2025-02-14 20:30 UTC_\n\n"
        f"**User:** {ZH}\n\n**Mira:** {KO}\nline two\n\n**User:** {ID}\n"
    )
    session = _session(_write(tmp_path, text, "export.md"))
    assert session.title == "Stars"
    assert _turns(session) == [("user", ZH), ("assistant", f"{KO}\nline two"), ("user", ID)]


# --- through `hearth import` --------------------------------------------------------------


def test_hearth_import_text_needs_companion_speaker(run_cli, tmp_path: Path) -> None:
    path = _write(tmp_path, f"Alex: {ZH}\nMira: {KO}\n")
    refused = run_cli("import", str(path), "--companion", "Friend")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: chat: cannot tell which speaker is the companion (speakers: Alex, Mira)\n"
        "hint: name it with --companion-speaker NAME\n"
    )
    assert run_cli("companion", "list", "--json").stdout == "[]\n"
    args = ("import", str(path), "--companion", "Friend", "--companion-speaker", "Mira", "--json")
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["format"], report["sessions_added"], report["messages_added"]) == ("text", 1, 2)
    shown = json.loads(run_cli("sessions", "show", "1", "--json").stdout)
    assert [(m["role"], m["text"]) for m in shown["messages"]] == [
        ("user", ZH),
        ("assistant", KO),
    ]


def test_hearth_import_text_companion_named_like_a_speaker(run_cli, tmp_path: Path) -> None:
    path = _write(tmp_path, "Alex: hi\nMira: hello\n")
    result = run_cli("import", str(path), "--companion", "Mira", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(run_cli("sessions", "show", "1", "--json").stdout)
    assert [m["role"] for m in shown["messages"]] == ["user", "assistant"]


def test_hearth_import_non_utf8_text_is_one_line(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("User: café\nMira: olá\n".encode("latin-1"))
    result = run_cli("import", str(path), "--companion", "Mira")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"error: {path}: not UTF-8 text (invalid byte at offset 9)"
    )
    assert "Traceback" not in result.output


def test_folder_skips_files_that_are_not_transcripts(tmp_path: Path) -> None:
    _write(tmp_path, "User: hi\nAI: hello\n", "chat.txt")
    _write(tmp_path, "This folder holds my chats.\n", "README.md")
    (tmp_path / "old.txt").write_bytes("User: café".encode("latin-1"))
    assert TextImporter().detect(tmp_path)
    items = _items(tmp_path)
    assert [i.message for i in items if isinstance(i, ImportWarning)] == [
        "README: no speaker lines found (like 'Name: text' or '**Name:** text'); file skipped",
        f"{tmp_path / 'old.txt'}: not UTF-8 text (invalid byte at offset 9); file skipped",
    ]
    assert len([i for i in items if isinstance(i, ImportedSession)]) == 1
    readme_only = tmp_path / "docs"
    readme_only.mkdir()
    _write(readme_only, "Just documentation.\n", "README.md")
    assert not TextImporter().detect(readme_only)
