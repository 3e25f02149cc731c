"""Turn what the user typed after `hearth model pull` into a list of downloads.

SPEC is one of:
    a catalog id              hearth model pull qwen2.5-3b
    a Hugging Face repo+FILE  hearth model pull Qwen/Qwen2.5-0.5B-Instruct-GGUF file.gguf
    an http(s) URL            hearth model pull https://example.org/model.gguf
Planning is pure (no network), so the CLI can validate everything before going online.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from runtime.errors import UsageError
from runtime.models.catalog import CatalogEntry, catalog_ids, find_entry
from runtime.models.download import hf_url, normalize_sha256


@dataclass(frozen=True)
class PullItem:
    """One file to download."""

    url: str
    dest: Path
    expected_sha256: str | None = None


@dataclass(frozen=True)
class PullPlan:
    """Everything `hearth model pull` will fetch, and where it goes."""

    label: str
    items: tuple[PullItem, ...]
    entry: CatalogEntry | None = None
    note: str | None = None
    """Said instead of downloading, e.g. for a model that ships with Hearth."""


def _relative_file(name: str, what: str) -> PurePosixPath:
    """A file name that stays inside the destination folder (no absolute path, no `..`)."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or any(part in ("", ".", "..") for part in path.parts):
        raise UsageError(
            f"{what}: {name!r} is not a file name inside the repository",
            hint="give the file's path as shown on the model page, e.g. model-Q4_K_M.gguf",
        )
    return path


def _plan_url(url: str, dest_dir: Path, sha256: str | None) -> PullPlan:
    path = urlsplit(url).path
    filename = unquote(path.rsplit("/", 1)[-1])
    if not filename or filename in (".", "..") or "/" in filename or "\\" in filename:
        raise UsageError(
            f"cannot tell a file name from the URL {url}",
            hint="use a URL that ends with the file name",
        )
    return PullPlan(url, (PullItem(url, dest_dir / filename, sha256),))


def _plan_entry(
    entry: CatalogEntry, endpoint: str, dest_dir: Path, revision: str, sha256: str | None
) -> PullPlan:
    if entry.builtin:
        return PullPlan(entry.id, (), entry, note=f"{entry.id} needs no download: "
                        f"{entry.description}")
    if sha256 and len(entry.files) > 1:
        raise UsageError(
            f"--sha256 names one file, but {entry.id} has {len(entry.files)} files",
            hint="leave out --sha256; each file is checked against the server's sha256",
        )
    folder = dest_dir / entry.id if entry.needs_folder else dest_dir
    items = tuple(
        PullItem(hf_url(endpoint, entry.repo, name, revision), folder / name, sha256)
        for name in entry.files
    )
    return PullPlan(entry.id, items, entry)


def plan_pull(
    spec: str,
    file: str | None,
    *,
    endpoint: str,
    dest_dir: Path,
    revision: str = "main",
    sha256: str | None = None,
) -> PullPlan:
    """Resolve SPEC [FILE] into downloads into `dest_dir`. UsageError for what cannot work."""
    expected = normalize_sha256(sha256) if sha256 else None
    scheme = urlsplit(spec).scheme.lower()
    if "://" in spec:
        if scheme not in ("http", "https"):
            raise UsageError(f"unsupported URL scheme {scheme!r}: {spec}",
                             hint="use an http:// or https:// URL")
        if file is not None:
            raise UsageError(f"a URL names its file already; drop the extra argument {file!r}")
        return _plan_url(spec, dest_dir, expected)
    entry = find_entry(spec)
    if entry is not None:
        if file is not None:
            raise UsageError(
                f"{entry.id} is a catalog id; it takes no FILE argument ({file!r})",
                hint=f"to pick another file, use the repository: hearth model pull {entry.repo} "
                "FILE",
            )
        return _plan_entry(entry, endpoint, dest_dir, revision, expected)
    owner, _, name = spec.partition("/")
    if owner and name and "/" not in name:
        if file is None:
            raise UsageError(
                f"name the file to download from {spec}",
                hint=f"hearth model pull {spec} FILE (see the repository's Files tab)",
            )
        relative = _relative_file(file, "FILE")
        url = hf_url(endpoint, spec, str(relative), revision)
        return PullPlan(f"{spec}/{relative}", (PullItem(url, dest_dir / relative, expected),))
    close = difflib.get_close_matches(spec.lower(), catalog_ids(), n=1)
    raise UsageError(
        f"unknown model {spec!r}: not a catalog id, a Hugging Face repo (owner/name) or a URL",
        hint=(f"did you mean {close[0]}? " if close else "")
        + "see `hearth model pull --list`",
    )
