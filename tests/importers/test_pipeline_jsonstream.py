"""Streaming JSON array items through a sliding window: every split point, every shape, and
errors that name the file without quoting it."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.errors import ImportFormatError
from runtime.importers import jsonstream
from runtime.importers.jsonstream import iter_items

ITEMS = [
    {"title": "你好 🌙", "n": 1.5, "big": 12345678901234567890, "nested": [[{"a": None}]]},
    {"title": '안녕\n\t"quoted" \\ back', "list": [1, 2, 3], "e": 1e-7, "t": True},
    [],
    "Halo",
    -42,
]


def _items(data: bytes, **kw) -> list:
    return list(iter_items(lambda: io.BytesIO(data), "test.json", **kw))


@pytest.fixture
def tiny_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read 3 bytes at a time, so values and UTF-8 characters are cut everywhere."""
    monkeypatch.setattr(jsonstream, "READ_SIZE", 3)


@pytest.mark.parametrize("window", ["default", "tiny"])
def test_items_come_out_exactly(window: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if window == "tiny":
        monkeypatch.setattr(jsonstream, "READ_SIZE", 3)
    for indent in (None, 2):
        data = json.dumps(ITEMS, ensure_ascii=False, indent=indent).encode()
        assert _items(data) == ITEMS
        assert _items(b"\xef\xbb\xbf" + data) == ITEMS  # a byte order mark is fine


@settings(max_examples=100, deadline=None)
@given(
    items=st.lists(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)
            ),
            max_leaves=10,
        ),
        max_size=5,
    ),
    read_size=st.integers(1, 20),
)  # fmt: skip
def test_any_array_round_trips_with_any_window(items: list, read_size: int) -> None:
    original = jsonstream.READ_SIZE
    jsonstream.READ_SIZE = read_size
    try:
        data = json.dumps(items, ensure_ascii=False).encode("utf-8", "surrogatepass")
        try:
            assert _items(data) == items
        except ImportFormatError as error:  # only for lone surrogates, which are not UTF-8
            assert "not UTF-8" in error.message
    finally:
        jsonstream.READ_SIZE = original


def test_progress_counts_every_byte(tiny_window: None) -> None:
    data = json.dumps(ITEMS).encode()
    counted: list[int] = []
    _items(data, on_read=counted.append)
    assert sum(counted) == len(data)


def test_wrapped_arrays_lone_objects_and_empty_arrays() -> None:
    wrapped = {"meta": {"v": 1}, "conversations": ITEMS[:2], "after": [1]}
    assert _items(json.dumps(wrapped).encode()) == ITEMS[:2]
    assert _items(b'{"conversations": []}') == []
    assert _items(b'{"mapping": {"a": 1}, "title": "x"}') == [{"mapping": {"a": 1}, "title": "x"}]
    assert _items(b"{}") == [{}]
    assert _items(b" [ ] \n") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "test.json is empty"),
        (b"   \n", "test.json is empty"),
        (b'[{"a": 1}, {"b": ', "test.json: the file is cut off after 17 bytes (truncated JSON)"),
        (b'[{"a": "unterminated', "test.json: the file is cut off"),
        (b'[{"a": 1}', "test.json: the file is cut off"),
        (b'[{"a": 1} {"b": 2}]', "test.json: not valid JSON near byte 19 (expected ',' or ']')"),
        (b'[{"a": nope}, 1, 2, 3, 4, 5, 6, 7, 8]', "test.json: not valid JSON near byte 37 "
                                                  "(Expecting value)"),
        (b'[1] [2]', "test.json: not valid JSON near byte 7 (extra data after the end)"),
        (b'"just a string"', "test.json: not a JSON array or object"),
        (b'[{"a": "caf\xe9"}]', "test.json: not UTF-8 text (invalid bytes near byte 15)"),
        (b"[" * 100_000 + b"]" * 100_000, "test.json: nested too deeply near byte"),
        (b'{"conversations": [1, 2}', "test.json: not valid JSON near byte 24 (expected ',' or"),
        (b"{1: 2}", "test.json: not valid JSON near byte 6 (expected a key)"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_name_the_file(data: bytes, message: str) -> None:
    with pytest.raises(ImportFormatError) as caught:
        _items(data)
    assert caught.value.message.startswith(message)
    assert "\n" not in caught.value.message and caught.value.hint
    assert "nope" not in caught.value.message  # the file's content is never quoted
