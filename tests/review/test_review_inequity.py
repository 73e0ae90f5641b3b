"""Inequity: per head, per 1,000 and per unit of need; ratio, CV, Gini; areas that received nothing."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services_db.review import gini, inequity, review_area, review_force
from services_db.review.inequity import coefficient_of_variation
from services_db.review.wording import inequity_sentence

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
        "Community Action Fund: Gamma received nothing; Alpha and Beta received £2,500 to £5,000 per "
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
    assert review_area(caf.build(), "Gamma", AS_AT).of_kind("inequity")[0].texts["funded_areas"] == "Alpha and Beta"


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
        "Two Fund: Gamma received nothing; Alpha and Beta received £1,000 per 1,000 residents."]
    assert inequity(b.build(), fund_key="even").summary["n_min"] == 3


# -- what is money, at a date, and over which areas (review.md v2; issue 11, problem 5) --------------------------


def test_an_application_is_not_money_and_is_reported_apart(make):
    b = make().fund("f", "Fund").allocation(1, "f", 600, ("D1",)).allocation(2, "f", 140_000, ("D3",),
                                                                             status="applied")
    result = inequity(b.build(), AS_AT, fund_key="f")
    t = result.table.set_index("area_code")
    assert t["amount"].tolist() == [600.0, 0.0, 0.0]
    s = result.summary
    assert (s["total"], s["allocated"], s["applied"], s["n_applied"]) == (600.0, 600.0, 140_000.0, 1)
    # an application is not money received in Gamma: Gamma received nothing, like Beta
    assert s["zero_areas"] == ("Beta", "Gamma")


def test_a_fund_that_is_only_an_application_has_no_finding(make):
    b = make().fund("cap", "Capital bid").allocation(1, "cap", 140_000, ("D1", "D3"), status="applied")
    result = inequity(b.build(), AS_AT, fund_key="cap")
    assert result.summary["total"] == 0 and result.summary["applied"] == 140_000
    assert result.table["amount"].sum() == 0 and not result.table["received_nothing"].any()
    assert review_force(b.build(), AS_AT).of_kind("inequity") == []


def test_withdrawn_awards_and_lines_under_an_application_are_not_money(make):
    b = make().fund("f", "Fund").allocation(1, "f", 1000, ("D1",)).allocation(2, "f", 300, ("D2",), status="withdrawn")
    b.allocation(3, "f", 500, ("D3",), status="applied").allocation(4, "f", 200, ("D3",), parent=3)
    s = inequity(b.build(), AS_AT, fund_key="f").summary
    assert (s["total"], s["allocated"], s["applied"]) == (1000.0, 1000.0, 500.0)
    assert s["zero_areas"] == ("Beta", "Gamma")


def test_a_paid_allocation_is_money(make):
    b = make().fund("f", "Fund").allocation(1, "f", 1000, ("D1",), status="paid")
    assert inequity(b.build(), AS_AT, fund_key="f").summary["total"] == 1000.0


def test_a_fund_starting_after_the_date_is_future_money_not_received_nor_nothing(make):
    b = make().fund("later", "Reserve 2014-17", start="2014-04-01", end="2017-03-31")
    b.allocation(1, "later", 1_000_000, ("D1",))
    before = inequity(b.build(), "2014-01-27", fund_key="later")
    assert before.summary["total"] == 0 and before.summary["future"] == 1_000_000
    assert before.table["amount"].sum() == 0 and not before.table["received_nothing"].any()
    assert review_force(b.build(), "2014-01-27").of_kind("inequity") == []
    after = inequity(b.build(), "2016-07-21", fund_key="later")
    assert after.summary["total"] == 1_000_000 and after.summary["future"] == 0
    assert after.summary["zero_areas"] == ("Beta", "Gamma")


def test_an_allocation_planned_to_start_after_the_date_is_future(make):
    b = make().fund("f", "Fund").allocation(1, "f", 100, ("D1",), start="2013-04-01")
    b.allocation(2, "f", 900, ("D2",), start="2015-04-01")
    s = inequity(b.build(), "2014-01-27", fund_key="f").summary
    assert (s["total"], s["future"], s["zero_areas"]) == (100.0, 900.0, ("Beta", "Gamma"))


def test_inequity_is_over_the_funds_eligible_areas_only(make):
    """A county fund open to Alpha and Beta (not the unitary Gamma): Gamma is never "received nothing"."""
    b = make().fund("county", "County Fund", eligible=("D1", "D2")).allocation(1, "county", 800, ("D1",))
    result = inequity(b.build(), AS_AT, fund_key="county")
    t = result.table.set_index("area_code")
    assert t["eligible"].tolist() == [True, True, False]
    assert result.summary["zero_areas"] == ("Beta",) and result.summary["n_areas"] == 2
    [finding] = review_force(b.build(), AS_AT).of_kind("inequity")
    assert finding.sentence == "County Fund: Beta received nothing; Alpha received £2,000 per 1,000 residents."
    assert "Gamma" not in finding.sentence
    # eligibility at a higher level: the area North holds Alpha and Beta
    b2 = make().fund("county", "County Fund", eligible=("A1",)).allocation(1, "county", 800, ("D1", "D2"))
    assert inequity(b2.build(), AS_AT, fund_key="county").summary["zero_areas"] == ()
    assert review_force(b2.build(), AS_AT).of_kind("inequity") == []  # even per head over its eligible areas


def test_an_eligible_fund_compares_its_areas_not_the_force(make):
    """Statistics are over the eligible areas: money even per head over them is even (Gini 0)."""
    b = make().fund("county", "County Fund", eligible=("D1", "D2"))
    b.allocation(1, "county", 400, ("D1",)).allocation(2, "county", 200, ("D2",))
    s = inequity(b.build(), AS_AT, fund_key="county").summary
    assert (s["gini"], s["cv"], s["ratio"], s["misallocated"]) == (0.0, 0.0, 1.0, 0.0)


def test_money_the_source_does_not_break_down_is_not_broken_down_not_received_or_nothing(make):
    """£500 to Alpha and Beta whose split the source does not give (areas_are_estimate)."""
    b = make().fund("f", "Precursor").allocation(1, "f", 500, ("D1", "D2"), areas_are_estimate=True)
    result = inequity(b.build(), AS_AT, fund_key="f")
    s = result.summary
    assert s["not_broken_down"] == ("Alpha", "Beta") and s["not_broken_down_codes"] == ("D1", "D2")
    assert s["not_broken_down_amount"] == 500.0 and s["n_funded"] == 0 and s["is_estimate"]
    assert s["zero_areas"] == ("Gamma",)
    t = result.table.set_index("area_code")
    assert t["not_broken_down"].tolist() == [True, True, False]
    assert t["received_nothing"].tolist() == [False, False, True]
    [finding] = review_force(b.build(), AS_AT).of_kind("inequity")
    assert finding.sentence == "Precursor: Gamma received nothing; £500 for Alpha and Beta is not broken down by district."
    assert finding.is_estimate


def test_not_broken_down_beside_money_that_is(make):
    b = make().fund("f", "Fund").allocation(1, "f", 500, ("D1", "D2"), areas_are_estimate=True)
    b.allocation(2, "f", 800, ("D3",))
    summary = inequity(b.build(), AS_AT, fund_key="f").summary
    assert inequity_sentence(summary, "district").text() == (
        "Fund: £500 for Alpha and Beta is not broken down by district; Gamma received £2,000 per 1,000 residents.")
    # one area compared with nobody: nothing uneven to report, so no finding
    assert review_force(b.build(), AS_AT).of_kind("inequity") == []


def test_a_child_inheriting_estimated_areas_is_not_broken_down_but_its_own_areas_are_firm(make):
    b = make().fund("f", "Fund").allocation(1, "f", 1000, ("D1", "D2"), areas_are_estimate=True)
    b.allocation(2, "f", 300, ("D1",), parent=1)  # a grant the source places in Alpha
    s = inequity(b.build(), AS_AT, fund_key="f").summary
    # Alpha has firm money (the grant): compared; Beta only the rest of the parent's undivided money
    assert s["not_broken_down"] == ("Beta",) and s["funded_areas"] == ("Alpha",)
    assert s["total"] == pytest.approx(1000.0)


def test_sub_allocations_are_counted_once_at_any_depth(make):
    """Seed 002's shape: £581,476 to the 12 LCC districts, £120,000 of it to the CSPs, £70,950 of that as grants."""
    b = make().fund("csg", "Grant").allocation(1, "csg", 581_476, ("D1", "D2"))
    b.allocation(2, "csg", 120_000, (), parent=1, areas_are_estimate=True)
    b.allocation(3, "csg", 9_289, ("D1",), parent=2).allocation(4, "csg", 61_661, ("D2",), parent=2)
    result = inequity(b.build(), AS_AT, fund_key="csg")
    assert result.summary["total"] == 581_476.0 == pytest.approx(result.table["amount"].sum())
    assert result.summary["zero_areas"] == ("Gamma",) and result.summary["not_broken_down"] == ()


