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

Values held below district level (police.uk crime counts per LSOA, IMD File 7 scores per LSOA) reach the Need
table, the LSOA map and the trends through `district_figures`: each district's figure for an indicator and period
is made from the finest level that is complete for it, so nothing is counted twice (the rule is in its docstring).

Everything here is pure (no database, no Streamlit) so the pages, the briefings and the tests share it.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import pandas as pd

from services_db.hierarchy import hierarchy_of
from services_db.review.data import LEVELS, ReviewData
from services_db.review.dates import latest_periods
from services_db.review.geography import geography_of
from services_db.review.intervals import (
    BYAR,
    COUNT,
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
    unit_base,
    wilson_interval,
)

__all__ = ["Z95", "PER", "wilson_interval", "byar_interval", "rate_interval", "compare", "area_need", "lsoa_need",
           "need_trends", "district_figures", "shared_out_indicators", "lsoa_indicators", "SHARED_OUT"]

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
    "force_rate", "comparison", "is_estimate", "rate_unit", "kind", "interval", "shared_out",
]
# What a figure that is one force figure shared out by population is compared as: it cannot differ from the force
# anywhere, so "similar" would be a claim the data cannot make (issue 14).
SHARED_OUT = "shared-out force figure, not a comparison"
SHARED_TOLERANCE = 1e-4  # shares are rounded to the hundredth of an incident: equal rates differ by ~1e-5


def _latest(values: pd.DataFrame) -> pd.DataFrame:
    """Each indicator's rows of its latest period (by the period's last day: `review.dates.latest_periods`)."""
    if values.empty:
        return values
    latest = latest_periods(values["indicator_key"], values["period"])
    return values[values["period"].astype(str).to_numpy() == latest.reindex(values["indicator_key"]).to_numpy()]


FIGURE_COLUMNS = ["indicator_key", "area_code", "period", "value", "numerator", "denominator", "is_estimate",
                  "source_level"]
_LEVEL = {name: i for i, name in enumerate(LEVELS)}
_FIGURES: dict[tuple[int, int, int], tuple[tuple[weakref.ref, ...], pd.DataFrame]] = {}


def _kinds(data: ReviewData) -> dict[str, tuple[str, object]]:
    """indicator_key -> (kind, unit)."""
    ind = data.indicators
    return {k: (indicator_kind(u), u) for k, u in zip(ind["indicator_key"], ind["unit"], strict=False)}


def district_figures(data: ReviewData) -> pd.DataFrame:
    """Every indicator's figure for each district and period it has one, however the data are held.

    Columns: `FIGURE_COLUMNS` (the need frame's, with `area_code` a district, plus `source_level`: "lsoa" where
    the figure is rolled up from LSOA values, "district" where the district's own value is used). The rule, for each
    indicator, period and district, is the finest level that is complete:

    1. LSOA values, when they cover the district. Counts are summed; values with a numerator and denominator have
       both summed and the rate recomputed from them (never averaged); scores (IMD), and rates or percentages given
       without their numerator and denominator, are population-weighted means of the LSOAs'. A set of counts at
       LSOA level (police.uk street-level crime: one file per force a month) lists only the LSOAs with something
       to count, so an LSOA without a row counts zero and the set covers the district as soon as the district has
       any LSOA row. Any other LSOA set covers a district only when every one of its LSOAs has a value (missing
       is not zero).
    2. Otherwise the district's own value for that period, if there is one.
    3. Otherwise, for a set of LSOA counts, zero: such a set covers the whole of each force it has rows in, and a
       district of that force with no row in it had nothing to count.

    A district never gets both an LSOA roll-up and its own value, so nothing is counted twice; an LSOA figure
    made by a rule (`is_estimate`) makes the district's figure an estimate. Values at place-based area, division
    or force level are left to the callers (the trends fall back to them). Built once per need frame (frames are
    treated as immutable, as `services_db.queries.review_data` hands out the same frames until the data change).
    """
    frames = (data.need, data.areas, data.indicators)
    key = tuple(id(f) for f in frames)
    hit = _FIGURES.get(key)
    if hit is not None and all(ref() is f for ref, f in zip(hit[0], frames, strict=True)):
        return hit[1]
    out = _district_figures(data)
    if len(_FIGURES) >= 4:
        for stale in [k for k, (refs, _) in _FIGURES.items() if any(r() is None for r in refs)] or list(_FIGURES)[:1]:
            _FIGURES.pop(stale, None)
    _FIGURES[key] = (tuple(weakref.ref(f) for f in frames), out)
    return out


