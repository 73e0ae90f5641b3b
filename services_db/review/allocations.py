"""Where a fund's money went, area by area: the common ground of the inequity view and the fair-share view.

An allocation names the areas it is for (`area_codes`, at any level); one with none is for the whole force. Its
money is shared over the LSOAs of those areas by population and then added up to districts or areas.

What is money, at the as-at date (review.md v2, "What counts, at a date"; one rule, `services_db.counting`):

- Only **awarded** and **paid** allocations are money. An application (`applied`) is pipeline: it is reported
  apart (`Placed.applied`), never placed in an area. `withdrawn` is nothing. A breakdown line under an
  allocation that is not money is not money either.
- A fund whose period starts after the date, or an allocation whose planned start is after it, is **future**
  money (`Placed.future`): not money received, and not "received nothing" either. One whose period (the fund's
  or its own planned period) ended before the date is **past** money: history, left out of the view at that date
  (a 2013-14 fund is not who-got-what in July 2016).
- **Each pound once.** Breakdowns (rows with a `parent_allocation_id`, such as the lines under "LCC 12 area CSP
  fund" in seed 002, or the district CSP grants inside its £120,000 "allocation to Community Safety P'ships") are
  never counted on top of their parent. Each top-level allocation's amount is passed down its tree: children get
  their own amounts (scaled down pro rata if they add up to more than the parent), a parent keeps any remainder,
  and a child with no areas of its own inherits its parent's. So a breakdown can place money more precisely than
  its parent while the fund total stays the sum of top-level amounts.
- Money whose split over its areas the source does not give (`areas_are_estimate`, inherited by a child that
  inherits its parent's areas) is still placed by population, so totals add up, but the units it reaches are
  marked (`Placed.estimated`): the inequity view reports them as "not broken down", not as received or nothing.
- A fund may be open to some areas only (`funds.eligible_area_codes`; none means the whole force, and over
  several forces the forces its allocations reach):
  `Placed.eligible` marks the units open to it.

How it is worked out. The figures are those of the plain rule, to the last bit: each allocation's money spread
over its LSOAs (`apportion.spread`: money x residents / the allocation's residents, the residents added LSOA by
LSOA in LSOA order), and each unit's total the running sum of its LSOAs' money, allocation by allocation and
within one in LSOA order. A unit's total is not its share of the allocation (x / s + y / s is not (x + y) / s in
floating point), so nothing is added up by district first. But no list of (allocation, LSOA) rows is needed
either (31 million for a national review's 500 funds): an allocation reaches a unit either wholly (a district or
coarser code, or none) or in part (LSOA codes, or a district at area level), so `place_funds` works per
(allocation, unit) pair, all the funds of a review at once: the pairs of one (fund, unit) in a row, one row per
(fund, unit), each pair's money over the unit's LSOAs (those it does not reach zero, and a zero changes no sum),
and every row summed by one accumulation (`cumsum`, which adds strictly in order, unlike `sum`). An allocation's
residents come from its areas' own totals, or for several areas from their LSOAs merged in order
(`_spread_sums`). At LSOA level each pair is an LSOA row, added up the plain way.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from services_db.counting import allocation_tree_is_money, fund_is_future, fund_is_past
from services_db.hierarchy import walk_up
from services_db.review.context import Context, csr, dates, flags, gather, ids, texts, tuples
from services_db.review.geography import chunk_size, group_blocks

_MAX_DEPTH = 16


@dataclass(frozen=True, eq=False)
class Placed:
    """A fund's money by unit of a level at a date, what could not be placed, and what is not money yet."""

    amount: np.ndarray  # per unit of the level: money placed there
    reached: np.ndarray  # per unit: did any money name (part of) it
    total: float  # sum of top-level money amounts (the fund's allocated total at the date)
    unplaced: float
    n_allocations: int  # top-level allocations that are money at the date
    is_estimate: bool  # an amount or a placement is an estimate
    eligible: np.ndarray = field(default=None)  # per unit: open to the fund
    estimated: np.ndarray = field(default=None)  # per unit: reached by money whose split the source does not give
    firm: np.ndarray = field(default=None)  # per unit: reached by money the source places there
    estimated_amount: float = 0.0  # money placed by an estimated split
    applied: float = 0.0  # top-level applications: pipeline, not money
    n_applied: int = 0
    future: float = 0.0  # top-level awards whose period starts after the date

    def __post_init__(self) -> None:
        n = len(self.amount)
        if self.eligible is None:
            object.__setattr__(self, "eligible", np.ones(n, dtype=bool))
        if self.estimated is None:
            object.__setattr__(self, "estimated", np.zeros(n, dtype=bool))
        if self.firm is None:
            object.__setattr__(self, "firm", self.reached & ~self.estimated)


