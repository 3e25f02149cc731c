"""Read the header of a GGUF file (magic, version, metadata) in pure Python.

Listing models must be fast and must not load llama.cpp, so this reads only the key/value
metadata at the start of the file and never the tensors. Large arrays (the tokenizer's
150k-entry vocabulary) are skipped by seeking past them; only their length is kept.

Format (little-endian unless the file is big-endian, which the version field reveals):
    magic b"GGUF" · uint32 version · uint64 tensor_count · uint64 kv_count · kv pairs
    kv pair = string key · uint32 value_type · value;  string = uint64 length · UTF-8 bytes
    array   = uint32 item_type · uint64 count · items
"""

from __future__ import annotations

import logging
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from runtime.errors import ModelError

logger = logging.getLogger(__name__)

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
# Arrays up to this length keep their values (e.g. general.tags); longer ones only their length.
SMALL_ARRAY = 64

Scalar = int | float | bool | str

# GGUF value type id → (name, struct format or None for strings/arrays).
VALUE_TYPES: dict[int, tuple[str, str | None]] = {
    0: ("uint8", "B"),
    1: ("int8", "b"),
    2: ("uint16", "H"),
    3: ("int16", "h"),
    4: ("uint32", "I"),
    5: ("int32", "i"),
    6: ("float32", "f"),
    7: ("bool", "?"),
    8: ("string", None),
    9: ("array", None),
    10: ("uint64", "Q"),
    11: ("int64", "q"),
    12: ("float64", "d"),
}
STRING_TYPE = 8
ARRAY_TYPE = 9

# llama.cpp `enum llama_ftype` (include/llama.h); gaps are types llama.cpp removed.
FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    4: "Q4_1_SOME_F16",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
    41: "Q2_0",
}

_SIZE_LABEL = re.compile(r"^(\d+(?:\.\d+)?)([KMBT])$", re.IGNORECASE)
_SIZE_UNITS = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


@dataclass(frozen=True)
class GGUFArray:
    """An array value: its item type and length; the values only when the array is short."""

    item_type: str
    length: int
    values: tuple[Scalar, ...] | None = None


@dataclass(frozen=True)
class GGUFHeader:
    """What a GGUF file says about itself, without its tensors."""

    path: Path
    version: int
    tensor_count: int
    metadata: dict[str, Scalar]
    """Scalar key/values (numbers, booleans, strings) exactly as stored."""
    arrays: dict[str, GGUFArray]
    byte_order: str = "little"

    @property
    def architecture(self) -> str | None:
        return _str_or_none(self.metadata.get("general.architecture"))

    @property
    def name(self) -> str | None:
        return _str_or_none(self.metadata.get("general.name"))

    @property
    def model_type(self) -> str | None:
        """`general.type`: "model", "adapter", ... (absent in older files)."""
        return _str_or_none(self.metadata.get("general.type"))

    @property
    def file_type(self) -> int | None:
        value = self.metadata.get("general.file_type")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def quantization(self) -> str | None:
        """Name of `general.file_type` (e.g. "Q4_K_M"), or None when absent or unknown."""
        file_type = self.file_type
        return None if file_type is None else FILE_TYPES.get(file_type)

    @property
    def context_length(self) -> int | None:
        arch = self.architecture
        value = self.metadata.get(f"{arch}.context_length") if arch else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def size_label(self) -> str | None:
        return _str_or_none(self.metadata.get("general.size_label"))

    @property
    def parameter_count(self) -> int | None:
        """`general.parameter_count` if stored, else estimated from a plain size label ("1.5B")."""
        stored = self.metadata.get("general.parameter_count")
        if isinstance(stored, int) and not isinstance(stored, bool):
            return stored
        match = _SIZE_LABEL.match(self.size_label or "")
        if not match:
            return None
        return round(float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])

    @property
    def chat_template(self) -> str | None:
        return _str_or_none(self.metadata.get("tokenizer.chat_template"))

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)


def _str_or_none(value: Scalar | None) -> str | None:
    return value if isinstance(value, str) else None


