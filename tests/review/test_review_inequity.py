"""Inequity: per head, per 1,000 and per unit of need; ratio, CV, Gini; areas that received nothing."""

import math

import numpy as np
import pytest

from services_db.review import gini, inequity, review_area, review_force
from services_db.review.inequity import coefficient_of_variation

AS_AT = "2016-07-21"


@pytest.fixture
def caf(make):
    """Seed 002's shape: awards in two districts, none in the third."""
    b = make().fund("caf", "Community Action Fund", 50000)
    b.allocation(1, "caf", 500, ("D1",)).allocation(2, "caf", 500, ("D1",)).allocation(3, "caf", 1000, ("D2",))
    return b


def test_per_head_ratio_cv_gini_and_the_area_with_nothing(caf):
    result = inequity(caf.build(), fund_key="caf")
    t = result.table.set_index("area_code")
    assert t["amount"].tolist() == [1000.0, 1000.0, 0.0]
    assert t["per_head"].tolist() == [2.5, 5.0, 0.0]
    assert t["per_1000"].tolist() == [2500.0, 5000.0, 0.0]
    assert t["received_nothing"].tolist() == [False, False, True]
    s = result.summary
    assert s["zero_areas"] == ("Gamma",) and s["zero_codes"] == ("D3",)
    assert s["n_funded"] == 2 and s["n_areas"] == 3
    assert (s["min_per"], s["max_per"], s["ratio"]) == (2500.0, 5000.0, 2.0)
    # per head 2.5, 5, 0: mean 2.5, population sd sqrt(12.5 / 3)
    assert s["cv"] == pytest.approx(math.sqrt(12.5 / 3) / 2.5)
    # mean absolute difference over all ordered pairs 20 / 9, over twice the mean
    assert s["gini"] == pytest.approx((20 / 9) / 5)
    # money that would move to be even per head: 1,000 - 800 + 1,000 - 400 = 800 (and 800 to Gamma)
    assert s["misallocated"] == pytest.approx(800.0)


def test_sentence_names_every_area_with_nothing(caf):
    found = review_force(caf.build(), AS_AT).of_kind("inequity")
    assert [f.sentence for f in found] == [
        "Community Action Fund: Gamma received nothing; the other two districts received £2,500 to £5,000 per "
        "1,000 residents."]


def test_without_zero_areas_the_sentence_gives_range_ratio_and_gini(make):
    b = make().fund("f", "Safety Fund").allocation(1, "f", 400, ("D1",)).allocation(2, "f", 400, ("D2",))
    b.allocation(3, "f", 100, ("D3",))
    sentence = review_force(b.build(), AS_AT).of_kind("inequity")[0].sentence
    # per 1,000: 1,000, 2,000, 250; ratio 8.0; Gini of 1, 2, 0.25: 2 x 8.25 / (3 x 3.25) - 4 / 3 = 0.359
    assert sentence == ("Safety Fund: the three districts received £250 (Gamma) to £2,000 (Beta) per 1,000 residents; "
                        "the highest is 8.0 times the lowest (Gini 0.36).")


def test_breakdowns_are_not_double_counted_and_place_money_more_precisely(make):
    b = make().fund("f", "Fund")
    b.allocation(1, "f", 1000, ("D1",))
    b.allocation(2, "f", 600, (), parent=1)  # inherits D1
    b.allocation(3, "f", 400, ("D2",), parent=1)
    t = inequity(b.build(), fund_key="f").table.set_index("area_code")
    assert t["amount"].tolist() == [600.0, 400.0, 0.0]


def test_breakdowns_larger_than_the_parent_are_scaled_and_a_remainder_stays(make):
    b = make().fund("f", "Fund")
    b.allocation(1, "f", 1000).allocation(2, "f", 800, ("D1",), parent=1).allocation(3, "f", 800, ("D2",), parent=1)
    b.allocation(4, "f", 1000, ("D3",)).allocation(5, "f", 300, ("D1",), parent=4)
    result = inequity(b.build(), fund_key="f")
    t = result.table.set_index("area_code")
    assert t["amount"].tolist() == pytest.approx([500.0 + 300.0, 500.0, 700.0])
    assert result.summary["total"] == 2000.0


def test_an_allocation_without_areas_is_shared_by_population(make):
    b = make().fund("f", "Fund").allocation(1, "f", 1000)
    t = inequity(b.build(), fund_key="f", level="area").table.set_index("area_code")
    assert t["amount"].tolist() == [600.0, 400.0]
    assert t["per_head"].tolist() == [1.0, 1.0]
    r = inequity(b.build(), fund_key="f")
    assert r.summary["gini"] == 0.0 and r.summary["cv"] == 0.0 and r.summary["ratio"] == 1.0


def test_area_level(caf):
    result = inequity(caf.build(), fund_key="caf", level="area")
    assert result.table["amount"].tolist() == [2000.0, 0.0]
    assert result.summary["zero_areas"] == ("South",)


def test_unknown_area_codes_are_reported_as_unplaced(make):
    b = make().fund("f", "Fund").allocation(1, "f", 1000, ("D1",)).allocation(2, "f", 50, ("E99",))
    s = inequity(b.build(), fund_key="f").summary
    assert (s["unplaced"], s["total"], s["allocated"]) == (50.0, 1000.0, 1050.0)


def test_theme_across_funding_and_per_unit_of_need(make):
    b = make().service(1, coverage=("A1",), amount=6000).service(2, coverage=("F",), amount=1000)
    b.indicator("ea", "EA", ("mh",)).need("ea", "D1", 100).need("ea", "D2", 100).need("ea", "D3", 300)
    result = inequity(b.build(), AS_AT, theme="mh", indicator="ea")
    t = result.table.set_index("area_code")
    assert t["amount"].tolist() == pytest.approx([4400.0, 2200.0, 400.0])
    assert t["per_need"].tolist() == pytest.approx([44.0, 22.0, 400 / 300])
    assert result.summary["ratio_need"] == pytest.approx(44 / (4 / 3))
    assert result.label == "Mental health funding"


def test_one_of_fund_or_theme():
    with pytest.raises(ValueError):
        inequity(None)


def test_area_review_shows_a_fund_where_one_of_its_districts_got_nothing(caf):
    assert review_area(caf.build(), "South", AS_AT).of_kind("inequity")[0].texts["zero_areas"] == "Gamma"
    assert review_area(caf.build(), "North", AS_AT).of_kind("inequity") == []
    assert review_area(caf.build(), "Gamma", AS_AT).of_kind("inequity")[0].figures["n_funded"] == 2


def test_gini_and_cv_by_hand():
    assert gini(np.array([1.0, 1.0, 1.0])) == 0.0
    assert gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)
    assert math.isnan(gini(np.array([0.0, 0.0])))
    assert coefficient_of_variation(np.array([1.0, 3.0])) == pytest.approx(0.5)


def test_an_even_fund_is_not_a_finding_and_equal_rates_are_said_once(make):
    b = make().fund("even", "Even Fund").allocation(1, "even", 1000)  # whole force by population
    b.fund("two", "Two Fund").allocation(2, "two", 400, ("D1",)).allocation(3, "two", 200, ("D2",))
    found = review_force(b.build(), AS_AT).of_kind("inequity")
    assert [f.sentence for f in found] == [
        "Two Fund: Gamma received nothing; the other two districts received £1,000 per 1,000 residents."]
    assert inequity(b.build(), fund_key="even").summary["n_min"] == 3
