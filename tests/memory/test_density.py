"""Densities (how crowded each vector's neighbourhood is): kept in step through every change
they equal a computation from scratch, do not depend on the order vectors came in, and make
exact search prefer a vector of its own to a hub that is near everything."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.memory import density as density_module
from runtime.memory.density import id_hash, level_for
from runtime.memory.exact import ExactVectors


@pytest.fixture
def small_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sample of 8-16 vectors and 3 neighbours, so a few hundred vectors cross levels (and
    densities count from 3 vectors up)."""
    monkeypatch.setattr(density_module, "SAMPLE", 8)
    monkeypatch.setattr(density_module, "NEIGHBOURS", 3)
    monkeypatch.setattr(density_module, "LOCAL_SHARE", 1.0)


def _unit(rng: np.random.Generator, n: int, dim: int = 8) -> np.ndarray:
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _from_scratch(live: dict[str, np.ndarray]) -> dict[str, float]:
    """Each vector's mean similarity to its nearest sample members, by the definition."""
    ids = sorted(live)
    level = level_for(len(ids))
    sample = [i for i in ids if id_hash(i) < 1 << (32 - level)]
    found = {}
    for vector_id in ids:
        similarities = sorted(
            (float(live[vector_id] @ live[other]) for other in sample if other != vector_id),
            reverse=True,
        )[: density_module.NEIGHBOURS]
        found[vector_id] = float(np.mean(similarities)) if similarities else 0.0
    return found


def _densities(store: ExactVectors) -> dict[str, float]:
    values = store.densities()
    return {vector_id: float(values[row]) for row, vector_id in enumerate(store._ids)}


def _stored(store: ExactVectors) -> dict[str, np.ndarray]:
    """The vectors as the store holds them (8-bit: what its densities are computed from)."""
    return {i: v.astype(np.float64) for i, v in store.get(store._ids).items()}


def test_kept_in_step_through_adds_replacements_deletes_and_levels(small_sample) -> None:
    rng = np.random.default_rng(3)
    live: dict[str, np.ndarray] = {}
    store = ExactVectors([], np.zeros((0, 8), np.float32), 8)
    levels = set()
    for step in range(12):  # 0 → ~250 vectors: levels 0 to 4, then deletions bring it down
        if step < 9:
            count = 12 if step == 0 else 30
            ids = [f"v{step}-{i}" for i in range(count)]
            vectors = _unit(rng, count)
            store.upsert(ids, vectors)
            live.update(zip(ids, vectors, strict=True))
        replaced = sorted(live)[step::11]
        fresh = _unit(rng, len(replaced))
        store.upsert(replaced, fresh)
        live.update(zip(replaced, fresh, strict=True))
        gone = sorted(live)[:: 7 if step < 9 else 2]
        store.delete(gone)
        for vector_id in gone:
            del live[vector_id]
        store.upsert(sorted(live)[:5], np.stack([live[i] for i in sorted(live)[:5]]))  # same
        assert set(_stored(store)) == set(live)
        assert _densities(store) == pytest.approx(_from_scratch(_stored(store)), abs=1e-5)
        levels.add(level_for(len(live)))
    assert levels >= {0, 1, 2, 3, 4}


def test_the_same_vectors_in_any_order_give_the_same_densities(small_sample) -> None:
    rng = np.random.default_rng(4)
    ids = [f"turn:{i}" for i in range(200)]
    vectors = _unit(rng, 200)
    at_once = ExactVectors(ids, vectors, 8)
    one_by_one = ExactVectors([], np.zeros((0, 8), np.float32), 8)
    one_by_one.densities()  # computed from the start, then kept in step
    for index in reversed(range(200)):
        one_by_one.upsert([ids[index]], vectors[index : index + 1])
    assert _densities(one_by_one) == pytest.approx(_densities(at_once), abs=1e-5)


