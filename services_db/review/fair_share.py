"""Fair share: what a needs-based formula would have given each area of a fund, beside what it actually got.

Seed 002: the 2013-14 Community Safety Fund split to the three top-tier authorities simply repeated the 2012-13
ratio. Given weights on population and on chosen need indicators, each area's fair share is the fund's allocated
total times the weighted mean of its shares of those factors; the difference (actual - fair) shows who got more
and who got less than the formula would give. The total used is what was allocated and placed (the sum of
top-level allocations found in the hierarchy), so differences add up to zero and measure redistribution only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from services_db.review.allocations import place_fund
from services_db.review.context import Context
from services_db.review.data import ReviewData
from services_db.review.geography import check_level
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
               level: str = "district", allocation_ids: tuple[int, ...] | None = None) -> pd.DataFrame:
    """Per area: actual allocation, fair share under `weights`, and the difference (actual - fair share).

    `weights` maps "population" and/or need indicator keys to weights (any scale; default population only).
    `allocation_ids` restricts the comparison to some allocations (and their breakdowns), e.g. the three
    top-tier authority lines of seed 002. Columns: area_code, area_name, actual, actual_share, fair_share,
    fair_share_share, difference, and share_<factor> for each factor.
    """
    return pd.DataFrame(_fair_share(Context(data, None), fund_key, weights, check_level(level), allocation_ids))


def _fair_share(ctx: Context, fund_key: str, weights: Mapping[str, float] | None, level: str,
                allocation_ids: tuple[int, ...] | None) -> dict[str, np.ndarray]:
    w = normalise_weights(weights)
    units = ctx.geo.units(level)
    placed = place_fund(ctx, fund_key, level, allocation_ids)
    actual = placed.amount
    total = float(actual.sum())
    factors: dict[str, np.ndarray] = {}
    for key in w:
        if key == POPULATION:
            pop = units.population
            factors[key] = pop / pop.sum() if pop.sum() > 0 else np.zeros(len(units))
            continue
        n = need_matrix(ctx, level, (key,))
        if len(n.keys) == 0 or n.totals[0] <= 0:
            raise ValueError(f"no need data below the force level for indicator {key!r}")
        factors[key] = n.shares[:, 0]
    mix = sum(w[k] * factors[k] for k in w)
    fair = total * mix
    cols = {
        "area_code": units.codes, "area_name": units.names, "actual": actual,
        "actual_share": actual / total if total > 0 else np.zeros(len(units)),
        "fair_share": fair, "fair_share_share": mix, "difference": actual - fair,
    }
    for k, v in factors.items():
        cols[f"share_{k}"] = v
    return cols


def formula_labels(ctx: Context, weights: Mapping[str, float] | None) -> list[tuple[str, float]]:
    """(name, weight) of each factor, for the sentence: ("population", 0.5), ("domestic abuse incidents", 0.5)."""
    meta = ctx.prep.indicator_meta
    return [("population" if k == POPULATION else meta[k][0] if k in meta else str(k).replace("_", " "), v)
            for k, v in normalise_weights(weights).items()]
