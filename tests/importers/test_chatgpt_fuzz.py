"""Fuzzing the ChatGPT parser: whatever the export holds, no traceback — only a session,
warnings, or an ImportFormatError."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.errors import ImportFormatError
from runtime.importers.base import ImportedSession, Progress
from runtime.importers.chatgpt import ChatGPTImporter
from runtime.importers.chatgpt_tree import convert
from runtime.importers.pipeline import ImportRequest, run_import
from runtime.importers.rows import prepare
from runtime.paths import DataHome
from runtime.store import ROLES
from tests.fixtures.exports.chatgpt import Conversation, dumps, linear

IDS = ["a", "b", "c", "d", "e", "client-created-root", "lone \ud83d"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    | st.sampled_from([10**400, -(10**30), 1e11 + 1, 253402300800.0, "1e999", "\ue200", "\udc00"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)  # fmt: skip
JUNK_OR = lambda strategy: strategy | JSON  # noqa: E731
ROLE = JUNK_OR(st.sampled_from(["user", "assistant", "system", "tool"]))
CONTENT_TYPE = JUNK_OR(
    st.sampled_from(
        ["text", "multimodal_text", "code", "thoughts", "user_editable_context",
         "model_editable_context", "execution_output", "tether_quote", "hologram"]
    )
)  # fmt: skip
PART = JUNK_OR(
    st.text(max_size=20)
    | st.fixed_dictionaries(
        {"content_type": st.sampled_from(
            ["image_asset_pointer", "audio_transcription", "audio_asset_pointer", "x"]),
         "text": JUNK_OR(st.text(max_size=10))}
    )
)  # fmt: skip
MESSAGE = st.fixed_dictionaries(
    {},
    optional={
        "id": JUNK_OR(st.sampled_from(IDS)),
        "author": JUNK_OR(st.fixed_dictionaries({"role": ROLE}, optional={"name": JSON})),
        "content": JUNK_OR(
            st.fixed_dictionaries(
                {"content_type": CONTENT_TYPE},
                optional={"parts": JUNK_OR(st.lists(PART, max_size=4)),
                          "model_set_context": JUNK_OR(st.text(max_size=30)),
                          "user_profile": JSON, "user_instructions": JSON},
            )
        ),
        "metadata": JUNK_OR(st.fixed_dictionaries({}, optional={
            "model_slug": JSON, "is_visually_hidden_from_conversation": JSON,
            "is_user_system_message": JSON, "user_context_message_data": JSON})),
        "recipient": JUNK_OR(st.sampled_from(["all", "bio", "python"])),
        "create_time": JSON,
        "channel": JSON,
    },
)  # fmt: skip
NODE = JUNK_OR(
    st.fixed_dictionaries(
        {},
        optional={
            "parent": JUNK_OR(st.sampled_from(IDS) | st.just("missing")),
            "children": JUNK_OR(st.lists(JUNK_OR(st.sampled_from(IDS)), max_size=4)),
            "message": JUNK_OR(MESSAGE),
        },
    )
)  # fmt: skip
CONVERSATION = JUNK_OR(
    st.fixed_dictionaries(
        {"mapping": JUNK_OR(st.dictionaries(st.sampled_from(IDS), NODE, max_size=6))},
        optional={
            "id": JSON, "conversation_id": JSON, "title": JSON, "create_time": JSON,
            "update_time": JSON, "current_node": JUNK_OR(st.sampled_from(IDS)),
            "default_model_slug": JSON,
        },
    )
)  # fmt: skip


def _check_session(session: ImportedSession) -> None:
    seen: set[str] = set()
    for message in session.messages:
        assert message.source_id not in seen
        assert message.parent_source_id is None or message.parent_source_id in seen
        assert message.role in ROLES and isinstance(message.text, str) and message.text.strip()
        seen.add(message.source_id)
    assert session.active_leaf_source_id is None or session.active_leaf_source_id in seen
    prepare(session)  # the writer's half, without a database


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversation=CONVERSATION, feedback=st.dictionaries(st.sampled_from(IDS), JSON))
def test_any_conversation_converts_without_a_traceback(conversation: Any, feedback: Any) -> None:
    converted = convert(conversation, 0, {k: v for k, v in feedback.items() if isinstance(v, dict)})
    if converted.session is not None:
        _check_session(converted.session)
    for warning in converted.warnings:
        assert isinstance(warning.message, str)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations=st.lists(CONVERSATION, max_size=4), top=st.sampled_from(["array", "wrap"]))
def test_any_export_file_reads_without_a_traceback(conversations: list, top: str) -> None:
    payload = conversations if top == "array" else {"conversations": conversations}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "conversations.json"
        path.write_bytes(json.dumps(payload).encode())  # ASCII: lone surrogates as escapes
        try:
            for item in ChatGPTImporter().read(path, Progress()):
                if isinstance(item, ImportedSession):
                    _check_session(item)
        except ImportFormatError:
            pass


def _valid_export() -> bytes:
    conv = Conversation("c", "안녕 🌙")
    conv.user("你好")
    conv.assistant("Halo")
    return dumps([conv.build(), linear("d", 3)])


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_damaged_bytes_give_an_import_format_error_or_sessions(data: st.DataObject) -> None:
    raw = bytearray(_valid_export())
    cut = data.draw(st.integers(0, len(raw)))
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)),
                               max_size=4))  # fmt: skip
    for position, value in edits:
        raw[position] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "conversations.json"
        path.write_bytes(bytes(raw[:cut]))
        try:
            items = list(ChatGPTImporter().read(path, Progress()))
        except ImportFormatError as error:
            assert error.message and "\n" not in error.message
        else:
            for item in items:
                if isinstance(item, ImportedSession):
                    _check_session(item)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations=st.lists(CONVERSATION, min_size=1, max_size=3))
def test_any_export_imports_into_a_store_without_a_traceback(conversations: list) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "conversations.json"
        path.write_bytes(json.dumps(conversations * 2).encode())  # twice: re-import in one run
        home = DataHome.resolve(Path(folder) / "home")
        try:
            first = run_import(home, ImportRequest(path))
        except ImportFormatError:
            return
        again = run_import(home, ImportRequest(path))
        assert (again.sessions_added, again.messages_added, again.memories_added) == (0, 0, 0)
        assert first.sessions_added + first.sessions_updated <= len(conversations)
