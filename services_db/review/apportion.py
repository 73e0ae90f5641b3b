"""Apportioning each service's annual funding to the LSOAs it covers, to the penny.

review.md: a service's annual funding (the sum of its funding lines current at the "as at" date; `annual_amount`
is already £ a year, so "pro-rated to 12 months" needs no further arithmetic here) is split over the LSOAs it
covers in proportion to population. Shares are rounded to whole pence by the largest-remainder method so that
the LSOA amounts of every service add back to its funding exactly: a Chief Inspector who adds up the areas of a
table must get the total printed under it.

The measures never need a service's pence LSOA by LSOA, only per atom (`context.Atoms`: LSOAs every coverage
code treats alike) and then per district or coarser. `split_pence_atoms` gives each (service, atom) exactly the
sum of the pence `split_pence` puts on the atom's LSOAs, without the national 30 million (service, LSOA) rows:
review.md allows atoms "when the result is the same", and here it is the same to the penny, by construction
(tests/review/test_review_atoms.py checks it against the LSOA split). `apportion` still lists LSOA rows for
whoever asks for them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from services_db.review.context import Atoms, Context, csr, gather, unique_rows
from services_db.review.data import ReviewData
from services_db.review.dates import DateLike
from services_db.review.geography import chunk_size, group_blocks


def split_pence(group: np.ndarray, weights: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Split `totals[g]` pence over the rows of each group `g` in proportion to `weights`, in whole pence.

    `group` must be sorted (rows of a group contiguous). A group whose weights add to zero is split equally.
    Each row gets the floor of its exact share; the pence left over go one each to the rows with the largest
    fractional parts (ties to the earlier row), so every group adds up exactly. Works for negative totals too.
    Groups are independent, so national-size input (tens of millions of rows) goes in blocks of whole groups:
    a dozen temporaries the size of the input would otherwise take gigabytes.
    """
    group = np.asarray(group, dtype=np.int64)
    if len(group) <= chunk_size():
        return _split_block(group, weights, totals)
    weights = np.asarray(weights, dtype=float)
    totals = np.asarray(totals, dtype=np.int64)
    out = np.empty(len(group), dtype=np.int64)
    for block in group_blocks(group):
        first, last = group[block.start], group[block.stop - 1]
        out[block] = _split_block(group[block] - first, weights[block], totals[first:last + 1])
    return out


def _split_block(group: np.ndarray, weights: np.ndarray, totals: np.ndarray) -> np.ndarray:
    if len(group) == 0:
        return np.empty(0, dtype=np.int64)
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    n_groups = len(totals)
    wsum = np.bincount(group, weights=w, minlength=n_groups)
    equal = wsum[group] <= 0
    if equal.any():
        w = np.where(equal, 1.0, w)
        wsum = np.bincount(group, weights=w, minlength=n_groups)
    total = np.asarray(totals, dtype=np.int64)
    raw = total[group].astype(float) * (w / wsum[group])
    floor = np.floor(raw)
    frac = raw - floor
    floor = floor.astype(np.int64)
    left = total - np.bincount(group, weights=floor, minlength=n_groups).round().astype(np.int64)

    row = np.arange(len(group))
    starts = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=n_groups))])[group]
    size = np.bincount(group, minlength=n_groups)[group]
    # Within a group: largest fraction first, then row order. One stable float sort of "group + (1 - fraction)
    # / 2" does it (groups are whole numbers); fractions closer than float precision count as ties.
    order = np.argsort(group + (1.0 - frac) * 0.5, kind="stable")
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = row - starts[order]
    need = left[group]
    add = (need > 0) & (rank < need)
    sub = (need < 0) & ((size - 1 - rank) < -need)  # float error can overshoot: take back from the smallest
    return floor + add.astype(np.int64) - sub.astype(np.int64)


def service_funding(data: ReviewData, as_at: DateLike) -> pd.DataFrame:
    """Per service: its annual funding at the date, how many current lines make it up and how many LSOAs it covers.

    Columns: service_id, name, annual_funding, funding_lines, commissioners, lsoas, placed (covers at least one
    LSOA; money of an unplaced service cannot be apportioned and is reported as a data finding instead).
    """
    return pd.DataFrame(_service_funding(Context(data, as_at)))


def _service_funding(ctx: Context) -> dict[str, object]:
    lines = ctx.prep.lines
    n = len(ctx.service_ids)
    count = np.bincount(lines["pos"][ctx.line_current], minlength=n)
    lsoas = ctx.prep.lsoa_count
    return {
        "service_id": ctx.service_ids, "name": ctx.prep.svc_name, "annual_funding": ctx.funding_pence / 100.0,
        "funding_lines": count, "commissioners": ctx.prep.svc_commissioners, "lsoas": lsoas, "placed": lsoas > 0,
    }


