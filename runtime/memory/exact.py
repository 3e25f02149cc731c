"""Exact nearest-vector search while a companion's memory is small enough to hold in RAM.

Chroma's HNSW graph is approximate, and on conversation memory it can fail badly: many identical
vectors ("Sam: ok", the same greeting every day) and tight clusters of another script crowd a
node's neighbour lists, and a query can get stuck among them. Measured on the recall benchmark
(9,224 vectors): HNSW's top 200 shared 94-96 % with the exact top 200 on average, but under 10 %
for some questions ("What is wrong with my knee?": best cosine found 0.09, true best 0.57), and
differed from one index build to the next (dense recall@10 0.39-0.45 over runs). Raising
ef_search to 512 or max_neighbors to 32 did not cure it. Exact search (one matrix product) gave
0.467, every run.

So up to LIMIT vectors `VectorIndex` answers from this copy, kept in step with every upsert and
delete; above it, from Chroma's graph. The copy is 8-bit (`quantized`: a quarter of float32's
memory, and integer products that take 4.1 ms at 200,000 vectors where float32 took 20 ms); it
used to be float32 up to 50,000 vectors, past which the graph cost the synthetic recall set at
54,000 messages 0.737 → 0.582 (hybrid recall@10, densities on both). The copy also holds each
vector's density (`density`), which search may take off its cosine (past the limit the densities
of the graph's candidates are computed as they come).

numpy's OpenBLAS runs a product on every core and its threads then spin, waiting for more,
while onnxruntime embeds the next query on the same two cores: float32 queries took 21.5 ms
instead of 10.4 ms. BLAS is therefore kept to one thread in a process that searches this way
(what it still multiplies, MMR's few vectors, needs no more; the embedder and the 8-bit product
are onnxruntime's, one thread each; training is torch's own threads).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from runtime.memory.density import Densities
from runtime.memory.quantized import QuantizedRows

LIMIT = 250_000
"""Most vectors kept for exact search: ~107 MB with their densities, ~8 ms per query on one
core (100,000 turns of a user message and a reply are 200,000 vectors)."""
LOAD_BATCH = 20_000
"""Vectors read from Chroma at a time when the copy is made (bounds the float32 in between)."""
_blas_limited = False


def _single_thread_blas() -> None:
    global _blas_limited
    if not _blas_limited:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")  # for the rest of the process
        _blas_limited = True


class ExactVectors:
    """Every vector of a collection, by id, in 8 bits (see `quantized`), with each one's
    density (see `density`): computed when first asked for, then kept in step."""

    def __init__(self, ids: Sequence[str], vectors: np.ndarray, dim: int) -> None:
        """Start from the collection's current `ids` and their `vectors` ([n, dim])."""
        _single_thread_blas()
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._rows = QuantizedRows(dim, max(1024, len(ids)))
        self._density = Densities()
        self.upsert(ids, vectors)

    def __len__(self) -> int:
        return len(self._ids)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add or replace vectors."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self._rows.dim)
        known = [k for k, vector_id in enumerate(ids) if vector_id in self._row]
        changed = [
            self._row[ids[k]] for k in known if self._rows.set(self._row[ids[k]], vectors[k])
        ]
        fresh = dict.fromkeys(i for i in ids if i not in self._row)
        if fresh:  # appended in one block (a copy's first load is 200,000 of them)
            last = {vector_id: k for k, vector_id in enumerate(ids)}  # the last one counts
            start = len(self._ids)
            self._rows.reserve(start + len(fresh))
            self._rows.set_many(start, vectors[[last[i] for i in fresh]])
            for row, vector_id in enumerate(fresh, start):
                self._row[vector_id] = row
            self._ids.extend(fresh)
            self._density.appended(self._rows, list(fresh))
        self._density.replaced(self._rows, changed)

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
                self._rows.move(last, row)
            self._ids.pop()

    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of `ids` that are here (as stored: within 8-bit rounding), by id."""
        found = [i for i in ids if i in self._row]
        vectors = self._rows[[self._row[i] for i in found]]
        return dict(zip(found, vectors, strict=True))

    def densities(self) -> np.ndarray:
        """Every vector's density, by row (computed now if it has not been)."""
        return self._density.values(self._rows)

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
        if among is None:
            rows: np.ndarray | None = None  # every row, in order: slices, no copies
            selection: slice | np.ndarray = slice(0, len(self._ids))
            count = len(self._ids)
        else:
            rows = np.fromiter((self._row[i] for i in among if i in self._row), dtype=np.int64)
            selection, count = rows, len(rows)
        if count == 0 or n <= 0:
            return []
        scores = self._rows.dots(vector, selection)
        if density_weight:
            scores -= density_weight * self.densities()[selection]
        n = min(n, count)
        top = np.argpartition(-scores, n - 1)[:n] if n < count else np.arange(count)

        def vector_id(k: int) -> str:
            return self._ids[k if rows is None else int(rows[k])]

        order = sorted(top, key=lambda k: (-scores[k], vector_id(k)))
        return [(vector_id(k), float(scores[k])) for k in order]
