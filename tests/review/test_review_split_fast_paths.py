"""The short cuts of the atom split and of the prepared coverage, each held to the straightforward computation.

`_stretch_thresholds` (each service's threshold key found by sorting stretches of about the same length side by
side, or a partition per long stretch) against a sort of each stretch; `split_pence_atoms` given the pointer array
and LSOA counts the prepared data already hold against it working them out; `_set_columns`' shares (weights
clipped once per LSOA, whole-number weights told from their table) against each set's weights worked out column
by column; and `Prepared.atom_ptr`, `cell_population` and `service_unit_weights` (the residents per cell run
worked out once for every level) against sums over the coverage rows.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from services_db.review.context import Atoms, Context, Prepared

# the module, not the `apportion` function `services_db.review` exports under the same name
apportion_module = importlib.import_module("services_db.review.apportion")


def _stretches(rng: np.random.Generator, long: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stretches of every length from 1 up (a few long ones), keys full of ties (repeated values, values a float
    apart, every key of a stretch alike), and every `m` from 0 to the stretch's length."""
    lengths = rng.choice([1, 2, 3, 5, 15, 16, 17, 19, 20, 21, 40, 63, 64, 65, 200], int(rng.integers(1, 60)))
    if long:
        lengths = np.r_[lengths, rng.integers(300, 900, 3)]
    lengths = rng.permutation(lengths).astype(np.int64)
    parts = []
    for i, n in enumerate(lengths.tolist()):
        kind = rng.integers(0, 4)
        base = float(i)  # keys of a stretch lie in [group, group + 1/2], one group per stretch
        if kind == 0:
            values = base + rng.random(n) * 0.5
        elif kind == 1:
            values = base + rng.choice([0.0, 0.25, np.nextafter(0.25, 1.0), 0.5], n)
        elif kind == 2:
            values = np.full(n, base + 0.125)
        else:
            values = base + rng.integers(0, 3, n) * 0.1
        parts.append(values)
    key = np.concatenate(parts)
    start = np.cumsum(lengths) - lengths
    m = np.array([int(rng.integers(0, n + 1)) if rng.random() < 0.9 else -int(rng.integers(0, 3))
                  for n in lengths.tolist()], dtype=np.int64)
    return key, start, lengths, m


@pytest.mark.parametrize("seed", range(30))
def test_stretch_thresholds_are_each_stretchs_mth_smallest_key(monkeypatch, seed):
    rng = np.random.default_rng(seed)
    key, start, n, m = _stretches(rng, long=seed % 3 == 0)
    want = np.array([np.sort(key[s:s + k])[mm - 1] if mm > 0 else -np.inf
                     for s, k, mm in zip(start.tolist(), n.tolist(), m.tolist(), strict=True)])
    before = key.copy()
    for partition, spare in [(4096, 10**6), (4096, int(n.max())), (64, 10**6), (1, int(n.max()))]:
        monkeypatch.setattr(apportion_module, "PARTITION_COLUMNS", partition)
        got = apportion_module._stretch_thresholds(key, start, n, m, np.empty(spare))
        np.testing.assert_array_equal(got, want, err_msg=f"partition {partition}, spare {spare}")
        np.testing.assert_array_equal(key, before)  # the keys themselves are left as they were


def _atoms_case(rng: np.random.Generator):
    """Random atoms, services covering random atoms (some sets shared by many), awkward populations and totals."""
    n_lsoa = int(rng.integers(5, 80))
    n_atoms = int(rng.integers(2, min(n_lsoa, 12) + 1))
    of_lsoa = rng.permutation(np.sort(np.r_[np.arange(n_atoms), rng.integers(0, n_atoms, n_lsoa - n_atoms)]))
    population = rng.choice([0.0, 1000.0, 1500.0, 1234.5, 7.0 / 3.0, -5.0, np.nextafter(1000.0, 2000.0)], n_lsoa)
    if rng.random() < 0.5:
        population = np.round(np.abs(population))  # whole numbers: the sums need no LSOA order
    atoms = Atoms.from_labels(of_lsoa, np.ones(n_lsoa), np.zeros(n_lsoa, dtype=np.int64))
    n_svc = int(rng.integers(1, 60))
    common = [np.sort(rng.choice(n_atoms, rng.integers(1, n_atoms + 1), replace=False)) for _ in range(3)]
    pairs = set()
    for s in range(n_svc):
        if rng.random() < 0.15:
            continue
        cover = common[rng.integers(0, 3)] if rng.random() < 0.6 else rng.choice(
            n_atoms, rng.integers(1, n_atoms + 1), replace=False)
        pairs |= {(s, int(a)) for a in cover}
    pairs = sorted(pairs) or [(0, 0)]
    svc = np.array([p[0] for p in pairs], dtype=np.int64)
    atom = np.array([p[1] for p in pairs], dtype=np.int64)
    totals = rng.choice([0, 1, 7, 99, 101, 12345, -12345, 10**11 + 3], n_svc).astype(np.int64)
    outside = np.where(rng.random(n_svc) < 0.2, rng.choice([1.0, 1000.0, 2500.5], n_svc), 0.0)
    return svc, atom, atoms, population, totals, outside