def _district_figures(data: ReviewData) -> pd.DataFrame:
    """`district_figures` uncached. National data hold millions of LSOA rows (34,753 LSOAs x indicators x
    months), so the work is on integer codes: one sort to group, `bincount` to add up."""
    need, geo = data.need, geography_of(data.areas)
    if need.empty:
        return pd.DataFrame(columns=FIGURE_COLUMNS)
    kinds = _kinds(data)
    ind_code, ind_names = pd.factorize(need["indicator_key"])
    per_code, per_names = pd.factorize(need["period"].astype(str))
    area_code, area_names = pd.factorize(need["area_code"])
    ind_names = np.asarray(ind_names, dtype=object)
    per_names = np.asarray(per_names, dtype=object)
    pos = np.where(area_code >= 0, geo.positions(np.asarray(area_names, dtype=object))[area_code], -1) \
        if len(area_names) else np.full(len(need), -1, dtype=np.int64)
    lvl = np.where(pos >= 0, geo.level_id[np.maximum(pos, 0)], -1)
    value = pd.to_numeric(need["value"], errors="coerce").to_numpy(dtype=float)
    num = pd.to_numeric(need["numerator"], errors="coerce").to_numpy(dtype=float)
    den = pd.to_numeric(need["denominator"], errors="coerce").to_numpy(dtype=float)
    ratio = np.isfinite(num) & np.isfinite(den) & (den > 0)
    figure = (np.isfinite(value) | ratio) & (ind_code >= 0)
    est = need["is_estimate"].fillna(False).astype(bool).to_numpy()
    ind_kind = np.array([kinds.get(k, (COUNT, None))[0] for k in ind_names], dtype=object)
    ind_base = np.array([unit_base(kinds.get(k, (COUNT, None))[1]) for k in ind_names], dtype=float)

    d = (lvl == _LEVEL["district"]) & figure
    own = pd.DataFrame({"indicator_key": ind_names[ind_code[d]], "area_code": geo.codes[pos[d]],
                        "period": per_names[per_code[d]], "value": value[d],
                        "numerator": np.where(ratio[d], num[d], np.nan),
                        "denominator": np.where(ratio[d], den[d], np.nan), "is_estimate": est[d],
                        "source_level": "district"})

    district = np.where(lvl == _LEVEL["lsoa"], geo.area_ancestor[_LEVEL["district"], np.maximum(pos, 0)], -1)
    sel = (lvl == _LEVEL["lsoa"]) & figure & (district >= 0)
    parts = []
    if sel.any():
        n_per, n_areas = len(per_names), len(geo.codes)
        key = (ind_code[sel].astype(np.int64) * n_per + per_code[sel]) * n_areas + district[sel]
        groups, inv = np.unique(key, return_inverse=True)
        size = len(groups)
        v, pop = np.nan_to_num(value[sel]), geo.area_population[pos[sel]]

        def total(weights: np.ndarray) -> np.ndarray:
            return np.bincount(inv, weights=weights, minlength=size)

        n = np.bincount(inv, minlength=size)
        g_sum, g_num, g_den = total(v), total(np.nan_to_num(num[sel])), total(np.nan_to_num(den[sel]))
        g_ratio = total(ratio[sel].astype(float)) == n
        g_est = total(est[sel].astype(float)) > 0
        g_weighted, g_pop = total(v * pop), total(pop)
        g_ind, g_per, g_district = groups // (n_per * n_areas), (groups // n_areas) % n_per, groups % n_areas
        set_key = g_ind * n_per + g_per  # one indicator and period: one data set
        sets, set_inv = np.unique(set_key, return_inverse=True)
        set_ratio = (np.bincount(set_inv, weights=(~g_ratio).astype(float), minlength=len(sets)) == 0)[set_inv]
        kind = ind_kind[g_ind]
        counts = (kind == COUNT) & ~set_ratio  # a set of counts: an LSOA without a row counts zero
        with_ratio = set_ratio & (kind != SCORE)
        lsoa_district = geo.lsoa_ancestor[_LEVEL["district"]]
        n_lsoas = np.bincount(lsoa_district[lsoa_district >= 0], minlength=n_areas)
        complete = counts | (n >= n_lsoas[g_district])
        base = ind_base[g_ind]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = g_weighted / g_pop
            recomputed = np.where(np.isfinite(base), g_num / g_den * base, g_sum)
        parts.append(pd.DataFrame({
            "indicator_key": ind_names[g_ind], "area_code": geo.codes[g_district], "period": per_names[g_per],
            "value": np.where(counts, g_sum, np.where(with_ratio, recomputed, mean)),
            "numerator": np.where(with_ratio, g_num, np.nan), "denominator": np.where(with_ratio, g_den, np.nan),
            "is_estimate": g_est, "source_level": "lsoa"})[complete])

        # Rule 3 (after the district's own value in preference): every district of each force a set of counts
        # has rows in, at zero.
        force = geo.area_ancestor[_LEVEL["force"], g_district]
        zero_sets = pd.DataFrame({"set": set_key[counts], "force": force[counts]}).drop_duplicates()
        districts = np.flatnonzero(geo.level_id == _LEVEL["district"])
        by_force = pd.DataFrame({"force": geo.area_ancestor[_LEVEL["force"], districts], "district": districts})
        z = zero_sets.merge(by_force, on="force")
        zeros = pd.DataFrame({
            "indicator_key": ind_names[z["set"].to_numpy() // n_per], "area_code": geo.codes[z["district"].to_numpy()],
            "period": per_names[z["set"].to_numpy() % n_per], "value": 0.0, "numerator": np.nan,
            "denominator": np.nan, "is_estimate": False, "source_level": "lsoa"})
    else:
        zeros = pd.DataFrame(columns=FIGURE_COLUMNS)
    parts = [f for f in (*parts, own, zeros) if len(f)]  # in order of preference: the first of each wins
    if not parts:
        return pd.DataFrame(columns=FIGURE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out = out.drop_duplicates(["indicator_key", "period", "area_code"], keep="first")
    out["is_estimate"] = out["is_estimate"].astype(bool)
    return out[FIGURE_COLUMNS].reset_index(drop=True)


def area_need(data: ReviewData, area_code: str) -> pd.DataFrame:
    """The area's latest value of each indicator with a figure for every one of its districts, its 95% CI (by
    the method the unit calls for) and the force comparison.

    District figures come from `district_figures`, so values held per LSOA (police.uk, IMD) count: summed
    (counts), recomputed from summed numerators and denominators (rates), or population-weighted (scores).
    An area's count is the sum over its districts; the force value is the sum over the districts that have a
    figure (an indicator measured in 12 of 14 districts is compared with those 12). An area with no figure for
    one of its districts has no figure (missing is not zero): the indicator is left out of its table. Rates
    are per 1,000 residents unless the unit gives its own base; proportions are percentages. Columns: see
    `NEED_COLUMNS`; `kind` is count, rate, proportion or score, `interval` Byar, Wilson or none. `shared_out` marks
    an indicator whose district figures are one force figure shared out by population (`shared_out_indicators`):
    its comparison is `SHARED_OUT`, never "similar", because it cannot differ from the force anywhere.
    """
    areas = data.areas
    pop = dict(zip(areas["code"], pd.to_numeric(areas["population"], errors="coerce"), strict=False))
    pop_est = dict(zip(areas["code"], areas["population_is_estimate"], strict=False))
    districts = set(hierarchy_of(data).descendants(area_code, "district"))
    need = _latest(district_figures(data))
    shared = shared_out_indicators(data)
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
            comparison=SHARED_OUT if ind.indicator_key in shared else compare(lo, hi, force_rate, ind.higher_is),
            is_estimate=value_est or den_est, rate_unit=rate_unit, kind=kind, interval=method,
            shared_out=ind.indicator_key in shared,
        ))
    return pd.DataFrame(rows, columns=NEED_COLUMNS)


