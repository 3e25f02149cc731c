"""The dense side of memory: a Chroma collection of item vectors, one per companion.

This is the only module that imports chromadb (slow to import: ~0.8 s), and only when memory
is opened. Hearth computes every vector itself (see `embedder`) and hands Chroma embeddings and
query embeddings; Chroma never embeds. Still, the collection is always opened with Hearth's
embedding function passed explicitly: without it chromadb 1.5 rebuilds an embedding function
from the persisted config on every query (~100 ms per query, and growing memory).

Telemetry is off per client (`anonymized_telemetry=False`) besides the environment flag, and
`allow_reset=False` so nothing can wipe a collection by accident.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.memory.density import LOCAL_SHARE, NEIGHBOURS, ReferenceSample
from runtime.memory.errors import REBUILD_HINT, MemoryIndexError
from runtime.memory.exact import LIMIT as EXACT_LIMIT
from runtime.memory.exact import LOAD_BATCH as EXACT_LOAD_BATCH
from runtime.memory.exact import ExactVectors

if TYPE_CHECKING:
    import numpy as np

    from runtime.memory.embedder import Embedder

log = logging.getLogger(__name__)

COLLECTION = "hearth-memory"
"""Collection name (Chroma wants 3-512 characters)."""
EF_NAME = "hearth-offline"
HNSW = {"space": "cosine", "ef_construction": 128, "ef_search": 128, "max_neighbors": 16}
_EF_CLASS: type | None = None


def _embedding_function_class() -> type:
    """Hearth's embedding function for Chroma, registered once (needs chromadb imported)."""
    global _EF_CLASS
    if _EF_CLASS is not None:
        return _EF_CLASS
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    class HearthEmbeddingFunction(EmbeddingFunction[Documents]):
        """Embeds with a loaded `Embedder`; rebuilt from config it only describes the model."""

        def __init__(self, embedder: Embedder | None = None, config: dict | None = None) -> None:
            self._embedder = embedder
            self._config = embedder.info.identity() if embedder is not None else dict(config or {})

        def __call__(self, input: Documents) -> Embeddings:
            if self._embedder is None:
                raise MemoryIndexError("the memory index was used without its embedding model")
            return list(self._embedder.embed(list(input)))

        def embed_query(self, input: Documents) -> Embeddings:
            if self._embedder is None:
                raise MemoryIndexError("the memory index was used without its embedding model")
            return list(self._embedder.embed(list(input), query=True))

        @staticmethod
        def name() -> str:
            return EF_NAME

        def default_space(self) -> Any:
            return "cosine"

        def get_config(self) -> dict[str, Any]:
            return dict(self._config)

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> HearthEmbeddingFunction:
            return HearthEmbeddingFunction(config=config)

    register_embedding_function(HearthEmbeddingFunction)
    _EF_CLASS = HearthEmbeddingFunction
    return _EF_CLASS


