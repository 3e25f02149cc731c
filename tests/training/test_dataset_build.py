"""The dataset builder on a fixture ChatGPT export (imported for real), counting with the tiny
model's Hugging Face tokenizer and checking every window against it independently."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.paths import DataHome
from runtime.prompt.persona import persona_text
from runtime.store import TranscriptStore
from tests.fixtures.exports.chatgpt import START
from tests.training import dataset_fixtures as fx
from training.dataset import DatasetOptions, build_dataset
from training.dataset.tokens import HfCounter, open_counter

MAX_LENGTH = 256
CONTRACT_KEYS = {
    "train_examples", "eval_examples", "train_tokens", "eval_tokens", "trained_tokens",
    "conversations", "length_histogram", "languages", "filtered", "pairs", "out",
}  # fmt: skip


@dataclass
class Built:
    stats: dict[str, Any]
    train: list[dict[str, Any]]
    eval: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    out: Path

    @property
    def examples(self) -> list[dict[str, Any]]:
        return self.train + self.eval

    def text(self) -> str:
        return "".join(
            (self.out / name).read_text(encoding="utf-8")
            for name in ("train.jsonl", "eval.jsonl", "pairs.jsonl")
        )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def hf_counter(tiny_models) -> HfCounter:
    return HfCounter(tiny_models.hf_dir)


@pytest.fixture(scope="module")
def hf_tokenizer(tiny_models):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_models.hf_dir))


@pytest.fixture(scope="module")
def mira(tmp_path_factory) -> CompanionEntry:
    root = tmp_path_factory.mktemp("dataset-home")
    fx.import_fixture(root / "home", root)
    return CompanionRegistry(DataHome.resolve(root / "home")).resolve(fx.COMPANION)


@pytest.fixture(scope="module")
def session_ids(mira) -> dict[str, int]:
    with TranscriptStore.open(mira.paths.transcript) as store:
        return {s.source_id: s.id for s in store.list_sessions()}


def build(entry: CompanionEntry, counter, out: Path, **options: Any) -> Built:
    options.setdefault("max_length", MAX_LENGTH)
    with TranscriptStore.open(entry.paths.transcript) as store:
        stats = build_dataset(store, entry.companion, DatasetOptions(**options), counter, out)
    return Built(
        stats,
        read_jsonl(out / "train.jsonl"),
        read_jsonl(out / "eval.jsonl"),
        read_jsonl(out / "pairs.jsonl"),
        out,
    )


@pytest.fixture(scope="module")
def built(mira, hf_counter, tmp_path_factory) -> Built:
    out = tmp_path_factory.mktemp("dataset")
    return build(mira, hf_counter, out, model_filter=("gpt-4o",), scrub_pii=True, eval_share=0.2)


def _trained(example: dict[str, Any]) -> list[str]:
    return [m["content"] for m in example["messages"] if m.get("weight") == 1]


def _context(example: dict[str, Any]) -> list[str]:
    return [m["content"] for m in example["messages"] if m.get("weight") == 0]


def test_windows_fit_max_length_and_start_on_a_user_turn(built, mira, hf_tokenizer) -> None:
    system = persona_text(mira.companion.persona, user="User")
    lengths = []
    for example in built.examples:
        messages = example["messages"]
        assert messages[0] == {"role": "system", "content": system}
        roles = [m["role"] for m in messages[1:]]
        assert roles == ["user", "assistant"] * (len(roles) // 2)
        assert messages[-1]["weight"] == 1
        assert all(("weight" in m) == (m["role"] == "assistant") for m in messages)
        tokens = len(hf_tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False))
        assert tokens <= MAX_LENGTH
        lengths.append(tokens)
        assert datetime.fromisoformat(example["created_at"]).tzinfo is not None
        assert example["source"] == "chatgpt"
    assert built.stats["train_tokens"] + built.stats["eval_tokens"] == sum(lengths)
    assert max(lengths) > MAX_LENGTH // 2  # windows are filled, not one exchange each
    long_windows = [e for e in built.train if "Question number" in e["messages"][1]["content"]]
    assert len(long_windows) > 5


def test_every_reply_of_the_long_chat_is_trained_on_exactly_once(built) -> None:
    trained = Counter(c for e in built.examples for c in _trained(e) if "On day" in c)
    assert len(trained) == fx.LONG_EXCHANGES
    assert set(trained.values()) == {1}
    # Windows after the first repeat the previous exchanges as context.
    long_windows = [e for e in built.train if "Question number" in e["messages"][1]["content"]]
    assert all(_context(e) for e in long_windows[1:])


def test_model_filter_keeps_other_models_as_context_only(built, mira, hf_counter, tmp_path) -> None:
    trained = [c for e in built.examples for c in _trained(e)]
    context = [c for e in built.examples for c in _context(e)]
    assert fx.GPT4_REPLY not in trained
    assert fx.GPT4_REPLY in context
    assert not any("It cost" in c for c in trained)
    assert built.stats["filtered"]["model_filter"] == 2
    unfiltered = build(mira, hf_counter, tmp_path / "all", eval_share=0.2)
    assert fx.GPT4_REPLY in [c for e in unfiltered.examples for c in _trained(e)]
    assert unfiltered.stats["filtered"]["model_filter"] == 0


def test_no_conversation_is_on_both_sides_and_eval_is_the_latest(built, session_ids) -> None:
    train_ids = {e["session_id"] for e in built.train}
    eval_ids = {e["session_id"] for e in built.eval}
    assert not train_ids & eval_ids
    assert eval_ids == {session_ids["late-1"], session_ids["late-2"]}
    assert built.stats["conversations"] == {"train": 5, "eval": 2}
    assert built.stats["eval_examples"] == len(built.eval) == 2
    assert built.stats["train_examples"] == len(built.train)


def test_boilerplate_and_personal_data_are_removed(built) -> None:
    text = built.text()
    for gone in (fx.DISCLAIMER, fx.REFUSAL, fx.REFUSED_REQUEST, fx.EMAIL, *fx.PHONES):
        assert json.dumps(gone)[1:-1] not in text, gone
    assert "[email]" in text and "[phone]" in text
    assert "Noted.\\nBut I love the smell of it.\\nMine is [phone]." in text
    for kept in fx.KEPT_DATES:
        assert kept in text
    filtered = built.stats["filtered"]
    assert filtered["boilerplate_lines"] == 2
    assert filtered["empty"] == 1
    assert filtered["pii"] == {"email": 1, "phone": 3}
    assert filtered["duplicates"] == 1


def test_duplicate_exchange_is_trained_once(built, session_ids) -> None:
    greeting = "Good morning! Shall we have tea?"
    trained = [(e["session_id"], c) for e in built.examples for c in _trained(e)]
    assert trained.count((session_ids["tea"], greeting)) == 1
    assert (session_ids["copy"], greeting) not in trained
    assert (session_ids["copy"], "Tell me everything.") in trained


def test_regenerated_replies_make_a_preference_pair(built, mira, session_ids) -> None:
    assert built.stats["pairs"] == 1
    (pair,) = built.pairs
    assert pair["chosen"] == fx.KEPT_REPLY
    assert pair["rejected"] == list(fx.REJECTED)
    assert pair["session_id"] == session_ids["regen"]
    assert pair["split"] == "train"
    system = persona_text(mira.companion.persona, user="User")
    assert pair["prompt"] == [
        {"role": "system", "content": system},
        {"role": "user", "content": "Which tea do you like best?"},
    ]
    # Only the kept reply is trained on.
    trained = [c for e in built.examples for c in _trained(e)]
    assert fx.KEPT_REPLY in trained and fx.REJECTED[0] not in trained


def test_stats_report(built) -> None:
    stats = built.stats
    assert set(stats) >= CONTRACT_KEYS
    assert json.loads((built.out / "stats.json").read_text(encoding="utf-8")) == stats
    assert sum(stats["length_histogram"].values()) == len(built.examples)
    assert list(stats["length_histogram"]) == ["<=128", "<=256"]
    assert stats["languages"] == {"en": 1.0}
    assert 0 < stats["trained_tokens"] < stats["train_tokens"]
    assert stats["out"] == str(built.out)
    assert stats["tokenizer"].startswith("hf:")


def test_cap_per_conversation_is_deterministic(mira, hf_counter, tmp_path) -> None:
    first = build(mira, hf_counter, tmp_path / "a", max_per_conversation=3, eval_share=0.2)
    build(mira, hf_counter, tmp_path / "b", max_per_conversation=3, eval_share=0.2)
    per_session = Counter(e["session_id"] for e in first.train)
    assert max(per_session.values()) == 3
    assert first.stats["filtered"]["per_conversation_cap"] > 0
    assert (tmp_path / "a" / "train.jsonl").read_bytes() == (
        tmp_path / "b" / "train.jsonl"
    ).read_bytes()


def test_since_leaves_out_older_conversations(mira, hf_counter, tmp_path, session_ids) -> None:
    since = datetime.fromtimestamp(START + 5 * fx.DAY, UTC)
    result = build(mira, hf_counter, tmp_path / "since", since=since, eval_share=0.2)
    assert {e["session_id"] for e in result.examples} == {
        session_ids["late-1"],
        session_ids["late-2"],
    }
    assert result.stats["conversations"] == {"train": 1, "eval": 1}
    assert result.stats["filtered"]["before_since"] > 0


def test_a_tokenizer_json_means_its_folder(tiny_models, hf_counter) -> None:
    counter = open_counter(tiny_models.tokenizer_json)
    assert counter.description == f"hf:{tiny_models.hf_dir}"
    assert counter.count_text("hello there") == hf_counter.count_text("hello there") > 0