def apportion(data: ReviewData, as_at: DateLike) -> pd.DataFrame:
    """Per (service, LSOA): the service's annual funding at `as_at` apportioned by population, to the penny.

    Columns: service_id, lsoa_code, population (the weight used), pence (int), amount (£). For every service
    the LSOA amounts add up exactly to its `annual_funding` in `service_funding`. Services without coverage have
    no rows.
    """
    return _apportion(Context(data, as_at))


def _apportion(ctx: Context) -> pd.DataFrame:
    svc, lsoa, pence = ctx.apportioned
    funded = ctx.funding_pence[svc] != 0
    svc, lsoa, pence = svc[funded], lsoa[funded], pence[funded]
    return pd.DataFrame({
        "service_id": ctx.service_ids[svc], "lsoa_code": ctx.geo.lsoa_codes[lsoa],
        "population": ctx.geo.population[lsoa], "pence": pence, "amount": pence / 100.0,
    })


def area_apportionment(data: ReviewData, as_at: DateLike, area_code: str) -> pd.DataFrame:
    """Per service: the part of its apportioned funding that falls in one area (service_id, amount in £).

    The same pence as `apportion`, added up over the area's LSOAs, from the pence per cell (district or coarser)
    where the area is one, without a row per (service, LSOA) (30 million at national size)."""
    ctx = Context(data, as_at)
    geo = ctx.geo
    pos = geo.code_pos.get(area_code)
    level = str(geo.levels[pos]) if pos is not None else ""
    if level in ("district", "area", "division", "force"):  # a union of cells: no LSOA rows needed
        svc, cell, pence = ctx.apportioned_cells
        unit = geo.unit_of_areas(level, np.array([pos]))[0]
        inside = (ctx.prep.cell_units(level)[cell] == unit) & (ctx.funding_pence[svc] != 0)
    else:
        svc, lsoa, pence = ctx.apportioned
        inside = np.isin(lsoa, geo.lsoas_under([area_code])) & (ctx.funding_pence[svc] != 0)
    ids, total = np.unique(svc[inside], return_inverse=True)
    amount = np.bincount(total, weights=pence[inside], minlength=len(ids)) / 100.0
    return pd.DataFrame({"service_id": ctx.service_ids[ids], "amount": amount})


