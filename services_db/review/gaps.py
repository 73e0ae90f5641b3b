"""Gaps: areas whose share of a theme's need is well above their share of its funding.

review.md: gap index = need share / provision share. A gap is flagged where need share >= 1.2 x the area's
population share and the gap index >= 1.5 (need is both high for the area's size and poorly matched by money), or
where need is present and provision is zero. Gaps are ranked by the money that would bring the area's provision
share up to its need share with the theme's total unchanged: need share x theme total - provision.

Gaps raised by Early Action Teams are not part of `ReviewData`; pass them as `raised_gaps` (a frame with
`area_code` and `theme_key`, e.g. from the gap_report table) and they are counted beside the computed gap of the
same area and theme.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from services_db.review.context import Context, lookup, objects
from services_db.review.data import ReviewData
from services_db.review.dates import DateLike
from services_db.review.geography import check_level
from services_db.review.shares import provision_matrix, theme_need

NEED_RATIO = 1.2  # need share >= this x population share ...
MIN_GAP_INDEX = 1.5  # ... and need share / provision share >= this
TOLERANCE = 1e-9

GAP_COLUMNS = [
    "area_code", "area_name", "theme_key", "theme_name", "need_label", "n_indicators", "indicator_keys",
    "population_share", "need_share", "provision", "provision_total", "provision_share", "services", "gap_index",
    "is_gap", "reason", "money_to_parity", "rank", "raised", "need_is_estimate",
]


def gaps(
    data: ReviewData,
    as_at: DateLike,
    *,
    level: str = "area",
    need_ratio: float = NEED_RATIO,
    min_gap_index: float = MIN_GAP_INDEX,
    indicators: tuple[str, ...] | None = None,
    raised_gaps: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (area, theme with need data): shares, gap index, whether it is a gap, money to parity, rank.

    `indicators` limits the need indicators used (default: all). Rows are ordered flagged gaps first, largest
    money to parity first; `rank` numbers the flagged gaps 1, 2, ... and is 0 for the others.
    """
    cols = _gaps(Context(data, as_at), check_level(level), need_ratio, min_gap_index, indicators, raised_gaps)
    return pd.DataFrame(cols, columns=GAP_COLUMNS)


def _gaps(ctx: Context, level: str, need_ratio: float, min_gap_index: float,
          indicators: tuple[str, ...] | None, raised_gaps: pd.DataFrame | None) -> dict[str, np.ndarray]:
    tn = theme_need(ctx, level, indicators)
    prov = provision_matrix(ctx, level)
    units = tn.units
    n_units, n_t = tn.shares.shape
    if n_units == 0 or n_t == 0:
        return {c: np.empty(0, dtype=object) for c in GAP_COLUMNS}
    money = prov.money[:, tn.themes]
    total = money.sum(axis=0)[None, :].repeat(n_units, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        prov_share = np.where(total > 0, money / np.where(total > 0, total, 1.0), 0.0)
        gap_index = np.where(prov_share > 0, tn.shares / np.where(prov_share > 0, prov_share, 1.0),
                             np.where(tn.shares > 0, np.inf, np.nan))
    pop_total = units.population.sum()
    pop_share = (units.population / pop_total if pop_total > 0 else np.zeros(n_units))[:, None].repeat(n_t, axis=1)
    need = tn.shares
    # Thresholds are inclusive, with a hair of tolerance so that a share exactly on the line (0.6 vs 1.5 x 0.4 in
    # floating point) counts as on it.
    by_ratio = ((need >= need_ratio * pop_share - TOLERANCE) & (gap_index >= min_gap_index * (1 - TOLERANCE))
                & (need > 0))
    no_provision = (need > 0) & (money <= 0)
    is_gap = by_ratio | no_provision
    reason = np.where(no_provision, "need but no provision",
                      np.where(by_ratio, "need high for population and poorly funded", ""))
    to_parity = need * total - money

    cols = {
        "area_code": np.repeat(units.codes, n_t), "area_name": np.repeat(units.names, n_t),
        "theme_key": np.tile(ctx.themes.keys[tn.themes], n_units),
        "theme_name": np.tile(ctx.themes.names[tn.themes], n_units),
        "need_label": np.tile(objects(tn.labels), n_units),
        "n_indicators": np.tile(np.array([len(k) for k in tn.indicators], dtype=np.int64), n_units),
        "indicator_keys": np.tile(objects(tn.indicators), n_units),
        "population_share": pop_share.ravel(), "need_share": need.ravel(), "provision": money.ravel(),
        "provision_total": total.ravel(), "provision_share": prov_share.ravel(),
        "services": prov.services[:, tn.themes].ravel(), "gap_index": gap_index.ravel(),
        "is_gap": is_gap.ravel(), "reason": reason.ravel().astype(object), "money_to_parity": to_parity.ravel(),
        "raised": _raised(ctx, level, raised_gaps, units.codes, ctx.themes.keys[tn.themes]),
        "need_is_estimate": tn.estimate.ravel(),
    }
    # Flagged gaps first, largest money to parity first (then the larger need share); stable otherwise.
    order = np.lexsort((-cols["need_share"], -cols["money_to_parity"], ~cols["is_gap"]))
    cols = {k: v[order] for k, v in cols.items()}
    cols["rank"] = np.where(cols["is_gap"], np.cumsum(cols["is_gap"]), 0)
    return {c: cols[c] for c in GAP_COLUMNS}


def _raised(ctx: Context, level: str, raised: pd.DataFrame | None, unit_codes: np.ndarray,
            theme_keys: np.ndarray) -> np.ndarray:
    """How many raised gaps fall in each (unit, theme) cell: a gap raised for a district counts in its area."""
    n_units, n_t = len(unit_codes), len(theme_keys)
    if raised is None or raised.empty:
        return np.zeros(n_units * n_t, dtype=np.int64)
    if "status" in raised:
        raised = raised[~raised["status"].astype(str).str.lower().isin(["closed", "rejected", "resolved"])]
    unit = ctx.geo.unit_of_areas(level, ctx.geo.positions(raised["area_code"]))
    theme = lookup({k: i for i, k in enumerate(theme_keys)}, raised["theme_key"].tolist())
    ok = (unit >= 0) & (theme >= 0)
    return np.bincount(unit[ok] * n_t + theme[ok], minlength=n_units * n_t)
