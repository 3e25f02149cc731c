"""Times as exports write them → aware UTC datetimes (or None when there is no usable time).

Exports disagree about time: ISO 8601 with or without a zone (Claude, Gemini, Hearth JSONL),
epoch seconds or milliseconds (SillyTavern, scripts), SillyTavern's own
`2024-05-01@12h30m10s` and its humanized `May 1, 2024 12:30pm`, dates written day first with
or without a time (`8 May, 2023`, `1:56 pm on 8 May, 2023`), and JavaScript's
`Date.toString()` (`Wed May 01 2024 12:30:10 GMT+0200 (…)`). A time without a zone is taken as
UTC: the export does not say which zone the writer's clock was in, and guessing the importing
machine's zone would make the same file import differently on two machines.

A time that cannot be read is None, never an exception: a message without a time is still a
message.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone

# Epoch values above this are milliseconds: as seconds they would be after the year 5000.
_MS_THRESHOLD = 1e11
_MAX_EPOCH_S = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second datetime can hold

_ST_COMPACT = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})\s*@\s*(\d{1,2})h\s*(\d{1,2})m\s*(\d{1,2})s(?:\s*(\d{1,3})ms)?$"
)
_JS_DATE = re.compile(
    r"^(?:[A-Za-z]{3}\s+)?([A-Za-z]{3}\s+\d{1,2}\s+\d{4}\s+\d{1,2}:\d{2}:\d{2})"
    r"\s*(?:GMT|UTC)?([+-]\d{2}:?\d{2})?"
)
_HUMAN_DATES = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%d %B, %Y", "%d %b, %Y")
_HUMAN_TIMES = ("%I:%M%p", "%I:%M:%S%p", "%H:%M", "%H:%M:%S")
_HUMAN_FORMATS = (
    tuple(f"{day} {clock}" for day in _HUMAN_DATES for clock in _HUMAN_TIMES) + _HUMAN_DATES
)
"""Month first ("May 1, 2024 12:30pm", SillyTavern) and day first ("8 May, 2023", as people
and many datasets write it), each with or without a time."""
_TIME_ON_DATE = re.compile(r"^(\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp][Mm])?)\s+on\s+(.+)$")
"""A time before its date: "1:56 pm on 8 May, 2023"."""


def parse_time(value: object) -> datetime | None:
    """`value` (str, int or float in any of the forms above) as an aware UTC datetime, or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 100:
        return None
    try:
        return _from_epoch(float(text))
    except ValueError:
        pass
    for parse in (_iso, _st_compact, _js_date, _human):
        try:
            moment = parse(text)
        except OverflowError:  # a zone offset pushing year 1 or 9999 out of range
            return None
        if moment is not None:
            return moment
    return None


def _aware(moment: datetime) -> datetime:
    """Naive → UTC (see the module docstring); aware → converted to UTC."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _from_epoch(seconds: float) -> datetime | None:
    if not math.isfinite(seconds) or seconds < 0:
        return None
    if seconds > _MS_THRESHOLD:
        seconds /= 1000
    if seconds > _MAX_EPOCH_S:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def _iso(text: str) -> datetime | None:
    try:
        # 3.11's fromisoformat reads "Z", offsets and fractions of any length up to 6 digits.
        return _aware(datetime.fromisoformat(text))
    except ValueError:
        return None


def _st_compact(text: str) -> datetime | None:
    match = _ST_COMPACT.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, millis = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(millis or 0) * 1000,
            tzinfo=UTC,
        )
    except ValueError:
        return None


def _js_date(text: str) -> datetime | None:
    match = _JS_DATE.match(text)
    if match is None:
        return None
    try:
        moment = datetime.strptime(match.group(1), "%b %d %Y %H:%M:%S")
    except ValueError:
        return None
    offset = match.group(2)
    if offset is None:
        return _aware(moment)
    digits = offset.replace(":", "")
    sign = -1 if digits[0] == "-" else 1
    delta = timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
    try:
        return _aware(moment.replace(tzinfo=timezone(sign * delta)))
    except ValueError:
        return None


def _human(text: str) -> datetime | None:
    # "May 1, 2024 12:30pm", "May 1, 2024 at 12:30 PM": strptime wants neither "at" nor the space.
    time_first = _TIME_ON_DATE.match(text)
    if time_first is not None:
        text = f"{time_first.group(2)} {time_first.group(1)}"
    cleaned = re.sub(r"\s+at\s+", " ", text)
    cleaned = re.sub(r"\s*([AaPp][Mm])$", r"\1", cleaned)
    for fmt in _HUMAN_FORMATS:
        try:
            return _aware(datetime.strptime(cleaned, fmt))
        except ValueError:
            continue
    return None
