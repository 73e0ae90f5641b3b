"""Issue 15, point 1: "apply a fair-share formula as a reallocation". A fund's money at its date is shared out again
in proportion to the review's fair shares (the weights its calculator takes), to the penny; the fund's per-head
spread moves toward the formula; bad formulas are refused with the reason; the page adds the change; the stored
JSON keeps the weights as a dict."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from services_db import queries
from services_db.db import open_database
from services_db.permissions import Actor
from services_db.review.fair_share import fair_share
from services_db.scenarios import (
    FairShareReallocation,
    MoveMoney,
    ScenarioError,
    apply,
    change_from_dict,
    review_scenario,
)
from services_db.scenarios.store import get_scenario, save_scenario

CSG = "csg-2013-14"
HALF = {"population": 0.5, "early-action-incidents": 0.5}
OPCC = Actor("demo-opcc", "opcc")


@pytest.fixture
def demo(sqlite_demo_url):
    db = open_database(sqlite_demo_url)
    yield db, queries.review_data(db), queries.default_as_at(db)
    db.dispose()


def _pence(snap, fund: str) -> int:
    """The fund's money: its top-level awarded or paid allocations, in pence (each pound once)."""
    a = snap.allocations
    rows = (a["fund_key"] == fund) & a["parent_allocation_id"].isna() & a["status"].isin(["awarded", "paid"])
    return int(round(float(a.loc[rows, "amount"].sum()) * 100))


def _line_pence(snap, fund: str) -> int:
    lines = snap.funding_lines
    return int(round(float(lines.loc[lines["fund_key"] == fund, "annual_amount"].sum()) * 100))


def test_it_says_what_it_does(demo):
    _, data, _ = demo
    assert FairShareReallocation(CSG, HALF).describe(data) == (
        "Reallocate Home Office Community Safety Grant 2013-14 by fair share (50% population, 50% Early Action "
        "incidents)")
    assert FairShareReallocation(CSG, {"population": 1.0}).describe(data).endswith("by fair share (100% population)")


@pytest.mark.parametrize("weights", [{"population": 1.0}, HALF])
def test_the_total_is_unchanged_to_the_penny_and_every_amount_is_whole_pence(demo, weights):
    _, data, _ = demo
    after = apply(data, [FairShareReallocation(CSG, weights)])
    assert _pence(after, CSG) == _pence(data, CSG)
    assert _line_pence(after, CSG) == _line_pence(data, CSG)  # the funding lines' total too
    mine = after.allocations[after.allocations["fund_key"] == CSG]
    assert (mine["amount"] * 100 - (mine["amount"] * 100).round()).abs().max() < 1e-6
    # each pound once: no breakdown is left under a parent (the parts are allocations of their own)
    assert mine["parent_allocation_id"].isna().all()
    # other funds and the actual snapshot are untouched
    others = after.allocations["fund_key"] != CSG
    pd.testing.assert_frame_equal(after.allocations[others].reset_index(drop=True),
                                  data.allocations[data.allocations["fund_key"] != CSG].reset_index(drop=True))
    assert not data.allocations["purpose"].fillna("").str.contains("Scenario").any()


def test_each_district_gets_its_fair_share(demo):
    _, data, _ = demo
    after = apply(data, [FairShareReallocation(CSG, HALF)])
    before = fair_share(data, CSG, weights=HALF).set_index("area_code")
    now = fair_share(after, CSG, weights=HALF).set_index("area_code")
    assert now["actual"].sum() == pytest.approx(before["actual"].sum(), abs=0.01)
    # what each district now receives is what the formula gives it (to the penny, give or take the rounding)
    assert (now["actual"] - before["fair_share"]).abs().max() < 0.02
    assert before["difference"].abs().max() > 10_000  # it was not so before


def test_with_population_only_the_fund_per_head_is_even(demo):
    _, data, as_at = demo
    r = review_scenario(data, [FairShareReallocation(CSG, {"population": 1.0})], as_at)
    fund = r.inequity.set_index("key").loc[CSG]
    assert round(fund["gini_before"], 2) == 0.14
    assert fund["gini_after"] < 0.02
    assert fund["ratio_after"] == pytest.approx(1.0, abs=0.01)
    # with need in the formula, the spread moves toward it but per head it is no longer flat
    half = review_scenario(data, [FairShareReallocation(CSG, HALF)], as_at).inequity.set_index("key").loc[CSG]
    assert 0.0 < half["gini_after"] < half["gini_before"]


