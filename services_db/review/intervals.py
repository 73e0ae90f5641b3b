"""What kind of figure an indicator is, and the 95% interval its unit calls for (review.md v2, "Confidence intervals").

An indicator's unit decides everything, never the size of its figures:

- **count** ("incidents", "referrals a month", "people"): a count of events or people. It is shared out (need
  shares), and its interval is Byar's approximation to the Poisson interval, as a rate per 1,000 residents.
- **rate** ("per 1,000 residents", "per 100,000"): a count over a population. With its own numerator and
  denominator the interval is Byar's on the numerator; without them the count is the rate times the residents.
  Shown per the unit's base. A unit "per 1,000 residents" is never a percentage, whatever its figures.
- **proportion** ("%", "percent", "proportion"): a numerator out of a denominator no smaller than it. Wilson's score
  interval, shown as a percentage; without a numerator and denominator it has no interval.
- **score** ("score", "rank", "decile", "quintile", "index", e.g. the IMD): never summed, never shared out as need;
  it may weight a fair-share formula as a population-weighted mean. No interval.

A value made by a rule (an estimate) gets no interval: it is marked as an estimate instead. Everything here is pure
arithmetic (scalars for one area, arrays for the review's matrices), so the area page, the briefings and the gaps
use the same choice.
"""

from __future__ import annotations

import math
import re

import numpy as np

Z95 = 1.959963984540054
COUNT, RATE, PROPORTION, SCORE = "count", "rate", "proportion", "score"
BYAR, WILSON, NONE = "Byar", "Wilson", "none"

_SCORE = re.compile(r"\b(score|scores|rank|ranks|ranking|decile|deciles|quintile|quintiles|index)\b", re.IGNORECASE)
_PROPORTION = re.compile(r"%|\bper\s*cent\b|\bpercent(age)?\b|\bproportion\b", re.IGNORECASE)
_PER = re.compile(r"\bper\s+([\d,]+)", re.IGNORECASE)


def indicator_kind(unit: object) -> str:
    """count, rate, proportion or score, read from an indicator's unit (a missing unit is a count)."""
    if not isinstance(unit, str) or not unit.strip():
        return COUNT
    if _SCORE.search(unit):
        return SCORE
    if _PROPORTION.search(unit):
        return PROPORTION
    if _PER.search(unit):
        return RATE
    return COUNT


def unit_base(unit: object) -> float:
    """The base a unit's figures are given per: "per 1,000" -> 1000, "%" -> 100; NaN for counts and scores."""
    kind = indicator_kind(unit)
    if kind == PROPORTION:
        return 100.0
    if kind == RATE:
        m = _PER.search(unit)  # type: ignore[arg-type]
        try:
            return float(m.group(1).replace(",", "")) if m else np.nan
        except ValueError:
            return np.nan
    return np.nan


def shown_per(unit: object) -> float:
    """The base a rate is shown per: the unit's own (100 for a percentage, 100,000...), else per 1,000 residents."""
    base = unit_base(unit)
    return base if math.isfinite(base) and base > 0 else 1000.0


def interval_method(unit: object, *, has_ratio: bool, is_estimate: bool) -> str:
    """Byar, Wilson or none for one figure: estimates, scores and percentages without a numerator and
    denominator get none; proportions with them get Wilson; counts and rates get Byar."""
    if is_estimate:
        return NONE
    kind = indicator_kind(unit)
    if kind == SCORE:
        return NONE
    if kind == PROPORTION:
        return WILSON if has_ratio else NONE
    return BYAR


# -- intervals -----------------------------------------------------------------------------------------------------


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


def wilson_bounds(numerator: np.ndarray, denominator: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """`wilson_interval` over arrays (NaN where the figures cannot make a proportion)."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0) & (num >= 0) & (num <= den)
    n = np.where(ok, den, 1.0)
    p = np.where(ok, num, 0.0) / n
    centre = 2 * n * p + z * z
    spread = z * np.sqrt(z * z + 4 * n * p * (1 - p))
    base = 2 * (n + z * z)
    return np.where(ok, (centre - spread) / base, np.nan), np.where(ok, (centre + spread) / base, np.nan)


def byar_bounds(count: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """`byar_interval` over arrays of observed counts (lower, upper counts; NaN where the count is not one)."""
    c = np.asarray(count, dtype=float)
    ok = np.isfinite(c) & (c >= 0)
    safe = np.where(ok & (c > 0), c, 1.0)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # a tiny count's lower bound is 0 anyway
        lower = np.where(c > 0, safe * (1 - 1 / (9 * safe) - z / (3 * np.sqrt(safe))) ** 3, 0.0)
        lower = np.where(np.isfinite(lower), lower, 0.0)
    c1 = np.where(ok, c, 0.0) + 1
    upper = c1 * (1 - 1 / (9 * c1) + z / (3 * np.sqrt(c1))) ** 3
    return np.where(ok, np.maximum(lower, 0.0), np.nan), np.where(ok, upper, np.nan)


def rate_bounds(method: str, numerator: np.ndarray, denominator: np.ndarray,
                per: float = 1000.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rate, lower, upper) per `per` of numerator/denominator by `method` (Byar, Wilson, none) over arrays."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
    safe = np.where(ok, den, 1.0)
    rate = np.where(ok, num / safe * per, np.nan)
    if method == WILSON:
        lo, hi = wilson_bounds(num, den)
        return rate, lo * per, hi * per
    if method == BYAR:
        lo, hi = byar_bounds(num)
        return rate, np.where(ok, lo / safe * per, np.nan), np.where(ok, hi / safe * per, np.nan)
    nan = np.full(rate.shape, np.nan)
    return rate, nan, nan.copy()