def shared_out_indicators(data: ReviewData) -> set[str]:
    """Indicators whose latest district figures are a force figure shared out by population, so no area can
    differ from the force (the demo's "Police incidents recorded": seed 002 gives the force total only).

    The test is what the figures are, not where they came from: every district with a figure has one made by a
    rule (`is_estimate`), there are at least two, none carries its own numerator and denominator, and they are
    one rate per resident (counts divided by the district's residents; other kinds as given) to within
    `SHARED_TOLERANCE` of each other. A remainder shared among some districts beside others' real figures is
    not caught (those real figures differ), and is shown as the estimate it is.
    """
    figures = _latest(district_figures(data))
    if figures.empty:
        return set()
    residents = dict(zip(data.areas["code"], pd.to_numeric(data.areas["population"], errors="coerce"), strict=False))
    kinds = _kinds(data)
    out = set()
    for key, rows in figures.groupby("indicator_key", sort=False):
        if len(rows) < 2 or not rows["is_estimate"].all() or rows["numerator"].notna().any():
            continue
        values = rows["value"].to_numpy(dtype=float)
        if kinds.get(key, (COUNT, None))[0] == COUNT:
            values = values / np.array([residents.get(c, math.nan) for c in rows["area_code"]], dtype=float)
        if not np.isfinite(values).all():
            continue
        centre = float(np.abs(values).mean())
        if float(values.max() - values.min()) <= SHARED_TOLERANCE * max(centre, 1e-12):
            out.add(str(key))
    return out


