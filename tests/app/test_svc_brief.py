"""services_db.brief: the area page's "In brief" (issue 14): the findings that matter most, the spine chart's
normalised positions, need share against provision share, shared-out figures, trends and the default area."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from services_db import brief, need
from services_db.areas import area_profile
from services_db.queries import default_as_at, review_data

SHARED = {"police-incidents", "missing-person-early-action-incidents"}


@pytest.fixture
def demo(demo_db):
    return review_data(demo_db), default_as_at(demo_db)


def test_shared_out_figures_are_found_and_never_read_as_similar(demo):
    """Seed 002 gives police incidents and missing-person incidents for the force only: every district's figure is
    that total shared out by population, so every area equals the force rate (333.25 per 1,000)."""
    data, _ = demo
    assert need.shared_out_indicators(data) == SHARED
    table = need.area_need(data, "PBA08").set_index("indicator_key")
    for key in SHARED:
        assert table.loc[key, "comparison"] == need.SHARED_OUT and bool(table.loc[key, "shared_out"])
    # Early Action incidents: Burnley's figure is the seed's own, Pendle's a remainder: not a shared-out figure
    assert table.loc["early-action-incidents", "comparison"] == "not compared"
    assert not table.loc["early-action-incidents", "shared_out"]


def test_in_brief_for_burnley_and_pendle(demo):
    data, as_at = demo
    items = brief.top_findings(area_profile(data, "Burnley & Pendle", as_at).review.findings)
    assert [i.rank for i in items] == ["cliff", "unrecorded", "unrecorded", "inequity", "inequity"]
    cliff, families, adults, caf, nte = (i.finding for i in items)
    assert cliff.sentence.startswith("In Burnley & Pendle, all £168,000 a year of current funding reaching the area "
                                     "ends within 12 months (13 services; the first on 31 March 2014)")
    assert cliff.question.endswith("will it be decided before the first of it ends on 31 March 2014?")
    # the two "funding not recorded" gaps with most need (17.4%) and most services (six, then four); mental
    # health (one service) and missing persons (16.4%) wait in the Review tab
    assert (families.theme_key, adults.theme_key) == ("families", "vulnerable-adults")
    assert "six families services cover Burnley & Pendle and none of their funding is recorded" in families.sentence
    assert families.question.startswith("Barnardo's, Lancashire Constabulary and Lancashire County Council")
    # inequity: the fund where most other districts were funded first (12 of 14, then 4 of 14)
    assert caf.sentence.startswith("Community Action Fund 2013-14: Pendle and Rossendale received nothing")
    assert nte.sentence.startswith("Night-time economy funding:") and nte.scope == "force"
    assert len({i.finding.sentence for i in items}) == 5


def test_in_brief_for_blackpool_keeps_one_of_each_kind(demo):
    data, as_at = demo
    items = brief.top_findings(area_profile(data, "Blackpool", as_at).review.findings)
    assert [i.rank for i in items] == ["cliff", "duplication", "no-figure", "inequity", "inequity"]
    assert items[2].finding.sentence.startswith("Blackpool has no figure for Police incidents recorded")


def test_the_spine_chart_normalises_to_the_force_range(demo):
    """Early Action incidents per 1,000: the force 39.93, the areas 34.47 to 54.40. The area furthest from the force
    (Preston, 14.48 above) sets both ends, so Burnley & Pendle's 44.92 sits at (44.92 - 39.93) / 14.48 = 0.345;
    higher is worse, so it is drawn mirrored, at -0.345 (worse on the left)."""
    data, _ = demo
    spine = brief.spine(data, "PBA08").set_index("indicator_key")
    ea = spine.loc["early-action-incidents"]
    assert ea["force"] == pytest.approx(39.928, abs=1e-3)
    assert (ea["lowest"], ea["highest"]) == pytest.approx((34.473, 54.405), abs=1e-3)
    assert ea["half_range"] == pytest.approx(54.404772 - 39.928404, abs=1e-5)
    assert ea["position"] == pytest.approx((44.916595 - 39.928404) / (54.404772 - 39.928404), abs=1e-5)
    assert round(ea["position"], 3) == 0.345 and round(ea["x"], 3) == -0.345 and bool(ea["flipped"])
    assert (ea["x_lowest"], ea["x_highest"]) == pytest.approx((-1.0, (39.928404 - 34.473267) / 14.476368), abs=1e-5)
    assert bool(ea["is_estimate"]) and math.isnan(ea["x_lower"]) and math.isnan(ea["x_upper"])  # no interval
    assert ea["n_areas"] == 7  # Blackpool and Blackburn with Darwen have no figure: left out, not zero
    police = spine.loc["police-incidents"]
    assert bool(police["shared_out"]) and math.isnan(police["position"]) and police["comparison"] == need.SHARED_OUT
    # Lancaster's own figure has Byar's interval: normalised alike, inside the drawn range
    lancaster = brief.spine(data, "PBA03").set_index("indicator_key").loc["early-action-incidents"]
    assert lancaster["x_lower"] < lancaster["x"] < lancaster["x_upper"] and lancaster["comparison"] == "worse"
    assert brief.spine(data, "PBA01").empty


def test_need_share_against_provision_share_says_unknown_not_zero(demo):
    data, as_at = demo
    profile = area_profile(data, "Burnley & Pendle", as_at)
    gaps = brief.gap_picture(profile.review.findings, sorted(SHARED)).set_index("theme_key")
    assert list(gaps.index) == ["families", "mental-health", "vulnerable-adults", "missing-persons",
                                "community-safety"]
    families = gaps.loc["families"]
    assert not families["provision_known"] and math.isnan(families["provision_share"])
    assert families["provision_note"] == "unknown: the funding of its 6 services here is not recorded"
    assert gaps.loc["mental-health", "provision_note"].startswith("unknown: no funding of this theme is recorded")
    safety = gaps.loc["community-safety"]
    assert safety["provision_known"] and safety["provision_share"] == pytest.approx(7738.38 / 59011.0)
    assert bool(safety["need_shared_out"])  # police incidents only: the need share is the population share
    assert safety["need_share"] == pytest.approx(safety["population_share"])
    assert brief.gap_picture(area_profile(data, "Blackpool", as_at).review.findings).empty


def test_the_page_opens_on_an_area_with_an_indicator_compared_with_the_force(demo):
    """Blackpool, first in the list, has no need figure; Lancaster (third) is the first with an interval."""
    data, _ = demo
    assert brief.default_area(data) == "PBA03"


def test_no_lsoa_map_of_district_figures_shared_out(demo):
    data, _ = demo
    assert need.lsoa_indicators(data, "PBA08") == []  # every LSOA value would be its district's, shared out


def test_a_trend_needs_two_periods_and_is_in_time_order():
    trends = pd.DataFrame({
        "indicator": ["One month", "Referrals", "Referrals", "Referrals"],
        "period": ["2024-01", "2013-14", "2011-12", "2012-13"],
        "value": [5.0, 1760.0, 1175.0, 1300.0], "is_estimate": [False] * 4,
        "geography": ["Burnley & Pendle", "Lancashire", "Lancashire", "Lancashire"]})
    lines = brief.trend_lines(trends)
    assert set(lines["indicator"]) == {"Referrals"}  # one period is one dot, not a trend
    assert lines["period"].tolist() == ["2011-12", "2012-13", "2013-14"]
    assert brief.trend_lines(trends.iloc[:1]).empty
