"""services_db.need: Wilson and Byar intervals against published values, and the comparison rule."""

import math

import pytest

from services_db import need
from services_db.queries import review_data


def test_wilson_interval_matches_the_textbook_example():
    lo, hi = need.wilson_interval(81, 263)  # Newcombe (1998) example: 0.2553 to 0.3662
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    assert need.wilson_interval(0, 10)[0] == 0.0
    assert all(math.isnan(v) for v in need.wilson_interval(5, 0))


def test_byar_interval_matches_the_poisson_limits():
    lo, hi = need.byar_interval(100)  # exact Poisson 95%: 81.36 to 121.63
    assert abs(lo - 81.36) < 0.1 and abs(hi - 121.63) < 0.1
    assert need.byar_interval(0) == (0.0, pytest.approx(3.689, abs=0.03))  # exact 3.689; Byar is close


def test_rate_interval_scales_counts_to_per_1000():
    value, lo, hi = need.rate_interval(100, 10_000, proportion=False)
    assert value == 10.0 and lo < 10.0 < hi
    assert abs(lo - 8.136) < 0.01


@pytest.mark.parametrize("lo,hi,bench,direction,expected", [
    (11, 12, 10, "worse", "worse"), (11, 12, 10, "better", "better"), (11, 12, 10, "neutral", "higher"),
    (8, 9, 10, "worse", "better"), (8, 9, 10, "neutral", "lower"), (9, 11, 10, "worse", "similar"),
    (float("nan"), 11, 10, "worse", "not compared"),
])
def test_compare(lo, hi, bench, direction, expected):
    assert need.compare(lo, hi, bench, direction) == expected


def test_area_need_on_the_demo(demo_db):
    data = review_data(demo_db)
    table = need.area_need(data, "PBA08").set_index("indicator_key")
    ea = table.loc["early-action-incidents"]
    # Burnley 5,310.48 + Pendle 3,171.48 incidents over 188,838 residents (estimate)
    assert ea["count"] == pytest.approx(8481.96)
    assert ea["rate"] == pytest.approx(8481.96 / 188_838 * 1000)
    assert ea["force_rate"] == pytest.approx(48_720 / 1_220_184 * 1000, rel=1e-3)  # the 12 LCC districts
    # Pendle's figure is made by a rule (its population share of the remainder): an estimate gets no interval.
    assert ea["comparison"] == "not compared" and bool(ea["is_estimate"]) and ea["interval"] == "none"
    assert math.isnan(ea["lower"]) and math.isnan(ea["upper"])
    assert table.loc["police-incidents", "interval"] == "none"  # every district value is a population share
    # Preston's 15.5% is the seed's own figure: a count, so Byar's interval, wholly above the force rate.
    preston = need.area_need(data, "PBA04").set_index("indicator_key").loc["early-action-incidents"]
    assert preston["interval"] == "Byar" and preston["kind"] == "count"
    assert preston["lower"] > preston["force_rate"] and preston["comparison"] == "worse"
    assert preston["rate_unit"] == "per 1,000 residents"
    assert need.area_need(data, "PBA01").empty  # Blackpool: the seed's figures cover LCC's 12 districts only


def test_lsoa_need_shares_the_district_rate(demo_db):
    data = review_data(demo_db)
    lsoas = need.lsoa_need(data, "PBA08", "early-action-incidents")
    assert len(lsoas) == len(data.areas[(data.areas["level"] == "lsoa")
                                        & data.areas["parent_code"].isin(["E07000117", "E07000122"])])
    assert lsoas["is_estimate"].all()
    burnley = lsoas[lsoas["name"].str.startswith("Burnley")]["rate"].unique()
    assert len(burnley) == 1


def test_trends_fall_back_to_the_force(demo_db):
    trends = need.need_trends(review_data(demo_db), "PBA08")
    assert trends["value"].tolist() == [1175.0, 1760.0]
    assert trends["geography"].unique().tolist() == ["Lancashire"]
