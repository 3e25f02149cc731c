"""How crowded each stored vector's neighbourhood is, so that vector search can discount hubs.

In a small embedding model's space some vectors are near almost everything: stock lines ("haha
yes", "good night"), messages that come back day after day, talk that follows a pattern. They
crowd a query's nearest vectors ahead of the message that answers it ("hubness"). So exact
search scores a vector by its cosine to the query minus its *density*: the mean cosine of its
NEIGHBOURS nearest stored vectors (CSLS, the cross-domain similarity local scaling of Lample et
al. 2018, without its query term, which is the same for every candidate).

Measured with bench/recall.py, hybrid recall@10 without → with (weight 1.0, 10 neighbours):
hand-written dialogs 0.790 → 0.803 (conv1-3, tuned on) and 0.782 → 0.790 (conv4-6), all six
in one memory 0.777 → 0.788, synthetic multilingual set 0.696 → 0.774 (its template-like talk
is full of hubs; 0.785 with another hash, i.e. another sample). 5, 15, 20 or 50 neighbours,
weights 0.75-1.25: within a point of these. A fixed reference corpus instead of the memory's own
vectors gave nothing (0.789, 0.781, 0.674): what is crowded depends on what this companion's
conversations are about; leaving out neighbours from the vector's own session changed nothing
(+0.1).

The neighbours are sought in a reference sample of the memory, not all of it: the vectors whose
id hashes below 2^-level, the level chosen so that the sample holds SAMPLE to 2 × SAMPLE vectors
(all of them below 2 × SAMPLE). The sample depends only on which vectors there are, not on the
order they came in, so an index rebuilt from the transcript gets the same densities (and the
same search results). Kept up to date with every change: a new vector is compared with the
sample, a new member of the sample with every vector; the sample is drawn again (everything
recomputed) only when the memory crosses a power of two of SAMPLE, or loses a sample member.

Past exact search (more than `exact.LIMIT` vectors, searched through Chroma's graph) only the
sample is kept (`ReferenceSample`) and the densities of a query's candidates are computed as
they come, against the same sample: the same values exact search would give them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from runtime.memory.quantized import QuantizedRows

NEIGHBOURS = 10
SAMPLE = 2048
"""Least vectors a reference sample holds once the memory has 2 × SAMPLE (at most twice that):
~1 s to compute every density from scratch at 50,000 vectors on one core, ~4 s at 200,000."""
LOCAL_SHARE = 0.05
"""The neighbours must be at most this share of the memory for a density to say anything
local: below NEIGHBOURS / LOCAL_SHARE vectors (200) every density is 0 (with 10 neighbours
among 14 vectors it is the mean similarity to everything, which only adds noise)."""
_CHUNK = 1024
"""Rows compared with the sample at a time (bounds the temporary matrix to ~32 MB)."""


def id_hash(vector_id: str) -> int:
    """A stable 32-bit hash of a vector id (Python's `hash` changes from run to run)."""
    return int.from_bytes(hashlib.blake2b(vector_id.encode(), digest_size=4).digest(), "big")


def _threshold_at(level: int) -> int:
    """Vectors whose id hashes below this are in the sample at `level`."""
    return 1 << (32 - level)


def level_for(count: int) -> int:
    """The sampling level for a memory of `count` vectors: 1 in 2^level is in the sample."""
    if count < 2 * SAMPLE:
        return 0
    return (count // SAMPLE).bit_length() - 1  # floor(log2(count / SAMPLE))


class Densities:
    """The density of every row of an `ExactVectors` matrix (its `QuantizedRows`), kept in step
    with it.

    The owner calls `appended`/`replaced` after writing rows and `removed` for each row it
    deletes (before moving its last row into the gap), and asks `values` when searching; the
    first `values` computes everything (`reset`), later ones only what changed.
    """

    def __init__(self) -> None:
        self._top = np.full((0, NEIGHBOURS), -np.inf, dtype=np.float32)
        """Per row, the similarities to its nearest sample members (-inf where there are fewer
        than NEIGHBOURS other members)."""
        self._hash = np.zeros(0, dtype=np.uint64)
        self._level = 0
        self._values: np.ndarray | None = None
        self._computing = threading.Lock()
        """A search asks from two threads at once (its own and its period's vector search)."""
        self._stale = True
        """Nothing computed yet, the level changed or a sample member went: recompute
        everything at the next `values` (until then changes only keep the rows aligned)."""

    def _threshold(self) -> int:
        return _threshold_at(self._level)

    def _sample_rows(self, count: int) -> np.ndarray:
        return np.nonzero(self._hash[:count] < self._threshold())[0]

    def reset(self, matrix: QuantizedRows) -> None:
        """Compute every density of `matrix` again (the sample drawn anew)."""
        count = len(self._hash)
        self._level = level_for(count)
        self._top = np.full((count, NEIGHBOURS), -np.inf, dtype=np.float32)
        self._fill(matrix, 0, count)
        self._values, self._stale = None, False

    def appended(self, matrix: QuantizedRows, ids: Sequence[str]) -> None:
        """Rows were added at the end of `matrix` (now len(self) + len(ids) rows) for `ids`."""
        start, count = len(self._hash), len(self._hash) + len(ids)
        hashes = np.fromiter((id_hash(i) for i in ids), dtype=np.uint64, count=len(ids))
        self._hash = np.concatenate([self._hash, hashes])
        padding = np.full((len(ids), NEIGHBOURS), -np.inf, dtype=np.float32)
        self._top = np.concatenate([self._top, padding])
        self._values = None
        if level_for(count) != self._level:
            self._stale = True  # the sample is drawn again at the next `values`
        if self._stale:
            return
        joined = start + np.nonzero(hashes < self._threshold())[0]
        if len(joined) and start:  # the old rows meet the sample's new members
            for first in range(0, start, _CHUNK):
                end = min(start, first + _CHUNK)
                self._merge(first, matrix.similarities(slice(first, end), joined))
        self._fill(matrix, start, count)

    def replaced(self, matrix: QuantizedRows, rows: Sequence[int]) -> None:
        """The vectors of these rows changed."""
        if not len(rows):
            return
        self._values = None
        rows = np.asarray(rows, dtype=np.int64)
        if (self._hash[rows] < self._threshold()).any():
            self._stale = True  # a sample member moved: every row may have other neighbours
            return
        if not self._stale:
            for row in rows.tolist():
                self._fill(matrix, row, row + 1)

    def removed(self, row: int) -> None:
        """Row `row` is deleted, and the last row moves into its place."""
        last = len(self._hash) - 1
        if self._hash[row] < self._threshold():
            self._stale = True
        self._hash[row], self._top[row] = self._hash[last], self._top[last]
        self._hash, self._top = self._hash[:last], self._top[:last]
        self._values = None
        if level_for(last) != self._level:
            self._stale = True

    def values(self, matrix: QuantizedRows) -> np.ndarray:
        """Every row's density (the mean similarity to its nearest sample members)."""
        if len(self._hash) < NEIGHBOURS / LOCAL_SHARE:
            return np.zeros(len(self._hash), dtype=np.float32)
        with self._computing:
            if self._stale:
                self.reset(matrix)
            if self._values is None:
                self._values = _mean_of_found(self._top)
            return self._values

    def _fill(self, matrix: QuantizedRows, start: int, end: int) -> None:
        """Compare rows [start, end) with the whole sample (themselves excluded)."""
        sample = self._sample_rows(len(self._hash))
        self._top[start:end] = -np.inf
        if not len(sample):
            return
        column_of = np.full(len(self._hash), -1, dtype=np.int64)
        column_of[sample] = np.arange(len(sample))
        for first in range(start, end, _CHUNK):
            last = min(end, first + _CHUNK)
            similarities = matrix.similarities(slice(first, last), sample)
            columns = column_of[first:last]
            members = np.nonzero(columns >= 0)[0]
            similarities[members, columns[members]] = -np.inf  # not its own neighbour
            self._merge(first, similarities)

    def _merge(self, first: int, similarities: np.ndarray) -> None:
        """Fold new similarities of rows [first, first + len(similarities)) into their tops."""
        rows = slice(first, first + len(similarities))
        self._top[rows] = _nearest(np.concatenate([self._top[rows], similarities], axis=1))


def _nearest(similarities: np.ndarray) -> np.ndarray:
    """The NEIGHBOURS largest of each row (-inf where a row has fewer)."""
    similarities = similarities.astype(np.float32, copy=False)
    if similarities.shape[1] < NEIGHBOURS:
        padding = np.full((len(similarities), NEIGHBOURS - similarities.shape[1]), -np.inf)
        return np.concatenate([similarities, padding.astype(np.float32)], axis=1)
    return -np.partition(-similarities, NEIGHBOURS - 1, axis=1)[:, :NEIGHBOURS]


def _mean_of_found(top: np.ndarray) -> np.ndarray:
    """Each row's mean over its finite values (0 for a row with none)."""
    found = np.isfinite(top)
    total = np.where(found, top, 0.0).sum(axis=1)
    return (total / np.maximum(1, found.sum(axis=1))).astype(np.float32)


class ReferenceSample:
    """Only the sample of a memory (past exact search), to give a query's candidates their
    densities on the fly: ~4 ms for 200 candidates against a sample of 3,000 on one core."""

    def __init__(self, ids: Sequence[str], vectors: np.ndarray, count: int) -> None:
        """The sample of a memory of `count` vectors, from all its `ids` and their `vectors`
        (those of the sample members are enough: see `members`)."""
        self.level = level_for(count)
        self._vectors: dict[str, np.ndarray] = {}
        self._matrix: np.ndarray | None = None
        """The members' vectors stacked (remade after a change), and each one's column."""
        self._columns: dict[str, int] = {}
        self.add(ids, vectors)

    @staticmethod
    def members(ids: Sequence[str], count: int) -> list[str]:
        """Those of `ids` that are in the sample of a memory of `count` vectors."""
        threshold = _threshold_at(level_for(count))
        return [vector_id for vector_id in ids if id_hash(vector_id) < threshold]

    def fits(self, count: int) -> bool:
        """Whether a memory of `count` vectors still has this sample (else draw it again)."""
        return level_for(count) == self.level

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Vectors were added or replaced: the sample members among them join or change."""
        threshold = _threshold_at(self.level)
        for vector_id, vector in zip(ids, vectors, strict=True):
            if id_hash(vector_id) < threshold:
                self._vectors[vector_id] = np.asarray(vector, dtype=np.float32)
                self._matrix = None

    def remove(self, ids: Sequence[str]) -> None:
        """Vectors were deleted."""
        for vector_id in ids:
            if self._vectors.pop(vector_id, None) is not None:
                self._matrix = None

    def densities(self, ids: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """The densities of the vectors `vectors` (of `ids`)."""
        if self._matrix is None:
            self._columns = {vector_id: c for c, vector_id in enumerate(self._vectors)}
            dim = vectors.shape[1] if vectors.ndim == 2 else 0
            stacked = list(self._vectors.values())
            self._matrix = np.stack(stacked) if stacked else np.zeros((0, dim), np.float32)
        similarities = np.asarray(vectors, dtype=np.float32) @ self._matrix.T
        for row, vector_id in enumerate(ids):  # not its own neighbour
            column = self._columns.get(vector_id)
            if column is not None:
                similarities[row, column] = -np.inf
        return _mean_of_found(_nearest(similarities))
