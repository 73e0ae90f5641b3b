"""Where a fund's money went, area by area: the common ground of the inequity view and the fair-share view.

An allocation names the areas it is for (`area_codes`, at any level); one with none is for the whole force. Its
money is shared over the LSOAs of those areas by population and then added up to districts or areas.

Breakdowns (rows with a `parent_allocation_id`, such as the lines under "LCC 12 area CSP fund" in seed 002) are
never counted on top of their parent. Each top-level allocation's amount is passed down its tree: children get
their own amounts (scaled down pro rata if they add up to more than the parent), a parent keeps any remainder,
and a child with no areas of its own inherits its parent's. So a breakdown can place money more precisely than
its parent while the fund total stays the sum of top-level amounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from services_db.review.apportion import spread
from services_db.review.context import Context, flags, ids, texts, tuples

_MAX_DEPTH = 16


@dataclass(frozen=True, eq=False)
class Placed:
    """A fund's money by unit of a level, and what could not be placed (area codes the hierarchy lacks)."""

    amount: np.ndarray  # per unit of the level
    reached: np.ndarray  # per unit: did any allocation with money name (part of) it
    total: float  # sum of top-level amounts (the fund's allocated total)
    unplaced: float
    n_allocations: int
    is_estimate: bool


def _parsed(ctx: Context) -> dict:
    """All allocations as arrays, once per prepared data."""
    cache = ctx.prep.cache
    if "allocations" not in cache:
        a = ctx.data.allocations
        cache["allocations"] = {
            "fund": texts(a["fund_key"]), "id": ids(a["allocation_id"]), "parent_id": ids(a["parent_allocation_id"]),
            "amount": pd.to_numeric(a["amount"], errors="coerce").fillna(0.0).to_numpy(dtype=float),
            "codes": tuples(a["area_codes"]), "is_estimate": flags(a["is_estimate"]),
        }
    return cache["allocations"]


def fund_rows(ctx: Context, fund_key: str, allocation_ids: tuple[int, ...] | None = None) -> np.ndarray:
    """Row numbers of the fund's allocations (optionally only the listed ones and their breakdowns)."""
    a = _parsed(ctx)
    rows = np.flatnonzero(a["fund"] == str(fund_key))
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
    """The fund's money per unit of `level` (see the module docstring); kept with the prepared data."""
    key = ("place_fund", str(fund_key), level, tuple(allocation_ids) if allocation_ids is not None else None)
    cache = ctx.prep.cache
    if key not in cache:
        cache[key] = _place_fund(ctx, fund_key, level, key[3])
    return cache[key]


def _place_fund(ctx: Context, fund_key: str, level: str, allocation_ids: tuple[int, ...] | None) -> Placed:
    a = _parsed(ctx)
    rows = fund_rows(ctx, fund_key, allocation_ids)
    units = ctx.geo.units(level)
    if len(rows) == 0:
        return Placed(np.zeros(len(units)), np.zeros(len(units), dtype=bool), 0.0, 0.0, 0, False)
    n = len(rows)
    own = a["id"][rows]
    where = {int(x): i for i, x in enumerate(own.tolist())}
    parent = np.array([where.get(int(p), -1) for p in a["parent_id"][rows].tolist()], dtype=np.int64)
    parent[parent == np.arange(n)] = -1
    amount = a["amount"][rows]

    depth = np.zeros(n, dtype=np.int64)
    cur = parent.copy()
    for _ in range(_MAX_DEPTH):
        live = cur >= 0
        if not live.any():
            break
        depth[live] += 1
        cur = np.where(live, parent[np.maximum(cur, 0)], -1)
    parent[depth >= _MAX_DEPTH] = -1  # a cycle: treat as top level
    depth[depth >= _MAX_DEPTH] = 0

    codes = [a["codes"][r] for r in rows.tolist()]
    value = np.where(parent < 0, amount, 0.0)
    children_sum = np.bincount(parent[parent >= 0], weights=amount[parent >= 0], minlength=n)
    for d in range(1, int(depth.max()) + 1):
        at = np.flatnonzero(depth == d)
        p = parent[at]
        scale = np.where(children_sum[p] > value[p], value[p] / np.where(children_sum[p] > 0, children_sum[p], 1), 1)
        value[at] = amount[at] * scale
        for i, pi in zip(at.tolist(), p.tolist(), strict=True):
            if not codes[i]:
                codes[i] = codes[pi]
    placed_children = np.bincount(parent[parent >= 0], weights=value[parent >= 0], minlength=n)
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
    per_unit = np.bincount(unit[unit >= 0], weights=money[unit >= 0], minlength=len(units))
    paid = (piece[k] > 0) & (unit >= 0)
    reached = np.bincount(unit[paid], minlength=len(units)) > 0
    has = np.bincount(k, minlength=n) > 0
    return Placed(per_unit, reached, float(amount[parent < 0].sum()), float(piece[~has].sum()),
                  int((parent < 0).sum()), bool(a["is_estimate"][rows].any()))
