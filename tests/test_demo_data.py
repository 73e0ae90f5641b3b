"""The demo database holds the seed facts, with their sources, and reconciles with the seeds' own totals."""

from decimal import Decimal

import pandas as pd
from sqlalchemy import func, select

from services_db import queries
from services_db.demo import load_demo
from services_db.models import Allocation, Fund, FundingLine, NeedValue, Organisation, Plan, Priority, Service


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


def test_loading_twice_writes_no_record_again(fresh_demo_db):
    """The demo loads through the import pipeline, which leaves a row the database already has as it is: no new
    version or change stamp on any record, no funding line deleted and made again."""
    def stamps():
        with fresh_demo_db.sessions() as s:
            out = {model.__name__: sorted(s.execute(select(model.key, model.version, model.updated_at,
                                                           model.updated_by)).all())
                   for model in (Organisation, Fund, Service, Plan, Priority, Allocation)}
            out["lines"] = sorted(s.execute(select(FundingLine.id, FundingLine.service_id)).all())
            return out

    before = stamps()
    load_demo(fresh_demo_db)
    assert stamps() == before
    assert {by for _, _, _, by in before["Service"]} == {"system"}


def test_headline_figures(demo_db):
    figures = queries.headline_figures(demo_db)
    assert figures["services"] >= 40
    assert figures["funds"] >= 5
    with demo_db.sessions() as s:
        expected = s.scalar(select(func.sum(Allocation.amount))
                            .where(Allocation.parent_id.is_(None), Allocation.status.in_(["awarded", "paid"])))
    assert figures["allocated"] == float(expected)
    assert figures["allocated"] >= 1793938 + 105000


# Each pound once, money only (review.md v2; issue 11, problem 5), from the seeds' own figures:
SEED_MONEY = {
    "002 Appendix A: Community Safety Grant 2013-14, total allocated fund": 1_793_938,  # holds the £70,950 grants
    "002 Appendix A: Community Safety & Partnership Funding, total allocated fund": 105_000,
    "002 Community Action Fund: 24 awards (demo rule 5)": 34_800,
    "002 Precursor Police Innovation Fund": 216_000,
    "001 Financial: LCC Strategic Investment Reserve, maximum £3.0m": 3_000_000,
    "000 3. Information: Police Innovation Fund Early Action award": 4_300_000,
    "000 2016-2017 Bids: Police Innovation Fund 2016-17": 536_000,
    "000 Lancashire Volunteer Partnership (over £700k)": 700_000,
}  # not the £140,000 capital *application* (001 Financial), not the Appendix B grants again


def test_headline_allocated_counts_each_pound_once_and_no_applications(demo_db):
    assert sum(SEED_MONEY.values()) == 10_685_738
    assert queries.headline_figures(demo_db)["allocated"] == 10_685_738.00


def test_district_csp_grants_are_part_of_the_120000_line_not_a_fund_of_their_own(demo_db):
    """Seed 002: Appendix B's district CSP grants (£70,950) are the breakdown of Appendix A's £120,000
    'Allocation to Community Safety P'ships' inside the LCC 12 area CSP fund, so the pound is counted once."""
    with demo_db.sessions() as s:
        parent = s.scalar(select(Allocation).where(Allocation.key == "csg13-lcc-allocation-to-csps"))
        grants = list(s.scalars(select(Allocation).where(Allocation.parent_id == parent.id)))
        funds = set(s.scalars(select(Fund.key)))
        assert parent.amount == Decimal("120000.00") and parent.areas_are_estimate  # £49,050 not broken down
        assert parent.parent_id is not None  # itself a line of the £581,476
    assert len(grants) == 12 and sum(g.amount for g in grants) == Decimal("70950.00")
    assert {g.fund_id for g in grants} == {parent.fund_id}
    assert "lcc-district-csp-grants-2013-14" not in funds
    data = queries.review_data(demo_db)
    assert set(data.funding_lines.loc[data.funding_lines["service_id"].isin([g.service_id for g in grants]),
                                      "fund_key"]) == {"csg-2013-14"}


def test_the_capital_application_is_stored_as_applied_not_money(demo_db):
    """Seed 001 §Financial: the Constabulary is 'seeking ... an application to the Police Innovation Fund to
    provide capital funding valued at £0.140m'."""
    data = queries.review_data(demo_db)
    row = data.allocations.set_index("amount").loc[140_000.0]
    assert row["status"] == "applied" and row["fund_key"] == "pif-capital-application-2014-15"
    statuses = data.allocations["status"].value_counts().to_dict()
    assert statuses == {"awarded": 74, "paid": 2, "applied": 1}


def test_allocation_places_the_seeds_do_not_give_are_estimates(demo_db):
    """The £216,000 (seed 002 gives no place) and the £3m reserve (seed 001: 'initial indications suggesting
    Preston and Burnley and possibly one other') are placed in Preston and Burnley as estimates."""
    data = queries.review_data(demo_db)
    a = data.allocations
    est = a[a["areas_are_estimate"]]
    assert set(est["fund_key"]) == {"pif-precursor-2014-15", "lcc-sir-early-action-2014-17",
                                    "pif-capital-application-2014-15", "csg-2013-14"}
    for fund in ("pif-precursor-2014-15", "lcc-sir-early-action-2014-17"):
        rows = a[a["fund_key"] == fund]
        assert rows["areas_are_estimate"].all()
        assert {c for t in rows["area_codes"] for c in t} == {"E07000123", "E07000117"}


LCC_DISTRICTS = tuple(f"E070001{n}" for n in range(17, 29))


def test_lcc_funds_are_open_to_the_twelve_county_districts_only(demo_db):
    data = queries.review_data(demo_db)
    eligible = dict(zip(data.funds["fund_key"], data.funds["eligible_area_codes"], strict=True))
    assert eligible["lcc-sir-early-action-2014-17"] == LCC_DISTRICTS
    assert "E06000008" not in eligible["lcc-sir-early-action-2014-17"]
    assert "E06000009" not in eligible["lcc-sir-early-action-2014-17"]
    assert eligible["csg-2013-14"] == ()  # the whole force
    starts = dict(zip(data.funds["fund_key"], data.funds["start_date"], strict=True))
    assert starts["lcc-sir-early-action-2014-17"] == pd.Timestamp("2014-04-01")


def test_services_are_known_from_the_report_that_first_names_them(demo_db):
    data = queries.review_data(demo_db)
    known = dict(zip(data.services["name"], data.services["known_from"], strict=True))
    assert data.services["known_from"].notna().all()
    by_name = {n: d for n, d in known.items()}
    assert by_name["Blackpool CCTV hub"] == pd.Timestamp("2016-07-21")  # seed 000 only
    assert by_name["Police Early Action Teams"] == pd.Timestamp("2014-01-09")  # named in seed 001 §Personnel
    assert by_name["Emergency Duty Team (EDT)"] == pd.Timestamp("2014-01-09")
    assert by_name["Sex Offender Management Hubs (Darwen and Preston)"] == pd.Timestamp("2014-01-27")
