"""Provision and need per (area, theme): the two sides every gap is measured between.

Provision (review.md): the apportioned funding of services with the theme, and the count of current services
with the theme covering any part of the area. A service with several themes counts in full under each of them:
shares are taken within a theme, so nothing is counted twice inside one comparison.

Need: each indicator's latest period, at the level closest to the one asked for; its share of the force total.
When a theme has several indicators its need share is the mean of their shares (each indicator weighs the same,
whatever its unit), so "10.9% of Early Action incidents" and "5% of social care referrals" combine into 7.95%.

Values at a coarser level than asked (a district figure in an LSOA review) are shared out by population; values
at the force level are ignored (they have no geography to share). Where a row has a numerator and a denominator
the need is its rate per 1,000 applied to the area's residents (rate x population / 1,000), and an indicator
whose unit reads "per 1,000" (or "per 100,000", "%") is treated the same way; otherwise the value is a count. So
need shares stay comparable with population shares (the gap rule compares the two) while rates are not summed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from services_db.review.apportion import spread
from services_db.review.context import Context, objects
from services_db.review.data import LEVELS, ReviewData
from services_db.review.dates import DateLike, latest_periods
from services_db.review.geography import Units, blocks, check_level
from services_db.review.wording import common

_LEVEL_ID = {name: i for i, name in enumerate(LEVELS)}
_PER = re.compile(r"per\s+([\d,]+)|(%|percent)", re.IGNORECASE)


def rate_base(unit: object) -> float:
    """The population base of a rate unit ("per 1,000" -> 1000, "%" -> 100), NaN when the unit is a count."""
    if not isinstance(unit, str):
        return np.nan
    m = _PER.search(unit)
    if not m:
        return np.nan
    if m.group(2):
        return 100.0
    try:
        return float(m.group(1).replace(",", ""))
    except ValueError:
        return np.nan


# -- provision ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Provision:
    units: Units
    money: np.ndarray  # units x themes, £ a year
    services: np.ndarray  # units x themes, count of current services covering any part


def provision_matrix(ctx: Context, level: str) -> Provision:
    """Provision per (unit, theme) at the context's date; computed once per context and level."""
    return ctx.shared(("provision", level), lambda: _provision_matrix(ctx, level))


def _provision_matrix(ctx: Context, level: str) -> Provision:
    units = ctx.geo.units(level)
    n_units, n_themes = len(units), len(ctx.themes.keys)
    svc, lsoa, pence = ctx.apportioned
    money = np.zeros(n_units * n_themes)
    for block in blocks(len(svc)):  # one row per (service, LSOA, theme) would be ~50 million at national size
        unit = units.of_lsoa[lsoa[block]]
        rows, theme = ctx.by_theme(svc[block])
        unit = unit[rows]
        ok = unit >= 0
        money += np.bincount(unit[ok] * n_themes + theme[ok], weights=pence[block][rows][ok],
                             minlength=n_units * n_themes)  # whole pence: exact in float64 whatever the blocks
    money = money.reshape(n_units, n_themes) / 100.0

    psvc, punit = ctx.prep.service_units(level)
    keep = ctx.current[psvc]
    psvc, punit = psvc[keep], punit[keep]
    rows, theme = ctx.by_theme(psvc)
    services = np.bincount(punit[rows] * n_themes + theme, minlength=n_units * n_themes).reshape(n_units, n_themes)
    return Provision(units, money, services)