def test_the_sentence_names_up_to_three_compared_areas_and_counts_more(make):
    b = make().fund("f", "Fund").allocation(1, "f", 400, ("D1",)).allocation(2, "f", 400, ("D2",))
    sentence = review_force(b.build(), AS_AT).of_kind("inequity")[0].sentence
    assert sentence == "Fund: Gamma received nothing; Alpha and Beta received £1,000 to £2,000 per 1,000 residents."


_UNDER = {"D1": {"D1"}, "D2": {"D2"}, "D3": {"D3"}, "A1": {"D1", "D2"}, "A2": {"D3"}}
_NAMES = {"D1": "Alpha", "D2": "Beta", "D3": "Gamma"}
_alloc = st.tuples(st.integers(1, 10**7).map(lambda p: p / 100),
                   st.lists(st.sampled_from(tuple(_UNDER)), min_size=1, max_size=2),
                   st.sampled_from(("awarded", "paid", "applied", "withdrawn")), st.booleans())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(eligible=st.lists(st.sampled_from(tuple(_UNDER)), max_size=2, unique=True),
       allocations=st.lists(_alloc, min_size=1, max_size=5))
def test_an_eligible_area_with_nothing_is_always_listed_and_an_ineligible_one_never(make, eligible, allocations):
    """review.md v2: an eligible area with zero allocation where others have some is always listed; the areas a
    fund is not open to, money not yet money (applications, withdrawn awards) and money not broken down never are."""
    b = make().fund("f", "Fund", eligible=eligible)
    for i, (amount, codes, status, estimated) in enumerate(allocations, start=1):
        b.allocation(i, "f", amount, codes, status=status, areas_are_estimate=estimated)
    open_to = set().union(*(_UNDER[c] for c in eligible)) if eligible else {"D1", "D2", "D3"}
    money = [(set().union(*(_UNDER[c] for c in codes)), est) for _, codes, status, est in allocations
             if status in ("awarded", "paid")]
    reached = set().union(*(d for d, _ in money)) if money else set()
    split = set().union(*(d for d, est in money if est)) if money else set()
    firm = set().union(*(d for d, est in money if not est)) if money else set()
    expected_zero = (open_to - reached) if reached else set()
    summary = inequity(b.build(), AS_AT, fund_key="f").summary
    assert set(summary["zero_codes"]) == expected_zero
    assert set(summary["not_broken_down_codes"]) == split - firm
    assert not set(summary["zero_codes"]) & (set(_NAMES) - open_to)
    found = review_force(b.build(), AS_AT).of_kind("inequity")
    if expected_zero:
        [finding] = found
        assert all(_NAMES[d] in finding.texts["zero_areas"] for d in expected_zero)
        assert finding.sentence.count("received nothing") == 1
        assert not any(_NAMES[d] in finding.texts["zero_areas"] for d in set(_NAMES) - open_to)
