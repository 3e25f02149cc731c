"""Which languages a companion's conversations are in, and whether the embedding model fits.

Counted by script: Han characters (Chinese; Japanese when kana are there too), kana, Hangul,
and Latin letters; Latin text is Indonesian rather than English when Indonesian function words
dominate. The English all-MiniLM-L6-v2 finds few Chinese, Korean or Indonesian memories by
meaning (DESIGN.md: 19 % / 0 % / 12 % of evidence in the top 10), so a mismatch is worth a
warning with the fix.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[a-z]+")
_INDONESIAN_WORDS = """yang dan tidak aku kamu itu ini di ke dari dengan untuk sudah juga saya
kita ada apa akan bisa mau tapi karena lagi banget sekali nggak gak"""
_ENGLISH_WORDS = "the and is are was you i to of it that in my for with have this not be do what"
_INDONESIAN = frozenset(_INDONESIAN_WORDS.split())
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
NAMES = {"en": "English", "id": "Indonesian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean"}
CJK_SHARE = 0.3
"""Text with more CJK than this (of its letters) counts as CJK text."""
WARN_SHARE = 0.2
"""A language with at least this share of the text, unsupported by the model, is warned about."""


def cjk_share(text: str) -> float:
    """Share of Han, kana and Hangul among the letters of `text` (0 when it has none)."""
    cjk = len(_HAN.findall(text)) + len(_KANA.findall(text)) + len(_HANGUL.findall(text))
    letters = cjk + len(_LATIN.findall(text))
    return cjk / letters if letters else 0.0


def cjk_language(text: str) -> str:
    """Which of Chinese, Japanese or Korean CJK text is in: "ja" with kana, "ko" with Hangul
    (and no kana), else "zh"."""
    if _KANA.search(text):
        return "ja"
    return "ko" if _HANGUL.search(text) else "zh"


def language_mix(texts: Iterable[str]) -> dict[str, float]:
    """Share of each language ("en", "id", "zh", "ja", "ko") in `texts`, by characters.

    A CJK character counts as much as a Latin word's letters (about four), so that a
    sentence weighs alike in either script.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        han, kana, hangul = (len(p.findall(text)) for p in (_HAN, _KANA, _HANGUL))
        latin = len(_LATIN.findall(text))
        if kana:
            counts["ja"] += 4 * (han + kana)
        else:
            counts["zh"] += 4 * han
        counts["ko"] += 4 * hangul
        if latin:
            words = _WORD.findall(text.lower())
            indonesian = sum(w in _INDONESIAN for w in words)
            english = sum(w in _ENGLISH for w in words)
            counts["id" if indonesian > english else "en"] += latin
    total = sum(counts.values())
    return {k: round(v / total, 3) for k, v in counts.most_common() if v} if total else {}


@dataclass(frozen=True)
class LanguageCheck:
    """The companion's languages against the embedding model's."""

    mix: dict[str, float]
    model: str
    multilingual: bool

    @property
    def unsupported(self) -> dict[str, float]:
        """Languages (share ≥ WARN_SHARE) the model does not embed well."""
        if self.multilingual:
            return {}
        return {k: v for k, v in self.mix.items() if k != "en" and v >= WARN_SHARE}

    def warning(self, companion: str, slug: str) -> tuple[str, str] | None:
        """(message, hint) when the model does not fit the conversations, else None."""
        if not self.unsupported:
            return None
        shares = ", ".join(f"{NAMES[k]} {v:.0%}" for k, v in self.unsupported.items())
        message = (
            f"{companion}'s conversations are partly in {shares}, but the embedding model "
            f"{self.model} is English-only: memory finds those by keywords, hardly by meaning"
        )
        hint = (
            "hearth model pull multilingual-e5-small; hearth companion edit "
            f"{slug} --set model.embedding=multilingual-e5-small; hearth memory rebuild"
        )
        return message, hint
