"""ChatGPT message content: classification, clean-up, times, saved-memory facts, names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runtime.importers.chatgpt import guess_name, memory_key
from runtime.importers.chatgpt_content import Kind, classify, clean_text, split_memory, to_time


def _message(role: str, content: dict, **fields) -> dict:
    return {"author": {"role": role}, "content": content, "recipient": "all", **fields}


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (_message("user", {"content_type": "text", "parts": ["hi"]}), Kind.DIALOGUE),
        (_message("assistant", {"content_type": "text", "parts": ["hi"]}), Kind.DIALOGUE),
        (_message("tool", {"content_type": "text", "parts": ["x"]}), Kind.DROP),
        (_message("system", {"content_type": "text", "parts": ["x"]}), Kind.DROP),
        (_message("assistant", {"content_type": "code", "text": "x"}), Kind.DROP),
        (_message("assistant", {"content_type": "thoughts", "thoughts": []}), Kind.DROP),
        (_message("assistant", {"content_type": "reasoning_recap", "content": "x"}), Kind.DROP),
        (_message("tool", {"content_type": "tether_quote", "text": "x"}), Kind.DROP),
        (_message("assistant", {"content_type": "text", "parts": ["x"]}, recipient="python"),
         Kind.DROP),
        (_message("assistant", {"content_type": "text", "parts": ["x"]}, channel="analysis"),
         Kind.DROP),
        (_message("assistant", {"content_type": "text", "parts": ["x"]}, recipient="bio"),
         Kind.SAVED_MEMORY),
        (_message("system", {"content_type": "model_editable_context",
                             "model_set_context": "1. x"}), Kind.SAVED_MEMORY),
        (_message("system", {"content_type": "user_editable_context"}),
         Kind.CUSTOM_INSTRUCTIONS),
        (_message("user", {"content_type": "text", "parts": ["  \n"]}), Kind.DROP),
        (_message("user", {"content_type": "text", "parts": [""]}), Kind.DROP),
        (_message("assistant", {"content_type": "weird"}), Kind.UNKNOWN),
        (None, Kind.DROP),
        ("text", Kind.DROP),
        ({"author": "x", "content": [], "metadata": 5, "channel": ["x"]}, Kind.DROP),
    ],
)  # fmt: skip
def test_classify(message, kind) -> None:
    assert classify(message).kind is kind


def test_a_user_system_message_with_text_is_dialogue() -> None:
    message = _message(
        "system", {"content_type": "text", "parts": ["Be brief."]},
        metadata={"is_user_system_message": True},
    )  # fmt: skip
    found = classify(message)
    assert (found.kind, found.role, found.text) == (Kind.DIALOGUE, "system", "Be brief.")


def test_multimodal_parts() -> None:
    parts = [
        {"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"},
        "look",
        {"content_type": "audio_transcription", "text": "what is it?", "direction": "in"},
        {"content_type": "real_time_user_audio_video_asset_pointer"},
        {"unknown": True},
        7,
    ]
    found = classify(_message("user", {"content_type": "multimodal_text", "parts": parts}))
    assert (found.text, found.voice) == ("[image]\nlook\nwhat is it?", True)


def test_clean_text_strips_only_citations_and_normalizes_line_endings() -> None:
    assert clean_text("a\r\nb\rc\n") == "a\nb\nc\n"
    assert clean_text("x\ue200cite\ue202turn0search0\ue202turn0news3\ue201y") == "xy"
    assert clean_text("see【3:0†notes.pdf】 and 【4†source】.") == "see and ."
    assert clean_text("【重要】 † dagger") == "【重要】 † dagger"
    assert clean_text("stray \ue202 marker") == "stray  marker"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1739565000.5, datetime(2025, 2, 14, 20, 30, 0, 500000, tzinfo=UTC)),
        (1739565000, datetime(2025, 2, 14, 20, 30, tzinfo=UTC)),
        (1739565000000, datetime(2025, 2, 14, 20, 30, tzinfo=UTC)),
        ("1739565000", datetime(2025, 2, 14, 20, 30, tzinfo=UTC)),
        ("2025-02-14T20:30:00Z", datetime(2025, 2, 14, 20, 30, tzinfo=UTC)),
        ("2025-02-14", datetime(2025, 2, 14, tzinfo=UTC)),
        (None, None), (True, None), (0, None), (-5.0, None), (float("nan"), None),
        (float("inf"), None), (1e300, None), ("soon", None), ([1], None),
        (10**400, None), (-(10**400), None), ("1e400", None),
    ],
)  # fmt: skip
def test_to_time(value, expected) -> None:
    assert to_time(value) == expected


def test_split_memory() -> None:
    snapshot = "1. [2024-05-01]. Likes tea.\n2. Works nights.\r\n   (since 2023)\n\n3.  \n"
    assert split_memory(snapshot) == [
        ("Likes tea.", datetime(2024, 5, 1, tzinfo=UTC)),
        ("Works nights.\n(since 2023)", None),
    ]
    assert split_memory("Prefers short answers.\nLives in Seoul.") == [
        ("Prefers short answers.\nLives in Seoul.", None)
    ]
    assert split_memory("   ") == []


def test_memory_keys_ignore_case_and_spacing() -> None:
    assert memory_key("Likes  green tea.") == memory_key("likes green tea.\n")
    assert memory_key("Likes green tea.") != memory_key("Likes black tea.")


@pytest.mark.parametrize(
    ("instructions", "name"),
    [
        ("Your name is Mira. Be warm.", "Mira"),
        ("You are Sera, a gentle friend.", "Sera"),
        ("Call yourself Luna.", "Luna"),
        ("You are a helpful assistant.", None),
        ("Be concise.", None),
        ("你叫小明，是我的朋友。", "小明"),
        ("너의 이름은 하늘이야.", "하늘"),
    ],
)
def test_guess_name(instructions, name) -> None:
    assert guess_name(instructions) == name
