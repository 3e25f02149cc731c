"""Held-out loss of the base model and of base + adapter, on the companion's own replies.

    hearth train eval --companion Mira --json

The loss is the mean token cross-entropy over the *trained* tokens of `dataset/eval.jsonl`: the
assistant messages whose `weight` is not 0, masked exactly as training masks them
(`training.trainer_data.encode` with the run's `{% generation %}`-marked template). A template
Hearth has no marked version of falls back to `trained_labels` (each reply's text and
end-of-turn token, found by rendering the conversation's prefixes). Perplexity is exp(loss).
Both numbers come from one model: the base with the adapter switched off, then on.

The base is loaded in full precision from the run's base folder: float32 on CPU, its own
dtype (bf16/f16) on a GPU.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.errors import HearthError, NotFoundError
from runtime.heldout import read_heldout
from training.runs import TrainingRun

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

IGNORE = -100
"""Label of a token that is not trained (PyTorch's cross-entropy `ignore_index`)."""
DEFAULT_MAX_LENGTH = 2048


def load_eval_examples(path: Path, max_examples: int | None = None) -> list[list[dict[str, Any]]]:
    """The `messages` of each held-out example (at most `max_examples`)."""
    examples = []
    for messages in read_heldout(path, lambda record: record["messages"], "a training example"):
        examples.append(messages)
        if max_examples is not None and len(examples) >= max_examples:
            break
    if not examples:
        raise NotFoundError(f"{path} is empty", hint="rebuild it with `hearth train dataset`")
    return examples


def _trained(message: dict[str, Any]) -> bool:
    return message.get("role") == "assistant" and message.get("weight", 1) != 0


def trained_spans(
    render: Callable[[list[dict[str, str]], bool], str], messages: Sequence[dict[str, Any]]
) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of its trained assistant replies.

    `render(messages, add_generation_prompt)` is the chat template. A reply's span is what the
    conversation up to it adds after the assistant header: its text and end-of-turn token
    (trailing whitespace after that token is not trained). Works for any template whose
    renderings of a conversation's prefixes are prefixes of its full rendering.
    """
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    text = render(plain, False)
    spans = []
    for index, message in enumerate(messages):
        if not _trained(message):
            continue
        before = render(plain[:index], True)
        upto = render(plain[: index + 1], False).rstrip()
        if not (text.startswith(upto) and upto.startswith(before)):
            raise HearthError(
                "the chat template renders the conversation differently from its prefixes, so "
                "the replies' tokens cannot be found",
                hint="this model's template is not supported by `hearth train eval`",
            )
        spans.append((len(before), len(upto)))
    return text, spans


def trained_labels(
    tokenizer: PreTrainedTokenizerBase, messages: Sequence[dict[str, Any]], max_length: int
) -> tuple[list[int], list[int]]:
    """Token ids of the conversation and their labels: the id where trained, else IGNORE."""

    def render(conversation: list[dict[str, str]], generation: bool) -> str:
        if not conversation:
            return ""
        return tokenizer.apply_chat_template(
            conversation, tokenize=False, add_generation_prompt=generation
        )

    text, spans = trained_spans(render, messages)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = encoded["input_ids"][:max_length]
    labels = [
        token if any(start <= begin < end for start, end in spans) else IGNORE
        for token, (begin, _) in zip(ids, encoded["offset_mapping"], strict=False)
    ]
    return ids, labels


@dataclass(frozen=True)
class EvalReport:
    """Held-out loss of base and tuned over the same tokens."""

    run: str
    adapter: str
    examples: int
    tokens: int
    base_eval_loss: float
    tuned_eval_loss: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of `hearth train eval --json`."""
        return {
            "base_eval_loss": self.base_eval_loss,
            "tuned_eval_loss": self.tuned_eval_loss,
            "base_perplexity": math.exp(self.base_eval_loss),
            "tuned_perplexity": math.exp(self.tuned_eval_loss),
            "examples": self.examples,
            "tokens": self.tokens,
            "run": self.run,
            "adapter": self.adapter,
        }


def _encoder(
    run: TrainingRun, tokenizer: PreTrainedTokenizerBase, max_length: int
) -> Callable[[Sequence[dict[str, Any]]], tuple[list[int], list[int]]]:
    """Tokens and labels exactly as training masks them (`training.trainer_data.encode` with the
    run's marked template); `trained_labels` when no marked template is available."""
    from training.templates import marked_template
    from training.trainer_data import encode

    config_file = run.root / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
    override = config.get("chat_template") or None
    try:
        template, _ = marked_template(tokenizer, Path(override) if override else None)
    except HearthError:
        return lambda messages: trained_labels(tokenizer, messages, max_length)

    def training_encode(messages: Sequence[dict[str, Any]]) -> tuple[list[int], list[int]]:
        row = encode(tokenizer, template, list(messages))
        ids = row["input_ids"][:max_length]
        labels = [
            t if keep else IGNORE for t, keep in zip(ids, row["assistant_masks"], strict=False)
        ]
        return ids, labels

    return training_encode


def _max_length(run: TrainingRun, tokenizer: PreTrainedTokenizerBase) -> int:
    config_file = run.root / "config.json"
    if config_file.is_file():
        config = json.loads(config_file.read_text(encoding="utf-8"))
        for key in ("max_length", "max_seq_length"):
            value = config.get(key) or config.get("train", {}).get(key)
            if isinstance(value, int) and value > 0:
                return value
    return min(int(tokenizer.model_max_length or DEFAULT_MAX_LENGTH), DEFAULT_MAX_LENGTH)


def evaluate_run(
    run: TrainingRun,
    examples: Sequence[Sequence[dict[str, Any]]],
    *,
    progress: Callable[[int], None] | None = None,
) -> EvalReport:
    """Loss of the base and of base + the run's adapter on `examples` (see module docstring)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    from training.merge import merge_dtype

    transformers_logging.disable_progress_bar()
    has_tokenizer = (run.adapter / "tokenizer_config.json").is_file()
    tokenizer = AutoTokenizer.from_pretrained(run.adapter if has_tokenizer else run.base)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = getattr(torch, merge_dtype(run.base)) if device == "cuda" else torch.float32
    base = AutoModelForCausalLM.from_pretrained(run.base, dtype=dtype).to(device)
    model = PeftModel.from_pretrained(base, run.adapter).eval()
    max_length = _max_length(run, tokenizer)
    encode = _encoder(run, tokenizer, max_length)
    totals = {"base": 0.0, "tuned": 0.0}
    tokens = 0
    with torch.inference_mode():
        for index, messages in enumerate(examples, 1):
            ids, labels = encode(messages)
            targets = torch.tensor(labels[1:], device=device)
            counted = int((targets != IGNORE).sum())
            if counted:
                inputs = torch.tensor([ids], device=device)
                with model.disable_adapter():
                    totals["base"] += _loss_sum(model(input_ids=inputs).logits, targets)
                totals["tuned"] += _loss_sum(model(input_ids=inputs).logits, targets)
                tokens += counted
            if progress is not None:
                progress(index)
    if not tokens:
        raise HearthError(
            "the held-out conversations hold no trained reply tokens",
            hint="rebuild the dataset with `hearth train dataset`",
        )
    return EvalReport(
        run=run.name,
        adapter=str(run.adapter),
        examples=len(examples),
        tokens=tokens,
        base_eval_loss=totals["base"] / tokens,
        tuned_eval_loss=totals["tuned"] / tokens,
    )


def _loss_sum(logits: Any, targets: Any) -> float:
    """Summed cross-entropy of next-token predictions against `targets` (IGNORE skipped)."""
    import torch.nn.functional as F

    return float(
        F.cross_entropy(logits[0, :-1].float(), targets, ignore_index=IGNORE, reduction="sum")
    )
