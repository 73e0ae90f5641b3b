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


# -- placing many funds at once gives the LSOA-by-LSOA figures, to the last bit -------------------------------------

def _lsoa_by_lsoa(ctx, fund_key, level):
    """The placement as it was: each allocation's money spread over its LSOAs by population (`spread`), then added
    up per unit LSOA row by LSOA row (the reference `place_funds` must match bit for bit)."""
    from services_db.review import allocations as al
    from services_db.review.apportion import spread

    a = al._parsed(ctx)
    rows = al.fund_rows(ctx, fund_key)
    live, future = al.counted(ctx)[rows], al._future(ctx)[rows]
    units = ctx.geo.units(level)
    eligible = al.fund_eligible(ctx, fund_key, level)
    nothing = np.zeros(len(units), dtype=bool)
    if len(rows) == 0:
        return al.Placed(np.zeros(len(units)), nothing, 0.0, 0.0, 0, False, eligible, nothing)
    n = len(rows)
    where = {int(x): i for i, x in enumerate(a["id"][rows].tolist())}
    parent = np.array([where.get(int(p), -1) for p in a["parent_id"][rows].tolist()], dtype=np.int64)
    parent[parent == np.arange(n)] = -1
    amount = np.where(live, a["amount"][rows], 0.0)
    depth = np.zeros(n, dtype=np.int64)
    cur = parent.copy()
    for _ in range(al._MAX_DEPTH):
        up = cur >= 0
        if not up.any():
            break
        depth[up] += 1
        cur = np.where(up, parent[np.maximum(cur, 0)], -1)
    parent[depth >= al._MAX_DEPTH] = -1
    depth[depth >= al._MAX_DEPTH] = 0
    top = parent < 0
    raw = a["amount"][rows]
    applied_rows = top & (a["status"][rows] == "applied") & ~al._past(ctx)[rows]
    future_rows = top & a["money"][rows] & future
    codes = [a["codes"][r] for r in rows.tolist()]
    split_estimated = a["areas_are_estimate"][rows].copy()
    value = np.where(top, amount, 0.0)
    children_sum = np.bincount(parent[~top], weights=amount[~top], minlength=n)
    for d in range(1, int(depth.max()) + 1):
        at = np.flatnonzero(depth == d)
        p = parent[at]
        cs = children_sum[p]
        value[at] = amount[at] * np.where(cs > value[p], value[p] / np.where(cs > 0, cs, 1), 1)
        for i, pi in zip(at.tolist(), p.tolist(), strict=True):
            if not codes[i]:
                codes[i] = codes[pi]
                split_estimated[i] = split_estimated[i] or split_estimated[pi]
    piece = np.maximum(value - np.bincount(parent[~top], weights=value[~top], minlength=n), 0.0)
    every = np.arange(ctx.geo.n_lsoa)
    lens = np.array([len(c) for c in codes], dtype=np.int64)
    k1, l1 = ctx.geo.expand(np.repeat(np.arange(n), lens), ctx.geo.positions([c for t in codes for c in t]))
    whole = np.flatnonzero(lens == 0)
    k = np.concatenate([k1, np.repeat(whole, len(every))])
    lsoa = np.concatenate([l1, np.tile(every, len(whole))])
    order = np.argsort(k, kind="stable")
    k, lsoa = k[order], lsoa[order]
    money = spread(k, ctx.geo.population[lsoa], piece)
    unit = units.of_lsoa[lsoa]
    inside = unit >= 0
    per_unit = np.bincount(unit[inside], weights=money[inside], minlength=len(units))
    paid = (piece[k] > 0) & inside
    est = split_estimated[k]
    has = np.bincount(k, minlength=n) > 0
    return al.Placed(
        per_unit, np.bincount(unit[paid], minlength=len(units)) > 0, float(amount[top].sum()),
        float(piece[~has].sum()), int((top & live).sum()),
        bool((a["is_estimate"][rows] & live).any() or (split_estimated & (piece > 0)).any()), eligible,
        np.bincount(unit[paid & est], minlength=len(units)) > 0,
        np.bincount(unit[paid & ~est], minlength=len(units)) > 0,
        float(piece[split_estimated & has].sum()), float(raw[applied_rows].sum()), int(applied_rows.sum()),
        float(raw[future_rows].sum()))


