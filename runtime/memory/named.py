"""Whom a query names: the speakers whose turns come first, and people the talk mentions.

"What did Caroline paint?" is about Caroline's turns, not those of another pair of people in
the same memory: a turn in which a speaker the query names speaks gets the speaker boost. But
people are also talked about without speaking: "What does Marcus do for a living?" is answered
by Rosa ("His name is Marcus. He teaches high school chemistry"), and in a memory where another
Marcus speaks, the boost would go to him alone. So a turn whose text names someone the query
names (a capitalised word that does not open a sentence, as a whole word) gets a smaller boost
of its own. The user's and the companion's names count for neither: they speak, and are named
before their lines, in nearly every turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from runtime.memory.keywords import STOPWORDS
from runtime.memory.language import CJK_SHARE, cjk_share

_WORD = re.compile(r"\w+")
_SENTENCE_END = '.!?:"“'


def mentioned_names(query: str, ignored: Sequence[str] = ()) -> list[str]:
    """The capitalised words of `query` that name someone (or something): not opening a
    sentence (unless possessive: "Lena's job?"), not a stopword, not a word of an `ignored`
    name. Lower-case queries name no one here: the speaker boost still reads them."""
    skipped = {word.casefold() for name in ignored for word in _WORD.findall(name)}
    found: list[str] = []
    for match in _WORD.finditer(query):
        word = match.group()
        if len(word) < 2 or not word[0].isupper() or word.isdigit():
            continue
        if word.casefold() in STOPWORDS or word.casefold() in skipped:
            continue
        before = query[: match.start()].rstrip()
        opens = not before or before[-1] in _SENTENCE_END
        if opens and not query.startswith("'s", match.end()):
            continue
        found.append(word)
    return list(dict.fromkeys(found))


class NamedSpeakers:
    """Which speakers a query names: any word of their name, as a whole word, any case; a
    Chinese, Japanese or Korean name anywhere in it (those are written without spaces). And
    which texts mention someone it names (`mentioned_names`)."""

    def __init__(self, query: str, ignored: Sequence[str]) -> None:
        self.query = query
        self.words = {word.casefold() for word in _WORD.findall(query)}
        self.ignored = set(ignored)
        self._seen: dict[str, bool] = {}
        self._people = mentioned_names(query, ignored)
        self._mention = (
            re.compile(r"\b(?:" + "|".join(map(re.escape, self._people)) + r")\b")
            if self._people
            else None
        )

    def any_of(self, speakers_json: str) -> bool:
        """True when the query names one of the speakers in `speakers_json` (a Brief's)."""
        if not self.words or speakers_json == "[]":
            return False
        found = self._seen.get(speakers_json)
        if found is None:
            names = [name for name in json.loads(speakers_json) if name not in self.ignored]
            found = any(self._names(name) for name in names)
            self._seen[speakers_json] = found
        return found

    @property
    def mentions_anyone(self) -> bool:
        """Whether the query names anyone a text could mention (see `mentioned_in`)."""
        return self._mention is not None

    def mentioned_in(self, text: str) -> bool:
        """True when `text` names, as a whole word, someone the query names."""
        # A plain substring test first: ranking asks this of a few hundred texts per query,
        # and most do not contain the name at all (the regex alone took ~7 µs a text).
        if self._mention is None or not any(name in text for name in self._people):
            return False
        return self._mention.search(text) is not None

    def _names(self, name: str) -> bool:
        if cjk_share(name) > CJK_SHARE:
            return len(name) > 1 and name in self.query
        return any(len(word) > 1 and word.casefold() in self.words for word in name.split())
