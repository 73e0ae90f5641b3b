"""services_db.funds' views for the Funds page and the fair-share calculator."""

import pytest

from services_db import funds
from services_db.queries import default_as_at, review_data
from services_db.review import fair_share

CSG = "csg-2013-14"
CSG_ALLOCATED = 1_793_938


def test_fund_year_totals(demo_db):
    data, when = review_data(demo_db), default_as_at(demo_db)
    fy = funds.fund_year(data, "2013-14", when)
    assert (fy.total, fy.allocated, fy.applied, fy.unallocated) == (2_024_000, 1_933_738, 0, 90_262)
    assert (fy.future, fy.has_estimates, len(fy.funds)) == (0, True, 3)
    # At 27 January 2014 the 2014-15 funds are future money; the £140,000 capital application is pipeline.
    later = funds.fund_year(data, "2014-15", when)
    assert (later.total, later.allocated, later.applied, later.unallocated) == (356_000, 216_000, 140_000, 0)
    assert later.future == 2 and not later.has_estimates


def test_breakdown_groups_add_up_to_the_allocated_total(demo_db):
    data = review_data(demo_db)
    b = funds.fund_breakdown(data, [CSG], funds.allocation_schedules(demo_db))
    for by in funds.GROUP_BY:
        grouped = b.grouped(by)
        assert list(grouped.columns) == ["group", "amount"]
        assert round(grouped["amount"].sum(), 2) == CSG_ALLOCATED
        assert grouped["amount"].is_monotonic_decreasing
    assert b.grouped("recipient").iloc[0].tolist() == ["Lancashire Community Safety Strategy Group", 470_859]
    assert len(b.grouped("area")) == 9 and b.applied == 0 and b.pipeline.empty
    assert b.phasing["quarter"].tolist() == ["2013-14 Q1", "2013-14 Q2", "2013-14 Q3", "2013-14 Q4"]
    assert round(b.phasing["amount"].sum(), 2) == CSG_ALLOCATED
    assert len(b.ends) == len(b.lines) == 37
    with pytest.raises(ValueError):
        b.grouped("colour")


def test_breakdown_keeps_applications_apart(demo_db):
    data = review_data(demo_db)
    b = funds.fund_breakdown(data, ["pif-capital-application-2014-15"], funds.allocation_schedules(demo_db))
    assert b.applied == 140_000 and b.lines["amount"].sum() == 0


def test_fair_share_view(demo_db):
    data = review_data(demo_db)
    assert {CSG, "pif-capital-application-2014-15"} <= set(funds.allocated_funds(data))
    factors = funds.fair_share_factors(data)
    assert list(factors)[:1] == ["population"] and factors["early-action-incidents"] == "Early Action incidents"
    # the caller's order and zero weights do not change the formula
    view = funds.fund_fair_share(data, CSG, {"early-action-incidents": 50.0, "population": 100.0,
                                             "police-incidents": 0.0})
    assert [(name, round(w, 4)) for name, w in view.formula] == [("Population", 0.6667),
                                                                  ("Early Action incidents", 0.3333)]
    expected = fair_share(data, CSG, weights={"population": 100.0, "early-action-incidents": 50.0})
    assert view.table["fair_share"].tolist() == pytest.approx(expected["fair_share"].tolist(), abs=0.01)
    table = view.table.set_index("area_name")
    assert view.furthest_below["area_name"] == "Lancaster" == table["difference"].idxmin()
    assert table.loc["Blackpool", "received"] == "more" and table.loc["Lancaster", "received"] == "less"
    assert (table["gap"] == table["difference"].abs()).all()
    assert funds.fund_fair_share(data, CSG, {"population": 0.0}) is None
