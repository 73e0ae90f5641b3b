"""Need indicators for one area against the force, judged the way public health profiles (PHE Fingertips) do.

A Chief Inspector reading "worse than the force" must be able to trust that the difference is not chance, so an
area's rate is compared through its 95% confidence interval: if the whole interval lies above the force value the
area is "higher", below it "lower", otherwise "similar". Where the indicator has a direction (`higher_is`
"worse" or "better") higher/lower become worse/better; where it has none ("neutral") they stay higher/lower.

Intervals (review.md v2): the method is chosen from the indicator's unit (`services_db.review.intervals`), never
from the size of its figures. Counts, and rates per 1,000 or 100,000, use Byar's approximation to the Poisson
interval; proportions (numerator <= denominator, unit "%") use Wilson's score interval and are shown as a
percentage; a value made by a rule (an estimate) gets no interval and is marked as an estimate; scores and ranks
(IMD) are never summed (an area's value is the population-weighted mean of its districts') and get no interval.
Counts with no denominator of their own are set against the area's residents, so a rate per 1,000 residents is
what is compared; where those residents are an estimate the result says so.

Everything here is pure (no database, no Streamlit) so the pages, the briefings and the tests share it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from services_db.review.data import LEVELS, ReviewData
from services_db.review.geography import geography_of
from services_db.review.intervals import (
    BYAR,
    NONE,
    PROPORTION,
    RATE,
    SCORE,
    WILSON,
    Z95,
    byar_interval,
    indicator_kind,
    interval_method,
    shown_per,
    wilson_interval,
)

__all__ = ["Z95", "PER", "wilson_interval", "byar_interval", "rate_interval", "compare", "area_need", "lsoa_need",
           "need_trends"]

PER = 1000.0  # rates are shown per 1,000 residents unless the unit says otherwise


def rate_interval(numerator: float, denominator: float, per: float = PER,
                  proportion: bool | None = None, method: str | None = None) -> tuple[float, float, float]:
    """(value, lower, upper) of numerator/denominator x per: Wilson for proportions, Byar for counts, none for
    `method="none"` (an estimate or a score: the value alone).

    `method` (Byar, Wilson, none: `services_db.review.intervals.interval_method`) wins; otherwise
    `proportion=True` means Wilson and anything else Byar. Callers choose from the indicator's unit, never from
    whether the numerator happens to be smaller than the denominator.
    """
    if not denominator or denominator <= 0 or numerator is None or not math.isfinite(numerator):
        return (math.nan, math.nan, math.nan)
    value = numerator / denominator * per
    if method is None:
        method = WILSON if proportion else BYAR
    if method == WILSON:
        lo, hi = wilson_interval(numerator, denominator)
        return (value, lo * per, hi * per)
    if method == BYAR:
        lo, hi = byar_interval(numerator)
        return (value, lo / denominator * per, hi / denominator * per)
    return (value, math.nan, math.nan)


def compare(lower: float, upper: float, benchmark: float, higher_is: str = "neutral") -> str:
    """'better'/'similar'/'worse' (directional) or 'higher'/'similar'/'lower' (neutral); 'not compared' if unknown."""
    if any(not isinstance(v, int | float) or not math.isfinite(v) for v in (lower, upper, benchmark)):
        return "not compared"
    if lower > benchmark:
        side = "higher"
    elif upper < benchmark:
        side = "lower"
    else:
        return "similar"
    if higher_is == "worse":
        return "worse" if side == "higher" else "better"
    if higher_is == "better":
        return "better" if side == "higher" else "worse"
    return side


NEED_COLUMNS = [
    "indicator_key", "indicator", "unit", "higher_is", "period", "count", "denominator", "rate", "lower", "upper",
    "force_rate", "comparison", "is_estimate", "rate_unit", "kind", "interval",
]


def _descendants(areas: pd.DataFrame, code: str, level: str) -> list[str]:
    """Codes at `level` under `code` (or `code` itself when it is at that level), in the areas frame's order.

    Read off the hierarchy arrays the review keeps per areas frame, not by walking 35,000 parents in Python."""
    geo = geography_of(areas)
    if level not in LEVELS:
        return []
    under = geo.under(code)
    return geo.codes[under[geo.level_id[under] == LEVELS.index(level)]].tolist()


def _latest(values: pd.DataFrame) -> pd.DataFrame:
    if values.empty:
        return values
    latest = values.groupby("indicator_key")["period"].transform("max")
    return values[values["period"] == latest]


def area_need(data: ReviewData, area_code: str) -> pd.DataFrame:
    """The area's latest value of each indicator with a figure for every one of its districts, its 95% CI (by
    the method the unit calls for) and the force comparison.

    An area's count is the sum over its districts; the force value is the sum over the districts that have a
    figure (an indicator measured in 12 of 14 districts is compared with those 12). An area with no figure for
    one of its districts has no figure (missing is not zero): the indicator is left out of its table. Rates
    are per 1,000 residents unless the unit gives its own base; proportions are percentages. Columns: see
    `NEED_COLUMNS`; `kind` is count, rate, proportion or score, `interval` Byar, Wilson or none.
    """
    areas = data.areas
    pop = dict(zip(areas["code"], pd.to_numeric(areas["population"], errors="coerce"), strict=False))
    pop_est = dict(zip(areas["code"], areas["population_is_estimate"], strict=False))
    districts = set(_descendants(areas, area_code, "district"))
    need = data.need[data.need["area_code"].isin(set(areas.loc[areas["level"] == "district", "code"]))]
    need = _latest(need[need["value"].notna() | (need["numerator"].notna() & need["denominator"].notna())])
    rows = []
    for ind in data.indicators.itertuples(index=False):
        vals = need[need["indicator_key"] == ind.indicator_key]
        if vals.empty:
            continue
        own = vals[vals["area_code"].isin(districts)]
        if own.empty or set(own["area_code"]) != districts:
            continue  # a district without a figure: the area has no figure, not a part-sum
        kind = indicator_kind(ind.unit)
        value_est = bool(own["is_estimate"].fillna(False).astype(bool).any())
        own_pop = np.array([pop.get(c, np.nan) for c in own["area_code"]], dtype=float)
        all_pop = np.array([pop.get(c, np.nan) for c in vals["area_code"]], dtype=float)
        den_est = any(bool(pop_est.get(c, True)) for c in own["area_code"])
        has_ratio = bool(vals["denominator"].notna().all() and vals["numerator"].notna().all())
        per = shown_per(ind.unit)
        if kind == SCORE:  # never summed: the population-weighted mean of its districts', with no interval
            num, den = float((own["value"] * own_pop).sum()), float(own_pop.sum())
            f_num, f_den = float((vals["value"] * all_pop).sum()), float(all_pop.sum())
            per, rate_unit, method = 1.0, str(ind.unit or "score"), NONE
        elif has_ratio:
            num, den = own["numerator"].sum(), own["denominator"].sum()
            f_num, f_den = vals["numerator"].sum(), vals["denominator"].sum()
            rate_unit = "%" if kind == PROPORTION else f"per {per:,.0f}"
            method = interval_method(ind.unit, has_ratio=True, is_estimate=value_est)
            den_est = False
        elif kind == PROPORTION:  # a percentage without its numerator and denominator: no interval
            num, den = float((own["value"] / 100.0 * own_pop).sum()), float(own_pop.sum())
            f_num, f_den = float((vals["value"] / 100.0 * all_pop).sum()), float(all_pop.sum())
            per, rate_unit, method = 100.0, "%", NONE
        else:  # a count (or a rate given per its base) set against the residents
            own_n = own["value"] * own_pop / per if kind == RATE else own["value"]
            all_n = vals["value"] * all_pop / per if kind == RATE else vals["value"]
            num, f_num = float(own_n.sum()), float(all_n.sum())
            den, f_den = float(own_pop.sum()), float(all_pop.sum())
            rate_unit = f"per {per:,.0f} residents"
            method = interval_method(ind.unit, has_ratio=False, is_estimate=value_est)
        value, lo, hi = rate_interval(num, den, per, method=method)
        force_rate = f_num / f_den * per if f_den else math.nan
        rows.append(dict(
            indicator_key=ind.indicator_key, indicator=ind.name, unit=ind.unit, higher_is=ind.higher_is,
            period=str(own["period"].iloc[0]), count=float(num) if kind != SCORE else math.nan,
            denominator=float(den), rate=value, lower=lo, upper=hi, force_rate=force_rate,
            comparison=compare(lo, hi, force_rate, ind.higher_is), is_estimate=value_est or den_est,
            rate_unit=rate_unit, kind=kind, interval=method,
        ))
    return pd.DataFrame(rows, columns=NEED_COLUMNS)


def lsoa_need(data: ReviewData, area_code: str, indicator_key: str) -> pd.DataFrame:
    """Rate per 1,000 residents for each LSOA of the area (code, name, rate, is_estimate).

    Where the indicator is held at district level its count is shared over the district's LSOAs by population,
    so every LSOA shows its district's rate and is marked as an estimate: the map then shows where the
    residents are, never a precision the data does not have.
    """
    areas = data.areas
    lsoas = areas[areas["code"].isin(_descendants(areas, area_code, "lsoa"))]
    need = _latest(data.need[data.need["indicator_key"] == indicator_key])
    direct = need.set_index("area_code")
    pop = dict(zip(areas["code"], areas["population"], strict=False))
    rows = []
    for lsoa in lsoas.itertuples(index=False):
        if lsoa.code in direct.index:
            v = direct.loc[lsoa.code]
            rate = float(v["value"]) / pop[lsoa.code] * PER if pop.get(lsoa.code) else math.nan
            rows.append((lsoa.code, lsoa.name, rate, bool(v["is_estimate"])))
        elif lsoa.parent_code in direct.index:
            v = direct.loc[lsoa.parent_code]
            d_pop = pop.get(lsoa.parent_code)
            rate = float(v["value"]) / d_pop * PER if d_pop else math.nan
            rows.append((lsoa.code, lsoa.name, rate, True))
        else:
            rows.append((lsoa.code, lsoa.name, math.nan, True))
    return pd.DataFrame(rows, columns=["code", "name", "rate", "is_estimate"])


def need_trends(data: ReviewData, area_code: str) -> pd.DataFrame:
    """Indicators with more than one period for the area (summed over its districts) or, failing that, for the
    force as a whole: indicator, period, value, geography (the area's name or the force's), is_estimate."""
    areas = data.areas
    name = dict(zip(areas["code"], areas["name"], strict=False))
    force = areas.loc[areas["level"] == "force", "code"]
    codes = set(_descendants(areas, area_code, "district")) | {area_code}
    ind_name = dict(zip(data.indicators["indicator_key"], data.indicators["name"], strict=False))
    need = data.need[data.need["area_code"].isin(codes | set(force.head(1)))]  # the rows read below, once
    out = []
    for key, vals in need.groupby("indicator_key"):
        own = vals[vals["area_code"].isin(codes)]
        where = name.get(area_code, area_code)
        if own["period"].nunique() < 2 and not force.empty:
            own = vals[vals["area_code"] == force.iloc[0]]
            where = name.get(force.iloc[0], "force")
        if own["period"].nunique() < 2:
            continue
        grouped = own.groupby("period").agg(value=("value", "sum"), is_estimate=("is_estimate", "any")).reset_index()
        grouped.insert(0, "indicator", ind_name.get(key, key))
        grouped["geography"] = where
        out.append(grouped)
    if not out:
        return pd.DataFrame(columns=["indicator", "period", "value", "is_estimate", "geography"])
    return pd.concat(out, ignore_index=True).sort_values(["indicator", "period"]).reset_index(drop=True)
