"""Provision and need shares per (area, theme)."""

import math

import numpy as np
import pandas as pd
import pytest

from services_db.review import need_by_indicator, need_shares, provision_shares
from services_db.review.context import Context
from services_db.review.data import COLUMNS, ReviewData
from services_db.review.dates import latest_period_codes, latest_periods, period_end, period_texts
from services_db.review.shares import _need_matrix

AS_AT = "2016-07-21"


def cell(frame, area, theme, column, key="theme_key"):
    row = frame[(frame["area_code"] == area) & (frame[key] == theme)]
    assert len(row) == 1, (area, theme)
    return row[column].item()


@pytest.fixture
def services(make):
    b = make()
    b.service(1, coverage=("A1",), amount=6000)
    b.service(2, coverage=("F",), amount=1000)
    b.service(4, themes=("da", "mh"), coverage=("A2",), amount=3000)
    b.service(5, coverage=("D3",), amount=999, end="2016-03-31")  # service ended, its funding line has not
    return b


def test_provision_is_apportioned_funding_and_services_counted_per_area(services):
    frame = provision_shares(services.build(), AS_AT, level="area")
    # mh: service 1 all in North (6,000); service 2 by population 600/400; service 4 all South; 5's line is current.
    assert cell(frame, "A1", "mh", "provision") == 6600.0
    assert cell(frame, "A2", "mh", "provision") == 400.0 + 3000.0 + 999.0
    assert cell(frame, "A1", "mh", "provision_share") == pytest.approx(6600 / 10999)
    assert cell(frame, "A2", "da", "provision_share") == 1.0
    # Counts: current services covering any part (service 5 ended on 31 March 2016, so it is not counted).
    assert cell(frame, "A1", "mh", "services") == 2
    assert cell(frame, "A2", "mh", "services") == 2
    assert cell(frame, "A1", "da", "services") == 0
    assert cell(frame, "A2", "mh", "population_share") == 0.4


def test_provision_at_district_and_lsoa_level(services):
    frame = provision_shares(services.build(), AS_AT, level="district")
    assert cell(frame, "D1", "mh", "provision") == 4000.0 + 400.0
    assert cell(frame, "D2", "mh", "provision") == 2000.0 + 200.0
    lsoa = provision_shares(services.build(), AS_AT, level="lsoa")
    assert cell(lsoa, "L1", "mh", "provision") == 1000.0 + 100.0
    assert lsoa.groupby("theme_key")["provision"].sum()["mh"] == pytest.approx(10999.0)


def test_district_need_adds_up_to_areas_and_shares_down_to_lsoas_by_population(make):
    b = make().indicator("ea", "Early Action incidents", ("mh",))
    b.need("ea", "D1", 100).need("ea", "D2", 100).need("ea", "D3", 300).need("ea", "F", 48720)
    data = b.build()
    area = need_shares(data, level="area")
    assert cell(area, "A1", "mh", "need_share") == pytest.approx(0.4)
    assert cell(area, "A2", "mh", "need_share") == pytest.approx(0.6)
    assert cell(area, "A1", "mh", "need_label") == "Early Action incidents"
    lsoa = need_by_indicator(data, level="lsoa").set_index("area_code")
    assert lsoa["need"].tolist() == pytest.approx([25.0, 75.0, 100.0, 187.5, 112.5])
    assert lsoa["is_estimate"].tolist() == [True] * 5  # shared down by population: an estimate
    assert need_by_indicator(data, level="district")["is_estimate"].tolist() == [False] * 3


def test_force_level_need_alone_is_ignored(make):
    data = make().indicator("ea", "EA", ("mh",)).need("ea", "F", 48720).build()
    assert need_shares(data).empty


def test_rates_per_1000_from_numerator_and_denominator(make):
    b = make().indicator("ref", "referrals per 1,000 children", ("mh",))
    b.need("ref", "D1", 0, numerator=10, denominator=100)  # 100 per 1,000
    b.need("ref", "D2", 0, numerator=10, denominator=50)  # 200 per 1,000
    b.need("ref", "D3", 0, numerator=20, denominator=400)  # 50 per 1,000
    frame = need_by_indicator(b.build(), level="district").set_index("area_code")
    # need = rate x residents / 1,000: 40, 40, 20
    assert frame["need"].tolist() == pytest.approx([40.0, 40.0, 20.0])
    assert frame["need_share"].tolist() == pytest.approx([0.4, 0.4, 0.2])
    assert frame["rate_per_1000"].tolist() == pytest.approx([100.0, 200.0, 50.0])


