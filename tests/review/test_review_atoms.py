"""Atoms: the review apportions to sets of LSOAs every service covers alike, and must get the same pence as LSOAs.

review.md allows apportioning to atoms "when the result is the same". `Context.apportioned_atoms` claims more than
the same totals: for every (service, atom) it gives exactly the sum of the pence `split_pence` puts on the atom's
LSOAs (the largest-remainder split is worked LSOA by LSOA, only without a row per (service, LSOA) where a service
has one atom or no money, and once per shared coverage set otherwise). These tests hold it to that, penny for
penny, on the demo and on random data with awkward populations (fractions, zeros, unknown), LSOA-level coverage,
negative and zero totals, in one block and in many, through the matrix path and the flat path.
"""

from __future__ import annotations

import importlib
from dataclasses import fields

import numpy as np
import pytest

from services_db.queries import default_as_at, review_data
from services_db.review import geography as geography_module
from services_db.review.context import Context, unique_inverse
from services_db.review.data import ReviewData
from services_db.review.geography import geography_of
from services_db.review.wording import Sentence

# the module, not the `apportion` function `services_db.review` exports under the same name
apportion_module = importlib.import_module("services_db.review.apportion")


def _copy(data: ReviewData) -> ReviewData:
    """The same data in new frame objects, so nothing cached for the original is reused."""
    return ReviewData(**{f.name: getattr(data, f.name).copy() for f in fields(data)})


