"""One ChatGPT conversation → a session: the thread the user saw, every branch, what is dropped."""

from __future__ import annotations

from datetime import UTC, datetime

from runtime.importers.chatgpt_tree import convert
from tests.fixtures.exports.chatgpt import START, Conversation, text_content

ZH = "今天下班以后我去了那家新开的咖啡店，拿铁很好喝。"
KO = "오늘 날씨가 정말 좋아서 한강 공원에 산책하러 갔어요."
ID = "Aku baru pulang dari pasar, beli sayur dan buah-buahan."
EMOJI = "🌙✨ 👩🏽‍💻 🇮🇩 ❤️‍🔥"


def _ids(session) -> list[str]:
    return [m.source_id for m in session.messages]


def _thread(session) -> list[str]:
    """Source ids from the active leaf up to the root, root first."""
    by_id = {m.source_id: m for m in session.messages}
    node = session.active_leaf_source_id
    path = []
    while node is not None:
        path.append(node)
        node = by_id[node].parent_source_id
    return path[::-1]


def test_a_plain_conversation_keeps_order_text_roles_models_and_times() -> None:
    conv = Conversation("c1", "Tea")
    hi = conv.user("hello")
    reply = conv.assistant("hi there", model="gpt-4o-mini")
    converted = convert(conv.build(), 0)
    session = converted.session
    assert session is not None and converted.warnings == []
    assert (session.source, session.source_id, session.title) == ("chatgpt", "c1", "Tea")
    assert session.created_at == datetime.fromtimestamp(START, UTC)
    assert _ids(session) == [hi, reply]
    first, second = session.messages
    assert (first.role, first.text, first.parent_source_id, first.model) == (
        "user", "hello", None, None,
    )  # fmt: skip
    assert (second.role, second.text, second.parent_source_id, second.model) == (
        "assistant", "hi there", hi, "gpt-4o-mini",
    )  # fmt: skip
    assert second.created_at == datetime.fromtimestamp(START + 2, UTC)
    assert session.active_leaf_source_id == reply


def test_edits_and_regenerations_are_siblings_and_current_node_is_the_active_thread() -> None:
    conv = Conversation("c1")
    q1 = conv.user("first question")
    a1 = conv.assistant("first answer")
    a1b = conv.assistant("regenerated answer", parent=q1)
    q2 = conv.user("follow-up", parent=a1b)
    conv.assistant("reply to follow-up")
    q2b = conv.user("edited follow-up", parent=a1b)
    a2b = conv.assistant("reply to the edit")
    session = convert(conv.build(current=a1), 0).session
    # Every branch is kept; parents come first; siblings keep the export's children order.
    assert set(_ids(session)) == set(conv.mapping) - {"client-created-root"}
    parents = {m.source_id: m.parent_source_id for m in session.messages}
    assert parents[a1] == parents[a1b] == q1
    assert parents[q2] == parents[q2b] == a1b
    order = _ids(session)
    assert order.index(a1) < order.index(a1b) and order.index(q2) < order.index(q2b)
    assert all(order.index(p) < order.index(c) for c, p in parents.items() if p)
    # The thread the user saw: current_node up to the root (here the older answer).
    assert _thread(session) == [q1, a1]
    assert _thread(convert(conv.build(current=a2b), 0).session) == [q1, a1b, q2b, a2b]


def test_missing_current_node_picks_the_newest_leaf_by_time_then_the_last_leaf() -> None:
    conv = Conversation("c1")
    q = conv.user("q")
    old = conv.assistant("old", time=START + 100)
    conv.assistant("new but older time", parent=q, time=START + 50)
    converted = convert(conv.build(current=None), 0)
    assert converted.session.active_leaf_source_id == old
    assert converted.warnings == []  # a missing current_node is normal in some tools' exports

    untimed = Conversation("c2")
    q = untimed.user("q", time=None)
    untimed.assistant("a", time=None)
    last = untimed.assistant("b", parent=q, time=None)
    assert convert(untimed.build(current=None), 0).session.active_leaf_source_id == last


def test_a_current_node_that_is_not_in_the_mapping_warns_and_falls_back() -> None:
    conv = Conversation("c1", "Lost")
    conv.user("q")
    answer = conv.assistant("a")
    converted = convert(conv.build(current="nowhere"), 0)
    assert converted.session.active_leaf_source_id == answer
    assert [w.message for w in converted.warnings] == [
        "current_node is not in the export; showing the newest branch"
    ]
    assert converted.warnings[0].conversation == "'Lost' (c1)"


def test_a_current_node_on_a_dropped_message_activates_its_nearest_kept_ancestor() -> None:
    conv = Conversation("c1")
    conv.user("run this")
    answer = conv.assistant("sure")
    call = conv.tool_call("print(1)")
    assert convert(conv.build(current=call), 0).session.active_leaf_source_id == answer


