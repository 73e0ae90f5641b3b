"""Gaps: areas whose share of a theme's need is well above their share of its known funding.

review.md v2: gap index = need share / provision share, both over the areas that have a need figure for the
theme (an area with no figure gets no gap and no parity: its row says "no figure", with NaN shares, never 0).
A gap is flagged where need share >= 1.2 x the area's population share and the gap index >= 1.5 (need is both
high for the area's size and poorly matched by money), or where need is present and no current service of the
theme covers the area at all ("need but no provision"). Provision is *known* funding: where the known money
would flag the area but the funding of some of the theme's current services covering it is not recorded, the
row is not a gap but "funding not recorded" (we cannot say it is poorly funded), and the finding says how many
services cover the area and how many of them have unknown funding.

Each row also says whether the area's need rate is significantly above the force rate (`significant`: the 95%
interval wholly above it; None where it cannot be tested, e.g. the figure is an estimate; see
`services_db.review.shares`). Gaps are ranked significant first, then by the money that would bring the area's
provision share up to its need share with the total unchanged: need share x theme total - provision.

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
from services_db.review.shares import provision_matrix, theme_need, theme_services, tristate

NEED_RATIO = 1.2  # need share >= this x population share ...
MIN_GAP_INDEX = 1.5  # ... and need share / provision share >= this
TOLERANCE = 1e-9
NO_PROVISION = "need but no provision"
POORLY_FUNDED = "need high for population and poorly funded"
NOT_RECORDED = "funding not recorded"
NO_FIGURE = "no figure"

GAP_COLUMNS = [
    "area_code", "area_name", "theme_key", "theme_name", "need_label", "n_indicators", "indicator_keys",
    "population_share", "need_share", "provision", "provision_total", "provision_share", "services", "gap_index",
    "is_gap", "reason", "money_to_parity", "rank", "raised", "need_is_estimate",
    "has_need_figure", "n_with_figure", "n_units", "unknown_funding", "theme_services", "theme_unknown_funding",
    "force_provision_total", "significant",
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

    `indicators` limits the need indicators used (default: all). Rows are ordered flagged gaps first (those whose
    need is significantly above the force's first, then largest money to parity first); `rank` numbers the
    flagged gaps 1, 2, ... and is 0 for the others. Shares, the provision total and money to parity are taken
    over the areas with a figure (`n_with_figure` of `n_units`); `has_need_figure` is False (and the shares NaN)
    for the others. `services` counts the current services of the theme covering any part of the area and
    `unknown_funding` how many of them have no recorded funding; `theme_services` and `theme_unknown_funding`
    count them over the areas with a figure. `reason` is "need but no provision", "need high for population and
    poorly funded", "funding not recorded", "no figure" or "".
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
    has = tn.has
    money = prov.money[:, tn.themes]
    services = prov.services[:, tn.themes]
    unknown = prov.unknown[:, tn.themes]
    total_with = np.where(has, money, 0.0).sum(axis=0)  # known funding of the areas with a figure
    total = np.where(has, total_with[None, :], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        prov_share = np.where(has, np.where(total_with > 0, money / np.where(total_with > 0, total_with, 1.0), 0.0),
                              np.nan)
        need = tn.shares
        gap_index = np.where(prov_share > 0, need / np.where(prov_share > 0, prov_share, 1.0),
                             np.where(need > 0, np.inf, np.nan))
    pop_share = tn.population_share
    # Thresholds are inclusive, with a hair of tolerance so that a share exactly on the line (0.6 vs 1.5 x 0.4 in
    # floating point) counts as on it. NaN (no figure) compares False everywhere.
    with np.errstate(invalid="ignore"):
        present = has & (need > 0)
        by_ratio = present & (need >= need_ratio * pop_share - TOLERANCE) & (gap_index >= min_gap_index * (1 - TOLERANCE))
    no_provision = present & (services == 0)
    not_recorded = present & ~no_provision & (unknown > 0) & (by_ratio | (money <= 0))
    is_gap = (by_ratio | no_provision) & ~not_recorded
    reason = np.where(~has, NO_FIGURE, np.where(no_provision, NO_PROVISION, np.where(
        not_recorded, NOT_RECORDED, np.where(is_gap, POORLY_FUNDED, ""))))
    to_parity = np.where(has, np.nan_to_num(need) * total_with[None, :] - money, np.nan)
    t_services, t_unknown = theme_services(ctx, level, tn.themes, has)

    def per_theme(values: np.ndarray) -> np.ndarray:
        return np.tile(values, n_units)

    cols = {
        "area_code": np.repeat(units.codes, n_t), "area_name": np.repeat(units.names, n_t),
        "theme_key": per_theme(ctx.themes.keys[tn.themes]),
        "theme_name": per_theme(ctx.themes.names[tn.themes]),
        "need_label": per_theme(objects(tn.labels)),
        "n_indicators": per_theme(np.array([len(k) for k in tn.indicators], dtype=np.int64)),
        "indicator_keys": per_theme(objects(tn.indicators)),
        "population_share": pop_share.ravel(), "need_share": need.ravel(), "provision": money.ravel(),
        "provision_total": total.ravel(), "provision_share": prov_share.ravel(),
        "services": services.ravel(), "gap_index": gap_index.ravel(),
        "is_gap": is_gap.ravel(), "reason": reason.ravel().astype(object), "money_to_parity": to_parity.ravel(),
        "raised": _raised(ctx, level, raised_gaps, units.codes, ctx.themes.keys[tn.themes]),
        "need_is_estimate": tn.estimate.ravel(),
        "has_need_figure": has.ravel(), "n_with_figure": per_theme(has.sum(axis=0)),
        "n_units": np.full(n_units * n_t, n_units, dtype=np.int64), "unknown_funding": unknown.ravel(),
        "theme_services": per_theme(t_services), "theme_unknown_funding": per_theme(t_unknown),
        "force_provision_total": per_theme(money.sum(axis=0)),
    }
    significant = tn.significant.ravel()
    # Flagged gaps first; among them those significantly above the force first, then the largest money to parity
    # (then the larger need share); stable otherwise. Rows with no figure come last.
    sig_first = np.where(cols["is_gap"] & (significant > 0.5), 0, 1)
    order = np.lexsort((-np.nan_to_num(cols["need_share"], nan=-1.0),
                        -np.nan_to_num(cols["money_to_parity"], nan=-np.inf, posinf=np.inf, neginf=-np.inf),
                        ~cols["has_need_figure"], sig_first, ~cols["is_gap"]))
    cols = {k: v[order] for k, v in cols.items()}
    cols["significant"] = tristate(significant[order])
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
