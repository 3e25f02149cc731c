"""Time in a question: "last Valentine's Day", "in March", "去年六月", "작년 여름", "bulan lalu".

`find_period(query, now)` returns the span of time the query points at, or None. Retrieval then
prefers memories from that span. The rules, in order:

1. a date or a month/season/holiday, with an optional year ("March 2023", "去年六月",
   "작년 여름", "last Valentine's Day"); without a year it is the latest one not after now;
2. a year on its own ("last year", "in 2023", "今年");
3. a relative span: "yesterday", "last week", "three days ago", "bulan lalu", "last Friday".

Spans are generous (a day ±1, "N weeks ago" ±4 days), because people remember loosely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from runtime.memory import timewords as tw


@dataclass(frozen=True)
class Period:
    """A span of time: start inclusive, end exclusive, in `now`'s time zone."""

    start: datetime
    end: datetime
    label: str
    """The words that named it (for logs and explanations)."""

    def epoch(self) -> tuple[float, float]:
        """(start, end) as epoch seconds."""
        return self.start.timestamp(), self.end.timestamp()

    def contains(self, moment: datetime) -> bool:
        """True when `moment` falls inside."""
        return self.start <= moment < self.end


def find_period(text: str, now: datetime) -> Period | None:
    """The period `text` refers to, relative to `now` (an aware datetime), or None."""
    year, year_label = _year(text, now)
    found = _calendar(text, now, year)
    if found is not None:
        (start, end), label = found
        return _period(now, start, end, label if year_label in label else f"{year_label} {label}")
    if year is not None:
        return _period(now, date(year, 1, 1), date(year + 1, 1, 1), year_label)
    return _relative(text, now)


def _period(now: datetime, start: date, end: date, label: str) -> Period:
    zone = now.tzinfo
    return Period(datetime.combine(start, time(), zone), datetime.combine(end, time(), zone), label)


def _year(text: str, now: datetime) -> tuple[int | None, str]:
    """A year the text names explicitly or relatively, and the words that did."""
    match = tw.YEAR_NUMBER.search(text) or tw.ISO_DATE.search(text)
    if match is not None:
        value = next(g for g in match.groupdict().values() if g and len(g) == 4)
        return int(value), match.group(0)
    for pattern, shift in tw.YEAR_SHIFT:
        match = pattern.search(text)
        if match is not None:
            return now.year + shift, match.group(0)
    return None, ""


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


def _latest(now: datetime, month: int, day: int, strict: bool = False) -> int:
    """The year of the latest (month, day) not after now (before now when `strict`)."""
    today = now.date()
    this_year = date(now.year, month, min(day, 28))
    return now.year if this_year < today or (this_year == today and not strict) else now.year - 1


def _calendar(text: str, now: datetime, year: int | None) -> tuple[tuple[date, date], str] | None:
    """A dated day, a month, a holiday or a season, in `year` or the latest past one."""
    iso = tw.ISO_DATE.search(text)
    if iso is not None:
        day = _safe_date(int(iso["y"]), int(iso["m"]), int(iso["d"]))
        if day is not None:
            return (day - timedelta(days=1), day + timedelta(days=2)), iso.group(0)
    match = tw.MONTH_DAY.search(text)
    if match is not None:
        month = tw.MONTH_NAMES[(match["m1"] or match["m2"]).lower()]
        day_number = int(match["d1"] or match["d2"])
        explicit = match["y1"] or match["y2"]
        return _day_span(now, year if not explicit else int(explicit), month, day_number, match)
    match = tw.CJK_MONTH.search(text)
    if match is not None:
        month = tw.number(match["m"])
        day_number = tw.number(match["d"]) if match["d"] else None
        if month is not None and 1 <= month <= 12:
            if day_number:
                return _day_span(now, year, month, day_number, match)
            return _month_span(now, year, month), match.group(0)
    for word, month in tw.KO_MONTH_WORD.items():
        if word in text:
            return _month_span(now, year, month), word
    for pattern, (month, day_number) in tw.HOLIDAYS:
        match = pattern.search(text)
        if match is not None:
            return _day_span(now, year, month, day_number, match, strict=True)
    for match in tw.MONTH_WORD.finditer(text):
        if tw.is_month_context(match):
            month = tw.MONTH_NAMES[match["m"].lower()]
            chosen = int(match["y"]) if match["y"] else year
            if chosen is None and match["pre"] and match["pre"].strip().lower() == "last":
                chosen = now.year if month < now.month else now.year - 1
            return _month_span(now, chosen, month), match.group(0).strip()
    for pattern, season in tw.SEASONS:
        match = pattern.search(text)
        if match is not None:
            return _season_span(now, year, season), match.group(0)
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _day_span(
    now: datetime, year: int | None, month: int, day: int, match: re.Match[str],
    strict: bool = False,
) -> tuple[tuple[date, date], str] | None:  # fmt: skip
    chosen = year if year is not None else _latest(now, month, day, strict)
    found = _safe_date(chosen, month, day)
    if found is None:
        return None
    return (found - timedelta(days=1), found + timedelta(days=2)), match.group(0)


