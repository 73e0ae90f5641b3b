"""Provision and need per (area, theme): the two sides every gap is measured between.

Provision (review.md): the apportioned known funding of current services with the theme, the count of current
services with the theme covering any part of the area, and how many of those have unknown funding. A service's
funding is *unknown* (not £0) when it is current but has no current funding line with an amount: nothing says
what it costs at the date. A service with several themes counts in full under each of them: shares are taken
within a theme, so nothing is counted twice inside one comparison.

Need: each indicator's latest period, at the level closest to the one asked for; its share of the total over the
units that *have a figure* (review.md v2, "Missing is not zero"). A unit has a figure for an indicator when every
LSOA of it is covered by a figure at the level used: a district figure covers the district's LSOAs; an LSOA-level
data set covers every LSOA of each district it has any LSOA figure in (such sets usually list only LSOAs with
something to count, so an LSOA missing inside a district that has LSOA figures counts zero). So a place-based
area made of several districts has a figure only if all its districts do, and an area with no figure gets no
need share (NaN, not 0), no gap and no parity from that indicator. When a theme has several indicators its need
share is the mean of their shares over the units that have a figure for all of them, so "10.9% of Early Action
incidents" and "5% of social care referrals" combine into 7.95%.

What an indicator is comes from its unit (`services_db.review.intervals`): counts are shared out; a row with a
numerator and a denominator, or a unit "per 1,000" / "%", is a rate whose need is the rate applied to the area's
residents (rate x population / base), so rates are never summed; scores, ranks and deciles (IMD) are never shared
out as need (they may weight a fair share as population-weighted means: their need value is residents x score);
an indicator whose higher values are better measures something good, not need, and is left out of need shares.
Values at a coarser level than asked (a district figure in an LSOA review) are shared out by population and are
estimates; values at the force level are ignored (they have no geography to share).

Each unit's need rate is also tested against the force rate (review.md v2, "Confidence intervals" and "Gap"):
Byar's interval for counts and rates, Wilson's for proportions, none for estimates and scores; `significant` is
1 where the 95% interval lies wholly above the force rate, 0 where it does not, NaN where it cannot be tested.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from services_db.review.apportion import spread
from services_db.review.context import Context, objects, unique
from services_db.review.data import LEVELS, ReviewData
from services_db.review.dates import DateLike, latest_period_codes, period_texts
from services_db.review.geography import Units, check_level
from services_db.review.intervals import (
    NONE,
    PROPORTION,
    RATE,
    SCORE,
    indicator_kind,
    interval_method,
    rate_bounds,
    shown_per,
    unit_base,
)
from services_db.review.wording import common

_LEVEL_ID = {name: i for i, name in enumerate(LEVELS)}


# -- provision ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Provision:
    units: Units
    money: np.ndarray  # units x themes, known funding, £ a year
    services: np.ndarray  # units x themes, count of current services covering any part
    unknown: np.ndarray  # units x themes, how many of those services have unknown funding


def funding_known(ctx: Context) -> np.ndarray:
    """Per service position: whether its funding at the date is known, i.e. it has a current funding line with an
    amount. A current service without one has *unknown* funding, never £0 (review.md v2)."""
    if "funding_known" not in ctx.cache:
        lines = ctx.prep.lines
        amount = pd.to_numeric(ctx.data.funding_lines["annual_amount"], errors="coerce").to_numpy(dtype=float)
        cur = ctx.line_current & np.isfinite(amount)
        ctx.cache["funding_known"] = np.bincount(lines["pos"][cur], minlength=len(ctx.service_ids)) > 0
    return ctx.cache["funding_known"]


def funding_unknown(ctx: Context) -> np.ndarray:
    """Per service position: current at the date with unknown funding."""
    return ctx.current & ~funding_known(ctx)


def _known_key(ctx: Context) -> str:
    """Which services have unknown funding: part of the key of results kept under the money key (two dates with
    the same pence may differ in which services have a line at all)."""
    return hashlib.blake2b(np.packbits(funding_unknown(ctx)).tobytes(), digest_size=8).hexdigest()


def provision_matrix(ctx: Context, level: str) -> Provision:
    """Provision per (unit, theme) at the context's date; computed once per context and level."""
    return ctx.shared(("provision", level, _known_key(ctx)), lambda: _provision_matrix(ctx, level))


