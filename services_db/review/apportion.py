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

from dataclasses import dataclass

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

#: A coverage set shared by at least `MATRIX_SERVICES` funded services with at least `MATRIX_CELLS` (service, LSOA)
#: cells between them is split as one matrix (services x LSOAs, the set's weights broadcast); every other service
#: goes through flat passes of a block of cells at a time, so a national review's thousands of small sets cost no
#: Python loop and its few big ones no per-cell lookups.
MATRIX_SERVICES = 4
MATRIX_CELLS = 1 << 12


def split_pence_atoms(svc: np.ndarray, atom: np.ndarray, atoms: Atoms, population: np.ndarray,
                      totals: np.ndarray, outside: np.ndarray | None = None, *, ptr: np.ndarray | None = None,
                      lsoas: np.ndarray | None = None) -> np.ndarray:
    """For (service, atom) rows (sorted, unique): the pence `split_pence` puts on the atom's LSOAs, added up.

    Exactly what splitting each service over its LSOAs and adding the LSOAs up per atom gives, to the penny, but
    without a row per (service, LSOA) kept: a service with one atom (or no money) gets its whole total there, since
    the split adds back to it; the others are split LSOA by LSOA with the same floating-point operations as
    `split_pence` (the same shares `w / sum(w)`, the sum taken in the same order, the same products, floors and
    fractions, and the same sort key `group + (1 - fraction) / 2`, so fractions closer than the key's precision tie
    just as they do there), once per *coverage set* for the weights (services with the same atoms share their
    LSOAs and weights), a block of cells at a time for the rest. `group` counts from the first service of its
    block of `chunk_size()` rows in `split_pence`, so the same block cuts are worked out here from the services'
    LSOA counts.

    The spare pence need no stable argsort of every cell by (service, key), only each service's threshold: the key
    at its rank `need` (`_first`), found in a plain sort (or a partition) of the keys' values. Cells keyed below it
    take the spare pence, and of those keyed equal to it, the first in LSOA order (`_untie`), as `split_pence`'s
    stable sort has it. The pence are then added up per atom, each set's columns being laid out atom by atom.

    `outside` (per service position, 0 for none): residents a service covers beyond the snapshot's areas, split
    with its LSOAs as one more row after them and then dropped, as `Context._apportion` does for a one-force
    snapshot; such a service goes through the split even with one atom.

    `ptr` (the rows' pointer array by service position) and `lsoas` (how many LSOAs each service covers, its
    atoms' sizes added up) may be passed when already worked out (`Prepared.atom_ptr`, `Prepared.lsoa_count`).
    """
    svc = np.asarray(svc, dtype=np.int64)
    atom = np.asarray(atom, dtype=np.int64)
    totals = np.asarray(totals, dtype=np.int64)
    if len(svc) == 0:
        return np.zeros(0, dtype=np.int64)
    n_svc = len(totals)
    if ptr is None:
        ptr = np.searchsorted(svc, np.arange(n_svc + 1, dtype=np.int64))  # `csr` of sorted rows, without a count
    n_atoms = np.diff(ptr)
    if lsoas is None:
        lsoas = _run_sums(np.asarray(atoms.size, dtype=np.int64)[atom], ptr)
    outside = np.zeros(n_svc) if outside is None else np.asarray(outside, dtype=float)
    beyond = outside > 0
    one = ((n_atoms == 1) & ~beyond) | (totals == 0)
    out = np.repeat(np.where(one, totals, 0), n_atoms)  # the split of a service adds back to its total
    split = np.flatnonzero(~one & (n_atoms > 0))
    if len(split) == 0:
        return out
    group = _block_groups(lsoas + beyond)  # a service's rows in `split_pence`: its LSOAs and the one outside

    outside = np.where(beyond, outside, 0.0)
    first, set_of = _coverage_sets(atom, ptr, split, outside)
    sets = _set_columns(split[first], atom, ptr, atoms, population, outside)

    width = np.diff(sets.ptr)
    k = np.bincount(set_of, minlength=len(first))
    matrix = (k >= MATRIX_SERVICES) & (k * width >= MATRIX_CELLS)
    in_matrix = matrix[set_of]
    work = _Scratch(chunk_size() + int(width.max()))  # a block of cells: `chunk_size()`, give or take one service
    if in_matrix.any():
        by_set = np.argsort(set_of[in_matrix], kind="stable")
        members = split[in_matrix][by_set]
        member_ptr = csr(set_of[in_matrix][by_set], len(first))
        for c in np.flatnonzero(matrix).tolist():
            _split_matrix(members[member_ptr[c]:member_ptr[c + 1]], c, sets, totals, group, ptr, out, work)
    if not in_matrix.all():
        _split_flat(split[~in_matrix], set_of[~in_matrix], sets, totals, group, ptr, out, work)
    return out


