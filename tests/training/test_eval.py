"""`hearth train eval`: held-out loss of base vs tuned on the companion's trained reply tokens."""

from __future__ import annotations

import json
import math

import pytest

from runtime.errors import HearthError
from tests.training.test_export import make_companion, make_run, write_eval
from training.evaluate import IGNORE, trained_labels, trained_spans

EXAMPLES = [
    {
        "session_id": "s1",
        "messages": [
            {"role": "system", "content": "You are Hearth, a kind companion."},
            {"role": "user", "content": "Hello there!"},
            {"role": "assistant", "content": "Hi! How are you?", "weight": 0},
            {"role": "user", "content": "Good night."},
            {"role": "assistant", "content": "Sleep well!", "weight": 1},
        ],
    },
    {
        "session_id": "s2",
        "messages": [
            {"role": "user", "content": "Apa kabar?"},
            {"role": "assistant", "content": "Baik, terima kasih!"},
        ],
    },
]


def chatml(messages, generation):
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return text + ("<|im_start|>assistant\n" if generation else "")


def test_only_weighted_replies_and_their_end_of_turn_are_trained():
    text, spans = trained_spans(chatml, EXAMPLES[0]["messages"])
    assert [text[a:b] for a, b in spans] == ["Sleep well!<|im_end|>"]


@pytest.mark.slow
def test_labels_through_the_real_tokenizer(tiny_models):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_models.hf_dir)
    ids, labels = trained_labels(tokenizer, EXAMPLES[0]["messages"], max_length=512)
    assert tokenizer.decode([t for t in labels if t != IGNORE]) == "Sleep well!<|im_end|>"
    assert len(ids) == len(labels)
    short_ids, short_labels = trained_labels(tokenizer, EXAMPLES[0]["messages"], max_length=5)
    assert short_ids == ids[:5] and set(short_labels) == {IGNORE}


@pytest.mark.slow
def test_eval_reports_both_losses(tiny_models, tiny_adapters, run_cli):
    entry = make_companion(tiny_models.gguf_f16)
    make_run(entry, tiny_models.hf_dir, tiny_adapters.peft_dir)
    write_eval(entry, EXAMPLES)
    result = run_cli("train", "eval", "--companion", "Mira", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["examples"] == 2 and report["run"] == "20260101-120000"
    assert report["tokens"] > 5
    assert report["base_eval_loss"] > 0 and report["tuned_eval_loss"] > 0
    assert report["base_eval_loss"] != report["tuned_eval_loss"]
    assert report["base_perplexity"] == pytest.approx(math.exp(report["base_eval_loss"]))
    assert report["adapter"].endswith("adapter")

    # The base loss is what transformers itself computes on the same labels.
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_models.hf_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_models.hf_dir, dtype=torch.float32)
    losses, counts = [], []
    for example in EXAMPLES:
        ids, labels = trained_labels(tokenizer, example["messages"], 512)
        with torch.inference_mode():
            out = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels]))
        losses.append(float(out.loss))
        counts.append(sum(1 for t in labels[1:] if t != IGNORE))
    expected = sum(loss * n for loss, n in zip(losses, counts, strict=True)) / sum(counts)
    assert report["base_eval_loss"] == pytest.approx(expected, rel=1e-4)

    people = run_cli("train", "eval", "--companion", "Mira", "--max-examples", "1")
    assert people.exit_code == 0, people.output
    assert "1 examples" in people.stdout and "tuned: loss" in people.stdout


def test_no_eval_data_is_a_clear_error(tiny_models, tiny_adapters, run_cli):
    entry = make_companion(tiny_models.gguf_f16)
    make_run(entry, tiny_models.hf_dir, tiny_adapters.peft_dir)
    result = run_cli("train", "eval", "--companion", "Mira")
    assert result.exit_code == 1
    assert "no held-out conversations" in result.stderr
    assert "hearth train dataset" in result.stderr


def test_a_template_that_rewrites_its_prefix_is_refused():
    def unstable(messages, generation):
        return f"{len(messages)}" + chatml(messages, generation)

    with pytest.raises(HearthError, match="renders the conversation differently"):
        trained_spans(unstable, EXAMPLES[1]["messages"])
