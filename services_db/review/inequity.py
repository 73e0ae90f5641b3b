"""Inequity: how evenly a fund, or all funding for a theme, reaches the areas for the people who live there.

review.md: funding per head (and per unit of need when an indicator is chosen) for each area; the ratio of the
highest to the lowest area, the coefficient of variation, the Gini coefficient, and every area that received
nothing while its peers received something (seed 002: no Community Action Fund awards in Pendle or Rossendale).

Choices made here:

- Areas are the units: each district (or area) is one observation, as a Chief Inspector compares areas, not
  people. Areas without residents in the hierarchy are left out.
- The ratio is highest / lowest among areas that received something (against nothing it would be infinite; those
  areas are listed instead). The coefficient of variation (population standard deviation / mean) and the Gini
  coefficient (mean absolute difference / twice the mean) are over all areas, nothing included.
- "Nothing" means no allocation (or, for a theme, no funded service) reached any part of the area.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from services_db.review.allocations import place_fund
from services_db.review.context import Context
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
    per_need (when `indicator` is given), share, population_share, received_nothing. Summary keys: label, total
    (placed in areas), allocated (a fund's top-level allocations), unplaced (allocated to unknown area codes), n_areas, n_funded, zero_areas, zero_codes, min_per, max_per, min_area, max_area (over funded areas,
    per `per` residents), ratio, cv, gini, per, and with an indicator ratio_need, cv_need, gini_need.
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
    columns, reached, meta = [], [], []
    for key in funds:
        placed = place_fund(ctx, key, level)
        columns.append(placed.amount)
        reached.append(placed.reached)
        meta.append(("fund", key, ctx.prep.fund_names.get(key, key), placed.unplaced, placed.total))
    if themes:
        money = provision_matrix(ctx, level).money
        for key in themes:
            ti = ctx.themes.index[key]
            columns.append(money[:, ti])
            reached.append(_reached_by_theme(ctx, level, ti))
            name = str(ctx.themes.names[ti])
            meta.append(("theme", key, f"{name[:1].upper()}{name[1:]} funding", 0.0, float(money[:, ti].sum())))
    if not columns:
        return []
    amount = np.column_stack(columns)
    got = np.column_stack(reached)
    stats = _statistics(units.population, amount, got)
    out = []
    for k, (basis, key, label, unplaced, allocated) in enumerate(meta):
        table = {
            "area_code": units.codes, "area_name": units.names, "amount": amount[:, k],
            "population": units.population, "per_head": stats["per_head"][:, k],
            "per_1000": stats["per_head"][:, k] * per, "share": stats["share"][:, k],
            "population_share": stats["population_share"], "received_nothing": stats["nothing"][:, k],
        }
        funded = stats["n_rated"][k] > 0
        summary = {
            "label": label, "total": float(stats["total"][k]), "allocated": allocated, "unplaced": unplaced,
            "n_areas": stats["n_areas"], "n_funded": int(stats["n_funded"][k]), "n_rated": int(stats["n_rated"][k]),
            "zero_areas": tuple(str(x) for x in units.names[stats["nothing"][:, k]]),
            "zero_codes": tuple(str(x) for x in units.codes[stats["nothing"][:, k]]), "per": per,
            "min_per": float(stats["min"][k] * per) if funded else float("nan"),
            "max_per": float(stats["max"][k] * per) if funded else float("nan"),
            "min_area": str(units.names[stats["argmin"][k]]) if funded else "",
            "max_area": str(units.names[stats["argmax"][k]]) if funded else "",
            # how many funded areas share the lowest / highest rate as a sentence shows it
            "n_min": _sharing(stats["per_head"][:, k] * per, stats["funded"][:, k], stats["min"][k] * per),
            "n_max": _sharing(stats["per_head"][:, k] * per, stats["funded"][:, k], stats["max"][k] * per),
            "ratio": float(stats["ratio"][k]), "cv": float(stats["cv"][k]), "gini": float(stats["gini"][k]),
            "misallocated": float(stats["misallocated"][k]),
        }
        out.append(Inequity(label, basis, key, level, table, summary))
    return out


def _sharing(rates: np.ndarray, funded: np.ndarray, value: float) -> int:
    """How many funded areas show the same rate as `value` once rounded as a sentence rounds it."""
    if not funded.any():
        return 0
    shown = money_rate(value)[1]
    r = rates[funded]
    rounded = np.where(np.abs(r) < 100, np.round(r, 2), np.round(r))
    return int(np.isclose(rounded, shown, rtol=0, atol=1e-9).sum())


def _statistics(pop: np.ndarray, amount: np.ndarray, reached: np.ndarray) -> dict:
    """Per-column statistics of an areas x subjects matrix of money (see the module docstring for the choices)."""
    live = pop > 0
    n_units, _ = amount.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        per_head = np.where(live[:, None], amount / np.where(live, pop, 1.0)[:, None], np.nan)
        total = amount.sum(axis=0)
        share = np.where(total > 0, amount / np.where(total > 0, total, 1.0), 0.0)
        pop_share = pop / pop.sum() if pop.sum() > 0 else np.zeros(n_units)
        # "Nothing" means no money reached the area at all (not "a small amount"), whatever its population, so an
        # area left out is always listed (review.md) and a thinly spread grant is not mistaken for nothing.
        nothing = ~reached & reached.any(axis=0)[None, :]
        funded = live[:, None] & reached  # the per-head range is over funded areas with residents
        lo = np.where(funded, per_head, np.inf)
        hi = np.where(funded, per_head, -np.inf)
        argmin, argmax = lo.argmin(axis=0), hi.argmax(axis=0)
        mn, mx = lo.min(axis=0), hi.max(axis=0)
        ratio = np.where((funded.sum(axis=0) > 0) & (mn > 0), mx / np.where(mn > 0, mn, 1.0), np.nan)
        values = per_head[live]
        mean = values.mean(axis=0) if len(values) else np.full(amount.shape[1], np.nan)
        cv = np.where(mean != 0, values.std(axis=0) / np.where(mean != 0, mean, 1.0), np.nan) if len(values) \
            else mean
        x = np.sort(values, axis=0)
        n = len(x)
        ssum = x.sum(axis=0)
        i = np.arange(1, n + 1)[:, None]
        g = np.where(ssum > 0, 2.0 * (i * x).sum(axis=0) / (n * np.where(ssum > 0, ssum, 1.0)) - (n + 1.0) / n,
                     np.nan) if n else np.full(amount.shape[1], np.nan)
        live_pop = pop[live]
        expected = total[None, :] * (live_pop / live_pop.sum())[:, None] if live_pop.sum() > 0 else amount[live]
        misallocated = np.abs(amount[live] - expected).sum(axis=0) / 2.0
    return {"per_head": per_head, "total": total, "share": share, "population_share": pop_share,
            "nothing": nothing, "n_areas": int(live.sum()), "n_funded": reached.sum(axis=0),
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
    with np.errstate(divide="ignore", invalid="ignore"):
        result.columns["need"] = need
        result.columns["per_need"] = np.where(need > 0, amount / np.where(need > 0, need, 1.0), np.nan)
    ok = live & (need > 0)
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
