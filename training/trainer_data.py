"""The dataset `hearth train dataset` wrote, tokenized for trl: input ids + a loss mask.

Each line is `{"messages": [{"role", "content", "weight"?}], …}`. The loss falls on assistant
messages whose weight is 1 (a missing weight is 1); weight-0 assistant messages are context.
The chat template's `{% generation %}` blocks say where each assistant message's tokens are; the
n-th block belongs to the n-th assistant message, so a weight-0 message's block is left out of the
mask. SFTTrainer turns `assistant_masks` into labels (-100 elsewhere) and truncates to
`max_length`, dropping windows left with nothing to learn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.errors import HearthError, NotFoundError

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import PreTrainedTokenizerBase

DATASET_HINT = "build it first: hearth train dataset --companion NAME"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The examples in one JSONL file; a missing or broken file is a HearthError."""
    if not path.is_file():
        raise NotFoundError(f"no training data at {path}", hint=DATASET_HINT)
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                example = json.loads(line)
            except json.JSONDecodeError as exc:
                raise HearthError(
                    f"{path}:{number} is not JSON ({exc.msg})", hint=DATASET_HINT
                ) from exc
            if not isinstance(example, dict) or not isinstance(example.get("messages"), list):
                raise HearthError(f"{path}:{number} has no 'messages' list", hint=DATASET_HINT)
            examples.append(example)
    if not examples:
        raise HearthError(f"{path} holds no examples", hint=DATASET_HINT)
    return examples


def encode(
    tokenizer: PreTrainedTokenizerBase, template: str, messages: list[dict[str, Any]]
) -> dict[str, list[int]]:
    """`input_ids` and `assistant_masks` (1 = trained on) of one conversation."""
    from transformers.utils.chat_template_utils import render_jinja_template

    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    trained = [m.get("weight", 1) != 0 for m in messages if m["role"] == "assistant"]
    rendered, spans = render_jinja_template(
        conversations=[plain],
        chat_template=template,
        return_assistant_tokens_mask=True,
        **tokenizer.special_tokens_map,
    )
    text, blocks = rendered[0], spans[0]
    if len(blocks) != len(trained):
        raise HearthError(
            f"the chat template marked {len(blocks)} assistant blocks for {len(trained)} "
            "assistant messages",
            hint="use a template that renders every assistant message once: --chat-template FILE",
        )
    encoded = tokenizer(text, add_special_tokens=False)
    ids = encoded["input_ids"]
    mask = [0] * len(ids)
    for (start, end), keep in zip(blocks, trained, strict=True):
        first = encoded.char_to_token(start)
        last = encoded.char_to_token(end - 1)
        if not keep or first is None or end <= start:
            continue
        for index in range(first, (last if last is not None else len(ids) - 1) + 1):
            mask[index] = 1
    return {"input_ids": ids, "assistant_masks": mask}


def load_split(
    path: Path, tokenizer: PreTrainedTokenizerBase, template: str
) -> tuple[Dataset, int]:
    """One split as a tokenized Dataset, and how many of its tokens are trained on."""
    from datasets import Dataset

    rows = [encode(tokenizer, template, example["messages"]) for example in read_jsonl(path)]
    rows = [row for row in rows if any(row["assistant_masks"])]
    if not rows:
        raise HearthError(f"{path} has no assistant message to learn from", hint=DATASET_HINT)
    trained_tokens = sum(sum(row["assistant_masks"]) for row in rows)
    return Dataset.from_list(rows), trained_tokens
