"""Retrieval with the real model and real Chroma: meaning, words (CJK too), time, exclusion,
duplicates, provenance, and the `Retriever` protocol prompt assembly uses."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from pytest_socket import SocketBlockedError

from runtime.memory.rank import RankSettings
from runtime.retrieval import RetrievedMemory, Retriever

SMALL_TALK = [
    ("Work was exhausting today, the printer broke again.", "Oh no, did you get some rest?"),
    ("I watched a documentary about whales last night.", "That sounds lovely!"),
    ("The weather is grey and rainy again.", "A good day for tea inside."),
    ("I had instant noodles for lunch.", "Not the healthiest, but comforting."),
    ("My neighbour's dog barked all morning.", "That must have been annoying."),
    ("I'm thinking about baking bread this weekend.", "Great idea, tell me how it goes."),
]


def _ids(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.item.id for hit in hits]


def test_a_paraphrased_question_finds_the_memory(memory, converse) -> None:
    ids = converse([*SMALL_TALK, ("I adopted a grey kitten and named her Mochi.", "Cute!")])
    memory.index_new()
    hits = memory.search("What is my pet called?", 3)
    assert hits[0].item.id == f"turn:{ids[-2]}"
    assert hits[0].item.message_ids == (ids[-2], ids[-1])
    assert "Mochi" in hits[0].item.text


def test_a_short_answer_is_found_by_the_question_before_it(memory, converse) -> None:
    # "Torn meniscus" says nothing of a knee: the companion's question before it does.
    ids = converse([
        *SMALL_TALK[:3],
        ("I finally saw the doctor today.", "What did the doctor say about your knee?"),
        ("Torn meniscus. Six weeks of physio.", "Oh no, that's a long time."),
        *SMALL_TALK[3:],
    ])  # fmt: skip
    memory.index_new()
    hits = memory.search("What is wrong with my knee?", 1)
    answer = f"turn:{ids[8]}"
    assert answer in _ids(hits)
    found = next(hit for hit in hits if hit.item.id == answer)
    assert found.item.message_ids == (ids[8], ids[9])  # the context is a key, not a member
    assert found.item.context_ids[0] == ids[7]  # the question is shown beside the turn
    assert "Torn meniscus" in found.item.own_text and "knee" not in found.item.own_text
    assert [hit.item.id for hit in memory.search("meniscus physio", 1)] == [answer]


def test_a_question_about_someone_finds_what_they_told_in_the_first_person(
    memory, converse
) -> None:
    ids = converse([
        *SMALL_TALK[:3],
        ("I broke my grandmother's mirror when we moved house.", "That's seven years!"),
        *SMALL_TALK[3:],
    ], name="Tamsin")  # fmt: skip
    memory.index_new()
    hits = memory.search("What did Tamsin break on moving day?", 3)
    assert hits[0].item.id == f"turn:{ids[6]}"
    assert hits[0].item.speakers == ("Mira", "Tamsin")


def test_a_question_is_asked_by_the_name_the_transcript_gives_the_user(
    memory, converse, monkeypatch
) -> None:
    ids = converse([
        *SMALL_TALK[:3],
        ("I broke my grandmother's mirror when we moved house.", "That's seven years!"),
        *SMALL_TALK[3:],
    ], name="Tamsin")  # fmt: skip
    memory.index_new()
    embedded: list[str] = []
    embed = memory.embedder.embed

    def recording(texts, **options):  # type: ignore[no-untyped-def]
        embedded.extend(texts)
        return embed(texts, **options)

    monkeypatch.setattr(memory.embedder, "embed", recording)
    hits = memory.search("What did I break when I moved?", 3)
    assert embedded == ["What did Tamsin break when Tamsin moved?"]  # not "User"
    assert hits[0].item.id == f"turn:{ids[6]}"


def test_what_the_person_a_question_names_told_comes_before_others(memory, converse) -> None:
    # Lena's words match better; the question is about Oskar. Without the boost for the
    # speaker a question names, Lena's turn came first and Oskar's was not in the top 3.
    lena = converse([("My sister lives in Berlin.", "Oh!"), *SMALL_TALK], name="Lena")
    oskar = converse([*SMALL_TALK, ("I visit family in Germany often.", "Oh!")], name="Oskar")
    memory.index_new()
    found = _ids(memory.search("Where does Oskar's sister live?", 3))
    assert f"turn:{oskar[-2]}" in found and f"turn:{lena[0]}" not in found


def test_results_carry_score_and_provenance(memory, home, tmp_path) -> None:
    from runtime.importers.pipeline import ImportRequest, run_import

    jsonl = tmp_path / "chat.jsonl"
    jsonl.write_text(
        '{"session": "s1", "id": "m1", "role": "user", "text": "My sister Hana lives in Lisbon.",'
        ' "time": "2024-05-01T10:00:00Z", "name": "Sam"}\n'
        '{"session": "s1", "id": "m2", "role": "assistant", "text": "Lisbon is lovely!"}\n',
        encoding="utf-8",
    )
    run_import(home, ImportRequest(jsonl, format="jsonl", companion="Mira"))
    memory.index_new()
    [hit] = memory.search("where does my sister live?", 1)
    assert hit.score > 0
    assert hit.item.kind == "episodic"
    assert hit.item.source_ids == ("m1", "m2")
    assert hit.item.created_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert hit.item.text.startswith("Sam: My sister Hana lives in Lisbon.\nMira: ")


@pytest.mark.parametrize(
    ("fact", "query"),
    [
        ("我上个周末和朋友去爬山了，风景很好。", "爬山"),
        ("我养了一只小猫，名字叫麻薯。", "麻薯是谁"),
        ("작년 여름에 제주도에서 스쿠버다이빙을 배웠어.", "스쿠버다이빙"),
        ("Aku suka sekali makan rendang buatan ibuku.", "rendang"),
    ],
)
def test_a_cjk_or_indonesian_keyword_finds_its_turn(memory, converse, fact, query) -> None:
    other = [("我今天工作很累。", "辛苦了。"), ("오늘 날씨가 좋다.", "산책 가자!"),
             ("Hari ini hujan terus.", "Jangan lupa payung.")]  # fmt: skip
    ids = converse([*SMALL_TALK, *other, (fact, "...")])
    memory.index_new()
    assert _ids(memory.search(query, 3))[0] == f"turn:{ids[-2]}"


def test_time_words_prefer_the_right_period(memory, converse) -> None:
    valentine = converse(
        [("I cooked mushroom risotto tonight.", "Romantic!")],
        at=datetime(2025, 2, 14, 19, tzinfo=UTC),
    )
    june = converse(
        [("I cooked a big curry tonight.", "Yum!")], at=datetime(2024, 6, 10, 19, tzinfo=UTC)
    )
    autumn = converse(
        [("I cooked pumpkin soup tonight.", "Cosy!")], at=datetime(2024, 10, 5, 19, tzinfo=UTC)
    )
    memory.index_new()
    first = lambda q: memory.search(q, 3)[0].item.id  # noqa: E731
    assert first("What did I cook on Valentine's Day?") == f"turn:{valentine[0]}"
    assert first("What did I cook last June?") == f"turn:{june[0]}"
    assert first("去年六月我做了什么菜？") == f"turn:{june[0]}"
    assert first("작년 가을에 뭘 요리했지?") == f"turn:{autumn[0]}"
    assert first("Apa yang aku masak bulan lalu?") == f"turn:{valentine[0]}"


def test_past_exact_search_a_period_is_a_boost_not_a_search_of_its_own(
    memory, converse, monkeypatch
) -> None:
    """Chroma's graph filtered to a period's ids was the slowest part of a query at 100k
    memories; there the period only boosts what the main search finds."""
    monkeypatch.setattr("runtime.memory.vectors.EXACT_LIMIT", 1)
    june = converse(
        [("I cooked a big curry tonight.", "Yum!")], at=datetime(2024, 6, 10, 19, tzinfo=UTC)
    )
    converse(
        [("I cooked pumpkin soup tonight.", "Cosy!")], at=datetime(2024, 10, 5, 19, tzinfo=UTC)
    )
    memory.index_new()
    asked: list[str] = []
    for target, name in ((memory.vectors, "query_among"), (memory.items, "vector_ids_between")):
        original = getattr(target, name)
        monkeypatch.setattr(
            target, name, lambda *a, o=original, n=name, **k: asked.append(n) or o(*a, **k)
        )
    assert not memory.vectors.searches_exactly()
    assert memory.search("What did I cook last June?", 3)[0].item.id == f"turn:{june[0]}"
    assert asked == []
    monkeypatch.setattr("runtime.memory.vectors.EXACT_LIMIT", 50_000)
    memory.vectors._exact_tried = False  # as a memory opened again below the limit
    assert memory.search("What did I cook last June?", 3)[0].item.id == f"turn:{june[0]}"
    assert asked == ["vector_ids_between", "query_among"]


def test_asking_how_things_are_now_prefers_the_newer_fact(memory, converse) -> None:
    old = converse(
        [("My boss at the hospital is called Priya.", "Noted!"), *SMALL_TALK[:3]],
        at=datetime(2024, 2, 1, 9, tzinfo=UTC),
    )
    new = converse(
        [("Priya left, my boss is a guy named Marcus.", "Oh!"), *SMALL_TALK[3:]],
        at=datetime(2025, 3, 1, 9, tzinfo=UTC),
    )
    memory.index_new()
    first = lambda q: memory.search(q, 2)[0].item.id  # noqa: E731
    assert first("Who is my boss at the hospital?") == f"turn:{old[0]}"  # closer in words
    assert first("Who is my boss at the hospital now?") == f"turn:{new[0]}"
    assert first("Who is my boss at the hospital these days?") == f"turn:{new[0]}"


def test_turns_in_the_prompt_window_are_skipped(memory, converse) -> None:
    ids = converse([("My favourite colour is teal.", "Noted!"), *SMALL_TALK])
    memory.index_new()
    query = "what colour do I like?"
    assert _ids(memory.search(query, 1)) == [f"turn:{ids[0]}"]
    window = ids[:2]
    assert f"turn:{ids[0]}" not in _ids(memory.search(query, 5, exclude_message_ids=window))


def test_duplicates_come_back_once(memory, converse) -> None:
    same = ("I am allergic to peanuts.", "I'll remember that.")
    converse([same, *SMALL_TALK[:3]])
    converse([same, *SMALL_TALK[3:]])
    memory.index_new()
    texts = [hit.item.text for hit in memory.search("peanut allergy", 5)]
    assert sum("peanuts" in text for text in texts) == 1


def test_modes_for_benchmarks(memory, converse) -> None:
    converse([*SMALL_TALK, ("I drive an old blue Volvo.", "Classic!")])
    memory.index_new()
    assert memory.search("Volvo", 3, settings=RankSettings.keyword_only())
    # A query sharing no word with any memory: the keyword side alone finds nothing.
    assert memory.search("automobile", 3, settings=RankSettings.keyword_only()) == []
    assert memory.search("automobile", 3, settings=RankSettings.dense_only())


def test_the_retriever_protocol(memory, converse) -> None:
    ids = converse([*SMALL_TALK, ("I broke my wrist skateboarding at sixteen.", "Ouch!")])
    memory.index_new()
    retriever: Retriever = memory.retriever()
    found = retriever.retrieve(
        "how did I get hurt as a teenager?", session_id=None, exclude_message_ids=(), k=2
    )
    assert isinstance(found[0], RetrievedMemory)
    assert found[0].id == f"turn:{ids[-2]}"
    assert found[0].kind == "episodic" and found[0].message_ids == (ids[-2], ids[-1])
    assert len(found) == 2


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_memory_never_opens_a_socket(memory, converse) -> None:
    """pytest-socket blocks sockets for the whole suite; indexing and search still work."""
    converse(SMALL_TALK)
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    memory.index_new()
    assert memory.search("whales", 1)


def test_a_holiday_is_what_was_talked_about_as_well_as_when(memory, converse) -> None:
    """Presents for Christmas are bought before it: the time words go to the keyword side
    too, where the holiday's name finds them, and the time boost of Christmas Day's small
    talk does not bury them (at time_boost 1.0 it did)."""
    plans = converse(
        [("I bought a knitted scarf as a Christmas present for my sister.", "She'll love it!")],
        at=datetime(2024, 12, 8, 19, tzinfo=UTC),
    )
    converse(SMALL_TALK, at=datetime(2024, 12, 25, 15, tzinfo=UTC))
    memory.index_new()
    question = "What did I get my sister for Christmas?"
    words = memory.search(question, 1, settings=RankSettings.keyword_only())
    assert _ids(words) == [f"turn:{plans[0]}"]
    assert _ids(memory.search(question, 1)) == [f"turn:{plans[0]}"]


def test_a_turn_that_names_the_person_asked_about_gets_a_boost(memory, converse) -> None:
    """Marcus never speaks here: Rosa tells of him. Her turn that names him scores higher
    than it would without the boost for a person a text names; the others are unchanged."""
    ids = converse([
        ("Marcus picked me up after his class, he teaches chemistry at the high school.", "Sweet!"),
        *SMALL_TALK,
    ], name="Rosa")  # fmt: skip
    memory.index_new()
    question = "What does Marcus do for a living?"
    boosted = {hit.item.id: hit.score for hit in memory.search(question, 7)}
    plain = memory.search(question, 7, settings=RankSettings(mention_boost=0.0))
    for hit in plain:
        if hit.item.id == f"turn:{ids[0]}":
            assert boosted[hit.item.id] > hit.score * 1.3
        else:
            assert boosted[hit.item.id] == hit.score


def test_an_english_model_does_not_answer_chinese_with_japanese(memory, converse) -> None:
    """All-MiniLM's vectors of Chinese and Japanese text are near each other for no reason of
    meaning: a Chinese question's vector side counts only Chinese memories."""
    ids = converse([
        ("今日はとても寒かったね。", "そうだね。"),
        ("ラーメンを食べに行こう。", "いいよ！"),
        ("我在儿童医院当护士。", "辛苦了。"),
    ])  # fmt: skip
    memory.index_new()
    found = _ids(memory.search("小林是做什么工作的？", 3))
    assert f"turn:{ids[0]}" not in found and f"turn:{ids[2]}" not in found
