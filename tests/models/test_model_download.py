"""Resumable, verified downloads against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest

from runtime.errors import DownloadError, UsageError
from runtime.models.download import (
    download,
    hf_url,
    network_error,
    part_path,
    server_sha256,
    sidecar_path,
)
from tests.models.model_testkit import FileServer

loopback = pytest.mark.allow_hosts(["127.0.0.1"])
DATA = os.urandom(3 * (1 << 20) + 12345)  # more than one 1 MiB chunk, not a multiple of it
SHA = hashlib.sha256(DATA).hexdigest()


def test_hf_url_quotes_each_part() -> None:
    assert hf_url("https://huggingface.co/", "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "a b.gguf") == (
        "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/a%20b.gguf"
    )
    assert hf_url("http://m", "o/r", "1_Pooling/config.json", "refs/pr/1") == (
        "http://m/o/r/resolve/refs%2Fpr%2F1/1_Pooling/config.json"
    )


@loopback
def test_full_download_verified_by_server_hash(tmp_path: Path, file_server: FileServer) -> None:
    file_server.etag_on_files = False  # the sha256 is only on the redirect, as on huggingface.co
    url = file_server.add("model.gguf", DATA)
    dest = tmp_path / "out" / "model.gguf"
    seen: list[tuple[int, int | None]] = []
    result = download(url.replace("/files/", "/redirect/"), dest,
                      progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == DATA
    assert (result.sha256, result.size_bytes, result.resumed_from) == (SHA, len(DATA), 0)
    assert result.verified_by == ("server",)
    assert sidecar_path(dest).read_text() == f"{SHA}  model.gguf\n"
    assert not part_path(dest).exists()
    assert seen[0] == (0, len(DATA)) and seen[-1] == (len(DATA), len(DATA))
    assert file_server.range_headers() == []


@loopback
def test_resumes_a_partial_download(tmp_path: Path, file_server: FileServer) -> None:
    url = file_server.add("model.gguf", DATA)
    dest = tmp_path / "model.gguf"
    half = len(DATA) // 2
    part_path(dest).write_bytes(DATA[:half])
    result = download(url, dest, expected_sha256=SHA.upper())
    assert file_server.range_headers() == [f"bytes={half}-"]
    assert dest.read_bytes() == DATA
    assert (result.sha256, result.resumed_from) == (SHA, half)
    assert result.verified_by == ("server", "user")


@loopback
def test_dropped_connection_keeps_part_and_next_call_resumes(tmp_path, file_server) -> None:
    url = file_server.add("model.gguf", DATA)
    file_server.cut_after = 1_000_000
    dest = tmp_path / "model.gguf"
    with pytest.raises(DownloadError) as err:
        download(url, dest)
    assert err.value.message == f"download of model.gguf stopped at 1000000 of {len(DATA)} bytes"
    assert err.value.hint == "run the same command again to resume where it stopped"
    assert not dest.exists() and part_path(dest).stat().st_size == 1_000_000
    result = download(url, dest)
    assert file_server.range_headers() == ["bytes=1000000-"]
    assert (dest.read_bytes() == DATA, result.resumed_from) == (True, 1_000_000)


@loopback
def test_silent_server_times_out(tmp_path: Path, file_server: FileServer) -> None:
    url = file_server.add("model.gguf", DATA)
    file_server.delay = 1.0
    with pytest.raises(DownloadError, match=r"^127\.0\.0\.1 did not answer in time"):
        download(url, tmp_path / "model.gguf", timeout=0.2)
    assert list(tmp_path.iterdir()) == []


@loopback
def test_restarts_when_server_ignores_range(tmp_path: Path, file_server: FileServer) -> None:
    file_server.ignore_range = True
    url = file_server.add("model.gguf", DATA)
    dest = tmp_path / "model.gguf"
    part_path(dest).write_bytes(b"stale bytes from another file")
    result = download(url, dest)
    assert dest.read_bytes() == DATA
    assert result.resumed_from == 0


@loopback
def test_complete_part_is_verified_without_refetching(tmp_path, file_server) -> None:
    url = file_server.add("model.gguf", DATA)
    dest = tmp_path / "model.gguf"
    part_path(dest).write_bytes(DATA)
    result = download(url, dest)  # server answers 416 for a range at the end
    assert (dest.read_bytes() == DATA, result.resumed_from) == (True, len(DATA))


@loopback
def test_sha_mismatch_deletes_everything(tmp_path: Path, file_server: FileServer) -> None:
    url = file_server.add("model.gguf", DATA, publish_sha=False)
    dest = tmp_path / "model.gguf"
    with pytest.raises(DownloadError) as err:
        download(url, dest, expected_sha256="0" * 64)
    assert err.value.message == (
        f"model.gguf: sha256 mismatch: expected {'0' * 64} (--sha256), got {SHA}"
    )
    assert list(tmp_path.iterdir()) == []


@loopback
def test_corrupt_resumed_prefix_fails_server_hash(tmp_path, file_server) -> None:
    url = file_server.add("model.gguf", DATA)
    dest = tmp_path / "model.gguf"
    part_path(dest).write_bytes(b"X" * 1000)  # same length as a real prefix, wrong bytes
    with pytest.raises(DownloadError, match=r"sha256 mismatch: expected \w+ \(the server's\)"):
        download(url, dest)
    assert list(tmp_path.iterdir()) == []


@loopback
def test_unverified_download_records_its_hash(tmp_path: Path, file_server) -> None:
    url = file_server.add("notes.txt", b"hello", publish_sha=False)
    result = download(url, tmp_path / "notes.txt")
    assert result.verified_by == ()
    assert sidecar_path(tmp_path / "notes.txt").read_text() == (
        f"{hashlib.sha256(b'hello').hexdigest()}  notes.txt\n"
    )


@loopback
def test_404_names_the_url(tmp_path: Path, file_server: FileServer) -> None:
    url = f"{file_server.base_url}/files/missing.gguf"
    with pytest.raises(DownloadError) as err:
        download(url, tmp_path / "missing.gguf")
    assert err.value.message == f"not found (HTTP 404): {url}"
    assert list(tmp_path.iterdir()) == []


@loopback
def test_connection_refused_says_no_network(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/model.gguf"
    with pytest.raises(DownloadError) as err:
        download(url, tmp_path / "model.gguf")
    assert err.value.message == f"connection to 127.0.0.1 refused ({url})"
    assert err.value.hint.startswith("no network? Hearth only goes online for this command")
    assert list(tmp_path.iterdir()) == []


def test_dns_failure_and_forbidden_messages() -> None:
    dns = network_error("https://huggingface.co/x", socket.gaierror(-2, "Name unknown"))
    assert dns.message == "cannot resolve host huggingface.co"
    assert "no network?" in (dns.hint or "")


def test_gated_repo_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtime.models import download as module

    assert "hearth model add" in (module.http_error("u", 403, "Forbidden").hint or "")
    assert module.http_error("u", 401, "x").message == "access denied (HTTP 401) for u"


def test_server_sha_only_accepts_sha256_etags() -> None:
    from email.message import Message

    git_blob, lfs = Message(), Message()
    git_blob["ETag"] = '"' + "a" * 40 + '"'  # sha1 of a small git file: not a sha256
    lfs["X-Linked-Etag"] = '"' + "B" * 64 + '"'
    cdn = Message()
    cdn["ETag"] = '"' + "c" * 64 + '"'  # a redirect target's ETag may hash something else
    assert server_sha256([git_blob]) is None
    assert server_sha256([git_blob, lfs]) == "b" * 64
    assert server_sha256([git_blob, cdn]) is None
    assert server_sha256([cdn]) == "c" * 64
    assert server_sha256([]) is None


def test_bad_sha256_argument_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a sha256 hex digest"):
        download("http://127.0.0.1:9/x", tmp_path / "x", expected_sha256="abc")
