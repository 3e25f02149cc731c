"""Plain text and markdown transcripts → one session per file.

There is no standard, so three common shapes are read, one per file (the one that finds the
most speaker lines wins):

    Mira: Hello!              **User:** hi              ## user
    it continues here         **Mira:** Hello!          hi
    User: hi                                            ## assistant
                                                        Hello!

A line that does not start a message continues the one before. A label counts as a speaker when
it appears at least twice, is a role word (`user`, `you`, `assistant`, `AI`, `ChatGPT`, …), is
the companion named in the options, or when the file has only two labels; so a stray `Note:`
inside a message is not mistaken for a speaker. A leading `# Title` becomes the session's title.

Which speaker is the companion: `companion_speaker` (`--companion-speaker NAME`) when given,
else a speaker named like the companion (`--companion NAME`), else an assistant role word, else
the only speaker that is not a user role word. Anything else is ambiguous and is an error that
names the speakers and `--companion-speaker`. Every other speaker is the user (role `user`, with
the label kept as `name` in the metadata); `System:` is a system message.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from runtime.errors import ImportFormatError
from runtime.importers.base import (
    ImportedMessage,
    ImportedSession,
    ImportItem,
    ImportOptions,
    ImportWarning,
    Progress,
)
from runtime.store.models import Role

SUFFIXES = (".txt", ".md", ".markdown", ".text")
USER_WORDS = frozenset({"user", "you", "me", "human", "{{user}}", "<user>"})
ASSISTANT_WORDS = frozenset(
    {"assistant", "ai", "bot", "model", "chatgpt", "gpt", "claude", "gemini", "bard", "copilot",
     "character", "char", "{{char}}", "<bot>"}
)  # fmt: skip
SYSTEM_WORDS = frozenset({"system"})
_LABEL = r"[\w{}<>][\w .'’{}<>-]{0,39}?"
STYLES: dict[str, re.Pattern[str]] = {
    "bold": re.compile(rf"^\s*\*\*(?P<label>{_LABEL})\s*(?::\*\*|\*\*\s*:)\s?(?P<rest>.*)$"),
    "heading": re.compile(rf"^\s{{0,3}}#{{1,6}}\s+(?P<label>{_LABEL})\s*:?\s*#*\s*(?P<rest>)$"),
    # Not a time ("12:30") or a URL ("https://…"): those are text, not speakers.
    "plain": re.compile(rf"^(?!\d+\s*:)(?P<label>{_LABEL})\s*:(?!//)\s?(?P<rest>.*)$"),
}
_AMBIGUOUS = "cannot tell which speaker is the companion"
_TITLE = re.compile(r"^\s{0,3}#\s+(?P<title>.+?)\s*#*\s*$")
_META = re.compile(r"^\s*([_*]).+\1\s*$")  # an italic line, e.g. our export's session details


class TextImporter:
    """Reads a `.txt`/`.md` transcript, or a folder of them (one session per file).

    Options: `companion_speaker` — which speaker is the companion when it is ambiguous (the
    pipeline sets `self.options` instead; both work). Other keyword options are ignored.
    """

    name = "text"

    def __init__(self, companion_speaker: str | None = None, **_options: object) -> None:
        """`companion_speaker`: the label of the companion's lines (case-insensitive)."""
        self.options = ImportOptions(companion_speaker=companion_speaker)

    def detect(self, root: Path) -> bool:
        """True for a text or markdown file, or a folder holding a transcript with speakers.

        A single file is accepted on its name alone, so that reading it can say what is wrong
        (not UTF-8, no speakers); a folder only when one of its files reads as a transcript.
        """
        if root.is_file():
            return bool(_text_files(root))
        return any(_has_speakers(path, self.options) for path in _text_files(root)[:20])

    def read(self, root: Path, progress: Progress) -> Iterator[ImportItem]:
        """One session per file, in name order.

        A single file that cannot be read is an error; in a folder such a file is skipped with
        a warning (a README next to the transcripts is not a reason to refuse them all).
        """
        files = _text_files(root)
        if not files:
            raise ImportFormatError(
                f"{root}: no .txt or .md transcript found", hint="pass a .txt or .md file"
            )
        progress.bytes_total += sum(path.stat().st_size for path in files)
        for path in files:
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise ImportFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
            try:
                yield from parse_transcript(
                    decode_text(raw, str(path)), path.stem, raw, self.options
                )
            except ImportFormatError as exc:
                if root.is_file() or _AMBIGUOUS in exc.message:
                    raise  # the user has to act (or name the companion speaker)
                yield ImportWarning(path.name, f"{exc.message}; file skipped")
            progress.bytes_done += len(raw)
            progress.sessions += 1


def _has_speakers(path: Path, options: ImportOptions) -> bool:
    try:
        text = decode_text(path.read_bytes(), str(path))
    except (OSError, ImportFormatError):
        return False
    lines = text.replace("\r\n", "\n").split("\n")
    return _choose_style(lines, options)[0] is not None


