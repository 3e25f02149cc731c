"""Search terms for the keyword side of retrieval, in any of the languages Hearth serves.

Latin-script words are lower-cased and stopwords dropped (English and Indonesian); SQLite's
porter tokenizer then stems the English ones ("researching" and "research" meet). Chinese,
Japanese and Korean are written without spaces between words (Korean glues particles to
words: 여름에 = 여름 + 에), so a CJK run becomes its overlapping character bigrams: a two-
character word is found inside any longer run, which is how most CJK keyword search works.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")
_CJK = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u1100-\u11ff]+"
)
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


def terms(text: str) -> list[str]:
    """The text's search terms, in order: words (no stopwords), numbers, CJK bigrams."""
    found: list[str] = []
    for word in _WORD.findall(text.lower()):
        if _CJK.search(word) is None:
            if len(word) > 1 and word not in STOPWORDS and "_" not in word:
                found.append(word)
            continue
        for latin in _CJK.sub(" ", word).split():
            if len(latin) > 1 and latin not in STOPWORDS:
                found.append(latin)
        for run in _CJK.findall(word):
            if len(run) == 1:
                found.append(run)
            else:
                found.extend(run[i : i + 2] for i in range(len(run) - 1))
    return found