def _month_span(now: datetime, year: int | None, month: int) -> tuple[date, date]:
    chosen = year if year is not None else (now.year if month <= now.month else now.year - 1)
    return date(chosen, month, 1), _month_end(chosen, month)


def _season_span(now: datetime, year: int | None, season: str) -> tuple[date, date]:
    first = tw.SEASON_MONTHS[season]
    if year is None:
        # The latest season of that name that has begun; winter belongs to the year it starts.
        year = now.year if (now.month >= first) else now.year - 1
        if season == "winter" and now.month <= 2:
            year = now.year - 1
    after = year * 12 + first - 1 + 3  # months since year 0 of the month after the season
    return date(year, first, 1), date(after // 12, after % 12 + 1, 1)


def _relative(text: str, now: datetime) -> Period | None:
    today = now.date()
    match = tw.AGO.search(text)
    if match is not None:
        groups = match.groupdict()
        count = next((tw.number(groups[f"n{i}"]) for i in range(1, 5) if groups[f"n{i}"]), None)
        unit_word = next(groups[f"u{i}"] for i in range(1, 5) if groups[f"u{i}"])
        unit = tw.UNITS.get(unit_word.lower(), "day")
        if count is not None:
            return _ago(now, today, count, unit, match.group(0))
    for pattern, unit, shift in tw.RELATIVE:
        match = pattern.search(text)
        if match is not None:
            return _span(now, today, unit, shift, match.group(0))
    match = tw.WEEKDAYS.search(text)
    if match is not None:
        wanted = tw.WEEKDAY_NAMES.index(match["d"].lower())
        back = (today.weekday() - wanted) % 7 or 7
        day = today - timedelta(days=back)
        return _period(now, day, day + timedelta(days=1), match.group(0))
    return None


def _ago(now: datetime, today: date, count: int, unit: str, label: str) -> Period:
    if unit == "day":
        day = today - timedelta(days=count)
        return _period(now, day - timedelta(days=1), day + timedelta(days=2), label)
    if unit == "week":
        day = today - timedelta(weeks=count)
        return _period(now, day - timedelta(days=4), day + timedelta(days=4), label)
    if unit == "month":
        index = today.year * 12 + today.month - 1 - count
        year, month = divmod(index, 12)
        return _period(now, date(year, month + 1, 1), _month_end(year, month + 1), label)
    return _period(now, date(today.year - count, 1, 1), date(today.year - count + 1, 1, 1), label)


def _span(now: datetime, today: date, unit: str, shift: int, label: str) -> Period:
    if unit == "day":
        day = today + timedelta(days=shift)
        return _period(now, day, day + timedelta(days=1), label)
    if unit in ("week", "weekend"):
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=shift)
        if unit == "weekend":
            return _period(now, monday + timedelta(days=5), monday + timedelta(days=7), label)
        return _period(now, monday, monday + timedelta(days=7), label)
    index = today.year * 12 + today.month - 1 + shift
    year, month = divmod(index, 12)
    return _period(now, date(year, month + 1, 1), _month_end(year, month + 1), label)
