"""Unit vectors kept in 8 bits, and their dot products in integers, through onnxruntime.

Exact search compares a query with every stored vector. In float32 that reads 1.5 KB per vector
per query: 20 ms at 200,000 vectors on one core here, and 300 MB of RAM. In 8 bits (each vector
scaled by its largest component, stored as uint8 around ZERO) it is a quarter of the memory, and
onnxruntime's MatMulInteger (uint8 × int8: the CPU's own 8-bit dot products; numpy has no
integer BLAS) takes 4.1 ms at 200,000 vectors and 0.9 ms at 50,000. A stored component is off by
at most half its vector's scale: cosines move by ~0.001. Products between stored vectors are
exact integer sums, so they do not depend on how rows are batched.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from runtime.memory.onnx_proto import INT8, INT32, UINT8, field_bytes, model, node, value_info

ZERO = 128
"""The code of 0: a stored component is round(x / scale) + ZERO, in 1..255."""
_session: Any = None
_session_lock = threading.Lock()

Rows = slice | np.ndarray | Sequence[int]


def integer_product_model() -> bytes:
    """A one-node model: Y = (A - a_zero) @ B in int32, A uint8 [rows, dim], B int8
    [dim, columns] (onnxruntime's MatMulInteger: the CPU's own 8-bit dot products)."""
    graph = field_bytes(1, node("MatMulInteger", ["A", "B", "a_zero"], ["Y"]))
    graph += field_bytes(2, "hearth_dot")
    graph += field_bytes(11, value_info("A", UINT8, ["rows", "dim"]))
    graph += field_bytes(11, value_info("B", INT8, ["dim", "columns"]))
    graph += field_bytes(11, value_info("a_zero", UINT8, []))
    graph += field_bytes(12, value_info("Y", INT32, ["rows", "columns"]))
    return model(graph, {"": 17})


def _product(codes: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """(codes - ZERO) @ columns in int32: codes uint8 [rows, dim], columns int8 [dim, m]."""
    global _session
    if len(codes) == 0 or columns.shape[1] == 0:
        return np.zeros((len(codes), columns.shape[1]), dtype=np.int32)
    with _session_lock:
        if _session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            # One thread: the other core embeds the query and runs SQLite meanwhile.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            model = integer_product_model()
            _session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    feed = {"A": codes, "B": columns, "a_zero": np.array(ZERO, np.uint8)}
    return _session.run(None, feed)[0]


def _stored(codes: np.ndarray) -> np.ndarray:
    """int8 codes as kept: uint8 around ZERO."""
    return (codes.astype(np.int16) + ZERO).astype(np.uint8)


def _signed(stored: np.ndarray) -> np.ndarray:
    """Kept uint8 codes back as int8 (what the product's right side takes)."""
    return (stored.astype(np.int16) - ZERO).astype(np.int8)


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[m, dim] float vectors as (int8 codes [m, dim], scale per vector)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scale = (np.maximum(np.abs(vectors).max(axis=1), 1e-12) / 127.0).astype(np.float32)
    codes = np.clip(np.rint(vectors / scale[:, None]), -127, 127).astype(np.int8)
    return codes, scale


class QuantizedRows:
    """A growable matrix of 8-bit rows: set, move, read back (as float32), and multiply."""

    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self._codes = np.full((capacity, dim), ZERO, dtype=np.uint8)
        self._scales = np.zeros(capacity, dtype=np.float32)

    def reserve(self, rows: int) -> None:
        """Room for at least `rows` rows (growing by half: amortised appends)."""
        capacity = len(self._scales)
        if rows <= capacity:
            return
        capacity = max(rows, capacity + capacity // 2)
        codes = np.full((capacity, self.dim), ZERO, dtype=np.uint8)
        codes[: len(self._codes)] = self._codes
        scales = np.zeros(capacity, dtype=np.float32)
        scales[: len(self._scales)] = self._scales
        self._codes, self._scales = codes, scales

    def set_many(self, start: int, vectors: np.ndarray) -> None:
        """Rows start.. become `vectors` ([m, dim] float)."""
        codes, scale = quantize(vectors)
        self._codes[start : start + len(codes)] = _stored(codes)
        self._scales[start : start + len(codes)] = scale

    def set(self, row: int, vector: np.ndarray) -> bool:
        """Row `row` becomes `vector`; whether that changed what the row holds."""
        codes, scale = quantize(np.asarray(vector).reshape(1, self.dim))
        stored = _stored(codes[0])
        changed = not (np.array_equal(stored, self._codes[row]) and scale[0] == self._scales[row])
        self._codes[row], self._scales[row] = stored, scale[0]
        return changed

    def move(self, source: int, target: int) -> None:
        """Row `target` becomes a copy of row `source`."""
        self._codes[target] = self._codes[source]
        self._scales[target] = self._scales[source]

    def __getitem__(self, index: Rows) -> np.ndarray:
        """Rows as float32: what they stand for."""
        codes = self._codes[index].astype(np.float32) - ZERO
        return codes * self._scales[index][..., None]

    def dots(self, vector: np.ndarray, rows: Rows) -> np.ndarray:
        """Dot products of the rows `rows` with `vector` (float [dim])."""
        codes, scale = quantize(np.asarray(vector).reshape(1, self.dim))
        product = _product(self._codes[rows], np.ascontiguousarray(codes.T))[:, 0]
        return product.astype(np.float32) * self._scales[rows] * scale[0]

    def similarities(self, rows: Rows, others: Rows) -> np.ndarray:
        """[len(rows), len(others)] dot products between stored rows (exact integer sums)."""
        columns = _signed(self._codes[others])
        product = _product(self._codes[rows], np.ascontiguousarray(columns.T))
        product = product.astype(np.float32)
        product *= self._scales[rows][:, None]
        product *= self._scales[others][None, :]
        return product
