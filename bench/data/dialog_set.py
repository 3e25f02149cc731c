"""Hand-written English dialogs: long multi-session chats between two people, with questions
whose evidence is the turn that says it, in the input format of `bench/recall.py`.

    python bench/data/dialog_set.py OUT_DIR [--only conv1,conv3] [--separate]

Unlike `memory_set.py`'s planted facts in template small talk, these conversations were written
whole, as two people text: 20-26 dated sessions each over months, facts in passing with
relative times ("last Saturday"), plans that happen later, things that change, shared photos
("[image: …]"). Questions name the people in the third person and come in four kinds:
single-hop (one turn), multi-hop (2-4 turns across sessions), temporal ("When did …?": the
turn that states the event) and open-domain (an inference; the turns it rests on).

Each `dialogs/convN.json` holds `{"speakers": [A, B], "sessions": [{"date", "turns": [{"id",
"speaker", "text"}]}], "questions": [{"question", "answer", "evidence", "category"}]}`. In the
JSONL the first speaker is the user and the second the companion, each message carries its
speaker's `name` and its session's time (20 s apart), and ids are prefixed with the
conversation ("conv1/D3:7") so that several conversations can share one companion.
By default every conversation goes into one pair of files (one companion, several pairs of
people: names then tell conversations apart); `--separate` writes a folder per conversation.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DIALOGS = Path(__file__).resolve().parent / "dialogs"


def conversations(only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The stored conversations by name ("conv1", …), all or those in `only`."""
    found = {path.stem: path for path in sorted(DIALOGS.glob("conv*.json"))}
    names = only or sorted(found, key=lambda name: int(name.removeprefix("conv")))
    missing = [name for name in names if name not in found]
    if missing:
        raise SystemExit(f"no dialog {', '.join(missing)} in {DIALOGS}")
    return {name: json.loads(found[name].read_text(encoding="utf-8")) for name in names}


def convert(name: str, dialog: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """(Hearth JSONL lines, question lines) of one conversation."""
    user, companion = dialog["speakers"]
    lines: list[dict] = []
    for number, session in enumerate(dialog["sessions"], start=1):
        start = datetime.fromisoformat(session["date"]).replace(tzinfo=UTC)
        for index, turn in enumerate(session["turns"]):
            line = {
                "session": f"{name}-s{number:02d}",
                "id": f"{name}/{turn['id']}",
                "role": "user" if turn["speaker"] == user else "assistant",
                "text": turn["text"],
                "time": (start + timedelta(seconds=20 * index)).isoformat().replace("+00:00", "Z"),
                "name": turn["speaker"],
            }
            if index == 0:
                line["title"] = f"{user} and {companion}, {start.date().isoformat()}"
            lines.append(line)
    questions = [
        {
            "question": q["question"],
            "evidence": [f"{name}/{e}" for e in q["evidence"]],
            "category": q["category"],
            "language": "en",
        }
        for q in dialog["questions"]
    ]
    return lines, questions


def _write(folder: Path, lines: list[dict], questions: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, rows in (("sessions.jsonl", lines), ("questions.jsonl", questions)):
        with (folder / file_name).open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(lines)} messages, {len(questions)} questions in {folder}")


def main(argv: list[str] | None = None) -> int:
    """Write sessions.jsonl and questions.jsonl (per conversation with --separate)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--only", help="comma-separated conversation names (conv1,conv2,…)")
    parser.add_argument("--separate", action="store_true", help="a folder per conversation")
    args = parser.parse_args(argv)
    chosen = conversations(args.only.split(",") if args.only else None)
    all_lines: list[dict] = []
    all_questions: list[dict] = []
    for name, dialog in chosen.items():
        lines, questions = convert(name, dialog)
        if args.separate:
            _write(args.out_dir / name, lines, questions)
        all_lines += lines
        all_questions += questions
    if not args.separate:
        _write(args.out_dir, all_lines, all_questions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
