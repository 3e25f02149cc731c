"""The training recipe on the tiny Llama (CPU): a real trl run, its outputs, resume, the CLI.

One 20-step run is shared by the module: the eval loss falls, every LoRA parameter changes and
no base weight does, the run folder has the contracted layout, and resuming from its step-10
checkpoint ends where the uninterrupted run ended.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from training.tiny_model import load_tiny_chats

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")
pytest.importorskip("trl")

REPLY = "Mira here, by the lighthouse. Tell me more."
SETTINGS = {
    "learning_rate": 3e-3, "batch_size": 4, "max_length": 128, "eval_steps": 10,
    "save_steps": 10, "logging_steps": 5, "warmup_ratio": 0.0, "lora_dropout": 0.0,
}  # fmt: skip


def write_dataset(folder: Path, train: int = 40, eval_: int = 8) -> Path:
    """Chats whose trained reply is always REPLY; the first exchange is weight-0 context."""
    chats = load_tiny_chats()
    folder.mkdir(parents=True, exist_ok=True)
    for name, count, offset in (("train", train, 0), ("eval", eval_, 500)):
        lines = []
        for index in range(count):
            first, second = (
                chats[(offset + 2 * index) % len(chats)],
                chats[(offset + 7 * index + 3) % len(chats)],
            )
            messages = [
                {"role": "system", "content": "You are Mira, a calm friend."},
                {"role": "user", "content": first["user"]},
                {"role": "assistant", "content": first["assistant"], "weight": 0},
                {"role": "user", "content": second["user"]},
                {"role": "assistant", "content": REPLY, "weight": 1},
            ]  # fmt: skip
            lines.append(
                json.dumps({"messages": messages, "session_id": index}, ensure_ascii=False)
            )
        (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Two shared cores: one torch thread is several times faster than two fighting."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class Snapshot:
    """A TrainerCallback that keeps every parameter before and after training."""

    def __new__(cls) -> Any:
        from transformers import TrainerCallback

        class _Snapshot(TrainerCallback):
            def __init__(self) -> None:
                self.before: dict[str, Any] = {}
                self.after: dict[str, Any] = {}

            def on_train_begin(self, args, state, control, model=None, **kwargs):
                self.before = {n: p.detach().clone() for n, p in model.named_parameters()}

            def on_train_end(self, args, state, control, model=None, **kwargs):
                self.after = {n: p.detach().clone() for n, p in model.named_parameters()}

        return _Snapshot()


def options(base: Path, data: Path, out: Path, **overrides: Any):
    from training.train import options_from

    config_file = out.parent / f"{out.name}-config.json"
    config_file.write_text(json.dumps(SETTINGS), encoding="utf-8")
    return options_from(
        base=str(base), data_dir=data, out_dir=out, preset="cpu-tiny", config_file=config_file,
        overrides={"max_steps": 20, **overrides},
    )  # fmt: skip


@pytest.fixture(scope="module")
def trained(tiny_models, tmp_path_factory):
    """One 20-step run: (summary, run folder, parameter snapshot, data folder)."""
    from training.train import train

    root = tmp_path_factory.mktemp("train")
    data = write_dataset(root / "data")
    snapshot = Snapshot()
    summary = train(options(tiny_models.hf_dir, data, root / "run"), callbacks=[snapshot])
    return summary, root / "run", snapshot, data


def test_eval_loss_falls(trained):
    summary, run_dir, _, _ = trained
    assert summary["steps"] == 20
    assert summary["eval_loss_end"] < 0.5 * summary["eval_loss_start"]
    evals = [m for m in read_metrics(run_dir) if "eval_loss" in m]
    assert [m["step"] for m in evals] == [0, 10, 20]


def test_every_lora_parameter_changes_and_no_base_weight(trained):
    _, _, snapshot, _ = trained
    lora = [name for name in snapshot.before if "lora_" in name]
    assert lora and len(lora) == len(snapshot.after) - len(
        [n for n in snapshot.after if "lora_" not in n]
    )
    for name, before in snapshot.before.items():
        changed = not torch.equal(before, snapshot.after[name])
        assert changed == ("lora_" in name), name


def test_run_folder_layout(trained):
    from training.presets import TrainConfig

    summary, run_dir, _, _ = trained
    config = json.loads((run_dir / "config.json").read_text())
    assert set(TrainConfig.model_fields) <= set(config)
    assert config["base"] == summary["base"] and config["learning_rate"] == 3e-3
    assert config["chat_template_origin"] == "own"
    run = json.loads((run_dir / "run.json").read_text())
    assert run == summary
    assert {"base", "preset", "steps", "train_loss", "eval_loss_start", "eval_loss_end",
            "adapter", "seconds"} <= set(run)  # fmt: skip
    adapter = Path(run["adapter"])
    assert (adapter / "adapter_model.safetensors").is_file()
    assert (adapter / "tokenizer.json").is_file()
    adapter_config = json.loads((adapter / "adapter_config.json").read_text())
    assert adapter_config["r"] == 8 and adapter_config["lora_alpha"] == 16
    assert not adapter_config["use_rslora"] and not adapter_config["use_dora"]
    assert (run_dir / "checkpoint-10").is_dir() and (run_dir / "checkpoint-20").is_dir()
    logged = [m for m in read_metrics(run_dir) if "loss" in m]
    assert logged[0]["step"] == 1 and all(
        {"step", "epoch", "loss", "learning_rate", "tokens_per_second"} <= set(m) for m in logged
    )
    assert REPLY not in (run_dir / "metrics.jsonl").read_text()


def test_resume_ends_where_the_uninterrupted_run_ended(trained, tiny_models, tmp_path):
    from safetensors.torch import load_file

    from training.train import options_from, train

    summary, run_dir, _, data = trained
    resumed = tmp_path / "run"
    shutil.copytree(run_dir, resumed)
    for name in ("checkpoint-20", "adapter", "run.json"):
        shutil.rmtree(resumed / name) if (resumed / name).is_dir() else (resumed / name).unlink()
    again = train(options_from(base=None, data_dir=data, out_dir=resumed, preset=None,
                               config_file=None, overrides={}, resume=True))  # fmt: skip
    assert again["resumed_from"] == str(resumed / "checkpoint-10")
    assert again["steps"] == 20
    assert again["eval_loss_end"] == pytest.approx(summary["eval_loss_end"], rel=1e-3)
    first = load_file(Path(summary["adapter"]) / "adapter_model.safetensors")
    second = load_file(resumed / "adapter" / "adapter_model.safetensors")
    assert first.keys() == second.keys()
    for name, tensor in first.items():
        torch.testing.assert_close(second[name], tensor, rtol=1e-3, atol=1e-5)


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def make_companion(run_cli) -> None:
    result = run_cli("companion", "new", "Mira")
    assert result.exit_code == 0, result.output


def test_cli_qlora_preset_trains_4bit_on_cpu_when_asked(
    run_cli, tiny_models, isolated_home, tmp_path
):
    from runtime.companions import CompanionRegistry
    from runtime.paths import DataHome
    from training.layout import TrainingPaths

    make_companion(run_cli)
    entry = CompanionRegistry(DataHome.resolve(isolated_home)).resolve("Mira")
    paths = TrainingPaths(entry.paths)
    write_dataset(paths.dataset_dir, train=8, eval_=4)
    config = tmp_path / "small.toml"
    config.write_text("batch_size = 4\ngrad_accum = 1\nmax_length = 128\neval_steps = 2\n")
    base = str(tiny_models.hf_dir)
    args = ("train", "run", "--companion", "Mira", "--base", base, "--preset", "12gb",
            "--config", str(config), "--max-steps", "2")  # fmt: skip
    refused = run_cli(*args)
    assert refused.exit_code == 1
    assert "needs a CUDA GPU" in refused.output and "--allow-cpu-fallback" in refused.output
    # bitsandbytes (in the train extra) runs NF4 and 8-bit AdamW on the CPU: real QLoRA, and
    # its adapter exports and loads in llama.cpp like any other.
    result = run_cli(*args, "--allow-cpu-fallback", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["steps"] == 2 and summary["quantization"] == "nf4"
    run_dir = paths.latest_run()
    config_saved = json.loads((run_dir / "config.json").read_text())
    assert config_saved["preset"] == "12gb" and config_saved["gradient_checkpointing"]
    assert config_saved["lora_r"] == 16 and config_saved["max_length"] == 128
    assert (config_saved["optim"], config_saved["dtype"]) == ("adamw_8bit", "float32")
    exported = run_cli("train", "export", "--companion", "Mira", "--base-gguf",
                       str(tiny_models.gguf_f16), "--json")  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert Path(json.loads(exported.stdout)["adapter"]).stat().st_size > 0


def test_cli_errors_have_hints(run_cli, tiny_models):
    make_companion(run_cli)
    missing = run_cli("train", "run", "--base", str(tiny_models.hf_dir), "--preset", "cpu-tiny")
    assert missing.exit_code == 1
    assert "no training data" in missing.output and "hearth train dataset" in missing.output
    bad_base = run_cli("train", "run", "--base", "/nowhere/model", "--preset", "cpu-tiny")
    assert bad_base.exit_code == 1 and "no model folder at /nowhere/model" in bad_base.output
    no_resume = run_cli("train", "run", "--resume")
    assert no_resume.exit_code == 1 and "hearth train run" in no_resume.output


def test_standalone_command_from_the_docstring(tiny_models, tmp_path):
    """`python -m training.train …` (the module docstring's command) trains and says so in JSON;
    a bad base is one line and a non-zero exit, with nothing written."""
    import os
    import subprocess
    import sys

    data = write_dataset(tmp_path / "data", train=4, eval_=2)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "training.train", "--base", str(tiny_models.hf_dir),
               "--data", str(data), "--out", str(out), "--preset", "cpu-tiny",
               "--max-steps", "2"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["steps"] == 2
    assert (out / "run.json").is_file() and (out / "adapter" / "adapter_config.json").is_file()

    command[command.index("--base") + 1] = str(tmp_path / "no-such-model")
    command[command.index("--out") + 1] = str(tmp_path / "failed")
    failed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert failed.returncode != 0
    assert failed.stderr.startswith("error: ") and "Traceback" not in failed.stderr
    assert not (tmp_path / "failed").exists()
