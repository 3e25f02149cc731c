"""P1 — turn cost: prompt tokens llama.cpp evaluates per turn, Hearth's layout vs a naive one.

    .venv/bin/python bench/turn_cost.py [--model GGUF] [--turns 60] [--json]

A scripted 60-turn conversation with retrieval on (four memories per turn from a list of 40
imported facts, keyword-ranked) runs twice on one model, side by side in one process:

- **Hearth**: the real chat path (`ChatSession` over a transcript store in a temporary
  directory, `PromptBuilder`, `Engine`): persona and core memories first, then the history,
  then the per-turn parts (memories, date and time) just before the newest user message;
- **naive**: the same persona, memories, time and history, but the memories and the time sit in
  the system prompt, as many chat front-ends do.

Each turn's count is llama.cpp's own (`llama_perf_context`, see `runtime.engine.generation`):
how many prompt tokens it actually evaluated, the rest coming from its KV cache. Replies are
generated (16 tokens each) so the history is real. Goal: Hearth's turn 60 / turn 2 ≤ 1.2, while
the naive layout re-evaluates the whole history every turn and grows with it.

Without --model the benchmark uses its own random-weight ~105M model (`bench/bench_model.py`);
token counts do not depend on the weights. The last line with --json is one JSON object:
{"hearth_ratio", "naive_ratio", "hearth_tokens_per_turn", "naive_tokens_per_turn", "turns",
"prompt_tokens_per_turn", "model", "n_ctx", "load_avg"}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_model import bench_model
from runtime.chat import ChatSession
from runtime.companion import Companion, CoreMemory, GenerationSettings, Persona
from runtime.engine import Engine, EngineConfig
from runtime.prompt.assemble import MEMORIES_HEADER, memory_line, time_line
from runtime.prompt.persona import system_sections, system_text
from runtime.retrieval import MemoryListRetriever, RetrievedMemory
from runtime.store import TranscriptStore

START = datetime(2025, 2, 14, 19, 0, tzinfo=UTC)
K = 4
TOPICS = [
    "the lighthouse", "green tea", "my sister in Busan", "the winter sea", "a long train ride",
    "my garden", "the old cat", "rainy mornings", "a song I like", "the city at night",
    "my first job", "the bakery on the corner", "a letter from home", "the summer festival",
    "my brother's wedding", "the book club", "a walk by the river", "my grandmother's soup",
    "the night shift", "a trip to the mountains",
]  # fmt: skip
OPENERS = [
    "Today I kept thinking about", "Do you remember when we talked about",
    "I was telling a friend about", "Something reminded me of", "I dreamt about",
]  # fmt: skip
COMPANION = Companion(
    persona=Persona(
        name="Mira",
        description=(
            "Mira keeps the old lighthouse on the northern cape. She is calm, curious and "
            "kind, remembers small details, and likes quiet evenings with tea and long talks "
            "about ordinary days."
        ),
        personality="warm, patient, a little teasing",
        scenario="{{user}} talks with Mira in the evenings after work.",
        first_mes="Good evening, {{user}}. The lamp is lit; tell me about your day.",
    ),
    core_memories=[
        CoreMemory(label="user", text="Sam works night shifts at a hospital and loves tea."),
        CoreMemory(label="relationship", text="Friends for two years; they talk most evenings."),
    ],
    generation=GenerationSettings(temperature=0.7, max_tokens=16, seed=1),
)


def script(turns: int) -> list[str]:
    """The user's side of the conversation: similar-length messages about varied topics."""
    lines = []
    for turn in range(turns):
        first = TOPICS[turn % len(TOPICS)]
        second = TOPICS[(turn * 7 + 3) % len(TOPICS)]
        lines.append(f"{OPENERS[turn % len(OPENERS)]} {first}, and also {second}.")
    return lines


def memories() -> list[RetrievedMemory]:
    """Forty imported facts, two per topic, of similar length."""
    facts = []
    for topic in TOPICS:
        facts.append(f"Sam once said that {topic} always makes the evening feel shorter.")
        facts.append(f"Sam asked Mira to remind them about {topic} before the weekend.")
    return [RetrievedMemory(f"fact-{i}", text, 0.0, "imported") for i, text in enumerate(facts)]


def clock(turn: list[int]):
    """A clock that moves three minutes per turn (the time line changes like in real use)."""
    return lambda: START + timedelta(minutes=3 * turn[0])