def _parsed(ctx: Context) -> dict:
    """All allocations as arrays, once per prepared data."""
    cache = ctx.prep.cache
    if "allocations" not in cache:
        a = ctx.data.allocations
        f = ctx.data.funds
        fund = texts(a["fund_key"])
        starts = pd.Series(dates(f["start_date"]), index=texts(f["fund_key"]), dtype="datetime64[ns]")
        starts = starts[~starts.index.duplicated()]
        ends = pd.Series(dates(f["end_date"]), index=texts(f["fund_key"]), dtype="datetime64[ns]")
        ends = ends[~ends.index.duplicated()]
        status = texts(a["status"], "awarded")
        cache["allocations"] = {
            "fund": fund, "id": ids(a["allocation_id"]), "parent_id": ids(a["parent_allocation_id"]),
            "amount": pd.to_numeric(a["amount"], errors="coerce").fillna(0.0).to_numpy(dtype=float),
            "codes": tuples(a["area_codes"]), "is_estimate": flags(a["is_estimate"]),
            "areas_are_estimate": flags(a["areas_are_estimate"]),
            "status": np.array([s.strip().lower() or "awarded" for s in status.tolist()], dtype=object),
            "money": allocation_tree_is_money(a["allocation_id"], a["parent_allocation_id"], status),
            "start": dates(a["planned_start"]), "end": dates(a["planned_end"]),
            "fund_start": starts.reindex(fund).to_numpy(dtype="datetime64[ns]"),  # NaT for an unknown fund
            "fund_end": ends.reindex(fund).to_numpy(dtype="datetime64[ns]"),
            "by_fund": {str(k): np.asarray(v, dtype=np.int64)
                        for k, v in pd.Series(np.arange(len(fund))).groupby(fund, sort=False).groups.items()},
        }
    return cache["allocations"]


def _future(ctx: Context) -> np.ndarray:
    """Per allocation: its fund's period, or its own planned period, starts after the as-at date."""
    if "alloc_future" not in ctx.cache:
        a = _parsed(ctx)
        ctx.cache["alloc_future"] = fund_is_future(a["fund_start"], ctx.as_at) | fund_is_future(a["start"], ctx.as_at)
    return ctx.cache["alloc_future"]


def _past(ctx: Context) -> np.ndarray:
    """Per allocation: its fund's period, or its own planned period, ended before the as-at date. A 2013-14 award
    is history in July 2016: it neither reaches an area then nor leaves one with "nothing"."""
    if "alloc_past" not in ctx.cache:
        a = _parsed(ctx)
        ctx.cache["alloc_past"] = fund_is_past(a["fund_end"], ctx.as_at) | fund_is_past(a["end"], ctx.as_at)
    return ctx.cache["alloc_past"]


def counted(ctx: Context) -> np.ndarray:
    """Per allocation: money at the as-at date (awarded or paid, its tree too, not future and not past)."""
    if "alloc_counted" not in ctx.cache:
        ctx.cache["alloc_counted"] = _parsed(ctx)["money"] & ~_future(ctx) & ~_past(ctx)
    return ctx.cache["alloc_counted"]


def fund_eligible(ctx: Context, fund_key: str, level: str) -> np.ndarray:
    """Per unit of `level`: is it open to the fund (has an LSOA under one of its eligible areas). A fund with no
    eligible areas recorded is open to the whole force; over several forces (the national review), to the forces
    its allocations reach: a force's community safety fund is not open to the other 42 forces' districts, and
    listing those as "received nothing" would be a false claim."""
    key = ("fund_eligible", str(fund_key), level)
    cache = ctx.prep.cache
    if key not in cache:
        units = ctx.geo.units(level)
        codes = _eligible_codes(ctx).get(str(fund_key), ()) or _home_forces(ctx, str(fund_key))
        if not codes:
            out = np.ones(len(units), dtype=bool)
        else:
            unit = units.of_lsoa[ctx.geo.lsoas_under(list(codes))]
            out = np.bincount(unit[unit >= 0], minlength=len(units)) > 0
        cache[key] = out
    return cache[key]


def _home_forces(ctx: Context, fund_key: str) -> tuple[str, ...]:
    """The forces a fund's allocations (any status, any date) name areas in, when the snapshot holds several
    forces; () for one force (the whole force is its home) or a fund with no allocation in a known area."""
    forces = ctx.geo.units("force")
    if len(forces) < 2:
        return ()
    a = _parsed(ctx)
    rows = a["by_fund"].get(fund_key, np.empty(0, dtype=np.int64))
    codes = [c for r in rows.tolist() for c in a["codes"][r]]
    unit = ctx.geo.unit_of_areas("force", ctx.geo.positions(codes)) if codes else np.empty(0, dtype=np.int64)
    return tuple(forces.codes[np.unique(unit[unit >= 0])].tolist())