def _provision_matrix(ctx: Context, level: str) -> Provision:
    units = ctx.geo.units(level)
    n_units, n_themes = len(units), len(ctx.themes.keys)
    svc, unit, pence, _ = ctx.money_rows(level)  # a cell's pence are the sum of its LSOAs' (exactly)
    rows, theme = ctx.by_theme(svc)
    unit = unit[rows]
    ok = unit >= 0
    money = np.bincount(unit[ok] * n_themes + theme[ok], weights=pence[rows][ok],
                        minlength=n_units * n_themes)  # whole pence: exact in float64 in any order
    money = money.reshape(n_units, n_themes) / 100.0

    psvc, punit = ctx.prep.service_units(level)
    keep = ctx.current[psvc]
    psvc, punit = psvc[keep], punit[keep]
    rows, theme = ctx.by_theme(psvc)
    cell = punit[rows] * n_themes + theme
    services = np.bincount(cell, minlength=n_units * n_themes).reshape(n_units, n_themes)
    unknown = np.bincount(cell, weights=funding_unknown(ctx)[psvc[rows]].astype(float),
                          minlength=n_units * n_themes).reshape(n_units, n_themes).round().astype(np.int64)
    return Provision(units, money, services, unknown)


def theme_services(ctx: Context, level: str, themes: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each theme column (theme indices `themes`): how many current services of the theme cover any unit
    where `where[unit, column]` holds, and how many of those have unknown funding (each service counted once)."""
    n_units, n_cols = where.shape
    if n_cols == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    psvc, punit = ctx.prep.service_units(level)
    keep = ctx.current[psvc]
    psvc, punit = psvc[keep], punit[keep]
    rows, theme = ctx.by_theme(psvc)
    column = np.full(len(ctx.themes.keys), -1, dtype=np.int64)
    column[themes] = np.arange(n_cols)
    col = column[theme]
    ok = col >= 0
    ok[ok] = where[punit[rows][ok], col[ok]]
    pairs = unique(psvc[rows][ok] * n_cols + col[ok])
    counts = np.bincount(pairs % n_cols, minlength=n_cols)
    unknown = np.bincount(pairs % n_cols, weights=funding_unknown(ctx)[pairs // n_cols].astype(float),
                          minlength=n_cols).round().astype(np.int64)
    return counts, unknown


def _safe_share(values: np.ndarray, totals: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(totals > 0, values / np.where(totals > 0, totals, 1.0), 0.0)


def provision_shares(data: ReviewData, as_at: DateLike, level: str = "area") -> pd.DataFrame:
    """Per (area, theme): known provision (£ a year), its share of the theme's force total, the services count and
    how many of them have unknown funding.

    Columns: area_code, area_name, theme_key, theme_name, provision, provision_total, provision_share, services,
    unknown_funding, population, population_share. One row for every area of the level and every theme.
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
        "unknown_funding": p.unknown.ravel(),
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
    values: np.ndarray  # units x indicators, in the indicator's own count terms; NaN where the unit has no figure
    estimate: np.ndarray  # units x indicators: any estimated input (value, population, or a split down)
    themes: list[tuple]  # themes of each indicator
    has: np.ndarray | None = None  # units x indicators: the unit has a figure (default: every unit)
    kinds: np.ndarray | None = None  # count, rate, proportion or score (services_db.review.intervals)
    higher_is: np.ndarray | None = None  # worse, better or neutral
    methods: np.ndarray | None = None  # interval method of each indicator: Byar, Wilson or none
    rate: np.ndarray | None = None  # units x indicators: the rate tested, per `per`
    lower: np.ndarray | None = None  # units x indicators: its 95% interval (NaN where it has none)
    upper: np.ndarray | None = None
    force_rate: np.ndarray | None = None  # per indicator, per `per`
    per: np.ndarray | None = None  # per indicator: the base rates are shown per
    significant: np.ndarray | None = None  # units x indicators: 1 above the force rate, 0 not, NaN untested

    def __post_init__(self) -> None:
        shape = self.values.shape
        defaults = {
            "has": np.ones(shape, dtype=bool), "kinds": np.full(shape[1], "count", dtype=object),
            "higher_is": np.full(shape[1], "worse", dtype=object), "methods": np.full(shape[1], NONE, dtype=object),
            "rate": np.full(shape, np.nan), "lower": np.full(shape, np.nan), "upper": np.full(shape, np.nan),
            "force_rate": np.full(shape[1], np.nan), "per": np.full(shape[1], 1000.0),
            "significant": np.full(shape, np.nan),
        }
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)

    @cached_property
    def totals(self) -> np.ndarray:
        """Per indicator: the total over the units with a figure."""
        return np.where(self.has, np.nan_to_num(self.values), 0.0).sum(axis=0)

    @cached_property
    def shares(self) -> np.ndarray:
        """Each unit's share of the total over the units with a figure; NaN where the unit has none."""
        return np.where(self.has, _safe_share(np.nan_to_num(self.values), self.totals[None, :]), np.nan)

    @cached_property
    def n_with(self) -> np.ndarray:
        """Per indicator: how many units have a figure."""
        return self.has.sum(axis=0)


