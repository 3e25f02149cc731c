"""The few ONNX protobuf messages Hearth writes, encoded by hand (field numbers from
onnx/onnx.proto, which never change: protobuf compatibility), so that no `onnx` package is
needed to hand onnxruntime a graph (`onnx_graph`'s BERT encoder, `quantized`'s integer product).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import numpy as np

FLOAT, UINT8, INT8, INT64, INT32 = 1, 2, 3, 7, 6  # TensorProto.DataType
_ATTR_FLOAT, _ATTR_INT = 1, 2  # AttributeProto.AttributeType


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values are sent as their two's complement
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def field_int(number: int, value: int) -> bytes:
    """A varint field."""
    return _varint(number << 3) + _varint(value)


def field_bytes(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field (bytes, a string or an encoded message)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _field_float(number: int, value: float) -> bytes:
    return _varint(number << 3 | 5) + struct.pack("<f", value)


def tensor(name: str, array: np.ndarray) -> bytes:
    """A TensorProto holding `array` (an initializer)."""
    kinds = {
        np.dtype(np.float32): FLOAT,
        np.dtype(np.int64): INT64,
        np.dtype(np.int8): INT8,
        np.dtype(np.uint8): UINT8,
    }
    body = b"".join(field_int(1, dim) for dim in array.shape)
    body += field_int(2, kinds[array.dtype]) + field_bytes(8, name)
    raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return body + field_bytes(9, raw)


def _attribute(name: str, value: float | int) -> bytes:
    if isinstance(value, float):
        return field_bytes(1, name) + _field_float(2, value) + field_int(20, _ATTR_FLOAT)
    return field_bytes(1, name) + field_int(3, value) + field_int(20, _ATTR_INT)


def node(
    op: str, inputs: Iterable[str], outputs: Iterable[str], domain: str = "", **attrs: float | int
) -> bytes:
    """A NodeProto: `op` (of `domain`) from `inputs` to `outputs`, with attributes."""
    outputs = list(outputs)
    body = b"".join(field_bytes(1, name) for name in inputs)
    body += b"".join(field_bytes(2, name) for name in outputs)
    body += field_bytes(3, outputs[0]) + field_bytes(4, op)
    body += b"".join(field_bytes(5, _attribute(k, v)) for k, v in attrs.items())
    return body + (field_bytes(7, domain) if domain else b"")


def value_info(name: str, elem_type: int, dims: Iterable[str | int]) -> bytes:
    """A ValueInfoProto: a graph input or output, its element type and (named) dims."""
    shape = b"".join(
        field_bytes(1, field_bytes(2, d) if isinstance(d, str) else field_int(1, d)) for d in dims
    )
    tensor_type = field_int(1, elem_type) + field_bytes(2, shape)
    return field_bytes(1, name) + field_bytes(2, field_bytes(1, tensor_type))


def model(graph: bytes, opsets: dict[str, int]) -> bytes:
    """A ModelProto around an encoded GraphProto, importing these opset versions by domain
    ("" is ONNX's own). ir_version 8 goes with opset 17."""
    imports = b"".join(
        field_bytes(8, field_bytes(1, domain) + field_int(2, version))
        for domain, version in opsets.items()
    )
    return field_int(1, 8) + field_bytes(2, "hearth") + field_bytes(7, graph) + imports
