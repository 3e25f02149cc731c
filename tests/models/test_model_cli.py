"""`hearth model list/add/pull`, invoked through click's CliRunner with an isolated data home."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.filesize import decimal

from runtime.cli.context import CliContext
from runtime.cli.model import model
from runtime.config import Config
from runtime.errors import DownloadError, ModelError, UsageError
from runtime.models import discovery
from runtime.models.catalog import CATALOG
from runtime.paths import DataHome
from tests.models.model_testkit import FileServer, chat_kv, gguf_bytes

loopback = pytest.mark.allow_hosts(["127.0.0.1"])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataHome:
    """An empty data home; run from an empty folder, and blind to this checkout's models/."""
    for name in list(os.environ):
        if name.startswith("HEARTH_"):
            monkeypatch.delenv(name)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setattr(discovery, "checkout_models_dir", lambda: None)
    return DataHome(tmp_path / "home")


def invoke(home: DataHome, *args: str, config: Config | None = None) -> Result:
    return CliRunner().invoke(model, list(args), obj=CliContext(home=home, _config=config))


def test_list_json_empty(home: DataHome) -> None:
    result = invoke(home, "list", "--json")
    assert (result.exit_code, result.stdout) == (0, "[]\n")


def test_list_empty_points_to_pull_and_add(tmp_path: Path, home: DataHome) -> None:
    result = invoke(home, "list")
    assert result.exit_code == 0
    assert result.stdout == (
        f"No models found (searched {home.models_dir}, {tmp_path / 'cwd' / 'models'}).\n"
        "Download one with `hearth model pull qwen2.5-3b` (all choices: "
        "`hearth model pull --list`),\n"
        "or register a GGUF file you already have with `hearth model add PATH`.\n"
    )


def test_list_json_keys_are_stable(home: DataHome) -> None:
    path = home.models_dir / "tiny.gguf"
    path.parent.mkdir(parents=True)
    path.write_bytes(gguf_bytes(chat_kv("qwen2")))
    result = invoke(home, "list", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {
            "name": "tiny",
            "path": str(path),
            "size_bytes": path.stat().st_size,
            "kind": "chat",
            "architecture": "qwen2",
            "quantization": "Q4_K_M",
            "source": "data_home",
        }
    ]
    table = invoke(home, "list")
    assert table.exit_code == 0
    assert "tiny" in table.stdout and "qwen2" in table.stdout and "Q4_K_M" in table.stdout


def test_add_rejects_a_file_that_is_not_gguf(tmp_path: Path, home: DataHome) -> None:
    path = tmp_path / "notes.gguf"
    path.write_text("hello world")
    result = invoke(home, "add", str(path))
    assert result.exit_code != 0
    assert isinstance(result.exception, ModelError)
    assert str(result.exception) == f"{path}: not a GGUF file (magic b'hell')"
    assert "\n" not in str(result.exception)
    assert not home.config_file.exists()


def test_add_stores_absolute_path_once(tmp_path, home, monkeypatch) -> None:
    path = tmp_path / "elsewhere" / "my-model.gguf"
    path.parent.mkdir()
    path.write_bytes(gguf_bytes(chat_kv("llama", file_type=7)))
    monkeypatch.chdir(path.parent)
    monkeypatch.setenv("HEARTH_HF_ENDPOINT", "https://mirror.example")  # must not be saved
    first = invoke(home, "add", "my-model.gguf")
    assert (first.exit_code, first.stdout) == (
        0, f"added {path} (llama, Q8_0) to {home.config_file}\n"
    )
    second = invoke(home, "add", str(path))
    assert (second.exit_code, second.stdout) == (0, f"already added: {path} (llama, Q8_0)\n")
    assert tomllib.loads(home.config_file.read_text()) == {"models": [str(path)]}
    listed = json.loads(invoke(home, "list", "--json").stdout)
    assert [(m["name"], m["source"]) for m in listed] == [("my-model", "added")]


@loopback
def test_pull_url_into_folder(tmp_path: Path, home: DataHome, file_server: FileServer) -> None:
    data = gguf_bytes(chat_kv(), tail=os.urandom(100_000))
    sha = hashlib.sha256(data).hexdigest()
    url = file_server.add("tiny-Q4_K_M.gguf", data)
    target = tmp_path / "dl"
    result = invoke(home, "pull", url, "--to", str(target), "--sha256", sha)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"saved {target / 'tiny-Q4_K_M.gguf'} ({decimal(len(data))})\n"
        f"  sha256 {sha} (matches the server's and --sha256)\n"
        "`hearth model list` shows it.\n"
    )
    assert (target / "tiny-Q4_K_M.gguf").read_bytes() == data
    again = invoke(home, "pull", url, "--to", str(target))
    assert again.stdout.splitlines()[0] == f"already downloaded: {target / 'tiny-Q4_K_M.gguf'}"
    assert len(file_server.requests) == 1  # the second pull did not go online


