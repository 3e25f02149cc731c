"""Episodes (a session's turns, 16 at a time, searched by keyword as one document): how they
are cut and kept current, and how they lift the turns of the conversation a question is about.
Real Chroma and the real embedding model."""

from __future__ import annotations

import json
import sqlite3

import pytest

from runtime.memory import open_memory
from runtime.memory.episodes import EPISODE_TURNS
from runtime.memory.rank import RankSettings

from .conftest import NOW

BAND_TALK = [
    ("Rehearsal ran late again, the drummer kept changing the tempo.", "Bands and drummers!"),
    ("We're playing a gig downtown soon, our first since summer.", "Exciting! Same band?"),
    ("Yep, The Late Checkouts are still going strong.", "Love that name."),
    ("I need new strings for my bass before the gig.", "Get the good ones."),
]
BIRD_TALK = [
    ("I saw a heron at the lake this morning.", "Lucky you!"),
    ("The club counted forty species on Saturday.", "That's a lot of birds."),
    ("Yep, the Blue Herons are still going strong.", "Love that name."),
    ("I need new binoculars before spring.", "Get the good ones."),
]


def _episodes(memory) -> list[list[str]]:  # type: ignore[no-untyped-def]
    rows = memory.items.conn.execute("SELECT items FROM episodes ORDER BY session_id, segment")
    return [json.loads(row[0]) for row in rows]


def test_the_turns_of_the_conversation_a_question_is_about_are_lifted(memory, converse) -> None:
    band = converse(BAND_TALK)
    birds = converse(BIRD_TALK)
    memory.index_new()
    answer = f"turn:{band[4]}"  # "The Late Checkouts": no word of the question in it
    twin = f"turn:{birds[4]}"  # "the Blue Herons": the same words, in talk of birds
    question = "What is the name of my band that plays gigs?"
    hits = memory.search(question, 10)
    ranked = [hit.item.id for hit in hits]
    assert answer in ranked[:3]
    assert twin not in ranked or ranked.index(answer) < ranked.index(twin)
    plain = memory.search(question, 10, settings=RankSettings(episode_boost=0.0))
    without = next(hit.score for hit in plain if hit.item.id == answer)
    with_episodes = next(hit.score for hit in hits if hit.item.id == answer)
    assert with_episodes == pytest.approx(without * 1.6, rel=1e-3)  # the best episode's lift


def test_a_session_is_cut_into_episodes_in_order_and_kept_current(memory, converse) -> None:
    talk = [(f"Day {n}: I walked {n} km by the river.", f"Nice, {n} km!") for n in range(40)]
    ids = converse(talk)
    memory.index_new()
    turns = [f"turn:{i}" for i in ids[::2]]
    assert _episodes(memory) == [turns[:16], turns[16:32], turns[32:]]
    assert EPISODE_TURNS == 16
    memory.forget(turns[3])  # everything after it moves up by one
    rest = turns[:3] + turns[4:]
    assert _episodes(memory) == [rest[:16], rest[16:32], rest[32:]]
    more = converse([("One more walk today.", "Well done.")])
    memory.index_new()
    # converse() starts a new session: an episode of its own, the old ones untouched.
    assert _episodes(memory) == [rest[:16], rest[16:32], rest[32:], [f"turn:{more[0]}"]]


def test_episodes_of_a_new_session_and_of_a_deleted_one(memory, converse, entry) -> None:
    from runtime.store import TranscriptStore

    first = converse(BAND_TALK)
    second = converse(BIRD_TALK)
    memory.index_new()
    assert _episodes(memory) == [
        [f"turn:{i}" for i in first[::2]],
        [f"turn:{i}" for i in second[::2]],
    ]
    with TranscriptStore.open(entry.paths.transcript) as store:
        store.delete_session(store.get_message(first[0]).session_id)
    memory.index_new()
    assert _episodes(memory) == [[f"turn:{i}" for i in second[::2]]]


def test_a_memory_file_from_before_episodes_gets_them_when_opened(entry, converse) -> None:
    converse(BAND_TALK)
    converse(BIRD_TALK)
    memory = open_memory(entry, clock=lambda: NOW)
    memory.index_new()
    expected = _episodes(memory)
    before = [hit.item.id for hit in memory.search("band gig name", 5)]
    path = memory.items.path
    memory.close()
    with sqlite3.connect(path) as conn:  # as a Hearth from before episodes left it
        conn.execute("DROP TABLE episodes")
        conn.execute("DROP TABLE episode_terms")
    reopened = open_memory(entry, clock=lambda: NOW)
    try:
        assert _episodes(reopened) == expected
        assert [hit.item.id for hit in reopened.search("band gig name", 5)] == before
    finally:
        reopened.close()


def test_a_turn_added_to_a_long_session_rewrites_only_its_last_episode(
    memory, converse, entry
) -> None:
    from runtime.store import TranscriptStore

    talk = [(f"Day {n}: I swam {n} lengths.", f"Great, {n}!") for n in range(40)]
    ids = converse(talk)
    memory.index_new()
    rows = "SELECT rowid, items FROM episodes ORDER BY segment"
    before = memory.items.conn.execute(rows).fetchall()
    with TranscriptStore.open(entry.paths.transcript) as store:
        session_id = store.get_message(ids[0]).session_id
        added = store.append(session_id, "user", "Day 40: I swam 40 lengths.")
        store.append(session_id, "assistant", "Great, 40!")
    memory.index_new()
    after = memory.items.conn.execute(rows).fetchall()
    assert after[:2] == before[:2]  # the same rows: not rewritten
    assert json.loads(after[2][1]) == [*json.loads(before[2][1]), f"turn:{added.id}"]
