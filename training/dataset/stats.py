"""The stats report (stats.json, and what `--json` prints): sizes, lengths, languages, filters.

- `*_examples`: windows written; `*_tokens`: their rendered lengths summed;
- `trained_tokens`: tokens of the weight-1 replies of train.jsonl (their text alone: what the
  loss is computed on, give or take each turn's end-of-turn token);
- `length_histogram`: windows (both splits) by rendered length, "<=N" buckets doubling from 128
  up to `--max-length`;
- `languages`: share of each language in the written turns (runtime.memory.language);
- `filtered`: what was left out or changed, and why (see `clean.FilterCounts`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runtime.memory.language import language_mix
from training.dataset.clean import FilterCounts
from training.dataset.windows import Window

FIRST_BUCKET = 128


def bucket_edges(max_length: int) -> list[int]:
    """Upper edges of the length buckets: 128, 256, … and finally `max_length`."""
    edges = []
    edge = FIRST_BUCKET
    while edge < max_length:
        edges.append(edge)
        edge *= 2
    edges.append(max_length)
    return edges


def length_histogram(lengths: Iterable[int], max_length: int) -> dict[str, int]:
    """How many windows fall in each "<=N" bucket (every bucket listed, in order)."""
    edges = bucket_edges(max_length)
    histogram = {f"<={edge}": 0 for edge in edges}
    for length in lengths:
        edge = next((e for e in edges if length <= e), edges[-1])
        histogram[f"<={edge}"] += 1
    return histogram


def languages(windows: Iterable[Window]) -> dict[str, float]:
    """Language shares of the user and assistant turns written (each text once)."""
    texts: set[str] = set()
    for window in windows:
        texts.update(str(m["content"]) for m in window.messages if m["role"] != "system")
    return language_mix(sorted(texts))


def report(
    train: list[Window],
    evaluation: list[Window],
    conversations: tuple[int, int],
    filtered: FilterCounts,
    pairs: int,
    *,
    max_length: int,
    out: str,
    tokenizer: str,
) -> dict[str, Any]:
    """The stats object (shape fixed: other `hearth train` steps and scripts read it)."""
    both = train + evaluation
    return {
        "train_examples": len(train),
        "eval_examples": len(evaluation),
        "train_tokens": sum(w.tokens for w in train),
        "eval_tokens": sum(w.tokens for w in evaluation),
        "trained_tokens": sum(w.trained_tokens for w in train),
        "conversations": {"train": conversations[0], "eval": conversations[1]},
        "length_histogram": length_histogram((w.tokens for w in both), max_length),
        "languages": languages(both),
        "filtered": filtered.to_json(),
        "pairs": pairs,
        "max_length": max_length,
        "tokenizer": tokenizer,
        "out": out,
    }
