"""Queries name the user and the companion as the transcript does (`speaker_names`)."""

from __future__ import annotations

from pathlib import Path

from runtime.memory.speaker_names import KnownSpeakers
from runtime.memory.turns import Speakers
from runtime.store import TranscriptStore

DEFAULTS = Speakers(user="User", companion="Recall")


def _chat(store: TranscriptStore, user: str | None, companion: str | None, turns: int) -> None:
    session = store.create_session("chat")
    for _ in range(turns):
        store.append(session.id, "user", "hi", metadata={"name": user} if user else None)
        store.append(
            session.id, "assistant", "hello", metadata={"name": companion} if companion else None
        )


def test_one_name_per_role_stands_for_it(tmp_path: Path) -> None:
    with TranscriptStore.open(tmp_path / "t.sqlite") as store:
        known = KnownSpeakers(store, DEFAULTS)
        assert known.current() == DEFAULTS  # an empty transcript names no one
        _chat(store, "Sam", "Mira", 20)
        _chat(store, None, None, 30)  # live turns carry no name: they do not outvote
        assert known.current() == Speakers(user="Sam", companion="Mira")


def test_a_merged_transcript_keeps_the_defaults(tmp_path: Path) -> None:
    with TranscriptStore.open(tmp_path / "t.sqlite") as store:
        known = KnownSpeakers(store, DEFAULTS)
        _chat(store, "Caroline", "Melanie", 10)
        assert known.current() == Speakers(user="Caroline", companion="Melanie")
        _chat(store, "Joanna", "Nate", 10)  # counted incrementally: only the new messages read
        assert known.current() == DEFAULTS
        _chat(store, "Joanna", "Nate", 200)  # 210 of 220: one name carries the role again
        assert known.current() == Speakers(user="Joanna", companion="Nate")


def test_recount_forgets_the_names_of_deleted_messages(tmp_path: Path) -> None:
    with TranscriptStore.open(tmp_path / "t.sqlite") as store:
        known = KnownSpeakers(store, DEFAULTS)
        _chat(store, "Sam", "Mira", 10)
        _chat(store, "Joanna", "Nate", 200)
        assert known.current() == Speakers(user="Joanna", companion="Nate")
        store.delete_session(max(session.id for session in store.list_sessions()))
        assert known.current() == Speakers(user="Joanna", companion="Nate")  # counts only grow
        known.recount()
        assert known.current() == Speakers(user="Sam", companion="Mira")


def test_memory_counts_again_after_a_session_is_deleted(memory, converse, entry) -> None:
    converse([("Hi!", "Hello!")] * 2, name="Sam")
    joanna = converse([("Hi!", "Hello!")] * 30, name="Joanna")
    memory.index_new()
    assert memory.ranker.speakers.current().user == "Joanna"  # 30 of 32 named user messages
    with TranscriptStore.open(entry.paths.transcript) as store:
        store.delete_session(store.get_message(joanna[0]).session_id)
    memory.index_new()  # removes the session's turns, and its names from the counts
    assert memory.ranker.speakers.current().user == "Sam"
