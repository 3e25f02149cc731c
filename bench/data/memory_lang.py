"""The content of the synthetic memory benchmark: one `Language` per language.

Each language has its speakers, small-talk templates (with `{slot}` words), replies, and the
facts with their paraphrased questions. Dates of temporal facts are fixed so the questions'
time words ("last month", "去年夏天") point at them from the conversation's end (2025-03-18).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Say:
    """A user message that states (or, with evidence=False, imitates) a fact."""

    text: str
    day: str | None = None
    """ISO date of the session it belongs in (temporal facts); None: anywhere."""
    evidence: bool = True
    reply: str | None = None
    companion: bool = False
    """Said by the companion (the second speaker) instead of the user."""
    prompt: str | None = None
    """The other speaker's question right before it: the statement is a short answer that
    means little on its own ("Torn meniscus, six weeks of physio.")."""


@dataclass(frozen=True)
class Fact:
    """Statements and the question about them."""

    category: str
    says: tuple[Say, ...]
    question: str
    echoes: tuple[Say, ...] = ()
    """Later messages on the same topic that do not answer the question (hard negatives)."""


@dataclass(frozen=True)
class Language:
    """Everything generated for one language."""

    code: str
    """Language code of the questions ("en"); sessions are named after `prefix`."""
    prefix: str
    user: str
    companion: str
    filler_user: list[str]
    filler_reply: list[str]
    fact_reply: list[str]
    slots: dict[str, list[str]]
    facts: list[Fact] = field(default_factory=list)
    companion_prompt: list[str] = field(default_factory=lambda: ["..."])
    """What the user says before a fact the companion tells."""


def single(text: str, question: str) -> Fact:
    """A fact stated once."""
    return Fact("single", (Say(text),), question)


def multi(first: str, second: str, question: str) -> Fact:
    """A fact told over two sessions; both statements are evidence."""
    return Fact("multi", (Say(first), Say(second)), question)


def temporal(text: str, day: str, decoy: str, decoy_day: str, question: str) -> Fact:
    """An event on `day` and a look-alike on `decoy_day`; the question names the day."""
    return Fact("temporal", (Say(text, day), Say(decoy, decoy_day, evidence=False)), question)


def answer(prompt: str, text: str, question: str) -> Fact:
    """A fact given as a short answer to the companion's question (`prompt`)."""
    return Fact("answer", (Say(text, prompt=prompt),), question)


def update(old: str, new: str, question: str) -> Fact:
    """A fact and its later change; the question asks for the current state."""
    return Fact("update", (Say(old, evidence=False), Say(new)), question)


def _languages() -> list[Language]:
    from memory_lang_cjk import CHINESE, JAPANESE, KOREAN
    from memory_lang_latin import ENGLISH, INDONESIAN
    from memory_lang_story import FRIENDS

    return [ENGLISH, FRIENDS, CHINESE, KOREAN, INDONESIAN, JAPANESE]


LANGUAGES = _languages()
