"""Recall of long-term memory: are the messages that hold the answer among the top results?

    python bench/recall.py SESSIONS.jsonl QUESTIONS.jsonl [--json] [--k 10]
    python bench/data/memory_set.py /tmp/memset        # the synthetic multilingual set
    python bench/recall.py /tmp/memset/sessions.jsonl /tmp/memset/questions.jsonl

SESSIONS.jsonl is Hearth JSONL (see README); QUESTIONS.jsonl has one
`{"question", "evidence": [source message ids], "category"?, "language"?}` per line. The
sessions are imported into a fresh companion in a temporary data home through the normal
import path (the JSONL importer), indexed with the default settings, and every question is
asked with the normal retrieval. A question's recall@k is the fraction of its evidence ids
found among the source ids of the top k memories; the figures are averages over questions.
A turn's source ids are those of every message it shows, its neighbours included (the message
before and after it, see runtime/memory/turns.py), so `messages_per_result` (the mean number
of messages a hybrid top-k result shows) and `own_recall@10` (counting only the turn's own
messages) are printed beside it.
"Now", for time words in questions, is the time of the latest message. Printed side by side:
dense only (embeddings), keyword only (BM25) and hybrid (the default), and the plain baselines
(one message per result), with ratios to dense only and to plain fusion.
With --json the last line is `{"n", "recall@5", "recall@10", "by_category", "index_seconds",
"warm_seconds", "query_p95_ms", "messages_per_result", "own_recall@10", ...}` for hybrid, and
under "modes" every mode's recall@5/@10, the plain baselines (`plain_baseline`: one message per
result, as a simple RAG over the log) included, and under "warnings" what looks wrong in the
conversion (lines the import skipped; evidence ids no message has; questions naming people
over messages that do not name their speakers), also printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from plain_baseline import MODES as PLAIN_MODES
from plain_baseline import PlainBaseline

from runtime.companions import CompanionRegistry
from runtime.importers.pipeline import ImportRequest, run_import
from runtime.memory import RankSettings, open_memory
from runtime.memory.named import mentioned_names
from runtime.paths import DataHome

MODES = {
    "dense-only": RankSettings.dense_only(),
    "keyword-only": RankSettings.keyword_only(),
    "hybrid": RankSettings(),
}
COMPANION = "Recall"


def _questions(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [row for row in rows if row.get("evidence")]


def _recall(evidence: list[str], found: list[str]) -> float:
    return len(set(evidence) & set(found)) / len(set(evidence))


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 4) if values else 0.0


NAMED_SHARE = 0.5
"""Fewer messages than this share naming their speaker, with questions that name people: the
conversion probably dropped the speakers' names (see `conversion_warnings`)."""


def conversion_warnings(
    questions: list[dict[str, Any]],
    source_ids: set[str],
    named_messages: int,
    messages: int,
    import_warnings: Sequence[str] = (),
) -> list[str]:
    """What looks wrong in a converted set: lines the import skipped (e.g. two conversations
    written with the same session key, whose message ids then collide), evidence ids no
    imported message has (recall cannot count them), or questions that name people over
    messages that name no speaker (search can only match those names in the words; on the
    hand-written dialogs recall@10 fell by 12 points without names)."""
    warnings: list[str] = []
    if import_warnings:
        warnings.append(
            f"the import reported {len(import_warnings)} problem(s), first: {import_warnings[0]}"
        )
    evidence = {e for q in questions for e in q["evidence"]}
    missing = sorted(evidence - source_ids)
    if missing:
        warnings.append(
            f"{len(missing)} of {len(evidence)} evidence ids are no imported message's id"
            f" (e.g. {', '.join(missing[:3])}): check the ids the conversion wrote"
        )
    naming = sum(1 for q in questions if mentioned_names(q["question"]))
    if messages and named_messages < NAMED_SHARE * messages and naming >= 0.2 * len(questions):
        warnings.append(
            f"{naming} of {len(questions)} questions name people, but only {named_messages} of"
            f' {messages} messages name their speaker: give each line its speaker as "name"'
        )
    return warnings


