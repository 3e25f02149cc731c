"""One ChatGPT message → what it means for the companion: dialogue text, a fact, or nothing.

`classify` sorts each message of a conversation's mapping into
- DIALOGUE: a user or assistant turn the user saw (text, voice transcripts, `[image]` for images),
- CUSTOM_INSTRUCTIONS: the "about me" / "how to respond" texts (→ persona and core memory),
- SAVED_MEMORY: the saved-memory snapshot the model was given, or a `bio` tool write (→ memories),
- DROP: tool traffic, browsing, code, reasoning, hidden and system messages.
Text is kept exactly as exported (every Unicode character), except that line endings become
"\\n" and citation markers are removed.

Everything here is defensive: exports are produced by many app versions and tools, and a
field can be missing, null, or of another type. Nothing raises for odd input.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# U+E200 … U+E201 wrap a citation payload ("cite", U+E202, "turn0search2"); older exports use
# "【12†source】". Only bracket pairs holding a dagger are citations: 【…】 is also ordinary CJK.
_CITATIONS = re.compile(
    "\ue200[^\ue201]*\ue201|【[^【】\n]{0,80}†[^【】\n]{0,80}】|[\ue200-\ue202]"
)
_LINE_ENDINGS = re.compile(r"\r\n?")
_FENCED = re.compile(r"```\s*\n?(.*?)\n?```", re.DOTALL)
_NUMBERED = re.compile(r"^\s*\d+\.\s*(?:\[(\d{4}-\d{2}-\d{2})\]\.?\s*)?(.*)$")

# Tool traffic and reasoning: never part of the companion's transcript.
DROPPED_TYPES = frozenset(
    {
        "code", "execution_output", "tether_browsing_display", "tether_quote", "sonic_webpage",
        "system_error", "thoughts", "reasoning_recap", "computer_output", "super_widget",
    }
)  # fmt: skip
DIALOGUE_TYPES = frozenset({"text", "multimodal_text"})
_HIDDEN_CHANNELS = frozenset({"analysis", "commentary"})


class Kind(enum.Enum):
    """What a message is for the importer."""

    DIALOGUE = "dialogue"
    CUSTOM_INSTRUCTIONS = "custom_instructions"
    SAVED_MEMORY = "saved_memory"
    DROP = "drop"
    UNKNOWN = "unknown"
    """Dropped too, but worth a warning: a content type this importer does not know."""


@dataclass(slots=True)
class Classified:
    """The outcome of `classify` for one message."""

    kind: Kind
    role: str = ""
    text: str = ""
    voice: bool = False
    about_user: str = ""
    about_model: str = ""
    facts: list[tuple[str, datetime | None]] | None = None
    content_type: str = ""


_DROPPED = Classified(Kind.DROP)  # shared: most messages dropped are dropped for the same reason


def to_time(value: Any) -> datetime | None:
    """An export time (epoch seconds or ms, number or numeric string, or ISO text) → aware UTC."""
    if type(value) is float and 0 < value < 1e11:  # the usual case, checked first
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not isinstance(value, int | float):
        return None
    try:
        if not math.isfinite(value) or value <= 0:
            return None
        if value > 1e11:  # milliseconds
            value /= 1000
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):  # ints beyond float range, years past 9999
        return None


def clean_text(text: str) -> str:
    """Normalize line endings and strip citation markers; everything else stays as it is."""
    if "\r" in text:
        text = _LINE_ENDINGS.sub("\n", text)
    # `in` is O(1) when the text is narrower than the character (pure ASCII/Latin-1 text).
    if "\ue200" in text or "\ue201" in text or "\ue202" in text or "†" in text:
        text = _CITATIONS.sub("", text)
    return text


def _parts_text(parts: Any) -> tuple[str, bool]:
    """The visible text of `parts` and whether a voice transcript was among them."""
    if type(parts) is list and len(parts) == 1 and type(parts[0]) is str:
        return parts[0], False  # the usual case
    if isinstance(parts, str):
        return parts, False
    if not isinstance(parts, list):
        return "", False
    pieces: list[str] = []
    voice = False
    for part in parts:
        if isinstance(part, str):
            if part:
                pieces.append(part)
            continue
        if not isinstance(part, dict):
            continue
        part_type = part.get("content_type")
        if part_type == "audio_transcription":
            voice = True
            spoken = part.get("text")
            if isinstance(spoken, str) and spoken:
                pieces.append(spoken)
        elif part_type == "image_asset_pointer" or (
            isinstance(part_type, str) and part_type.startswith("image")
        ):
            pieces.append("[image]")
        elif isinstance(part_type, str) and "audio" in part_type:
            voice = True  # the recording itself; its words are in the transcription part
        elif isinstance(part.get("text"), str) and part["text"]:
            pieces.append(part["text"])
    return "\n".join(pieces), voice


def _unfence(text: str, marker: str) -> str:
    """The user's own words inside ChatGPT's preamble ("User profile:\\n```…```")."""
    fenced = _FENCED.search(text)
    if fenced:
        return fenced.group(1).strip()
    _, found, rest = text.partition(marker)
    return (rest if found else text).strip()


def _custom_instructions(message: dict[str, Any], content: dict[str, Any]) -> Classified:
    meta = message.get("metadata")
    data = meta.get("user_context_message_data") if isinstance(meta, dict) else None
    data = data if isinstance(data, dict) else {}
    about_user = data.get("about_user_message")
    about_model = data.get("about_model_message")
    if not isinstance(about_user, str):
        profile = content.get("user_profile")
        about_user = _unfence(profile, "User profile:") if isinstance(profile, str) else ""
    if not isinstance(about_model, str):
        wanted = content.get("user_instructions")
        about_model = _unfence(wanted, "respond:") if isinstance(wanted, str) else ""
    return Classified(
        Kind.CUSTOM_INSTRUCTIONS,
        about_user=clean_text(about_user).strip(),
        about_model=clean_text(about_model).strip(),
    )


def split_memory(text: str) -> list[tuple[str, datetime | None]]:
    """A saved-memory snapshot ("1. [2024-05-01]. Likes tea.\\n2. …") → (fact, date) pairs."""
    facts: list[tuple[str, datetime | None]] = []
    lines = clean_text(text).split("\n")
    if not any(_NUMBERED.match(line) for line in lines):
        whole = "\n".join(lines).strip()
        return [(whole, None)] if whole else []
    for line in lines:
        numbered = _NUMBERED.match(line)
        if numbered:
            date = to_time(numbered.group(1)) if numbered.group(1) else None
            facts.append((numbered.group(2).strip(), date))
        elif line.strip() and facts:
            fact, date = facts[-1]
            facts[-1] = (f"{fact}\n{line.strip()}", date)
    return [(fact, date) for fact, date in facts if fact]


def _hidden_channel(channel: Any) -> bool:
    return type(channel) is str and channel in _HIDDEN_CHANNELS


def classify(message: Any) -> Classified:
    """Decide what one mapping node's `message` is (see the module docstring)."""
    if type(message) is not dict:
        return _DROPPED
    author = message.get("author")
    role = author.get("role") if type(author) is dict else None
    content = message.get("content")
    if type(content) is not dict:
        content = {}
    content_type = content.get("content_type")
    if type(content_type) is not str:
        content_type = ""
    meta = message.get("metadata")
    if type(meta) is not dict:
        meta = {}
    recipient = message.get("recipient")

    if (
        content_type == "user_editable_context"
        or type(meta.get("user_context_message_data")) is dict
    ):
        return _custom_instructions(message, content)
    if content_type == "model_editable_context":
        snapshot = content.get("model_set_context")
        facts = split_memory(snapshot) if isinstance(snapshot, str) else []
        return Classified(Kind.SAVED_MEMORY, facts=facts)
    if role == "assistant" and recipient == "bio":
        text, _ = _parts_text(content.get("parts"))
        if not text and isinstance(content.get("text"), str):
            text = content["text"]
        fact = clean_text(text).strip()
        return Classified(Kind.SAVED_MEMORY, facts=[(fact, to_time(message.get("create_time")))])
    if role not in ("user", "assistant") and not (
        role == "system" and meta.get("is_user_system_message")
    ):
        return _DROPPED
    if (
        meta.get("is_visually_hidden_from_conversation")
        or (recipient is not None and recipient != "all")
        or _hidden_channel(message.get("channel"))
    ):
        return _DROPPED
    if content_type != "text" and content_type != "multimodal_text":
        if content_type in DROPPED_TYPES:
            return _DROPPED
        return Classified(Kind.UNKNOWN, content_type=content_type or "(none)")
    text, voice = _parts_text(content.get("parts"))
    text = clean_text(text)
    if not text or text.isspace():
        # Empty placeholder nodes (before the real reply) carry nothing; images never get here
        # because they became "[image]".
        return _DROPPED
    return Classified(Kind.DIALOGUE, role, text, voice)