def test_a_hub_near_everything_gives_way_to_a_vector_of_its_own() -> None:
    rng = np.random.default_rng(5)
    dim = 16
    centre = _unit(rng, 1, dim)[0]
    stock = centre + 0.05 * rng.normal(size=(40, dim))  # forty near-copies of one stock line
    stock /= np.linalg.norm(stock, axis=1, keepdims=True)
    others = _unit(rng, 200, dim)
    answer = _unit(rng, 1, dim)[0]
    query = 0.6 * centre + 0.6 * answer  # as near the stock lines as the answer
    query /= np.linalg.norm(query)
    ids = [f"stock:{i}" for i in range(40)] + [f"other:{i}" for i in range(200)] + ["answer"]
    store = ExactVectors(ids, np.vstack([stock, others, answer]).astype(np.float32), dim)
    plain = [vector_id for vector_id, _ in store.nearest(query, 5)]
    weighed = [vector_id for vector_id, _ in store.nearest(query, 5, density_weight=1.0)]
    assert all(vector_id.startswith("stock:") for vector_id in plain)  # crowded out
    assert weighed[0] == "answer"
    among = store.nearest(query, 1, among=["stock:0", "answer"], density_weight=1.0)
    assert among[0][0] == "answer"


def test_within_a_level_changes_are_folded_in_without_starting_over(
    small_sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(6)
    ids = [f"turn:{i}" for i in range(16)]
    live = dict(zip(ids, _unit(rng, 16), strict=True))
    store = ExactVectors(ids, np.stack([live[i] for i in ids]), 8)
    store.densities()  # level 1 from 16 vectors up to 31
    resets: list[int] = []
    original = density_module.Densities.reset
    monkeypatch.setattr(
        density_module.Densities,
        "reset",
        lambda self, *args: resets.append(1) or original(self, *args),
    )
    joined = 0
    for number in range(16, 31):
        vector_id = f"turn:{number}"
        live[vector_id] = _unit(rng, 1)[0]
        store.upsert([vector_id], live[vector_id][None, :])
        joined += id_hash(vector_id) < 1 << 31
        assert _densities(store) == pytest.approx(_from_scratch(_stored(store)), abs=1e-5)
    outside = next(i for i in live if id_hash(i) >= 1 << 31)
    live[outside] = _unit(rng, 1)[0]
    store.upsert([outside], live[outside][None, :])
    store.delete([next(i for i in live if i != outside and id_hash(i) >= 1 << 31)])
    assert _densities(store) == pytest.approx(_from_scratch(_stored(store)), abs=1e-5)
    assert joined and not resets  # new sample members reached the old rows in place


def test_a_memory_too_small_for_local_neighbourhoods_has_no_densities() -> None:
    rng = np.random.default_rng(7)
    few = ExactVectors([f"turn:{i}" for i in range(199)], _unit(rng, 199), 8)
    assert not few.densities().any()
    few.upsert(["turn:199"], _unit(rng, 1))
    assert few.densities().all()


def test_the_sample_alone_gives_candidates_the_densities_exact_search_would(
    small_sample,
) -> None:
    from runtime.memory.density import ReferenceSample

    rng = np.random.default_rng(8)
    ids = [f"turn:{i}" for i in range(150)]
    vectors = _unit(rng, 150)
    full = _densities(ExactVectors(ids, vectors, 8))
    sample = ReferenceSample(ids[:100], vectors[:100], 100)  # then kept in step
    sample.add(ids[100:], vectors[100:])
    assert not sample.fits(150)  # 100 → 150 vectors crosses a level: drawn again
    sample = ReferenceSample(ids, vectors, 150)
    members = ReferenceSample.members(ids, 150)
    assert 0 < len(members) < 150
    candidates = [5, 77, 149]
    found = sample.densities([ids[i] for i in candidates], vectors[candidates])
    exact = _from_scratch(dict(zip(ids, vectors.astype(np.float64), strict=True)))
    assert found == pytest.approx([exact[ids[i]] for i in candidates], abs=1e-5)
    # What exact search gives them, from its 8-bit copy: the same within its rounding.
    assert found == pytest.approx([full[ids[i]] for i in candidates], abs=5e-3)
    gone = members[0]  # a member deleted: the rest stay, at the same level
    sample.remove([gone])
    expected = _from_scratch({i: v for i, v in zip(ids, vectors, strict=True) if i != gone})
    assert sample.fits(149)
    assert sample.densities([ids[5]], vectors[[5]])[0] == pytest.approx(expected[ids[5]], abs=1e-5)