def evaluate(sessions: Path, questions_file: Path, k: int = 10) -> dict[str, Any]:
    """Import, index and ask; the figures of every mode."""
    questions = _questions(questions_file)
    with tempfile.TemporaryDirectory(prefix="hearth-recall-") as tmp:
        home = DataHome.resolve(Path(tmp) / "home").ensure()
        imported = run_import(home, ImportRequest(sessions, format="jsonl", companion=COMPANION))
        problems = [warning.message for warning in imported.warnings]
        entry = CompanionRegistry(home).find(COMPANION)
        memory = open_memory(entry)
        try:
            started = time.perf_counter()
            report = memory.index_new()
            index_seconds = time.perf_counter() - started
            started = time.perf_counter()
            memory.warm()  # the exact-search copy and its densities, as a chat makes them
            warm_seconds = time.perf_counter() - started
            messages = memory.store.messages_after(0, 10**9)
            latest = max(messages, key=lambda m: m.created_at)
            now = latest.created_at + timedelta(minutes=1)
            sources = {m.id: m.source_id for m in messages if m.source_id}
            named = sum(1 for m in messages if m.metadata.get("name"))
            warnings = conversion_warnings(
                questions, set(sources.values()), named, len(messages), problems
            )
            results: dict[str, Any] = {}
            for mode, settings in MODES.items():
                results[mode] = _ask(memory, questions, settings, now, k, sources)
            lines = [
                (m.source_id, f"{memory.speakers.of(m)}: {m.text}")
                for m in messages
                if m.source_id and m.role != "system" and m.text.strip()
            ]
            shown = round(k * results["hybrid"]["messages_per_result"])
            baseline = PlainBaseline(memory.embedder, lines)
            results.update(_ask_plain(baseline, questions, k, shown))
        finally:
            memory.close()
    hybrid = results["hybrid"]
    return {
        "n": len(questions),
        "k": k,
        "recall@5": hybrid["recall@5"],
        "recall@10": hybrid["recall@10"],
        "by_category": hybrid["by_category"],
        "index_seconds": round(index_seconds, 2),
        "warm_seconds": round(warm_seconds, 2),
        "query_p95_ms": hybrid["query_p95_ms"],
        "query_p50_ms": hybrid["query_p50_ms"],
        "by_language": hybrid["by_language"],
        "messages_per_result": hybrid["messages_per_result"],
        "own_recall@10": hybrid["own_recall@10"],
        "modes": {
            mode: {
                key: r[key]
                for key in ("recall@5", "recall@10", "recall@shown", "shown")
                if key in r
            }
            for mode, r in results.items()
        },
        "messages": report.messages,
        "items": report.items,
        "load": os.getloadavg()[0],
        "warnings": warnings,
    }


def _ask(
    memory: Any,
    questions: list[dict[str, Any]],
    settings: RankSettings,
    now: Any,
    k: int,
    sources: dict[int, str],
) -> dict[str, Any]:
    at5: list[float] = []
    at10: list[float] = []
    own10: list[float] = []
    shown: list[int] = []
    groups: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    latencies: list[float] = []
    for question in questions:
        started = time.perf_counter()
        hits = memory.search(question["question"], max(k, 10), settings=settings, now=now)
        latencies.append(time.perf_counter() - started)
        ids = [[s for s in hit.item.source_ids] for hit in hits]
        r5 = _recall(question["evidence"], [s for group in ids[:5] for s in group])
        r10 = _recall(question["evidence"], [s for group in ids[:k] for s in group])
        at5.append(r5)
        at10.append(r10)
        shown.extend(len(group) for group in ids[:k])
        own = [sources[m] for hit in hits[:k] for m in hit.item.message_ids if m in sources]
        own10.append(_recall(question["evidence"], own + _stored_sources(hits[:k])))
        for key in ("category", "language"):
            if question.get(key):
                groups[key][question[key]].append(r10)
    latencies.sort()
    return {
        "recall@5": _mean(at5),
        "recall@10": _mean(at10),
        "by_category": {c: _mean(v) for c, v in sorted(groups["category"].items())},
        "by_language": {c: _mean(v) for c, v in sorted(groups["language"].items())},
        "own_recall@10": _mean(own10),
        "messages_per_result": _mean([float(n) for n in shown]),
        "query_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "query_p95_ms": round(1000 * latencies[int(len(latencies) * 0.95) - 1], 1),
    }


