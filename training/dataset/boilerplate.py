"""Boilerplate in replies: the AI disclaimers and canned refusals a companion should not learn.

A line of a reply that matches any pattern (searched anywhere in the line, any letter case) is
removed whole. The defaults are conservative, since companions role-play: a character may well
say "sorry, I can't make it tonight". `--patterns FILE` adds patterns (one regex per line; blank
lines and lines starting with `#` are skipped), `--no-default-patterns` drops the defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from runtime.errors import UsageError

DEFAULT_PATTERNS: tuple[str, ...] = (
    # English
    r"\bas an? (?:ai|artificial intelligence)\b",
    r"\bas an? (?:large )?language model\b",
    r"\bI(?:'m| am) (?:just |only )?an? (?:ai|artificial intelligence|language model)\b",
    r"\bI(?:'m| am) sorry,? but I (?:can(?:'|no)t|am unable to|won't) "
    r"(?:help|assist|comply|provide|fulfill)",
    r"\bI (?:can(?:'|no)t|am unable to) (?:help|assist) with (?:that|this)(?: request)?\b",
    r"\bI don't have (?:personal )?(?:feelings|emotions|opinions|experiences|a body)\b",
    r"\b(?:developed|created|trained) by OpenAI\b",
    r"\bmy knowledge cut-?off\b",
    # Chinese, Japanese, Korean
    r"作为一?个?(?:AI|人工智能|语言模型)",
    r"作為一?個?(?:AI|人工智慧|語言模型)",
    r"我(?:只)?是一?个(?:AI|人工智能|语言模型)",
    r"(?:AI|人工知能|言語モデル)(?:として|なので)",
    r"AI ?(?:언어 ?모델|어시스턴트)(?:로서|이기 때문에)",
    # Indonesian, Spanish, French, German
    r"\bsebagai (?:sebuah )?(?:AI|model bahasa|kecerdasan buatan)\b",
    r"\bcomo (?:un )?(?:modelo de lenguaje|IA|inteligencia artificial)\b",
    r"\ben tant qu'(?:IA|intelligence artificielle|assistant virtuel|modèle de langage)",
    r"\bals (?:eine? )?(?:KI|Sprachmodell|künstliche Intelligenz)\b",
)


def load_patterns(path: Path) -> tuple[str, ...]:
    """The patterns in `path`: one regex per line, `#` comments and blank lines skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read the patterns file {path}: {exc}",
            hint="--patterns takes a UTF-8 text file with one regular expression per line",
        ) from exc
    patterns = []
    for number, line in enumerate(lines, 1):
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UsageError(
                f"{path}:{number}: invalid regular expression {pattern!r}: {exc}",
                hint="fix that line (Python `re` syntax), or start it with # to skip it",
            ) from exc
        patterns.append(pattern)
    return tuple(patterns)


@dataclass(frozen=True)
class Stripped:
    """A reply without its boilerplate lines, and how many lines went."""

    text: str
    lines_removed: int


class Boilerplate:
    """The compiled patterns; `apply` removes matching lines from a reply."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        joined = "|".join(f"(?:{pattern})" for pattern in patterns)
        self._regex = re.compile(joined, re.IGNORECASE) if patterns else None

    def apply(self, text: str) -> Stripped:
        """`text` without the lines that match; blank runs left behind are squeezed."""
        if self._regex is None or self._regex.search(text) is None:
            return Stripped(text, 0)
        kept: list[str] = []
        removed = 0
        for line in text.split("\n"):
            if self._regex.search(line):
                removed += 1
            elif line.strip() or (kept and kept[-1].strip()):
                kept.append(line)
        return Stripped("\n".join(kept).strip(), removed)