def need_matrix(ctx: Context, level: str, indicators: tuple[str, ...] | None = None) -> Need:
    """Need per (unit, indicator); it does not depend on the date, so it is kept with the prepared data."""
    key = ("need", level, tuple(indicators) if indicators is not None else None)
    cache = ctx.prep.cache
    if key not in cache:
        cache[key] = _need_matrix(ctx, level, key[2])
    return cache[key]


def _higher_is(ctx: Context) -> dict[str, str]:
    ind = ctx.data.indicators
    out: dict[str, str] = {}
    for k, h in zip(ind["indicator_key"].tolist(), ind["higher_is"].tolist(), strict=True):
        if isinstance(k, str) and k not in out:
            out[k] = h.strip().lower() if isinstance(h, str) and h.strip() else "worse"
    return out


def _need_rows(ctx: Context, indicators: tuple[str, ...] | None) -> dict[str, np.ndarray]:
    """The need table as integer codes, one conversion per distinct text (not per row: a national table has
    millions of rows of arrow-backed text): each row's indicator (a code into `keys`, -1 for none or one not
    asked for), period (a code into `periods`, -1 when missing), area position in the hierarchy and level."""
    geo, need = ctx.geo, ctx.data.need
    ind, keys = pd.factorize(need["indicator_key"].reset_index(drop=True))  # a missing key -> -1
    ind = np.asarray(ind, dtype=np.int64)
    keys = np.asarray(keys, dtype=object)
    if indicators is not None:
        asked = pd.Index(keys, dtype=object).isin(list(indicators))
        ind = np.where(ind >= 0, np.where(asked[np.maximum(ind, 0)], ind, -1), -1) if len(keys) else ind
    period, periods = period_texts(need["period"])
    pos = geo.positions(need["area_code"])  # each distinct code looked up once
    lvl = np.where(pos >= 0, geo.level_id[np.maximum(pos, 0)], -1)
    return {"ind": ind, "keys": keys, "period": period, "periods": periods, "pos": pos, "lvl": lvl}