def lsoa_indicators(data: ReviewData, area_code: str) -> list[str]:
    """The indicators with LSOA values of their own in every district of the area (police.uk crime, IMD File 7):
    the only ones an LSOA map of the area can show. Elsewhere an LSOA's value is its district's figure shared out
    by population, and a map of it is one colour per district: it carries no information, so none is drawn."""
    districts = set(hierarchy_of(data).descendants(area_code, "district"))
    figures = _latest(district_figures(data))
    if figures.empty or not districts:
        return []
    own = figures[figures["area_code"].isin(districts)]
    keep = []
    for key in data.indicators["indicator_key"]:
        rows = own[own["indicator_key"] == key]
        if set(rows["area_code"]) == districts and (rows["source_level"] == "lsoa").all():
            keep.append(str(key))
    return keep


def _shown_value(kind: str, unit: object, value: float, num: float, den: float, residents: float) -> float:
    """The figure a map shows for one area: a count per 1,000 residents, a rate from its own numerator and
    denominator (per the unit's base), or the value itself for a score or a rate given without them."""
    if kind != SCORE and num == num and den == den and den > 0:
        return num / den * shown_per(unit)
    if kind == COUNT:
        return value / residents * PER if residents and residents == residents and residents > 0 else math.nan
    return float(value)


def _shown_unit(kind: str, unit: object, ratio: bool) -> str:
    """The unit of `_shown_value` (the Need table's `rate_unit`)."""
    if kind == SCORE:
        return str(unit or "score")
    if kind == PROPORTION:
        return "%"
    if kind == RATE:
        return f"per {shown_per(unit):,.0f}" + ("" if ratio else " residents")
    return f"per {PER:,.0f}" if ratio else f"per {PER:,.0f} residents"


LSOA_COLUMNS = ["code", "name", "rate", "is_estimate", "unit"]


def lsoa_need(data: ReviewData, area_code: str, indicator_key: str) -> pd.DataFrame:
    """The indicator's figure for each LSOA of the area, in the period the Need table shows (its latest):
    code, name, rate, is_estimate, unit (a count is shown per 1,000 residents; a rate, percentage or score as
    itself; `unit` says which).

    Where the district's figure is made from LSOA values (`district_figures`), each LSOA shows its own value, and
    in a set of counts an LSOA without a row shows zero (nothing was counted there). Where the indicator is held
    at district level its count is shared over the district's LSOAs by population, so every LSOA shows its
    district's rate and is marked as an estimate: the map then shows where the residents are, never a precision
    the data does not have.
    """
    areas = data.areas
    lsoas = areas[areas["code"].isin(hierarchy_of(data).under(area_code))]
    kind, unit = _kinds(data).get(indicator_key, (COUNT, None))
    figures = district_figures(data)
    figures = _latest(figures[figures["indicator_key"] == indicator_key])
    if figures.empty:
        rows = [(c, n, math.nan, True) for c, n in zip(lsoas["code"], lsoas["name"], strict=True)]
        out = pd.DataFrame(rows, columns=LSOA_COLUMNS[:-1])
        out["unit"] = _shown_unit(kind, unit, False)
        return out
    period = str(figures["period"].iloc[0])
    by_district = figures.set_index("area_code")
    need = data.need
    own = need[(need["indicator_key"] == indicator_key) & (need["period"].astype(str) == period)
               & need["area_code"].isin(set(lsoas["code"]))]
    own = own.drop_duplicates("area_code").set_index("area_code")
    pop = dict(zip(areas["code"], pd.to_numeric(areas["population"], errors="coerce"), strict=False))
    ratio = bool(by_district["numerator"].notna().all() and by_district["denominator"].notna().all())

    def number(v: object) -> float:
        return float(pd.to_numeric(v, errors="coerce"))

    rows = []
    tree = hierarchy_of(data)
    for lsoa in lsoas.itertuples(index=False):
        # its district, not its parent: an LSOA of a place-based area carved out of a district (a grouping's LSOA
        # set, services_db.groupings) has that small area as its parent and the district above it
        district = tree.ancestor_at(lsoa.code, "district")
        d = by_district.loc[district] if district in by_district.index else None
        if d is None:
            rows.append((lsoa.code, lsoa.name, math.nan, True))
        elif d["source_level"] == "lsoa":
            if lsoa.code in own.index:
                v = own.loc[lsoa.code]
                rate = _shown_value(kind, unit, number(v["value"]), number(v["numerator"]),
                                    number(v["denominator"]), pop.get(lsoa.code))
                rows.append((lsoa.code, lsoa.name, rate, bool(v["is_estimate"])))
            elif kind == COUNT:  # a set of counts lists only the LSOAs with something to count
                rows.append((lsoa.code, lsoa.name, 0.0, False))
            else:
                rows.append((lsoa.code, lsoa.name, math.nan, True))
        else:  # the district's own figure, shared by population: an estimate for every LSOA
            rate = _shown_value(kind, unit, number(d["value"]), number(d["numerator"]), number(d["denominator"]),
                                pop.get(district))
            rows.append((lsoa.code, lsoa.name, rate, True))
    out = pd.DataFrame(rows, columns=LSOA_COLUMNS[:-1])
    out["unit"] = _shown_unit(kind, unit, ratio)
    return out