def _text_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root] if root.suffix.lower() in SUFFIXES else []
    if not root.is_dir():
        return []
    found = [p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()]
    return sorted(p for p in found if len(p.relative_to(root).parts) <= 3)


def decode_text(raw: bytes, source: str) -> str:
    """UTF-8 (a BOM is fine) or BOM-marked UTF-16; anything else is a one-line error."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(
            f"{source}: not UTF-8 text (invalid byte at offset {exc.start})",
            hint="save the file as UTF-8 and import it again",
        ) from exc


@dataclass
class _Turn:
    label: str
    lines: list[str]


def parse_transcript(
    text: str, stem: str, raw: bytes, options: ImportOptions
) -> Iterator[ImportItem]:
    """The session of one transcript (see the module docstring); `raw` gives its stable id."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    style, speakers = _choose_style(lines, options)
    if style is None:
        raise ImportFormatError(
            f"{stem}: no speaker lines found (like 'Name: text' or '**Name:** text')",
            hint="start each message with its speaker, e.g. 'User: hi' and 'Mira: hello'",
        )
    companion = _companion(speakers, options, stem)
    pattern = STYLES[style]
    title: str | None = None
    preamble = 0
    turns: list[_Turn] = []
    for line in lines:
        match = pattern.match(line)
        if match and _key(match["label"]) in speakers:
            turns.append(_Turn(speakers[_key(match["label"])], [match["rest"]]))
        elif turns:
            turns[-1].lines.append(line)
        elif title is None and (heading := _TITLE.match(line)):
            title = heading["title"]
        elif line.strip() and not _META.match(line):
            preamble += 1
    if preamble:
        yield ImportWarning(stem, f"skipped {preamble} line(s) before the first speaker")
    messages: list[ImportedMessage] = []
    for turn in turns:
        body = "\n".join(turn.lines).strip("\n").strip()
        if not body:
            continue
        role = _role(turn.label, companion)
        generic = _key(turn.label) in USER_WORDS | ASSISTANT_WORDS | SYSTEM_WORDS
        messages.append(
            ImportedMessage(
                source_id=f"m{len(messages) + 1}",
                parent_source_id=messages[-1].source_id if messages else None,
                role=role,
                text=body,
                metadata={} if generic else {"name": turn.label},
            )
        )
    if not messages:
        yield ImportWarning(stem, "no messages; transcript skipped")
        return
    yield ImportedSession(
        source="text",
        source_id=f"text:{hashlib.sha256(raw).hexdigest()[:16]}",
        title=title or stem,
        created_at=None,
        messages=messages,
    )


def _key(label: str) -> str:
    return label.strip().casefold()


def _choose_style(lines: list[str], options: ImportOptions) -> tuple[str | None, dict[str, str]]:
    """The style with the most speaker lines, and its speakers (casefolded key → label)."""
    named = {_key(n) for n in (options.companion_speaker, options.companion_name) if n}
    best: tuple[int, str | None, dict[str, str]] = (0, None, {})
    for style, pattern in STYLES.items():
        counts: Counter[str] = Counter()
        labels: dict[str, str] = {}
        for line in lines:
            match = pattern.match(line)
            if match:
                key = _key(match["label"])
                counts[key] += 1
                labels.setdefault(key, match["label"].strip())
        few = len(counts) <= 2
        speakers = {
            key: labels[key]
            for key in counts
            if few or counts[key] >= 2 or key in named or _is_role_word(key)
        }
        score = sum(counts[key] for key in speakers)
        if score > best[0]:  # ties keep the earlier, more specific style
            best = (score, style, speakers)
    return best[1], best[2]


def _is_role_word(key: str) -> bool:
    return key in USER_WORDS or key in ASSISTANT_WORDS or key in SYSTEM_WORDS


def _companion(speakers: dict[str, str], options: ImportOptions, stem: str) -> str:
    """The key of the companion's label (see the module docstring)."""
    listed = ", ".join(speakers.values())
    if options.companion_speaker:
        wanted = _key(options.companion_speaker)
        if wanted not in speakers:
            raise ImportFormatError(
                f"{stem}: no speaker {options.companion_speaker!r} (speakers: {listed})",
                hint="pass one of the speakers with --companion-speaker NAME",
            )
        return wanted
    if options.companion_name and _key(options.companion_name) in speakers:
        return _key(options.companion_name)
    assistants = [key for key in speakers if key in ASSISTANT_WORDS]
    if len(assistants) == 1:
        return assistants[0]
    others = [key for key in speakers if not _is_role_word(key)]
    if not assistants and len(others) == 1 and any(key in USER_WORDS for key in speakers):
        return others[0]
    raise ImportFormatError(
        f"{stem}: {_AMBIGUOUS} (speakers: {listed})",
        hint="name it with --companion-speaker NAME",
    )


def _role(label: str, companion: str) -> Role:
    key = _key(label)
    if key == companion:
        return "assistant"
    return "system" if key in SYSTEM_WORDS else "user"