def _run_sums(values: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Sums of `values` over the runs ptr[i]:ptr[i + 1], which cover all of it (empty runs add up to 0)."""
    out = np.zeros(len(ptr) - 1, dtype=values.dtype)
    full = np.flatnonzero(ptr[1:] > ptr[:-1])
    if len(full):
        out[full] = np.add.reduceat(values, ptr[full])
    return out


def _coverage_sets(atom: np.ndarray, ptr: np.ndarray, split: np.ndarray,
                   outside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The coverage set of each service of `split`: (the index in `split` of each set's first service, the set of
    each service). Services share a set when they have the same atoms and the same residents outside, told apart
    by a sum of a random 64-bit key per atom, the sum of the atoms' numbers and their count."""
    key = np.random.default_rng(20261204).integers(0, 2**63, size=int(atom.max()) + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        keys = _run_sums(key[atom], ptr)[split]  # modulo 2**64
    columns = [keys, _run_sums(atom, ptr)[split].astype(np.uint64), np.diff(ptr)[split].astype(np.uint64),
               outside[split].view(np.uint64)]
    first, set_of = unique_rows(np.stack(columns, axis=1))
    return first, set_of.ravel()


@dataclass(frozen=True, eq=False)
class _Sets:
    """The columns of each coverage set (its LSOAs, and one for its residents outside if any), atom by atom."""

    ptr: np.ndarray  # the columns of set c are ptr[c]:ptr[c + 1]
    q: np.ndarray  # each column's share: its weight over the set's (as `_split_block` works it out)
    order: np.ndarray  # each column's LSOA (the residents outside numbered after every LSOA): `split_pence`'s
    #                    row order within a set
    seg_ptr: np.ndarray  # the runs of columns (the outside first, then the atoms) of set c: seg_ptr[c]:seg_ptr[c + 1]
    seg_start: np.ndarray  # each run's first column, counted from its set's first
    seg_rank: np.ndarray  # each run's atom's place among the set's atoms; -1 for the residents outside
    seg_size: np.ndarray  # columns in each run


def _set_columns(reps: np.ndarray, atom: np.ndarray, ptr: np.ndarray, atoms: Atoms, population: np.ndarray,
                 outside: np.ndarray) -> _Sets:
    """The columns of the sets whose first services are `reps`, with each column's share of the set's weight: the
    set's weights are clipped at 0 and added up in `split_pence`'s row order (LSOA order, the residents outside
    last), so the shares are the very floats `_split_block` gets; a set weighing nothing is shared equally."""
    n_sets = len(reps)
    r_which, r_rows = gather(ptr, reps)
    r_atom = atom[r_rows]
    out_sets = np.flatnonzero(outside[reps] > 0)
    n_out = len(out_sets)
    n_lsoa = len(atoms.of_lsoa)
    # Runs of columns: per set its residents outside (rank -1), then its atoms in order.
    seg_set = np.concatenate([out_sets, r_which])
    by_set = np.argsort(seg_set, kind="stable")
    seg_set = seg_set[by_set]
    seg_rank = np.concatenate([np.full(n_out, -1, dtype=np.int64), r_rows - ptr[reps][r_which]])[by_set]
    seg_size = np.concatenate([np.ones(n_out, dtype=np.int64), np.asarray(atoms.size, dtype=np.int64)[r_atom]])[by_set]
    # Where each run's columns are in `source`: an atom's LSOAs, or the set's residents outside (numbered after
    # the LSOAs, so they come last in LSOA order).
    source = np.concatenate([atoms.members, n_lsoa + np.arange(n_out, dtype=np.int64)])
    seg_src = np.concatenate([len(atoms.members) + np.arange(n_out, dtype=np.int64), atoms.ptr[r_atom]])[by_set]
    col_end = np.cumsum(seg_size)
    n_cols = int(col_end[-1]) if len(col_end) else 0
    col_lsoa = source[np.repeat(seg_src - (col_end - seg_size), seg_size) + np.arange(n_cols, dtype=np.int64)]
    col_set = np.repeat(seg_set, seg_size)
    seg_ptr = csr(seg_set, n_sets)
    set_ptr = np.concatenate([[0], col_end])[seg_ptr].astype(np.int64)
    # each weight clipped once, not once per column (the same floats: clipping commutes with picking)
    table = np.clip(np.concatenate([np.asarray(population, dtype=float), outside[reps[out_sets]]]), 0.0, None)
    w = table[col_lsoa]
    whole = bool((table == np.floor(table)).all())
    wsum = _set_sums(w, col_set, col_lsoa, n_sets, whole)
    at = wsum[col_set]
    equal = at <= 0
    if equal.any():
        w = np.where(equal, 1.0, w)
        wsum = _set_sums(w, col_set, col_lsoa, n_sets, whole)
        at = wsum[col_set]
    return _Sets(set_ptr, np.divide(w, at, out=at), col_lsoa, seg_ptr, (col_end - seg_size) - set_ptr[seg_set],
                 seg_rank, seg_size)


def _set_sums(w: np.ndarray, col_set: np.ndarray, col_lsoa: np.ndarray, n_sets: int,
              whole: bool = False) -> np.ndarray:
    """Per set, its columns' weights added up in LSOA order, as `_split_block`'s `bincount` adds its rows. Whole
    numbers (populations usually are) add up exactly in any order while the sums stay well below 2**53, so only
    fractional weights need the columns sorted into LSOA order first. `whole`: the weights are known to be whole
    numbers (the table they were picked from is)."""
    wsum = np.bincount(col_set, weights=w, minlength=n_sets)
    if (whole or (w == np.floor(w)).all()) and (wsum < 2.0**52).all():
        return wsum
    by_lsoa = np.argsort(col_set * (int(col_lsoa.max()) + 1) + col_lsoa)  # unique keys: (set, LSOA)
    return np.bincount(col_set[by_lsoa], weights=w[by_lsoa], minlength=n_sets)


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


class _Scratch:
    """Arrays a block of cells is worked in, reused from block to block: a new array of millions of floats costs
    more in first-touch page faults than the arithmetic done on it."""

    def __init__(self, size: int) -> None:
        self.floats = [np.empty(size) for _ in range(3)]
        self.flags = [np.empty(size, dtype=bool) for _ in range(2)]
        self.index = np.empty(size, dtype=np.int64)
        self.iota = np.arange(size, dtype=np.int64)

    def arrays(self, shape: tuple[int, ...]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        size = int(np.prod(shape))
        return [f[:size].reshape(shape) for f in self.floats], [b[:size].reshape(shape) for b in self.flags]


def _keys(key: np.ndarray, floor: np.ndarray, group: np.ndarray) -> None:
    """In place, `_split_block`'s arithmetic on cells: `key` holds the raw shares `total * q` on entry; on return
    `floor` holds their floors and `key` the sort keys `group + (1 - fraction) / 2` (the same float operations)."""
    np.floor(key, out=floor)
    key -= floor  # the fraction
    np.subtract(1.0, key, out=key)
    key *= 0.5
    key += group


def _first(left: np.ndarray, n: np.ndarray) -> np.ndarray:
    """How many of a service's cells come first in `split_pence`'s order and are told apart from the rest: with
    `left` > 0 spare pence, the first `left` get one more; with `left` < 0 (float error overshot), all but the
    first `n + left` get one less."""
    return np.where(left >= 0, np.minimum(left, n), np.maximum(n + left, 0))


def _untie(which: np.ndarray, order: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Of cells at their service's threshold key (`which` service, `order` their place in `split_pence`'s row
    order): the indices of those its stable sort puts after the first `keep[which]` of them, not picked after all."""
    by_row = np.lexsort((order, which))
    count = np.bincount(which, minlength=len(keep))
    rank = np.empty(len(which), dtype=np.int64)
    rank[by_row] = np.arange(len(which)) - (np.cumsum(count) - count)[which[by_row]]
    return np.flatnonzero(rank >= keep[which])


#: Rows at least this long find their threshold key by a partition each rather than in one sort of all the rows.
PARTITION_COLUMNS = 4096


def _split_matrix(members: np.ndarray, c: int, sets: _Sets, totals: np.ndarray, group: np.ndarray,
                  ptr: np.ndarray, out: np.ndarray, work: _Scratch) -> None:
    """The split of services sharing coverage set `c`: one row per service, one column per LSOA (atom by atom),
    a block of rows at a time; each row's pence added up per atom into `out` at the service's (service, atom) rows.

    A row's first `m` cells (`_first`) are those with keys below its `m`-th smallest key, and as many of those
    equal to it as `split_pence`'s stable sort takes, in row order."""
    cols = slice(sets.ptr[c], sets.ptr[c + 1])
    q, order = sets.q[cols], sets.order[cols]
    n = len(q)
    segs = slice(sets.seg_ptr[c], sets.seg_ptr[c + 1])
    seg_start, seg_rank, seg_size = sets.seg_start[segs], sets.seg_rank[segs], sets.seg_size[segs]
    atom_segs = seg_rank >= 0  # the residents outside are split with the rest, then dropped
    every = bool(atom_segs.all())
    rank = seg_rank[atom_segs][None, :]
    step = max(1, chunk_size() // max(n, 1))
    for i in range(0, len(members), step):
        svc = members[i:i + step]
        (key, floor, ranked), (picked, equal) = work.arrays((len(svc), n))
        total = totals[svc]
        np.multiply(total.astype(float)[:, None], q[None, :], out=key)
        _keys(key, floor, group[svc].astype(float)[:, None])
        left = total - floor.sum(axis=1).astype(np.int64)
        m = _first(left, n)
        threshold = np.full(len(svc), -np.inf)
        some = np.flatnonzero(m > 0)
        if n >= PARTITION_COLUMNS:
            for r in some.tolist():
                threshold[r] = np.partition(key[r], m[r] - 1)[m[r] - 1]
        elif len(some):
            np.copyto(ranked, key)
            ranked.sort(axis=1)
            threshold[some] = ranked[some, m[some] - 1]
        np.less_equal(key, threshold[:, None], out=picked)
        upto = np.count_nonzero(picked, axis=1)
        tied = np.flatnonzero(upto > m)
        if len(tied):
            np.equal(key, threshold[:, None], out=equal)
            which, col = np.nonzero(equal[tied])
            drop = _untie(which, order[col], m[tied] - upto[tied] + np.bincount(which, minlength=len(tied)))
            picked[tied[which[drop]], col[drop]] = False
        floor += picked
        pence = np.add.reduceat(floor, seg_start, axis=1).astype(np.int64)
        pence -= (left < 0)[:, None] * seg_size[None, :]
        out[ptr[svc][:, None] + rank] = pence if every else pence[:, atom_segs]


def _split_flat(members: np.ndarray, member_set: np.ndarray, sets: _Sets, totals: np.ndarray, group: np.ndarray,
                ptr: np.ndarray, out: np.ndarray, work: _Scratch) -> None:
    """The split of the other services (in position order): a row per (service, column of its set), in batches
    of about `chunk_size()` cells (each service's cells in a stretch of their own)."""
    n = np.diff(sets.ptr)[member_set]
    begin = np.cumsum(n) - n
    window = begin // chunk_size()
    cut = np.flatnonzero(np.r_[True, window[1:] != window[:-1]])
    for lo, hi in zip(cut.tolist(), np.r_[cut[1:], len(members)].tolist(), strict=True):
        _split_cells(members[lo:hi], member_set[lo:hi], sets, totals, group, ptr, out, work)


def _stretch_thresholds(key: np.ndarray, start: np.ndarray, n: np.ndarray, m: np.ndarray,
                        spare: np.ndarray) -> np.ndarray:
    """For each stretch `key[start[i]:start[i] + n[i]]`: its `m[i]`-th smallest value (-inf where `m[i]` <= 0;
    `m[i]` <= `n[i]`), what a sort of the stretch would put at `m[i] - 1`.

    One sort of a whole batch costs several times what sorting its stretches does one by one, so the stretches are
    sorted as the rows of a matrix, those of about the same length together (padded with +inf, which never comes
    before a key), and the longest found by a partition each. `spare` (at least as long as the longest stretch)
    holds the matrices."""
    threshold = np.full(len(n), -np.inf)
    rows = np.flatnonzero(m > 0)
    rows = rows[np.argsort(n[rows], kind="stable")]
    width = n[rows]
    lo = 0
    while lo < len(rows):
        w = int(width[lo])
        if w >= PARTITION_COLUMNS:
            for r in rows[lo:].tolist():
                k = int(m[r]) - 1
                threshold[r] = np.partition(key[start[r]:start[r] + n[r]], k)[k]
            break
        hi = int(np.searchsorted(width, max(w + (w >> 2), STRETCH_PAD), side="right"))
        w = int(width[hi - 1])
        hi = min(hi, lo + len(spare) // w)
        rr = rows[lo:hi]
        cols = np.arange(w, dtype=np.int64)
        block = spare[:len(rr) * w].reshape(len(rr), w)
        np.take(key, start[rr][:, None] + cols[None, :], out=block, mode="clip")
        block[cols[None, :] >= n[rr][:, None]] = np.inf
        block.sort(axis=1)
        threshold[rr] = block[np.arange(len(rr)), m[rr] - 1]
        lo = hi
    return threshold


#: Stretches up to this long are sorted in one matrix (`_stretch_thresholds`), longer ones with others within a
#: quarter of their length.
STRETCH_PAD = 16


def _split_cells(members: np.ndarray, member_set: np.ndarray, sets: _Sets, totals: np.ndarray, group: np.ndarray,
                 ptr: np.ndarray, out: np.ndarray, work: _Scratch) -> None:
    """One batch of `_split_flat`: a row per cell, each service's in a stretch."""
    n = sets.ptr[member_set + 1] - sets.ptr[member_set]
    end = np.cumsum(n)
    start = end - n
    size = int(end[-1])
    (key, floor, spare), (picked, equal) = work.arrays((size,))
    row = np.repeat(np.arange(len(members), dtype=np.int64), n)
    col = np.take(sets.ptr[member_set] - start, row, out=work.index[:size], mode="clip")
    col += work.iota[:size]
    total = totals[members]
    np.take(sets.q, col, out=key, mode="clip")
    key *= np.take(total.astype(float), row, out=spare, mode="clip")
    _keys(key, floor, np.take(group[members].astype(float), row, out=spare, mode="clip"))
    left = total - np.add.reduceat(floor, start).astype(np.int64)
    m = _first(left, n)
    threshold = _stretch_thresholds(key, start, n, m, spare)
    at_threshold = np.take(threshold, row, out=spare, mode="clip")
    np.less_equal(key, at_threshold, out=picked)
    upto = np.add.reduceat(picked, start, dtype=np.int64)  # every stretch holds a cell at least
    tied = (m > 0) & (upto > m)
    if tied.any():
        cell = np.flatnonzero(np.equal(key, at_threshold, out=equal))
        which = row[cell]
        cell, which = cell[tied[which]], which[tied[which]]
        drop = _untie(which, sets.order[col[cell]], m - upto + np.bincount(which, minlength=len(members)))
        picked[cell[drop]] = False
    floor += picked
    which, seg = gather(sets.seg_ptr, member_set)
    first = start[which] + sets.seg_start[seg]
    pence = np.add.reduceat(floor, first).astype(np.int64)  # every run holds a cell at least
    pence -= (left < 0)[which] * sets.seg_size[seg]
    rank = sets.seg_rank[seg]
    keep = rank >= 0  # the residents outside are split with the rest, then dropped
    out[ptr[members][which[keep]] + rank[keep]] = pence[keep]