def _ask_plain(
    baseline: PlainBaseline, questions: list[dict[str, Any]], k: int, shown: int
) -> dict[str, dict[str, float]]:
    """recall@5/@10 of the plain baselines (one message per result), and recall within the
    top `shown` messages: as many messages as Hearth's top k show (`recall@shown`)."""
    keys = ("recall@5", "recall@10", "recall@shown")
    found: dict[str, dict[str, list[float]]] = {
        mode: {key: [] for key in keys} for mode in PLAIN_MODES
    }
    for question in questions:
        for mode, ids in baseline.rankings(question["question"], max(k, 10, shown)).items():
            found[mode]["recall@5"].append(_recall(question["evidence"], ids[:5]))
            found[mode]["recall@10"].append(_recall(question["evidence"], ids[:k]))
            found[mode]["recall@shown"].append(_recall(question["evidence"], ids[:shown]))
    figures: dict[str, dict[str, float]] = {
        mode: {key: _mean(v) for key, v in values.items()} for mode, values in found.items()
    }
    for values in figures.values():
        values["shown"] = shown
    return figures


def _stored_sources(hits: list[Any]) -> list[str]:
    """Source ids of stored (imported) memories, which have no messages of their own."""
    return [s for hit in hits if not hit.item.message_ids for s in hit.item.source_ids]


def _print(figures: dict[str, Any]) -> None:
    modes = figures["modes"]
    base = modes["dense-only"]["recall@10"] or 1.0
    plain = modes["plain-fusion"]["recall@10"] or 1.0
    for warning in figures["warnings"]:
        print(f"warning: {warning}")
    print(f"{figures['n']} questions, {figures['messages']} messages ({figures['items']} memories)")
    print(f"{'':15}{'recall@5':>10}{'recall@10':>11}{'× dense@10':>12}{'× plain fusion':>16}")
    for mode, values in modes.items():
        r10 = values["recall@10"]
        print(
            f"{mode:15}{values['recall@5']:>10.3f}{r10:>11.3f}{r10 / base:>12.2f}"
            f"{r10 / plain:>16.2f}"
        )
    print("plain-*: one message per result, no turns or neighbours (bench/plain_baseline.py)")
    shown = modes["plain-fusion"]["shown"]
    print(
        f"as many messages as hybrid's top {figures['k']} show ({shown}): plain fusion recall "
        f"{modes['plain-fusion']['recall@shown']:.3f}, plain dense "
        f"{modes['plain-dense']['recall@shown']:.3f} (hybrid {figures['recall@10']:.3f})"
    )
    print(
        "hybrid recall@10 by category: "
        + ", ".join(f"{k} {v:.2f}" for k, v in figures["by_category"].items())
    )
    print(
        f"hybrid: {figures['messages_per_result']:.1f} messages shown per result; recall@10 "
        f"counting only each turn's own messages {figures['own_recall@10']:.3f}"
    )
    if figures["by_language"]:
        print(
            "hybrid recall@10 by language: "
            + ", ".join(f"{k} {v:.2f}" for k, v in figures["by_language"].items())
        )
    rate = figures["messages"] / figures["index_seconds"] if figures["index_seconds"] else 0
    print(
        f"indexing {figures['index_seconds']:.1f} s ({rate:.0f} messages/s), then "
        f"{figures['warm_seconds']:.1f} s for the exact-search copy; query p50 "
        f"{figures['query_p50_ms']} ms, p95 {figures['query_p95_ms']} ms; "
        f"load {figures['load']:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description="Recall of Hearth's long-term memory.")
    parser.add_argument("sessions", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="last line: the figures as JSON")
    args = parser.parse_args(argv)
    figures = evaluate(args.sessions, args.questions, args.k)
    _print(figures)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