def _combine(rows: pd.DataFrame, kind: str, unit: object, residents: dict[str, float]) -> float:
    """One figure for several districts' rows of one indicator and period: counts summed, rates recomputed from
    summed numerators and denominators, scores (and rates given without them) population-weighted."""
    ratio = bool(rows["numerator"].notna().all() and rows["denominator"].notna().all())
    if kind != SCORE and ratio:
        base = unit_base(unit)
        num, den = float(rows["numerator"].sum()), float(rows["denominator"].sum())
        return num / den * base if math.isfinite(base) and den > 0 else float(rows["value"].sum())
    if kind == COUNT:
        return float(rows["value"].sum())
    weights = np.array([residents.get(c, math.nan) for c in rows["area_code"]], dtype=float)
    values = rows["value"].to_numpy(dtype=float)
    if not np.isfinite(weights).all() or weights.sum() <= 0:
        return float(values.mean())
    return float((values * weights).sum() / weights.sum())


def need_trends(data: ReviewData, area_code: str) -> pd.DataFrame:
    """Indicators with more than one period for the area or, failing that, for the force as a whole: indicator,
    period, value, geography (the area's name or the force's), is_estimate.

    A period counts for the area when every one of its districts has a figure (`district_figures`, so LSOA values
    roll up), combined as `area_need` does: counts summed, rates recomputed from numerators and denominators,
    scores population-weighted; failing that, the area's own value for the period. The force likewise: from every
    district of the force, else the force's own value."""
    areas = data.areas
    name = dict(zip(areas["code"], areas["name"], strict=False))
    residents = dict(zip(areas["code"], pd.to_numeric(areas["population"], errors="coerce"), strict=False))
    force = areas.loc[areas["level"] == "force", "code"]
    force_code = str(force.iloc[0]) if not force.empty else None
    kinds = _kinds(data)
    ind_name = dict(zip(data.indicators["indicator_key"], data.indicators["name"], strict=False))
    figures = district_figures(data)
    need = data.need
    direct = need[need["area_code"].isin({area_code, force_code} - {None})
                  & (pd.to_numeric(need["value"], errors="coerce").notna())]
    tree = hierarchy_of(data)
    scopes = [(area_code, set(tree.descendants(area_code, "district")))]
    if force_code is not None and force_code != area_code:
        scopes.append((force_code, set(tree.descendants(force_code, "district"))))
    out = []
    for key in sorted(set(figures["indicator_key"]) | set(direct["indicator_key"])):
        kind, unit = kinds.get(key, (COUNT, None))
        figs = figures[figures["indicator_key"] == key]
        for code, districts in scopes:
            series: dict[str, tuple[float, bool]] = {}
            mine = figs[figs["area_code"].isin(districts)]
            for period, rows in mine.groupby("period"):
                if districts and set(rows["area_code"]) == districts:
                    series[str(period)] = (_combine(rows, kind, unit, residents), bool(rows["is_estimate"].any()))
            for row in direct[(direct["indicator_key"] == key) & (direct["area_code"] == code)].itertuples():
                series.setdefault(str(row.period), (float(row.value), bool(row.is_estimate)))
            if len(series) >= 2:
                out.append(pd.DataFrame({
                    "indicator": ind_name.get(key, key), "period": list(series),
                    "value": [v for v, _ in series.values()], "is_estimate": [e for _, e in series.values()],
                    "geography": name.get(code, "force" if code == force_code else code)}))
                break
    columns = ["indicator", "period", "value", "is_estimate", "geography"]
    if not out:
        return pd.DataFrame(columns=columns)
    return pd.concat(out, ignore_index=True)[columns].sort_values(["indicator", "period"]).reset_index(drop=True)
