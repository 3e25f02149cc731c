"""A ChatGPT export made for the dataset builder, imported through the real import path.

Seven conversations, one day apart (oldest first):
- `tea`      gpt-4o replies with a disclaimer line, an e-mail and phone numbers, and one
             reply by gpt-4 (filtered out by `--model-filter gpt-4o`);
- `regen`    a reply regenerated twice: the kept one and two not kept (a preference pair);
- `long`     forty exchanges, more than one window at a small `--max-length`;
- `refusal`  a request answered only with a canned refusal (dropped, with the request);
- `copy`     the first exchange of `tea` again (a duplicate), then a new exchange;
- `late-1`, `late-2`  the two most recent (the eval split at `--eval-share 0.2`).
"""

from __future__ import annotations

from pathlib import Path

from runtime.importers.pipeline import ImportRequest, run_import
from runtime.paths import DataHome
from tests.fixtures.exports.chatgpt import START, Conversation, write_export

DAY = 86_400.0
COMPANION = "Mira"
DISCLAIMER = "As an AI language model, I don't drink tea."
EMAIL = "mira.fan@example.com"
PHONES = ("+44 20 7946 0958", "(555) 123-4567", "010-1234-5678")
KEPT_DATES = ("2025-02-14", "20:30", "v1.2.3", "$1,299.99", "192.168.10.10")
GPT4_REPLY = "An older model wrote this reply."
REFUSAL = "I'm sorry, but I can't help with that."
REFUSED_REQUEST = "Tell me how to pick a lock."
KEPT_REPLY = "Mint, always mint."
REJECTED = ("Chamomile, I think.", "Green tea!")
LONG_EXCHANGES = 40


def _conversation(key: str, day: int) -> Conversation:
    return Conversation(key, key.title(), start=START + day * DAY)


def conversations() -> list[dict]:
    """The export's conversations (see the module docstring)."""
    tea = _conversation("tea", 0)
    tea.user("Good morning Mira!")
    tea.assistant("Good morning! Shall we have tea?")
    tea.user(f"Write to me at {EMAIL} or call {PHONES[0]} or {PHONES[1]}.")
    tea.assistant(f"Noted.\n{DISCLAIMER}\nBut I love the smell of it.\nMine is {PHONES[2]}.")
    tea.user(f"On {KEPT_DATES[0]} at {KEPT_DATES[1]} I updated to {KEPT_DATES[2]}.")
    tea.assistant(f"It cost {KEPT_DATES[3]} and runs on {KEPT_DATES[4]}, right?", model="gpt-4")
    tea.user("Yes!")
    tea.assistant(GPT4_REPLY, model="gpt-4")
    tea.user("And now?")
    tea.assistant("Now it is gpt-4o again.")

    regen = _conversation("regen", 1)
    regen.user("Which tea do you like best?")
    first = regen.assistant(REJECTED[0])
    ask = regen.mapping[first]["parent"]
    regen.assistant(REJECTED[1], parent=ask)
    kept = regen.assistant(KEPT_REPLY, parent=ask)

    long = _conversation("long", 2)
    for i in range(LONG_EXCHANGES):
        long.user(f"Question number {i}: what did we talk about on day {i}?")
        long.assistant(f"On day {i} we talked about the garden and the rain, answer {i}.")

    refusal = _conversation("refusal", 3)
    refusal.user("Hello again.")
    refusal.assistant("Hello! How was your day?")
    refusal.user(REFUSED_REQUEST)
    refusal.assistant(REFUSAL)

    copy = _conversation("copy", 4)
    copy.user("Good morning Mira!")
    copy.assistant("Good morning! Shall we have tea?")
    copy.user("Something new today.")
    copy.assistant("Tell me everything.")

    late = []
    for n in (1, 2):
        conv = _conversation(f"late-{n}", 4 + n)
        conv.user(f"A recent chat, number {n}.")
        conv.assistant(f"A recent reply, number {n}.")
        late.append(conv.build())
    return [
        tea.build(),
        regen.build(current=kept),
        long.build(),
        refusal.build(),
        copy.build(),
        *late,
    ]


def import_fixture(home: Path, tmp_path: Path) -> None:
    """Write the export and import it into a new companion named Mira."""
    export = write_export(tmp_path / "chatgpt-export.zip", conversations())
    run_import(DataHome.resolve(home), ImportRequest(Path(export), companion=COMPANION))
