"""Pure text rules of memory: keyword terms, languages, memory letters."""

from __future__ import annotations

from runtime.companion import CoreMemory
from runtime.memory.keywords import terms
from runtime.memory.language import LanguageCheck, cjk_share, language_mix
from runtime.memory.letter import archival_source_id, plan_letter, split_letter


def test_terms_are_words_and_cjk_bigrams() -> None:
    assert terms("I adopted a kitten named Mochi!") == ["adopted", "kitten", "named", "mochi"]
    assert terms("我喜欢猫") == ["我喜", "喜欢", "欢猫"]
    assert terms("여름에 바다") == ["여름", "름에", "바다"]
    assert terms("Aku suka makan rendang") == ["suka", "makan", "rendang"]
    assert terms("猫") == ["猫"]


def test_language_mix_and_warning() -> None:
    assert cjk_share("我喜欢猫 cats") == 0.5
    mix = language_mix(
        ["我今天很累。", "Aku mau makan dan tidur, tapi kamu belum pulang.", "the cat"]
    )
    assert set(mix) == {"zh", "id", "en"}
    check = LanguageCheck({"zh": 0.6, "en": 0.4}, "all-MiniLM-L6-v2", multilingual=False)
    message, hint = check.warning("Mira", "mira")
    assert "Chinese 60%" in message and "English-only" in message
    assert hint.startswith("hearth model pull multilingual-e5-small")
    assert LanguageCheck({"zh": 1.0}, "multilingual-e5-small", True).warning("M", "m") is None


LETTER = (
    """# About me
I'm Sam. I work nights as a nurse and I love green tea.

## Us
We met in March 2023. Our song is Clair de Lune.

Things to know:
- You always tease me about my tea.
- 我们每年夏天都去海边。

A long paragraph. """
    + "This sentence keeps going and going. " * 20
)


def test_letter_is_split_by_headings_paragraphs_bullets_and_sentences() -> None:
    pieces = split_letter(LETTER)
    assert pieces[0] == ("About me", "I'm Sam. I work nights as a nurse and I love green tea.")
    assert pieces[1] == ("Us", "We met in March 2023. Our song is Clair de Lune.")
    assert pieces[2] == ("Things to know", "You always tease me about my tea.")
    assert pieces[3] == ("Things to know", "我们每年夏天都去海边。")
    long_parts = [p for h, p in pieces[4:]]
    assert len(long_parts) >= 2 and all(len(p) <= 400 for p in long_parts)


def test_letter_pieces_go_by_heading_then_words_within_budget() -> None:
    blocks = [CoreMemory(label="user", text="Name: Sam", limit=40)]
    plan = plan_letter(LETTER, blocks)
    where = [(p.destination, p.reason) for p in plan.pieces]
    assert where[0] == ("archival", "over the user budget")  # 9 + 1 + 55 > 40
    assert where[1] == ("relationship", "heading 'Us'")
    assert where[2] == ("companion", "words")  # "You always tease me": you, named first
    assert where[3] == ("relationship", "words")
    assert all(len(b.text) <= b.limit for b in plan.blocks)
    assert plan.blocks[0].text == "Name: Sam"
    assert plan.archival[0].startswith("I'm Sam.")


def test_archival_ids_are_stable() -> None:
    assert archival_source_id("letter", 3) == archival_source_id("letter", 3)
    assert archival_source_id("letter", 3) != archival_source_id("letter!", 3)
