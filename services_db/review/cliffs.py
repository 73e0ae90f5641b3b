"""Funding cliffs (review.md v2): current funding that ends within N months of the "as at" date, each pound once.

Seed 000 lists "Original Early Action Police Innovation Funding finishing in March 2017" as a top risk; the review
shows such cliffs ahead of time, as the annual sum at risk in each area and its breakdown by theme.

A funding line is at risk when it is current, its service is current (`Context.current`), and it (or its service,
if that ends first) ends within `months` months after the date, unless the same service already has a line from
the same commissioner starting no later than the day after it ends (a renewal already on record).

Each pound once. A service's money at risk (its lines at risk, never more than its current funding) is shared
over the areas it covers in proportion to the review's own apportionment of its funding there (to the penny), so
an area's sum at risk is part of its provision: the apportioned current funding of its current services, all
themes together. That sum is then broken down by theme: a service with several themes has its share split equally
between them (to the penny; a service with no theme goes under "no theme recorded"), so the theme amounts add up
to the area's total. The whole-service annual amounts at risk are kept beside the area's share, split the same
way, and so is each line's part of the area's share. The force's total is every at-risk pound once, broken down
by theme alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from services_db.review.apportion import split_pence
from services_db.review.context import Context, csr, gather, objects, stable_order, unique_inverse
from services_db.review.data import ReviewData
from services_db.review.dates import DateLike
from services_db.review.geography import check_level, frame_property

MONTHS = 12
NO_THEME = "no theme recorded"

# Every funding line at risk, whole: `annual_amount` as recorded, `at_risk` the part counted (the service's money
# at risk is capped at its current funding).
LINE_COLUMNS = ["service_id", "service", "commissioner", "fund_key", "annual_amount", "at_risk", "end_date",
                "end_is_estimate", "themes"]
# Each line's part in each area it reaches: `area_share` of the area's total, beside the line's whole amount.
AREA_LINE_COLUMNS = ["area_code", "area_name", "service_id", "service", "commissioner", "fund_key", "area_share",
                     "annual_amount", "end_date", "end_is_estimate", "themes"]
# One row per area: its share at risk, its provision (all themes), the at-risk services' whole amounts.
TOTAL_COLUMNS = ["area_code", "area_name", "at_risk", "provision", "whole_services", "services", "first_end",
                 "service_ids"]
# The breakdown by theme: per (area, theme), adding up to the area's `at_risk` (and `whole_services`).
AREA_COLUMNS = ["area_code", "area_name", "theme_key", "theme_name", "at_risk", "whole_services", "services",
                "first_end", "service_ids"]
FORCE_COLUMNS = AREA_COLUMNS[2:]
FORCE_TOTAL_COLUMNS = TOTAL_COLUMNS[2:]


@dataclass(frozen=True)
class Cliffs:
    """The money at risk at one date: per line, per area (total and by theme) and for the whole force.

    `lines`: every line at risk (whole amounts); `area_lines`: each line's share in each area; `totals`: one row
    per area with money at risk, largest first; `by_area`: the areas' breakdowns by theme; `force_total` (one row)
    and `by_theme`: the same for the whole force. Money columns are £ a year, exact to the penny.
    """

    line_columns: dict = field(repr=False)
    area_columns: dict = field(repr=False)
    total_columns: dict = field(repr=False)
    area_line_columns: dict = field(repr=False)
    force_total_columns: dict = field(repr=False)
    force_theme_columns: dict = field(repr=False)
    months: int = MONTHS

    lines = frame_property("line_columns", LINE_COLUMNS)
    by_area = frame_property("area_columns", AREA_COLUMNS)
    totals = frame_property("total_columns", TOTAL_COLUMNS)
    area_lines = frame_property("area_line_columns", AREA_LINE_COLUMNS)
    force_total = frame_property("force_total_columns", FORCE_TOTAL_COLUMNS)
    by_theme = frame_property("force_theme_columns", FORCE_COLUMNS)


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
    safe = np.maximum(pos, 0)
    svc_end = np.where(pos >= 0, services["end"][safe], np.datetime64("NaT"))
    earlier = ~np.isnat(svc_end) & (np.isnat(end) | (svc_end < end))
    effective = np.where(earlier, svc_end, end)
    risk = (ctx.line_current & (pos >= 0) & ctx.current[safe] & ~np.isnat(effective) & (effective >= when)
            & (effective <= horizon))
    idx = np.flatnonzero(risk)
    if len(idx) == 0:
        return idx, effective[idx], earlier[idx]

    # A renewal on record: same service and commissioner, starting after this line did and by the day after it
    # ends. Lines are grouped by (service, commissioner); only the few lines of one group are compared.
    # Only the lines of services with a line at risk are grouped; the commissioners are compared by their codes
    # (`lines["commissioner"]` is `table[codes]`: codes of the same text are made one).
    codes, table = ctx.prep._line_commissioners
    cid = np.asarray(pd.factorize(table)[0], dtype=np.int64)[codes]
    risky = np.zeros(len(ctx.service_ids) + 1, dtype=bool)  # the last: no service (pos -1)
    risky[pos[idx]] = True
    sel = np.flatnonzero(risky[pos])
    key = pos[sel] * (int(cid.max()) + 1) + cid[sel]
    order = np.argsort(key)  # the order of one group's lines does not matter
    sel, key = sel[order], key[order]
    new = np.r_[True, key[1:] != key[:-1]]
    group = np.full(len(pos), -1, dtype=np.int64)
    group[sel] = np.cumsum(new) - 1
    which, at = gather(csr(group[sel], int(new.sum())), group[idx])
    j = sel[at]
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


def _nothing(months: int) -> Cliffs:
    return Cliffs(_empty(LINE_COLUMNS), _empty(AREA_COLUMNS), _empty(TOTAL_COLUMNS), _empty(AREA_LINE_COLUMNS),
                  _empty(FORCE_TOTAL_COLUMNS), _empty(FORCE_COLUMNS), months)


def _split(group: np.ndarray, weights: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """`split_pence` for rows in any order (it wants a group's rows together)."""
    order = stable_order(group)
    out = np.empty(len(group), dtype=np.int64)
    out[order] = split_pence(group[order], weights[order], totals)
    return out


def _theme_rows(ctx: Context, svc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, theme index) for every theme of each row's service, by row; a service with no theme gets one row
    under the index `len(themes)` ("no theme recorded"), so money split over its themes is never lost."""
    rows, theme = ctx.by_theme(svc)
    none = np.flatnonzero(np.bincount(rows, minlength=len(svc)) == 0)
    if len(none):
        rows = np.concatenate([rows, none])
        theme = np.concatenate([theme, np.full(len(none), len(ctx.themes.keys), dtype=np.int64)])
        order = stable_order(rows)
        rows, theme = rows[order], theme[order]
    return rows, theme


def area_funding_pence(ctx: Context, level: str) -> np.ndarray:
    """Per unit of `level`: the apportioned current funding of the current services covering it, in pence (each
    service once, whatever its themes): the provision a unit's cliff can never exceed."""
    def compute() -> np.ndarray:
        units = ctx.geo.units(level)
        svc, unit, pence, _ = ctx.money_rows(level)
        keep = ctx.current[svc] & (unit >= 0)
        out = np.bincount(unit[keep], weights=pence[keep], minlength=len(units) + 1)
        return np.round(out[:len(units)]).astype(np.int64)  # whole pence: exact in float64

    return ctx.shared(("area_funding", level), compute)


def _compute(ctx: Context, months: int, level: str) -> Cliffs:
    idx, end, from_service = _at_risk_lines(ctx, months)
    if len(idx) == 0:
        return _nothing(months)
    prep, lines = ctx.prep, ctx.prep.lines
    pos = lines["pos"][idx]
    amount = lines["amount"][idx]
    flag = np.where(from_service, prep._services["end_is_estimate"][pos], lines["is_estimate"][idx])
    order = np.lexsort((-amount, end))
    idx, end, pos, amount, flag = idx[order], end[order], pos[order], amount[order], flag[order]

    # The money at risk of each service, in pence: its lines, never more than its current funding.
    pence = np.maximum(np.round(amount * 100.0).astype(np.int64), 0)
    svc, line_svc = unique_inverse(pos)
    wanted = np.round(np.bincount(line_svc, weights=pence, minlength=len(svc))).astype(np.int64)
    svc_pence = np.minimum(wanted, np.maximum(ctx.funding_pence[svc], 0))
    line_pence = _split(line_svc, pence.astype(float), svc_pence)
    keep = line_pence > 0
    if not keep.all():  # lines whose money is not at risk after all (nothing, or beyond the service's funding)
        idx, end, pos, amount, flag, line_pence = (a[keep] for a in (idx, end, pos, amount, flag, line_pence))
        svc, line_svc = unique_inverse(pos)
        svc_pence = np.round(np.bincount(line_svc, weights=line_pence, minlength=len(svc))).astype(np.int64)
        if len(idx) == 0:
            return _nothing(months)
    svc_first = np.full(len(svc), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(svc_first, line_svc, end.astype("datetime64[ns]").astype(np.int64))
    svc_ids = ctx.service_ids[svc]
    themes = objects([prep.svc_themes[p] for p in svc.tolist()])[line_svc]  # each service's tuple, once
    table = {
        "service_id": ctx.service_ids[pos], "service": prep.svc_name[pos], "commissioner": lines["commissioner"][idx],
        "fund_key": lines["fund_key"][idx], "annual_amount": amount, "at_risk": line_pence / 100.0,
        "end_date": end, "end_is_estimate": flag, "themes": themes,
    }

    # The force: every at-risk pound once, and its breakdown by theme.
    s_row, s_theme = _theme_rows(ctx, svc)
    s_pence = split_pence(s_row, np.ones(len(s_row)), svc_pence)
    provision_force = int(np.maximum(ctx.funding_pence, 0)[ctx.current].sum())
    _, force_total = _totals(np.zeros(len(svc), dtype=np.int64), svc_pence, svc_pence, svc_ids, svc_first,
                             np.array([provision_force], dtype=np.int64))
    force_theme = _breakdown(ctx, s_theme, s_pence, s_pence, svc_ids[s_row], svc_first[s_row], None)

    # Each service's money at risk shared over the units it reaches, weighted by its apportioned funding there.
    units = ctx.geo.units(level)
    n_u = len(units) + 1  # the last: LSOAs under no unit of the level (shared to, then left out)
    _, a_unit, a_pence, a_ptr = ctx.money_rows(level)
    which, rows = gather(a_ptr, svc)
    unit = a_unit[rows]
    unit = np.where(unit >= 0, unit, n_u - 1)
    pair, inv = unique_inverse(which * n_u + unit)
    weight = np.bincount(inv, weights=a_pence[rows], minlength=len(pair))
    pair_svc, pair_unit = pair // n_u, pair % n_u
    share = split_pence(pair_svc, weight, svc_pence)
    ok = (pair_unit < n_u - 1) & (share > 0)
    pair_svc, pair_unit, share = pair_svc[ok], pair_unit[ok], share[ok]

    provision = area_funding_pence(ctx, level)
    at, cols = _totals(pair_unit, share, svc_pence[pair_svc], svc_ids[pair_svc], svc_first[pair_svc], provision)
    totals = {"area_code": units.codes[at], "area_name": units.names[at], **cols}

    # The breakdown by theme: each (service, unit) share split equally over the service's themes, and the whole
    # service's money at risk beside it, split the same way (the force's split, row for row).
    t_pair, at = gather(csr(s_row, len(svc)), pair_svc)
    t_share = split_pence(t_pair, np.ones(len(t_pair)), share)
    cells = pair_unit[t_pair]
    by_area = _breakdown(ctx, s_theme[at], t_share, s_pence[at], svc_ids[pair_svc][t_pair],
                         svc_first[pair_svc][t_pair], (cells, units))

    # Each line's part of an area's share, in proportion to the lines' money at risk.
    l_order = stable_order(line_svc)
    l_pair, l_at = gather(csr(line_svc, len(svc)), pair_svc)
    line = l_order[l_at]
    l_share = split_pence(l_pair, line_pence[line].astype(float), share)
    area_of = pair_unit[l_pair]
    l_sort = np.argsort(area_of * max(len(idx), 1) + line)  # by area, then line (no two rows alike)
    line, area_of, l_share = line[l_sort], area_of[l_sort], l_share[l_sort]
    area_lines = {"area_code": units.codes[area_of], "area_name": units.names[area_of],
                  **{k: table[k][line] for k in ("service_id", "service", "commissioner", "fund_key")},
                  "area_share": l_share / 100.0, "annual_amount": amount[line], "end_date": end[line],
                  "end_is_estimate": flag[line], "themes": themes[line]}
    return Cliffs(table, by_area, totals, area_lines, force_total, force_theme, months)


def _totals(unit: np.ndarray, share: np.ndarray, whole: np.ndarray, sid: np.ndarray, first: np.ndarray,
            provision: np.ndarray) -> tuple[np.ndarray, dict]:
    """One row per unit with money at risk (input rows: one per (service, unit)), largest first: the units, and
    the columns at_risk, provision, whole_services, services, first_end, service_ids."""
    cell, inv = unique_inverse(unit)
    at_risk = np.bincount(inv, weights=share, minlength=len(cell))
    order = np.lexsort((cell, -at_risk))
    cols = _cell_columns(inv, order, share, whole, sid, first)
    return cell[order], {"at_risk": cols.pop("at_risk"), "provision": provision[cell[order]] / 100.0, **cols}


def _cell_columns(inv: np.ndarray, order: np.ndarray, share: np.ndarray, whole: np.ndarray, sid: np.ndarray,
                  first: np.ndarray) -> dict:
    """Sums (pence to £), service counts, first end and service ids per cell, cells in `order`."""
    n = len(order)
    at_risk = np.round(np.bincount(inv, weights=share, minlength=n)) / 100.0
    whole_sum = np.round(np.bincount(inv, weights=whole, minlength=n)) / 100.0
    services = np.bincount(inv, minlength=n)
    first_end = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_end, inv, first)
    return {"at_risk": at_risk[order], "whole_services": whole_sum[order], "services": services[order],
            "first_end": first_end[order].astype("datetime64[ns]"), "service_ids": _sorted_ids(inv, sid, order)}


def _sorted_ids(inv: np.ndarray, sid: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Each cell's ids sorted, as a tuple, cells in `order` (rows keyed by cell `inv`): one sort of all the rows by
    (cell, id) when the ids are integers, then a slice of one list each."""
    n = len(order)
    span = int(sid.max()) - int(sid.min()) + 1 if len(sid) and sid.dtype.kind == "i" else 0
    if span and (len(sid) < 2 or bool((sid[1:] >= sid[:-1]).all())):  # ids in order already: keep it in each cell
        ids = sid[stable_order(inv)].tolist()
    elif span and n * span < 2**62:
        ids = (np.sort(inv.astype(np.int64) * span + (sid.astype(np.int64) - int(sid.min()))) % span
               + int(sid.min())).tolist()
    else:
        services = np.bincount(inv, minlength=n)
        cells = np.split(sid[np.argsort(inv, kind="stable")], np.cumsum(services)[:-1]) if n else []
        return objects([tuple(sorted(cells[k].tolist())) for k in order.tolist()])
    ptr = csr(inv, n).tolist()
    return objects([tuple(ids[ptr[k]:ptr[k + 1]]) for k in order.tolist()])


def _breakdown(ctx: Context, theme: np.ndarray, share: np.ndarray, whole: np.ndarray, sid: np.ndarray,
               first: np.ndarray, where: tuple | None) -> dict:
    """Per (unit, theme), or per theme when `where` is None: the rows' sums, largest first within a unit."""
    n_t = len(ctx.themes.keys) + 1
    unit = where[0] if where is not None else np.zeros(len(theme), dtype=np.int64)
    cell, inv = unique_inverse(unit * n_t + theme)
    at_risk = np.bincount(inv, weights=share, minlength=len(cell))
    order = np.lexsort((cell % n_t, -at_risk, cell // n_t if where is not None else np.zeros(len(cell))))
    t = cell[order] % n_t
    keys = np.append(ctx.themes.keys, None)
    names = np.append(ctx.themes.names, NO_THEME)
    out = {"theme_key": keys[t], "theme_name": names[t], **_cell_columns(inv, order, share, whole, sid, first)}
    if where is not None:
        units = where[1]
        out = {"area_code": units.codes[cell[order] // n_t], "area_name": units.names[cell[order] // n_t], **out}
    return out


def force_cliffs(cliffs: Cliffs, ctx: Context | None = None) -> dict:
    """The force's breakdown by theme (each at-risk pound once, a service's split equally over its themes)."""
    return cliffs.force_theme_columns
