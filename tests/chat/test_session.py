"""ChatSession with the real tiny model and a real transcript store: every turn persisted as it
happens; regenerate, edit, alternatives and undo as branches of the message tree."""

from __future__ import annotations

import threading

import pytest

from runtime.chat import ChatSession
from runtime.companion import Companion, GenerationSettings, Persona
from runtime.engine import Engine, EngineConfig
from runtime.errors import UsageError
from runtime.store import TranscriptStore

pytestmark = pytest.mark.slow

MIRA = Companion(
    persona=Persona(name="Mira", first_mes="Hi {{user}}! I'm {{char}}."),
    generation=GenerationSettings(temperature=0.0, max_tokens=48),
)


@pytest.fixture(scope="module")
def engine(tiny_models):
    engine = Engine.load(EngineConfig(model=tiny_models.gguf_q4_k_m, context_size=1024))
    yield engine
    engine.close()


@pytest.fixture
def store(tmp_path):
    with TranscriptStore.open(tmp_path / "transcript.sqlite") as opened:
        yield opened


@pytest.fixture
def chat(store, engine):
    session = store.create_session()
    return ChatSession(store, engine, MIRA, session.id, user_name="Sam")


def texts(chat: ChatSession) -> list[tuple[str, str]]:
    return [(step.message.role, step.message.text) for step in chat.path()]


def test_the_greeting_is_stored_once(chat):
    greeting = chat.greet()
    assert greeting.text == "Hi Sam! I'm Mira."
    assert greeting.metadata == {"greeting": True}
    assert chat.greet() is None
    assert texts(chat) == [("assistant", "Hi Sam! I'm Mira.")]


def test_send_streams_and_persists_both_messages(chat, store):
    chat.greet()
    pieces: list[str] = []
    turn = chat.send("Hello there!", on_text=pieces.append)
    assert turn.stats.finish_reason == "stop"
    assert "".join(pieces) == turn.reply.text and turn.reply.text.strip()
    assert not turn.reply.partial
    assert turn.reply.model == "tiny-Q4_K_M"
    assert turn.reply.parent_id == turn.user.id
    assert texts(chat)[1:] == [("user", "Hello there!"), ("assistant", turn.reply.text)]
    assert store.get_session(chat.session_id).title == "Hello there!"
    assert turn.report is chat.last_report


def test_an_empty_message_is_refused_before_anything_is_stored(chat):
    with pytest.raises(UsageError, match="empty"):
        chat.send("   ")
    assert texts(chat) == []


def test_later_turns_cost_the_same_however_long_the_conversation(chat):
    chat.engine.reset()  # the engine is shared by this module's tests
    chat.greet()
    messages = ["Hello there!", "Good night.", "Hello there!", "Good night.", "Hello there!"]
    stats = [chat.send(text).stats for text in messages]
    assert stats[0].prompt_tokens_evaluated == stats[0].prompt_tokens  # nothing cached yet
    # The prompt grows with every exchange; what is evaluated stays the last exchange plus
    # the per-turn parts.
    assert stats[4].prompt_tokens > stats[2].prompt_tokens > stats[1].prompt_tokens
    assert stats[4].prompt_tokens_evaluated == stats[2].prompt_tokens_evaluated
    assert stats[4].prompt_tokens_evaluated < stats[4].prompt_tokens * 0.6


def test_regenerate_adds_a_sibling_reply(chat, store):
    first = chat.send("Hello there!")
    again = chat.regenerate()
    assert again.user.id == first.user.id
    assert again.reply.parent_id == first.user.id != None  # noqa: E711
    assert [m.id for m in store.siblings(first.reply.id)] == [first.reply.id, again.reply.id]
    last = chat.path()[-1]
    assert (last.message.id, last.position, last.alternatives) == (again.reply.id, 2, 2)


def test_regenerate_answers_an_unanswered_message(chat, store):
    user = store.append(chat.session_id, "user", "Good night.")
    turn = chat.regenerate()
    assert turn.user.id == user.id
    assert store.alternatives_count(turn.reply.id) == 1


def test_regenerate_needs_something_to_answer(chat):
    with pytest.raises(UsageError, match="no reply to regenerate"):
        chat.regenerate()
    chat.greet()
    with pytest.raises(UsageError, match="greeting has no message before it"):
        chat.regenerate()


def test_edit_adds_a_new_version_of_your_last_message(chat, store):
    first = chat.send("Hello there!")
    edited = chat.edit("Apa kabar?")
    assert edited.user.parent_id == first.user.parent_id
    assert [m.text for m in store.siblings(edited.user.id)] == ["Hello there!", "Apa kabar?"]
    assert texts(chat)[-2] == ("user", "Apa kabar?")
    # The old branch is still there, with its reply.
    assert store.children(first.user.id)[0].id == first.reply.id


