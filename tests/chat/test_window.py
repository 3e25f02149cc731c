"""The history window: boundaries only at user messages, a block apart, never moved by appends;
the window start jumps in blocks and never moves back."""

from __future__ import annotations

import itertools

from runtime.prompt.window import Entry, boundaries, choose_start


def exchanges(count: int, tokens: int = 10) -> list[Entry]:
    """`count` user/assistant pairs of `tokens` each."""
    return [Entry(role, tokens) for _ in range(count) for role in ("user", "assistant")]


def test_boundaries_sit_at_user_messages_a_block_apart():
    found = boundaries(exchanges(20), block_tokens=50)
    assert found[0] == 0
    assert all(index % 2 == 0 for index in found)  # user messages
    assert [b - a for a, b in itertools.pairwise(found)] == [6] * (len(found) - 1)


def test_appending_never_moves_a_boundary():
    entries = exchanges(30)
    full = boundaries(entries, block_tokens=45)
    for end in range(1, len(entries)):
        prefix = boundaries(entries[:end], block_tokens=45)
        assert full[: len(prefix)] == prefix


def test_a_long_message_delays_the_next_boundary_to_a_user_message():
    entries = [Entry("user", 5), Entry("assistant", 200), Entry("assistant", 5), Entry("user", 5)]
    assert boundaries(entries, block_tokens=100) == [0, 3]


def fits_under(entries: list[Entry], limit: int):
    return lambda start: sum(entry.tokens for entry in entries[start:]) <= limit


def test_start_is_the_first_boundary_that_fits():
    entries = exchanges(20)  # 400 tokens
    start = choose_start(
        entries, block_tokens=60, fixed_tokens=0, limit=300, fits=fits_under(entries, 300)
    )
    assert start in boundaries(entries, 60)
    assert sum(e.tokens for e in entries[start:]) <= 300
    assert start == 12  # 0 and 6 do not fit; 12 leaves 280 tokens


def test_start_moves_in_blocks_as_the_conversation_grows():
    starts = []
    entries: list[Entry] = []
    floor = 0
    for _ in range(60):
        entries += exchanges(1)
        floor = choose_start(
            entries, block_tokens=100, fixed_tokens=0, limit=300,
            fits=fits_under(entries, 300), floor=floor,
        )  # fmt: skip
        starts.append(floor)
    moves = [b - a for a, b in itertools.pairwise(starts) if b != a]
    assert moves and all(move >= 10 for move in moves)  # whole blocks, never single turns
    assert len(set(starts)) <= 1 + 60 * 20 // 100  # few distinct starts over 60 turns


def test_start_never_moves_back_before_the_floor():
    entries = exchanges(20)
    start = choose_start(
        entries, block_tokens=60, fixed_tokens=0, limit=10_000,
        fits=fits_under(entries, 10_000), floor=8,
    )  # fmt: skip
    assert start == 8  # everything would fit, but the previous window started at 8


def test_estimates_over_the_limit_are_skipped_without_rendering():
    entries = exchanges(20)
    tried = []

    def fits(start: int) -> bool:
        tried.append(start)
        return True

    choose_start(entries, block_tokens=60, fixed_tokens=100, limit=300, fits=fits)
    assert tried == [24]  # from 18 the estimate is 100 + 220 > 300; from 24 it is 100 + 160


def test_nothing_fits_drops_all_history():
    entries = exchanges(5)
    start = choose_start(
        entries, block_tokens=10, fixed_tokens=0, limit=5, fits=lambda start: False
    )
    assert start == len(entries)
