"""Apportioning each service's annual funding to the LSOAs it covers, to the penny.

review.md: a service's annual funding (the sum of its funding lines current at the "as at" date; `annual_amount`
is already £ a year, so "pro-rated to 12 months" needs no further arithmetic here) is split over the LSOAs it
covers in proportion to population. Shares are rounded to whole pence by the largest-remainder method so that
the LSOA amounts of every service add back to its funding exactly: a Chief Inspector who adds up the areas of a
table must get the total printed under it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from services_db.review.context import Context
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
    lsoas = np.diff(ctx.prep.coverage_ptr)
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

    The same pence as `apportion`, added up over the area's LSOAs in arrays, without building the national
    table of every (service, LSOA) row (27 million at national size)."""
    ctx = Context(data, as_at)
    svc, lsoa, pence = ctx.apportioned
    inside = np.isin(lsoa, ctx.geo.lsoas_under([area_code])) & (ctx.funding_pence[svc] != 0)
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
