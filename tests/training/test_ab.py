"""Blind A/B: prompts from held-out data, blind sides, recorded choices, win rate; the CLI."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest

from runtime.ab import (
    ABPrompt,
    Trial,
    ab_file,
    blind_trials,
    eval_file,
    load_prompts,
    read_choices,
    record_choice,
    summarize,
)
from runtime.errors import NotFoundError
from runtime.paths import CompanionPaths
from tests.training.test_eval import EXAMPLES
from tests.training.test_export import RUN, make_companion, make_run, write_eval
from training.layout import TrainingPaths


def test_paths_match_the_training_layout(tmp_path):
    paths = CompanionPaths(tmp_path / "mira")
    assert ab_file(paths) == TrainingPaths(paths).ab_file
    assert eval_file(paths) == TrainingPaths(paths).dataset_dir / "eval.jsonl"


def test_prompts_end_with_the_user_turn_before_a_trained_reply(tmp_path):
    path = tmp_path / "eval.jsonl"
    unanswered = {"messages": [{"role": "user", "content": "only me"}]}
    path.write_text("\n".join(json.dumps(e) for e in [*EXAMPLES, unanswered]) + "\n")
    prompts = sorted(load_prompts(path, 10), key=lambda p: p.session_id)
    assert [p.session_id for p in prompts] == ["s1", "s2"]
    assert prompts[0].user_text == "Good night."
    assert prompts[0].messages[2] == {"role": "assistant", "content": "Hi! How are you?"}
    assert [m["role"] for m in prompts[0].messages] == ["system", "user", "assistant", "user"]
    assert prompts[1].messages == [{"role": "user", "content": "Apa kabar?"}]
    assert len(load_prompts(path, 1)) == 1


def test_missing_or_unusable_eval_data(tmp_path):
    with pytest.raises(NotFoundError, match="no held-out conversations"):
        load_prompts(tmp_path / "eval.jsonl", 3)
    (tmp_path / "eval.jsonl").write_text(json.dumps({"messages": []}) + "\n")
    with pytest.raises(NotFoundError, match="no user turn answered"):
        load_prompts(tmp_path / "eval.jsonl", 3)


def test_blind_order_and_what_a_pick_means():
    prompt = ABPrompt("s1", [{"role": "user", "content": "hi"}])
    trials = blind_trials([prompt] * 40, seed=3)
    assert trials == blind_trials([prompt] * 40, seed=3)
    assert {t.tuned_was for t in trials} == {"A", "B"}
    a_is_tuned = Trial(prompt, "A")
    assert a_is_tuned.order("base", "tuned") == ("tuned", "base")
    assert Trial(prompt, "B").order("base", "tuned") == ("base", "tuned")
    assert [a_is_tuned.choice(k) for k in ("A", "B", "tie", "skip")] == [
        "tuned",
        "base",
        "tie",
        "skip",
    ]


def test_record_and_win_rate(tmp_path):
    path = tmp_path / "training" / "ab.jsonl"
    trial = Trial(ABPrompt("s9", [{"role": "user", "content": "secret words"}]), "B")
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    for choice in ("tuned", "tuned", "base", "tie", "skip"):
        record_choice(path, "r1", trial, choice, now=when)
    record_choice(path, "r2", trial, "base", now=when)
    assert "secret" not in path.read_text()
    assert read_choices(path, "r1")[0] == {
        "at": "2026-01-02T03:04:05+00:00",
        "run": "r1",
        "prompt_session_id": "s9",
        "tuned_was": "B",
        "choice": "tuned",
    }
    report = summarize(r["choice"] for r in read_choices(path, "r1"))
    assert report.to_dict() == {
        "trials": 4,
        "tuned_wins": 2,
        "base_wins": 1,
        "ties": 1,
        "win_rate": 0.625,
    }
    assert report.summary() == "tuned won 2, base won 1, 1 ties in 4 trials: win rate 62%"
    assert summarize([]).win_rate is None
    assert len(read_choices(path)) == 6


@pytest.mark.slow
def test_ab_in_the_terminal(tiny_models, tiny_adapters, run_cli):
    entry = make_companion(tiny_models.gguf_q4_k_m)
    make_run(entry, tiny_models.hf_dir, tiny_adapters.peft_dir)
    write_eval(entry, EXAMPLES)
    missing = run_cli("train", "ab", "--companion", "Mira")
    assert missing.exit_code == 1
    assert "has no exported adapter" in missing.stderr and "hearth train export" in missing.stderr
    # What `hearth train export` writes (its own tests convert for real).
    adapters = entry.paths.adapters_dir
    adapters.mkdir()
    shutil.copy(tiny_adapters.gguf, adapters / f"{RUN}.gguf")
    shutil.copy(str(tiny_adapters.gguf) + ".json", adapters / f"{RUN}.gguf.json")

    result = run_cli(
        "train", "ab", "--companion", "Mira", "--n", "2", "--seed", "1", input="1\n=\n"
    )
    assert result.exit_code == 0, result.output
    assert "── 1/2 ── you: " in result.stdout and "[1] A: " in result.stdout
    records = read_choices(TrainingPaths(entry.paths).ab_file)
    assert [r["choice"] for r in records][1] == "tie"
    assert records[0]["choice"] == ("tuned" if records[0]["tuned_was"] == "A" else "base")
    assert {r["run"] for r in records} == {RUN}

    report = run_cli("train", "ab", "--companion", "Mira", "--report", "--json")
    assert report.exit_code == 0, report.output
    data = json.loads(report.stdout)
    assert data["trials"] == 2 and data["ties"] == 1

    quit_early = run_cli("train", "ab", "--companion", "Mira", "--n", "2", input="q\n")
    assert quit_early.exit_code == 0
    assert len(read_choices(TrainingPaths(entry.paths).ab_file)) == 2
