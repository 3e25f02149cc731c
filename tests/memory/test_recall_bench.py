"""bench/recall.py end to end on a small conversation, and its plain baselines on their own.

Figures are not asserted beyond what the questions make certain: that every mode, the plain
baselines included, is in the JSON contract, and that a question whose evidence is the only
message with its words is found.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "bench"))

from plain_baseline import PlainBaseline  # noqa: E402
from recall import conversion_warnings  # noqa: E402

from runtime.memory.embedder import load_embedder, resolve_model  # noqa: E402

LINES = [
    ("m1", "Nora: I adopted a beagle puppy last weekend, his name is Biscuit."),
    ("m2", "Sam: A beagle! Send pictures."),
    ("m3", "Nora: My sister is getting married in Lisbon in June."),
    ("m4", "Sam: Lisbon in June sounds lovely."),
    ("m5", "Nora: I started learning the cello, my teacher is very strict."),
    ("m6", "Sam: The cello is a beautiful instrument."),
]


@pytest.fixture(scope="module")
def baseline() -> PlainBaseline:
    return PlainBaseline(load_embedder(resolve_model("all-MiniLM-L6-v2")), LINES)


def test_plain_keyword_ranks_the_message_with_the_rare_word_first(baseline) -> None:
    ranked = baseline.rankings("Who teaches the cello?", 3)
    assert set(ranked["plain-keyword"][:2]) == {"m5", "m6"}
    assert "m1" not in ranked["plain-keyword"]  # no shared word: not a keyword result at all


def test_plain_dense_finds_a_paraphrase(baseline) -> None:
    ranked = baseline.rankings("What kind of dog did Nora get?", 2)
    assert ranked["plain-dense"][0] == "m1"
    assert "m1" in ranked["plain-fusion"]  # "Nora" alone ranks her other messages too


def test_plain_baseline_keeps_at_most_k(baseline) -> None:
    ranked = baseline.rankings("Lisbon wedding", 2)
    assert all(len(ids) <= 2 for ids in ranked.values())
    assert set(ranked["plain-keyword"]) == {"m3", "m4"}


def _write(folder: Path) -> tuple[Path, Path]:
    sessions, questions = folder / "sessions.jsonl", folder / "questions.jsonl"
    rows = []
    for number, (source_id, line) in enumerate(LINES):
        name, _, text = line.partition(": ")
        rows.append(
            {
                "session": "s1",
                "id": source_id,
                "role": "user" if name == "Nora" else "assistant",
                "name": name,
                "text": text,
                "time": f"2024-05-0{1 + number // 2}T10:00:{number:02d}Z",
            }
        )
    sessions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    asked = [
        {"question": "What did Nora name her puppy?", "evidence": ["m1"], "category": "single"},
        {"question": "Where is the wedding?", "evidence": ["m3"], "category": "single"},
    ]
    questions.write_text("".join(json.dumps(q) + "\n" for q in asked), encoding="utf-8")
    return sessions, questions


def test_recall_script_prints_every_mode_in_its_json(tmp_path) -> None:
    sessions, questions = _write(tmp_path)
    result = subprocess.run(
        [sys.executable, "bench/recall.py", str(sessions), str(questions), "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    keys = {"n", "recall@5", "recall@10", "by_category", "index_seconds", "warm_seconds"}
    assert keys | {"query_p95_ms"} <= figures.keys()
    assert figures["n"] == 2 and figures["recall@10"] == 1.0  # six messages: all are shown
    modes = figures["modes"]
    assert set(modes) == {
        "dense-only", "keyword-only", "hybrid", "plain-dense", "plain-keyword", "plain-fusion",
    }  # fmt: skip
    assert modes["plain-fusion"]["recall@10"] == 1.0
    assert modes["plain-fusion"]["shown"] == round(10 * figures["messages_per_result"])
    assert figures["warnings"] == []  # every id found, every speaker named


def test_a_conversion_that_lost_ids_or_names_is_called_out() -> None:
    asked = [
        {"question": "What did Nora name her puppy?", "evidence": ["m1"]},
        {"question": "Where is the wedding?", "evidence": ["m3", "D9:9"]},
    ]
    sources = {"m1", "m2", "m3"}
    assert conversion_warnings(asked, sources, named_messages=3, messages=3) == [
        "1 of 3 evidence ids are no imported message's id (e.g. D9:9): check the ids the"
        " conversion wrote"
    ]
    [unnamed] = conversion_warnings(asked[:1], sources, named_messages=0, messages=3)
    assert unnamed.startswith("1 of 1 questions name people, but only 0 of 3 messages")
    skipped = conversion_warnings(asked[1:2], sources | {"D9:9"}, 3, 3, ["line 3: id 'a' twice"])
    assert skipped == ["the import reported 1 problem(s), first: line 3: id 'a' twice"]
    # Questions that name no one need no names.
    assert conversion_warnings(asked[1:2], sources | {"D9:9"}, named_messages=0, messages=3) == []