def run_hearth(engine: Engine, lines: list[str]) -> tuple[list[int], list[int]]:
    """Evaluated and total prompt tokens per turn through the real chat path."""
    evaluated, sizes, turn = [], [], [0]
    engine.reset()
    with tempfile.TemporaryDirectory() as tmp:
        store = TranscriptStore.open(Path(tmp) / "transcript.sqlite")
        try:
            session = store.create_session()
            chat = ChatSession(
                store, engine, COMPANION, session.id, retriever=MemoryListRetriever(memories()),
                user_name="Sam", clock=clock(turn),
            )  # fmt: skip
            chat.greet()
            for index, text in enumerate(lines):
                turn[0] = index
                stats = chat.send(text).stats
                evaluated.append(stats.prompt_tokens_evaluated)
                sizes.append(stats.prompt_tokens)
        finally:
            store.close()
    return evaluated, sizes


def run_naive(engine: Engine, lines: list[str]) -> list[int]:
    """Evaluated prompt tokens per turn with memories and time in the system prompt."""
    engine.reset()
    retriever = MemoryListRetriever(memories())
    persona = system_text(system_sections(COMPANION, user="Sam"))
    greeting = "Good evening, Sam. The lamp is lit; tell me about your day."
    history = [{"role": "assistant", "content": greeting}]
    evaluated = []
    for index, text in enumerate(lines):
        found = retriever.retrieve(text, session_id=None, exclude_message_ids=(), k=K)
        header = MEMORIES_HEADER.format(char="Mira")
        block = "\n".join([header, *(memory_line(m) for m in found)])
        now = time_line(START + timedelta(minutes=3 * index))
        system = {"role": "system", "content": f"{persona}\n\n{block}\n\n{now}"}
        messages = [system, *history, {"role": "user", "content": text}]
        generation = engine.generate(engine.tokenize(engine.render(messages)), COMPANION.generation)
        reply = "".join(generation)
        evaluated.append(generation.stats.prompt_tokens_evaluated)
        history += [{"role": "user", "content": text}, {"role": "assistant", "content": reply}]
    return evaluated


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="P1: prompt tokens evaluated per turn.")
    parser.add_argument("--model", type=Path, help="a chat GGUF (default: the bench model)")
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--ctx", type=int, default=8192, help="context window (default 8192)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    model = args.model or bench_model()
    engine = Engine.load(EngineConfig(model=model, context_size=args.ctx, threads=args.threads))
    lines = script(args.turns)
    try:
        hearth, sizes = run_hearth(engine, lines)
        naive = run_naive(engine, lines)
        n_ctx = engine.n_ctx
    finally:
        engine.close()
    hearth_ratio = hearth[-1] / hearth[1]
    naive_ratio = naive[-1] / naive[1]
    print(f"P1 turn cost — {model.name}, context {n_ctx}, {args.turns} turns, {K} memories/turn")
    print(f"{'turn':>5} {'prompt':>7} {'hearth':>7} {'naive':>7}   (prompt tokens evaluated)")
    shown = sorted({0, 1, 2, *range(4, args.turns, 5), args.turns - 1})
    for index in shown:
        print(f"{index + 1:>5} {sizes[index]:>7} {hearth[index]:>7} {naive[index]:>7}")
    later = slice(1, None)
    print(f"mean of turns 2-{args.turns}: hearth {sum(hearth[later]) / (args.turns - 1):.0f}, "
          f"naive {sum(naive[later]) / (args.turns - 1):.0f}")  # fmt: skip
    print(f"total evaluated: hearth {sum(hearth)}, naive {sum(naive)}")
    print(f"turn {args.turns} / turn 2: hearth {hearth_ratio:.2f} (goal ≤ 1.2), naive "
          f"{naive_ratio:.2f}")  # fmt: skip
    load = [round(value, 2) for value in os.getloadavg()]
    print(f"load average: {load}")
    if args.json:
        result = {
            "hearth_ratio": round(hearth_ratio, 3),
            "naive_ratio": round(naive_ratio, 3),
            "hearth_tokens_per_turn": hearth,
            "naive_tokens_per_turn": naive,
            "prompt_tokens_per_turn": sizes,
            "turns": args.turns,
            "model": str(model),
            "n_ctx": n_ctx,
            "load_avg": load,
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