def _lsoa_pence_per_atom(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference: every service split over its LSOAs (`split_pence`), added up per (service, atom)."""
    svc, lsoa, pence = ctx.apportioned
    atoms = ctx.prep.atoms
    n = max(len(atoms), 1)
    pairs, inverse = unique_inverse(svc * n + atoms.of_lsoa[lsoa])
    sums = np.bincount(inverse, weights=pence, minlength=len(pairs)).round().astype(np.int64)
    return pairs // n, pairs % n, sums


def _assert_same_pence(data: ReviewData, as_at) -> int:
    ctx = Context(_copy(data), as_at)
    want = _lsoa_pence_per_atom(ctx)
    got = ctx.apportioned_atoms
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    return len(got[0])


def _random_data(make, seed: int) -> ReviewData:
    """A force of 3 areas, 6 districts and 60 LSOAs with fractional, zero and unknown populations, and services
    covering the force, areas, districts and handfuls of LSOAs, with positive, zero, negative and no funding (and
    for odd seeds, residents covered outside the snapshot's areas)."""
    rng = np.random.default_rng(seed)
    areas = [("F", "Randomshire", "force", None, np.nan), ("V", "Division", "division", "F", np.nan)]
    areas += [(f"A{a}", f"Area {a}", "area", "V", np.nan) for a in range(3)]
    areas += [(f"D{d}", f"District {d}", "district", f"A{d % 3}", np.nan) for d in range(6)]
    lsoas = []
    for i in range(60):
        pop = rng.choice([np.nan, 0.0, round(float(rng.uniform(800, 2500)), 3), float(rng.integers(900, 2000))],
                         p=[0.1, 0.1, 0.4, 0.4])
        areas.append((f"L{i:02d}", f"LSOA {i}", "lsoa", f"D{i % 6}", pop))
        lsoas.append(f"L{i:02d}")
    b = make(areas)
    codes = ["F", "A0", "A1", "A2", "D0", "D1", "D2", "D3", "D4", "D5"]
    for sid in range(1, 121):
        kind = rng.integers(0, 4)
        if kind == 0:
            cover = ("F",)
        elif kind == 1:
            cover = tuple(rng.choice(codes[1:], size=rng.integers(1, 4), replace=False))
        elif kind == 2:
            cover = tuple(rng.choice(lsoas, size=rng.integers(1, 8), replace=False))
        else:
            cover = tuple(rng.choice(codes[4:], size=2, replace=False)) + tuple(rng.choice(lsoas, size=3))
        if sid % 9 == 0:
            cover = ("F",) if sid % 2 else ("D1",)  # common sets: the matrix path has many services to take
        b.service(sid, coverage=cover)
        money = rng.choice([0.0, -1234.56, float(rng.integers(1, 10**7)) / 100.0, float(rng.integers(1, 10**9))])
        if sid % 7:
            b.line(sid, money)
    data = b.build()
    if seed % 2:  # a one-force snapshot: some services also cover residents beyond its areas
        outside = np.where(rng.random(120) < 0.4, rng.uniform(1, 5e4, 120).round(rng.integers(0, 3)), 0.0)
        frames = {f.name: getattr(data, f.name) for f in fields(data)}
        frames["services"] = frames["services"].assign(outside_population=outside)
        data = ReviewData(**frames)
    return data


def test_random_data_give_the_lsoa_pence_per_atom_in_every_path(make, monkeypatch):
    for seed in range(6):
        data = _random_data(make, seed)
        rows = _assert_same_pence(data, "2016-07-21")
        assert rows > 100
        monkeypatch.setattr(apportion_module, "MATRIX_SERVICES", 1)  # every set as a matrix
        monkeypatch.setattr(apportion_module, "MATRIX_CELLS", 0)
        _assert_same_pence(data, "2016-07-21")
        monkeypatch.setattr(apportion_module, "PARTITION_COLUMNS", 1)  # thresholds by a partition per row
        _assert_same_pence(data, "2016-07-21")
        monkeypatch.setattr(apportion_module, "MATRIX_SERVICES", 10**9)  # every set in the flat pass
        _assert_same_pence(data, "2016-07-21")
        monkeypatch.setattr(geography_module, "CHUNK", 23)  # `split_pence` in blocks: its tie-break changes
        _assert_same_pence(data, "2016-07-21")
        monkeypatch.setattr(apportion_module, "MATRIX_SERVICES", 2)
        _assert_same_pence(data, "2016-07-21")
        monkeypatch.undo()


def _reference_atom_pence(svc, atom, atoms, population, totals, outside):
    """The definition: every service split over its LSOAs (in LSOA order, its residents outside last) by
    `split_pence` over all services at once, as `Context._apportion` does, and the LSOAs' pence added up per atom."""
    lsoa_rows, svc_rows = [], []
    for s, a in zip(svc.tolist(), atom.tolist(), strict=True):
        members = atoms.members[atoms.ptr[a]:atoms.ptr[a + 1]].tolist()
        lsoa_rows += members
        svc_rows += [s] * len(members)
    rows = sorted(zip(svc_rows, lsoa_rows, strict=True)) + [(s, -1) for s in np.flatnonzero(outside > 0).tolist()]
    rows.sort(key=lambda r: (r[0], r[1] < 0, r[1]))  # the residents outside after the service's LSOAs
    group = np.array([r[0] for r in rows], dtype=np.int64)
    lsoa = np.array([r[1] for r in rows], dtype=np.int64)
    weights = np.where(lsoa >= 0, population[np.maximum(lsoa, 0)], outside[group])
    pence = apportion_module.split_pence(group, weights, totals)
    want = dict.fromkeys(zip(svc.tolist(), atom.tolist(), strict=True), 0)
    for s, lsoa_, p in zip(group.tolist(), lsoa.tolist(), pence.tolist(), strict=True):
        if lsoa_ >= 0:
            want[(s, int(atoms.of_lsoa[lsoa_]))] += p
    return np.array([want[(s, a)] for s, a in zip(svc.tolist(), atom.tolist(), strict=True)], dtype=np.int64)


def _random_atoms_case(rng: np.random.Generator):
    """Atoms of random sizes, services covering random atoms (a few coverage sets shared by many services),
    populations full of ties (repeated values, zeros, values a float apart) and totals of every sign and size."""
    from services_db.review.context import Atoms

    n_lsoa = int(rng.integers(5, 80))
    n_atoms = int(rng.integers(2, min(n_lsoa, 12) + 1))
    of_lsoa = np.sort(np.r_[np.arange(n_atoms), rng.integers(0, n_atoms, n_lsoa - n_atoms)])
    of_lsoa = rng.permutation(of_lsoa)  # atoms' LSOAs interleave in LSOA order
    atoms = Atoms.from_labels(of_lsoa, np.ones(n_lsoa), np.zeros(n_lsoa, dtype=np.int64))
    values = np.array([0.0, 1000.0, np.nextafter(1000.0, 2000.0), 1500.0, 1234.5, 3.0, 1e-9, 7.0 / 3.0, 0.1, 0.3])
    kind = rng.integers(0, 4)
    if kind == 0:
        population = np.full(n_lsoa, float(rng.choice(values[1:])))  # every LSOA alike: ties everywhere
    elif kind == 1:
        population = rng.choice(values, n_lsoa)
    elif kind == 2:
        population = rng.integers(0, 4, n_lsoa).astype(float) * 500.0  # whole numbers, zeros among them
    else:
        population = np.zeros(n_lsoa)  # nobody anywhere: equal shares
    n_svc = int(rng.integers(1, 60))
    common = [np.sort(rng.choice(n_atoms, rng.integers(1, n_atoms + 1), replace=False)) for _ in range(3)]
    pairs = []
    for s in range(n_svc):
        if rng.random() < 0.15:
            continue  # no coverage
        cover = common[rng.integers(0, 3)] if rng.random() < 0.6 else rng.choice(
            n_atoms, rng.integers(1, n_atoms + 1), replace=False)
        pairs += [(s, int(a)) for a in cover]
    pairs = sorted(set(pairs)) or [(0, 0)]
    svc = np.array([p[0] for p in pairs], dtype=np.int64)
    atom = np.array([p[1] for p in pairs], dtype=np.int64)
    totals = rng.choice([0, 1, 7, 99, 100, 101, 12345, -100, -12345, 10**11 + 3], n_svc).astype(np.int64)
    totals *= rng.integers(1, 3, n_svc)
    huge = rng.random(n_svc) < 0.2  # near 2**53 pence the floors can add up to more than the total
    totals[huge] = rng.integers(2**50, 2**52, huge.sum()) * rng.choice([-1, 1], huge.sum())
    outside = np.where(rng.random(n_svc) < 0.2, rng.choice([1.0, 1000.0, 2500.5], n_svc), 0.0)
    return svc, atom, atoms, population, totals, outside


@pytest.mark.parametrize("matrix", [1, 10**9])
def test_floors_adding_up_to_more_than_the_total_take_a_penny_back(monkeypatch, matrix):
    """Float error can make the floors of a huge total add up to one penny more than it: the split then takes a
    penny back from the smallest fractions (`split_pence`'s `need < 0`), and the atoms must follow it."""
    from services_db.review.context import Atoms

    population = np.array([0.1, 0.3, 0.3, 0.1])
    atoms = Atoms.from_labels(np.array([0, 1, 2, 2]), population, np.zeros(4, dtype=np.int64))
    totals = np.array([6907545929327266, 6907545929327266], dtype=np.int64)
    svc, atom = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2])  # service 1: LSOAs 1, 2, 3 (0.3, 0.3, 0.1)
    raw = totals[1] * (population[1:] / population[1:].sum())
    assert np.floor(raw).astype(np.int64).sum() > totals[1]  # the case this test is about
    want = _reference_atom_pence(svc, atom, atoms, population, totals, np.zeros(2))
    assert want[2:].sum() == totals[1]
    monkeypatch.setattr(apportion_module, "MATRIX_SERVICES", matrix)
    monkeypatch.setattr(apportion_module, "MATRIX_CELLS", 0)
    np.testing.assert_array_equal(apportion_module.split_pence_atoms(svc, atom, atoms, population, totals), want)


