"""Pure text rules of memory: keyword terms, languages, memory letters."""

from __future__ import annotations

from runtime.companion import CoreMemory
from runtime.memory.cjk import korean_stem
from runtime.memory.indonesian import stems
from runtime.memory.keywords import terms
from runtime.memory.language import LanguageCheck, cjk_language, cjk_share, language_mix
from runtime.memory.letter import archival_source_id, plan_letter, split_letter
from runtime.memory.named import NamedSpeakers, mentioned_names
from runtime.memory.person import third_person


def test_terms_are_words_and_cjk_bigrams() -> None:
    assert terms("I adopted a kitten named Mochi!") == ["adopted", "kitten", "named", "mochi"]
    assert terms("我喜欢猫") == ["喜欢", "欢猫"]  # 我 is a function character: no 我喜
    assert terms("여름에 바다") == ["여름", "바", "바다"]
    assert terms("Aku suka makan rendang") == ["suka", "makan", "rendang"]
    assert terms("猫") == ["猫"]


def shared(query: str, document: str) -> set[str]:
    """The terms a query and an indexed text have in common."""
    return set(terms(query)) & set(terms(document, document=True))


def test_korean_particles_and_endings_are_cut() -> None:
    assert korean_stem("고양이를") == ("고양이", True)
    assert korean_stem("시작했어") == ("시작", False)
    assert shared("고양이를 봤어", "우리 고양이는 귀여워") == {"고양", "양이"}
    assert "이를" not in terms("고양이를") and "이는" not in terms("고양이는")
    assert "차" in shared("내 차는 뭐야?", "차를 샀어")  # a one-syllable noun
    assert "바다" in shared("바다에 갔어", "바다 좋아")  # 다 here is the word's own syllable
    assert shared("지난달에 뭘 샀더라?", "중고 피아노를 샀는데") == {"샀"}


def test_indonesian_words_meet_their_stems() -> None:
    assert stems("makanan") == ["makan"] and stems("makan") == ["makan"]
    assert stems("disarankan") == stems("menyarankan") == ["saran"]
    assert stems("pekerjaan") == stems("kerjakan") == ["kerja"]
    assert stems("memakan") == ["makan", "pakan"]  # me-makan or mem-pakan: both kept
    assert stems("bulan") == ["bulan"]  # too short to have affixes
    assert "makan" in shared("Pola makanku sekarang seperti apa?", "Aku nggak makan daging")
    assert "kerja" in shared("Apa pekerjaan Budi?", "Aku kerja shift malam")
    # English text is left to SQLite's porter stemmer: no Indonesian prefix is cut.
    assert terms("the beginning of a different story") == ["beginning", "different", "story"]


def test_chinese_and_japanese_terms_drop_the_grammar() -> None:
    assert terms("小林是做什么工作的？") == ["小林", "做", "工作"]
    assert "做" in shared("情人节那天我做了什么菜？", "我给小雨做了蘑菇烩饭")
    japanese = terms("十代のころ、私はどうやって怪我をした？")
    assert "怪我" in japanese and "十代" in japanese  # 我 is no function character in kanji
    assert all(t not in japanese for t in ("はど", "った", "した"))  # hiragana is grammar
    assert terms("ハーフマラソンを走った")[-1] == "走"


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


def test_irregular_past_forms_meet_their_base_verb() -> None:
    assert shared("What did Tamsin break on moving day?", "I broke my mirror") == {"break"}
    assert "teach" in shared("Who did Lena teach piano?", "I taught my niece piano")
    assert terms("I bought a cat") == ["bought", "buy", "cat"]
    assert terms("Aku makan") == ["makan"]  # Indonesian words are never English verbs


def test_pronouns_become_the_names_of_speaker_and_listener() -> None:
    said = third_person("I'm sure my cat likes you, and I told you so.", "Tamsin Reyes", "Mira")
    assert said == "Tamsin is sure Tamsin's cat likes Mira, and Tamsin told Mira so."
    assert third_person("Your idea? Mine was better.", "Oskar", "Lena") == (
        "Lena's idea? Oskar's was better."
    )
    assert third_person("Aku kangen kamu", "Budi", "Sari") == "Budi kangen Sari"
    assert third_person("Did you see it?", "Oskar", None) == "Did you see it?"  # nobody to name
    assert third_person("Idiomatic Item", "Oskar", "Lena") == "Idiomatic Item"  # words, not letters
    assert third_person("我喜欢你", "小林", "Mira") == "我喜欢你"


def test_the_speakers_a_query_names() -> None:
    named = NamedSpeakers("What did caroline paint for Mel?", ignored=("User", "Mira"))
    assert named.any_of('["Caroline Diaz", "Mira"]') and named.any_of('["Melanie", "Mel"]')
    assert not named.any_of('["Carol"]')  # whole words only
    # The user and the companion speak in nearly every turn: naming them boosts nothing.
    assert not NamedSpeakers("What did Mira say?", ignored=("User", "Mira")).any_of('["Mira"]')
    assert NamedSpeakers("小林的妹妹住在哪里？", ignored=()).any_of('["小林", "小雨"]')
    assert not NamedSpeakers("妹妹住在哪里？", ignored=()).any_of('["小林"]')
    assert NamedSpeakers("지민이는 어디 살아?", ignored=()).any_of('["지민"]')


def test_the_people_a_query_mentions() -> None:
    assert mentioned_names("What does Marcus do for a living?") == ["Marcus"]
    assert mentioned_names("Lena's job? And where did Owen and Lena meet?") == ["Lena", "Owen"]
    # Opening a sentence, a stopword, a single letter or the user's own name: no one.
    assert mentioned_names("Where did I go. Tell me, Mira!", ignored=("Mira",)) == []
    assert mentioned_names("what does marcus do?") == []
    named = NamedSpeakers("What does Marcus do for a living?", ignored=("User", "Mira"))
    assert named.mentions_anyone
    assert named.mentioned_in("Rosa: His name is Marcus. He teaches chemistry.")
    assert named.mentioned_in("Rosa: Marcus's dinner was lovely.")
    assert not named.mentioned_in("Rosa: Marcusville is far; marcus is lower case.")
    assert not NamedSpeakers("What did I eat?", ignored=()).mentions_anyone


def test_which_cjk_language() -> None:
    assert cjk_language("我在儿童医院当护士。") == "zh"
    assert cjk_language("病院の上司は田中さん。") == "ja"  # kanji with kana
    assert cjk_language("작년 여름에 제주도") == "ko"
