"""Funding cliffs: current funding that ends within N months of the "as at" date, and where it falls.

Seed 000 lists "Original Early Action Police Innovation Funding finishing in March 2017" as a top risk; the review
shows such cliffs ahead of time, per area and theme, as the annual sum at risk.

A current funding line is at risk when it (or its service, if that ends first) ends within `months` months after
the date, unless the same service already has a line from the same commissioner starting no later than the day
after it ends (a renewal already on record). Its annual amount is shared over the service's LSOAs by population
and counted under each of the service's themes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from services_db.review.apportion import spread
from services_db.review.context import Context, csr, gather, objects, unique, unique_inverse
from services_db.review.data import ReviewData
from services_db.review.dates import DateLike
from services_db.review.geography import check_level

MONTHS = 12

LINE_COLUMNS = ["service_id", "service", "commissioner", "fund_key", "annual_amount", "end_date", "end_is_estimate",
                "themes"]
AREA_COLUMNS = ["area_code", "area_name", "theme_key", "theme_name", "at_risk", "services", "first_end",
                "service_ids"]
FORCE_COLUMNS = AREA_COLUMNS[2:]


@dataclass(frozen=True)
class Cliffs:
    """`lines`: each funding line at risk; `by_area`: annual sum at risk per (area, theme), largest first."""

    line_columns: dict = field(repr=False)
    area_columns: dict = field(repr=False)
    months: int = MONTHS

    @property
    def lines(self) -> pd.DataFrame:
        return pd.DataFrame(self.line_columns, columns=LINE_COLUMNS)

    @property
    def by_area(self) -> pd.DataFrame:
        return pd.DataFrame(self.area_columns, columns=AREA_COLUMNS)


def funding_cliffs(data: ReviewData, as_at: DateLike, *, months: int = MONTHS, level: str = "area") -> Cliffs:
    """Funding lines current at `as_at` that end within `months` months, and the sum at risk by area and theme."""
    return _cliffs(Context(data, as_at), months, check_level(level))


def _empty(columns: list[str]) -> dict:
    return {c: np.empty(0, dtype=object) for c in columns}


def _at_risk_lines(ctx: Context, months: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line index, effective end, whether the end is the service's own) of the lines at risk."""
    lines, services = ctx.prep.lines, ctx.prep._services
    when = np.datetime64(ctx.as_at.to_datetime64(), "ns")
    horizon = np.datetime64((ctx.as_at + pd.DateOffset(months=months)).to_datetime64(), "ns")
    pos = lines["pos"]
    end = lines["end"]
    svc_end = np.where(pos >= 0, services["end"][np.maximum(pos, 0)], np.datetime64("NaT"))
    earlier = ~np.isnat(svc_end) & (np.isnat(end) | (svc_end < end))
    effective = np.where(earlier, svc_end, end)
    risk = ctx.line_current & ~np.isnat(effective) & (effective >= when) & (effective <= horizon)
    idx = np.flatnonzero(risk)
    if len(idx) == 0:
        return idx, effective[idx], earlier[idx]

    # A renewal on record: same service and commissioner, starting after this line did and by the day after it
    # ends. Lines are grouped by (service, commissioner); only the few lines of one group are compared.
    cid, comm = pd.factorize(lines["commissioner"])
    _, group = unique_inverse(pos * max(len(comm), 1) + cid.astype(np.int64))
    order = np.argsort(group, kind="stable")
    ptr = csr(group, int(group.max()) + 1)
    which, at = gather(ptr, group[idx])
    j = order[at]
    i = idx[which]
    start_i, start_j = lines["start"][i], lines["start"][j]
    renewal = ((j != i) & ~np.isnat(start_j) & (np.isnat(start_i) | (start_j > start_i))
               & (start_j <= effective[i] + np.timedelta64(1, "D")) & ~earlier[i])
    renewed = np.bincount(which[renewal], minlength=len(idx)) > 0
    idx = idx[~renewed]
    return idx, effective[idx], earlier[idx]