def _eligible_codes(ctx: Context) -> dict[str, tuple]:
    cache = ctx.prep.cache
    if "fund_eligible_codes" not in cache:
        f = ctx.data.funds
        cache["fund_eligible_codes"] = dict(zip(texts(f["fund_key"]).tolist(), tuples(f["eligible_area_codes"]),
                                                strict=True))
    return cache["fund_eligible_codes"]


def fund_rows(ctx: Context, fund_key: str, allocation_ids: tuple[int, ...] | None = None) -> np.ndarray:
    """Row numbers of the fund's allocations (optionally only the listed ones and their breakdowns)."""
    a = _parsed(ctx)
    rows = a["by_fund"].get(str(fund_key), np.empty(0, dtype=np.int64))
    if allocation_ids is None or len(rows) == 0:
        return rows
    own, parent = a["id"][rows], a["parent_id"][rows]
    where = {int(x): i for i, x in enumerate(own.tolist())}
    pos = np.array([where.get(int(p), -1) for p in parent.tolist()], dtype=np.int64)
    listed = np.asarray(list(allocation_ids), dtype=np.int64)
    wanted = np.isin(own, listed)
    for who, above in itertools.islice(walk_up(pos, _MAX_DEPTH + 1), 1, None):  # keep breakdowns of a wanted one
        wanted[who] |= np.isin(own[above], listed)
    return rows[wanted]


def place_fund(ctx: Context, fund_key: str, level: str, allocation_ids: tuple[int, ...] | None = None) -> Placed:
    """The fund's money at the context's date per unit of `level` (see the module docstring); kept with the
    prepared data, keyed by which of the fund's allocations are money at the date (most dates share it)."""
    return place_funds(ctx, [fund_key], level, allocation_ids)[0]


def place_funds(ctx: Context, fund_keys: list[str], level: str,
                allocation_ids: tuple[int, ...] | None = None) -> list[Placed]:
    """`place_fund` for several funds, those not kept yet placed together (a national review places 500 funds:
    one pass over all their allocations, not 500)."""
    ids_key = tuple(allocation_ids) if allocation_ids is not None else None
    cache = ctx.prep.cache
    is_counted, is_future, is_past = counted(ctx), _future(ctx), _past(ctx)
    out: list[Placed | None] = []
    todo: list[tuple] = []
    for fund_key in fund_keys:
        rows = fund_rows(ctx, fund_key, ids_key)
        live, future = is_counted[rows], is_future[rows]
        key = ("place_fund", str(fund_key), level, ids_key, live.tobytes(), future.tobytes(),
               is_past[rows].tobytes())
        out.append(cache.get(key))
        if out[-1] is None:
            todo.append((len(out) - 1, key, _Job(str(fund_key), rows, live, future)))
    if todo:
        weight = _segment_estimate(ctx, level)
        jobs = [job for _, _, job in todo]
        sizes = np.array([int(weight[job.rows].sum()) for job in jobs], dtype=np.int64)
        batch = chunk_size() // _LSOA_BATCH if level == "lsoa" else _BATCH * chunk_size()
        for block in group_blocks(np.arange(len(jobs)), max(batch, 1), sizes):
            for (i, key, _), placed in zip(todo[block], _place(ctx, level, jobs[block]), strict=True):
                cache[key] = out[i] = placed
    return out


@dataclass(frozen=True, eq=False)
class _Job:
    fund_key: str
    rows: np.ndarray  # the fund's allocation rows
    live: np.ndarray  # per row: money at the date
    future: np.ndarray  # per row: starts after the date


#: Terms worked out at once in the per-unit sums (small enough to stay in the processor's cache).
_CELLS = 1 << 18
#: Funds are placed together while their (allocation, unit) pairs stay under this many blocks of `chunk_size()`;
#: at LSOA level, where each pair is a row of its own, under this fraction of one (a few funds, in the cache).
_BATCH = 2
_LSOA_BATCH = 8