def is_gguf(path: Path) -> bool:
    """True when `path` is a readable file starting with the GGUF magic."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == MAGIC
    except OSError:
        return False


class _Reader:
    """Bounded reads: every length is checked against what is left, so a corrupt length
    field gives "truncated" instead of a huge allocation."""

    def __init__(self, handle: BinaryIO, path: Path, size: int) -> None:
        self.handle = handle
        self.path = path
        self.size = size
        self.order = "<"

    def remaining(self) -> int:
        return self.size - self.handle.tell()

    def truncated(self) -> ModelError:
        return ModelError(
            f"{self.path}: truncated GGUF header",
            hint="the file is incomplete or damaged; download it again",
        )

    def exact(self, count: int) -> bytes:
        if count > self.remaining():
            raise self.truncated()
        data = self.handle.read(count)
        if len(data) != count:
            raise self.truncated()
        return data

    def skip(self, count: int) -> None:
        if count > self.remaining():
            raise self.truncated()
        self.handle.seek(count, os.SEEK_CUR)

    def unpack(self, fmt: str) -> Scalar:
        full = self.order + fmt
        return struct.unpack(full, self.exact(struct.calcsize(full)))[0]

    def string(self) -> str:
        length = int(self.unpack("Q"))
        return self.exact(length).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        self.skip(int(self.unpack("Q")))


def _read_value(reader: _Reader, value_type: int, key: str) -> Scalar | GGUFArray:
    if value_type == STRING_TYPE:
        return reader.string()
    if value_type == ARRAY_TYPE:
        return _read_array(reader, key)
    kind = VALUE_TYPES.get(value_type)
    if kind is None or kind[1] is None:
        raise ModelError(
            f"{reader.path}: corrupt GGUF header (unknown value type {value_type} for '{key}')",
            hint="the file is damaged or from an unsupported GGUF variant",
        )
    return reader.unpack(kind[1])


def _read_array(reader: _Reader, key: str) -> GGUFArray:
    item_type = int(reader.unpack("I"))
    length = int(reader.unpack("Q"))
    kind = VALUE_TYPES.get(item_type)
    if kind is None or item_type == ARRAY_TYPE:
        raise ModelError(
            f"{reader.path}: corrupt GGUF header (array '{key}' has item type {item_type})",
            hint="the file is damaged or from an unsupported GGUF variant",
        )
    name, fmt = kind
    if length <= SMALL_ARRAY:
        values = tuple(_read_value(reader, item_type, key) for _ in range(length))
        return GGUFArray(name, length, values)  # type: ignore[arg-type]
    if fmt is not None:
        reader.skip(length * struct.calcsize(reader.order + fmt))
    else:
        # Strings have their own lengths, so they are stepped over one by one; every string
        # needs at least its 8-byte length, which bounds a corrupt count early.
        if length * 8 > reader.remaining():
            raise reader.truncated()
        for _ in range(length):
            reader.skip_string()
    return GGUFArray(name, length)


def read_gguf_header(path: Path) -> GGUFHeader:
    """Parse the GGUF header of `path`. Raises ModelError for a missing, foreign or bad file."""
    path = Path(path)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - the `with` below closes it
    except OSError as exc:
        raise ModelError(
            f"{path}: cannot read model file ({exc.strerror or exc})",
            hint="check the path and its permissions",
        ) from exc
    with handle:
        reader = _Reader(handle, path, os.fstat(handle.fileno()).st_size)
        magic = handle.read(4)
        if magic != MAGIC:
            if len(magic) < 4 and MAGIC.startswith(magic) and magic:
                raise reader.truncated()
            raise ModelError(
                f"{path}: not a GGUF file (magic {magic!r})",
                hint="llama.cpp needs .gguf files; convert other formats first",
            )
        raw_version = reader.exact(4)
        version = struct.unpack("<I", raw_version)[0]
        byte_order = "little"
        if version not in SUPPORTED_VERSIONS and struct.unpack(">I", raw_version)[0] in (
            SUPPORTED_VERSIONS
        ):
            reader.order, byte_order = ">", "big"
            version = struct.unpack(">I", raw_version)[0]
        if version not in SUPPORTED_VERSIONS:
            raise ModelError(
                f"{path}: unsupported GGUF version {version}",
                hint="re-convert or re-download the model with a current llama.cpp",
            )
        tensor_count = int(reader.unpack("Q"))
        kv_count = int(reader.unpack("Q"))
        metadata: dict[str, Scalar] = {}
        arrays: dict[str, GGUFArray] = {}
        for _ in range(kv_count):
            key = reader.string()
            value = _read_value(reader, int(reader.unpack("I")), key)
            if isinstance(value, GGUFArray):
                arrays[key] = value
            else:
                metadata[key] = value
    logger.debug("read GGUF header of %s: %d keys", path, len(metadata) + len(arrays))
    return GGUFHeader(path, version, tensor_count, metadata, arrays, byte_order)
