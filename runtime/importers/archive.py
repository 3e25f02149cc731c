"""Reading an export the same way whether it is a zip, an unzipped folder or a single file.

`ExportSource.open(path)` checks the input once and then hands out its files by relative POSIX
name. A zip is never extracted to read it: members are streamed with `zipfile.ZipFile.open`, which
is safer (nothing lands on disk) and faster. Zip safety is checked before anything is read: an
entry with an absolute path, a `..` component, a symlink or encryption makes the whole archive an
`ImportFormatError`. Importers that need a real directory get one from `as_path()`, which
extracts the (already checked) members into a private temporary directory that `close()` removes.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

from runtime.errors import ImportFormatError
from runtime.importers.base import ImportItem, Progress

log = logging.getLogger(__name__)

SourceKind = Literal["zip", "dir", "file"]
_DRIVE = re.compile(r"^[A-Za-z]:")
# Not data: macOS resource forks and Finder files that zips made on a Mac carry along.
_JUNK = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$)")


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry must not be read (None: it is fine)."""
    name = info.filename
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "an absolute path"
    if ".." in re.split(r"[/\\]", name):
        return "a '..' path component"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link"
    if info.flag_bits & 0x1:
        return "encryption"
    return None


class ExportSource:
    """The files of one export, by relative POSIX name; use as a context manager."""

    def __init__(self, path: Path, kind: SourceKind, sizes: dict[str, int]) -> None:
        """Use `ExportSource.open`."""
        self.path = path
        self.kind = kind
        self._sizes = sizes
        self._zip: zipfile.ZipFile | None = None
        self._tempdir: Path | None = None

    # --- opening --------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> ExportSource:
        """Check and open `path` (zip, folder or file); ImportFormatError when it cannot be read."""
        path = path.expanduser()
        if path.is_dir():
            return cls(path, "dir", _folder_sizes(path))
        if not path.is_file():
            raise ImportFormatError(
                f"{path}: no such file or folder",
                hint="give the export's .zip, its unzipped folder, or a single export file",
            )
        if zipfile.is_zipfile(path):
            return cls._open_zip(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ImportFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if size == 0:
            raise ImportFormatError(f"{path} is empty", hint="export the data again")
        with path.open("rb") as stream:
            if stream.read(4) == b"PK\x03\x04":  # a zip's first bytes, but no readable directory
                raise ImportFormatError(
                    f"{path}: damaged zip (cut off, or not completely downloaded)",
                    hint="download the export again",
                )
        return cls(path, "file", {path.name: size})

    @classmethod
    def _open_zip(cls, path: Path) -> ExportSource:
        try:
            archive = zipfile.ZipFile(path)
            infos = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ImportFormatError(
                f"{path}: damaged zip ({exc})", hint="download the export again"
            ) from exc
        sizes: dict[str, int] = {}
        for info in infos:
            reason = _unsafe_reason(info)
            if reason is not None:
                archive.close()
                raise ImportFormatError(
                    f"{path}: refusing a zip with an unsafe entry {info.filename!r} ({reason})",
                    hint="use the zip exactly as the service sent it, or unzip it yourself",
                )
            if not info.is_dir() and not _JUNK.search(info.filename):
                sizes[info.filename.replace("\\", "/")] = info.file_size
        source = cls(path, "zip", sizes)
        source._zip = archive
        return source

    # --- reading --------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every regular file, as a relative POSIX path (a single file: just its name)."""
        return list(self._sizes)

    def size(self, name: str) -> int:
        """The (uncompressed) size of a file in bytes."""
        return self._sizes[name]

    @property
    def total_size(self) -> int:
        """The size of all files together, in bytes."""
        return sum(self._sizes.values())

    def open_member(self, name: str) -> BinaryIO:
        """A binary stream of one file; ImportFormatError when it cannot be read."""
        if name not in self._sizes:
            raise KeyError(name)
        try:
            if self._zip is not None:
                return self._zip.open(name)  # type: ignore[return-value]
            return (self.path if self.kind == "file" else self.path / name).open("rb")
        except (OSError, zipfile.BadZipFile, RuntimeError) as exc:
            raise ImportFormatError(f"cannot read {name} in {self.path}: {exc}") from exc

    def read_bytes(self, name: str, limit: int | None = None) -> bytes:
        """The first `limit` bytes of a file (all of it when None)."""
        try:
            with self.open_member(name) as stream:
                return stream.read() if limit is None else stream.read(limit)
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise ImportFormatError(f"cannot read {name} in {self.path}: {exc}") from exc

    def find(self, pattern: str) -> list[str]:
        """Files whose base name fully matches the regex `pattern`, shallowest first."""
        regex = re.compile(pattern)
        found = [n for n in self._sizes if regex.fullmatch(n.rsplit("/", 1)[-1])]
        return sorted(found, key=lambda n: (n.count("/"), n))

    def as_path(self) -> Path:
        """A real path for importers that read files themselves: the folder, the file, or the zip
        extracted (members already checked) into a private temporary directory."""
        if self._zip is None:
            return self.path
        if self._tempdir is None:
            self._tempdir = Path(tempfile.mkdtemp(prefix="hearth-import-"))
            for name in self._sizes:
                target = self._tempdir / name
                # Checked at open; checked again because extraction must never leave the dir.
                if not target.resolve().is_relative_to(self._tempdir.resolve()):
                    raise ImportFormatError(f"{self.path}: unsafe entry {name!r}")
                target.parent.mkdir(parents=True, exist_ok=True)
                with self._zip.open(name) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        return self._tempdir

    # --- closing --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the zip and remove any temporary extraction."""
        if self._zip is not None:
            self._zip.close()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> ExportSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _folder_sizes(root: Path) -> dict[str, int]:
    """Sizes of the regular files below `root` (symlinks are not followed: an export has none)."""
    sizes: dict[str, int] = {}
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        base = Path(directory)
        for file_name in sorted(files):
            file_path = base / file_name
            try:
                info = file_path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                name = file_path.relative_to(root).as_posix()
                if not _JUNK.search(name):
                    sizes[name] = info.st_size
    return sizes


def iter_members(source: ExportSource, names: list[str]) -> Iterator[tuple[str, BinaryIO]]:
    """Open `names` one after another, closing each before the next is opened."""
    for name in names:
        with source.open_member(name) as stream:
            yield name, stream


class ArchiveImporter:
    """Base for importers that read an opened `ExportSource` (a zip read in place, a folder or
    one file): it provides the path-based `detect`/`read` of the Importer protocol, so each
    format only writes `detect_source`/`read_source`."""

    def detect_source(self, source: ExportSource) -> bool:
        raise NotImplementedError

    def read_source(self, source: ExportSource, progress: Progress) -> Iterator[ImportItem]:
        raise NotImplementedError

    def detect(self, root: Path) -> bool:
        """True when the export at `root` is this importer's format."""
        try:
            with ExportSource.open(root) as source:
                return self.detect_source(source)
        except ImportFormatError:
            return False

    def read(self, root: Path, progress: Progress) -> Iterator[ImportItem]:
        """Stream the export at `root` (see `read_source`)."""
        with ExportSource.open(root) as source:
            yield from self.read_source(source, progress)
