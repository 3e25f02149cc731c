"""The dataset builder's pure parts: PII, boilerplate, model filter, merging, windows, split."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runtime.errors import UsageError
from training.dataset.boilerplate import DEFAULT_PATTERNS, Boilerplate, load_patterns
from training.dataset.clean import Cleaner, Exchange, FilterCounts, merge_speakers
from training.dataset.conversations import Conversation, Turn
from training.dataset.dedup import Deduplicator
from training.dataset.options import DatasetOptions
from training.dataset.pii import PiiCounts, scrub
from training.dataset.split import eval_count, split_by_time
from training.dataset.stats import length_histogram
from training.dataset.windows import Budget, cap, cut, size

T0 = datetime(2025, 2, 14, 20, 30, tzinfo=UTC)

# --- personal data --------------------------------------------------------------------------

PHONES = [
    "+1 555 123 4567",
    "+44 20 7946 0958",
    "+62 812-3456-7890",
    "+6281234567890",
    "(555) 123-4567",
    "555-123-4567",
    "010-1234-5678",
    "0812-3456-7890",
    "138 0013 8000",
    "13800138000",
    "06 12 34 56 78",
]
NOT_PHONES = [
    "2025-02-14",
    "14.02.2025",
    "2025/02/14",
    "2025-02-14T20:30:00",
    "20:30:15",
    "v1.2.3",
    "3.11.4",
    "version 2024.10.15",
    "$1,299.99",
    "1.234.567,89 €",
    "Rp 1.500.000",
    "192.168.10.10",
    "100 000 000",
    "2019 2020 2021",
    "1739565000",
    "ISBN 978-3-16-148410-0",
    "call 555-1234",
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_scrubbed(phone: str) -> None:
    counts = PiiCounts()
    assert scrub(f"call me on {phone}, thanks", counts) == "call me on [phone], thanks"
    assert counts.to_json() == {"email": 0, "phone": 1}


@pytest.mark.parametrize("text", NOT_PHONES)
def test_dates_times_versions_and_prices_are_kept(text: str) -> None:
    counts = PiiCounts()
    assert scrub(f"see {text} here", counts) == f"see {text} here"
    assert counts.to_json() == {"email": 0, "phone": 0}


def test_emails_are_scrubbed() -> None:
    counts = PiiCounts()
    text = "Mail a.b+c@example.co.uk or 小明@例子.com, not @handle or x@y."
    assert scrub(text, counts) == "Mail [email] or [email], not @handle or x@y."
    assert counts.to_json() == {"email": 2, "phone": 0}


# --- boilerplate ----------------------------------------------------------------------------


def test_boilerplate_lines_are_stripped_in_several_languages() -> None:
    strip = Boilerplate(DEFAULT_PATTERNS).apply
    reply = "Sure.\nAs an AI language model, I have no taste buds.\n\nBut mint is lovely."
    assert strip(reply).text == "Sure.\n\nBut mint is lovely."
    assert strip(reply).lines_removed == 1
    assert strip("I'm sorry, but I can't help with that.").text == ""
    assert strip("作为一个人工智能，我没有感情。\n但我喜欢你。").text == "但我喜欢你。"
    assert strip("Sebagai AI, saya tidak bisa makan.\nTapi aku senang.").text == "Tapi aku senang."
    assert strip("AI 언어 모델로서 저는...\n좋아요!").text == "좋아요!"
    # A character may be sorry and unable to come; that is not boilerplate.
    kept = "I'm sorry, I can't make it tonight. Tomorrow?"
    assert strip(kept).text == kept
    assert strip(kept).lines_removed == 0


def test_patterns_file(tmp_path: Path) -> None:
    good = tmp_path / "patterns.txt"
    good.write_text("# my patterns\n\n^Note:\nhope this helps\n", encoding="utf-8")
    assert load_patterns(good) == ("^Note:", "hope this helps")
    stripped = Boilerplate(load_patterns(good)).apply("Note: x\nHi!\nHope this helps!")
    assert stripped.text == "Hi!"
    bad = tmp_path / "bad.txt"
    bad.write_text("fine\n(unclosed\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"bad\.txt:2: invalid regular expression '\(unclosed'"):
        load_patterns(bad)
    with pytest.raises(UsageError, match="cannot read the patterns file"):
        load_patterns(tmp_path / "missing.txt")


# --- cleaning -------------------------------------------------------------------------------


def _turns(*spec: tuple[str, str, str | None]) -> Conversation:
    turns = [
        Turn(role, text, T0 + timedelta(minutes=i), model=model)  # type: ignore[arg-type]
        for i, (role, text, model) in enumerate(spec)
    ]
    return Conversation(1, "chatgpt", turns)


def test_model_filter_is_a_case_insensitive_glob() -> None:
    exact = Cleaner(DatasetOptions(model_filter=("gpt-4o",)), FilterCounts())
    assert exact.model_matches("GPT-4o")
    assert not exact.model_matches("gpt-4o-mini")
    assert not exact.model_matches(None)
    family = Cleaner(DatasetOptions(model_filter=("gpt-4o*", "gpt-4.5")), FilterCounts())
    assert family.model_matches("gpt-4o-mini") and family.model_matches("gpt-4.5")
    assert not family.model_matches("gpt-4")
    assert Cleaner(DatasetOptions(), FilterCounts()).model_matches(None)


def test_cleaning_keeps_filtered_replies_as_context_and_drops_refusals() -> None:
    counts = FilterCounts()
    cleaner = Cleaner(DatasetOptions(model_filter=("gpt-4o",), scrub_pii=True), counts)
    conversation = _turns(
        ("assistant", "Hello! (a greeting before any user turn)", "gpt-4o"),
        ("user", "hi, I'm at me@example.com", None),
        ("assistant", "hello", "gpt-4"),
        ("user", "do something bad", None),
        ("assistant", "I cannot help with that.", "gpt-4o"),
        ("user", "ok", None),
        ("user", "tell me a story", None),
        ("assistant", "Once upon a time", "gpt-4o"),
        ("user", "no reply to this one", None),
    )
    exchanges = cleaner.exchanges(conversation)
    assert [(e.user.text, e.reply.text, e.reply.trained) for e in exchanges] == [
        ("hi, I'm at [email]", "hello", False),
        ("ok\n\ntell me a story", "Once upon a time", True),
    ]
    assert counts.to_json()["model_filter"] == 1
    assert counts.to_json()["empty"] == 1
    assert counts.to_json()["boilerplate_lines"] == 1
    assert counts.to_json()["pii"] == {"email": 1, "phone": 0}


def test_merged_replies_train_only_when_every_part_does() -> None:
    turns = [
        Turn("user", "a", T0),
        Turn("assistant", "b", T0, trained=True, rejected=("x",)),
        Turn("assistant", "c", T0, trained=False),
    ]
    merged = merge_speakers(turns)
    assert [(t.role, t.text, t.trained, t.rejected) for t in merged] == [
        ("user", "a", True, ()),
        ("assistant", "b\n\nc", False, ()),
    ]


def test_partial_and_old_replies_are_context_only() -> None:
    counts = FilterCounts()
    cleaner = Cleaner(DatasetOptions(since=T0 + timedelta(minutes=2)), counts)
    conversation = Conversation(
        1,
        "hearth",
        [
            Turn("user", "a", T0),
            Turn("assistant", "old", T0 + timedelta(minutes=1)),
            Turn("user", "b", T0 + timedelta(minutes=2)),
            Turn("assistant", "stopped", T0 + timedelta(minutes=3), partial=True),
            Turn("user", "c", T0 + timedelta(minutes=4)),
            Turn("assistant", "new", T0 + timedelta(minutes=5)),
        ],
    )
    assert [e.reply.trained for e in cleaner.exchanges(conversation)] == [False, False, True]
    assert counts.counts["before_since"] == 1 and counts.counts["partial"] == 1


def test_duplicate_exchanges_are_trained_once() -> None:
    counts = FilterCounts()
    dedup = Deduplicator(counts)
    first = [Exchange(Turn("user", "Hi", T0), Turn("assistant", "Hello there!", T0))]
    again = [Exchange(Turn("user", "hi ", T0), Turn("assistant", "hello   THERE!", T0))]
    assert dedup(first)[0].reply.trained
    assert not dedup(again)[0].reply.trained
    assert counts.counts["duplicates"] == 1


# --- windows --------------------------------------------------------------------------------


class WordCounter:
    """One token per word; a chat costs its words plus 2 per message (header, end)."""

    description = "words"

    def count_text(self, text: str) -> int:
        return len(text.split())

    def count_chat(self, messages) -> int:
        return sum(len(m["content"].split()) + 2 for m in messages)

    def close(self) -> None:
        pass


def _exchanges(*sizes: int, trained: bool = True) -> list[Exchange]:
    return [
        Exchange(
            Turn("user", f"u{i}", T0 + timedelta(minutes=i)),
            Turn("assistant", " ".join(["w"] * (n - 1) + [f"r{i}"]), T0, trained=trained),
        )
        for i, n in enumerate(sizes)
    ]


def _weights(window) -> list[tuple[str, int]]:
    return [(str(m["content"]).split()[-1], m["weight"]) for m in window.messages if "weight" in m]


def test_windows_fit_start_on_user_and_train_each_reply_once() -> None:
    counter = WordCounter()
    budget = Budget(counter, "system", max_length=20)  # system: 3 tokens; exchange: 1 + n + 4
    windows = cut(size(_exchanges(3, 3, 3, 3, 3, 3), counter), budget, overlap=1).windows
    for window in windows:
        assert window.tokens == counter.count_chat(window.messages) <= 20
        assert [m["role"] for m in window.messages][:2] == ["system", "user"]
        assert window.messages[-1]["role"] == "assistant" and window.messages[-1]["weight"] == 1
    assert [_weights(w) for w in windows] == [
        [("r0", 1), ("r1", 1)],
        [("r1", 0), ("r2", 1)],
        [("r2", 0), ("r3", 1)],
        [("r3", 0), ("r4", 1)],
        [("r4", 0), ("r5", 1)],
    ]
    no_overlap = cut(size(_exchanges(3, 3, 3, 3), counter), budget, overlap=0).windows
    assert [_weights(w) for w in no_overlap] == [[("r0", 1), ("r1", 1)], [("r2", 1), ("r3", 1)]]


def test_windows_skip_exchanges_too_long_and_context_only_tails() -> None:
    counter = WordCounter()
    budget = Budget(counter, "system", max_length=20)
    sized = size(_exchanges(3, 30, 3), counter)
    result = cut(sized, budget, overlap=2)
    assert result.too_long == 1
    assert [_weights(w) for w in result.windows] == [[("r0", 1)], [("r2", 1)]]
    untrained = cut(size(_exchanges(3, 3, trained=False), counter), budget, overlap=2)
    assert untrained.windows == [] and untrained.too_long == 0


def test_persona_longer_than_the_limit_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="the persona alone is 12 tokens"):
        Budget(WordCounter(), "word " * 10, max_length=12)


def test_cap_is_seeded_and_keeps_order() -> None:
    counter = WordCounter()
    budget = Budget(counter, "system", max_length=20)
    windows = cut(size(_exchanges(*[3] * 20), counter), budget, overlap=0).windows
    first = cap(windows, 4, random.Random("0:1"))
    assert first == cap(windows, 4, random.Random("0:1"))
    assert len(first) == 4
    assert [windows.index(w) for w in first] == sorted(windows.index(w) for w in first)
    assert cap(windows, 100, random.Random(0)) == windows


# --- split and stats ------------------------------------------------------------------------


def test_eval_count() -> None:
    assert eval_count(1, 0.1) == 0
    assert eval_count(2, 0.1) == 1
    assert eval_count(10, 0.1) == 1
    assert eval_count(11, 0.1) == 2
    assert eval_count(10, 0.0) == 0
    assert eval_count(3, 0.99) == 2


def test_split_holds_out_the_latest_conversations() -> None:
    times = [(1, T0), (2, T0 + timedelta(days=3)), (3, T0 + timedelta(days=1)), (4, T0)]
    assert split_by_time(times, 0.5) == {2, 3}


def test_length_histogram() -> None:
    assert length_histogram([10, 128, 129, 300, 600], 600) == {
        "<=128": 2,
        "<=256": 1,
        "<=512": 1,
        "<=600": 1,
    }
