"""Search terms of Chinese, Japanese and Korean text, without a dictionary.

These languages do not put spaces between words (Korean puts them between phrases, each a word
with its particles glued on), so the usual terms are overlapping character bigrams: a two-
character word is found inside any longer run. Plain bigrams also pair characters across word
boundaries (天我, は何, 이를), and those junk terms match unrelated text. So, per script:

- Han: in Chinese, runs are cut at function characters and words (的 了 吗 我 你 什么 怎么 …)
  before the bigrams; a content character left alone is a term by itself.
- Kana: a change of script is a word boundary in Japanese (食べ物: 食 | べ | 物), so kanji,
  katakana and hiragana runs are taken apart. Hiragana carries the grammar (particles, verb
  endings) and is left out; so is the odd word written in hiragana only (りんご): on the
  benchmark, keeping long hiragana runs matched more grammar than words.
- Hangul: each space-separated phrase loses its particle or common ending (고양이를, 고양이는
  → 고양이; 시작했어 → 시작) before the bigrams. A one-syllable stem (차를 → 차) is a term; a
  two-syllable word whose last syllable only looks like a particle (사과, 바다) keeps its
  whole form as well.
"""

from __future__ import annotations

import re

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HIRAGANA = "\u3040-\u309f"
KATAKANA = "\u30a0-\u30ff\u31f0-\u31ff"
HANGUL = "\uac00-\ud7af\u1100-\u11ff"
_RUNS = re.compile(f"([{HAN}]+)|([{HIRAGANA}]+)|([{KATAKANA}]+)|([{HANGUL}]+)")

_HAN_STOP_WORDS = """什么 怎么 怎样 为什么 哪儿 哪里 这个 那个 这些 那些 一个 一下 我们 你们
他们 她们 自己 因为 所以 但是 可是 然后 还是 就是 已经 如果 虽然 而且 或者 这样 那样 这么 那么
的话 时候"""
_HAN_STOP_CHARS = (
    "的了吗呢吧啊呀啦嘛哦嗯么我你他她它们是在和也都就很还又才把被给对跟着过得地这那哪谁"
)
_HAN_SPLIT = re.compile(
    "|".join(sorted(_HAN_STOP_WORDS.split(), key=len, reverse=True)) + f"|[{_HAN_STOP_CHARS}]"
)

# Korean particles and endings: a phrase loses the longest one it ends with.
_HANGUL_SUFFIX_WORDS = """은 는 이 가 을 를 에 의 와 과 도 로 랑 만 요 야 에서 에게 한테
께서 으로 이랑 하고 까지 부터 보다 처럼 마다 밖에 조차 에는 에도
에서는 에서도 에게는 한테는 으로는 으로도 까지는 부터는 이나 이라도
이라고 라고 이라는 라는 이야 이에요 예요 입니다 이었어 였어 했어
했어요 했다 했지 했는데 했고 했던 했을 하는 해서 해요 하면 하기 하게
할 한 해 합니다 했습니다 하자 하지 하러 었어 았어 었어요 았어요 었다
았다 었지 았지 었는데 았는데 었던 았던 는데 지만 어서 아서 면서 으면
니까 으니까 더라 다가 어요 아요 겠어 거든 잖아 네요 군요 구나 습니다
고 서 면 지 다 어 아"""
_HANGUL_SUFFIXES = sorted(set(_HANGUL_SUFFIX_WORDS.split()), key=len, reverse=True)
_HANGUL_STOP_WORDS = """나 내 너 네 저 제 우리 너희 그 이 저것 그것 이것 거 것 뭐 무슨
무엇 어디 누구 언제 어떻 어떻게 왜 좀 정말 진짜 너무 그냥 아주 많이
다시 지금 요즘 오늘 있 없 하 되 같 그래 그리고 그런데 근데 있어
없어 했 해"""
_HANGUL_STOP = frozenset(_HANGUL_STOP_WORDS.split())


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def han_terms(run: str, chinese: bool = True, document: bool = False) -> list[str]:
    """Bigrams of a run of Han characters, cut at (Chinese) function characters and words;
    with `document`, every character on its own as well."""
    # Japanese: kana already cut the kanji into words (怪我 is no 我).
    pieces = _HAN_SPLIT.split(run) if chinese else [run]
    found: list[str] = []
    for piece in pieces:
        if piece:
            found.extend(_bigrams(piece))
            if document and len(piece) > 1:
                found.extend(piece)
    return found


def korean_stem(phrase: str) -> tuple[str, bool]:
    """(The phrase without its particle or ending, whether a one-syllable one was cut)."""
    for suffix in _HANGUL_SUFFIXES:
        if len(phrase) > len(suffix) and phrase.endswith(suffix):
            return phrase[: -len(suffix)], len(suffix) == 1
    return phrase, False


def hangul_terms(phrase: str) -> list[str]:
    """Bigrams of a Korean phrase's stem (the stem itself when it is one syllable)."""
    stem, short_cut = korean_stem(phrase)
    if stem in _HANGUL_STOP:
        return []
    found = _bigrams(stem)
    if short_cut and len(stem) == 1:  # 사과, 바다: the last syllable may be the word's own
        found.append(phrase)
    return found


def cjk_terms(word: str, japanese: bool = False, document: bool = False) -> list[str]:
    """Terms of one CJK word (a run of letters between spaces and punctuation); `japanese`:
    the text it comes from has kana (its Han characters are kanji); `document`: for the
    index, not a query (see `han_terms`)."""
    found: list[str] = []
    for han, _hiragana, katakana, hangul in _RUNS.findall(word):
        if han:
            found.extend(han_terms(han, not japanese, document))
        elif katakana:
            found.extend(_bigrams(katakana))
        elif hangul:
            found.extend(hangul_terms(hangul))
    return found
