"""Data home location and privacy, and config.toml with environment overrides."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runtime.config import Config, LlamaSettings, load_config, save_config
from runtime.errors import ConfigError, DataHomeError
from runtime.paths import DataHome, default_data_home


def test_hearth_home_wins_then_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEARTH_HOME", str(tmp_path / "explicit"))
    assert default_data_home() == tmp_path / "explicit"
    monkeypatch.delenv("HEARTH_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_home() == tmp_path / "xdg" / "hearth"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_data_home() == Path.home() / ".local" / "share" / "hearth"


def test_data_home_is_created_private_and_tightened(tmp_path: Path) -> None:
    home = DataHome(tmp_path / "a" / "home")
    assert home.mode() is None
    home.ensure()
    assert stat.S_IMODE(home.root.stat().st_mode) == 0o700
    home.root.chmod(0o755)
    home.ensure()
    assert home.mode() == 0o700


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_data_home_is_a_clear_error(tmp_path: Path) -> None:
    parent = tmp_path / "locked"
    parent.mkdir(mode=0o500)
    with pytest.raises(DataHomeError, match="cannot create data directory"):
        DataHome(parent / "home").ensure()


def test_data_home_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataHomeError) as caught:
        DataHome(blocker / "home").ensure()
    assert str(blocker / "home") in caught.value.message
    assert "HEARTH_HOME" in (caught.value.hint or "")


def test_missing_config_gives_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "none.toml", environ={}) == Config()


def test_config_round_trip_and_env_override(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(Config(models=[Path("/m/a.gguf")], llama=LlamaSettings(threads=3)), path)
    assert "threads = 3" in path.read_text()
    config = load_config(path, environ={"HEARTH_LLAMA__THREADS": "5", "HEARTH_MODEL_DIRS": "/x:/y"})
    assert config.llama.threads == 5
    assert config.model_dirs == [Path("/x"), Path("/y")]
    assert config.models == [Path("/m/a.gguf")]


def test_bad_config_value_names_file_key_value(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[llama]\ncontext_size = 12\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.message.startswith(f"{path}: invalid value for 'llama.context_size': 12")


def test_bad_env_value_names_the_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"environment .*'log_level': 'LOUD'"):
        load_config(tmp_path / "none.toml", environ={"HEARTH_LOG_LEVEL": "LOUD"})