def _need_matrix(ctx: Context, level: str, indicators: tuple[str, ...] | None) -> Need:
    geo, units = ctx.geo, ctx.geo.units(level)
    need = ctx.data.need
    meta = ctx.prep.indicator_meta
    coded = _need_rows(ctx, indicators)
    code, pos, lvl = coded["ind"], coded["pos"], coded["lvl"]
    value = pd.to_numeric(need["value"], errors="coerce")
    value_all = value.to_numpy(dtype=float)
    num_all = pd.to_numeric(need["numerator"], errors="coerce").to_numpy(dtype=float)
    den_all = pd.to_numeric(need["denominator"], errors="coerce").to_numpy(dtype=float)
    with_ratio = np.isfinite(num_all) & np.isfinite(den_all) & (den_all > 0)
    figure = value.notna().to_numpy() | with_ratio
    usable = (code >= 0) & (lvl >= 0) & (lvl < _LEVEL_ID["force"]) & figure  # lvl >= 0: a known area
    if not usable.any():
        return _empty_need(units)

    # Each indicator's latest period (over its usable rows), then its rows of that period.
    n_codes = len(coded["keys"])
    latest = latest_period_codes(np.where(usable, code, -1), n_codes, coded["period"], coded["periods"])
    wanted = np.where(latest >= 0, latest, -2)  # never a row's period code (-1 is a missing period)
    current = usable & (coded["period"] == wanted[code])  # code -1 only where not usable

    # The source level of each indicator: the coarsest level at or below the one asked for, else the finest above.
    target = _LEVEL_ID[level]
    n_levels = len(LEVELS)
    present = np.bincount(code[current] * n_levels + lvl[current],
                          minlength=n_codes * n_levels).reshape(n_codes, n_levels) > 0
    levels = np.arange(n_levels)
    at_or_below = np.where(present & (levels <= target)[None, :], levels[None, :], -1).max(axis=1)
    finest_above = np.where(present, levels[None, :], n_levels).min(axis=1)
    chosen = np.where(at_or_below >= 0, at_or_below, finest_above)  # n_levels: no rows at all
    with_rows = np.flatnonzero(present.any(axis=1))
    rows = np.flatnonzero(current & (lvl == chosen[code]))

    order = sorted(with_rows.tolist(), key=lambda i: coded["keys"][i])
    keys = np.array([coded["keys"][i] for i in order], dtype=object)
    column = np.full(max(n_codes, 1), -1, dtype=np.int64)
    column[np.array(order, dtype=np.int64)] = np.arange(len(order))
    n_units, n_ind = len(units), len(keys)
    unit_text = [meta.get(k, ("", "", ()))[1] for k in keys]
    kinds = np.array([indicator_kind(u) for u in unit_text], dtype=object)
    direction = _higher_is(ctx)
    higher_is = np.array([direction.get(k, "worse") for k in keys], dtype=object)
    ind = column[code[rows]]
    area_pos = pos[rows]
    row_lvl = lvl[rows]
    area_pop = geo.area_population[area_pos]
    value, num, den = value_all[rows], num_all[rows], den_all[rows]
    base = np.array([unit_base(u) for u in unit_text])[ind]
    score = kinds[ind] == SCORE
    with np.errstate(divide="ignore", invalid="ignore"):
        from_ratio = np.isfinite(num) & np.isfinite(den) & (den > 0) & ~score
        amount = np.where(score, value * area_pop,  # residents x score: a population-weighted mean, never a sum
                          np.where(from_ratio, num / np.where(from_ratio, den, 1.0) * area_pop,
                                   np.where(np.isfinite(base), value * area_pop / base, value)))
    amount = np.nan_to_num(amount)
    uses_population = from_ratio | np.isfinite(base) | score
    value_est = need["is_estimate"].fillna(False).astype(bool).to_numpy()[rows] | (row_lvl > target)
    est = value_est | (uses_population & geo.area_population_is_estimate[area_pos])

    # Share every row over its LSOAs by population, then add the LSOAs up to the level asked for.
    row_key, lsoa = geo.expand(np.arange(len(rows)), area_pos)
    per_lsoa = spread(row_key, geo.population[lsoa], amount)
    unit = units.of_lsoa[lsoa]
    ok = unit >= 0
    flat = unit[ok] * n_ind + ind[row_key[ok]]
    values = np.bincount(flat, weights=per_lsoa[ok], minlength=n_units * n_ind).reshape(n_units, n_ind)
    flag = np.bincount(flat, weights=est[row_key[ok]].astype(float),
                       minlength=n_units * n_ind).reshape(n_units, n_ind) > 0
    value_flag = np.bincount(flat, weights=value_est[row_key[ok]].astype(float),
                             minlength=n_units * n_ind).reshape(n_units, n_ind) > 0
    has = _has_figure(geo, units, ind, area_pos, row_lvl, n_ind)
    values = np.where(has, values, np.nan)

    # The test of each unit's rate against the force's: the count (or numerator) and its denominator.
    ratio_ind = np.bincount(ind, weights=(~from_ratio).astype(float), minlength=n_ind) == 0
    row_unit = geo.unit_of_areas(level, area_pos)  # -1 for a row coarser than the units (an estimate anyway)
    in_unit = from_ratio & (row_unit >= 0)
    cell = row_unit[in_unit] * n_ind + ind[in_unit]
    r_num = np.bincount(cell, weights=num[in_unit], minlength=n_units * n_ind).reshape(n_units, n_ind)
    r_den = np.bincount(cell, weights=den[in_unit], minlength=n_units * n_ind).reshape(n_units, n_ind)
    t_num = np.where(ratio_ind[None, :], r_num, values)
    t_den = np.where(ratio_ind[None, :], r_den, units.population[:, None])
    row_count = np.where(ratio_ind[ind], num, amount)
    row_den = np.where(ratio_ind[ind], den, area_pop)
    good = np.isfinite(row_count) & np.isfinite(row_den) & (row_den > 0)
    # The force rate: over the units with a figure (their LSOAs with nothing to count included); from the rows
    # themselves where they are coarser than the units (every unit's figure is then an estimate, never tested).
    f_num = np.where(has, np.nan_to_num(t_num), 0.0).sum(axis=0)
    f_den = np.where(has, np.nan_to_num(t_den), 0.0).sum(axis=0)
    coarser = np.bincount(ind, weights=(row_lvl > target).astype(float), minlength=n_ind) > 0
    f_num = np.where(coarser, np.bincount(ind[good], weights=row_count[good], minlength=n_ind), f_num)
    f_den = np.where(coarser, np.bincount(ind[good], weights=row_den[good], minlength=n_ind), f_den)
    methods = np.array([interval_method(u, has_ratio=bool(r), is_estimate=False)
                        for u, r in zip(unit_text, ratio_ind, strict=True)], dtype=object)
    per = np.array([shown_per(u) if k in (RATE, PROPORTION) else 1000.0 for u, k in zip(unit_text, kinds, strict=True)])
    rate = np.full((n_units, n_ind), np.nan)
    lower, upper = rate.copy(), rate.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        force_rate = np.where(f_den > 0, f_num / np.where(f_den > 0, f_den, 1.0) * per, np.nan)
    for j in range(n_ind):
        rate[:, j], lower[:, j], upper[:, j] = rate_bounds(str(methods[j]), t_num[:, j], t_den[:, j], per[j])
    testable = has & ~value_flag & (methods != NONE)[None, :] & np.isfinite(lower) & np.isfinite(force_rate)[None, :]
    lower = np.where(testable, lower, np.nan)
    upper = np.where(testable, upper, np.nan)
    rate = np.where(has, rate, np.nan)
    testable &= (has.sum(axis=0) > 1)[None, :]  # a unit alone with a figure is the force rate itself
    significant = np.where(testable, (lower > force_rate[None, :]).astype(float), np.nan)

    return Need(
        units=units, keys=keys,
        names=np.array([meta[k][0] if k in meta else k.replace("_", " ") for k in keys], dtype=object),
        periods=np.array([coded["periods"][latest[i]] for i in order], dtype=object),
        source_levels=np.array([LEVELS[int(chosen[i])] for i in order], dtype=object),
        values=values, estimate=flag & has,
        themes=[meta[k][2] if k in meta else () for k in keys],
        has=has, kinds=kinds, higher_is=higher_is, methods=methods, rate=rate, lower=lower, upper=upper,
        force_rate=force_rate, per=per, significant=significant,
    )


