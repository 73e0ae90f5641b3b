"""Confidence intervals chosen from the indicator's unit (review.md v2), and what an indicator's unit makes of it.

Issue 11, problem 7: an indicator with unit "per 1,000 residents" and a numerator/denominator came out as "1.80 %"
via Wilson; intervals were drawn on values that are nothing but population-share estimates; scores would be summed.
"""

import math

import numpy as np
import pytest

from services_db import need
from services_db.review import gaps, need_by_indicator, need_shares
from services_db.review.intervals import (
    BYAR,
    NONE,
    WILSON,
    byar_bounds,
    byar_interval,
    indicator_kind,
    interval_method,
    rate_bounds,
    shown_per,
    wilson_bounds,
    wilson_interval,
)

AS_AT = "2016-07-21"


@pytest.mark.parametrize("unit, kind, per", [
    ("incidents", "count", 1000.0), ("referrals a month", "count", 1000.0), (None, "count", 1000.0),
    ("per 1,000 residents", "rate", 1000.0), ("per 100,000 population", "rate", 100_000.0),
    ("%", "proportion", 100.0), ("percent of pupils", "proportion", 100.0),
    ("IMD score", "score", 1000.0), ("rank", "score", 1000.0), ("decile", "score", 1000.0),
])
def test_the_unit_says_what_an_indicator_is(unit, kind, per):
    assert indicator_kind(unit) == kind
    assert shown_per(unit) == per


@pytest.mark.parametrize("unit, has_ratio, is_estimate, method", [
    ("per 1,000 residents", True, False, BYAR),  # a count over a population, even with num <= den
    ("per 1,000 residents", False, False, BYAR),
    ("incidents", False, False, BYAR),
    ("%", True, False, WILSON),
    ("%", False, False, NONE),  # a percentage without its numerator and denominator
    ("incidents", False, True, NONE),  # an estimate gets no interval
    ("per 1,000 residents", True, True, NONE),
    ("IMD score", False, False, NONE),
])
def test_the_interval_method_comes_from_the_unit(unit, has_ratio, is_estimate, method):
    assert interval_method(unit, has_ratio=has_ratio, is_estimate=is_estimate) == method


def test_array_intervals_equal_the_scalar_ones():
    counts = np.array([0.0, 3.0, 100.0, 5310.48])
    lo, hi = byar_bounds(counts)
    for c, a, b in zip(counts, lo, hi, strict=True):
        assert (a, b) == pytest.approx(byar_interval(c))
    num, den = np.array([81.0, 0.0, 5.0]), np.array([263.0, 10.0, 4.0])
    lo, hi = wilson_bounds(num, den)
    assert (lo[0], hi[0]) == pytest.approx(wilson_interval(81, 263))
    assert lo[1] == 0.0 and math.isnan(lo[2])  # 5 out of 4 is no proportion
    rate, lo, hi = rate_bounds(NONE, np.array([10.0]), np.array([100.0]))
    assert rate[0] == 100.0 and math.isnan(lo[0]) and math.isnan(hi[0])


def _rate_case(make, unit):
    b = make().indicator("r", "referrals", ("mh",), unit=unit)
    b.need("r", "D1", 18.0, numerator=18, denominator=1000)
    b.need("r", "D2", 9.0, numerator=9, denominator=1000)
    b.need("r", "D3", 30.0, numerator=60, denominator=2000)
    return b.build()


def test_per_1000_with_numerator_and_denominator_is_byar_per_1000_not_wilson_percent(make):
    """The issue's case: 18 of 1,000 with unit "per 1,000 residents" is 18.0 per 1,000 (Byar), not "1.80 %"."""
    data = _rate_case(make, "per 1,000 residents")
    row = need.area_need(data, "D1").iloc[0]
    assert row["interval"] == "Byar" and row["kind"] == "rate"
    assert row["rate_unit"] == "per 1,000" and row["rate"] == pytest.approx(18.0)
    lo, hi = byar_interval(18)
    assert (row["lower"], row["upper"]) == pytest.approx((lo, hi))
    review = need_by_indicator(data, level="district").set_index("area_code")
    assert review.loc["D1", "interval"] == "Byar" and review.loc["D1", "per"] == 1000.0
    assert review.loc["D1", "rate"] == pytest.approx(18.0)