def test_a_unit_per_1000_is_read_as_a_rate(make):
    b = make().indicator("r", "rate", ("mh",), unit="per 1,000 residents")
    b.need("r", "D1", 10).need("r", "D2", 20).need("r", "D3", 5)
    frame = need_by_indicator(b.build(), level="district")
    assert frame["need_share"].tolist() == pytest.approx([0.4, 0.4, 0.2])


def test_several_indicators_combine_as_the_mean_of_their_shares(make):
    b = make().indicator("ea", "Early Action incidents", ("mh",)).indicator("mhx", "MH calls", ("mh", "da"))
    b.need("ea", "D1", 100).need("ea", "D2", 100).need("ea", "D3", 300)
    b.need("mhx", "L1", 50).need("mhx", "L3", 50).need("mhx", "L5", 0)
    frame = need_shares(b.build(), level="area")
    assert cell(frame, "A1", "mh", "need_share") == pytest.approx((0.4 + 1.0) / 2)
    assert cell(frame, "A2", "mh", "need_share") == pytest.approx((0.6 + 0.0) / 2)
    assert cell(frame, "A1", "mh", "n_indicators") == 2
    assert cell(frame, "A1", "mh", "need_label") == "the need for mental health"
    assert cell(frame, "A1", "da", "need_share") == 1.0
    assert cell(frame, "A1", "da", "need_label") == "MH calls"


def test_the_latest_period_of_each_indicator_is_used(make):
    b = make().indicator("ea", "EA", ("mh",))
    b.need("ea", "D1", 1, period="2015-16").need("ea", "D3", 1, period="2015-16")
    b.need("ea", "D1", 99, period="2016-01").need("ea", "D3", 1, period="2014-15")
    frame = need_by_indicator(b.build(), level="district").set_index("area_code")
    assert frame["need"].tolist()[::2] == [1.0, 1.0]
    assert math.isnan(frame.loc["D2", "need"]) and not frame.loc["D2", "has_need_figure"]  # no figure, not 0
    assert set(frame["period"]) == {"2015-16"}


def test_the_level_nearest_the_one_asked_for_is_used(make):
    b = make().indicator("ea", "EA", ("mh",))
    b.need("ea", "D1", 100).need("ea", "D2", 100).need("ea", "D3", 300)
    b.need("ea", "L1", 1000, is_estimate=True)  # LSOA figures that disagree with the districts
    data = b.build()
    assert need_by_indicator(data, level="area")["need"].tolist() == [200.0, 300.0]  # districts
    # LSOAs: L1's figure covers its district (L2 has nothing to count); Beta and Gamma have no LSOA figure.
    lsoa = need_by_indicator(data, level="lsoa")
    assert lsoa["need"].tolist()[:2] == [1000.0, 0.0] and lsoa["need"][2:].isna().all()
    assert lsoa["has_need_figure"].tolist() == [True, True, False, False, False]


@pytest.mark.parametrize("period, end", [
    ("2013-14", "2014-03-31"), ("2011-12", "2012-03-31"), ("2013-10", "2013-10-31"),
    ("2012-10/2013-09", "2013-09-30"), ("2015", "2015-12-31"), ("2016-02-29", "2016-02-29"),
])
def test_period_ends(period, end):
    assert period_end(period) == pd.Timestamp(end)


def test_unreadable_periods_sort_first():
    assert pd.isna(period_end("spring")) and pd.isna(period_end(None))
    latest = latest_periods(pd.Series(["a", "a", "a"]), pd.Series(["spring", "2013-14", "2013-10"]))
    assert latest["a"] == "2013-14"


