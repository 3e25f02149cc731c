"""Finding GGUF models: where Hearth looks, what it reports, and what it skips."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.config import Config
from runtime.models.discovery import (
    ModelFile,
    checkout_models_dir,
    classify,
    discover_models,
    quantization_from_name,
)
from runtime.models.gguf_header import read_gguf_header
from runtime.paths import DataHome
from tests.models.model_testkit import ARR, I32, STR, U32, chat_kv


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataHome:
    """A data home from $HEARTH_HOME, run from an empty working directory `cwd`."""
    monkeypatch.setenv("HEARTH_HOME", str(tmp_path / "home"))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return DataHome.resolve()


def _names(models: list[ModelFile]) -> list[tuple[str, str, str]]:
    return [(m.name, m.source, m.kind) for m in models]


def test_finds_models_in_every_place_once(tmp_path, home, write_gguf) -> None:
    write_gguf(home.models_dir / "a.gguf")
    write_gguf(home.models_dir / "nested" / "deeper" / "b.gguf")
    write_gguf(tmp_path / "cwd" / "models" / "c.gguf")
    write_gguf(tmp_path / "extra" / "d.gguf")
    added = write_gguf(tmp_path / "loose" / "e.gguf")
    (tmp_path / "extra" / "link.gguf").symlink_to(home.models_dir / "a.gguf")
    config = Config(
        model_dirs=[tmp_path / "extra", home.models_dir],  # overlaps the data home on purpose
        models=[added, home.models_dir / "a.gguf"],
    )
    models = discover_models(home, config, include_checkout=False)
    assert _names(models) == [
        ("a", "data_home", "chat"),
        ("b", "data_home", "chat"),
        ("c", "models_dir", "chat"),
        ("d", "config_dir", "chat"),
        ("e", "added", "chat"),
    ]
    assert models[0].to_json() == {
        "name": "a",
        "path": str(home.models_dir / "a.gguf"),
        "size_bytes": (home.models_dir / "a.gguf").stat().st_size,
        "kind": "chat",
        "architecture": "llama",
        "quantization": "Q4_K_M",
        "source": "data_home",
    }


def test_kinds_from_metadata(tmp_path, home, write_gguf) -> None:
    d = home.models_dir
    write_gguf(d / "1-embed.gguf", [("general.architecture", STR, "bert")])
    write_gguf(d / "2-qwen3-embed.gguf",
               [("general.architecture", STR, "qwen3"), ("qwen3.pooling_type", U32, 3)])
    write_gguf(d / "3-lora.gguf",
               [("general.architecture", STR, "llama"), ("general.type", STR, "adapter"),
                ("adapter.type", STR, "lora")])
    write_gguf(d / "4-mmproj.gguf", [("general.architecture", STR, "clip")])
    (d / "5-broken.gguf").write_bytes(b"<html>rate limited</html>")
    (d / "6-cut.gguf").write_bytes(b"GGUF\x03\x00")
    models = discover_models(home, Config(), include_checkout=False)
    assert [(m.name, m.kind, m.architecture) for m in models] == [
        ("1-embed", "embedding", "bert"),
        ("2-qwen3-embed", "embedding", "qwen3"),
        ("3-lora", "adapter", "llama"),
        ("4-mmproj", "unknown", "clip"),
        ("5-broken", "unknown", None),
        ("6-cut", "unknown", None),
    ]
    assert models[4].error == f"{d / '5-broken.gguf'}: not a GGUF file (magic b'<htm')"
    assert models[5].error == f"{d / '6-cut.gguf'}: truncated GGUF header"
    assert models[0].error is None


def test_split_gguf_listed_once_with_total_size(home, write_gguf) -> None:
    d = home.models_dir / "qwen2.5-7b"
    first = write_gguf(d / "qwen-q4_k_m-00001-of-00002.gguf")
    second = write_gguf(d / "qwen-q4_k_m-00002-of-00002.gguf",
                        [("split.no", I32, 1), ("general.tags", ARR, (STR, ["x"]))])
    (d / "qwen-q4_k_m-00003-of-00002.gguf.part").write_bytes(b"partial")
    [model] = discover_models(home, Config(), include_checkout=False)
    assert (model.name, model.path) == ("qwen-q4_k_m", first)
    assert model.size_bytes == first.stat().st_size + second.stat().st_size


def test_missing_added_file_and_hidden_folders(tmp_path, home, write_gguf) -> None:
    write_gguf(home.models_dir / ".cache" / "hidden.gguf")
    gone = tmp_path / "gone.gguf"
    models = discover_models(home, Config(models=[gone]), include_checkout=False)
    assert [(m.name, m.kind, m.size_bytes, m.error) for m in models] == [
        ("gone", "unknown", 0, "No such file or directory")
    ]


def test_empty_when_nothing_exists(home) -> None:
    assert discover_models(home, Config(), include_checkout=False) == []


def test_checkout_models_dir_is_this_repository() -> None:
    found = checkout_models_dir()
    repo = Path(__file__).resolve().parents[2]
    assert found in (None, repo / "models")  # None only when the checkout has no models/


def test_quantization_falls_back_to_the_file_name(home, write_gguf) -> None:
    write_gguf(home.models_dir / "Llama-3.2-1B-Instruct-IQ4_XS.gguf",
               [("general.architecture", STR, "llama")])
    [model] = discover_models(home, Config(), include_checkout=False)
    assert model.quantization == "IQ4_XS"
    assert quantization_from_name("qwen2.5-0.5b-instruct-q4_k_m") == "Q4_K_M"
    assert quantization_from_name("model-fp16-final") is None


def test_classify_plain_chat(tmp_path, write_gguf) -> None:
    header = read_gguf_header(write_gguf(tmp_path / "m.gguf", chat_kv("gemma2")))
    assert classify(header) == "chat"
