"""`hearth train dataset` end to end: import a fixture export, build, check files and output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.companions import CompanionRegistry
from runtime.paths import DataHome
from tests.training import dataset_fixtures as fx
from training.layout import TrainingPaths


@pytest.fixture
def mira(isolated_home: Path, tmp_path: Path):
    fx.import_fixture(isolated_home, tmp_path)
    return CompanionRegistry(DataHome.resolve(isolated_home)).resolve(fx.COMPANION)


def test_json_output_is_the_stats_file_and_uses_the_chat_model(run_cli, mira, tiny_models) -> None:
    edited = run_cli("companion", "edit", "Mira", "--model", str(tiny_models.gguf_f16))
    assert edited.exit_code == 0, edited.output
    result = run_cli("train", "dataset", "--max-length", "256", "--eval-share", "0.2", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    folder = TrainingPaths(mira.paths).dataset_dir
    assert stats["out"] == str(folder)
    assert stats["tokenizer"] == f"gguf:{tiny_models.gguf_f16}"
    assert json.loads((folder / "stats.json").read_text(encoding="utf-8")) == stats
    assert sorted(p.name for p in folder.iterdir()) == [
        "eval.jsonl",
        "pairs.jsonl",
        "stats.json",
        "train.jsonl",
    ]
    lines = (folder / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == stats["train_examples"] > 0
    assert stats["conversations"] == {"train": 5, "eval": 2}


def test_table_output_and_options(run_cli, mira, tiny_models, tmp_path: Path) -> None:
    patterns = tmp_path / "patterns.txt"
    patterns.write_text("smell of it\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        "train", "dataset", "--companion", "mira", "--tokenizer", str(tiny_models.gguf_f16),
        "--max-length", "256", "--patterns", str(patterns), "--no-default-patterns",
        "--model-filter", "gpt-4*", "--scrub-pii", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for heading in ("Dataset", "Window lengths", "Filtered", "pii: phone"):
        assert heading in result.stdout
    assert f"written to {out}" in result.stdout
    assert "languages: en 100%" in result.stdout
    text = (out / "train.jsonl").read_text(encoding="utf-8")
    assert "smell of it" not in text
    assert json.dumps(fx.DISCLAIMER)[1:-1] in text  # the defaults were not used
    assert not TrainingPaths(mira.paths).dataset_dir.exists()


def test_usage_errors_write_nothing(run_cli, mira, tiny_models, tmp_path: Path) -> None:
    folder = TrainingPaths(mira.paths).dataset_dir
    gguf = str(tiny_models.gguf_f16)
    no_model = run_cli("train", "dataset")
    assert no_model.exit_code == 2
    assert no_model.stderr.startswith("error: no tokenizer to count tokens with: Mira has no chat")
    assert "hint: pass --tokenizer PATH" in no_model.stderr
    assert "hearth companion edit mira --model FILE.gguf" in no_model.stderr
    unknown = run_cli("train", "dataset", "--companion", "Nobody", "--tokenizer", gguf)
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("error: no companion named 'Nobody' (known: mira)\n")
    share = run_cli("train", "dataset", "--eval-share", "1.5", "--tokenizer", gguf)
    assert share.exit_code == 2
    assert share.stderr == (
        "error: --eval-share must be at least 0 and below 1, got 1.5\nhint: e.g. 0.1\n"
    )
    since = run_cli("train", "dataset", "--since", "last tuesday", "--tokenizer", gguf)
    assert since.exit_code == 2
    assert since.stderr.startswith("error: --since: 'last tuesday' is not a date\n")
    missing = run_cli("train", "dataset", "--tokenizer", str(tmp_path / "nope"))
    assert missing.exit_code == 2
    assert missing.stderr.startswith(f"error: --tokenizer: {tmp_path / 'nope'} does not exist\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("[\n", encoding="utf-8")
    pattern = run_cli("train", "dataset", "--patterns", str(bad), "--tokenizer", gguf)
    assert pattern.exit_code == 2
    assert pattern.stderr.startswith(f"error: {bad}:1: invalid regular expression '['")
    tiny = run_cli("train", "dataset", "--max-length", "64", "--tokenizer", gguf)
    assert tiny.exit_code == 2
    assert "error: the persona alone is" in tiny.stderr
    assert not folder.exists()


def test_companion_without_conversations(run_cli, tiny_models) -> None:
    assert run_cli("companion", "new", "Solo").exit_code == 0
    result = run_cli("train", "dataset", "--tokenizer", str(tiny_models.gguf_f16))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: Solo has no conversations yet\n")


def test_the_last_runs_base_model_is_the_default_tokenizer(mira, tiny_models) -> None:
    from training.dataset.tokens import run_base

    assert run_base(mira) is None
    run = TrainingPaths(mira.paths).new_run_dir()
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"base": str(tiny_models.hf_dir)}))
    assert run_base(mira) == tiny_models.hf_dir