def _codes(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per allocation row: its area codes' positions in the hierarchy (a pointer array and the positions, -1 for an
    unknown code) and how many codes it names (none: the whole force)."""
    cache = ctx.prep.cache
    if "allocation_codes" not in cache:
        codes = _parsed(ctx)["codes"]
        lens = np.fromiter((len(c) for c in codes), dtype=np.int64, count=len(codes))
        pos = ctx.geo.positions([c for t in codes for c in t]) if lens.sum() else np.empty(0, dtype=np.int64)
        cache["allocation_codes"] = (np.concatenate([[0], np.cumsum(lens)]).astype(np.int64), pos, lens)
    return cache["allocation_codes"]


def _weights(ctx: Context) -> np.ndarray:
    """Per LSOA: the weight `spread` gives it (its residents, clipped at zero)."""
    return np.clip(np.asarray(ctx.geo.population, dtype=float), 0.0, None)


def _spread_sums(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Per allocation row: the weight of the LSOAs its own codes name (all of them for none), added LSOA by LSOA in
    LSOA order as `spread` adds a group's weights, and how many LSOAs that is.

    One code: the area's own sum (its LSOAs are stored in LSOA order, and added so). Several: the union of their
    LSOAs, as runs of consecutive LSOAs merged in order, added LSOA by LSOA; or run by run from a running total
    when every weight is a whole number and all of them add up to less than 2**53, since then every partial sum
    is exact and the order cannot change the result."""
    cache = ctx.prep.cache
    if "allocation_spread_sums" not in cache:
        geo = ctx.geo
        ptr, pos, lens = _codes(ctx)
        n = len(lens)
        w = _weights(ctx)
        n_areas = len(geo.codes)
        area_size = np.diff(geo.ptr)
        area_sum = np.bincount(np.repeat(np.arange(n_areas), area_size), weights=w[geo.members], minlength=n_areas)
        total = np.zeros(n)
        size = np.zeros(n, dtype=np.int64)
        whole = lens == 0
        total[whole] = np.bincount(np.zeros(geo.n_lsoa, dtype=np.int64), weights=w, minlength=1)[0]
        size[whole] = geo.n_lsoa
        row = np.repeat(np.arange(n, dtype=np.int64), lens)
        known = pos >= 0
        known[known] = area_size[pos[known]] > 0  # a code with no LSOAs under it places nothing
        row, pos = row[known], pos[known]
        if len(row):
            first = np.full(n, np.iinfo(np.int64).max)
            last = np.full(n, -1)
            starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
            first[row[starts]] = np.minimum.reduceat(pos, starts)
            last[row[starts]] = np.maximum.reduceat(pos, starts)
            one = (first == last) & (last >= 0)
            total[one] = area_sum[last[one]]
            size[one] = area_size[last[one]]
            several = np.isin(row, np.flatnonzero((first != last) & (last >= 0)))
            if several.any():
                _union_sums(ctx, row[several], pos[several], w, total, size)
        cache["allocation_spread_sums"] = (total, size)
    return cache["allocation_spread_sums"]


def _union_sums(ctx: Context, row: np.ndarray, pos: np.ndarray, w: np.ndarray, total: np.ndarray,
                size: np.ndarray) -> None:
    """`_spread_sums` for rows naming several areas ((row, area) pairs, sorted by row): fills `total` and `size`."""
    geo = ctx.geo
    run_ptr, run_start, run_end = _runs(ctx)
    which, at = gather(run_ptr, pos)
    r = row[which]
    span = geo.n_lsoa + 1  # runs of different rows never touch once offset by row
    start, end = run_start[at] + r * span, run_end[at] + r * span
    order = np.lexsort((start, r))
    r, start, end = r[order], start[order], end[order]
    reach = np.maximum.accumulate(end)
    new = np.r_[True, start[1:] > reach[:-1]]  # a run beyond all before it starts a merged run
    lo = start[new]
    hi = reach[np.r_[np.flatnonzero(new)[1:] - 1, len(new) - 1]]
    owner = r[new]
    lo, hi = lo - owner * span, hi - owner * span
    rows = np.unique(owner)
    size[rows] = np.bincount(owner, weights=hi - lo, minlength=len(size)).round().astype(np.int64)[rows]
    exact = bool(np.all(w == np.floor(w))) and float(w.sum()) < 2.0**53
    if exact:
        prefix = np.concatenate([[0.0], np.cumsum(w)])
        total[rows] = np.bincount(owner, weights=prefix[hi] - prefix[lo], minlength=len(total))[rows]
        return
    length = hi - lo
    lsoa = np.repeat(lo - (np.cumsum(length) - length), length) + np.arange(int(length.sum()), dtype=np.int64)
    total[rows] = np.bincount(np.repeat(owner, length), weights=w[lsoa], minlength=len(total))[rows]


