"""Indonesian word stems for keyword search, without a dictionary.

Indonesian builds words from a root with prefixes, suffixes and enclitics: makan (eat),
makanan (food), makanku (my food); saran (advice), menyarankan / disarankan (to advise / was
advised). Exact words rarely meet across a question and the message that answers it, so both
sides are reduced to a stem by the rule-based stemmer of Tala (2003, "A Study of Stemming
Effects on Information Retrieval in Bahasa Indonesia"), the dictionary-free relative of
Nazief-Adriani: particles (-kah, -lah, -pun), possessives (-ku, -mu, -nya), then a first-order
prefix (meN-, peN-, di-, ter-, ke-) or a second-order one (ber-, per-, pe-), and the
derivational suffixes (-kan, -an, -i). An affix only goes when two syllables remain, so short
roots (makan, bulan, kami) stay whole. The stem need not be a real word: only that the forms
of one root meet matters, and both sides go through the same rules.
"""

from __future__ import annotations

import re

_VOWELS = re.compile(r"[aeiou]")
_PARTICLES = ("kah", "lah", "pun", "tah")
_POSSESSIVES = ("nya", "ku", "mu")
# First-order prefixes; their nasal melts into the root's first consonant: menyapu ← sapu,
# memukul ← pukul, menulis ← tulis, mengirim ← kirim. Before a vowel the root may also have
# begun with the nasal itself (memakan ← makan, menanam ← nanam, mengajar ← ajar): both stems
# are kept, the only way to decide without a dictionary. ter-, ber- and per- before a vowel
# may have taken the root's r (terasa ← rasa, berenang ← renang) or not (berangkat ← angkat).
_FIRST = ("meny", "peny", "meng", "peng", "mem", "pem", "men", "pen", "me", "di", "ter", "ke")
_MELTED = {
    "meny": ("s",), "peny": ("s",), "meng": ("", "k"), "peng": ("", "k"),
    "mem": ("m", "p"), "pem": ("m", "p"), "men": ("n", "t"), "pen": ("n", "t"),
    "ter": ("", "r"), "ber": ("", "r"), "per": ("", "r"),
}  # fmt: skip
_SECOND = ("ber", "bel", "per", "pel", "be", "pe")
_ONLY_BEFORE = {"bel": "ajar", "pel": "ajar"}
"""bel- and pel- are prefixes only in belajar and pelajar (otherwise be- and pe-)."""
_SUFFIXES = ("kan", "an", "i")
_ONSET = re.compile(r"[aeiou]|[^aeiou][aeiou]|ny|ng|sy|kh|[bcdfgkprst][lr]|s[kmnptw]")
"""How a root may begin: a prefix that would leave "rjakan" (kerjakan) is no prefix."""


def syllables(word: str) -> int:
    """Vowels in `word`: its syllables, near enough for affix rules (ma-in, not main)."""
    return len(_VOWELS.findall(word))


def _strip_end(word: str, endings: tuple[str, ...]) -> str:
    for ending in endings:
        rest = word[: -len(ending)]
        if word.endswith(ending) and syllables(rest) >= 2:
            return rest
    return word


def _roots(word: str, prefixes: tuple[str, ...]) -> list[str]:
    """The word without its first prefix of `prefixes` (one or two readings), or []."""
    for prefix in prefixes:
        rest = word[len(prefix) :]
        if not word.startswith(prefix) or syllables(rest) < 1:
            continue
        if prefix in _ONLY_BEFORE and not rest.startswith(_ONLY_BEFORE[prefix]):
            continue
        if _ONSET.match(rest) is None:
            continue
        melted = _MELTED.get(prefix)
        readings = [m + rest for m in melted] if melted and rest[:1] in "aeiou" else [rest]
        readings = [r for r in readings if syllables(r) >= 2]
        if readings:
            return readings
    return []


def stems(word: str) -> list[str]:
    """The stems of a lower-case Indonesian word: [word] itself when it has no affixes, two
    when a prefix could have melted into the root either way (memakan: pakan, makan)."""
    if len(word) < 5 or not word.isalpha():
        return [word]
    word = _strip_end(_strip_end(word, _PARTICLES), _POSSESSIVES)
    found: list[str] = []
    first = _roots(word, _FIRST)
    if first:
        for root in first:
            root = _strip_end(root, _SUFFIXES)
            found.extend(_roots(root, _SECOND) or [root])
    else:
        second = _roots(word, _SECOND)
        found.extend(_strip_end(root, _SUFFIXES) for root in second or [word])
    return list(dict.fromkeys(found))
