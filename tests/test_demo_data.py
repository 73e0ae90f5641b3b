"""The demo database holds the seed facts, with their sources, and reconciles with the seeds' own totals."""

from decimal import Decimal

import pandas as pd
from sqlalchemy import func, select

from services_db import queries
from services_db.demo import load_demo
from services_db.models import Allocation, Fund, NeedValue, Organisation, Service


def _fund_totals(db, fund_name_part: str) -> tuple[Decimal, Decimal]:
    with db.sessions() as s:
        fund = s.scalar(select(Fund).where(Fund.name.contains(fund_name_part)))
        allocated = s.scalar(select(func.sum(Allocation.amount))
                             .where(Allocation.fund_id == fund.id, Allocation.parent_id.is_(None)))
        return Decimal(fund.total_amount), Decimal(allocated)


def test_community_safety_grant_reconciles_to_the_penny(demo_db):
    total, allocated = _fund_totals(demo_db, "Community Safety Grant")
    assert total == Decimal("1794000.00")
    assert allocated == Decimal("1793938.00")
    assert total - allocated == Decimal("62.00")


def test_community_safety_and_partnership_funding_reconciles(demo_db):
    total, allocated = _fund_totals(demo_db, "Community Safety & Partnership")
    assert (total, allocated, total - allocated) == (Decimal("180000.00"), Decimal("105000.00"), Decimal("75000.00"))


def test_lcc_breakdown_lines_add_up_to_their_parent(demo_db):
    with demo_db.sessions() as s:
        parent = s.scalar(select(Allocation).where(Allocation.amount == Decimal("581476.00"),
                                                   Allocation.parent_id.is_(None)))
        children = s.scalar(select(func.sum(Allocation.amount)).where(Allocation.parent_id == parent.id))
    assert Decimal(children) == Decimal("581476.00")


def test_community_action_fund_has_nothing_for_pendle_or_rossendale(demo_db):
    data = queries.review_data(demo_db)
    fund_key = data.funds.loc[data.funds.name.str.contains("Community Action"), "fund_key"].item()
    allocs = data.allocations[data.allocations.fund_key == fund_key]
    codes = {c for t in allocs.area_codes for c in t}
    assert len(allocs) == 24
    assert "E07000122" not in codes and "E07000125" not in codes
    assert len(codes) == 12
    assert allocs["is_estimate"].all()
    assert round(allocs["amount"].sum(), 2) == 34800.00


def test_every_fact_row_carries_a_source(demo_db):
    data = queries.review_data(demo_db)
    with demo_db.sessions() as s:
        for model in (Service, Organisation, Fund, Allocation, NeedValue):
            blank = s.scalar(select(func.count()).select_from(model).where((model.source == "") | model.source.is_(None)))
            assert blank == 0, model.__name__
        sources = set(s.scalars(select(Allocation.source)))
    assert any("002_9343223861ab40f1.txt" in src for src in sources)
    assert len(data.services) >= 40


def test_seed_demand_figures_are_there(demo_db):
    data = queries.review_data(demo_db)
    need = data.need.merge(data.indicators[["indicator_key", "name"]], on="indicator_key")
    early = need[need.name.str.contains("Early Action", case=False) & ~need.name.str.contains("issing")]
    by_area = early.set_index("area_code")
    facts = by_area[~by_area.is_estimate]
    # Preston 15.5%, Lancaster 14.1% and Burnley 10.9% of 48,720 (seed 001) are facts; the rest are estimates.
    assert facts.loc["E07000123", "value"] == round(48720 * 0.155) or facts.loc["E07000123", "value"] == 48720 * 0.155
    assert {"E07000123", "E07000121", "E07000117"} <= set(facts.index)
    assert by_area.loc[~by_area.index.isin(["E07000123", "E07000121", "E07000117"]), "is_estimate"].all()
    assert abs(early["value"].sum() - 48720) < 1


def test_loading_twice_changes_nothing(fresh_demo_db):
    before = queries.table_counts(fresh_demo_db)
    data_before = queries.review_data(fresh_demo_db)
    load_demo(fresh_demo_db)
    after = queries.table_counts(fresh_demo_db)
    assert {k: v for k, v in after.items() if k != "setting"} == {k: v for k, v in before.items() if k != "setting"}
    data_after = queries.review_data(fresh_demo_db)
    pd.testing.assert_frame_equal(data_before.allocations.drop(columns=[]), data_after.allocations)


def test_headline_figures(demo_db):
    figures = queries.headline_figures(demo_db)
    assert figures["services"] >= 40
    assert figures["funds"] >= 5
    with demo_db.sessions() as s:
        expected = s.scalar(select(func.sum(Allocation.amount)).where(Allocation.parent_id.is_(None)))
    assert figures["allocated"] == float(expected)
    assert figures["allocated"] >= 1793938 + 105000
