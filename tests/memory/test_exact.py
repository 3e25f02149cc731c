"""Exact vector search for small memories: the in-RAM copy follows every change, answers like a
brute-force search, and gives way to Chroma's graph past its limit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runtime.memory import exact as exact_module
from runtime.memory.exact import ExactVectors
from runtime.memory.quantized import quantize
from tests.memory.test_density import _from_scratch


def _unit(rng: np.random.Generator, n: int, dim: int = 8) -> np.ndarray:
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _eight_bit(vectors: np.ndarray) -> np.ndarray:
    """`vectors` as the store keeps them (and a query as it is multiplied)."""
    codes, scale = quantize(np.atleast_2d(vectors))
    return (codes.astype(np.float64) * scale[:, None].astype(np.float64)).reshape(vectors.shape)


def _brute(ids: list[str], vectors: np.ndarray, query: np.ndarray, n: int) -> list[str]:
    """The `n` best by brute force over the 8-bit vectors and query (the store's arithmetic);
    within 8-bit rounding of the float32 cosines."""
    scores = _eight_bit(vectors) @ _eight_bit(query)
    return [ids[i] for i in sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))[:n]]


def test_follows_upserts_and_deletes() -> None:
    rng = np.random.default_rng(1)
    live: dict[str, np.ndarray] = {}
    store = ExactVectors([], np.zeros((0, 8), np.float32), 8)
    for step in range(30):  # grows past its first 1024 rows, replaces, deletes from the middle
        ids = [f"v{step}-{i}" for i in range(100)]
        vectors = _unit(rng, 100)
        store.upsert(ids, vectors)
        live.update(zip(ids, vectors, strict=True))
        replaced = [f"v{step}-{i}" for i in range(0, 100, 7)]
        fresh = _unit(rng, len(replaced))
        store.upsert(replaced, fresh)
        live.update(zip(replaced, fresh, strict=True))
        gone = [f"v{step}-{i}" for i in range(3, 100, 5)] + ["never-there"]
        store.delete(gone)
        for vector_id in gone:
            live.pop(vector_id, None)
    assert len(store) == len(live)
    ids = sorted(live)
    matrix = np.stack([live[i] for i in ids])
    for query in _unit(rng, 5):
        found = store.nearest(query, 10)
        assert [i for i, _ in found] == _brute(ids, matrix, query, 10)
        assert found[0][1] == pytest.approx(float(live[found[0][0]] @ query), abs=0.02)
    assert len(store.nearest(_unit(rng, 1)[0], 10**6)) == len(live)
    some = [*ids[::3], "never-there"]
    query = _unit(rng, 1)[0]
    among = store.nearest(query, 5, among=some)
    subset = np.stack([live[i] for i in ids[::3]])
    assert [i for i, _ in among] == _brute(ids[::3], subset, query, 5)
    assert set(store.get(some)) == set(ids[::3])
    assert store.get([ids[0]])[ids[0]] == pytest.approx(_eight_bit(live[ids[0]]), abs=1e-6)
    assert store.get([ids[0]])[ids[0]] == pytest.approx(live[ids[0]], abs=0.01)


def test_the_index_answers_exactly_then_from_the_graph_past_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtime.memory.embedder import BUILTIN_NAME, load_embedder, resolve_model
    from runtime.memory.vectors import VectorIndex

    embedder = load_embedder(resolve_model(BUILTIN_NAME))
    rng = np.random.default_rng(2)
    vectors = _unit(rng, 300, embedder.dim)
    ids = [f"turn:{i}" for i in range(300)]
    index = VectorIndex.open(tmp_path / "vectors", embedder)
    try:
        index.warm()  # an empty collection: an empty copy, filled by what comes
        assert index._exact is not None and len(index._exact) == 0
        index.upsert(ids[:200], vectors[:200], [0.0] * 200, ["episodic"] * 200)
        query = vectors[150] * 0.6 + vectors[250] * 0.8
        query /= np.linalg.norm(query)
        assert [i for i, _ in index.query(query, 5)] == _brute(ids[:200], vectors[:200], query, 5)
        # Changes after the copy was loaded reach it: the new best is found, the deleted is not.
        index.upsert(ids[200:], vectors[200:], [0.0] * 100, ["episodic"] * 100)
        index.delete(["turn:150"])
        remaining = [i for i in ids if i != "turn:150"]
        matrix = np.stack([vectors[int(i.split(":")[1])] for i in remaining])
        assert [i for i, _ in index.query(query, 5)] == _brute(remaining, matrix, query, 5)
        assert index.query(query, 1)[0][0] == "turn:250"
        # Past the limit the copy is dropped and Chroma's graph answers (same best here).
        monkeypatch.setattr("runtime.memory.vectors.EXACT_LIMIT", 299)
        index.upsert(["turn:300"], _unit(rng, 1, embedder.dim), [0.0], ["episodic"])
        assert index._exact is None
        assert index.query(query, 1)[0][0] == "turn:250"
        # There the graph's candidates get their densities as they come: cosine less density
        # (by its definition, in float), best first.
        stored = index.vectors([*remaining, "turn:300"])
        densities = _from_scratch({i: v.astype(np.float64) for i, v in stored.items()})
        weighed = index.query(query, 300, density_weight=1.0)
        assert len(weighed) == len(stored)
        for vector_id, score in weighed:
            expected = float(stored[vector_id] @ query) - densities[vector_id]
            assert score == pytest.approx(expected, abs=1e-4)
        assert [score for _, score in weighed] == sorted((s for _, s in weighed), reverse=True)
        assert index._recent  # MMR's vectors come from that query, not from Chroma again
    finally:
        index.close()


def test_limit_is_a_few_tens_of_megabytes() -> None:
    assert exact_module.LIMIT * (384 + 4 + 4 * 10) <= 110 * 2**20  # codes, scale, densities