def test_a_proportion_is_wilson_as_a_percentage(make):
    data = _rate_case(make, "% of referrals")
    row = need.area_need(data, "D1").iloc[0]
    assert row["interval"] == "Wilson" and row["rate_unit"] == "%" and row["rate"] == pytest.approx(1.8)
    lo, hi = wilson_interval(18, 1000)
    assert (row["lower"], row["upper"]) == pytest.approx((lo * 100, hi * 100))
    assert need_by_indicator(data, level="district").set_index("area_code").loc["D1", "interval"] == "Wilson"


def test_an_estimate_gets_no_interval(make):
    b = make().indicator("ea", "Early Action incidents", ("mh",), unit="incidents")
    b.need("ea", "D1", 100).need("ea", "D2", 100, is_estimate=True).need("ea", "D3", 300)
    data = b.build()
    table = need_by_indicator(data, level="district").set_index("area_code")
    assert table.loc["D2", "interval"] == "none" and math.isnan(table.loc["D2", "lower"])
    assert table.loc["D2", "significant"] is None
    assert table.loc["D1", "interval"] == "Byar" and table.loc["D1", "significant"] in (True, False)
    assert need.area_need(data, "D2").iloc[0]["comparison"] == "not compared"
    assert need.area_need(data, "D2").iloc[0]["interval"] == "none"
    # Shared down to LSOAs by population, every figure is an estimate: no interval anywhere.
    assert (need_by_indicator(data, level="lsoa")["interval"] == "none").all()


def test_scores_are_never_summed_or_shared_as_need(make):
    b = make().indicator("imd", "IMD score", ("mh",), unit="IMD score")
    b.need("imd", "D1", 30).need("imd", "D2", 10).need("imd", "D3", 20)
    b.indicator("ea", "Early Action incidents", ("mh",)).need("ea", "D1", 100).need("ea", "D2", 100)
    b.need("ea", "D3", 300)
    data = b.build()
    shares = need_shares(data, level="area").set_index("area_code")
    assert shares.loc["A1", "indicator_keys"] == ("ea",)  # the score is not part of the need share
    assert shares.loc["A1", "need_share"] == pytest.approx(0.4)
    imd = need.area_need(data, "A1").set_index("indicator_key").loc["imd"]
    # North: population-weighted mean of Alpha (400 x 30) and Beta (200 x 10), not 30 + 10.
    assert imd["rate"] == pytest.approx((400 * 30 + 200 * 10) / 600) and imd["interval"] == "none"
    assert imd["kind"] == "score" and math.isnan(imd["count"])


def test_higher_is_better_is_not_need(make):
    b = make().indicator("good", "Pupils reaching the standard", ("mh",), higher_is="better")
    b.need("good", "D1", 100).need("good", "D2", 100).need("good", "D3", 300)
    data = b.build()
    assert need_shares(data).empty and gaps(data, AS_AT).empty
    assert need.area_need(data, "D3").iloc[0]["comparison"] in ("better", "similar", "worse")


def test_significantly_above_the_force_rate(make):
    """Gamma's 300 incidents over 400 residents is wholly above the force's 500 over 1,000; Alpha's is below."""
    b = make().indicator("ea", "Early Action incidents", ("mh",), unit="incidents")
    b.need("ea", "D1", 100).need("ea", "D2", 100).need("ea", "D3", 300)
    table = need_by_indicator(b.build(), level="district").set_index("area_code")
    assert table.loc["D3", "force_rate"] == pytest.approx(500.0)  # per 1,000
    assert table.loc["D3", "lower"] > 500.0 and table.loc["D3", "significant"] is True
    assert table.loc["D1", "significant"] is False and table.loc["D2", "significant"] is False