def _cliffs(ctx: Context, months: int, level: str) -> Cliffs:
    cache = ctx.cache.setdefault("cliffs", {})
    if (months, level) not in cache:
        cache[(months, level)] = _compute(ctx, months, level)
    return cache[(months, level)]


def _compute(ctx: Context, months: int, level: str) -> Cliffs:
    idx, end, from_service = _at_risk_lines(ctx, months)
    units = ctx.geo.units(level)
    if len(idx) == 0:
        return Cliffs(_empty(LINE_COLUMNS), _empty(AREA_COLUMNS), months)
    prep, lines = ctx.prep, ctx.prep.lines
    pos = lines["pos"][idx]
    amount = lines["amount"][idx]
    flag = np.where(from_service, prep._services["end_is_estimate"][pos], lines["is_estimate"][idx])
    order = np.lexsort((-amount, end))
    idx, end, pos, amount, flag = idx[order], end[order], pos[order], amount[order], flag[order]
    table = {
        "service_id": ctx.service_ids[pos], "service": prep.svc_name[pos], "commissioner": lines["commissioner"][idx],
        "fund_key": lines["fund_key"][idx], "annual_amount": amount, "end_date": end, "end_is_estimate": flag,
        "themes": objects([prep.svc_themes[p] for p in pos.tolist()]),
    }

    # Spread each line over the units its service covers, by the residents of its LSOAs in each, then by theme.
    su_svc, su_unit, su_weight = prep.service_unit_weights(level)
    line, at = gather(csr(su_svc, len(ctx.service_ids)), pos)
    unit = su_unit[at]
    money = spread(line, su_weight[at], amount)
    rows, theme = ctx.by_theme(pos[line])
    ok = unit[rows] >= 0
    n_t = len(ctx.themes.keys)
    cells = unit[rows][ok] * n_t + theme[ok]
    return Cliffs(table, _aggregate(ctx, cells, money[rows][ok], line[rows][ok], table, units, n_t), months)


def _aggregate(ctx: Context, cells: np.ndarray, money: np.ndarray, line: np.ndarray, table: dict, units,
               n_t: int) -> dict:
    """Sum at risk, services, first end and service ids per cell (unit x theme, or theme alone)."""
    cell, inv = unique_inverse(cells)
    at_risk = np.bincount(inv, weights=money, minlength=len(cell))
    sid = table["service_id"][line]
    m = int(sid.max()) + 1 if len(sid) else 1
    pair = unique(inv * m + sid)
    pair_cell, pair_sid = pair // m, pair % m
    services = np.bincount(pair_cell, minlength=len(cell))
    first = np.full(len(cell), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, inv, table["end_date"][line].astype("datetime64[ns]").astype(np.int64))
    ids_per_cell = np.split(pair_sid, np.cumsum(services)[:-1])
    order = np.lexsort((cell, -at_risk))
    cell = cell[order]
    out = {
        "theme_key": ctx.themes.keys[cell % n_t], "theme_name": ctx.themes.names[cell % n_t],
        "at_risk": at_risk[order], "services": services[order],
        "first_end": first[order].astype("datetime64[ns]"),
        "service_ids": objects([tuple(ids_per_cell[k].tolist()) for k in order.tolist()]),
    }
    if units is not None:
        out = {"area_code": units.codes[cell // n_t], "area_name": units.names[cell // n_t], **out}
    return out


def force_cliffs(cliffs: Cliffs, ctx: Context) -> dict:
    """The sum at risk per theme for the whole force (each line counted once per theme of its service)."""
    table = cliffs.line_columns
    if len(table["service_id"]) == 0:
        return _empty(FORCE_COLUMNS)
    pos = ctx.service_pos(table["service_id"])
    rows, theme = ctx.by_theme(pos)
    return _aggregate(ctx, theme, table["annual_amount"][rows], rows, table, None, len(ctx.themes.keys))