@loopback
def test_pull_repo_file_from_configured_endpoint(home, file_server: FileServer) -> None:
    data = gguf_bytes(chat_kv("qwen2"))
    file_server.etag_on_files = False
    file_server.add("qwen-tiny.gguf", data)
    config = Config(hf_endpoint=f"{file_server.base_url}/redirect")
    result = invoke(home, "pull", "Qwen/Tiny-GGUF", "qwen-tiny.gguf", config=config)
    assert result.exit_code == 0, result.output
    assert file_server.requests[0][0] == "/redirect/Qwen/Tiny-GGUF/resolve/main/qwen-tiny.gguf"
    assert "(matches the server's)" in result.stdout
    listed = json.loads(invoke(home, "list", "--json", config=config).stdout)
    assert [(m["name"], m["source"], m["architecture"]) for m in listed] == [
        ("qwen-tiny", "data_home", "qwen2")
    ]


@loopback
def test_pull_404_raises_download_error(tmp_path, home, file_server: FileServer) -> None:
    result = invoke(home, "pull", f"{file_server.base_url}/files/nope.gguf", "--to",
                    str(tmp_path))
    assert isinstance(result.exception, DownloadError)
    assert str(result.exception) == f"not found (HTTP 404): {file_server.base_url}/files/nope.gguf"


def test_pull_list_json_shows_catalog(home: DataHome) -> None:
    result = invoke(home, "pull", "--list", "--json")
    assert result.exit_code == 0
    entries = json.loads(result.stdout)
    assert [e["id"] for e in entries] == [e.id for e in CATALOG]
    assert set(entries[0]) == {"id", "kind", "repo", "files", "size_bytes", "languages",
                               "license", "description", "builtin"}
    assert invoke(home, "pull", "--list").exit_code == 0


def test_pull_builtin_embedder_needs_no_network(home: DataHome) -> None:
    result = invoke(home, "pull", "all-minilm-l6-v2")
    assert result.exit_code == 0
    assert result.stdout.startswith("all-minilm-l6-v2 needs no download: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pull"], "name a model to download"),
        (["pull", "--json"], "--json only works with --list"),
        (["pull", "Qwen/Qwen2.5-0.5B-Instruct-GGUF"],
         "name the file to download from Qwen/Qwen2.5-0.5B-Instruct-GGUF"),
        (["pull", "qwen2.5-7b", "--sha256", "a" * 64],
         "--sha256 names one file, but qwen2.5-7b has 2 files"),
        (["pull", "qwen2.5-3bb"],
         "unknown model 'qwen2.5-3bb': not a catalog id, a Hugging Face repo (owner/name) "
         "or a URL"),
    ],
)
def test_pull_usage_errors(home: DataHome, args: list[str], message: str) -> None:
    result = invoke(home, *args)
    assert isinstance(result.exception, UsageError)
    assert str(result.exception) == message


def test_unknown_id_suggests_the_closest(home: DataHome) -> None:
    error = invoke(home, "pull", "qwen2.5-3bb").exception
    assert isinstance(error, UsageError)
    assert error.hint == "did you mean qwen2.5-3b? see `hearth model pull --list`"


@loopback
def test_pull_multi_file_entry_into_its_folder(home, file_server: FileServer) -> None:
    entry = next(e for e in CATALOG if e.id == "multilingual-e5-small")
    for name in entry.files:  # like huggingface.co: only the large LFS file has a sha256
        file_server.add(name, f"content of {name}".encode(),
                        publish_sha=name.endswith(".safetensors"))
    file_server.etag_on_files = False
    config = Config(hf_endpoint=f"{file_server.base_url}/redirect")
    result = invoke(home, "pull", entry.id, config=config)
    assert result.exit_code == 0, result.output
    folder = home.models_dir / entry.id
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*entry.files, *(f"{name}.sha256" for name in entry.files)]
    )
    lines = result.stdout.splitlines()
    assert lines[-1] == f"files are in {folder}"
    assert lines.count(f"saved {folder / 'model.safetensors'} (28 bytes)") == 1
    assert sum("(matches the server's)" in line for line in lines) == 1
    assert sum("no published checksum; recorded in" in line for line in lines) == 4


def test_through_hearth_errors_are_one_line_plus_hint(tmp_path: Path, run_cli) -> None:
    notes = tmp_path / "notes.gguf"
    notes.write_text("hello world")
    result = run_cli("model", "add", str(notes))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: {notes}: not a GGUF file (magic b'hell')\n"
        "hint: llama.cpp needs .gguf files; convert other formats first\n"
    )
    usage = run_cli("model", "pull")
    assert usage.exit_code == 2
    assert usage.stderr == (
        "error: name a model to download\nhint: see `hearth model pull --list`\n"
    )
