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
    theirs = inequity(data, None, fund_key="community-action-fund-2013-14", level="district").table
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
