"""The words for times and dates that `timeq` understands, per language.

English, Chinese, Japanese, Korean and Indonesian. Patterns are compiled case-insensitively.
Numbers may be digits or number words (一二三…, 한/두/세…, satu/dua/tiga…, one/two/three…).
"""

from __future__ import annotations

import re

NUMBER_WORDS = {
    # English
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "a couple of": 2, "couple of": 2, "a few": 3, "few": 3, "several": 4,
    # Indonesian
    "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7,
    "delapan": 8, "sembilan": 9, "sepuluh": 10, "sebelas": 11, "beberapa": 3, "se": 1,
    # Korean native numbers (counting days, months: 두 달 전)
    "한": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9,
    "열": 10, "몇": 3,
    # Chinese / Japanese
    "两": 2, "兩": 2, "几": 3, "幾": 3, "半": 0,
}  # fmt: skip
_CJK_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def number(text: str) -> int | None:
    """ "12", "twelve", "十二", "두", "dua" → 12, 12, 12, 2, 2; None if it is not a number."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    if text in NUMBER_WORDS:
        return NUMBER_WORDS[text]
    if text and all(c in _CJK_DIGITS or c == "十" for c in text):
        if "十" not in text:
            return _CJK_DIGITS.get(text) if len(text) == 1 else None
        tens, _, ones = text.partition("十")
        return (_CJK_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CJK_DIGITS.get(ones, 0))
    return None


_NUM = r"\d{1,3}|[一二三四五六七八九十两兩几幾]{1,3}"
_EN_NUM = (
    r"\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|(?:a )?couple of|(?:a )?few|several"
)
_ID_NUM = r"\d{1,3}|satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|beberapa"
_KO_NUM = r"\d{1,3}|한|두|세|네|다섯|여섯|일곱|여덟|아홉|열|몇"

MONTH_NAMES = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
    "januari": 1, "februari": 2, "maret": 3, "mei": 5, "juni": 6, "juli": 7, "agustus": 8,
    "oktober": 10, "desember": 12, "nopember": 11, "agu": 8, "okt": 10, "des": 12,
}  # fmt: skip
# "may" and "march" are also verbs, "jan" a name: only dates when something says so.
_AMBIGUOUS_MONTHS = {"may", "march", "mar", "jan", "sep", "des", "mei"}
_MONTH_ALT = "|".join(sorted(MONTH_NAMES, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th)?"

MONTH_DAY = re.compile(
    rf"\b(?P<m1>{_MONTH_ALT})\.?\s+(?P<d1>\d{{1,2}}){_ORD}\b(?:,?\s+(?P<y1>(?:19|20)\d\d))?"
    rf"|\b(?P<d2>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<m2>{_MONTH_ALT})\b(?:,?\s+(?P<y2>(?:19|20)\d\d))?",
    re.IGNORECASE,
)
MONTH_WORD = re.compile(
    rf"(?P<pre>\b(?:in|last|this|of|during|since|early|late|mid|on|bulan|pada|sejak|akhir|awal)\s+)?"
    rf"\b(?P<m>{_MONTH_ALT})\b(?:\s+(?P<y>(?:19|20)\d\d))?",
    re.IGNORECASE,
)
CJK_MONTH = re.compile(
    rf"(?<![个個ヶかカケヵ箇])(?P<m>{_NUM})\s?(?:月份?|월)(?:\s?(?P<d>{_NUM})\s?(?:日|号|號|일))?"
)
KO_MONTH_WORD = {"유월": 6, "시월": 10}
ISO_DATE = re.compile(r"\b(?P<y>(?:19|20)\d\d)[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})\b")
YEAR_NUMBER = re.compile(
    r"(?:\b(?:in|of|during|since|tahun)\s+(?P<y1>(?:19|20)\d\d)\b)|(?P<y2>(?:19|20)\d\d)\s?(?:年|년)"
)

# Relative years: shift from this year.
YEAR_SHIFT = [
    (re.compile(r"\b(?:the\s+)?year\s+before\s+last\b|前年|一昨年|おととし|재작년", re.I), -2),
    (
        re.compile(
            r"\blast\s+year\b|\bpast\s+year\b|去年|昨年|작년|지난\s?해|\btahun\s+lalu\b", re.I
        ),
        -1,
    ),
    (re.compile(r"\bthis\s+year\b|今年|올해|금년|이번\s?해|\btahun\s+ini\b", re.I), 0),
]

SEASONS = [
    (re.compile(r"\bspring(?:time)?\b|春天|春季|봄|\bmusim\s+semi\b", re.I), "spring"),
    (re.compile(r"\bsummer(?:time)?\b|夏天|夏季|夏休み|夏|여름|\bmusim\s+panas\b", re.I), "summer"),
    (
        re.compile(
            r"\bautumn\b|\b(?:in|last|this)\s+(?:the\s+)?fall\b|秋天|秋季|秋|가을|\bmusim\s+gugur\b",
            re.I,
        ),
        "autumn",
    ),
    (re.compile(r"\bwinter(?:time)?\b|冬天|冬季|冬|겨울|\bmusim\s+dingin\b", re.I), "winter"),
]
SEASON_MONTHS = {"spring": 3, "summer": 6, "autumn": 9, "winter": 12}
"""First month of each (northern) season; every season is three months long."""

HOLIDAYS = [
    (re.compile(r"valentine|情人节|情人節|バレンタイン|발렌타인|밸런타인", re.I), (2, 14)),
    (re.compile(r"christmas|xmas|圣诞|聖誕|クリスマス|크리스마스|\bnatal\b", re.I), (12, 25)),
    (re.compile(r"halloween|万圣|萬聖|ハロウィン|핼러윈|할로윈", re.I), (10, 31)),
    (re.compile(r"new\s+year'?s\s+eve|跨年|大晦日|섣달그믐|malam\s+tahun\s+baru", re.I), (12, 31)),
    (re.compile(r"new\s+year'?s(?:\s+day)?|元旦|元日|새해\s?첫날|tahun\s+baru", re.I), (1, 1)),
]

_EN_UNIT = {"day": "day", "week": "week", "month": "month", "year": "year"}
_ZH_UNIT = {"天": "day", "日": "day", "周": "week", "週": "week", "星期": "week", "礼拜": "week",
            "週間": "week", "月": "month", "年": "year"}  # fmt: skip
_KO_UNIT = {"일": "day", "주": "week", "달": "month", "개월": "month", "년": "year"}
_ID_UNIT = {"hari": "day", "minggu": "week", "pekan": "week", "bulan": "month", "tahun": "year"}
UNITS = {**_EN_UNIT, **_ZH_UNIT, **_KO_UNIT, **_ID_UNIT}

AGO = re.compile(
    rf"\b(?P<n1>{_EN_NUM})\s+(?P<u1>day|week|month|year)s?\s+ago\b"
    rf"|(?P<n2>{_NUM})\s?(?:个|個|ヶ|か|カ|ケ|ヵ)?(?P<u2>天|日|週間|周|週|星期|礼拜|月|年)(?:前|以前|之前)"
    rf"|(?P<n3>{_KO_NUM})\s?(?P<u3>일|주|달|개월|년)\s?전"
    rf"|\b(?P<n4>{_ID_NUM})\s+(?P<u4>hari|minggu|pekan|bulan|tahun)\s+(?:yang\s+)?lalu\b",
    re.IGNORECASE,
)

# Relative days, weeks, months: (pattern, unit, shift).
RELATIVE = [
    (
        re.compile(
            r"\b(?:the\s+)?day\s+before\s+yesterday\b|前天|一昨日|おととい|그저께|그제|\bkemarin\s+lusa\b",
            re.I,
        ),
        "day",
        -2,
    ),
    (
        re.compile(
            r"\byesterday\b|\blast\s+night\b|昨天|昨晚|昨日|昨夜|어제|\bkemarin\b|\btadi\s+malam\b",
            re.I,
        ),
        "day",
        -1,
    ),
    (
        re.compile(
            r"\btoday\b|\btonight\b|\bthis\s+(?:morning|afternoon|evening)\b|今天|今晚|今日|오늘|\bhari\s+ini\b",
            re.I,
        ),
        "day",
        0,
    ),
    (
        re.compile(
            r"\blast\s+weekend\b|上周末|上個?週末|先週末|지난\s?주말|\bakhir\s+(?:pekan|minggu)\s+lalu\b",
            re.I,
        ),
        "weekend",
        -1,
    ),
    (
        re.compile(
            r"\blast\s+week\b|上周|上週|上个?星期|上個?星期|上个?礼拜|先週|지난\s?주|\b(?:minggu|pekan)\s+lalu\b",
            re.I,
        ),
        "week",
        -1,
    ),
    (
        re.compile(
            r"\bthis\s+week\b|这周|這週|本周|这个?星期|今週|이번\s?주|\b(?:minggu|pekan)\s+ini\b",
            re.I,
        ),
        "week",
        0,
    ),
    (
        re.compile(r"\blast\s+month\b|上个月|上個月|先月|지난\s?달|\bbulan\s+lalu\b", re.I),
        "month",
        -1,
    ),
    (
        re.compile(r"\bthis\s+month\b|这个月|這個月|本月|今月|이번\s?달|\bbulan\s+ini\b", re.I),
        "month",
        0,
    ),
]

WEEKDAYS = re.compile(
    r"\b(?:last|on|this\s+past)\s+(?P<d>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.I,
)
WEEKDAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def is_month_context(match: re.Match[str]) -> bool:
    """A month name that is surely a month: unambiguous, or with a preposition or a year."""
    name = match.group("m").lower()
    return name not in _AMBIGUOUS_MONTHS or bool(match.group("pre") or match.group("y"))


CURRENT_STATE = re.compile(
    r"\b(?:now|right now|currently|current|these days|nowadays|at the moment|anymore|any more"
    r"|latest|sekarang|saat ini|kini|terkini)\b"
    r"|现在|目前|如今|現在|今(?![日年月週回度朝晩夜])|지금|요즘|현재",
    re.IGNORECASE,
)
"""Words that ask for how things are now ("Who is my boss now?", "我现在…", "요즘…"): of two
memories on the topic, the newer is the answer."""