@pytest.mark.parametrize("seed", range(40))
def test_atom_split_matches_the_lsoa_split_on_random_ties(monkeypatch, seed):
    """Property: `split_pence_atoms` (matrix path, flat path, partitioned rows, one block or many) gives every
    (service, atom) exactly the LSOA split's pence, on inputs built to tie at the threshold."""
    rng = np.random.default_rng(seed)
    svc, atom, atoms, population, totals, outside = _random_atoms_case(rng)
    if seed % 2:
        outside = None
    want = _reference_atom_pence(svc, atom, atoms, population, totals,
                                 np.zeros(len(totals)) if outside is None else outside)
    for chunk, matrix, partition in [(None, 8, 4096), (None, 1, 4096), (None, 1, 1), (None, 10**9, 1),
                                     (7, 1, 4096), (7, 10**9, 4096), (50, 2, 1), (1, 1, 1)]:
        if chunk:
            monkeypatch.setattr(geography_module, "CHUNK", chunk)
            want_here = _reference_atom_pence(svc, atom, atoms, population, totals,
                                              np.zeros(len(totals)) if outside is None else outside)
        else:
            want_here = want
        monkeypatch.setattr(apportion_module, "MATRIX_SERVICES", matrix)
        monkeypatch.setattr(apportion_module, "MATRIX_CELLS", 0)
        monkeypatch.setattr(apportion_module, "PARTITION_COLUMNS", partition)
        got = apportion_module.split_pence_atoms(svc, atom, atoms, population, totals, outside)
        np.testing.assert_array_equal(got, want_here, err_msg=f"chunk {chunk}, matrix {matrix}, part {partition}")
        monkeypatch.undo()