def _has_figure(geo, units: Units, ind: np.ndarray, area_pos: np.ndarray, row_lvl: np.ndarray,
                n_ind: int) -> np.ndarray:
    """units x indicators: whether every LSOA of the unit is covered by a figure. A row covers the LSOAs under its
    area; an LSOA row covers every LSOA of its district (see the module docstring)."""
    district = geo.area_ancestor[_LEVEL_ID["district"], area_pos]
    cover = np.where((row_lvl == _LEVEL_ID["lsoa"]) & (district >= 0), district, area_pos)
    n_areas = max(len(geo.codes), 1)
    pairs = unique(ind * n_areas + cover)  # each (indicator, covered area) once: a district's LSOA rows are one
    key, lsoa = geo.expand(pairs // n_areas, pairs % n_areas)  # unique (indicator, LSOA) pairs
    unit = units.of_lsoa[lsoa]
    ok = unit >= 0
    n_units = len(units)
    covered = np.bincount(unit[ok] * n_ind + key[ok], minlength=n_units * n_ind).reshape(n_units, n_ind)
    inside = units.of_lsoa[units.of_lsoa >= 0]
    lsoas = np.bincount(inside, minlength=n_units)
    return (covered == lsoas[:, None]) & (lsoas[:, None] > 0)


def _empty_need(units: Units) -> Need:
    empty = np.empty(0, dtype=object)
    return Need(units, empty, empty, empty, empty, np.zeros((len(units), 0)), np.zeros((len(units), 0), bool), [])


def need_by_indicator(data: ReviewData, level: str = "area", indicators: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per (area, indicator): the need used by the review (latest period) and its share of the total over the
    areas with a figure.

    Columns: area_code, area_name, indicator_key, indicator_name, period, source_level, need, need_share,
    rate_per_1000 (need per 1,000 residents), is_estimate, has_need_figure (False: "no figure", and need and
    need_share are NaN, never 0), kind (count, rate, proportion, score), rate, lower, upper (the 95% interval of
    the rate, per `per`; NaN where there is none), force_rate, per, interval (Byar, Wilson or none), significant
    (True where the interval lies wholly above the force rate; None where it cannot be tested).
    """
    return pd.DataFrame(_need_indicator_columns(Context(data, None), check_level(level), indicators))


def _need_indicator_columns(ctx: Context, level: str, indicators: tuple[str, ...] | None) -> dict:
    n = need_matrix(ctx, level, indicators)
    n_units, n_ind = n.values.shape
    pop = np.repeat(n.units.population, n_ind)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(pop > 0, n.values.ravel() / np.where(pop > 0, pop, 1.0) * 1000.0, np.nan)
    rate = np.where(np.tile(n.kinds, n_units) == SCORE, np.nan, rate)  # residents x score is not a rate
    tested = np.isfinite(n.lower.ravel())
    return {
        "area_code": np.repeat(n.units.codes, n_ind), "area_name": np.repeat(n.units.names, n_ind),
        "indicator_key": np.tile(n.keys, n_units), "indicator_name": np.tile(n.names, n_units),
        "period": np.tile(n.periods, n_units), "source_level": np.tile(n.source_levels, n_units),
        "need": n.values.ravel(), "need_share": n.shares.ravel(), "rate_per_1000": rate,
        "is_estimate": n.estimate.ravel(), "has_need_figure": n.has.ravel(), "kind": np.tile(n.kinds, n_units),
        "rate": n.rate.ravel(), "lower": n.lower.ravel(), "upper": n.upper.ravel(),
        "force_rate": np.tile(n.force_rate, n_units), "per": np.tile(n.per, n_units),
        "interval": np.where(tested, np.tile(n.methods, n_units), NONE).astype(object),
        "significant": tristate(n.significant.ravel()),
    }


def tristate(values: np.ndarray) -> np.ndarray:
    """1/0/NaN as an object array of True/False/None (None: could not be tested)."""
    out = np.full(len(values), None, dtype=object)
    known = np.isfinite(values)
    out[known] = values[known] > 0.5
    return out


@dataclass(frozen=True, eq=False)
class ThemeNeed:
    units: Units
    themes: np.ndarray  # theme indices with need
    shares: np.ndarray  # units x themes-with-need (NaN where the unit has no figure)
    estimate: np.ndarray
    indicators: list[tuple]  # indicator keys combined for each theme
    labels: list[str]  # how a sentence names the need
    has: np.ndarray | None = None  # units x themes: a figure for every indicator of the theme
    population_share: np.ndarray | None = None  # units x themes: over the units with a figure (NaN elsewhere)
    significant: np.ndarray | None = None  # units x themes: 1, 0 or NaN (see `theme_need`)

    @property
    def n_with(self) -> np.ndarray:
        return self.has.sum(axis=0) if self.has is not None else np.full(len(self.themes), len(self.units))


def theme_need(ctx: Context, level: str, indicators: tuple[str, ...] | None = None) -> ThemeNeed:
    """Need share per (unit, theme): the mean of the shares of the theme's need indicators, over the units that
    have a figure for every one of them.

    A theme's indicators are its count and rate indicators whose higher values are worse (or neutral) with a
    non-zero total: scores and ranks are never shared out, and a "higher is better" indicator measures something
    good, not need. `significant` is 1 where every indicator's 95% interval lies wholly above the force rate, 0
    where one of them that could be tested does not, NaN where none could be, or some could not (estimates).
    """
    key = ("theme_need", level, tuple(indicators) if indicators is not None else None)
    if key not in ctx.prep.cache:
        ctx.prep.cache[key] = _theme_need(ctx, level, key[2])
    return ctx.prep.cache[key]


def _theme_need(ctx: Context, level: str, indicators: tuple[str, ...] | None) -> ThemeNeed:
    n = need_matrix(ctx, level, indicators)
    t_index = ctx.themes.index
    members: dict[int, list[int]] = {}
    for j, themes in enumerate(n.themes):
        if n.kinds[j] == SCORE or n.higher_is[j] == "better" or n.totals[j] <= 0:
            continue
        for t in themes:
            ti = t_index.get(t, -1)
            if ti >= 0:
                members.setdefault(int(ti), []).append(j)
    order = sorted(members)
    n_units = len(n.units)
    shares = np.full((n_units, len(order)), np.nan)
    estimate = np.zeros((n_units, len(order)), dtype=bool)
    has = np.zeros((n_units, len(order)), dtype=bool)
    pop_share = np.full((n_units, len(order)), np.nan)
    significant = np.full((n_units, len(order)), np.nan)
    pop = n.units.population
    labels, keys = [], []
    for c, ti in enumerate(order):
        cols = members[ti]
        with_all = n.has[:, cols].all(axis=1)
        totals = np.where(with_all[:, None], np.nan_to_num(n.values[:, cols]), 0.0).sum(axis=0)
        if (totals <= 0).any() and (totals > 0).any():  # an indicator with nothing among these units adds nothing
            cols = [j for j, t in zip(cols, totals, strict=True) if t > 0]
            with_all = n.has[:, cols].all(axis=1)
            totals = np.where(with_all[:, None], np.nan_to_num(n.values[:, cols]), 0.0).sum(axis=0)
        part = _safe_share(np.nan_to_num(n.values[:, cols]), totals[None, :])
        shares[:, c] = np.where(with_all, part.mean(axis=1), np.nan)
        has[:, c] = with_all
        estimate[:, c] = n.estimate[:, cols].any(axis=1) & with_all
        pop_total = pop[with_all].sum()
        pop_share[:, c] = np.where(with_all, pop / pop_total if pop_total > 0 else 0.0, np.nan)
        sig = n.significant[:, cols]
        tested = np.isfinite(sig)
        significant[:, c] = np.where(with_all & (tested & (sig < 0.5)).any(axis=1), 0.0,
                                     np.where(with_all & tested.all(axis=1), 1.0, np.nan))
        keys.append(tuple(n.keys[cols]))
        labels.append(str(n.names[cols[0]]) if len(cols) == 1 else f"the need for {common(ctx.themes.names[ti])}")
    return ThemeNeed(n.units, np.array(order, dtype=np.int64), shares, estimate, keys, labels, has, pop_share,
                     significant)


def need_shares(data: ReviewData, level: str = "area", indicators: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per (area, theme with need data): the need share and which indicators make it up.

    Columns: area_code, area_name, theme_key, theme_name, need_share (NaN where the area has no figure),
    n_indicators, indicator_keys, need_label, need_is_estimate, has_need_figure, population_share (over the areas
    with a figure), n_with_figure, significant (True/False/None).
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
        "has_need_figure": tn.has.ravel(), "population_share": tn.population_share.ravel(),
        "n_with_figure": np.tile(tn.n_with, n_units), "significant": tristate(tn.significant.ravel()),
    }


def _tile_objects(values: list, times: int) -> np.ndarray:
    """An object array of `values` repeated `times` times (tuples kept whole, not broadcast)."""
    return np.tile(objects(values), times)