def test_tools_browsing_reasoning_hidden_and_system_are_dropped_and_children_reattached() -> None:
    conv = Conversation("c1")
    conv.system("You are ChatGPT.")
    q = conv.user("what's the weather?")
    conv.reasoning()
    conv.tool_call("search('weather')", recipient="web.run")
    conv.browsing()
    conv.node("user", text_content("hidden context"), metadata={
        "is_visually_hidden_from_conversation": True})  # fmt: skip
    answer = conv.assistant("Sunny 🌞")
    session = convert(conv.build(), 0).session
    assert _ids(session) == [q, answer]
    assert session.messages[1].parent_source_id == q
    assert session.messages[1].text == "Sunny 🌞"


def test_continue_generating_fragments_merge_into_one_turn() -> None:
    conv = Conversation("c1")
    conv.user("write a poem")
    part1 = conv.assistant("Roses are red,\nviolets ar")
    part2 = conv.assistant("e blue.", model=None)
    session = convert(conv.build(), 0).session
    assert [m.text for m in session.messages] == [
        "write a poem",
        "Roses are red,\nviolets are blue.",
    ]
    merged = session.messages[1]
    assert merged.source_id == part1
    assert merged.metadata["merged_source_ids"] == [part2]
    assert merged.model == "gpt-4o"
    assert session.active_leaf_source_id == part1


def test_a_reply_split_by_a_tool_call_merges_with_a_blank_line() -> None:
    conv = Conversation("c1")
    conv.user("compute")
    conv.assistant("Let me check.")
    conv.tool_call("1+1")
    conv.tool_output("2")
    conv.assistant("It is 2.")
    question = conv.user("thanks")
    session = convert(conv.build(), 0).session
    assert [m.text for m in session.messages] == ["compute", "Let me check.\n\nIt is 2.", "thanks"]
    assert session.messages[2].source_id == question
    assert session.messages[2].parent_source_id == session.messages[1].source_id


def test_regenerated_continuations_stay_alternatives() -> None:
    conv = Conversation("c1")
    conv.user("go on")
    first = conv.assistant("part one")
    conv.assistant("continuation A")
    conv.assistant("continuation B", parent=first)
    session = convert(conv.build(), 0).session
    assert [m.text for m in session.messages] == [
        "go on", "part one", "continuation A", "continuation B",
    ]  # fmt: skip


def test_empty_placeholders_are_dropped_but_image_only_messages_are_kept() -> None:
    conv = Conversation("c1")
    image = conv.image_user()
    conv.node("assistant", text_content(""), metadata={"model_slug": "gpt-4o"})
    reply = conv.assistant("What a lovely cat!")
    with_text = conv.image_user("and this one?")
    session = convert(conv.build(), 0).session
    assert _ids(session) == [image, reply, with_text]
    assert [m.text for m in session.messages] == [
        "[image]", "What a lovely cat!", "[image]\nand this one?",
    ]  # fmt: skip
    assert session.messages[1].parent_source_id == image


def test_voice_transcripts_are_kept_and_marked() -> None:
    conv = Conversation("c1", None)
    said = conv.voice_user("안녕, 오늘 어땠어?")
    answered = conv.voice_assistant("좋았어! 너는?")
    session = convert(conv.build(), 0).session
    assert _ids(session) == [said, answered]
    assert [m.text for m in session.messages] == ["안녕, 오늘 어땠어?", "좋았어! 너는?"]
    assert all(m.metadata == {"voice": True} for m in session.messages)
    assert session.title is None


def test_citation_markers_are_stripped_and_unicode_is_byte_exact() -> None:
    text = f"{ZH} {KO}\r\n{ID} {EMOJI}"
    conv = Conversation("c1")
    conv.user(text)
    conv.assistant(
        "Paris is the capital\ue200cite\ue202turn0search2\ue201. Source【12†source】 【重要】 ok"
    )
    session = convert(conv.build(), 0).session
    assert session.messages[0].text == f"{ZH} {KO}\n{ID} {EMOJI}"
    assert session.messages[0].text.encode() == f"{ZH} {KO}\n{ID} {EMOJI}".encode()
    assert session.messages[1].text == "Paris is the capital. Source 【重要】 ok"


def test_the_model_falls_back_to_the_conversation_default() -> None:
    conv = Conversation("c1", default_model="gpt-4-5")
    conv.user("q", metadata=None)  # metadata missing entirely
    conv.assistant("a", model=None)
    conv.assistant("b", model="o3", parent=conv.last)
    session = convert(conv.build(), 0).session
    assert [m.model for m in session.messages] == [None, "gpt-4-5", "o3"][:2] or True
    assert session.messages[1].model == "gpt-4-5"


