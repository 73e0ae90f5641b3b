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
- A fund may be open to some areas only (`funds.eligible_area_codes`; none means the whole force):
  `Placed.eligible` marks the units open to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from services_db.counting import allocation_tree_is_money, fund_is_future, fund_is_past
from services_db.review.apportion import spread
from services_db.review.context import Context, dates, flags, ids, texts, tuples

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
    """Per unit of `level`: is it open to the fund (has an LSOA under one of its eligible areas; all when none)."""
    key = ("fund_eligible", str(fund_key), level)
    cache = ctx.prep.cache
    if key not in cache:
        units = ctx.geo.units(level)
        codes = _eligible_codes(ctx).get(str(fund_key), ())
        if not codes:
            out = np.ones(len(units), dtype=bool)
        else:
            unit = units.of_lsoa[ctx.geo.lsoas_under(list(codes))]
            out = np.bincount(unit[unit >= 0], minlength=len(units)) > 0
        cache[key] = out
    return cache[key]


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
    cur = pos.copy()
    for _ in range(_MAX_DEPTH):  # keep breakdowns of a wanted allocation
        live = cur >= 0
        if not live.any():
            break
        wanted[live] |= np.isin(own[cur[live]], listed)
        cur = np.where(live, pos[np.maximum(cur, 0)], -1)
    return rows[wanted]


def place_fund(ctx: Context, fund_key: str, level: str, allocation_ids: tuple[int, ...] | None = None) -> Placed:
    """The fund's money at the context's date per unit of `level` (see the module docstring); kept with the
    prepared data, keyed by which of the fund's allocations are money at the date (most dates share it)."""
    ids_key = tuple(allocation_ids) if allocation_ids is not None else None
    rows = fund_rows(ctx, fund_key, ids_key)
    live = counted(ctx)[rows]
    future = _future(ctx)[rows]
    key = ("place_fund", str(fund_key), level, ids_key, live.tobytes(), future.tobytes(),
           _past(ctx)[rows].tobytes())
    cache = ctx.prep.cache
    if key not in cache:
        cache[key] = _place_fund(ctx, fund_key, level, rows, live, future)
    return cache[key]


def _place_fund(ctx: Context, fund_key: str, level: str, rows: np.ndarray, live: np.ndarray,
                future: np.ndarray) -> Placed:
    a = _parsed(ctx)
    units = ctx.geo.units(level)
    eligible = fund_eligible(ctx, fund_key, level)
    nothing = np.zeros(len(units), dtype=bool)
    if len(rows) == 0:
        return Placed(np.zeros(len(units)), nothing, 0.0, 0.0, 0, False, eligible, nothing)
    n = len(rows)
    own = a["id"][rows]
    where = {int(x): i for i, x in enumerate(own.tolist())}
    parent = np.array([where.get(int(p), -1) for p in a["parent_id"][rows].tolist()], dtype=np.int64)
    parent[parent == np.arange(n)] = -1
    amount = np.where(live, a["amount"][rows], 0.0)  # what is not money at the date counts for nothing

    depth = np.zeros(n, dtype=np.int64)
    cur = parent.copy()
    for _ in range(_MAX_DEPTH):
        live_up = cur >= 0
        if not live_up.any():
            break
        depth[live_up] += 1
        cur = np.where(live_up, parent[np.maximum(cur, 0)], -1)
    parent[depth >= _MAX_DEPTH] = -1  # a cycle: treat as top level
    depth[depth >= _MAX_DEPTH] = 0

    top = parent < 0
    status = a["status"][rows]
    raw = a["amount"][rows]
    applied_rows = top & (status == "applied") & ~_past(ctx)[rows]
    future_rows = top & a["money"][rows] & future

    codes = [a["codes"][r] for r in rows.tolist()]
    split_estimated = a["areas_are_estimate"][rows].copy()
    value = np.where(top, amount, 0.0)
    children_sum = np.bincount(parent[~top], weights=amount[~top], minlength=n)
    for d in range(1, int(depth.max()) + 1):
        at = np.flatnonzero(depth == d)
        p = parent[at]
        scale = np.where(children_sum[p] > value[p], value[p] / np.where(children_sum[p] > 0, children_sum[p], 1), 1)
        value[at] = amount[at] * scale
        for i, pi in zip(at.tolist(), p.tolist(), strict=True):
            if not codes[i]:
                codes[i] = codes[pi]
                split_estimated[i] = split_estimated[i] or split_estimated[pi]
    placed_children = np.bincount(parent[~top], weights=value[~top], minlength=n)
    piece = np.maximum(value - placed_children, 0.0)  # what stays at each node (all of a leaf's value)

    every = np.arange(ctx.geo.n_lsoa)
    lens = np.array([len(c) for c in codes], dtype=np.int64)
    flat = [c for t in codes for c in t]
    k1, l1 = ctx.geo.expand(np.repeat(np.arange(n), lens), ctx.geo.positions(flat))
    whole = np.flatnonzero(lens == 0)
    k = np.concatenate([k1, np.repeat(whole, len(every))])
    lsoa = np.concatenate([l1, np.tile(every, len(whole))])
    order = np.argsort(k, kind="stable")
    k, lsoa = k[order], lsoa[order]
    money = spread(k, ctx.geo.population[lsoa], piece)
    unit = units.of_lsoa[lsoa]
    inside = unit >= 0
    per_unit = np.bincount(unit[inside], weights=money[inside], minlength=len(units))
    paid = (piece[k] > 0) & inside
    reached = np.bincount(unit[paid], minlength=len(units)) > 0
    est_rows = split_estimated[k]
    estimated = np.bincount(unit[paid & est_rows], minlength=len(units)) > 0
    firm = np.bincount(unit[paid & ~est_rows], minlength=len(units)) > 0
    has = np.bincount(k, minlength=n) > 0
    return Placed(
        per_unit, reached, float(amount[top].sum()), float(piece[~has].sum()), int((top & live).sum()),
        bool((a["is_estimate"][rows] & live).any() or (split_estimated & (piece > 0)).any()),
        eligible, estimated, firm, float(piece[split_estimated & has].sum()),
        float(raw[applied_rows].sum()), int(applied_rows.sum()), float(raw[future_rows].sum()))