def _runs(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each area's LSOAs as runs of consecutive LSOA numbers: (pointer array by area, run starts, run ends)."""
    cache = ctx.prep.cache
    if "area_runs" not in cache:
        geo = ctx.geo
        members = geo.members
        cut = np.zeros(len(members), dtype=bool)
        cut[geo.ptr[:-1][np.diff(geo.ptr) > 0]] = True
        cut[1:] |= members[1:] != members[:-1] + 1
        begin = np.flatnonzero(cut)
        stop = np.r_[begin[1:], len(members)]
        area = np.repeat(np.arange(len(geo.codes), dtype=np.int64), np.diff(geo.ptr))
        cache["area_runs"] = (csr(area[begin], len(geo.codes)), members[begin], members[stop - 1] + 1)
    return cache["area_runs"]


def _layout(ctx: Context, level: str) -> dict[str, np.ndarray]:
    """The units of `level` as the placement reads them: each unit's LSOAs (in LSOA order, with their weights), and
    for each area the units it reaches, whether all of each one (`pair_full`) and if not which of its LSOAs."""
    key = ("allocation_layout", level)
    cache = ctx.prep.cache
    if key not in cache:
        geo = ctx.geo
        units = geo.units(level)
        n_units = max(len(units), 1)
        of = units.of_lsoa
        inside = np.flatnonzero(of >= 0)
        by_unit = inside[np.argsort(of[inside], kind="stable")]
        uptr = csr(of[by_unit], len(units))
        col = np.full(geo.n_lsoa, -1, dtype=np.int64)
        col[by_unit] = np.arange(len(by_unit), dtype=np.int64) - uptr[of[by_unit]]
        n_areas = len(geo.codes)
        member_area = np.repeat(np.arange(n_areas, dtype=np.int64), np.diff(geo.ptr))
        member_unit = of[geo.members]
        ok = member_unit >= 0
        pair_key = member_area[ok] * n_units + member_unit[ok]
        order = np.argsort(pair_key, kind="stable")
        pair_key = pair_key[order]
        starts = np.flatnonzero(np.r_[True, pair_key[1:] != pair_key[:-1]]) if len(pair_key) else pair_key
        count = np.diff(np.r_[starts, len(pair_key)])
        pair_unit = pair_key[starts] % n_units
        cache[key] = {
            "uptr": uptr, "uweight": _weights(ctx)[by_unit], "col": col,
            "pair_ptr": csr(pair_key[starts] // n_units, n_areas), "pair_unit": pair_unit,
            "pair_full": count == np.diff(uptr)[pair_unit], "pair_mptr": np.r_[0, np.cumsum(count)].astype(np.int64),
            "pair_lsoa": geo.members[ok][order], "nonempty": np.flatnonzero(np.diff(uptr) > 0),
        }
        # an area reaching part of a unit: which of the unit's LSOAs (as a row of its width, from `pair_moff`)
        n_lsoas = np.diff(uptr)
        part = np.flatnonzero(~cache[key]["pair_full"])
        span = np.where(cache[key]["pair_full"], 0, n_lsoas[pair_unit])
        offset = np.concatenate([[0], np.cumsum(span)]).astype(np.int64)
        which, member = gather(cache[key]["pair_mptr"], part)
        mask = np.zeros(int(offset[-1]), dtype=bool)
        mask[offset[part][which] + col[cache[key]["pair_lsoa"][member]]] = True
        cache[key].update(pair_moff=offset[:-1], pair_mask=mask)
        # the units of each size, with their LSOAs' weights as one matrix per size, and each unit's row in it
        slot = np.zeros(len(units), dtype=np.int64)
        matrices = {}
        for width in np.unique(n_lsoas[n_lsoas > 0]).tolist():
            same = np.flatnonzero(n_lsoas == width)
            slot[same] = np.arange(len(same))
            matrices[width] = cache[key]["uweight"][uptr[same][:, None] + np.arange(width)[None, :]]
        cache[key].update(slot=slot, matrices=matrices)
    return cache[key]


def _segment_estimate(ctx: Context, level: str) -> np.ndarray:
    """Per allocation row: how many (allocation, unit) pairs its own codes make (to cut a batch of funds)."""
    key = ("allocation_segments", level)
    cache = ctx.prep.cache
    if key not in cache:
        ptr, pos, lens = _codes(ctx)
        lay = _layout(ctx, level)
        per_code = np.where(pos >= 0, np.diff(lay["pair_ptr"])[np.maximum(pos, 0)], 0)
        n = np.bincount(np.repeat(np.arange(len(lens)), lens), weights=per_code, minlength=len(lens))
        cache[key] = np.where(lens == 0, len(lay["nonempty"]), n.round().astype(np.int64))
    return cache[key]


def _parents(a: dict, rows: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Each row's parent among the rows of its own fund (a position in `rows`, -1 for a top-level allocation): the
    last row of the fund with that id, as a dict from id to row gives; never itself."""
    n = len(rows)
    parent = np.full(n, -1, dtype=np.int64)
    own, pid = a["id"][rows], a["parent_id"][rows]
    maybe = np.isin(pid, own)  # names an allocation of some fund: look within its own
    if not maybe.any():
        return parent
    job = np.repeat(np.arange(len(start) - 1, dtype=np.int64), np.diff(start))
    for j in sorted(set(job[maybe].tolist())):
        s, e = int(start[j]), int(start[j + 1])
        where = {int(x): i for i, x in enumerate(own[s:e].tolist())}
        p = np.array([where.get(int(x), -1) for x in pid[s:e].tolist()], dtype=np.int64)
        p[p == np.arange(e - s)] = -1
        parent[s:e] = np.where(p >= 0, p + s, -1)
    return parent


def _place(ctx: Context, level: str, jobs: list[_Job]) -> list[Placed]:
    """Several funds' placements in one pass (see the module docstring for what is money, where it goes and how
    the sums are kept to the last bit): the allocation trees, each allocation's piece and residents, then
    `_per_unit`."""
    a = _parsed(ctx)
    units = ctx.geo.units(level)
    n_units = len(units)
    lens = np.array([len(job.rows) for job in jobs], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    n = int(start[-1])
    rows = np.concatenate([job.rows for job in jobs]).astype(np.int64) if n else np.empty(0, dtype=np.int64)
    job = np.repeat(np.arange(len(jobs), dtype=np.int64), lens)
    live = np.concatenate([job.live for job in jobs]) if n else np.empty(0, dtype=bool)
    future = np.concatenate([job.future for job in jobs]) if n else np.empty(0, dtype=bool)

    # The allocation trees: each pound once (`parent` indexes the batch; breakdowns stay within their fund).
    parent = _parents(a, rows, start)
    amount = np.where(live, a["amount"][rows], 0.0)  # what is not money at the date counts for nothing
    depth = np.zeros(n, dtype=np.int64)
    for who, _ in itertools.islice(walk_up(parent, _MAX_DEPTH + 1), 1, None):  # its parent, grandparent, ...
        depth[who] += 1
    parent[depth >= _MAX_DEPTH] = -1  # a cycle: treat as top level
    depth[depth >= _MAX_DEPTH] = 0

    top = parent < 0
    status = a["status"][rows]
    raw = a["amount"][rows]
    past = _past(ctx)[rows]
    applied_rows = top & (status == "applied") & ~past
    future_rows = top & a["money"][rows] & future

    _, _, own_codes = _codes(ctx)
    source = rows.copy()  # whose codes each allocation uses: its own, or its parent's when it names none
    split_estimated = a["areas_are_estimate"][rows].copy()
    value = np.where(top, amount, 0.0)
    children_sum = np.bincount(parent[~top], weights=amount[~top], minlength=n)
    for d in range(1, int(depth.max(initial=0)) + 1):
        at = np.flatnonzero(depth == d)
        p = parent[at]
        scale = np.where(children_sum[p] > value[p], value[p] / np.where(children_sum[p] > 0, children_sum[p], 1), 1)
        value[at] = amount[at] * scale
        inherit = own_codes[rows[at]] == 0
        source[at[inherit]] = source[p[inherit]]
        split_estimated[at[inherit]] |= split_estimated[p[inherit]]
    placed_children = np.bincount(parent[~top], weights=value[~top], minlength=n)
    piece = np.maximum(value - placed_children, 0.0)  # what stays at each node (all of a leaf's value)

    wsum, size = (x[source] for x in _spread_sums(ctx))
    has = size > 0
    equal = wsum <= 0  # `spread`: no residents, so equal shares
    money, reached, estimated, firm = _per_unit(ctx, level, job, source, piece, np.where(equal, size, wsum),
                                                equal, split_estimated, len(jobs))
    is_estimate = a["is_estimate"][rows] & live
    out = []
    for i, fund in enumerate(jobs):
        eligible = fund_eligible(ctx, fund.fund_key, level)
        s, e = int(start[i]), int(start[i + 1])
        if s == e:
            nothing = np.zeros(n_units, dtype=bool)
            out.append(Placed(np.zeros(n_units), nothing, 0.0, 0.0, 0, False, eligible, nothing))
            continue
        f, u = slice(s, e), slice(i * n_units, (i + 1) * n_units)
        f_piece, f_has, f_split, f_top = piece[f], has[f], split_estimated[f], top[f]
        out.append(Placed(
            money[u].copy(), reached[u].copy(), float(amount[f][f_top].sum()), float(f_piece[~f_has].sum()),
            int((f_top & live[f]).sum()), bool(is_estimate[f].any() or (f_split & (f_piece > 0)).any()),
            eligible, estimated[u].copy(), firm[u].copy(), float(f_piece[f_split & f_has].sum()),
            float(raw[f][applied_rows[f]].sum()), int(applied_rows[f].sum()), float(raw[f][future_rows[f]].sum())))
    return out


def _per_unit(ctx: Context, level: str, job: np.ndarray, source: np.ndarray, piece: np.ndarray, wsum: np.ndarray,
              equal: np.ndarray, split_estimated: np.ndarray, n_jobs: int) -> tuple[np.ndarray, ...]:
    """Per (fund, unit), flattened: the money placed there and whether money reached it, money whose split is an
    estimate, money the source places. Allocation `k` (of fund `job[k]`, with the codes of row `source[k]`) puts
    `piece[k] * weight / wsum[k]` on each of its LSOAs (weight 1 where `equal`), as `spread` does, and each unit
    adds its LSOAs' money allocation by allocation, LSOA by LSOA, as the LSOA-by-LSOA placement did."""
    lay = _layout(ctx, level)
    n_units = len(ctx.geo.units(level))
    money = np.zeros(n_jobs * n_units)
    reached, estimated, firm = (np.zeros(n_jobs * n_units, dtype=bool) for _ in range(3))
    go = np.flatnonzero(piece != 0)  # a zero adds nothing to any sum
    if n_units == 0 or len(go) == 0:
        return money, reached, estimated, firm
    ptr, pos, lens = _codes(ctx)
    whole = lens[source[go]] == 0
    everywhere, named = go[whole], go[~whole]
    which, at = gather(ptr, source[named])
    if level == "lsoa":  # a unit per LSOA: the (allocation, LSOA) rows themselves, as many as segments would be
        k, lsoa = ctx.geo.expand(named[which], pos[at])  # by allocation, then LSOA, each once
        if len(everywhere):
            every = np.arange(ctx.geo.n_lsoa, dtype=np.int64)
            order = np.argsort(np.concatenate([k, np.repeat(everywhere, len(every))]), kind="stable")
            k = np.concatenate([k, np.repeat(everywhere, len(every))])[order]
            lsoa = np.concatenate([lsoa, np.tile(every, len(everywhere))])[order]
        cell = job[k] * n_units + lsoa
        w = np.where(equal[k], 1.0, _weights(ctx)[lsoa])
        money[:] = np.bincount(cell, weights=(piece[k] * w) / wsum[k], minlength=len(money))
        paid = piece[k] > 0
        reached[cell[paid]] = True
        estimated[cell[paid & split_estimated[k]]] = True
        firm[cell[paid & ~split_estimated[k]]] = True
        return money, reached, estimated, firm
    known = pos[at] >= 0
    which, code = which[known], pos[at][known]
    by_code, pair = gather(lay["pair_ptr"], code)
    nonempty = lay["nonempty"]
    # (allocation, unit) segments, from each code's units and whether it covers each one whole
    seg_alloc = np.concatenate([named[which][by_code], np.repeat(everywhere, len(nonempty))])
    seg_unit = np.concatenate([lay["pair_unit"][pair], np.tile(nonempty, len(everywhere))])
    seg_pair = np.concatenate([pair, np.full(len(everywhere) * len(nonempty), -1, dtype=np.int64)])
    seg_whole = np.concatenate([lay["pair_full"][pair], np.ones(len(everywhere) * len(nonempty), dtype=bool)])
    key = seg_alloc * n_units + seg_unit
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.r_[True, key[1:] != key[:-1]]
    part_of = np.empty(len(order), dtype=np.int64)  # each (allocation, code, unit) row's segment
    part_of[order] = np.cumsum(first) - 1
    k, unit = key[first] // n_units, key[first] % n_units
    n_seg = len(k)
    full = np.bincount(part_of, weights=seg_whole, minlength=n_seg) > 0

    cell = job[k] * n_units + unit
    paid = piece[k] > 0
    reached[cell[paid]] = True
    estimated[cell[paid & split_estimated[k]]] = True
    firm[cell[paid & ~split_estimated[k]]] = True

    # A unit of one LSOA: a segment there is one term, and the terms add up in allocation order as the rows did.
    n_lsoas = np.diff(lay["uptr"])
    one = n_lsoas[unit] == 1
    if one.any():
        k1 = k[one]
        w1 = np.where(equal[k1], 1.0, lay["uweight"][lay["uptr"][unit[one]]])
        money[:] = np.bincount(cell[one], weights=(piece[k1] * w1) / wsum[k1], minlength=len(money))
    # The rest by unit size, then (fund, unit), then allocation (they are by allocation already; the sort is
    # stable): a (fund, unit)'s sum runs over consecutive segments.
    rest = np.flatnonzero(~one)
    if len(rest) == 0:
        return money, reached, estimated, firm
    order = rest[np.argsort(n_lsoas[unit[rest]] * (n_jobs * n_units) + cell[rest], kind="stable")]
    n_seg = len(order)
    partial = np.flatnonzero((~full & ~one)[part_of])  # (allocation, code, unit) rows reaching part of a unit
    k, unit, cell, full = k[order], unit[order], cell[order], full[order]
    rank = np.full(len(one), -1, dtype=np.int64)
    rank[order] = np.arange(n_seg, dtype=np.int64)
    # A segment that reaches part of its unit: the areas that reach part of it, by the segment's place in `order`.
    part_at = rank[part_of[partial]]
    o = np.argsort(part_at, kind="stable")
    part_ptr, part_pair = csr(part_at[o], n_seg), seg_pair[partial][o]
    pair_moff, pair_mask = lay["pair_moff"], lay["pair_mask"]

    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])  # where each (fund, unit) begins
    counts = np.diff(np.r_[starts, n_seg])
    size = n_lsoas[unit[starts]]
    bounds = np.flatnonzero(np.r_[True, size[1:] != size[:-1]]).tolist() + [len(starts)]
    some_equal = bool(equal[k].any())
    for b0, b1 in zip(bounds[:-1], bounds[1:], strict=True):
        width = int(size[b0])
        some_partial = bool(np.any(~full[starts[b0]:starts[b1 - 1] + counts[b1 - 1]]))
        by_count = b0 + np.argsort(-counts[b0:b1], kind="stable")  # longest first: the live ones are a prefix
        first, n_parts = starts[by_count], counts[by_count]
        ascending = n_parts[::-1]
        weights = lay["matrices"][width][lay["slot"][unit[first]]]  # (fund, unit) x its unit's LSOAs
        acc = np.zeros(len(by_count))
        step = max(1, _CELLS // (width * len(by_count)))
        r1 = 0
        while r1 < n_parts[0]:
            r0 = r1
            n_live = len(by_count) - int(np.searchsorted(ascending, r0, side="right"))
            # to the next rank most live (fund, unit)s still have (the rest pad with zeros), a block at most
            r1 = min(r0 + step, max(int(n_parts[(3 * n_live - 1) // 4]), r0 + 1))
            ranks = np.arange(r0, r1)[None, :]
            valid = ranks < n_parts[:n_live, None]
            at = np.where(valid, first[:n_live, None] + ranks, 0)  # segment of each ((fund, unit), rank) cell
            kk = k[at]
            p = np.where(valid, piece[kk], 0.0)[:, :, None]
            q = np.where(valid, wsum[kk], 1.0)[:, :, None]
            # one running sum per (fund, unit): the sum so far (after zeros), then each segment's LSOAs in order
            terms = np.empty((n_live, 1 + r1 - r0, width))
            terms[:, 0, :-1] = 0.0
            terms[:, 0, -1] = acc[:n_live]
            body = terms[:, 1:, :]
            np.multiply(p, weights[:n_live, None, :], out=body)
            np.divide(body, q, out=body)
            rc, rr = np.nonzero(valid & equal[kk]) if some_equal else (at[:0, 0], at[:0, 0])
            if len(rc):  # no residents: equal shares
                body[rc, rr, :] = (p[rc, rr] * np.ones(width)) / q[rc, rr]
            pc, pr = np.nonzero(valid & ~full[at]) if some_partial else (at[:0, 0], at[:0, 0])
            if len(pc):  # part of the unit: nothing on the LSOAs the segment does not reach
                which, entry = gather(part_ptr, at[pc, pr])
                reach = pair_mask[pair_moff[part_pair[entry]][:, None] + np.arange(width)[None, :]]
                reach = np.logical_or.reduceat(reach, np.flatnonzero(np.r_[True, which[1:] != which[:-1]]))
                body[pc, pr, :] = np.where(reach, body[pc, pr, :], 0.0)
            flat = terms.reshape(n_live, -1)
            acc[:n_live] = np.cumsum(flat, axis=1, out=flat)[:, -1]  # an accumulation adds strictly in order
        money[cell[first]] = acc
    return money, reached, estimated, firm