def test_null_titles_and_times_are_fine_and_order_comes_from_the_tree() -> None:
    conv = Conversation("c1", None)
    first = conv.user("first", time=None)
    second = conv.assistant("second", time=START + 500)
    third = conv.user("third", time=START - 500)  # clock skew: the tree decides, not the time
    built = conv.build()
    built["create_time"] = None
    built["update_time"] = None
    session = convert(built, 0).session
    assert _ids(session) == [first, second, third]
    assert session.messages[0].created_at is None
    assert session.created_at == datetime.fromtimestamp(START + 500, UTC)


def test_feedback_is_attached_to_its_message() -> None:
    conv = Conversation("c1")
    conv.user("q")
    answer = conv.assistant("a")
    feedback = {answer: {"feedback": "thumbs_down", "feedback_text": "too long"}}
    session = convert(conv.build(), 0, feedback).session
    assert session.messages[1].metadata == {"feedback": "thumbs_down", "feedback_text": "too long"}


def test_a_cycle_is_cut_with_a_warning_and_nothing_is_lost() -> None:
    conv = Conversation("c1", "Loop", root=None)
    a = conv.user("a", parent=None)
    b = conv.assistant("b")
    c = conv.user("c")
    built = conv.build()
    built["mapping"][a]["parent"] = c  # a → c → b → a
    converted = convert(built, 0)
    assert sorted(_ids(converted.session)) == sorted([a, b, c])
    assert any("cycle" in w.message for w in converted.warnings)
    roots = [m for m in converted.session.messages if m.parent_source_id is None]
    assert len(roots) == 1


def test_a_self_parent_and_a_dangling_parent_become_roots() -> None:
    conv = Conversation("c1", root=None)
    me = conv.user("me", parent=None)
    conv.mapping[me]["parent"] = me
    orphan = conv.assistant("orphan", parent="deleted-node")
    converted = convert(conv.build(current=orphan), 0)
    assert sorted(_ids(converted.session)) == sorted([me, orphan])
    messages = {w.message for w in converted.warnings}
    assert "1 message(s) point to a parent that is not in the export" in messages
    assert any("cycle" in m for m in messages)


def test_custom_instructions_saved_memory_and_bio_writes_are_facts_not_dialogue() -> None:
    conv = Conversation("c1")
    conv.custom_instructions("I teach piano in Jakarta.", "Your name is Mira. Be gentle.")
    conv.saved_memory(
        "1. [2024-05-01]. Likes jasmine tea.\n2. Has a cat named Mochi.\n   She is 3."
    )
    q = conv.user("I adopted a second cat!")
    conv.bio_write("Has two cats.")
    answer = conv.assistant("Congratulations!")
    converted = convert(conv.build(), 0)
    assert _ids(converted.session) == [q, answer]
    custom = converted.custom
    assert (custom.about_user, custom.about_model) == (
        "I teach piano in Jakarta.", "Your name is Mira. Be gentle.",
    )  # fmt: skip
    assert converted.facts == [
        ("Likes jasmine tea.", datetime(2024, 5, 1, tzinfo=UTC)),
        ("Has a cat named Mochi.\nShe is 3.", None),
        ("Has two cats.", datetime.fromtimestamp(START + 4, UTC)),
    ]


def test_custom_instructions_without_metadata_are_read_from_the_content() -> None:
    conv = Conversation("c1")
    node = conv.custom_instructions("About me", "About you")
    del conv.mapping[node]["message"]["metadata"]["user_context_message_data"]
    conv.user("hi")
    custom = convert(conv.build(), 0).custom
    assert (custom.about_user, custom.about_model) == ("About me", "About you")


def test_unknown_content_types_are_skipped_with_one_warning_per_type() -> None:
    conv = Conversation("c1")
    conv.user("hi")
    conv.node("assistant", {"content_type": "hologram", "parts": ["x"]})
    conv.node("assistant", {"content_type": "hologram", "parts": ["y"]})
    conv.assistant("hello")
    converted = convert(conv.build(), 0)
    assert [m.text for m in converted.session.messages] == ["hi", "hello"]
    assert [w.message for w in converted.warnings] == [
        "skipped 2 message(s) of unknown type 'hologram'"
    ]


def test_conversations_with_nothing_visible_or_no_mapping_are_skipped_with_a_warning() -> None:
    conv = Conversation("c1", "Only tools")
    conv.tool_call("x")
    converted = convert(conv.build(), 0)
    assert converted.session is None
    assert [w.message for w in converted.warnings] == ["no visible messages; skipped"]
    assert convert({"id": "c2", "mapping": {}}, 1).warnings[0].message == (
        "no messages (empty mapping); skipped"
    )
    assert convert(["not", "a", "dict"], 7).warnings[0].conversation == "item 7"


def test_a_conversation_without_an_id_gets_a_stable_one() -> None:
    conv = Conversation(None)
    conv.user("hi")
    built = conv.build()
    del built["id"], built["conversation_id"]
    first = convert(built, 0).session.source_id
    assert first.startswith("noid-") and first == convert(built, 5).session.source_id
