"""Long-term memory speed: indexing throughput and query latency at 10k and 100k memories.

    python bench/memory_bench.py [--json] [--sizes 10000,100000] [--queries 200]

A companion in a temporary data home gets synthetic multilingual conversations (English,
Chinese, Korean, Indonesian and Japanese small talk from the recall benchmark's templates,
a user message and a reply per turn; one turn is one memory). For each size, the turns still
missing are written to the transcript and indexed with `CompanionMemory.index_new` (the path an
import takes): indexing throughput in messages/s. Then questions in the five languages are
asked through `CompanionMemory.search` (hybrid, k=10): latency p50/p95, the query's embedding
included. Goals on a 2-core machine: indexing >= 300 messages/s, p95 <= 25 ms at 100k.
Other processes skew both; the 1-minute load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "data"))

from memory_lang import LANGUAGES  # noqa: E402

from runtime.companion import Companion, Persona  # noqa: E402
from runtime.companions import CompanionRegistry  # noqa: E402
from runtime.memory import open_memory  # noqa: E402
from runtime.paths import DataHome  # noqa: E402
from runtime.store import NewMessage, TranscriptStore  # noqa: E402

TURNS_PER_SESSION = 50


def _fill(template: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    for name, values in slots.items():
        while "{" + name + "}" in template:
            template = template.replace("{" + name + "}", rng.choice(values), 1)
    return template


def _write_turns(store: TranscriptStore, count: int, rng: random.Random, start: datetime) -> None:
    """`count` turns of small talk (all languages, facts mixed in), in sessions of 50 turns."""
    written = 0
    clock = start
    while written < count:
        language = rng.choice(LANGUAGES)
        session = store.create_session(f"{language.code} small talk", created_at=clock)
        messages = []
        for _ in range(min(TURNS_PER_SESSION, count - written)):
            if rng.random() < 0.05:
                user = rng.choice([s.text for f in language.facts for s in f.says])
            else:
                user = _fill(rng.choice(language.filler_user), language.slots, rng)
            reply = _fill(rng.choice(language.filler_reply), language.slots, rng)
            clock += timedelta(seconds=rng.randint(20, 600))
            messages.append(NewMessage("user", user, created_at=clock))
            messages.append(NewMessage("assistant", reply, created_at=clock))
            written += 1
        store.append_many(session.id, messages)
        clock += timedelta(hours=rng.randint(5, 60))


def _questions(rng: random.Random, count: int) -> list[str]:
    pool = [fact.question for language in LANGUAGES for fact in language.facts]
    return [rng.choice(pool) for _ in range(count)]


def run(sizes: list[int], queries: int) -> dict[str, Any]:
    """Figures for each size: indexing messages/s and query p50/p95 in ms."""
    rng = random.Random(11)
    results: dict[str, Any] = {"load": os.getloadavg()[0], "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="hearth-memory-bench-") as tmp:
        home = DataHome.resolve(Path(tmp) / "home").ensure()
        entry = CompanionRegistry(home).create(Companion(persona=Persona(name="Bench")))
        store = TranscriptStore.open(entry.paths.transcript)
        started = datetime(2023, 1, 1, tzinfo=UTC)
        memory = open_memory(entry, store=store, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
        try:
            have = 0
            for size in sorted(sizes):
                with store.transaction():
                    _write_turns(store, size - have, rng, started + timedelta(days=have // 40))
                have = size
                began = time.perf_counter()
                report = memory.index_new()
                seconds = time.perf_counter() - began
                memory.search("warm up", 10)
                latencies = []
                for question in _questions(rng, queries):
                    began = time.perf_counter()
                    memory.search(question, 10)
                    latencies.append(1000 * (time.perf_counter() - began))
                latencies.sort()
                results["sizes"][str(size)] = {
                    "memories": memory.items.count(),
                    "messages_indexed": report.messages,
                    "index_seconds": round(seconds, 1),
                    "messages_per_second": round(report.messages / seconds, 1),
                    "query_p50_ms": round(latencies[len(latencies) // 2], 1),
                    "query_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
                    "load": os.getloadavg()[0],
                }
                print(
                    f"{size:>7} memories: indexed {report.messages} messages in {seconds:.1f} s "
                    f"({report.messages / seconds:.0f} messages/s); query p50 "
                    f"{latencies[len(latencies) // 2]:.1f} ms, p95 "
                    f"{latencies[int(len(latencies) * 0.95) - 1]:.1f} ms; load "
                    f"{os.getloadavg()[0]:.2f}",
                    flush=True,
                )
        finally:
            memory.close()
            store.close()
    return results


def main(argv: list[str] | None = None) -> int:
    """Run and print the figures (and, with --json, a JSON line last)."""
    parser = argparse.ArgumentParser(description="Speed of Hearth's long-term memory.")
    parser.add_argument("--sizes", default="10000,100000", help="memory counts, comma-separated")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = run([int(s) for s in args.sizes.split(",")], args.queries)
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
