"""The benchmarks run end to end (on the tiny model, few turns) and keep their JSON contracts.

Wall times are never asserted: only that the figures exist and the token counts make sense.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def last_json(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, *args, "--json"], cwd=REPO_ROOT, capture_output=True, text=True,
        check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_turn_cost_compares_the_layouts(tiny_models):
    figures = last_json(
        "bench/turn_cost.py", "--model", str(tiny_models.gguf_q4_k_m), "--turns", "6",
        "--ctx", "1024",
    )  # fmt: skip
    assert {"hearth_ratio", "naive_ratio", "hearth_tokens_per_turn", "naive_tokens_per_turn"} <= (
        figures.keys()
    )
    hearth, naive = figures["hearth_tokens_per_turn"], figures["naive_tokens_per_turn"]
    assert len(hearth) == len(naive) == 6
    assert hearth[0] == figures["prompt_tokens_per_turn"][0]  # nothing cached at first
    assert hearth[-1] < figures["prompt_tokens_per_turn"][-1]
    assert sum(hearth[1:]) < sum(naive[1:])
    assert figures["naive_ratio"] > figures["hearth_ratio"]


def test_overhead_compares_the_same_tokens(tiny_models):
    figures = last_json(
        "bench/overhead.py", "--model", str(tiny_models.gguf_q4_k_m), "--runs", "2",
        "--tokens", "24",
    )  # fmt: skip
    assert {"ratio", "hearth_tok_s", "raw_tok_s"} <= figures.keys()
    assert figures["ratio"] > 0 and figures["tokens"] > 1