def test_districts_no_allocation_reached_get_a_scenario_allocation(demo):
    _, data, _ = demo
    fund = "community-action-fund-2013-14"  # seed 002: nothing approved from Pendle or Rossendale
    after = apply(data, [FairShareReallocation(fund, {"population": 1.0})])
    assert _pence(after, fund) == _pence(data, fund)
    new = after.allocations[(after.allocations["fund_key"] == fund)
                            & (after.allocations["recipient"] == "Scenario: fair share")]
    assert {c for codes in new["area_codes"] for c in codes} == {"E07000122", "E07000125"}  # Pendle, Rossendale
    assert (new["amount"] > 0).all()


def test_a_district_without_a_service_of_the_fund_gets_a_scenario_service(demo):
    _, data, _ = demo
    fund = "lcc-sir-early-action-2014-17"  # paid to Burnley and Preston only, open to the 12 county districts
    after = apply(data, [FairShareReallocation(fund, {"population": 1.0})])
    services = after.services[after.services["name"].str.startswith("Scenario: fair share of")]
    assert len(services) == 10 and all(themes for themes in services["themes"])
    lines = after.funding_lines[after.funding_lines["service_id"].isin(services["service_id"])]
    assert len(lines) == 10 and (lines["fund_key"] == fund).all()
    assert _line_pence(after, fund) == _line_pence(data, fund)
    # the eligible areas only: the unitary councils (Blackpool, Blackburn with Darwen) get none of a county fund
    placed = {c for codes in after.allocations.loc[after.allocations["fund_key"] == fund, "area_codes"]
              for c in codes}
    assert not placed & {"E06000008", "E06000009"}


def test_a_formula_that_cannot_apply_says_why(demo):
    _, data, _ = demo
    with pytest.raises(ScenarioError, match="Fair share: there is no fund “nope”"):
        apply(data, [FairShareReallocation("nope", {"population": 1.0})])
    with pytest.raises(ScenarioError, match=r"the weights must be 0 or more and add up to 1 \(100%\); these add up "
                                            r"to 80%"):
        apply(data, [FairShareReallocation(CSG, {"population": 0.5, "early-action-incidents": 0.3})])
    with pytest.raises(ScenarioError, match="add up to 1"):
        apply(data, [FairShareReallocation(CSG, {"population": 1.5, "early-action-incidents": -0.5})])
    with pytest.raises(ScenarioError, match="there is no need indicator “burglaries”"):
        apply(data, [FairShareReallocation(CSG, {"population": 0.5, "burglaries": 0.5})])
    with pytest.raises(ScenarioError, match="Police Innovation Fund capital application .* has no awarded or paid "
                                            "money at 1 April 2014; there is nothing to reallocate"):
        apply(data, [FairShareReallocation("pif-capital-application-2014-15", {"population": 1.0})])


def test_the_weights_are_stored_as_a_dict_and_come_back(demo):
    db, data, _ = demo
    change = FairShareReallocation(CSG, HALF)
    raw = json.loads(json.dumps(change.to_dict()))
    assert raw == {"kind": "fair_share", "fund_key": CSG, "weights": HALF}
    back = change_from_dict(raw)
    assert back == change and hash(back) == hash(change) and back.describe(data) == change.describe(data)
    save_scenario(db, OPCC, "Fair CSG", [change])
    assert get_scenario(db, "Fair CSG").changes == [change]


def test_it_reallocates_what_the_changes_before_it_left(demo):
    _, data, _ = demo
    move = MoveMoney(CSG, "Blackpool", "Burnley & Pendle", 20_000, "vulnerable-adults")
    after = apply(data, [move, FairShareReallocation(CSG, {"population": 1.0})])
    assert _pence(after, CSG) == _pence(data, CSG)
    shares = fair_share(after, CSG, weights={"population": 1.0}).set_index("area_code")
    assert (shares["actual"] - shares["fair_share"]).abs().max() < 0.02
