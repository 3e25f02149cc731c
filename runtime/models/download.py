"""Resumable, verified downloads with the standard library (the only code that goes online).

Guarantees:
- Bytes go to `<dest>.part`; `dest` appears only after the size and sha256 are verified, by an
  atomic rename, so `dest` is never half a file. An interrupted download leaves the `.part`,
  and the next call resumes it with `Range: bytes=N-` (restarting if the server ignores that).
- The sha256 covers the whole file, resumed prefix included. It is checked against the hash
  the server reports (Hugging Face: `X-Linked-Etag` on the redirect of an LFS file, or an
  `ETag` that is a sha256) and against `expected_sha256`; a mismatch deletes the `.part`.
- On success a sidecar `<dest>.sha256` in `sha256sum` format records the hash, so later code
  (adapter base checks, `sha256sum -c`) need not re-hash gigabytes.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import quote, urlsplit

from runtime.errors import DownloadError, UsageError
from runtime.files import atomic_write_text

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int | None], None]
"""Called with (bytes done, total bytes or None) as the download advances."""

DEFAULT_TIMEOUT = 30.0
CHUNK = 1 << 20
USER_AGENT = "hearth-model-pull/0.1"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CONTENT_RANGE = re.compile(r"^bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)$")
NO_NETWORK_HINT = (
    "no network? Hearth only goes online for this command; check the connection, "
    "or point hf_endpoint (HEARTH_HF_ENDPOINT) at a mirror"
)
RESUME_HINT = "run the same command again to resume where it stopped"


@dataclass(frozen=True)
class DownloadResult:
    """A finished download."""

    path: Path
    size_bytes: int
    sha256: str
    verified_by: tuple[str, ...]
    """Where the expected hash came from: "server", "user"; empty when nothing to check."""
    resumed_from: int
    """Bytes that were already in the `.part` file and not downloaded again."""


def hf_url(endpoint: str, repo: str, filename: str, revision: str = "main") -> str:
    """`{endpoint}/{repo}/resolve/{revision}/{filename}`, with each part URL-quoted."""
    return (
        f"{endpoint.rstrip('/')}/{quote(repo, safe='/')}/resolve/"
        f"{quote(revision, safe='')}/{quote(filename, safe='/')}"
    )


def normalize_sha256(value: str) -> str:
    """Lower-case hex sha256; UsageError if it is not 64 hex digits."""
    cleaned = value.strip().lower()
    if not _SHA256.match(cleaned):
        raise UsageError(
            f"--sha256: not a sha256 hex digest: {value!r}",
            hint="give the 64 hex digits shown on the model page (Files → the file → SHA256)",
        )
    return cleaned


def part_path(dest: Path) -> Path:
    """Where the bytes of `dest` collect until verified."""
    return dest.with_name(dest.name + ".part")


def sidecar_path(dest: Path) -> Path:
    """The `sha256sum`-style record written next to a verified download."""
    return dest.with_name(dest.name + ".sha256")


def _sha_from_etag(value: str | None) -> str | None:
    if not value:
        return None
    tag = value.strip().removeprefix("W/").strip('"').lower()
    # Git blob ETags are 40-hex sha1s of small files; only a 64-hex value is a sha256.
    return tag if _SHA256.match(tag) else None


def server_sha256(headers: list[Message]) -> str | None:
    """The sha256 the server reports: `X-Linked-Etag` on any hop, else a sha256-shaped `ETag`
    of the first response (the server the user named; a CDN's ETag may be another hash)."""
    for hop in headers:
        found = _sha_from_etag(hop.get("X-Linked-Etag"))
        if found:
            return found
    return _sha_from_etag(headers[0].get("ETag")) if headers else None


class _RedirectRecorder(urllib.request.HTTPRedirectHandler):
    """Keeps each redirect's headers: Hugging Face puts the LFS sha256 on the first hop,
    not on the CDN response the redirect leads to."""

    def __init__(self) -> None:
        super().__init__()
        self.hops: list[Message] = []

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        self.hops.append(headers)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def network_error(url: str, reason: object) -> DownloadError:
    """DownloadError for a failure before any HTTP answer (DNS, refused, TLS, timeout)."""
    host = urlsplit(url).hostname or url
    if isinstance(reason, TimeoutError | socket.timeout):
        return DownloadError(f"{host} did not answer in time ({url})", hint=NO_NETWORK_HINT)
    if isinstance(reason, socket.gaierror):
        return DownloadError(f"cannot resolve host {host}", hint=NO_NETWORK_HINT)
    if isinstance(reason, ConnectionRefusedError):
        return DownloadError(f"connection to {host} refused ({url})", hint=NO_NETWORK_HINT)
    text = getattr(reason, "strerror", None) or str(reason)
    return DownloadError(f"cannot reach {host}: {text}", hint=NO_NETWORK_HINT)


def http_error(url: str, code: int, reason: str) -> DownloadError:
    """DownloadError for an HTTP error status, with what the user can do about it."""
    if code in (401, 403):
        return DownloadError(
            f"access denied (HTTP {code}) for {url}",
            hint="the repository may be gated: accept its license on the model page in a "
            "browser, download the file there, then run `hearth model add PATH`",
        )
    if code == 404:
        return DownloadError(
            f"not found (HTTP 404): {url}",
            hint="check the repository, file name and --revision (`hearth model pull --list`)",
        )
    return DownloadError(f"HTTP {code} {reason} from {url}", hint="try again later")


def _open(url: str, offset: int, timeout: float) -> tuple[http.client.HTTPResponse, list[Message]]:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    recorder = _RedirectRecorder()
    opener = urllib.request.build_opener(recorder)
    try:
        response = opener.open(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416:
            # Range past the end: the caller decides whether the .part is already complete.
            hops = [*recorder.hops, exc.headers]
            return _RangeNotSatisfiable(exc.headers), hops  # type: ignore[return-value]
        raise http_error(url, exc.code, str(exc.reason)) from exc
    except urllib.error.URLError as exc:
        raise network_error(url, exc.reason) from exc
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise network_error(url, exc) from exc
    except ValueError as exc:
        raise DownloadError(f"invalid URL: {url}", hint="use an http:// or https:// URL") from exc
    return response, [*recorder.hops, response.headers]


class _RangeNotSatisfiable:
    """Stands in for a 416 response (no body)."""

    status = 416

    def __init__(self, headers: Message) -> None:
        self.headers = headers


def _parse_content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) from `Content-Range`; None where the server left it out."""
    match = _CONTENT_RANGE.match((value or "").strip())
    if not match:
        return None, None
    start = int(match.group(1)) if match.group(1) is not None else None
    total = int(match.group(3)) if match.group(3) != "*" else None
    return start, total


def _hash_prefix(path: Path, length: int) -> hashlib._Hash:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(min(CHUNK, length - handle.tell())):
            hasher.update(chunk)
    return hasher


def _content_length(headers: Message) -> int | None:
    value = headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None


def download(
    url: str,
    dest: Path,
    *,
    expected_sha256: str | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> DownloadResult:
    """Download `url` to `dest`, resuming a previous `.part`, verifying size and sha256.

    Raises DownloadError (network, HTTP status, short or corrupt download). A download that
    stops early keeps its `.part` so that calling again resumes; a corrupt one deletes it.
    """
    dest = Path(dest)
    part = part_path(dest)
    expected_user = normalize_sha256(expected_sha256) if expected_sha256 else None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"cannot create folder {dest.parent}: {exc.strerror or exc}",
            hint="choose a writable folder with --to",
        ) from exc
    offset = part.stat().st_size if part.exists() else 0
    resumed_from = 0
    total: int | None = None
    hops: list[Message] = []
    for _attempt in range(3):
        response, hops = _open(url, offset, timeout)
        if response.status == 416:
            _, total = _parse_content_range(response.headers.get("Content-Range"))
            if offset and total == offset:
                resumed_from = offset  # the .part was complete; only verification was left
                hasher = _hash_prefix(part, offset)
                break
            logger.info("server refused resuming %s at %d bytes; restarting", url, offset)
            part.unlink(missing_ok=True)
            offset = 0
            continue
        with response:
            if offset and response.status == 206:
                start, total = _parse_content_range(response.headers.get("Content-Range"))
                if start != offset:
                    part.unlink(missing_ok=True)
                    offset = 0
                    continue
                resumed_from = offset
                hasher = _hash_prefix(part, offset)
            else:
                # 200: the server sends the whole file (it ignored or was not asked for a Range).
                offset, resumed_from = 0, 0
                total = _content_length(response.headers)
                hasher = hashlib.sha256()
            _stream(response, part, offset, total, hasher, progress, url)
        break
    else:
        raise DownloadError(f"server keeps answering resumes badly: {url}", hint=RESUME_HINT)

    size = part.stat().st_size
    if total is not None and size < total:
        raise DownloadError(
            f"download of {dest.name} stopped at {size} of {total} bytes", hint=RESUME_HINT
        )
    if total is not None and size > total:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"{dest.name}: got {size} bytes, server announced {total}",
            hint="the partial file was deleted; run the command again",
        )
    actual = hasher.hexdigest()
    checks = [("server", server_sha256(hops)), ("user", expected_user)]
    for source, expected in checks:
        if expected and expected != actual:
            part.unlink(missing_ok=True)
            given = "the server's" if source == "server" else "--sha256"
            raise DownloadError(
                f"{dest.name}: sha256 mismatch: expected {expected} ({given}), got {actual}",
                hint="the download was corrupted or the file changed; it was deleted, "
                "run the command again",
            )
    os.replace(part, dest)
    atomic_write_text(sidecar_path(dest), f"{actual}  {dest.name}\n", mode=0o644)
    verified = tuple(source for source, expected in checks if expected)
    logger.info("downloaded %s (%d bytes, verified by %s)", dest, size, verified or "nothing")
    return DownloadResult(dest, size, actual, verified, resumed_from)


def _stream(
    response: http.client.HTTPResponse,
    part: Path,
    offset: int,
    total: int | None,
    hasher: hashlib._Hash,
    progress: ProgressCallback | None,
    url: str,
) -> None:
    """Append the body to `part`, hashing as it goes. Errors keep the `.part` for resuming."""
    done = offset
    if progress:
        progress(done, total)
    try:
        out = open(part, "ab" if offset else "wb")  # noqa: SIM115 - the `with` below closes it
    except OSError as exc:
        raise DownloadError(
            f"cannot write {part}: {exc.strerror or exc}", hint="choose a writable folder with --to"
        ) from exc
    with out:
        while True:
            try:
                chunk = response.read(CHUNK)
            except (TimeoutError, OSError, http.client.HTTPException) as exc:
                host = urlsplit(url).hostname or url
                raise DownloadError(
                    f"download from {host} interrupted at {done} bytes "
                    f"({exc.__class__.__name__})",
                    hint=RESUME_HINT,
                ) from exc
            if not chunk:
                return
            try:
                out.write(chunk)
            except OSError as exc:
                raise DownloadError(
                    f"cannot write {part}: {exc.strerror or exc}",
                    hint="free some disk space or choose another folder with --to",
                ) from exc
            hasher.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
