"""What counts at a date, on the demo database (review.md v2; issue 11, problems 4 and 5): applications are not
money, future funds are not money received, each pound once, funds compared over their eligible areas, money the
seeds do not break down by district said so, and services first reported in 2016 not current in January 2014."""

import numpy as np
import pytest

from services_db.queries import review_data
from services_db.review import inequity, review_area, review_force
from services_db.review.allocations import place_fund
from services_db.review.context import Context

JAN_2014, JUL_2016 = "2014-01-27", "2016-07-21"
UNITARIES = {"E06000008": "Blackburn with Darwen", "E06000009": "Blackpool"}
LCC = {f"E070001{n}" for n in range(17, 29)}
PRESTON, BURNLEY = "E07000123", "E07000117"
RESERVE = "lcc-sir-early-action-2014-17"
PRECURSOR = "pif-precursor-2014-15"
APPLICATION = "pif-capital-application-2014-15"


@pytest.fixture
def data(demo_db):
    return review_data(demo_db)


@pytest.mark.parametrize("as_at", [JAN_2014, JUL_2016])
def test_the_140000_capital_application_is_not_money(data, as_at):
    ctx = Context(data, as_at)
    placed = place_fund(ctx, APPLICATION, "district")
    assert placed.total == 0 and placed.amount.sum() == 0 and not placed.reached.any()
    # pipeline while its 2014-15 period has not ended; by July 2016 it is history, not pipeline either
    applied = 140_000.0 if as_at == JAN_2014 else 0.0
    assert (placed.applied, placed.n_applied) == (applied, int(applied > 0))
    result = inequity(data, as_at, fund_key=APPLICATION)
    assert result.summary["allocated"] == 0 and result.summary["applied"] == applied
    assert not result.table["received_nothing"].any()
    for f in review_force(data, as_at).of_kind("inequity"):
        assert "application" not in f.sentence.lower()
    # Preston and Burnley are not said to have received it
    t = result.table.set_index("area_code")
    assert t.loc[[PRESTON, BURNLEY], "amount"].sum() == 0


def test_the_community_safety_grant_counts_the_district_grants_once(data):
    """£1,793,938 allocated (seed 002 Appendix A), the £70,950 of Appendix B inside its £120,000 line."""
    result = inequity(data, JAN_2014, fund_key="csg-2013-14")
    assert result.summary["allocated"] == pytest.approx(1_793_938)
    assert result.table["amount"].sum() == pytest.approx(1_793_938)
    # The grants place their money where Appendix B says: Wyre's £10,000 (Working Together with Families) is in
    # Wyre, while Ribble Valley had no grant listed. All other county money is shared by population, so per head
    # the two differ by the grant alone.
    t = result.table.set_index("area_code")
    wyre, ribble = t.loc["E07000128"], t.loc["E07000124"]
    assert wyre["per_head"] - ribble["per_head"] == pytest.approx(10_000 / wyre["population"], rel=1e-6)
    assert "lcc-district-csp-grants-2013-14" not in set(data.funds["fund_key"])


def test_no_lcc_only_fund_lists_the_unitary_councils_as_receiving_nothing(data):
    eligible = dict(zip(data.funds["fund_key"], data.funds["eligible_area_codes"], strict=True))
    lcc_only = [k for k, codes in eligible.items() if codes and not set(codes) & set(UNITARIES)]
    assert RESERVE in lcc_only
    for as_at in (JAN_2014, JUL_2016):
        for key in lcc_only:
            s = inequity(data, as_at, fund_key=key).summary
            assert not set(s["zero_codes"]) & set(UNITARIES)
        for f in review_force(data, as_at).of_kind("inequity"):
            if "Strategic Investment Reserve" in f.sentence:
                assert not any(name in f.texts.get("zero_areas", "") for name in UNITARIES.values())


