"""Reading exports as zips, folders or single files; unsafe zips are refused before any read."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from runtime.errors import ImportFormatError
from runtime.importers.archive import ExportSource


def _zip(path: Path, entries: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink is not None:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("../evil.json", "'..' path component"),
        ("a/../../evil.json", "'..' path component"),
        ("..\\evil.json", "'..' path component"),
        ("/etc/cron.d/evil", "absolute path"),
        ("C:/evil.json", "absolute path"),
    ],
)
def test_unsafe_zip_entries_are_refused(tmp_path: Path, entry: str, reason: str) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("conversations.json", "[]")
        info = zipfile.ZipInfo("placeholder")
        info.filename = entry  # ZipInfo normalizes names given to its constructor
        archive.writestr(info, "x")
    with pytest.raises(ImportFormatError, match=reason) as caught:
        ExportSource.open(path)
    assert "refusing a zip with an unsafe entry" in caught.value.message
    assert not (tmp_path.parent / "evil.json").exists()


def test_symlinks_in_a_zip_are_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "e.zip", {"conversations.json": b"[]"}, symlink="link.json")
    with pytest.raises(ImportFormatError, match="symbolic link"):
        ExportSource.open(path)


def test_encrypted_entries_are_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "e.zip", {"conversations.json": b"[]"})
    data = bytearray(path.read_bytes())
    # Set the "encrypted" flag bit in the local and central headers.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + offset] |= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ImportFormatError, match="encryption"):
        ExportSource.open(path)


def test_a_damaged_zip_and_missing_or_empty_files(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.zip"
    good = _zip(tmp_path / "good.zip", {"a.json": b"[]" * 100})
    damaged.write_bytes(good.read_bytes()[:-30])
    with pytest.raises(ImportFormatError):
        ExportSource.open(damaged)
    with pytest.raises(ImportFormatError, match="no such file or folder"):
        ExportSource.open(tmp_path / "nothing.zip")
    (tmp_path / "empty.json").write_bytes(b"")
    with pytest.raises(ImportFormatError, match="is empty"):
        ExportSource.open(tmp_path / "empty.json")


def test_a_zip_is_read_by_name_without_extracting(tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "e.zip",
        {"export/conversations.json": b"[1]", "export/user.json": b"{}", "__MACOSX/._x": b"junk"},
    )
    with ExportSource.open(path) as source:
        assert source.kind == "zip"
        assert sorted(source.names()) == ["export/conversations.json", "export/user.json"]
        assert source.find(r"conversations\.json") == ["export/conversations.json"]
        assert source.read_bytes("export/conversations.json") == b"[1]"
        assert source.read_bytes("export/conversations.json", 2) == b"[1"
        assert source.size("export/user.json") == 2
        assert source.total_size == 5
    assert sorted(os.listdir(tmp_path)) == ["e.zip"]


def test_as_path_extracts_into_a_private_temporary_directory_removed_on_close(
    tmp_path: Path,
) -> None:
    path = _zip(tmp_path / "e.zip", {"a/b.txt": "你好".encode()})
    with ExportSource.open(path) as source:
        root = source.as_path()
        assert (root / "a" / "b.txt").read_text(encoding="utf-8") == "你好"
        assert not root.is_relative_to(tmp_path)
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert not root.exists()


def test_folders_and_single_files(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    (folder / "sub").mkdir(parents=True)
    (folder / "conversations-000.json").write_text("[]")
    (folder / "sub" / "x.json").write_text("{}")
    (folder / "link.json").symlink_to(folder / "conversations-000.json")
    with ExportSource.open(folder) as source:
        assert source.kind == "dir" and source.as_path() == folder
        assert sorted(source.names()) == ["conversations-000.json", "sub/x.json"]
        with source.open_member("sub/x.json") as stream:
            assert stream.read() == b"{}"
    single = folder / "conversations-000.json"
    with ExportSource.open(single) as source:
        assert (source.kind, source.names(), source.as_path()) == (
            "file", ["conversations-000.json"], single,
        )  # fmt: skip
