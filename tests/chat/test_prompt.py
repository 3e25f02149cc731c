"""Prompt assembly with the real tiny model's template and tokenizer: order, a byte-stable prefix,
block-wise dropping under the budget, and a context report that matches the prompt."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime, timedelta

import pytest

from runtime.companion import Companion, CoreMemory, Persona
from runtime.engine import ChatTemplate, Engine, EngineConfig
from runtime.prompt import ContextTooSmallError, PromptBuilder
from runtime.retrieval import MemoryListRetriever, RetrievedMemory
from runtime.store import Message
from tests.chat.templates import NO_SYSTEM

pytestmark = pytest.mark.slow

NOW = datetime(2025, 2, 14, 20, 30, tzinfo=UTC)
COMPANION = Companion(
    persona=Persona(
        name="Mira",
        description="{{char}} keeps the lighthouse; <USER> visits her.",
        post_history_instructions="Stay warm and brief.",
    ),
    core_memories=[CoreMemory(label="user", text="{{user}} loves green tea")],
)
MEMORIES = [
    RetrievedMemory("m-tea", "Sam once brewed oolong tea for Mira", 0.0, "imported"),
    RetrievedMemory("m-sea", "Sam's sister lives by the sea in Busan", 0.0, "imported"),
]


@pytest.fixture(scope="module")
def engine(tiny_models):
    engine = Engine.load(EngineConfig(model=tiny_models.gguf_q4_k_m, context_size=1024))
    yield engine
    engine.close()


def conversation(*texts: str, first_id: int = 1) -> list[Message]:
    """Messages alternating user/assistant (user first), ids counting up."""
    roles = ("user", "assistant")
    return [
        Message(first_id + i, 1, None, roles[i % 2], text, NOW + timedelta(minutes=i), None, None)
        for i, text in enumerate(texts)
    ]


def build(engine, path, **options):
    builder = options.pop("builder", None) or PromptBuilder(
        engine, retriever=MemoryListRetriever(MEMORIES), user_name="Sam"
    )
    options.setdefault("max_tokens", 64)
    return builder.build(COMPANION, path, session_id=1, now=NOW, **options)


def test_parts_come_in_cache_friendly_order(engine):
    path = conversation("Hello there!", "Hi Sam.", "Do you like tea?")
    prompt = build(engine, path)
    text = prompt.text
    order = [
        "Mira keeps the lighthouse; Sam visits her.",  # persona, placeholders filled
        "[user]\nSam loves green tea",  # core memory
        "Hello there!",
        "Hi Sam.",  # history, in order
        "Sam once brewed oolong tea for Mira",  # retrieved memory
        "Current date and time:",
        "Stay warm and brief.",  # the card's post-history instructions
        "Do you like tea?",  # the newest user message
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    assert text.endswith("<|im_start|>assistant\n")


def test_per_turn_parts_are_not_in_the_system_message(engine):
    prompt = build(engine, conversation("Hello there!", "Hi Sam.", "Do you like tea?"))
    system = prompt.messages[0]
    assert system["role"] == "system"
    assert "oolong" not in system["content"] and "Current date" not in system["content"]
    late = prompt.messages[-2]
    assert late["role"] == "system" and "oolong" in late["content"]
    assert prompt.messages[-1] == {"role": "user", "content": "Do you like tea?"}


def test_the_prompt_only_grows_at_its_end_between_turns(engine):
    first = build(engine, conversation("Hello there!", "Hi Sam.", "Do you like tea?"))
    later = NOW + timedelta(minutes=7)
    path = conversation("Hello there!", "Hi Sam.", "Do you like tea?", "I do!", "Good night.")
    builder = PromptBuilder(engine, retriever=MemoryListRetriever(MEMORIES), user_name="Sam")
    second = builder.build(COMPANION, path, session_id=1, now=later, max_tokens=64)
    per_turn_at = first.text.rindex("<|im_start|>system")
    common = os.path.commonprefix([first.text, second.text])  # noqa: RUF071 - strings, on purpose
    # Identical, byte for byte, up to the old per-turn parts (and the "<|im_start|>" that
    # opens both the old per-turn message and the new user message).
    assert per_turn_at <= len(common) <= per_turn_at + len("<|im_start|>")
    kept = len(os.path.commonprefix([first.tokens, second.tokens]))  # noqa: RUF071
    assert kept >= len(engine.tokenize(first.text[:per_turn_at]))


def test_history_past_the_budget_is_dropped_in_blocks_and_the_newest_turn_kept(engine):
    texts = []
    for turn in range(60):
        texts += [f"Tell me about day {turn} at the lighthouse.", f"Day {turn} was calm."]
    texts.append("What about today?")
    builder = PromptBuilder(engine, retriever=MemoryListRetriever(MEMORIES), user_name="Sam")
    path = conversation(*texts)
    prompt = build(engine, path, builder=builder)
    report = prompt.report
    assert report.dropped_messages > 0
    assert report.total_tokens <= engine.n_ctx - report.reply_reserve
    assert prompt.messages[-1]["content"] == "What about today?"
    assert path[report.dropped_messages].role == "user"
    assert report.window_start_id == path[report.dropped_messages].id == prompt.window_start_id
    dropped = path[: report.dropped_messages]
    assert sum(engine.count_tokens(m.text) for m in dropped) >= builder.block_tokens * 0.5
    assert f"day {report.dropped_messages // 2 - 1} " not in prompt.text  # really gone


def test_the_window_start_moves_rarely_and_by_whole_blocks(engine):
    builder = PromptBuilder(engine, user_name="Sam")
    texts: list[str] = []
    starts = []
    keep = None
    for turn in range(80):
        texts += [f"Question {turn}: how was the sea?", f"Answer {turn}: the sea was grey."]
        path = conversation(*texts, f"Follow-up {turn}?")
        prompt = builder.build(
            COMPANION, path, session_id=1, now=NOW, max_tokens=64, keep_from=keep
        )
        keep = prompt.window_start_id
        starts.append(prompt.report.dropped_messages)
    jumps = [b - a for a, b in itertools.pairwise(starts) if b != a]
    assert jumps, "80 turns should outgrow a 1024-token window"
    assert all(jump > 0 for jump in jumps)  # never back
    assert min(jumps) >= 6  # never a single exchange at a time
    assert len(jumps) <= len(starts) // 8


def test_the_report_adds_up_to_the_prompt(engine):
    path = conversation("Hello there!", "Hi Sam.", "Is your sister still in Busan?")
    prompt = build(engine, path)
    report = prompt.report
    assert report.total_tokens == len(prompt.tokens) == len(engine.tokenize(prompt.text))
    assert sum(part.tokens for part in report.parts) == report.total_tokens
    names = [part.name for part in report.parts]
    assert names == ["persona", "core:user", "history", "memories", "time", "instructions", "user"]
    assert all(part.tokens > 0 for part in report.parts)
    assert [m.id for m in report.memories] == ["m-sea"]
    for used in report.memories:
        assert used.text in prompt.text and used.tokens > 0
    assert report.history_messages == 2 and report.dropped_messages == 0
    assert report.window_start_id == 1
    data = report.to_dict()
    assert data["memories"][0]["id"] == "m-sea" and data["total_tokens"] == report.total_tokens
    assert "memory m-sea" in report.format()


def test_retrieval_never_returns_what_is_already_in_the_window(engine):
    seen = {}

    class Spy:
        def retrieve(self, query, *, session_id, exclude_message_ids, k):
            seen.update(query=query, exclude=set(exclude_message_ids), k=k)
            return []

    path = conversation("Hello there!", "Hi Sam.", "And the tea?")
    build(engine, path, builder=PromptBuilder(engine, retriever=Spy(), user_name="Sam"))
    assert seen == {"query": "And the tea?", "exclude": {1, 2, 3}, "k": 4}


def test_a_persona_bigger_than_the_window_is_a_clear_error(engine):
    huge = Companion(persona=Persona(name="Mira", description="lighthouse " * 1200))
    builder = PromptBuilder(engine, user_name="Sam")
    with pytest.raises(ContextTooSmallError) as caught:
        builder.build(huge, conversation("Hi"), session_id=1, now=NOW, max_tokens=64)
    assert "context window of 1024 tokens" in caught.value.message
    assert "generation.context_size" in caught.value.hint


def test_system_messages_and_empty_replies_are_left_out_and_repeats_merged(engine):
    steps = [
        ("system", "imported instructions"),
        ("user", "Hello there!"),
        ("assistant", ""),  # a reply interrupted before its first token
        ("user", "Are you there?"),
        ("assistant", "Hi!"),
        ("user", "Still here."),
        ("user", "Me too."),  # sent while the previous message had no reply
    ]
    path = [
        Message(i + 1, 1, i or None, role, text, NOW, None, None)
        for i, (role, text) in enumerate(steps)
    ]
    prompt = build(engine, path)
    assert "imported instructions" not in prompt.text
    roles = [m["role"] for m in prompt.messages if m["role"] != "system"]
    assert roles == ["user", "assistant", "user"]
    assert prompt.messages[1]["content"] == "Hello there!\n\nAre you there?"
    assert prompt.messages[-1]["content"] == "Still here.\n\nMe too."


class OtherTemplate:
    """The tiny model's tokenizer with another model's chat template."""

    def __init__(self, engine, source):
        self.engine = engine
        self.template = ChatTemplate(source, bos_token="<bos>", eos_token="<eos>")
        self.n_ctx = engine.n_ctx

    def tokenize(self, text):
        return self.engine.tokenize(text)

    def count_tokens(self, text):
        return self.engine.count_tokens(text)


def test_a_template_without_system_role_gets_the_persona_in_the_first_user_turn(engine):
    model = OtherTemplate(engine, NO_SYSTEM)
    builder = PromptBuilder(model, retriever=MemoryListRetriever(MEMORIES), user_name="Sam")
    path = conversation("Hello there!", "Hi Sam.", "Do you like tea?")
    prompt = builder.build(COMPANION, path, session_id=1, now=NOW, max_tokens=64)
    roles = [m["role"] for m in prompt.messages]
    assert roles == ["user", "assistant", "user"]
    assert prompt.messages[0]["content"].startswith("You are Mira")
    assert prompt.messages[0]["content"].endswith("Hello there!")
    newest = prompt.messages[-1]["content"]
    assert newest.index("oolong") < newest.index("Current date") < newest.index("Do you like tea?")
    assert sum(part.tokens for part in prompt.report.parts) == prompt.report.total_tokens
    assert prompt.report.layout.startswith("persona in the first user message")
