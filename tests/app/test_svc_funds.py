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


def test_when_funding_ends_every_grant_counts(demo_db):
    """Issue 14: "When funding ends" drew the 24 Community Action Fund grants (same recipient, amount and dates)
    as one bar. The timeline counts them: one row per fund and end date, grants = 24."""
    data = review_data(demo_db)
    ends = funds.funding_end_timeline(data)
    caf = ends[ends["fund_key"] == "community-action-fund-2013-14"]
    assert caf[["grants", "amount", "quarter"]].values.tolist() == [[24, 34_800, "2013-14 Q4"]]
    assert ends["grants"].sum() == len(funds.allocation_lines(data))  # every money line, across all funds
    lcc = ends[ends["fund_key"] == "lcc-sir-early-action-2014-17"]
    assert lcc["ends"].dt.year.tolist() == [2015, 2016, 2017] and lcc["grants"].tolist() == [1, 1, 1]
    assert ends["fund_end"].is_monotonic_increasing


def test_flows_from_fund_to_recipient_to_area_add_up(demo_db):
    data = review_data(demo_db)
    keys = ["csg-2013-14", "community-action-fund-2013-14"]
    flows = funds.allocation_flows(data, keys)
    by_area = funds.allocations_by_area(data, keys)
    assert round(flows["amount"].sum(), 2) == 1_793_938 + 34_800
    per_area = flows.groupby("area")["amount"].sum().round(2)
    assert per_area.to_dict() == pytest.approx(by_area.set_index("name")["amount"].to_dict(), abs=0.01)
    caf = flows[flows["fund_key"] == "community-action-fund-2013-14"]
    assert caf["lines"].sum() == 24 and set(caf["recipient"]) == {"Recipient not named"}


def _with_unknowns():
    """_with_statuses() plus an award with no amount recorded in fund f, and fund g's total not recorded."""
    import dataclasses

    data = _with_statuses()
    alloc = pd.concat([data.allocations, pd.DataFrame({
        "allocation_id": [6], "fund_key": ["f"], "recipient": ["S"], "service_id": [float("nan")],
        "amount": [float("nan")], "purpose": ["unknown amount"], "priorities": [()], "area_codes": [("L1",)],
        "planned_start": [pd.Timestamp("2020-04-01")], "planned_end": [pd.Timestamp("2021-03-31")],
        "is_estimate": [False], "parent_allocation_id": [float("nan")], "status": ["awarded"]})], ignore_index=True)
    fund_frame = data.funds.copy()
    fund_frame.loc[fund_frame["fund_key"] == "g", "total_amount"] = float("nan")
    return dataclasses.replace(data, allocations=alloc, funds=fund_frame)


def test_unknown_amounts_are_counted_never_zero():
    data = _with_unknowns()
    s = funds.fund_summary(data, None, "2020-06-01").set_index("fund_key")
    assert s.loc["f", "unknown_amounts"] == 1 and s.loc["f", "allocated"] == 100
    assert pd.isna(s.loc["f", "unallocated"]), "with an amount not recorded, what is left is not known"
    assert pd.isna(s.loc["g", "unallocated"]) and s.loc["g", "unknown_amounts"] == 0
    fy = funds.fund_year(data, "2020-21", "2020-06-01")
    assert fy.unknown_amounts == 1 and pd.isna(fy.unallocated) and fy.allocated == 100
    flows = funds.allocation_flows(data, ["f"], "district")
    assert flows["amount"].sum() == 100 and "S" not in set(flows["recipient"])  # no flow drawn for it
    ends = funds.funding_end_timeline(data).set_index("fund_key")
    # the two lines with no end date end with the fund (31 March 2021), with the award of unknown amount: three
    # grants, £100 known, one amount not recorded
    assert ends.loc["f"][["grants", "amount", "unknown_amounts", "from_fund_end"]].tolist() == [3, 100, 1, 2]


def test_a_links_year_names_an_option():
    years = ["2013-14", "2014-15", "2014-17", "2015-17", "2016-17", "2016-18"]
    assert funds.year_asked(years, "2014-15") == "2014-15"
    assert funds.year_asked(years, "2015-16") == "2015-17"  # no fund of 2015-16 alone: the one starting then
    assert funds.year_asked(years, "2017-18") == "2016-18"  # none starting then: the one covering it
    assert funds.year_asked(years, "2012-13") is None and funds.year_asked(years, "<b>") is None
    assert funds.year_asked(years, None) is None
