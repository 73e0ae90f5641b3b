"""Inequity: how evenly a fund, or all funding for a theme, reaches the areas for the people who live there.

review.md: funding per head (and per unit of need when an indicator is chosen) for each **eligible** area; the
ratio of the highest to the lowest area, the coefficient of variation, the Gini coefficient, and every eligible
area that received nothing while its peers received something (seed 002: no Community Action Fund awards in
Pendle or Rossendale).

Choices made here:

- Areas are the units: each district (or area) is one observation, as a Chief Inspector compares areas, not
  people. Areas without residents in the hierarchy are left out.
- A fund's money at the date is what `services_db.review.allocations.place_fund` says: awarded or paid, not
  future, each pound once (`place_funds` places all the funds together, to the same figures). Applications
  (`applied`) and future money are in the summary, never in the table.
- A fund open to some areas only (a county council fund excludes the unitary councils) is compared over its
  eligible areas: an area the fund is not open to is never "received nothing" and takes no part in the statistics
  (unless money reached it all the same, when it is compared with the rest rather than left out).
- Money whose split over its areas the source does not give (`areas_are_estimate`) reaches its areas "not broken
  down": an area reached only by such money is listed apart (`not_broken_down`), neither received nor nothing,
  and takes no part in the statistics.
- The ratio is highest / lowest among areas that received something (against nothing it would be infinite; those
  areas are listed instead). The coefficient of variation (population standard deviation / mean) and the Gini
  coefficient (mean absolute difference / twice the mean) are over the compared areas, nothing included.
- "Nothing" means no allocation (or, for a theme, no funded service) reached any part of the area.
- For a theme, an area some of whose services of the theme have unknown funding (no current funding line) is
  listed apart (`not_recorded`): its known money is a floor, not its funding, so it is neither compared nor
  "received nothing" (review.md v2: missing is not zero). Theme money placed through an allocation whose areas
  the source does not give (`areas_are_estimate`), or from an estimated funding line, makes the result an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from services_db.review.allocations import counted, place_funds
from services_db.review.context import Context, flags
from services_db.review.data import ReviewData
from services_db.review.dates import DateLike
from services_db.review.geography import check_level
from services_db.review.shares import need_matrix, provision_matrix
from services_db.review.wording import money_rate

PER = 1000.0  # residents per rate in sentences ("per 1,000 residents")


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values: 0 when all equal, near 1 when one area has everything."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float((2.0 * (i * x).sum()) / (n * x.sum()) - (n + 1.0) / n)


def coefficient_of_variation(values: np.ndarray) -> float:
    x = np.asarray(values, dtype=float)
    if len(x) == 0 or x.mean() == 0:
        return float("nan")
    return float(x.std() / x.mean())


@dataclass(frozen=True)
class Inequity:
    """Per-area table and the summary a sentence is made from (all figures in the summary come from the table)."""

    label: str
    basis: str  # "fund" or "theme"
    key: str
    level: str
    columns: dict = field(repr=False)  # the table's columns as arrays
    summary: dict = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns)


def inequity(
    data: ReviewData,
    as_at: DateLike = None,
    *,
    fund_key: str | None = None,
    theme: str | None = None,
    level: str = "district",
    indicator: str | None = None,
    per: float = PER,
) -> Inequity:
    """Inequity of a fund's allocations (`fund_key`) or of current funding for a theme (`theme`), by `level`.

    Table columns: area_code, area_name, amount, population, per_head, per_1000 (per `per` residents), need,
    per_need (when `indicator` is given), share, population_share, eligible, received_nothing, not_broken_down.
    Summary keys: label, total (placed in areas), allocated (a fund's top-level money at the date), unplaced
    (allocated to unknown area codes), n_areas (eligible areas with residents), n_funded, funded_areas (names),
    zero_areas, zero_codes, not_broken_down, not_broken_down_codes, not_broken_down_amount, min_per, max_per,
    min_area, max_area (over funded areas, per `per` residents), ratio, cv, gini, per, applied, n_applied (a fund's
    applications: pipeline, not money), future (awards whose period starts after the date), is_estimate, and with
    an indicator ratio_need, cv_need, gini_need.
    """
    if (fund_key is None) == (theme is None):
        raise ValueError("give exactly one of fund_key or theme")
    return _inequity(Context(data, as_at), fund_key, theme, check_level(level), indicator, per)


def _inequity(ctx: Context, fund_key: str | None, theme: str | None, level: str, indicator: str | None,
              per: float) -> Inequity:
    if fund_key is not None:
        result = inequities(ctx, level, per, funds=[str(fund_key)], themes=[])[0]
    else:
        if str(theme) not in ctx.themes.index:
            raise ValueError(f"unknown theme {theme!r}")
        result = inequities(ctx, level, per, funds=[], themes=[str(theme)])[0]
    if indicator is not None:
        _add_need(ctx, result, indicator)
    return result


def inequities(ctx: Context, level: str, per: float, funds: list[str], themes: list[str]) -> list[Inequity]:
    """Inequity of several funds and themes at once: one matrix of areas x subjects, one pass of statistics."""
    units = ctx.geo.units(level)
    n_units = len(units)
    columns, reached, eligible, estimated, unknown, meta = [], [], [], [], [], []
    for key, placed in zip(funds, place_funds(ctx, funds, level), strict=True):
        columns.append(placed.amount)
        reached.append(placed.reached)
        eligible.append(placed.eligible)
        estimated.append(placed.estimated & ~placed.firm)
        unknown.append(np.zeros(n_units, dtype=bool))
        meta.append(("fund", key, ctx.prep.fund_names.get(key, key), placed.unplaced, placed.total,
                     {"applied": placed.applied, "n_applied": placed.n_applied, "future": placed.future,
                      "is_estimate": placed.is_estimate}))
    if themes:
        prov = provision_matrix(ctx, level)
        money = prov.money
        for key in themes:
            ti = ctx.themes.index[key]
            columns.append(money[:, ti])
            reached.append(_reached_by_theme(ctx, level, ti))
            eligible.append(np.ones(n_units, dtype=bool))
            estimated.append(np.zeros(n_units, dtype=bool))
            unknown.append(prov.unknown[:, ti] > 0)
            name = str(ctx.themes.names[ti])
            meta.append(("theme", key, f"{name[:1].upper()}{name[1:]} funding", 0.0, float(money[:, ti].sum()),
                         {"applied": 0.0, "n_applied": 0, "future": 0.0,
                          "is_estimate": bool(_estimated_by_theme(ctx, level, ti).any())}))
    if not columns:
        return []
    amount = np.column_stack(columns)
    stats = _statistics(units.population, amount, np.column_stack(reached), np.column_stack(eligible),
                        np.column_stack(estimated), np.column_stack(unknown))
    # how many funded areas share the lowest / highest rate as a sentence shows it
    rates = stats["per_head"] * per
    rounded = np.where(np.abs(rates) < 100, np.round(rates, 2), np.round(rates))
    n_min = _sharing(rounded, stats["funded"], stats["min"] * per)
    n_max = _sharing(rounded, stats["funded"], stats["max"] * per)
    out = []
    for k, (basis, key, label, unplaced, allocated, extra) in enumerate(meta):
        split = stats["split"][:, k]
        table = {
            "area_code": units.codes, "area_name": units.names, "amount": amount[:, k],
            "population": units.population, "per_head": stats["per_head"][:, k],
            "per_1000": stats["per_head"][:, k] * per, "share": stats["share"][:, k],
            "population_share": stats["population_share"][:, k], "eligible": stats["eligible"][:, k],
            "received_nothing": stats["nothing"][:, k], "not_broken_down": split,
            "funding_not_recorded": stats["unknown"][:, k],
        }
        funded = stats["n_rated"][k] > 0
        summary = {
            "label": label, "total": float(stats["total"][k]), "allocated": allocated, "unplaced": unplaced,
            "n_areas": int(stats["n_areas"][k]), "n_funded": int(stats["n_funded"][k]),
            "n_rated": int(stats["n_rated"][k]),
            "funded_areas": tuple(map(str, units.names[stats["received"][:, k]].tolist())),
            "zero_areas": tuple(map(str, units.names[stats["nothing"][:, k]].tolist())),
            "zero_codes": tuple(map(str, units.codes[stats["nothing"][:, k]].tolist())),
            "not_broken_down": tuple(map(str, units.names[split].tolist())),
            "not_broken_down_codes": tuple(map(str, units.codes[split].tolist())),
            "not_broken_down_amount": float(amount[split, k].sum()), "per": per,
            "not_recorded": tuple(map(str, units.names[stats["unknown"][:, k]].tolist())),
            "not_recorded_codes": tuple(map(str, units.codes[stats["unknown"][:, k]].tolist())),
            "min_per": float(stats["min"][k] * per) if funded else float("nan"),
            "max_per": float(stats["max"][k] * per) if funded else float("nan"),
            "min_area": str(units.names[stats["argmin"][k]]) if funded else "",
            "max_area": str(units.names[stats["argmax"][k]]) if funded else "",
            "n_min": int(n_min[k]), "n_max": int(n_max[k]),
            "ratio": float(stats["ratio"][k]), "cv": float(stats["cv"][k]), "gini": float(stats["gini"][k]),
            "misallocated": float(stats["misallocated"][k]), **extra,
        }
        out.append(Inequity(label, basis, key, level, table, summary))
    return out


def _sharing(rounded: np.ndarray, funded: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per column: how many funded areas show the same rate as `values[k]` once rounded as a sentence rounds it
    (`rounded`: the areas' rates, rounded so)."""
    some = funded.any(axis=0)
    shown = np.array([money_rate(v)[1] if s else 0.0 for v, s in zip(values.tolist(), some.tolist(), strict=True)])
    return (np.isclose(rounded, shown[None, :], rtol=0, atol=1e-9) & funded).sum(axis=0)


def _statistics(pop: np.ndarray, amount: np.ndarray, reached: np.ndarray, eligible: np.ndarray | None = None,
                split: np.ndarray | None = None, unknown: np.ndarray | None = None) -> dict:
    """Per-column statistics of an areas x subjects matrix of money (see the module docstring for the choices).

    `reached`: money reached (part of) the area; `eligible`: the area is open to the subject; `split`: the area was
    reached only by money whose split the source does not give ("not broken down"); `unknown`: some of the money
    reaching the area is not recorded (a theme's services with unknown funding), so its known money is a floor."""
    live = pop > 0
    if eligible is None:
        eligible = np.ones(amount.shape, dtype=bool)
    if split is None:
        split = np.zeros(amount.shape, dtype=bool)
    if unknown is None:
        unknown = np.zeros(amount.shape, dtype=bool)
    split = split & reached & ~unknown
    received = reached & ~split & ~unknown
    # the compared areas: eligible (or reached all the same), with residents, not "not broken down" and with all
    # their funding recorded
    compared = (eligible | reached) & ~split & ~unknown & live[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_head = np.where(live[:, None], amount / np.where(live, pop, 1.0)[:, None], np.nan)
        total = amount.sum(axis=0)
        share = np.where(total > 0, amount / np.where(total > 0, total, 1.0), 0.0)
        cpop = np.where(compared, pop[:, None], 0.0)
        cpop_total = cpop.sum(axis=0)
        pop_share = np.where(cpop_total > 0, cpop / np.where(cpop_total > 0, cpop_total, 1.0), 0.0)
        # "Nothing" means no money reached the area at all (not "a small amount"), whatever its population, so an
        # eligible area left out is always listed (review.md) and a thinly spread grant is not mistaken for nothing.
        nothing = eligible & ~reached & ~unknown & reached.any(axis=0)[None, :]
        funded = live[:, None] & received  # the per-head range is over funded areas with residents
        lo = np.where(funded, per_head, np.inf)
        hi = np.where(funded, per_head, -np.inf)
        argmin, argmax = lo.argmin(axis=0), hi.argmax(axis=0)
        mn, mx = lo.min(axis=0), hi.max(axis=0)
        ratio = np.where((funded.sum(axis=0) > 0) & (mn > 0), mx / np.where(mn > 0, mn, 1.0), np.nan)
        n = compared.sum(axis=0)
        values = np.where(compared, per_head, np.nan)
        mean = np.where(n > 0, np.nansum(values, axis=0) / np.maximum(n, 1), np.nan)
        var = np.where(n > 0, np.nansum((values - mean[None, :]) ** 2, axis=0) / np.maximum(n, 1), np.nan)
        cv = np.where((n > 0) & (mean != 0), np.sqrt(var) / np.where(mean != 0, mean, 1.0), np.nan)
        x = np.nan_to_num(np.sort(values, axis=0), nan=0.0)  # NaN sorts last: the compared areas come first
        ssum = x.sum(axis=0)
        i = np.arange(1, len(x) + 1)[:, None]
        nn = np.maximum(n, 1)
        g = np.where((n > 0) & (ssum > 0),
                     2.0 * (i * x).sum(axis=0) / (nn * np.where(ssum > 0, ssum, 1.0)) - (nn + 1.0) / nn, np.nan)
        compared_total = np.where(compared, amount, 0.0).sum(axis=0)
        expected = compared_total[None, :] * pop_share
        misallocated = np.where(compared, np.abs(amount - expected), 0.0).sum(axis=0) / 2.0
    return {"per_head": per_head, "total": total, "share": share, "population_share": pop_share,
            "eligible": eligible, "nothing": nothing, "split": split, "unknown": unknown, "received": received,
            "n_areas": (eligible & live[:, None]).sum(axis=0), "n_funded": received.sum(axis=0),
            "n_rated": funded.sum(axis=0), "funded": funded, "min": mn, "max": mx, "argmin": argmin, "argmax": argmax,
            "ratio": ratio, "cv": cv, "gini": g, "misallocated": misallocated}


def _add_need(ctx: Context, result: Inequity, indicator: str) -> None:
    """Per unit of need for a chosen indicator: table columns need and per_need, summary ratio/cv/gini_need."""
    n = need_matrix(ctx, result.level, (indicator,))
    if len(n.keys) == 0:
        raise ValueError(f"no need data below the force level for indicator {indicator!r}")
    need = n.values[:, 0]
    amount = result.columns["amount"]
    live = result.columns["population"] > 0
    compared = (result.columns["eligible"] | (amount > 0)) & ~result.columns["not_broken_down"]
    with np.errstate(divide="ignore", invalid="ignore"):
        result.columns["need"] = need
        result.columns["per_need"] = np.where(need > 0, amount / np.where(need > 0, need, 1.0), np.nan)
    ok = live & (need > 0) & compared
    pn = amount[ok] / need[ok]
    pos = pn[pn > 0]
    result.summary.update({"ratio_need": float(pos.max() / pos.min()) if len(pos) else float("nan"),
                           "cv_need": coefficient_of_variation(pn), "gini_need": gini(pn)})


def _reached_by_theme(ctx: Context, level: str, theme: int) -> np.ndarray:
    """Units covered (in any part) by a service with the theme and current funding above zero."""
    def compute() -> np.ndarray:
        units = ctx.geo.units(level)
        svc, unit = ctx.prep.service_units(level)
        paid = ctx.funding_pence[svc] > 0
        svc, unit = svc[paid], unit[paid]
        rows, themes = ctx.by_theme(svc)
        n_t = len(ctx.themes.keys)
        return np.bincount(unit[rows] * n_t + themes, minlength=len(units) * n_t).reshape(-1, n_t) > 0

    return ctx.shared(("reached", level), compute)[:, theme]


def _estimated_by_theme(ctx: Context, level: str, theme: int) -> np.ndarray:
    """Units reached by money of the theme whose placement is an estimate: a service funded through an allocation
    whose areas the source does not give (`areas_are_estimate`, e.g. the Early Action Response money placed in
    Preston and Burnley), or from an estimated funding line."""
    def compute() -> np.ndarray:
        units = ctx.geo.units(level)
        n_svc = len(ctx.service_ids)
        flagged = np.zeros(n_svc, dtype=bool)
        a = ctx.data.allocations
        pos = ctx.service_pos(a["service_id"])
        est = counted(ctx) & flags(a["areas_are_estimate"]) & (pos >= 0)
        flagged[pos[est]] = True
        lines = ctx.prep.lines
        cur = ctx.line_current & lines["is_estimate"]
        flagged[lines["pos"][cur]] = True
        svc, unit = ctx.prep.service_units(level)
        keep = flagged[svc] & (ctx.funding_pence[svc] > 0)
        rows, themes = ctx.by_theme(svc[keep])
        n_t = len(ctx.themes.keys)
        return np.bincount(unit[keep][rows] * n_t + themes, minlength=len(units) * n_t).reshape(-1, n_t) > 0

    key = ("estimated_by_theme", level)  # per date: it depends on which allocations count, not only on funding
    if key not in ctx.cache:
        ctx.cache[key] = compute()
    return ctx.cache[key][:, theme]
