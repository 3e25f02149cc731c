"""Personal data scrub: e-mail addresses → `[email]`, phone numbers → `[phone]`.

Phone numbers are recognised in the shapes people write them across countries, and only those,
so dates, times, version numbers, prices, IP addresses and years are left alone:
- international: `+` and 8–15 digits, grouped any way (`+44 20 7946 0958`, `+6281234567890`);
- an area code in parentheses (`(555) 123-4567`);
- 9–15 digits in at least three groups with one kind of separator (`555-123-4567`,
  `010-1234-5678`, `138 0013 8000`, `06 12 34 56 78`), except thousands (`100 000 000`),
  IPv4 addresses and runs of years (`2019 2020 2021`);
- a Chinese mobile number written as one block (`13800138000`).
Two-group local numbers (`555-1234`) are too much like other numbers and are kept.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
_CANDIDATE = re.compile(
    r"(?<![\w.,+/-])"
    r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,15}(?:[ .-]\d{2,5}){0,5}"
    r"(?![\w/]|[.,:-]\d)"
)
_SEPARATOR = re.compile(r"[ .-]")
_CHINESE_MOBILE = re.compile(r"1[3-9]\d{9}")


def is_phone(candidate: str) -> bool:
    """Whether a run of digits and separators is a phone number (see the module docstring)."""
    digits = sum(char.isdigit() for char in candidate)
    if candidate.startswith("+"):
        return 8 <= digits <= 15
    if candidate.startswith("("):
        return 9 <= digits <= 15
    groups = _SEPARATOR.split(candidate)
    if len(groups) == 1:
        return _CHINESE_MOBILE.fullmatch(candidate) is not None
    if len(groups) < 3 or not 9 <= digits <= 15:
        return False
    separators = set(_SEPARATOR.findall(candidate))
    if len(separators) > 1:
        return False
    if all(len(group) == 3 for group in groups[1:]) and len(groups[0]) <= 3:
        return False  # thousands: 100 000 000
    if separators == {"."} and len(groups) == 4 and all(len(group) <= 3 for group in groups):
        return False  # IPv4
    return not all(len(group) == 4 and group[:2] in ("19", "20") for group in groups)


@dataclass
class PiiCounts:
    """How many of each kind were replaced."""

    found: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, int]:
        return {"email": self.found["email"], "phone": self.found["phone"]}


def scrub(text: str, counts: PiiCounts) -> str:
    """`text` with e-mail addresses and phone numbers replaced, counted into `counts`."""
    if "@" in text:
        text, emails = EMAIL.subn("[email]", text)
        counts.found["email"] += emails

    def phone(match: re.Match[str]) -> str:
        if is_phone(match.group(0)):
            counts.found["phone"] += 1
            return "[phone]"
        return match.group(0)

    return _CANDIDATE.sub(phone, text)