class VectorIndex:
    """A companion's Chroma collection. Open with `VectorIndex.open`."""

    def __init__(self, client: Any, collection: Any, dim: int) -> None:
        """Use `open`."""
        self._dim = dim
        self._client = client
        self._collection = collection
        self._batch = max(1, min(5000, int(client.get_max_batch_size())))
        self._count: int | None = None  # Chroma's count() costs ~2 ms: asked once per change
        self._exact: ExactVectors | None = None
        """All vectors in RAM while there are at most EXACT_LIMIT (see `exact`); loaded at the
        first query, then kept in step with upserts and deletes."""
        self._exact_tried = False
        self._copying = threading.Lock()
        """Held while the copy is made (see `warm`)."""
        self._reference: ReferenceSample | None = None
        """Past exact search: the densities' sample (see `density`), loaded at the first query
        that weighs densities, then kept in step."""
        self._recent: dict[str, np.ndarray] = {}
        """The last graph query's candidates' vectors: what MMR asks for next (see `vectors`)."""

    @classmethod
    def open(cls, directory: Path, embedder: Embedder) -> VectorIndex:
        """Open or create the collection in `directory` for `embedder`'s model.

        Raises MemoryIndexError when the directory cannot be read by this chromadb, or its
        collection was built with another embedding model.
        """
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        function = _embedding_function_class()(embedder)
        identity = {f"embedding_{k}": v for k, v in embedder.info.identity().items()}
        try:
            client = chromadb.PersistentClient(path=str(directory), settings=settings)
            try:
                collection = client.get_collection(COLLECTION, embedding_function=function)
            except Exception as exc:  # chromadb raises NotFoundError, or ValueError in older
                if "does not exist" not in str(exc) and "not found" not in str(exc).lower():
                    raise
                collection = client.create_collection(
                    COLLECTION,
                    embedding_function=function,
                    metadata=identity,
                    configuration={"hnsw": HNSW},
                )
        except MemoryIndexError:
            raise
        except Exception as exc:
            raise MemoryIndexError(
                f"memory index in {directory} cannot be opened ({type(exc).__name__}: {exc})",
                hint=REBUILD_HINT,
            ) from exc
        stored = {k: (collection.metadata or {}).get(k) for k in identity}
        if stored != identity:
            raise MemoryIndexError(
                f"memory index in {directory} was built with embedding model "
                f"{stored.get('embedding_name')!r}, not {embedder.info.name!r}",
                hint=REBUILD_HINT,
            )
        return cls(client, collection, embedder.dim)

    def close(self) -> None:
        """Release chromadb's system for this directory (it keeps one per path per process)."""
        self._client.close()

    def count(self) -> int:
        """How many vectors are stored."""
        if self._count is None:
            self._count = int(self._collection.count())
        return self._count

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, times: Sequence[float], kinds: Sequence[str]
    ) -> None:
        """Add or replace vectors, with the time and kind Chroma may filter on."""
        self._count = None
        for start in range(0, len(ids), self._batch):
            end = start + self._batch
            self._collection.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                metadatas=[
                    {"t": t, "kind": k}
                    for t, k in zip(times[start:end], kinds[start:end], strict=True)
                ],
            )
        self._recent = {}
        if self._exact is not None:  # after Chroma: the copy never holds what Chroma lacks
            self._exact.upsert(ids, vectors)
            if len(self._exact) > EXACT_LIMIT:  # grown out of RAM's share: the graph from now
                self._exact = None
        if self._reference is not None:
            self._reference.add(ids, vectors)
            if not self._reference.fits(self.count()):
                self._reference = None  # drawn again at the next query

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors (unknown ids are ignored)."""
        self._count = None
        self._recent = {}
        if self._exact is not None:
            self._exact.delete(ids)
        for start in range(0, len(ids), self._batch):
            self._collection.delete(ids=list(ids[start : start + self._batch]))
        if self._reference is not None:
            self._reference.remove(ids)
            if not self._reference.fits(self.count()):
                self._reference = None

    def query(
        self, vector: np.ndarray, n: int, *, density_weight: float = 0.0
    ) -> list[tuple[str, float]]:
        """The `n` nearest vectors: (id, score), best first; the score is the cosine
        similarity less `density_weight` times the vector's density (see `density`). Past
        exact search, the graph's `n` nearest by cosine, ranked again by that score."""
        total = self.count()
        if total == 0:
            return []
        exact = self._exact_vectors(total)
        if exact is not None:
            return exact.nearest(vector, n, density_weight=density_weight)
        # Past the limit; not while a smaller memory's copy loads (plain graph meanwhile).
        past = density_weight and total > EXACT_LIMIT
        reference = self._reference_sample(total) if past else None
        result = self._collection.query(
            query_embeddings=vector.reshape(1, -1),
            n_results=min(n, total),
            include=["distances", "embeddings"] if reference is not None else ["distances"],
        )
        ids, distances = result["ids"][0], result["distances"][0]
        scores = [1.0 - float(d) for d in distances]
        if reference is not None and ids:
            import numpy as np

            found = np.asarray(result["embeddings"][0], dtype=np.float32)
            self._recent = dict(zip(ids, found, strict=True))
            penalties = density_weight * reference.densities(ids, found)
            scores = [score - float(p) for score, p in zip(scores, penalties, strict=True)]
        return sorted(zip(ids, scores, strict=True), key=lambda hit: (-hit[1], hit[0]))

    def _reference_sample(self, total: int) -> ReferenceSample | None:
        """The densities' sample past exact search, drawn from Chroma when first needed (~1 s
        at 200,000 vectors: every id, then the members' vectors); None in a memory too small
        for densities."""
        if total < NEIGHBOURS / LOCAL_SHARE:
            return None
        if self._reference is None:
            import numpy as np

            every = self._collection.get(include=[])["ids"]
            members = ReferenceSample.members(every, total)
            vectors = np.zeros((0, self._dim), dtype=np.float32)
            if members:
                found = self._collection.get(ids=members, include=["embeddings"])
                members = list(found["ids"])
                vectors = np.asarray(found["embeddings"], dtype=np.float32)
                vectors = vectors.reshape(len(members), self._dim)
            self._reference = ReferenceSample(members, vectors, total)
        return self._reference

    def searches_exactly(self) -> bool:
        """True while queries compare every vector (see `exact`), not Chroma's graph."""
        return self._exact_vectors(self.count()) is not None

    def warm(self) -> None:
        """Make the exact-search copy and its densities now (~0.8 s per 10,000 vectors), or
        past exact search load the densities' sample, rather than in the first query.

        Queries from another thread meanwhile are answered by Chroma's graph (without
        densities): the copy is put in place once complete. Changes must not run meanwhile
        (the chat runs them on the thread that warms)."""
        total = self.count()
        self._make_copy(total, wait=True)
        if self._exact is None and total > EXACT_LIMIT:
            self._reference_sample(total)

    def _exact_vectors(self, total: int) -> ExactVectors | None:
        """The in-RAM copy, loaded from Chroma on first use when the collection is small
        enough; None past the limit, or while `warm` makes it in another thread (the graph
        answers meanwhile)."""
        self._make_copy(total, wait=False)
        return self._exact

    def _make_copy(self, total: int, *, wait: bool) -> None:
        """Make the exact-search copy once, if the collection is small enough. `wait`: for a
        copy another thread is making, and compute the densities now too; else return at
        once when one is being made (densities then come with the first query weighing them)."""
        if self._exact is not None or self._exact_tried or total > EXACT_LIMIT:
            return
        if not self._copying.acquire(blocking=wait):
            return
        try:
            if not self._exact_tried:
                self._exact_tried = True
                copy = self._load_copy(total)
                if wait:
                    copy.densities()
                self._exact = copy
        finally:
            self._copying.release()

    def _load_copy(self, total: int) -> ExactVectors:
        """Every vector of the collection, read EXACT_LOAD_BATCH at a time."""
        import numpy as np

        copy = ExactVectors([], np.zeros((0, self._dim), np.float32), self._dim)
        for offset in range(0, total, EXACT_LOAD_BATCH):
            found = self._collection.get(
                include=["embeddings"], limit=EXACT_LOAD_BATCH, offset=offset
            )
            vectors = np.asarray(found["embeddings"], dtype=np.float32)
            copy.upsert(found["ids"], vectors.reshape(len(found["ids"]), self._dim))
        return copy

    def query_among(
        self, vector: np.ndarray, n: int, ids: Sequence[str], *, density_weight: float = 0.0
    ) -> list[tuple[str, float]]:
        """The `n` nearest of the vectors `ids` (e.g. those of a period), best first, scored as
        `query` scores; only while search is exact (`searches_exactly`), else none: Chroma's
        graph filtered to ids took 13-33 ms at 100k memories (its metadata filter ~230 ms)."""
        exact = self._exact_vectors(self.count())
        if not ids or exact is None:
            return []
        return exact.nearest(vector, n, among=ids, density_weight=density_weight)

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by id (ids without one are left out)."""
        if not ids:
            return {}
        if self._exact is not None:
            return self._exact.get(ids)
        known = {i: self._recent[i] for i in ids if i in self._recent}
        missing = [i for i in ids if i not in known]
        if missing:
            result = self._collection.get(ids=missing, include=["embeddings"])
            known.update(zip(result["ids"], result["embeddings"], strict=True))
        return known
