"""A synthetic multilingual memory benchmark: long conversations with planted facts, and
paraphrased questions whose evidence is the message that stated the fact.

    python bench/data/memory_set.py OUT_DIR [--seed 7] [--sessions 24]

writes OUT_DIR/sessions.jsonl (Hearth JSONL) and OUT_DIR/questions.jsonl
(`{"question", "evidence": [source message ids], "category", "language"}`), the input of
`bench/recall.py`. Deterministic for a seed: nothing is stored in git but this generator.

Per language (English, Chinese, Korean, Indonesian, Japanese) one user talks with one companion
over ~14 months: `--sessions` conversations of 25-35 turns of small talk built from templates
(with words that also occur in the facts, so keywords alone are not enough), and 20 facts:
- single: stated once, asked in other words ("I named her Mochi" / "what is my pet called?");
- multi: two statements in different sessions, both evidence;
- temporal: an event on a date and a look-alike on another; the question names the date
  ("on Valentine's Day", "去年夏天", "지난달"); only the first is evidence;
- update: a fact and, later, its change; the question asks for the current one (evidence:
  the later statement);
- answer (English): a short answer to the companion's question just before it ("Torn meniscus.
  Six weeks of physio." after "What did the doctor say about your knee?"): the question's
  words are in the message before the evidence.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from memory_lang import LANGUAGES, Language

START = date(2024, 1, 8)
END = date(2025, 3, 18)


def _session_dates(language: Language, count: int, rng: random.Random) -> list[date]:
    """Fixed dates of the temporal facts plus random others, sorted."""
    fixed = {date.fromisoformat(s.day) for fact in language.facts for s in fact.says if s.day}
    days = set(fixed)
    span = (END - START).days
    while len(days) < max(count, len(fixed)):
        days.add(START + timedelta(days=rng.randrange(span)))
    return sorted(days)


def _fill(template: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    text = template
    for name, values in slots.items():
        while "{" + name + "}" in text:
            text = text.replace("{" + name + "}", rng.choice(values), 1)
    return text


def _place(language: Language, days: list[date], rng: random.Random) -> dict[int, list]:
    """Which statements (and their echoes) go into which session (index into `days`)."""
    placed: dict[int, list] = {i: [] for i in range(len(days))}
    half = len(days) // 2
    for number, fact in enumerate(language.facts):
        last = 0
        for order, say in enumerate(fact.says):
            if say.day:
                index = days.index(date.fromisoformat(say.day))
            elif len(fact.says) > 1:  # first statement early, the later one late
                index = rng.randrange(0, half) if order == 0 else rng.randrange(half, len(days))
            else:
                index = rng.randrange(len(days))
            placed[index].append((number, say))
            last = max(last, index)
        for echo in fact.echoes:  # after the fact, as a conversation comes back to a topic
            placed[rng.randrange(last, len(days))].append((number, echo))
    return placed


def generate(seed: int = 7, sessions: int = 24) -> tuple[list[dict], list[dict]]:
    """(message lines, question lines) for every language."""
    lines: list[dict] = []
    questions: list[dict] = []
    for language in LANGUAGES:
        rng = random.Random(f"{seed}-{language.prefix}")
        days = _session_dates(language, sessions, rng)
        placed = _place(language, days, rng)
        evidence: dict[int, list[str]] = {i: [] for i in range(len(language.facts))}
        for index, day in enumerate(days):
            session = f"{language.prefix}-{index + 1:02d}"
            turns: list[tuple[str, str, object]] = []
            for _ in range(rng.randint(25, 35)):
                user = _fill(rng.choice(language.filler_user), language.slots, rng)
                turns.append(
                    (user, _fill(rng.choice(language.filler_reply), language.slots, rng), None)
                )
            for fact_number, say in placed[index]:
                if say.companion:
                    turn = (rng.choice(language.companion_prompt), say.text, (fact_number, say))
                else:
                    turn = (
                        say.text,
                        say.reply or rng.choice(language.fact_reply),
                        (fact_number, say),
                    )
                at = rng.randrange(len(turns) + 1)
                turns.insert(at, turn)
                if say.prompt:  # the companion asks in the turn before
                    user = _fill(rng.choice(language.filler_user), language.slots, rng)
                    turns.insert(at, (user, say.prompt, None))
            clock = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                hours=rng.randint(8, 21), minutes=rng.randrange(60)
            )
            for number, (user, reply, fact) in enumerate(turns):
                user_id = f"{session}-{2 * number + 1:03d}"
                reply_id = f"{session}-{2 * number + 2:03d}"
                for role, text, message_id in (
                    ("user", user, user_id), ("assistant", reply, reply_id),
                ):  # fmt: skip
                    clock += timedelta(seconds=rng.randint(20, 150))
                    line = {
                        "session": session, "id": message_id, "role": role, "text": text,
                        "time": clock.isoformat().replace("+00:00", "Z"),
                        "name": language.user if role == "user" else language.companion,
                    }  # fmt: skip
                    if number == 0 and role == "user":
                        line["title"] = f"{language.companion} {day.isoformat()}"
                    lines.append(line)
                if fact is not None and fact[1].evidence:
                    said = f"{session}-{2 * number + 2:03d}" if fact[1].companion else user_id
                    evidence[fact[0]].append(said)
        for number, fact in enumerate(language.facts):
            questions.append(
                {
                    "question": fact.question,
                    "evidence": evidence[number],
                    "category": fact.category,
                    "language": language.code,
                }
            )
    return lines, questions


def main(argv: list[str] | None = None) -> int:
    """Write sessions.jsonl and questions.jsonl into the folder given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sessions", type=int, default=24)
    args = parser.parse_args(argv)
    lines, questions = generate(args.seed, args.sessions)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in (("sessions.jsonl", lines), ("questions.jsonl", questions)):
        with (args.out_dir / name).open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(lines)} messages, {len(questions)} questions in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
