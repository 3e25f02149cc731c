"""The whole tuning path as a user runs it, one command per step, with real components:

    hearth import export.zip  →  hearth train dataset  →  hearth train run  →  hearth train export
    →  hearth chat --plain (now through the adapter)  →  hearth train eval

Each step's details are proven in its own test file; this one proves the steps fit together
(the files one step writes are what the next one reads) and that the companion ends up talking
through the adapter it was tuned into.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from runtime.companions import CompanionRegistry
from runtime.engine import read_adapter_manifest
from runtime.paths import DataHome
from tests.training import dataset_fixtures as fx
from training.layout import TrainingPaths

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def one_thread():
    """Two shared cores: one torch thread is several times faster than two fighting."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_import_dataset_train_export_chat_eval(run_cli, isolated_home: Path, tmp_path, tiny_models):
    fx.import_fixture(isolated_home, tmp_path)
    ok(run_cli("companion", "edit", fx.COMPANION, "--model", str(tiny_models.gguf_f16)))
    entry = CompanionRegistry(DataHome.resolve(isolated_home)).resolve(fx.COMPANION)
    paths = TrainingPaths(entry.paths)

    stats = json.loads(ok(run_cli("train", "dataset", "--max-length", "256", "--json")))
    assert stats["train_examples"] > 0 and stats["eval_examples"] > 0

    config = tmp_path / "quick.toml"
    config.write_text("learning_rate = 0.003\neval_steps = 4\nmax_length = 256\n")
    train = ("train", "run", "--base", str(tiny_models.hf_dir), "--preset", "cpu-tiny",
             "--config", str(config), "--max-steps", "12", "--json")  # fmt: skip
    summary = json.loads(ok(run_cli(*train)))
    run_dir = paths.latest_run()
    assert summary["steps"] == 12
    assert summary["eval_loss_end"] < summary["eval_loss_start"]

    exported = json.loads(ok(run_cli("train", "export", "--json")))
    adapter = Path(exported["adapter"])
    assert exported["registered"] is True
    assert adapter == paths.adapters_dir / f"{run_dir.name}.gguf" and adapter.is_file()
    assert read_adapter_manifest(adapter) is not None
    shown = json.loads(ok(run_cli("companion", "show", fx.COMPANION, "--json")))
    assert shown["adapter"] == str(adapter)

    chat = run_cli("chat", "--plain", "--new", input="Good morning Mira!\n")
    assert chat.exit_code == 0, chat.output
    assert chat.stdout.startswith(f"{fx.COMPANION}: ")

    report = json.loads(ok(run_cli("train", "eval", "--json")))
    assert report["examples"] == stats["eval_examples"]
    assert report["tuned_eval_loss"] < report["base_eval_loss"]
