"""Need indicators for one area against the force, judged the way public health profiles (PHE Fingertips) do.

A Chief Inspector reading "worse than the force" must be able to trust that the difference is not chance, so an
area's rate is compared through its 95% confidence interval: if the whole interval lies above the force value the
area is "higher", below it "lower", otherwise "similar". Where the indicator has a direction (`higher_is`
"worse" or "better") higher/lower become worse/better; where it has none ("neutral") they stay higher/lower.

Intervals: a proportion (numerator ≤ denominator, e.g. a percentage) uses Wilson's score interval; a count over
a population (incidents per 1,000 residents) uses Byar's approximation to the Poisson interval. Both are what
Fingertips uses. Counts with no denominator of their own are set against the area's residents, so a rate per
1,000 residents is what is compared; where those residents are an estimate the result says so.

Everything here is pure (no database, no Streamlit) so the pages, the briefings and the tests share it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from services_db.review.data import LEVELS, ReviewData
from services_db.review.geography import geography_of

Z95 = 1.959963984540054
PER = 1000.0  # rates are shown per 1,000 residents


def wilson_interval(numerator: float, denominator: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion numerator/denominator, as fractions (0..1)."""
    if not denominator or denominator <= 0 or numerator < 0 or numerator > denominator:
        return (math.nan, math.nan)
    p = numerator / denominator
    n = denominator
    centre = 2 * n * p + z * z
    spread = z * math.sqrt(z * z + 4 * n * p * (1 - p))
    base = 2 * (n + z * z)
    return ((centre - spread) / base, (centre + spread) / base)


def byar_interval(count: float, z: float = Z95) -> tuple[float, float]:
    """Byar's approximation to the 95% Poisson interval of an observed count (lower, upper counts)."""
    if count is None or not math.isfinite(count) or count < 0:
        return (math.nan, math.nan)
    if count == 0:
        lower = 0.0
    else:
        lower = count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    c1 = count + 1
    upper = c1 * (1 - 1 / (9 * c1) + z / (3 * math.sqrt(c1))) ** 3
    return (max(lower, 0.0), upper)


def rate_interval(numerator: float, denominator: float, per: float = PER,
                  proportion: bool | None = None) -> tuple[float, float, float]:
    """(value, lower, upper) of numerator/denominator × per, with Wilson for proportions and Byar for counts.

    `proportion=None` decides from the figures: a numerator no larger than its denominator that came with its
    own denominator is a proportion; callers setting counts against residents pass `proportion=False`.
    """
    if not denominator or denominator <= 0 or numerator is None or not math.isfinite(numerator):
        return (math.nan, math.nan, math.nan)
    value = numerator / denominator * per
    if proportion is None:
        proportion = 0 <= numerator <= denominator
    if proportion:
        lo, hi = wilson_interval(numerator, denominator)
        return (value, lo * per, hi * per)
    lo, hi = byar_interval(numerator)
    return (value, lo / denominator * per, hi / denominator * per)


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
    "force_rate", "comparison", "is_estimate", "rate_unit",
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
    """The area's latest value of each indicator with a district figure, its 95% CI and the force comparison.

    An area's count is the sum over its districts; the force value is the sum over the districts that have a
    figure (an indicator measured in 12 of 14 districts is compared with those 12). Rates are per 1,000
    residents unless the indicator brings its own numerator and denominator.
    """
    areas = data.areas
    pop = dict(zip(areas["code"], areas["population"], strict=False))
    pop_est = dict(zip(areas["code"], areas["population_is_estimate"], strict=False))
    districts = set(_descendants(areas, area_code, "district"))
    need = data.need[data.need["area_code"].isin(set(areas.loc[areas["level"] == "district", "code"]))]
    need = _latest(need)
    rows = []
    for ind in data.indicators.itertuples(index=False):
        vals = need[need["indicator_key"] == ind.indicator_key]
        if vals.empty:
            continue
        own = vals[vals["area_code"].isin(districts)]
        if own.empty:
            continue
        has_den = vals["denominator"].notna().all() and vals["numerator"].notna().all()
        if has_den:
            num, den = own["numerator"].sum(), own["denominator"].sum()
            f_num, f_den = vals["numerator"].sum(), vals["denominator"].sum()
            is_prop = bool((vals["numerator"] <= vals["denominator"]).all())
            per = 100.0 if is_prop else PER
            rate_unit = "%" if is_prop else "per 1,000"
            den_est = False
        else:
            num, den = own["value"].sum(), sum(pop.get(c, np.nan) for c in own["area_code"])
            f_num = vals["value"].sum()
            f_den = sum(pop.get(c, np.nan) for c in vals["area_code"])
            is_prop, per, rate_unit = False, PER, "per 1,000 residents"
            den_est = any(bool(pop_est.get(c, True)) for c in vals["area_code"])
        value, lo, hi = rate_interval(num, den, per, proportion=is_prop)
        force_rate = f_num / f_den * per if f_den else math.nan
        rows.append(dict(
            indicator_key=ind.indicator_key, indicator=ind.name, unit=ind.unit, higher_is=ind.higher_is,
            period=str(own["period"].iloc[0]), count=float(num), denominator=float(den), rate=value, lower=lo,
            upper=hi, force_rate=force_rate, comparison=compare(lo, hi, force_rate, ind.higher_is),
            is_estimate=bool(own["is_estimate"].any()) or den_est, rate_unit=rate_unit,
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
