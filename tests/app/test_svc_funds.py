"""services_db.funds: totals count top-level allocations only; breakdowns add back to them."""

import pandas as pd
import pytest

from services_db import funds
from services_db.queries import review_data
from services_db.review import inequity


def test_community_safety_grant_reconciles(demo_db):
    s = funds.fund_summary(review_data(demo_db), "2013-14").set_index("fund_key")
    csg = s.loc["csg-2013-14"]
    assert (csg["total"], csg["allocated"], csg["unallocated"]) == (1_794_000, 1_793_938, 62)
    assert s.loc["csp-funding-2013-14", "allocated"] == 105_000


def test_breakdowns_do_not_double_count(demo_db):
    data = review_data(demo_db)
    lines = funds.allocation_lines(data, ["csg-2013-14"])
    assert round(lines["amount"].sum(), 2) == 1_793_938
    assert 3 not in set(lines["allocation_id"])  # the £581,476 parent is replaced by its nine lines
    by_area = funds.allocations_by_area(data, ["csg-2013-14"], "area")
    assert round(by_area["amount"].sum(), 2) == 1_793_938


def test_by_area_agrees_with_the_reviews_inequity(demo_db):
    data = review_data(demo_db)
    mine = funds.allocations_by_area(data, ["community-action-fund-2013-14"], "district").set_index("code")
    # within the fund's own period (at a later date a 2013-14 fund is history, not money reaching areas)
    theirs = inequity(data, "2013-10-01", fund_key="community-action-fund-2013-14", level="district").table
    for row in theirs.itertuples():
        assert mine.loc[row.area_code, "amount"] == pytest.approx(row.amount, abs=0.01)


def test_unbroken_parent_remainder_is_kept():
    data = _tiny()
    lines = funds.allocation_lines(data)
    assert lines["amount"].sum() == 100
    assert any(funds.NOT_BROKEN_DOWN in p for p in lines["purpose"])


def test_payment_phasing_spreads_quarterly_lines(demo_db):
    data = review_data(demo_db)
    lines = funds.allocation_lines(data, ["csg-2013-14"])
    phasing = funds.payment_phasing(lines, funds.allocation_schedules(demo_db))
    assert round(phasing["amount"].sum(), 2) == 1_793_938
    assert set(phasing["financial_year"]) == {"2013-14"}
    assert phasing["quarter"].nunique() == 4


def test_financial_year_of():
    assert funds.financial_year_of(pd.Timestamp("2014-03-31")) == "2013-14"
    assert funds.financial_year_of(pd.Timestamp("2014-04-01")) == "2014-15"
    assert funds.financial_year_of(pd.Timestamp("1999-06-01")) == "1999-00"


def _tiny():
    from services_db.review.data import ReviewData, empty_frame

    areas = pd.DataFrame({"code": ["F", "D", "L1", "L2"], "name": ["Force", "District", "L1", "L2"],
                          "level": ["force", "district", "lsoa", "lsoa"], "parent_code": [None, "F", "D", "D"],
                          "population": [200.0, 200.0, 100.0, 100.0], "population_is_estimate": [False] * 4})
    funds_f = pd.DataFrame({"fund_key": ["f"], "name": ["Fund"], "money_source": [""], "financial_year": ["2020-21"],
                            "total_amount": [150.0], "owner": ["O"]})
    alloc = pd.DataFrame({"allocation_id": [1, 2], "fund_key": ["f", "f"], "recipient": ["R", "R"],
                          "service_id": [float("nan")] * 2, "amount": [100.0, 60.0], "purpose": ["all", "part"],
                          "priorities": [(), ()], "area_codes": [("D",), ("L1",)], "planned_start": [pd.NaT] * 2,
                          "planned_end": [pd.NaT] * 2, "is_estimate": [False, False],
                          "parent_allocation_id": [float("nan"), 1.0]})
    frames = {n: empty_frame(n) for n in ("services", "funding_lines", "coverage", "indicators", "need", "plans",
                                          "priorities", "service_priorities", "themes")}
    return ReviewData(areas=areas, funds=funds_f, allocations=alloc, **frames)


def _with_statuses():
    """_tiny() plus an application (with a breakdown line), a withdrawn award and a fund that starts later."""
    import dataclasses

    data = _tiny()
    alloc = data.allocations.copy()
    extra = pd.DataFrame({"allocation_id": [3, 4, 5], "fund_key": ["f", "f", "g"], "recipient": ["R"] * 3,
                          "service_id": [float("nan")] * 3, "amount": [40.0, 10.0, 70.0],
                          "purpose": ["bid", "part of the bid", "later"], "priorities": [(), (), ()],
                          "area_codes": [("L2",), ("L2",), ()], "planned_start": [pd.NaT] * 3,
                          "planned_end": [pd.NaT] * 3, "is_estimate": [False] * 3,
                          "parent_allocation_id": [float("nan"), 3.0, float("nan")]})
    alloc = pd.concat([alloc, extra], ignore_index=True)
    alloc["status"] = ["paid", "awarded", "applied", "awarded", "awarded"]
    funds_f = pd.concat([data.funds, pd.DataFrame({"fund_key": ["g"], "name": ["Later fund"], "money_source": [""],
                                                   "financial_year": ["2021-23"], "total_amount": [70.0],
                                                   "owner": ["O"]})], ignore_index=True)
    return dataclasses.replace(data, allocations=alloc, funds=funds_f)


def test_applications_are_pipeline_never_money():
    data = _with_statuses()
    lines = funds.allocation_lines(data, ["f"])
    assert lines["amount"].sum() == 100  # the paid line and its breakdown; not the bid, nor the line under it
    assert not {3, 4} & set(lines["allocation_id"])
    assert funds.allocations_by_area(data, ["f"], "district")["amount"].sum() == 100
    pipe = funds.allocation_pipeline(data)
    assert pipe["allocation_id"].tolist() == [3] and pipe["amount"].sum() == 40
    s = funds.fund_summary(data, None, "2020-06-01").set_index("fund_key")
    assert (s.loc["f", "allocated"], s.loc["f", "applied"], s.loc["f", "unallocated"]) == (100, 40, 10)


def test_a_fund_starting_after_the_date_is_future_money():
    data = _with_statuses()
    periods = funds.fund_periods(data.funds).set_index("fund_key")
    assert periods.loc["g", "start"] == pd.Timestamp("2021-04-01")
    assert periods.loc["g", "end"] == pd.Timestamp("2023-03-31")
    s = funds.fund_summary(data, None, "2021-03-31").set_index("fund_key")
    assert s["is_future"].to_dict() == {"f": False, "g": True}
    assert funds.money_totals(data, "2021-03-31") == {"allocated": 100.0, "future": 70.0, "applied": 40.0}
    assert funds.money_totals(data, "2021-04-01") == {"allocated": 170.0, "future": 0.0, "applied": 40.0}
    assert not funds.fund_summary(data, None)["is_future"].any()  # no date: nothing is called future
