"""Finding and extracting llama.cpp's conversion scripts (no network: local archives only)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from runtime.errors import ConversionError
from training import llama_sources
from training.llama_sources import (
    FETCH_COMMAND,
    SOURCES_ENV,
    cached_sources_dir,
    default_cache_dir,
    extract_sources,
    find_sources,
)

TOP = "llama_cpp_python-9.9.9/"
VENDOR = TOP + "vendor/llama.cpp/"


def make_sdist(path: Path, extra: dict[str, bytes] | None = None) -> Path:
    files = {
        VENDOR + "convert_hf_to_gguf.py": b"print('converter')\n",
        VENDOR + "convert_lora_to_gguf.py": b"",
        VENDOR + "conversion/__init__.py": b"",
        VENDOR + "gguf-py/gguf/__init__.py": b"",
        VENDOR + "models/templates/chatml.jinja": b"{{ x }}",
        VENDOR + "src/llama.cpp": b"// C++ is not needed",
        VENDOR + "models/ggml-vocab-qwen2.gguf": b"GGUF big test vocab",
        TOP + "llama_cpp/llama.py": b"",
        **(extra or {}),
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo(VENDOR + "conversion/link.py")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    return path


@pytest.fixture(autouse=True)
def no_sources_env(monkeypatch, tmp_path):
    monkeypatch.delenv(SOURCES_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_default_cache_dir_follows_xdg(tmp_path):
    assert default_cache_dir() == tmp_path / "cache" / "hearth"
    assert cached_sources_dir("1.2.3") == tmp_path / "cache" / "hearth" / "llama-cpp-python-1.2.3"


def test_missing_cache_says_how_to_fetch(tmp_path):
    with pytest.raises(ConversionError) as caught:
        find_sources(version="1.2.3")
    assert str(cached_sources_dir("1.2.3")) in caught.value.message
    assert f"`{FETCH_COMMAND}`" in caught.value.hint
    assert "1.2.3" in caught.value.hint


def test_env_dir_without_converter_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv(SOURCES_ENV, str(tmp_path))
    with pytest.raises(ConversionError, match=SOURCES_ENV):
        find_sources(version="1.2.3")


def test_explicit_dir_wins_over_env(tmp_path, monkeypatch):
    sources = extract_sources(make_sdist(tmp_path / "s.tar.gz"), tmp_path / "explicit")
    monkeypatch.setenv(SOURCES_ENV, str(tmp_path / "elsewhere"))
    assert find_sources(tmp_path / "explicit", version="9.9.9") == sources


def test_extract_keeps_only_the_conversion_scripts(tmp_path):
    sdist = make_sdist(
        tmp_path / "s.tar.gz",
        extra={VENDOR + "../../../evil.py": b"x", "/abs/evil.py": b"x"},
    )
    sources = extract_sources(sdist, tmp_path / "src")
    files = sorted(str(p.relative_to(sources.root)) for p in sources.root.rglob("*") if p.is_file())
    assert files == [
        "conversion/__init__.py",
        "convert_hf_to_gguf.py",
        "convert_lora_to_gguf.py",
        "gguf-py/gguf/__init__.py",
        "hearth-sources.json",
        "models/templates/chatml.jinja",
    ]
    assert not (tmp_path / "evil.py").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_fetch_from_local_sdist_fills_the_cache(tmp_path):
    sdist = make_sdist(tmp_path / "s.tar.gz")
    sources = llama_sources.fetch_sources("9.9.9", sdist=sdist)
    assert sources.root == cached_sources_dir("9.9.9")
    assert find_sources(version="9.9.9") == sources


def test_archive_without_converter_is_rejected(tmp_path):
    sdist = tmp_path / "other.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        info = tarfile.TarInfo("pkg-1.0/setup.py")
        archive.addfile(info, io.BytesIO(b""))
    with pytest.raises(ConversionError, match=r"has no vendor/llama\.cpp/convert_hf_to_gguf\.py"):
        extract_sources(sdist, tmp_path / "src")
    assert not (tmp_path / "src").exists()


def test_fetch_without_sdist_downloads_with_pip(tmp_path, monkeypatch):
    calls = []

    def fake_download(version: str, into: Path) -> Path:
        calls.append(version)
        return make_sdist(into / "llama_cpp_python-9.9.9.tar.gz")

    monkeypatch.setattr(llama_sources, "download_sdist", fake_download)
    sources = llama_sources.fetch_sources("9.9.9", tmp_path / "dest")
    assert calls == ["9.9.9"]
    assert sources.converter.is_file()


def test_fetch_again_does_not_download_a_complete_copy(tmp_path, monkeypatch):
    calls = []

    def fake_download(version: str, into: Path) -> Path:
        calls.append(version)
        return make_sdist(into / "llama_cpp_python-9.9.9.tar.gz")

    monkeypatch.setattr(llama_sources, "download_sdist", fake_download)
    first = llama_sources.fetch_sources("9.9.9", tmp_path / "dest")
    second = llama_sources.fetch_sources("9.9.9", tmp_path / "dest")
    assert calls == ["9.9.9"]
    assert second == first