def _mixed_funds(make, seed, whole_numbers):
    """Districts of many LSOAs (numbered out of district order, one with nobody living there) and of one, an LSOA
    in no district, and funds whose allocations name districts, areas, the force, single LSOAs, mixtures of those (some
    nested), unknown codes or nothing, with breakdowns, applications, withdrawals and estimates."""
    import random

    rng = random.Random(seed)
    areas = [("F", "Testshire", "force", None, math.nan), ("V", "Division", "division", "F", math.nan),
             ("A1", "North", "area", "V", math.nan), ("A2", "South", "area", "V", math.nan),
             ("D1", "Alpha", "district", "A1", math.nan), ("D2", "Beta", "district", "A1", math.nan),
             ("D3", "Gamma", "district", "A2", math.nan), ("D4", "Delta", "district", "A2", math.nan),
             ("D5", "Epsilon", "district", "A1", math.nan)]
    homes = ["D1"] * 30 + ["D2"] * 12 + ["D3"] * 25 + ["D4"] * 3 + ["D5"] + ["A2"]
    rng.shuffle(homes)
    lsoas = []
    for i, home in enumerate(homes):
        pop = 0.0 if home == "D4" else rng.randint(900, 3100) if whole_numbers else rng.uniform(900, 3100)
        if i == 5:
            pop = math.nan  # unknown: an average LSOA
        areas.append((f"L{i:02d}", f"LSOA {i}", "lsoa", home, pop))
        lsoas.append(f"L{i:02d}")
    b = make(areas)
    singles = ["D1", "D2", "D3", "D4", "D5", "A1", "A2", "V", "F", "ZZ"] + lsoas
    aid = 0
    for f in range(4):
        key = f"f{f}"
        b.fund(key, f"Fund {f}", eligible=("A1",) if f == 3 else ())
        ids = []
        for _ in range(60):
            aid += 1
            shape = rng.random()
            if shape < 0.4:
                codes = (rng.choice(singles),)
            elif shape < 0.55:
                codes = tuple(rng.sample(lsoas, rng.randint(2, 6)))
            elif shape < 0.7:
                codes = (rng.choice(["D1", "D2", "D3", "A1", "A2"]), *rng.sample(lsoas, rng.randint(1, 4)))
            elif shape < 0.8:
                codes = ("A1", "D1") if rng.random() < 0.5 else ("D3", "A2", "D3")
            elif shape < 0.9:
                codes = tuple(rng.sample(["D1", "D2", "D3", "D4", "A1", "A2"], 2))
            else:
                codes = ()
            parent = rng.choice(ids) if ids and rng.random() < 0.15 else None
            if parent is not None and rng.random() < 0.5:
                codes = ()  # a breakdown with no areas of its own: its parent's
            status = rng.choices(["awarded", "paid", "applied", "withdrawn"], [8, 3, 1, 1])[0]
            b.allocation(aid, key, round(rng.uniform(100, 90_000), 2), codes, parent=parent, status=status,
                         is_estimate=rng.random() < 0.1, areas_are_estimate=rng.random() < 0.15,
                         start="2017-01-01" if rng.random() < 0.05 else None)
            ids.append(aid)
    return b.build()


@pytest.mark.parametrize("whole_numbers", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_placing_funds_together_gives_the_lsoa_by_lsoa_figures_to_the_last_bit(make, monkeypatch, seed,
                                                                               whole_numbers):
    """`place_funds` adds each unit's money without a row per (allocation, LSOA), in blocks: every figure must be
    what spreading each allocation over its LSOAs and adding the rows up gave, to the last bit (the order of a
    floating-point sum shows in the last digit), with districts, areas, LSOAs and mixtures of them named."""
    from services_db.review import allocations
    from services_db.review import geography as geography_module
    from services_db.review.context import Context

    fields = ("amount", "reached", "total", "unplaced", "n_allocations", "is_estimate", "eligible", "estimated",
              "firm", "estimated_amount", "applied", "n_applied", "future")
    for chunk, cells in ((geography_module.CHUNK, allocations._CELLS), (40, 50)):  # and in small blocks
        monkeypatch.setattr(geography_module, "CHUNK", chunk)
        monkeypatch.setattr(allocations, "_CELLS", cells)
        ctx = Context(_mixed_funds(make, seed, whole_numbers), AS_AT)
        keys = ["f0", "f1", "f2", "f3", "nofund"]
        for level in ("district", "area", "lsoa"):
            for key, got in zip(keys, allocations.place_funds(ctx, keys, level), strict=True):
                want = _lsoa_by_lsoa(ctx, key, level)
                for name in fields:
                    x, y = getattr(got, name), getattr(want, name)
                    same = type(x) is type(y) and np.asarray(x).tobytes() == np.asarray(y).tobytes()
                    assert same, (level, key, name)
            assert allocations.place_fund(ctx, "f1", level) is allocations.place_funds(ctx, ["f1"], level)[0]
