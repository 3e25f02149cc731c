"""The trivial retrievers: keywords in several languages, BM25 ranking, the window excluded,
turns from other sessions and imported memories found, deleted messages forgotten."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runtime.retrieval import (
    KeywordIndex,
    MemoryListRetriever,
    RetrievedMemory,
    TranscriptRetriever,
    keywords,
)
from runtime.store import TranscriptStore


def test_keywords_are_words_without_stopwords_and_cjk_bigrams():
    assert keywords("The Lighthouse is on the hill!") == ["lighthouse", "hill"]
    assert keywords("我喜欢绿茶") == ["我喜", "喜欢", "欢绿", "绿茶"]
    assert keywords("녹차 좋아해요") == ["녹차", "좋아", "아해", "해요"]
    assert keywords("Saya suka teh hijau") == ["saya", "suka", "teh", "hijau"]
    assert keywords("茶") == ["茶"]
    assert keywords("2024 a I") == []


def test_index_ranks_rarer_shared_words_higher():
    index = KeywordIndex()
    index.add("a", "green tea every morning")
    index.add("b", "tea with my sister")
    index.add("c", "walks on the beach")
    ranked = [doc for doc, _ in index.search("green tea")]
    assert ranked == ["a", "b"]
    index.remove("a")
    assert [doc for doc, _ in index.search("green tea")] == ["b"]
    assert len(index) == 2


def memory(id_: str, text: str, *message_ids: int) -> RetrievedMemory:
    return RetrievedMemory(id=id_, text=text, score=0.0, kind="imported", message_ids=message_ids)


def test_memory_list_retriever_returns_the_best_k_with_scores():
    retriever = MemoryListRetriever(
        [
            memory("m1", "Sam loves green tea"),
            memory("m2", "Sam's sister lives in Busan"),
            memory("m3", "Sam drinks tea at night"),
        ]
    )
    found = retriever.retrieve("green tea, please", session_id=None, exclude_message_ids=(), k=1)
    assert [m.id for m in found] == ["m1"]
    assert found[0].score > 0
    both = retriever.retrieve("tea", session_id=None, exclude_message_ids=(), k=5)
    assert {m.id for m in both} == {"m1", "m3"}


def test_memories_standing_for_window_messages_are_excluded():
    retriever = MemoryListRetriever([memory("m1", "green tea", 5, 6), memory("m2", "green tea")])
    found = retriever.retrieve("green tea", session_id=1, exclude_message_ids={5, 6}, k=5)
    assert [m.id for m in found] == ["m2"]


@pytest.fixture
def store(tmp_path):
    with TranscriptStore.open(tmp_path / "t.sqlite") as opened:
        yield opened


def test_transcript_retriever_finds_turns_outside_the_window_in_any_session(store):
    old = store.create_session("old")
    store.append(old.id, "user", "My sister moved to Busan last spring")
    store.append(old.id, "assistant", "Busan is lovely near the sea")
    now = store.create_session("now")
    first = store.append(now.id, "user", "I miss Busan")
    retriever = TranscriptRetriever(store, char="Mira", user="Sam")
    found = retriever.retrieve(
        "sister busan", session_id=now.id, exclude_message_ids={first.id}, k=3
    )
    assert found[0].text == "Sam said: My sister moved to Busan last spring"
    assert found[0].kind == "episodic" and found[0].session_id == old.id
    assert found[0].id == f"message:{found[0].message_ids[0]}"
    assert all(first.id not in m.message_ids for m in found)
    assert any(m.text.startswith("Mira said:") for m in found)


def test_new_messages_of_the_session_are_picked_up_and_deleted_ones_forgotten(store):
    session = store.create_session()
    retriever = TranscriptRetriever(store, char="Mira", user="Sam")
    assert retriever.retrieve("kayak", session_id=session.id, exclude_message_ids=(), k=3) == []
    said = store.append(session.id, "user", "We went kayaking, the kayak flipped")
    found = retriever.retrieve("kayak", session_id=session.id, exclude_message_ids=(), k=3)
    assert [m.message_ids for m in found] == [(said.id,)]
    store.delete_branch(said.id)
    assert retriever.retrieve("kayak", session_id=None, exclude_message_ids=(), k=3) == []


def test_imported_memories_are_retrieved_too(store):
    if not hasattr(store, "add_memories"):
        pytest.skip("this store has no memories table yet")
    from runtime.store import NewMemory

    stamp = datetime(2024, 5, 1, tzinfo=UTC)
    store.add_memories(
        [NewMemory("saved_memory", "Prefers oolong tea", "chatgpt", "mem-1", created_at=stamp)]
    )
    retriever = TranscriptRetriever(store, char="Mira", user="Sam")
    found = retriever.retrieve("oolong", session_id=None, exclude_message_ids=(), k=3)
    assert [(m.kind, m.text, m.source_ids) for m in found] == [
        ("imported", "Prefers oolong tea", ("mem-1",))
    ]
    assert found[0].created_at == stamp
