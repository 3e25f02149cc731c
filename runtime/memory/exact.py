"""Exact nearest-vector search while a companion's memory is small enough to hold in RAM.

Chroma's HNSW graph is approximate, and on conversation memory it can fail badly: many identical
vectors ("Sam: ok", the same greeting every day) and tight clusters of another script crowd a
node's neighbour lists, and a query can get stuck among them. Measured on the recall benchmark
(9,224 vectors): HNSW's top 200 shared 94-96 % with the exact top 200 on average, but under 10 %
for some questions ("What is wrong with my knee?": best cosine found 0.09, true best 0.57), and
differed from one index build to the next (dense recall@10 0.39-0.45 over runs). Raising
ef_search to 512 or max_neighbors to 32 did not cure it. Exact search (one matrix product) gave
0.467, every run.

So up to LIMIT vectors (~77 MB of float32) `VectorIndex` answers from this copy, kept in step
with every upsert and delete; above it, from Chroma's graph. The copy also holds each vector's
density (`density`), which search may take off its cosine (past the limit the densities of
the graph's candidates are computed as they come).

numpy's OpenBLAS runs that product on every core and its threads then spin, waiting for more,
while onnxruntime embeds the next query on the same two cores: queries took 21.5 ms instead of
10.4 ms. BLAS is therefore kept to one thread in a process that searches this way (nothing else
in the runtime needs more: the embedder is onnxruntime, training is torch's own threads).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from runtime.memory.density import Densities

LIMIT = 50_000
"""Most vectors kept for exact search (~2-4 ms per query at the limit on two cores)."""
_blas_limited = False


def _single_thread_blas() -> None:
    global _blas_limited
    if not _blas_limited:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")  # for the rest of the process
        _blas_limited = True


class ExactVectors:
    """Every vector of a collection, by id, in one float32 matrix, with each one's density
    (see `density`): computed when first asked for, then kept in step."""

    def __init__(self, ids: Sequence[str], vectors: np.ndarray, dim: int) -> None:
        """Start from the collection's current `ids` and their `vectors` ([n, dim])."""
        _single_thread_blas()
        self._ids: list[str] = list(ids)
        self._row = {vector_id: row for row, vector_id in enumerate(self._ids)}
        self._matrix = np.zeros((max(1024, len(self._ids)), dim), dtype=np.float32)
        if self._ids:
            self._matrix[: len(self._ids)] = vectors
        self._density = Densities()
        self._density.appended(self._used(), self._ids)

    def _used(self) -> np.ndarray:
        """A view of the rows in use."""
        return self._matrix[: len(self._ids)]

    def __len__(self) -> int:
        return len(self._ids)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add or replace vectors."""
        added: list[str] = []
        changed: list[int] = []
        for vector_id, vector in zip(ids, vectors, strict=True):
            row = self._row.get(vector_id)
            if row is not None and not np.array_equal(self._matrix[row], vector):
                changed.append(row)
            if row is None:
                row = len(self._ids)
                if row == len(self._matrix):  # grow by half: amortised appends
                    grown = np.zeros((row + row // 2, self._matrix.shape[1]), dtype=np.float32)
                    grown[:row] = self._matrix
                    self._matrix = grown
                self._ids.append(vector_id)
                self._row[vector_id] = row
                added.append(vector_id)
            self._matrix[row] = vector
        old_rows = len(self._ids) - len(added)
        if added:
            self._density.appended(self._used(), added)
        self._density.replaced(self._used(), [row for row in changed if row < old_rows])

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors (unknown ids are ignored): the last row moves into each gap."""
        for vector_id in ids:
            row = self._row.pop(vector_id, None)
            if row is None:
                continue
            last = len(self._ids) - 1
            self._density.removed(row)
            if row != last:
                moved = self._ids[last]
                self._ids[row] = moved
                self._row[moved] = row
                self._matrix[row] = self._matrix[last]
            self._ids.pop()

    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of `ids` that are here, by id."""
        return {i: self._matrix[self._row[i]] for i in ids if i in self._row}

    def densities(self) -> np.ndarray:
        """Every vector's density, by row (computed now if it has not been)."""
        return self._density.values(self._used(), self._ids)

    def nearest(
        self,
        vector: np.ndarray,
        n: int,
        among: Sequence[str] | None = None,
        *,
        density_weight: float = 0.0,
    ) -> list[tuple[str, float]]:
        """The `n` best vectors by cosine (all are unit length) minus `density_weight` times
        their density, best first, with that score; ties by id. With `among`, only those ids
        (unknown ones are skipped)."""
        if among is None:  # a view of the used rows: copying the matrix would cost more
            rows = np.arange(len(self._ids))
            matrix = self._used()
        else:
            rows = np.fromiter((self._row[i] for i in among if i in self._row), dtype=np.int64)
            matrix = self._matrix[rows]
        if len(rows) == 0 or n <= 0:
            return []
        scores = matrix @ vector.astype(np.float32)
        if density_weight:
            scores -= density_weight * self.densities()[rows]
        n = min(n, len(rows))
        top = np.argpartition(-scores, n - 1)[:n] if n < len(rows) else np.arange(len(rows))
        order = sorted(top, key=lambda k: (-scores[k], self._ids[rows[k]]))
        return [(self._ids[rows[k]], float(scores[k])) for k in order]
