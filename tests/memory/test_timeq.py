"""Time in questions, in the five languages: the period each phrase points at."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from runtime.memory.timeq import find_period

NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("What did we do last Valentine's Day?", date(2025, 2, 13), date(2025, 2, 16)),
        ("what did I cook in March", date(2025, 3, 1), date(2025, 4, 1)),
        ("what happened last June?", date(2024, 6, 1), date(2024, 7, 1)),
        ("June of last year", date(2024, 6, 1), date(2024, 7, 1)),
        ("on May 8, 2023", date(2023, 5, 7), date(2023, 5, 10)),
        ("last summer", date(2024, 6, 1), date(2024, 9, 1)),
        ("this winter", date(2024, 12, 1), date(2025, 3, 1)),
        ("in 2023", date(2023, 1, 1), date(2024, 1, 1)),
        ("three days ago", date(2025, 3, 6), date(2025, 3, 9)),
        ("yesterday", date(2025, 3, 9), date(2025, 3, 10)),
        ("last week", date(2025, 3, 3), date(2025, 3, 10)),
        ("last Friday", date(2025, 3, 7), date(2025, 3, 8)),
        ("2024-07-04", date(2024, 7, 3), date(2024, 7, 6)),
        ("去年六月我们去哪儿了", date(2024, 6, 1), date(2024, 7, 1)),
        ("去年的圣诞节", date(2024, 12, 24), date(2024, 12, 27)),
        ("两个月前", date(2025, 1, 1), date(2025, 2, 1)),
        ("上个月", date(2025, 2, 1), date(2025, 3, 1)),
        ("작년 여름에 뭐 했지?", date(2024, 6, 1), date(2024, 9, 1)),
        ("지난주", date(2025, 3, 3), date(2025, 3, 10)),
        ("두 달 전", date(2025, 1, 1), date(2025, 2, 1)),
        ("6월 8일", date(2024, 6, 7), date(2024, 6, 10)),
        ("apa yang kita bicarakan bulan lalu", date(2025, 2, 1), date(2025, 3, 1)),
        ("5 bulan yang lalu", date(2024, 10, 1), date(2024, 11, 1)),
        ("8 Mei 2024", date(2024, 5, 7), date(2024, 5, 10)),
        ("先週の話", date(2025, 3, 3), date(2025, 3, 10)),
        ("去年の夏、どこへ行った？", date(2024, 6, 1), date(2024, 9, 1)),
    ],
)
def test_periods(query: str, start: date, end: date) -> None:
    period = find_period(query, NOW)
    assert period is not None
    assert (period.start.date(), period.end.date()) == (start, end)


@pytest.mark.parametrize(
    "query", ["may I ask about the cat?", "what is my cat called?", "I march on", "my pet"]
)
def test_no_period(query: str) -> None:
    assert find_period(query, NOW) is None


@pytest.mark.parametrize(
    ("query", "asks_now"),
    [
        ("Who is my boss now?", True),
        ("What is my diet at the moment?", True),
        ("我现在的上司是谁？", True),
        ("요즘 내 식단은 어때?", True),
        ("Siapa atasanku yang sekarang?", True),
        ("さくらは今どの街に住んでる？", True),
        ("Who was my boss in 2023?", False),
        ("今日は何を食べた？", False),  # 今日 is "today", a period, not "now"
        ("What do I know about Lisbon?", False),  # "know" holds "now" only as letters
    ],
)
def test_words_asking_how_things_are_now(query: str, asks_now: bool) -> None:
    from runtime.memory.timewords import CURRENT_STATE

    assert bool(CURRENT_STATE.search(query)) is asks_now