def test_an_area_missing_a_district_figure_has_no_figure_not_a_part_sum(make):
    """review.md v2: shares over the areas with a figure; North lacks Beta's figure, so North has none."""
    b = make().indicator("ea", "Early Action incidents", ("mh",)).need("ea", "D1", 100).need("ea", "D3", 300)
    data = b.build()
    area = need_by_indicator(data, level="area").set_index("area_code")
    assert not area.loc["A1", "has_need_figure"] and math.isnan(area.loc["A1", "need_share"])
    assert math.isnan(area.loc["A1", "need"])
    assert area.loc["A2", "has_need_figure"] and area.loc["A2", "need_share"] == 1.0
    district = need_by_indicator(data, level="district").set_index("area_code")
    assert district["need_share"].to_dict() == pytest.approx({"D1": 0.25, "D2": math.nan, "D3": 0.75}, nan_ok=True)
    themes = need_shares(data, level="area").set_index("area_code")
    assert themes.loc["A2", "population_share"] == 1.0 and themes.loc["A2", "n_with_figure"] == 1
    assert math.isnan(themes.loc["A1", "population_share"]) and themes.loc["A1", "significant"] is None


def test_lsoa_figures_cover_their_district(make):
    """An LSOA data set lists the LSOAs with something to count: Alpha has figures (L2 counts 0), Gamma none."""
    b = make().indicator("dai", "domestic abuse incidents", ("da",)).need("dai", "L1", 50).need("dai", "L3", 50)
    frame = need_by_indicator(b.build(), level="district").set_index("area_code")
    assert frame["has_need_figure"].to_dict() == {"D1": True, "D2": True, "D3": False}
    assert frame.loc["D1", "need_share"] == 0.5


def test_a_theme_takes_the_areas_with_every_indicator(make):
    b = make().indicator("ea", "Early Action incidents", ("mh",)).indicator("mhx", "MH calls", ("mh",))
    b.need("ea", "D1", 100).need("ea", "D2", 100).need("ea", "D3", 300)
    b.need("mhx", "D1", 50).need("mhx", "D2", 50)  # South has no MH calls figure
    frame = need_shares(b.build(), level="area").set_index("area_code")
    assert frame.loc["A1", "need_share"] == 1.0 and math.isnan(frame.loc["A2", "need_share"])
    assert frame.loc["A1", "n_indicators"] == 2


def test_provision_counts_services_with_unknown_funding(make):
    b = make().service(1, coverage=("A1",), amount=600).service(2, coverage=("A1",))  # no funding line
    b.service(3, coverage=("A1",), amount=100, line_end="2015-03-31")  # its only line has ended: unknown now
    b.service(4, coverage=("A2",), amount=0.0)  # a line of £0 is recorded funding
    frame = provision_shares(b.build(), AS_AT)
    assert cell(frame, "A1", "mh", "services") == 3 and cell(frame, "A1", "mh", "unknown_funding") == 2
    assert cell(frame, "A1", "mh", "provision") == 600.0
    assert cell(frame, "A2", "mh", "services") == 1 and cell(frame, "A2", "mh", "unknown_funding") == 0


def _latest_by_sorting(indicator: pd.Series, period: pd.Series) -> pd.Series:
    """The rule spelt out with pandas (the implementation before it was vectorised): sort each indicator's
    distinct periods by last day (unreadable first) then text, and keep the last one that is not missing."""
    frame = pd.DataFrame({"indicator": indicator.to_numpy(), "period": period.astype(str).to_numpy()})
    frame = frame.drop_duplicates()
    frame["end"] = frame["period"].map(period_end)
    frame = frame.sort_values(["indicator", "end", "period"], na_position="first")
    return frame.groupby("indicator", sort=False)["period"].last()


