"""Search terms for the keyword side of retrieval, in any of the languages Hearth serves.

Latin-script words are lower-cased and stopwords dropped (English and Indonesian); SQLite's
porter tokenizer then stems the English ones ("researching" and "research" meet), and an
irregular past form brings its base verb along ("broke" also as "break", see `english`). Text that
reads as Indonesian (more of its function words than English ones) has its words reduced to
stems first (`indonesian`: makanan and makan meet); a text with neither, such as a short
question, gets both the words and their stems. Chinese, Japanese and Korean become character
bigrams without the grammar around them (`cjk`).
"""

from __future__ import annotations

import re

from runtime.memory.cjk import cjk_terms
from runtime.memory.english import base_form
from runtime.memory.indonesian import stems

_WORD = re.compile(r"\w+")
_CJK = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u1100-\u11ff]+"
)
_KANA = re.compile(r"[\u3040-\u30ff]")
_ENGLISH = """a about above after again all also am an and any are as at be because been before
being below between both but by can could did do does doing done down during each else even ever
few for from further get got had has have having he her here hers herself him himself his how i
if in into is it its itself just let like me more most much my myself no nor not now of off
oh ok okay on once only or other our ours out over own really same she should so some such than
that the their theirs them then there these they this those through to too under until up very
was we were what when where which while who whom why will with would yeah yes you your yours
yourself"""
_INDONESIAN = """ada adalah agar akan aku anda apa atau bagi bahwa begitu belum bisa dalam dan
dari dengan di dia ini itu jadi juga kalau kami kamu kan karena ke kita lagi lah mereka nya oleh
pada para pun saja sama saya sedang seperti sudah tapi telah tentang tersebut untuk yang ya"""
STOPWORDS = frozenset((_ENGLISH + " " + _INDONESIAN).split())


_ENGLISH_HINT_WORDS = """the and is are was were you to of it that in my for with have this not be
do what did how which where who when your his her she he they we"""
_INDONESIAN_HINT_WORDS = """yang dan tidak aku kamu itu ini di ke dari dengan untuk sudah juga saya
kita ada apa akan bisa mau tapi karena lagi banget sekali nggak gak siapa bagaimana mana kenapa
kapan berapa punya"""
_ENGLISH_HINTS = frozenset(_ENGLISH_HINT_WORDS.split())
_INDONESIAN_HINTS = frozenset(_INDONESIAN_HINT_WORDS.split())


def _indonesian(words: list[str]) -> bool | None:
    """True when the words read as Indonesian, False as English, None when they do not say."""
    indonesian = sum(w in _INDONESIAN_HINTS for w in words)
    english = sum(w in _ENGLISH_HINTS for w in words)
    if indonesian == english == 0:
        return None
    return indonesian > english


def terms(text: str, *, document: bool = False) -> list[str]:
    """The text's search terms, in order: words (no stopwords), numbers, CJK bigrams.
    `document`: terms to index (a few more than a query's; see `cjk`)."""
    words = _WORD.findall(text.lower())
    indonesian = _indonesian(words)
    japanese = _KANA.search(text) is not None
    found: list[str] = []
    for word in words:
        if _CJK.search(word) is None:
            if len(word) > 1 and word not in STOPWORDS and "_" not in word:
                found.extend(_latin(word, indonesian))
            continue
        for latin in _CJK.sub(" ", word).split():
            if len(latin) > 1 and latin not in STOPWORDS:
                found.extend(_latin(latin, indonesian))
        found.extend(cjk_terms(word, japanese, document))
    return found


def _latin(word: str, indonesian: bool | None) -> list[str]:
    if indonesian is not True:
        base = base_form(word)
        if base is not None and base not in STOPWORDS:  # "got" → "get" says nothing more
            return [word, base]
    if indonesian is False or not word.isalpha():
        return [word]
    return list(dict.fromkeys([word, *stems(word)]))
