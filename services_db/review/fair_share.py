"""Fair share: what a needs-based formula would have given each area of a fund, beside what it actually got.

Seed 002: the 2013-14 Community Safety Fund split to the three top-tier authorities simply repeated the 2012-13
ratio. Given weights on population and on chosen need indicators, each area's fair share is the fund's allocated
total times the weighted mean of its shares of those factors; the difference (actual - fair) shows who got more
and who got less than the formula would give. The total used is what was allocated and placed (the sum of
top-level allocations found in the hierarchy), so differences add up to zero and measure redistribution only.

Missing need is not zero (review.md v2): an area with no figure for a chosen indicator is named (`no_figure`) and
the formula's weights are re-normalised over the factors it has, never a zero. An indicator's share is taken
over the areas with a figure and scaled to their share of the population, so an area without the figure gets
its population share in its place: with "population 50%, Early Action incidents 50%" Blackpool (no figure) gets
its population share, and the 12 districts with a figure share their population's worth by the formula. An area
with no figure for any chosen factor falls back on population.

Only a fund's **eligible** areas have a fair share (review.md: a county council fund is not the unitary councils'
to share); an area the fund is not open to has none, unless money reached it all the same. The money compared is
the fund's money at the as-at date (`services_db.review.allocations`): a fund whose period has ended has none. Scores and ranks (IMD) weigh in as
population-weighted means (residents x score), reflected when higher is better; a count or rate whose higher
values are better measures something good, not need, and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from services_db.review.allocations import place_fund
from services_db.review.context import Context, objects
from services_db.review.data import ReviewData
from services_db.review.geography import check_level
from services_db.review.intervals import SCORE
from services_db.review.shares import need_matrix

POPULATION = "population"


def normalise_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """Weights as fractions adding to 1 (default: population only); negative or all-zero weights are refused."""
    w = dict(weights) if weights else {POPULATION: 1.0}
    if any(v < 0 for v in w.values()) or sum(w.values()) <= 0:
        raise ValueError(f"weights must be non-negative and not all zero: {w}")
    total = float(sum(w.values()))
    return {k: float(v) / total for k, v in w.items() if v > 0}


def fair_share(data: ReviewData, fund_key: str, *, weights: Mapping[str, float] | None = None,
               level: str = "district", allocation_ids: tuple[int, ...] | None = None,
               as_at: object = None) -> pd.DataFrame:
    """Per area: actual allocation, fair share under `weights`, and the difference (actual - fair share).

    `weights` maps "population" and/or need indicator keys to weights (any scale; default population only).
    `allocation_ids` restricts the comparison to some allocations (and their breakdowns), e.g. the three
    top-tier authority lines of seed 002. Columns: area_code, area_name, actual, actual_share, fair_share,
    fair_share_share, difference, eligible (the fund is open to the area), no_figure (the names of the chosen
    indicators the area has no figure for, "; "-joined, "" when it has them all), and share_<factor> for each
    factor (its share over the eligible areas with a figure; NaN where the area has none). `as_at`: the date whose
    money is compared; by default the start of the fund's own period (the question is what a needs-based split of
    that fund would have been, whatever today's date), or today for a fund with no period.
    """
    if as_at is None:
        funds = data.funds
        starts = funds.loc[funds["fund_key"].astype(str) == str(fund_key), "start_date"] \
            if "start_date" in funds.columns else pd.Series(dtype=object)
        start = pd.to_datetime(starts, errors="coerce").dropna()
        as_at = start.iloc[0] if len(start) else None
    return pd.DataFrame(_fair_share(Context(data, as_at), fund_key, weights, check_level(level), allocation_ids))


def _fair_share(ctx: Context, fund_key: str, weights: Mapping[str, float] | None, level: str,
                allocation_ids: tuple[int, ...] | None) -> dict[str, np.ndarray]:
    w = normalise_weights(weights)
    units = ctx.geo.units(level)
    placed = place_fund(ctx, fund_key, level, allocation_ids)
    actual = placed.amount
    total = float(actual.sum())
    eligible = placed.eligible | (actual > 0)
    pop = np.where(eligible, units.population.astype(float), 0.0)
    pop_share = pop / pop.sum() if pop.sum() > 0 else np.zeros(len(units))
    labels = {k: _label(ctx, k) for k in w}
    factors: dict[str, np.ndarray] = {}  # share over the areas with a figure (NaN elsewhere)
    scaled: dict[str, np.ndarray] = {}  # the same, times those areas' share of the population
    for key in w:
        if key == POPULATION:
            factors[key] = scaled[key] = pop_share
            continue
        factors[key], scaled[key] = _need_factor(ctx, level, key, pop, eligible)
    keys = list(w)
    weight = np.array([w[k] for k in keys])
    avail = np.column_stack([np.isfinite(scaled[k]) for k in keys]) if keys else np.zeros((len(units), 0), bool)
    values = np.column_stack([np.nan_to_num(scaled[k]) for k in keys]) if keys else np.zeros((len(units), 0))
    used = avail * weight[None, :]
    norm = used.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mix = np.where(norm > 0, (used * values).sum(axis=1) / np.where(norm > 0, norm, 1.0), pop_share)
    mix = np.where(eligible, mix, 0.0)
    mix = mix / mix.sum() if mix.sum() > 0 else mix
    fair = total * mix
    missing = [[labels[k] for k, ok in zip(keys, row, strict=True) if not ok and k != POPULATION] if e else []
               for row, e in zip(avail, eligible, strict=True)]
    cols = {
        "area_code": units.codes, "area_name": units.names, "actual": actual,
        "actual_share": actual / total if total > 0 else np.zeros(len(units)),
        "fair_share": fair, "fair_share_share": mix, "difference": actual - fair,
        "eligible": eligible, "no_figure": objects(["; ".join(m) for m in missing]),
    }
    for k, v in factors.items():
        cols[f"share_{k}"] = v
    return cols


def _need_factor(ctx: Context, level: str, key: str, pop: np.ndarray,
                 eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(share over the eligible areas with a figure, that share x those areas' share of the eligible population),
    NaN where an area has no figure or is not eligible. Scores are residents x score (reflected when higher is
    better)."""
    n = need_matrix(ctx, level, (key,))
    if len(n.keys) == 0 or n.totals[0] <= 0:
        raise ValueError(f"no need data below the force level for indicator {key!r}")
    has = n.has[:, 0] & eligible
    values = np.where(has, np.nan_to_num(n.values[:, 0]), 0.0)
    if n.higher_is[0] == "better":
        if n.kinds[0] != SCORE:
            raise ValueError(f"indicator {key!r}: higher values are better, so it measures no need to share money by")
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(has & (pop > 0), values / np.where(pop > 0, pop, 1.0), np.nan)
        lo, hi = np.nanmin(mean), np.nanmax(mean)
        values = np.where(has, np.nan_to_num(lo + hi - mean) * pop, 0.0)  # the worst score weighs most
    total = values.sum()
    if total <= 0:
        raise ValueError(f"no need above zero for indicator {key!r}")
    share = np.where(has, values / total, np.nan)
    covered = pop[has].sum() / pop.sum() if pop.sum() > 0 else 0.0
    return share, share * covered


def _label(ctx: Context, key: str) -> str:
    meta = ctx.prep.indicator_meta
    return "population" if key == POPULATION else meta[key][0] if key in meta else str(key).replace("_", " ")


def formula_labels(ctx: Context, weights: Mapping[str, float] | None) -> list[tuple[str, float]]:
    """(name, weight) of each factor, for the sentence: ("population", 0.5), ("domestic abuse incidents", 0.5)."""
    return [(_label(ctx, k), v) for k, v in normalise_weights(weights).items()]