def test_the_reserve_is_not_money_preston_and_burnley_received_in_january_2014(data):
    """Seed 001 (9 January 2014): £1.0m a year from April 2014, 'subject to review'. At 27 January 2014 it is
    future money: not received by Preston or Burnley, and nobody 'received nothing' from it either."""
    result = inequity(data, JAN_2014, fund_key=RESERVE)
    s = result.summary
    assert s["total"] == 0 and s["future"] == 3_000_000
    assert s["zero_areas"] == () and s["not_broken_down"] == ()
    t = result.table.set_index("area_code")
    assert t.loc[[PRESTON, BURNLEY], "amount"].sum() == 0
    for area in ("Preston", "Burnley & Pendle"):
        for f in review_area(data, area, JAN_2014):
            assert "Strategic Investment Reserve" not in f.sentence and "precursor" not in f.sentence
    assert inequity(data, JAN_2014, fund_key=PRECURSOR).summary["future"] == 216_000


def test_the_reserve_in_2016_is_not_broken_down_by_district_for_preston_and_burnley(data):
    """By July 2016 the reserve has started; where it went the seeds do not say beyond 'initial indications
    suggesting Preston and Burnley': not broken down there, nothing in the other county districts, and the
    unitary councils (not eligible) not mentioned."""
    result = inequity(data, JUL_2016, fund_key=RESERVE)
    s = result.summary
    assert set(s["not_broken_down_codes"]) == {PRESTON, BURNLEY}
    # only the 2016-17 award reaches areas in July 2016: the 2014-15 and 2015-16 awards are past money
    assert s["not_broken_down_amount"] == pytest.approx(1_000_000)
    assert set(s["zero_codes"]) == LCC - {PRESTON, BURNLEY}
    assert s["n_funded"] == 0 and s["is_estimate"]
    [finding] = [f for f in review_force(data, JUL_2016).of_kind("inequity") if "Strategic Investment" in f.sentence]
    assert finding.sentence.endswith("£1.00m for Preston and Burnley is not broken down by district.")
    assert finding.is_estimate
    assert "Blackpool" not in finding.sentence and "Blackburn" not in finding.sentence


def test_services_first_reported_in_2016_are_not_current_in_january_2014(data):
    """Seed 000 (21 July 2016) is the first report of the Genga hubs, the Blackpool CCTV hub and Families in Need;
    they have no start date, so they count from that report, not from the beginning of time."""
    names = ["Genga virtual enforcement hubs (organised crime, Pursue)", "Blackpool CCTV hub",
             "Blackpool Families in Need Service"]
    ids = data.services.set_index("name").loc[names, "service_id"].to_numpy()
    for as_at, expected in ((JAN_2014, False), (JUL_2016, True)):
        ctx = Context(data, as_at)
        current = ctx.current[ctx.service_pos(ids)]
        assert current.tolist() == [expected] * 3, as_at
    # and the 2014 review's duplication groups and tables do not hold them
    force = review_force(data, JAN_2014)
    listed = {int(s) for t in force.tables["duplication"].get("service_ids", []) for s in t}
    assert not listed & set(ids.astype(int).tolist())


def test_only_money_reaches_the_area_tables(data):
    """Every fund's placed money adds up to its allocated money at the date: nothing from applications."""
    for as_at in (JAN_2014, JUL_2016):
        ctx = Context(data, as_at)
        for key in data.funds["fund_key"]:
            placed = place_fund(ctx, key, "district")
            assert placed.amount.sum() == pytest.approx(placed.total - placed.unplaced)
            assert np.all(placed.amount >= 0)


def test_a_fund_whose_period_has_ended_is_history_not_a_finding_at_a_later_date(data):
    """Issue 11: the Community Action Fund 2013-14 ("Pendle and Rossendale received nothing") was still a finding
    in the July 2016 review; at 27 January 2014 it is current and the finding stands."""
    caf = "community-action-fund-2013-14"
    assert inequity(data, JUL_2016, fund_key=caf).summary["total"] == 0
    assert not inequity(data, JUL_2016, fund_key=caf).summary["zero_areas"]
    for as_at, expected in ((JAN_2014, True), (JUL_2016, False)):
        said = [f.sentence for f in review_force(data, as_at).of_kind("inequity") if "Community Action" in f.sentence]
        assert bool(said) is expected, (as_at, said)
    for f in review_area(data, "Burnley & Pendle", JUL_2016):
        assert "2013-14" not in f.sentence
