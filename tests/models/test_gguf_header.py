"""The pure-Python GGUF header reader, on small files written by the test's own writer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runtime.errors import ModelError
from runtime.models.gguf_header import GGUFArray, is_gguf, read_gguf_header
from tests.models.model_testkit import (
    ARR,
    BOOL,
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    STR,
    U8,
    U16,
    U32,
    U64,
    chat_kv,
    gguf_bytes,
)


def test_reads_chat_model_metadata(tmp_path: Path, write_gguf) -> None:
    path = write_gguf(tmp_path / "chat.gguf", chat_kv("qwen2", "Qwen Tiny", 15), tensor_count=7)
    header = read_gguf_header(path)
    assert (header.version, header.tensor_count, header.byte_order) == (3, 7, "little")
    assert header.architecture == "qwen2"
    assert header.name == "Qwen Tiny"
    assert header.file_type == 15
    assert header.quantization == "Q4_K_M"
    assert header.context_length == 4096
    assert header.has_chat_template is True
    assert header.chat_template == "{% for m in messages %}{{ m.content }}{% endfor %}"


def test_every_value_type_round_trips(tmp_path: Path, write_gguf) -> None:
    kv = [
        ("u8", U8, 255), ("i8", I8, -128), ("u16", U16, 65535), ("i16", I16, -32768),
        ("u32", U32, 2**32 - 1), ("i32", I32, -(2**31)), ("f32", F32, 0.5), ("bool", BOOL, True),
        ("str", STR, "héllo 你好"), ("u64", U64, 2**64 - 1), ("i64", I64, -(2**63)),
        ("f64", F64, 1.25), ("general.tags", ARR, (STR, ["chat", "tiny"])),
        ("ints", ARR, (I32, [1, -2, 3])), ("empty", ARR, (U8, [])),
    ]
    header = read_gguf_header(write_gguf(tmp_path / "types.gguf", kv))
    assert header.metadata == {
        "u8": 255, "i8": -128, "u16": 65535, "i16": -32768, "u32": 2**32 - 1, "i32": -(2**31),
        "f32": 0.5, "bool": True, "str": "héllo 你好", "u64": 2**64 - 1, "i64": -(2**63),
        "f64": 1.25,
    }
    assert header.arrays == {
        "general.tags": GGUFArray("string", 2, ("chat", "tiny")),
        "ints": GGUFArray("int32", 3, (1, -2, 3)),
        "empty": GGUFArray("uint8", 0, ()),
    }


def test_large_arrays_are_skipped_and_only_counted(tmp_path: Path, write_gguf) -> None:
    tokens = [f"tok{i}" for i in range(50_000)]
    kv = [
        ("general.architecture", STR, "llama"),
        ("tokenizer.ggml.tokens", ARR, (STR, tokens)),
        ("tokenizer.ggml.scores", ARR, (F32, [0.0] * 50_000)),
        ("llama.context_length", U32, 2048),  # after the arrays: proves they were stepped over
    ]
    path = write_gguf(tmp_path / "vocab.gguf", kv)
    started = time.perf_counter()
    header = read_gguf_header(path)
    assert time.perf_counter() - started < 2.0
    assert header.arrays["tokenizer.ggml.tokens"] == GGUFArray("string", 50_000, None)
    assert header.arrays["tokenizer.ggml.scores"] == GGUFArray("float32", 50_000, None)
    assert header.context_length == 2048


def test_version_2_and_big_endian_files(tmp_path: Path, write_gguf) -> None:
    v2 = read_gguf_header(write_gguf(tmp_path / "v2.gguf", chat_kv(), version=2))
    big = read_gguf_header(write_gguf(tmp_path / "be.gguf", chat_kv(), order=">"))
    assert (v2.version, v2.architecture) == (2, "llama")
    assert (big.byte_order, big.quantization, big.context_length) == ("big", "Q4_K_M", 4096)


def test_size_label_gives_parameter_count(tmp_path: Path, write_gguf) -> None:
    kv = [("general.architecture", STR, "llama"), ("general.size_label", STR, "1.5B")]
    header = read_gguf_header(write_gguf(tmp_path / "m.gguf", kv))
    assert (header.size_label, header.parameter_count) == ("1.5B", 1_500_000_000)
    assert header.quantization is None and header.chat_template is None


@pytest.mark.parametrize(("file_type", "name"), [(0, "F32"), (1, "F16"), (7, "Q8_0"),
                                                 (18, "Q6_K"), (32, "BF16"), (999, None)])
def test_file_type_names_follow_llama_ftype(tmp_path, write_gguf, file_type, name) -> None:
    header = read_gguf_header(write_gguf(tmp_path / "q.gguf", chat_kv(file_type=file_type)))
    assert header.quantization == name


def test_wrong_magic_names_the_path_and_magic(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ModelError) as err:
        read_gguf_header(path)
    assert err.value.message == f"{path}: not a GGUF file (magic b'PK\\x03\\x04')"
    assert is_gguf(path) is False


@pytest.mark.parametrize("cut", [2, 6, 30, -40])
def test_truncated_file_is_reported(tmp_path: Path, cut: int) -> None:
    data = gguf_bytes(chat_kv(), tail=b"")
    path = tmp_path / "cut.gguf"
    path.write_bytes(data[:cut])
    assert is_gguf(path) is (cut >= 4 or cut < 0)
    with pytest.raises(ModelError) as err:
        read_gguf_header(path)
    assert err.value.message == f"{path}: truncated GGUF header"


def test_absurd_string_length_is_truncation_not_allocation(tmp_path: Path) -> None:
    data = b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little")
    data += (1).to_bytes(8, "little") + (2**62).to_bytes(8, "little")  # key length: 4 EiB
    path = tmp_path / "evil.gguf"
    path.write_bytes(data)
    with pytest.raises(ModelError, match="truncated GGUF header"):
        read_gguf_header(path)


def test_unsupported_version_and_missing_file(tmp_path: Path, write_gguf) -> None:
    with pytest.raises(ModelError, match="unsupported GGUF version 1"):
        read_gguf_header(write_gguf(tmp_path / "v1.gguf", chat_kv(), version=1))
    with pytest.raises(ModelError, match="cannot read model file"):
        read_gguf_header(tmp_path / "missing.gguf")
    assert is_gguf(tmp_path / "missing.gguf") is False