@pytest.mark.parametrize("dtype", ["str", object])
def test_latest_periods_in_one_pass_match_the_sorting_rule(dtype):
    rng = np.random.default_rng(7)
    periods = ["2013-14", "2013-10", "2012-10/2014-03", "spring", "2015", "2014-03-31", "autumn", None, "2013-14"]
    n = 3000
    indicator = pd.Series(rng.choice(["a", "b", "c", "d", None], n).tolist(), dtype=dtype)
    period = pd.Series(rng.choice(np.array(periods, dtype=object), n).tolist(), dtype=dtype)
    period[indicator == "d"] = None  # an indicator whose every period is missing
    period[(indicator == "c") & (period == "2015")] = "2013-14"  # c: three periods end on 31 March 2014
    got, want = latest_periods(indicator, period), _latest_by_sorting(indicator, period)
    assert got.index.tolist() == want.index.tolist() == ["a", "b", "c", "d"]
    assert got.tolist()[:3] == want.tolist()[:3] == ["2015", "2015", "2014-03-31"]
    assert pd.isna(got["d"]) and pd.isna(want["d"])
    # Periods written as numbers are read as their text (2015 and "2015" are one period).
    mixed = pd.Series([2015, "2015", "2014-15", 2013], dtype=object)
    assert latest_periods(pd.Series(["x"] * 4), mixed).tolist() == ["2015"]
    assert period_texts(mixed)[0].tolist()[:2] == [0, 0]


def test_latest_period_codes_ties_and_unreadable_periods_by_text():
    codes = latest_period_codes(np.array([0, 0, 1, 1, -1, 2]), 4, np.array([0, 1, 2, 3, 4, -1]),
                                np.array(["spring", "autumn", "2013-14", "2014-03", "2020-21"], dtype=object))
    # 0: both unreadable, "spring" > "autumn"; 1: both end on 31 March 2014, "2014-03" > "2013-14"; 2: only a
    # missing period; 3: no rows; the row of no indicator (-1) counts for none.
    assert codes.tolist() == [0, 3, -1, -1]


def _need_of(data, level="area", indicators=None):
    return _need_matrix(Context(data, None), level, indicators)


def test_need_matrix_is_the_same_from_arrow_text_and_python_objects(make):
    """National need tables arrive as arrow-backed text, hand-built ones as objects: both are read alike, and rows
    with a missing indicator, area or period, or an area the hierarchy does not know, are left out."""
    b = make().indicator("ea", "Early Action incidents", ("mh",)).indicator("da", "Domestic abuse", ("da",))
    b.need("ea", "L1", 10, "2014-15").need("ea", "L4", 30, "2014-15").need("ea", "D2", 5, "2014-15")
    b.need("ea", "L1", 99, "2013-14").need("da", "D1", 40, "2015-16").need("da", "A2", 60, "2015-16")
    b.need("da", "NOPE", 7, "2015-16").need("ea", "L2", 1, None)
    data = b.build()
    need = data.need.copy()
    need.loc[len(need)] = dict(indicator_key=None, area_code="L3", period="2016-17", value=5.0,
                               numerator=math.nan, denominator=math.nan, is_estimate=False)
    need.loc[len(need)] = dict(indicator_key="ea", area_code=None, period="2016-17", value=5.0,
                               numerator=math.nan, denominator=math.nan, is_estimate=False)
    frames = {}
    for dtype in ("str", object):
        n = need.copy()
        for c in ("indicator_key", "area_code", "period"):
            n[c] = n[c].astype(dtype) if dtype == "str" else n[c].astype(object)
        frames[dtype] = _need_of(ReviewData(**{**{f: getattr(data, f) for f in COLUMNS}, "need": n}))
    arrow, objs = frames["str"], frames[object]
    assert arrow.keys.tolist() == objs.keys.tolist() == ["da", "ea"]
    assert arrow.periods.tolist() == objs.periods.tolist() == ["2015-16", "2014-15"]
    # da: South's own figure (area level) beats Alpha's district one; ea: 2014-15 (not 2013-14, nor the row with
    # no period), at the district level (Beta), the coarsest at or below the area level, so no area has a figure.
    assert arrow.source_levels.tolist() == objs.source_levels.tolist() == ["area", "district"]
    np.testing.assert_array_equal(arrow.values, objs.values)
    np.testing.assert_array_equal(arrow.has, objs.has)
    assert arrow.has.tolist() == [[False, False], [True, False]]
    assert arrow.values[1, 0] == 60.0
    only = _need_of(data, indicators=("ea",))
    assert only.keys.tolist() == ["ea"] and only.periods.tolist() == ["2014-15"]
    assert _need_of(data, level="lsoa", indicators=("ea", "da")).source_levels.tolist() == ["district", "lsoa"]