def spread(group: np.ndarray, weights: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Like `split_pence` but in exact floating point (for need, risk and allocations, where pence do not matter)."""
    group = np.asarray(group, dtype=np.int64)
    if len(group) == 0:
        return np.empty(0, dtype=float)
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    wsum = np.bincount(group, weights=w, minlength=len(totals))
    equal = wsum[group] <= 0
    if equal.any():
        w = np.where(equal, 1.0, w)
        wsum = np.bincount(group, weights=w, minlength=len(totals))
    return np.asarray(totals, dtype=float)[group] * w / wsum[group]


# -- the same split, atom by atom ------------------------------------------------------------------------------------

#: A coverage set shared by at least this many funded services is split as one matrix (services x LSOAs); rarer
#: sets go through one flat pass together, so a national review's thousands of one-off sets cost no Python loop.
MATRIX_SERVICES = 8


def split_pence_atoms(svc: np.ndarray, atom: np.ndarray, atoms: Atoms, population: np.ndarray,
                      totals: np.ndarray, outside: np.ndarray | None = None) -> np.ndarray:
    """For (service, atom) rows (sorted, unique): the pence `split_pence` puts on the atom's LSOAs, added up.

    Exactly what splitting each service over its LSOAs and adding the LSOAs up per atom gives, to the penny, but
    without a row per (service, LSOA): a service with one atom (or no money) gets its whole total there, since the
    split adds back to it; the others are split LSOA by LSOA with the same floating-point operations in the same
    order as `split_pence`, but once per *coverage set* (the services with the same atoms share their LSOAs and
    weights), as a matrix of services x LSOAs for a common set. Even the tie-break is reproduced: `split_pence`
    ranks on `group + (1 - fraction) / 2`, where `group` counts from the first service of its block of
    `chunk_size()` rows, so the same block cuts are worked out here from the services' LSOA counts.

    `outside` (per service position, 0 for none): residents a service covers beyond the snapshot's areas, split
    with its LSOAs as one more row after them and then dropped, as `Context._apportion` does for a one-force
    snapshot; such a service goes through the split even with one atom.
    """
    svc = np.asarray(svc, dtype=np.int64)
    atom = np.asarray(atom, dtype=np.int64)
    totals = np.asarray(totals, dtype=np.int64)
    out = np.zeros(len(svc), dtype=np.int64)
    if len(svc) == 0:
        return out
    n_svc = len(totals)
    ptr = csr(svc, n_svc)
    n_atoms = np.diff(ptr)
    lsoas = np.bincount(svc, weights=atoms.size[atom], minlength=n_svc).round().astype(np.int64)
    outside = np.zeros(n_svc) if outside is None else np.asarray(outside, dtype=float)
    beyond = outside > 0
    one = ((n_atoms == 1) & ~beyond) | (totals == 0)
    out[:] = np.where(one[svc], totals[svc], 0)  # the split of a service adds back to its total
    split = np.flatnonzero(~one & (n_atoms > 0))
    if len(split) == 0:
        return out
    group = _block_groups(lsoas + beyond)  # a service's rows in `split_pence`: its LSOAs and the one outside

    # Coverage sets of the services left: the same atoms (two 64-bit sums of random keys, and the count).
    rng = np.random.default_rng(20261204)
    k1, k2 = (rng.integers(0, 2**63, size=max(len(atoms), 1), dtype=np.uint64) for _ in range(2))
    which, rows = gather(ptr, split)
    starts = np.r_[0, np.cumsum(n_atoms[split])[:-1]]
    a = atom[rows]
    with np.errstate(over="ignore"):
        sig = np.stack([np.add.reduceat(k1[a], starts), np.add.reduceat(k2[a], starts),
                        n_atoms[split].astype(np.uint64), np.where(beyond, outside, 0.0)[split].view(np.uint64)],
                       axis=1)
    first, set_of = unique_rows(sig)
    set_of = set_of.ravel()
    n_sets = len(first)
    reps = split[first]

    # Each set's LSOAs in LSOA order (the order of `split_pence`'s rows), their weights and their atom's place
    # among the set's atoms.
    r_which, r_rows = gather(ptr, reps)
    r_atom = atom[r_rows]
    a_which, a_at = gather(atoms.ptr, r_atom)
    col_set = r_which[a_which]
    col_lsoa = atoms.members[a_at]
    col_rank = (r_rows - ptr[reps][r_which])[a_which]
    w = np.asarray(population, dtype=float)[col_lsoa]
    out_sets = np.flatnonzero(beyond[reps])  # one more column, after the LSOAs: the residents outside (rank -1)
    col_set = np.concatenate([col_set, out_sets])
    col_lsoa = np.concatenate([col_lsoa, np.full(len(out_sets), len(atoms.of_lsoa), dtype=np.int64)])
    col_rank = np.concatenate([col_rank, np.full(len(out_sets), -1, dtype=np.int64)])
    w = np.concatenate([w, outside[reps[out_sets]]])
    order = np.lexsort((col_lsoa, col_set))
    col_set, col_rank, w = col_set[order], col_rank[order], w[order]
    set_ptr = csr(col_set, n_sets)
    w = np.clip(w, 0.0, None)
    wsum = np.bincount(col_set, weights=w, minlength=n_sets)
    equal = wsum[col_set] <= 0
    if equal.any():
        w = np.where(equal, 1.0, w)
        wsum = np.bincount(col_set, weights=w, minlength=n_sets)
    q = w / wsum[col_set]

    by_set = np.argsort(set_of, kind="stable")
    set_services = split[by_set]
    svc_ptr = csr(set_of[by_set], n_sets)
    k = np.diff(svc_ptr)
    for c in np.flatnonzero(k >= MATRIX_SERVICES).tolist():
        cols = slice(set_ptr[c], set_ptr[c + 1])
        members = set_services[svc_ptr[c]:svc_ptr[c + 1]]
        _split_matrix(members, q[cols], col_rank[cols], totals, group, ptr, out)
    rare = np.flatnonzero(k < MATRIX_SERVICES)
    if len(rare):
        members = set_services[np.concatenate([np.arange(svc_ptr[c], svc_ptr[c + 1]) for c in rare.tolist()])]
        member_set = set_of[np.searchsorted(split, members)]
        _split_flat(members, member_set, set_ptr, q, col_rank, totals, group, ptr, out)
    return out


def _block_groups(lsoas: np.ndarray) -> np.ndarray:
    """For each service position: the `group` value `split_pence` gives its rows when called on every service's
    (service, LSOA) rows, whose count per service is `lsoas`: the position itself when all the rows fit one block,
    else the position less that of the first service of its block (`group_blocks`' cuts, worked out per service)."""
    n_svc = len(lsoas)
    positions = np.arange(n_svc, dtype=np.int64)
    total = int(lsoas.sum())
    size = chunk_size()
    if total <= size:
        return positions
    has = np.flatnonzero(lsoas > 0)
    end = np.cumsum(lsoas[has])
    begin = end - lsoas[has]
    group = positions.copy()
    start = 0
    while start < total:
        stop = max(min(start + size, total), start + 1)
        if stop < total:
            owner = int(np.searchsorted(end, stop, side="right"))  # the service whose rows hold row `stop`
            cut = int(begin[owner])
            stop = cut if cut > start else int(end[np.searchsorted(end, start, side="right")])
        first = int(np.searchsorted(end, start, side="right"))
        last = int(np.searchsorted(end, stop - 1, side="right"))
        group[has[first:last + 1]] -= has[first]
        start = stop
    return group


def _split_matrix(members: np.ndarray, q: np.ndarray, rank_of_col: np.ndarray, totals: np.ndarray,
                  group: np.ndarray, ptr: np.ndarray, out: np.ndarray) -> None:
    """`_split_block`'s arithmetic for services sharing one coverage set: one row per service, one column per
    LSOA (in LSOA order); each row's pence added up per atom into `out` at the service's (service, atom) rows."""
    n = len(q)
    col_order = np.argsort(rank_of_col, kind="stable")
    bounds = np.flatnonzero(np.r_[True, rank_of_col[col_order][1:] != rank_of_col[col_order][:-1]])
    step = max(1, chunk_size() // max(n, 1))
    cols = np.arange(n, dtype=np.int64)
    for i in range(0, len(members), step):
        svc = members[i:i + step]
        total = totals[svc]
        raw = total.astype(float)[:, None] * q[None, :]
        floor = np.floor(raw)
        frac = raw - floor
        left = total - floor.sum(axis=1).round().astype(np.int64)
        key = group[svc].astype(float)[:, None] + (1.0 - frac) * 0.5
        order = np.argsort(key, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.broadcast_to(cols, order.shape), axis=1)
        need = left[:, None]
        pence = floor.astype(np.int64) + ((need > 0) & (rank < need)) - ((need < 0) & ((n - 1 - rank) < -need))
        per_atom = np.add.reduceat(pence[:, col_order], bounds, axis=1)
        if rank_of_col[col_order[0]] < 0:  # the residents outside: split with the rest, then dropped
            per_atom = per_atom[:, 1:]
        out[ptr[svc][:, None] + np.arange(per_atom.shape[1])[None, :]] = per_atom


def _split_flat(members: np.ndarray, member_set: np.ndarray, set_ptr: np.ndarray, q: np.ndarray,
                rank_of_col: np.ndarray, totals: np.ndarray, group: np.ndarray, ptr: np.ndarray,
                out: np.ndarray) -> None:
    """`_split_matrix` for services of rarely shared sets: a row per (service, LSOA of its set), services in
    position order. `split_pence`'s key rises from service to service within one of its blocks (`group` counts
    up from the block's first service), so one stable sort per block ranks every service's rows as it did."""
    order = np.argsort(members, kind="stable")
    members, member_set = members[order], member_set[order]
    block_start = np.flatnonzero(np.r_[True, group[members][1:] <= group[members][:-1]])
    for lo, hi in zip(block_start.tolist(), np.r_[block_start[1:], len(members)].tolist(), strict=True):
        _split_rows(members[lo:hi], member_set[lo:hi], set_ptr, q, rank_of_col, totals, group, ptr, out)


def _split_rows(members: np.ndarray, member_set: np.ndarray, set_ptr: np.ndarray, q: np.ndarray,
                rank_of_col: np.ndarray, totals: np.ndarray, group: np.ndarray, ptr: np.ndarray,
                out: np.ndarray) -> None:
    row_of, col = gather(set_ptr, member_set)
    if len(col) == 0:
        return
    svc = members[row_of]
    total = totals[svc]
    raw = total.astype(float) * q[col]
    floor = np.floor(raw)
    frac = raw - floor
    m = len(members)
    left = totals[members] - np.bincount(row_of, weights=floor, minlength=m).round().astype(np.int64)
    order = np.argsort(group[svc] + (1.0 - frac) * 0.5, kind="stable")  # as `_split_block` sorts
    starts = csr(row_of, m)
    rank = np.empty(len(col), dtype=np.int64)
    rank[order] = np.arange(len(col), dtype=np.int64) - starts[row_of[order]]
    size = np.diff(starts)[row_of]
    need = left[row_of]
    pence = floor.astype(np.int64) + ((need > 0) & (rank < need)) - ((need < 0) & ((size - 1 - rank) < -need))
    inside = rank_of_col[col] >= 0  # the residents outside are split with the rest, then dropped
    out += np.bincount(ptr[svc][inside] + rank_of_col[col][inside], weights=pence[inside],
                       minlength=len(out)).round().astype(np.int64)
