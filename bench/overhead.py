"""P2 — streaming overhead: tokens/s through Hearth's engine vs raw llama-cpp-python.

    .venv/bin/python bench/overhead.py [--model GGUF] [--runs 10] [--tokens 160] [--json]

Both sides stream the same reply from the same loaded model (one `llama_cpp.Llama`, so the same
weights, threads and memory), with the same prompt, sampling and seed, so they produce the very
same tokens (checked):

- **hearth**: `Engine.generate(...)` iterated, i.e. Hearth's own token loop with its UTF-8
  decoder, cancel check and perf counters;
- **raw**: `Llama.create_completion(prompt, stream=True, **same sampling)` iterated.

The runs alternate (hearth, raw, raw, hearth, …) so drift in the machine's load hits both alike,
and each starts from an empty KV cache. Speed is generated tokens per second from the first
streamed piece to the last (the prompt's evaluation is the same work on both sides and is left
out). The ratio is hearth's median over raw's median. Goal: ≥ 0.97. The same ratio in CPU
time (all of the process's threads) is printed too: on a machine shared with other work, wall
time swings with the neighbours' load while CPU time per token mostly does not.

Without --model it uses its own random-weight ~105M model (`bench/bench_model.py`), big enough
that llama.cpp's work, not Python's, sets the pace. With --json the last line is one JSON object:
{"ratio", "hearth_tok_s", "raw_tok_s", "cpu_ratio", "runs", "tokens", "model", "threads",
"load_avg"}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_model import bench_model
from runtime.companion import GenerationSettings
from runtime.engine import Engine, EngineConfig, sampling_arguments

PROMPT = [
    {"role": "system", "content": "You are Mira, who keeps the lighthouse. Be kind and brief."},
    {"role": "user", "content": "Good evening! Tell me about your day at the lighthouse."},
]


Run = tuple[str, int, float, float]
"""(text, pieces, wall seconds, CPU seconds), times from the first piece to the last."""


def timed(stream) -> Run:
    """Consume a stream of text pieces, timing it from the first piece to the last."""
    pieces: list[str] = []
    first = last = first_cpu = last_cpu = 0.0
    for piece in stream:
        last, last_cpu = time.perf_counter(), time.process_time()
        if not pieces:
            first, first_cpu = last, last_cpu
        pieces.append(piece)
    return "".join(pieces), len(pieces), last - first, last_cpu - first_cpu


def hearth_run(engine: Engine, tokens: list[int], sampling: dict) -> Run:
    engine.reset()
    generation = engine.generate(tokens, sampling=sampling)
    text, _, seconds, cpu = timed(generation)
    return text, generation.stats.completion_tokens, seconds, cpu


def raw_run(engine: Engine, tokens: list[int], sampling: dict) -> Run:
    engine.reset()
    stream = engine.llama.create_completion(tokens, stream=True, **sampling)
    return timed(chunk["choices"][0]["text"] for chunk in stream)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="P2: streaming tokens/s, Hearth vs raw.")
    parser.add_argument("--model", type=Path, help="a chat GGUF (default: the bench model)")
    parser.add_argument("--runs", type=int, default=10, help="runs per side (default 10)")
    parser.add_argument("--tokens", type=int, default=160, help="tokens per reply")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    model = args.model or bench_model()
    engine = Engine.load(EngineConfig(model=model, context_size=2048, threads=args.threads))
    settings = GenerationSettings(temperature=0.8, seed=1234, max_tokens=args.tokens)
    sampling = sampling_arguments(settings)
    tokens = engine.tokenize(engine.render(PROMPT))
    rows: list[tuple[str, int, float, float]] = []
    try:
        raw_run(engine, tokens, sampling)  # warm-up: page the weights in
        for index in range(args.runs):
            order = ("hearth", "raw") if index % 2 == 0 else ("raw", "hearth")
            texts = {}
            for side in order:
                run = hearth_run if side == "hearth" else raw_run
                text, count, seconds, cpu = run(engine, tokens, sampling)
                texts[side] = text
                rows.append((side, count, seconds, cpu))
            if texts["hearth"] != texts["raw"]:
                raise SystemExit("the two sides generated different text: not comparable")
    finally:
        engine.close()
    count = next(count for side, count, _, _ in rows if side == "hearth")
    # Speed between the first piece and the last: count - 1 tokens.
    speeds = {
        side: [(count - 1) / seconds for name, _, seconds, _ in rows if name == side]
        for side in ("hearth", "raw")
    }
    cpu = {
        side: statistics.median([(count - 1) / used for name, _, _, used in rows if name == side])
        for side in ("hearth", "raw")
    }
    hearth, raw = statistics.median(speeds["hearth"]), statistics.median(speeds["raw"])
    ratio, cpu_ratio = hearth / raw, cpu["hearth"] / cpu["raw"]
    print(f"P2 streaming overhead — {model.name}, {count} tokens per reply, {args.runs} runs each, "
          f"{args.threads} threads")  # fmt: skip
    print(f"{'run':>4} {'hearth tok/s':>13} {'raw tok/s':>10}")
    for index in range(args.runs):
        print(f"{index + 1:>4} {speeds['hearth'][index]:>13.1f} {speeds['raw'][index]:>10.1f}")
    print(f"median: hearth {hearth:.1f} tok/s, raw {raw:.1f} tok/s")
    print(f"ratio hearth / raw: {ratio:.3f} (goal ≥ 0.97); in CPU time: {cpu_ratio:.3f}")
    load = [round(value, 2) for value in os.getloadavg()]
    print(f"load average: {load}")
    if args.json:
        result = {
            "ratio": round(ratio, 4),
            "hearth_tok_s": round(hearth, 2),
            "raw_tok_s": round(raw, 2),
            "cpu_ratio": round(cpu_ratio, 4),
            "runs": args.runs,
            "tokens": count,
            "model": str(model),
            "threads": args.threads,
            "load_avg": load,
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