@pytest.mark.parametrize("seed", range(20))
def test_atom_split_given_the_prepared_pointer_and_lsoa_counts_is_the_same(monkeypatch, seed):
    rng = np.random.default_rng(seed)
    svc, atom, atoms, population, totals, outside = _atoms_case(rng)
    ptr = np.r_[0, np.cumsum(np.bincount(svc, minlength=len(totals)))]
    lsoas = np.array([atoms.size[atom[svc == s]].sum() for s in range(len(totals))], dtype=np.int64)
    for matrix in (1, 10**9):
        monkeypatch.setattr(apportion_module, "MATRIX_SERVICES", matrix)
        monkeypatch.setattr(apportion_module, "MATRIX_CELLS", 0)
        want = apportion_module.split_pence_atoms(svc, atom, atoms, population, totals, outside)
        got = apportion_module.split_pence_atoms(svc, atom, atoms, population, totals, outside, ptr=ptr, lsoas=lsoas)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", range(20))
def test_set_shares_are_each_sets_weights_over_their_sum_in_lsoa_order(seed):
    rng = np.random.default_rng(seed)
    svc, atom, atoms, population, totals, outside = _atoms_case(rng)
    n_svc = len(totals)
    ptr = np.r_[0, np.cumsum(np.bincount(svc, minlength=n_svc))]
    reps = np.flatnonzero(np.diff(ptr) > 0)
    sets = apportion_module._set_columns(reps, atom, ptr, atoms, population, outside)
    for c, s in enumerate(reps.tolist()):
        lsoas = np.sort(np.concatenate([atoms.members[atoms.ptr[a]:atoms.ptr[a + 1]] for a in atom[ptr[s]:ptr[s + 1]]]))
        w = np.clip(population[lsoas], 0.0, None)
        if outside[s] > 0:
            w = np.r_[w, outside[s]]  # the residents outside come last
        group = np.zeros(len(w), dtype=np.int64)
        wsum = np.bincount(group, weights=w)  # as `split_pence` adds a group's weights: in row order
        if wsum[0] <= 0:
            w = np.ones(len(w))
            wsum = np.bincount(group, weights=w)
        cols = slice(sets.ptr[c], sets.ptr[c + 1])
        order = np.argsort(sets.order[cols], kind="stable")
        np.testing.assert_array_equal(sets.q[cols][order], w / wsum[0])


def _random_data(make, seed: int):
    rng = np.random.default_rng(seed)
    b = make()
    codes = ["F", "A1", "A2", "D1", "D2", "D3", "L1", "L2", "L3", "L4", "L5"]
    for sid in range(1, 40):
        cover = tuple(rng.choice(codes, size=int(rng.integers(1, 4)), replace=False))
        b.service(sid, coverage=cover)
        if sid % 3:
            b.line(sid, float(rng.integers(1, 10**6)))
    return b.build()


@pytest.mark.parametrize("seed", range(5))
def test_prepared_pointer_and_residents_per_cell_match_the_coverage_rows(make, seed):
    data = _random_data(make, seed)
    prep = Prepared(data)
    svc, atom = prep.coverage_atoms
    n = len(prep.service_ids)
    np.testing.assert_array_equal(prep.atom_ptr, np.searchsorted(svc, np.arange(n + 1)))
    run_svc, cell, starts = prep.service_cells
    ends = np.r_[starts[1:], len(svc)]
    want = np.array([prep.atoms.population[atom[a:b]].sum() for a, b in zip(starts, ends, strict=True)])
    np.testing.assert_allclose(prep.cell_population, want, rtol=0, atol=1e-9)
    for level in ("district", "area", "force", "area", "district"):  # in any order: the residents do not change
        got_svc, got_unit, got_weight = prep.service_unit_weights(level)
        unit_of = prep.cell_units(level)[cell]
        want = {}
        for s, u, p in zip(run_svc.tolist(), unit_of.tolist(), want_pop(prep, starts, ends), strict=True):
            if u >= 0:
                want[(s, u)] = want.get((s, u), 0.0) + p
        assert list(zip(got_svc.tolist(), got_unit.tolist(), strict=True)) == sorted(want)
        np.testing.assert_allclose(got_weight, [want[k] for k in sorted(want)], rtol=0, atol=1e-9)
    ctx = Context(data, "2016-07-21")
    np.testing.assert_array_equal(ctx.apportioned_atoms[2], apportion_module.split_pence_atoms(
        svc, atom, prep.atoms, ctx.geo.population, ctx.funding_pence, prep.outside_population))


def want_pop(prep: Prepared, starts: np.ndarray, ends: np.ndarray) -> list[float]:
    atom = prep.coverage_atoms[1]
    return [float(prep.atoms.population[atom[a:b]].sum()) for a, b in zip(starts, ends, strict=True)]
