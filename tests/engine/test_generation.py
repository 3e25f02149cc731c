"""Streaming on real tiny GGUFs: pieces arrive, the end-of-turn token stops, cancel stops at once,
the perf counters count what the KV cache did not hold, and sampling matches llama-cpp-python."""

from __future__ import annotations

import threading

import pytest

from runtime.companion import GenerationSettings
from runtime.engine import sampling_arguments
from tests.engine.conftest import GREEDY

pytestmark = pytest.mark.slow

PROMPTS = ["Hello there!", "你好吗？", "오늘 뭐 해요?", "Apa kabar?"]


def chat_prompt(engine, *texts: str) -> list[int]:
    """Tokens of a conversation of alternating user/assistant `texts` (user first)."""
    roles = ["user", "assistant"]
    messages = [{"role": roles[i % 2], "content": text} for i, text in enumerate(texts)]
    return engine.tokenize(engine.render(messages))


@pytest.mark.parametrize("text", PROMPTS)
def test_reply_streams_and_stops_on_the_end_of_turn_token(engine, text):
    generation = engine.generate(chat_prompt(engine, text), GREEDY)
    pieces = list(generation)
    stats = generation.stats
    assert stats.finish_reason == "stop"
    assert 0 < stats.completion_tokens < GREEDY.max_tokens
    assert pieces and "".join(pieces) == generation.text
    assert generation.text.strip()
    assert "<|im_end|>" not in generation.text


def test_a_reply_streams_in_several_pieces(engine):
    generation = engine.generate(chat_prompt(engine, "Good night."), GREEDY)
    assert len(list(generation)) >= 3


def test_max_tokens_ends_with_length(babbler):
    settings = GenerationSettings(temperature=0.0, max_tokens=40)
    generation = babbler.generate(chat_prompt(babbler, "Hello there!"), settings)
    list(generation)
    assert generation.stats.finish_reason == "length"
    assert generation.stats.completion_tokens == 40


def test_a_long_stream_of_broken_utf8_is_decoded_token_by_token(babbler):
    # The untrained model emits stray UTF-8 continuation bytes; llama-cpp-python's own
    # streaming re-decodes all pending tokens each step and crawls on such output.
    settings = GenerationSettings(temperature=1.0, max_tokens=1000, seed=3)
    generation = babbler.generate(chat_prompt(babbler, "Hello there!"), settings)
    pieces = list(generation)
    count = generation.stats.completion_tokens
    assert count > 300  # (it may sample an end-of-turn token by chance, but not that early)
    assert len(pieces) > count // 2
    assert "\ufffd" in generation.text  # broken bytes become replacement characters


def test_cancel_set_while_handling_a_piece_stops_before_the_next_token(babbler):
    cancel = threading.Event()
    settings = GenerationSettings(temperature=0.0, max_tokens=500)
    generation = babbler.generate(chat_prompt(babbler, "Hi!"), settings, cancel=cancel)
    pieces = []
    for piece in generation:
        pieces.append(piece)
        if len(pieces) == 5:
            cancel.set()
    stats = generation.stats
    assert stats.finish_reason == "cancelled"
    assert len(pieces) <= 6  # the five, plus at most the decoder's flush of a partial character
    # Nothing was decoded after the cancel: the last token handed out was never evaluated.
    assert babbler.llama.n_tokens == stats.prompt_tokens + stats.completion_tokens - 1


def test_cancel_from_another_thread_stops_within_one_token(babbler):
    cancel, first = threading.Event(), threading.Event()
    seen_at_cancel: list[int] = []
    pieces: list[str] = []

    def stopper() -> None:
        first.wait(10)
        seen_at_cancel.append(len(pieces))
        cancel.set()

    thread = threading.Thread(target=stopper)
    thread.start()
    settings = GenerationSettings(temperature=0.0, max_tokens=3000)
    generation = babbler.generate(chat_prompt(babbler, "Hi!"), settings, cancel=cancel)
    for piece in generation:
        pieces.append(piece)
        first.set()
    thread.join()
    assert generation.stats.finish_reason == "cancelled"
    assert generation.stats.completion_tokens < 3000
    assert len(pieces) - seen_at_cancel[0] <= 2  # one token in flight, plus a decoder flush


def test_leaving_the_loop_early_ends_generation_and_fills_stats(engine):
    generation = engine.generate(chat_prompt(engine, "Good night."), GREEDY)
    stream = iter(generation)
    next(stream)
    stream.close()
    assert generation.stats is not None
    assert generation.stats.completion_tokens == 1
    assert generation.stats.finish_reason == "cancelled"
    # The lock was released: the engine can generate again.
    assert list(engine.generate(chat_prompt(engine, "Hi!"), GREEDY))


def test_a_generation_is_iterated_once(engine):
    generation = engine.generate(chat_prompt(engine, "Hi!"), GREEDY)
    list(generation)
    with pytest.raises(RuntimeError, match="once"):
        iter(generation)


def test_prompt_tokens_evaluated_are_what_the_kv_cache_did_not_hold(engine):
    engine.reset()
    texts: list[str] = []
    evaluated = []
    for user in ["Hello there!", "你好吗？", "Apa kabar?", "Good night."]:
        texts.append(user)
        tokens = chat_prompt(engine, *texts)
        predicted = engine.predicted_evaluation(tokens)
        generation = engine.generate(tokens, GREEDY)
        texts.append("".join(generation))
        stats = generation.stats
        assert stats.prompt_tokens == len(tokens)
        assert stats.prompt_tokens_evaluated == predicted
        evaluated.append(stats.prompt_tokens_evaluated)
    assert evaluated[0] == len(chat_prompt(engine, texts[0]))
    # Later turns evaluate only the new exchange, not the whole conversation again.
    assert all(count < 30 for count in evaluated[1:])
    # The same prompt again: one token is re-evaluated to refresh the logits.
    again = engine.generate(tokens, GREEDY)
    list(again)
    assert again.stats.prompt_tokens_evaluated == 1


def test_after_reset_the_whole_prompt_is_evaluated(engine):
    tokens = chat_prompt(engine, "Hello there!")
    list(engine.generate(tokens, GREEDY))
    engine.reset()
    generation = engine.generate(tokens, GREEDY)
    list(generation)
    assert generation.stats.prompt_tokens_evaluated == len(tokens)


def test_sampling_gives_the_same_tokens_as_create_completion(engine):
    settings = GenerationSettings(temperature=0.9, seed=1234, max_tokens=40)
    tokens = chat_prompt(engine, "Send me an emoji 🙂")
    engine.reset()
    ours = "".join(engine.generate(tokens, settings))
    engine.reset()
    theirs = engine.llama.create_completion(tokens, **sampling_arguments(settings))
    assert ours == theirs["choices"][0]["text"]


def test_without_a_seed_each_generation_samples_differently(babbler):
    settings = GenerationSettings(temperature=1.5, max_tokens=12)
    tokens = chat_prompt(babbler, "Hi!")
    replies = {"".join(babbler.generate(tokens, settings)) for _ in range(4)}
    assert len(replies) > 1
    fixed = GenerationSettings(temperature=1.5, max_tokens=12, seed=7)
    assert len({"".join(babbler.generate(tokens, fixed)) for _ in range(3)}) == 1