def _safe_share(values: np.ndarray, totals: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(totals > 0, values / np.where(totals > 0, totals, 1.0), 0.0)


def provision_shares(data: ReviewData, as_at: DateLike, level: str = "area") -> pd.DataFrame:
    """Per (area, theme): provision (£ a year), its share of the theme's force total, and the services count.

    Columns: area_code, area_name, theme_key, theme_name, provision, provision_total, provision_share, services,
    population, population_share. One row for every area of the level and every theme.
    """
    return pd.DataFrame(_provision_columns(Context(data, as_at), check_level(level)))


def _provision_columns(ctx: Context, level: str) -> dict[str, np.ndarray]:
    p = provision_matrix(ctx, level)
    n_units, n_themes = p.money.shape
    total = p.money.sum(axis=0)
    pop_share = _safe_share(p.units.population, np.full(n_units, p.units.population.sum()))
    return {
        "area_code": np.repeat(p.units.codes, n_themes), "area_name": np.repeat(p.units.names, n_themes),
        "theme_key": np.tile(ctx.themes.keys, n_units), "theme_name": np.tile(ctx.themes.names, n_units),
        "provision": p.money.ravel(), "provision_total": np.tile(total, n_units),
        "provision_share": _safe_share(p.money, total[None, :]).ravel(), "services": p.services.ravel(),
        "population": np.repeat(p.units.population, n_themes), "population_share": np.repeat(pop_share, n_themes),
    }


# -- need ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Need:
    """Need per unit for each indicator that has data below the force level (latest period)."""

    units: Units
    keys: np.ndarray  # indicator keys
    names: np.ndarray
    periods: np.ndarray
    source_levels: np.ndarray
    values: np.ndarray  # units x indicators, in the indicator's own count terms
    estimate: np.ndarray  # units x indicators: any estimated input (value, population, or a split down)
    themes: list[tuple]  # themes of each indicator

    @cached_property
    def totals(self) -> np.ndarray:
        return self.values.sum(axis=0)

    @cached_property
    def shares(self) -> np.ndarray:
        return _safe_share(self.values, self.totals[None, :])


def need_matrix(ctx: Context, level: str, indicators: tuple[str, ...] | None = None) -> Need:
    """Need per (unit, indicator); it does not depend on the date, so it is kept with the prepared data."""
    key = ("need", level, tuple(indicators) if indicators is not None else None)
    cache = ctx.prep.cache
    if key not in cache:
        cache[key] = _need_matrix(ctx, level, key[2])
    return cache[key]


def _need_matrix(ctx: Context, level: str, indicators: tuple[str, ...] | None) -> Need:
    geo, units = ctx.geo, ctx.geo.units(level)
    need = ctx.data.need
    meta = ctx.prep.indicator_meta
    if indicators is not None:
        need = need[need["indicator_key"].isin(list(indicators))]
    pos = geo.positions(need["area_code"])
    lvl = np.where(pos >= 0, geo.level_id[np.maximum(pos, 0)], -1)
    usable = (pos >= 0) & (lvl >= 0) & (lvl < _LEVEL_ID["force"]) & need["value"].notna().to_numpy()
    need = need.loc[usable].assign(_pos=pos[usable], _lvl=lvl[usable])
    if need.empty:
        return _empty_need(units)

    latest = latest_periods(need["indicator_key"], need["period"])
    need = need[need["period"].astype(str).to_numpy() == latest.reindex(need["indicator_key"]).to_numpy()]

    # The source level of each indicator: the coarsest level at or below the one asked for, else the finest above.
    target = _LEVEL_ID[level]
    levels = need.groupby("indicator_key")["_lvl"].agg(lambda s: tuple(sorted(set(s))))
    chosen = {k: (max(v for v in lv if v <= target) if any(v <= target for v in lv) else min(lv))
              for k, lv in levels.items()}
    need = need[need["_lvl"].to_numpy() == need["indicator_key"].map(chosen).to_numpy()]

    keys = np.array(sorted(chosen), dtype=object)
    ind = np.searchsorted(keys, need["indicator_key"].to_numpy(dtype=object))
    area_pos = need["_pos"].to_numpy()
    area_pop = geo.area_population[area_pos]
    value = need["value"].to_numpy(dtype=float)
    num = pd.to_numeric(need["numerator"], errors="coerce").to_numpy(dtype=float)
    den = pd.to_numeric(need["denominator"], errors="coerce").to_numpy(dtype=float)
    base = np.array([rate_base(meta.get(k, ("", "", ()))[1]) for k in keys])[ind]
    with np.errstate(divide="ignore", invalid="ignore"):
        from_ratio = np.isfinite(num) & np.isfinite(den) & (den > 0)
        amount = np.where(from_ratio, num / np.where(from_ratio, den, 1.0) * area_pop,
                          np.where(np.isfinite(base), value * area_pop / base, value))
    uses_population = from_ratio | np.isfinite(base)
    est = (need["is_estimate"].fillna(False).astype(bool).to_numpy()
           | (uses_population & geo.area_population_is_estimate[area_pos]))

    # Share every row over its LSOAs by population, then add the LSOAs up to the level asked for.
    row_key, lsoa = geo.expand(np.arange(len(need)), area_pos)
    per_lsoa = spread(row_key, geo.population[lsoa], amount)
    unit = units.of_lsoa[lsoa]
    ok = unit >= 0
    n_units, n_ind = len(units), len(keys)
    flat = unit[ok] * n_ind + ind[row_key[ok]]
    values = np.bincount(flat, weights=per_lsoa[ok], minlength=n_units * n_ind).reshape(n_units, n_ind)
    row_est = est | (need["_lvl"].to_numpy() > target)  # a figure shared down by population is an estimate
    flag = np.bincount(flat, weights=row_est[row_key[ok]].astype(float),
                       minlength=n_units * n_ind).reshape(n_units, n_ind) > 0
    sl = need.groupby("indicator_key")["_lvl"].first().reindex(keys).to_numpy()
    return Need(
        units=units, keys=keys,
        names=np.array([meta[k][0] if k in meta else k.replace("_", " ") for k in keys], dtype=object),
        periods=latest.reindex(keys).to_numpy(dtype=object),
        source_levels=np.array([LEVELS[int(v)] for v in sl], dtype=object),
        values=values, estimate=flag,
        themes=[meta[k][2] if k in meta else () for k in keys],
    )


def _empty_need(units: Units) -> Need:
    empty = np.empty(0, dtype=object)
    return Need(units, empty, empty, empty, empty, np.zeros((len(units), 0)), np.zeros((len(units), 0), bool), [])


def need_by_indicator(data: ReviewData, level: str = "area", indicators: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per (area, indicator): the need used by the review (latest period) and its share of the force total.

    Columns: area_code, area_name, indicator_key, indicator_name, period, source_level, need, need_share,
    rate_per_1000 (need per 1,000 residents), is_estimate.
    """
    return pd.DataFrame(_need_indicator_columns(Context(data, None), check_level(level), indicators))


def _need_indicator_columns(ctx: Context, level: str, indicators: tuple[str, ...] | None) -> dict:
    n = need_matrix(ctx, level, indicators)
    n_units, n_ind = n.values.shape
    pop = np.repeat(n.units.population, n_ind)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(pop > 0, n.values.ravel() / np.where(pop > 0, pop, 1.0) * 1000.0, np.nan)
    return {
        "area_code": np.repeat(n.units.codes, n_ind), "area_name": np.repeat(n.units.names, n_ind),
        "indicator_key": np.tile(n.keys, n_units), "indicator_name": np.tile(n.names, n_units),
        "period": np.tile(n.periods, n_units), "source_level": np.tile(n.source_levels, n_units),
        "need": n.values.ravel(), "need_share": n.shares.ravel(), "rate_per_1000": rate,
        "is_estimate": n.estimate.ravel(),
    }


@dataclass(frozen=True, eq=False)
class ThemeNeed:
    units: Units
    themes: np.ndarray  # theme indices with need
    shares: np.ndarray  # units x themes-with-need
    estimate: np.ndarray
    indicators: list[tuple]  # indicator keys combined for each theme
    labels: list[str]  # how a sentence names the need


def theme_need(ctx: Context, level: str, indicators: tuple[str, ...] | None = None) -> ThemeNeed:
    """Need share per (unit, theme): the mean of the shares of the theme's indicators with a non-zero total."""
    key = ("theme_need", level, tuple(indicators) if indicators is not None else None)
    if key not in ctx.prep.cache:
        ctx.prep.cache[key] = _theme_need(ctx, level, key[2])
    return ctx.prep.cache[key]


def _theme_need(ctx: Context, level: str, indicators: tuple[str, ...] | None) -> ThemeNeed:
    n = need_matrix(ctx, level, indicators)
    t_index = ctx.themes.index
    members: dict[int, list[int]] = {}
    for j, themes in enumerate(n.themes):
        if n.totals[j] <= 0:
            continue
        for t in themes:
            ti = t_index.get(t, -1)
            if ti >= 0:
                members.setdefault(int(ti), []).append(j)
    order = sorted(members)
    shares = np.zeros((len(n.units), len(order)))
    estimate = np.zeros((len(n.units), len(order)), dtype=bool)
    labels, keys = [], []
    for c, ti in enumerate(order):
        cols = members[ti]
        shares[:, c] = n.shares[:, cols].mean(axis=1)
        estimate[:, c] = n.estimate[:, cols].any(axis=1)
        keys.append(tuple(n.keys[cols]))
        labels.append(str(n.names[cols[0]]) if len(cols) == 1 else f"the need for {common(ctx.themes.names[ti])}")
    return ThemeNeed(n.units, np.array(order, dtype=np.int64), shares, estimate, keys, labels)


def need_shares(data: ReviewData, level: str = "area", indicators: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per (area, theme with need data): the need share and which indicators make it up.

    Columns: area_code, area_name, theme_key, theme_name, need_share, n_indicators, indicator_keys, need_label,
    need_is_estimate.
    """
    return pd.DataFrame(_need_theme_columns(Context(data, None), check_level(level), indicators))


def _need_theme_columns(ctx: Context, level: str, indicators: tuple[str, ...] | None) -> dict:
    tn = theme_need(ctx, level, indicators)
    n_units, n_t = tn.shares.shape
    return {
        "area_code": np.repeat(tn.units.codes, n_t), "area_name": np.repeat(tn.units.names, n_t),
        "theme_key": np.tile(ctx.themes.keys[tn.themes], n_units),
        "theme_name": np.tile(ctx.themes.names[tn.themes], n_units),
        "need_share": tn.shares.ravel(),
        "n_indicators": np.tile(np.array([len(k) for k in tn.indicators], dtype=np.int64), n_units),
        "indicator_keys": _tile_objects(tn.indicators, n_units),
        "need_label": _tile_objects(tn.labels, n_units),
        "need_is_estimate": tn.estimate.ravel(),
    }


def _tile_objects(values: list, times: int) -> np.ndarray:
    """An object array of `values` repeated `times` times (tuples kept whole, not broadcast)."""
    return np.tile(objects(values), times)
