"""Test-wide fixtures: every test gets its own empty data home; sockets are blocked.

Outbound sockets are blocked for the whole suite by pytest-socket (`--disable-socket` in
pyproject's addopts); a test that needs loopback says so with `allow_hosts`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

# Session-scoped tiny real models (tokenizer → Llama → GGUF f16/Q4_K_M), cached on disk.
pytest_plugins = ["tests.fixtures.tiny_models", "tests.fixtures.tiny_adapter"]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HEARTH_HOME (not yet created) and XDG dirs inside the test's tmp dir."""
    home = tmp_path / "hearth-home"
    monkeypatch.setenv("HEARTH_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    for name in ("HEARTH_HF_ENDPOINT", "HEARTH_DEFAULT_MODEL", "HEARTH_MODEL_DIRS", "EDITOR"):
        monkeypatch.delenv(name, raising=False)
    # Models in the developer's checkout (./models) must not leak into tests that list models.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("runtime.models.discovery.checkout_models_dir", lambda: None)
    return home


@pytest.fixture
def run_cli():
    """Invoke `hearth ARGS…` in-process; returns click's Result (stdout, stderr, exit code)."""
    from runtime.cli import cli

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, prog_name="hearth")

    return invoke