def test_switching_alternatives_shows_the_chosen_branch(chat):
    first = chat.send("Hello there!")
    chat.edit("Good night.")
    point = chat.branch_point()
    assert (point.step.position, point.step.alternatives) == (2, 2)
    path = chat.switch_alternative(1)
    assert [step.message.id for step in path][-2:] == [first.user.id, first.reply.id]
    with pytest.raises(UsageError, match="choose 1 to 2"):
        chat.switch_alternative(3)


def test_without_branches_there_is_nothing_to_switch(chat):
    chat.send("Hello there!")
    assert chat.branch_point() is None
    with pytest.raises(UsageError, match="no alternatives"):
        chat.switch_alternative(1)


def test_undo_removes_your_last_message_and_its_replies(chat):
    chat.greet()
    chat.send("Hello there!")
    chat.regenerate()
    assert chat.undo() == 3  # the message and both replies
    assert texts(chat) == [("assistant", "Hi Sam! I'm Mira.")]
    with pytest.raises(UsageError, match="not said anything"):
        chat.undo()


def test_a_cancelled_reply_is_kept_and_marked_partial(store, tiny_babbler):
    babbler = Engine.load(EngineConfig(model=tiny_babbler.gguf_q4_k_m, context_size=2048))
    try:
        session = store.create_session()
        long = MIRA.model_copy(update={"generation": GenerationSettings(max_tokens=1500)})
        chat = ChatSession(store, babbler, long, session.id)
        cancel = threading.Event()
        pieces: list[str] = []

        def collect(piece: str) -> None:
            pieces.append(piece)
            if len(pieces) == 20:
                cancel.set()

        turn = chat.send("Hi!", on_text=collect, cancel=cancel)
        assert turn.stats.finish_reason == "cancelled"
        assert turn.reply.partial
        assert turn.reply.text == "".join(pieces)
        assert store.get_message(turn.user.id).text == "Hi!"
    finally:
        babbler.close()


def test_the_reply_is_written_while_it_streams(store, tiny_babbler, tmp_path):
    babbler = Engine.load(EngineConfig(model=tiny_babbler.gguf_q4_k_m, context_size=2048))
    try:
        session = store.create_session()
        long = MIRA.model_copy(update={"generation": GenerationSettings(max_tokens=200)})
        chat = ChatSession(store, babbler, long, session.id)
        chat.FLUSH_SECONDS = 0.0
        seen: list[tuple[str, bool]] = []
        with TranscriptStore.open(store.path) as reader:

            def look(_piece: str) -> None:
                leaf = reader.active_path(session.id)[-1]
                seen.append((leaf.text, leaf.partial))

            turn = chat.send("Hi!", on_text=look)
        assert all(partial for _, partial in seen)
        assert len({text for text, _ in seen}) > 10  # it grew piece by piece
        assert seen[-1][0] and turn.reply.text.startswith(seen[-1][0])
        assert not turn.reply.partial
    finally:
        babbler.close()


def test_a_failure_while_streaming_keeps_the_partial_reply(chat, store):
    def explode(piece: str) -> None:
        raise RuntimeError("display went away")

    with pytest.raises(RuntimeError, match="display went away"):
        chat.send("Good night.", on_text=explode)
    user, reply = (step.message for step in chat.path()[-2:])
    assert (user.role, user.text) == ("user", "Good night.")
    assert reply.role == "assistant" and reply.partial
    # The engine was released: the next turn works.
    assert chat.send("Hello there!").stats.finish_reason == "stop"


def test_the_context_report_is_rebuilt_for_a_reopened_session(chat, store, engine):
    chat.greet()
    chat.send("Hello there!")
    reopened = ChatSession(store, engine, MIRA, chat.session_id, user_name="Sam")
    report = reopened.context_report()
    assert report.history_messages == 1  # the greeting; the message answered is the newest
    assert report.total_tokens == chat.last_report.total_tokens
    fresh = ChatSession(store, engine, MIRA, store.create_session().id)
    with pytest.raises(UsageError, match="nothing has been said"):
        fresh.context_report()


def test_what_a_regeneration_or_edit_replaces_is_not_offered_as_a_memory(store, engine):
    from runtime.retrieval import TranscriptRetriever

    session = store.create_session()
    retriever = TranscriptRetriever(store, char="Mira", user="Sam")
    chat = ChatSession(store, engine, MIRA, session.id, retriever=retriever, user_name="Sam")
    store.append(session.id, "user", "Tell me about the lighthouse keeper")
    store.append(session.id, "assistant", "The lighthouse keeper sang to the lighthouse gulls")
    regenerated = chat.regenerate()
    assert regenerated.report.memories == ()
    edited = chat.edit("And the lighthouse keeper's cat?")
    texts_used = [memory.text for memory in edited.report.memories]
    assert not any("lighthouse keeper" in text for text in texts_used)