@pytest.fixture
def demo(demo_db):
    return review_data(demo_db), default_as_at(demo_db)


@pytest.mark.parametrize("chunk", [None, 37, 1000])
def test_demo_gives_the_lsoa_pence_per_atom(demo, monkeypatch, chunk):
    data, as_at = demo
    if chunk:
        monkeypatch.setattr(geography_module, "CHUNK", chunk)
    for when in (as_at, "2014-01-27", "2016-07-21"):
        _assert_same_pence(data, when)


def test_every_coverage_code_is_a_union_of_atoms_inside_one_district(make):
    data = _random_data(make, 11)
    ctx = Context(data, "2016-07-21")
    geo, atoms = ctx.geo, ctx.prep.atoms
    assert len(atoms) <= geo.n_lsoa
    for code in set(data.coverage["area_code"]):
        inside = np.zeros(geo.n_lsoa, dtype=bool)
        inside[geo.lsoas_under([code])] = True
        per_atom = np.bincount(atoms.of_lsoa, weights=inside, minlength=len(atoms))
        assert set(np.unique(per_atom / atoms.size).tolist()) <= {0.0, 1.0}, code
    district = geo.units("district").of_lsoa
    for a in range(len(atoms)):
        assert len(set(district[atoms.members[atoms.ptr[a]:atoms.ptr[a + 1]]].tolist())) == 1
    np.testing.assert_array_equal(ctx.prep.lsoa_count, np.diff(ctx.prep.coverage_ptr))
    np.testing.assert_allclose(atoms.population.sum(), geo.population.sum())


def test_districts_covered_whole_are_one_atom_each(make):
    data = make().service(1, coverage=("F",)).service(2, coverage=("D1", "L4")).line(1, 100).line(2, 50).build()
    atoms = Context(data, "2016-07-21").prep.atoms
    # D1 (L1, L2), D2 (L3), and D3 split by service 2's L4 into L4 and L5.
    assert len(atoms) == 4
    geo = geography_of(data)
    of = dict(zip(geo.lsoa_codes.tolist(), atoms.of_lsoa.tolist(), strict=True))
    assert of["L1"] == of["L2"] and len({of["L1"], of["L3"], of["L4"], of["L5"]}) == 4


def test_geography_is_kept_per_snapshot_not_per_object_id(make):
    data = make().build()
    assert geography_of(data) is geography_of(data) is geography_of(data.areas)
    assert Context(data, "2016-07-21").geo is geography_of(data)
    other = _copy(data)
    assert geography_of(other) is not geography_of(data)


def test_plain_words_refuse_any_digit():
    Sentence().words("plain words, no figures")
    for text in ("3 services", "area 51", "x\u00b2", "\u0663 things"):  # ASCII, superscript two, Arabic-Indic three
        with pytest.raises(ValueError):
            Sentence().words(text)


def test_area_apportionment_from_cells_is_the_lsoa_sum(demo):
    """A briefing's per-service amounts in an area (district, area or force) come from the cells: they must be the
    LSOA pence added up, penny for penny."""
    from services_db.review.apportion import area_apportionment

    data, as_at = demo
    ctx = Context(_copy(data), as_at)
    svc, lsoa, pence = ctx.apportioned
    funded = ctx.funding_pence[svc] != 0
    for level in ("district", "area", "force"):
        for code in ctx.geo.units(level).codes.tolist():
            inside = np.isin(lsoa, ctx.geo.lsoas_under([code])) & funded
            ids, at = np.unique(svc[inside], return_inverse=True)
            want = np.bincount(at, weights=pence[inside], minlength=len(ids)) / 100.0
            got = area_apportionment(ctx.data, as_at, code)
            assert got["service_id"].tolist() == ctx.service_ids[ids].tolist(), code
            assert got["amount"].tolist() == want.tolist(), code
