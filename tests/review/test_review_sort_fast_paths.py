"""The review's sorting shortcuts (duplication's counting and stable-sort helpers, the one-column sort of hash rows,
cliffs' sorted id lists) against the straightforward computations they stand for, on varied inputs: ties, empty,
a single element, values few (counted in a table) and many (sorted), rows in runs and not."""

from __future__ import annotations

import numpy as np
import pytest

from services_db.review import cliffs
from services_db.review.context import stable_order, unique, unique_inverse, unique_rows
from services_db.review.duplication import _distinct_pairs, _unique_rows


def _inputs(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    grouped = np.sort(rng.integers(0, 30, n)) * 1000 + rng.integers(0, 1000, n)  # runs: sorted by a leading part
    return [
        np.empty(0, dtype=np.int64), np.array([7]), np.array([0]), np.array([5, 5, 5]),
        rng.integers(0, 10, n),  # few values: counted
        rng.integers(0, 10**12, n),  # many: sorted
        rng.integers(-50, 50, n),  # negative: sorted
        grouped, np.sort(grouped), np.sort(grouped)[::-1].copy(),
        rng.integers(0, 8 * n + 4096, n),  # at the edge of counting
        np.r_[rng.integers(0, 5, n), 8 * n + 5000],
        rng.integers(0, 100, n).astype(np.int32),
    ]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("grouped", [False, True])
def test_unique_and_unique_inverse_match_sorting(seed, grouped):
    """The counting and stable-sort shortcuts give what a plain sort gives (`np.unique`)."""
    for x in _inputs(seed):
        got = unique(x, grouped=grouped)
        want = np.unique(x)
        assert got.dtype == want.dtype and np.array_equal(got, want)
        values, inverse = unique_inverse(x, grouped=grouped)
        want_values, want_inverse = np.unique(x, return_inverse=True)
        assert values.dtype == want_values.dtype and np.array_equal(values, want_values)
        assert inverse.dtype == np.int64 and np.array_equal(inverse, want_inverse)
        if len(x):
            assert np.array_equal(values[inverse], x)


@pytest.mark.parametrize("seed", range(5))
def test_stable_order_matches_stable_argsort(seed):
    rng = np.random.default_rng(seed)
    for x in [*_inputs(seed), rng.integers(0, 2**16, 500), np.array([2**16 - 1, 0, 2**16 - 1]), np.array([2**16, 1]),
              rng.integers(0, 4, 50).astype(np.uint8), rng.integers(0, 3, 40).astype(np.uint64)]:
        got = stable_order(x)
        assert np.array_equal(got, np.argsort(x, kind="stable"))


def _hash_rows(rng: np.random.Generator, n: int, k: int, clash: bool) -> np.ndarray:
    base = rng.integers(0, 2**63, size=(max(n // 3, 1), k), dtype=np.uint64)
    rows = base[rng.integers(0, len(base), n)]  # identical rows
    if clash and n > 3:  # rows sharing the first column but not the others
        rows[1:4, 0] = rows[0, 0]
        rows[2, 1:] = rng.integers(0, 2**63, size=k - 1, dtype=np.uint64) if k > 1 else rows[2, 1:]
        rows[3, -1] ^= np.uint64(1)
    return rows


@pytest.mark.parametrize("seed", range(8))
def test_unique_rows_matches_context(seed):
    rng = np.random.default_rng(seed)
    cases = [np.empty((0, 3), dtype=np.uint64), np.array([[3, 4]], dtype=np.uint64),
             np.array([[1, 2], [1, 2], [1, 1], [0, 9], [1, 1]], dtype=np.uint64),
             np.array([[5], [5], [2]], dtype=np.uint64)]
    for k in (1, 2, 3, 4):
        for clash in (False, True):
            cases.append(_hash_rows(rng, int(rng.integers(1, 200)), k, clash))
    cases.append(rng.integers(0, 3, size=(60, 4)).astype(np.uint64))  # many ties of every kind
    for rows in cases:
        first, inverse = _unique_rows(rows)
        want_first, want_inverse = unique_rows(rows)
        assert np.array_equal(first, want_first)
        assert np.array_equal(inverse, want_inverse)
        assert np.asarray(first).dtype.kind == "i"


@pytest.mark.parametrize("seed", range(5))
def test_distinct_pairs_match_sets(seed):
    rng = np.random.default_rng(seed)
    for n in (0, 1, int(rng.integers(2, 200))):
        key = np.sort(rng.integers(0, 20, n))
        value = rng.integers(-1, 7, n)
        got = _distinct_pairs(key, value, 7)
        want = sorted({int(k) * 7 + int(v) for k, v in zip(key.tolist(), value.tolist(), strict=True) if v >= 0})
        assert got.tolist() == want


def _sorted_ids_plain(inv: np.ndarray, sid: np.ndarray, order: np.ndarray) -> list[tuple]:
    return [tuple(sorted(sid[inv == k].tolist())) for k in order.tolist()]


@pytest.mark.parametrize("seed", range(6))
def test_cliff_sorted_ids_match_plain(seed):
    rng = np.random.default_rng(seed)
    for n_cells in (1, 3, int(rng.integers(4, 40))):
        n = int(rng.integers(n_cells, 200))
        inv = np.r_[np.arange(n_cells), rng.integers(0, n_cells, n - n_cells)]
        rng.shuffle(inv)
        order = rng.permutation(n_cells)
        for sid in (np.sort(rng.integers(1, 10**6, n)),  # ids in order already (the review's rows)
                    rng.integers(1, 10**6, n),  # any order
                    rng.integers(-5, 5, n),  # ties, negative
                    np.full(n, 42),
                    rng.integers(-2**62, 2**62, n),  # too wide for one key
                    rng.integers(1, 50, n).astype(object)):
            got = cliffs._sorted_ids(inv, sid, order)
            assert got.dtype == object
            assert got.tolist() == _sorted_ids_plain(inv, sid, order)
    empty = np.empty(0, dtype=np.int64)
    assert cliffs._sorted_ids(empty, empty, empty).tolist() == []
    assert cliffs._sorted_ids(np.array([0]), np.array([9]), np.array([0])).tolist() == [(9,)]
