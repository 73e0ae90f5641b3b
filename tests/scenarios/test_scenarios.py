"""What-if scenarios: changes applied to a copy of the snapshot, reviewed beside the actual data, stored with who
and when; the actual review is byte-identical before and after a scenario is reviewed."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from services_db import queries
from services_db.audit import history
from services_db.db import open_database
from services_db.permissions import Actor, PermissionDenied
from services_db.review import review_force
from services_db.scenarios import (
    AddService,
    ChangeCoverage,
    EndService,
    ExtendFunding,
    MoveMoney,
    ScenarioError,
    apply,
    review_scenario,
)
from services_db.scenarios.store import (
    copy_scenario,
    delete_scenario,
    get_scenario,
    list_scenarios,
    save_scenario,
)

MOVE = MoveMoney("csg-2013-14", "Blackpool", "Burnley & Pendle", 20_000, "vulnerable-adults")
OPCC = Actor("demo-opcc", "opcc")


@pytest.fixture
def demo(sqlite_demo_url):
    db = open_database(sqlite_demo_url)
    yield db, queries.review_data(db), queries.default_as_at(db)
    db.dispose()


def test_moving_money_shrinks_the_gap_where_it_goes_and_changes_the_gini(demo):
    _, data, as_at = demo
    actual = review_force(data, as_at).to_json()
    r = review_scenario(data, [MOVE], as_at)
    assert r.changes == ["Move £20,000 a year of Home Office Community Safety Grant 2013-14 from Blackpool to "
                         "Burnley & Pendle (vulnerable adults)"]
    gaps = r.gaps.set_index(["area_name", "theme_key"])
    burnley = gaps.loc[("Burnley & Pendle", "vulnerable-adults")]
    assert burnley["provision_after"] - burnley["provision_before"] == pytest.approx(20_000, abs=0.01)
    assert burnley["change"] in ("closed", "smaller", "more provision")
    fund = r.inequity.set_index("key").loc["csg-2013-14"]
    assert round(fund["gini_before"], 2) == 0.14 and round(fund["gini_after"], 2) == 0.13
    assert fund["ratio_after"] < fund["ratio_before"]
    # the sentence about Burnley & Pendle's unrecorded vulnerable-adults funding goes: it now has £20,000 known
    assert any(s.startswith("Burnley & Pendle has") and "vulnerable-adults" in s for s in r.gone_sentences)
    # the same finding with new figures is paired, actual beside scenario
    pairs = dict(r.changed)
    was = next(s for s in pairs if s.startswith("Home Office Community Safety Grant 2013-14"))
    assert "(Gini 0.14)" in was and "(Gini 0.13)" in pairs[was]
    # the actual review is untouched, to the byte, and so are the snapshot's frames
    assert review_force(data, as_at).to_json() == actual
    assert not (data.services["name"].str.startswith("Scenario")).any()


def test_the_money_moved_leaves_the_from_area_to_the_penny(demo):
    _, data, _ = demo
    after = apply(data, [MOVE])
    tree = data.hierarchy

    def held(frame: pd.DataFrame, area: str) -> float:
        rows = frame[(frame["fund_key"] == "csg-2013-14") & frame["area_codes"].map(
            lambda codes: all(tree.ancestor_at(c, "area") == area for c in codes))]
        return round(float(rows["amount"].sum()), 2)

    assert held(after.allocations, "PBA01") == round(held(data.allocations, "PBA01") - 20_000, 2)
    assert held(after.allocations, "PBA08") == round(held(data.allocations, "PBA08") + 20_000, 2)
    assert after.allocations["amount"].sum() == pytest.approx(data.allocations["amount"].sum())
    assert after.version != data.version and after.version.startswith(data.version)


def test_a_change_that_cannot_apply_says_why(demo):
    _, data, as_at = demo
    with pytest.raises(ScenarioError, match="only £310,462 of Home Office Community Safety Grant 2013-14 is allocated in Blackpool; £1,000,000 cannot be moved"):
        apply(data, [MoveMoney("csg-2013-14", "Blackpool", "Preston", 1_000_000, "victims")])
    with pytest.raises(ScenarioError, match="no area or district called “Atlantis”"):
        apply(data, [MoveMoney("csg-2013-14", "Atlantis", "Preston", 10, "victims")])
    with pytest.raises(ScenarioError, match="no service 999999"):
        apply(data, [EndService(999999, dt.date(2014, 1, 1))])


def test_extending_funding_removes_a_cliff_and_ending_a_service_early_opens_gaps(demo):
    _, data, as_at = demo
    lines = data.funding_lines
    ending = lines[lines["end_date"] == pd.Timestamp("2014-03-31")]
    sid = int(ending["service_id"].iloc[0])
    r = review_scenario(data, [ExtendFunding(sid, dt.date(2016, 3, 31))], as_at)
    assert (r.cliffs["at_risk_after"] < r.cliffs["at_risk_before"]).all() and len(r.cliffs)
    # a funded community-safety service (a theme the review compares need in) ended before the review date
    gap_themes = set(review_force(data, as_at).tables["gaps"]["theme_key"])
    now = pd.Timestamp(as_at)
    funded = set(lines.loc[(lines["annual_amount"] > 0) & (lines["start_date"] <= now) & (lines["end_date"] >= now),
                           "service_id"])
    svc = data.services[data.services["service_id"].isin(funded) & data.services["themes"].map(
        lambda t: "community-safety" in t)]
    assert "community-safety" in gap_themes and len(svc)
    ended = review_scenario(data, [EndService(int(svc["service_id"].iloc[0]), dt.date(2013, 12, 31))], as_at)
    theirs = ended.gaps[ended.gaps["theme_key"] == "community-safety"]
    assert len(theirs) and (theirs["provision_after"] < theirs["provision_before"]).all()


def test_adding_a_service_and_coverage_changes_provision(demo):
    _, data, as_at = demo
    add = AddService("Night-time economy pilot", "night-time-economy", ("Preston",), 30_000,
                     dt.date(2013, 4, 1), dt.date(2015, 3, 31))
    after = apply(data, [add])
    new = after.services[after.services["name"] == "Scenario: Night-time economy pilot"]
    assert len(new) == 1 and int(new["service_id"].iloc[0]) > int(data.services["service_id"].max())
    assert set(after.coverage.loc[after.coverage["service_id"] == new["service_id"].iloc[0], "area_code"]) == {
        "E07000123"}
    sid = int(data.coverage["service_id"].iloc[0])
    moved = apply(data, [ChangeCoverage(sid, add=("Preston",))])
    assert "E07000123" in set(moved.coverage.loc[moved.coverage["service_id"] == sid, "area_code"])


def test_scenarios_are_stored_with_who_and_when_and_need_an_editing_role(demo):
    db, data, _ = demo
    save_scenario(db, OPCC, "Move CSG to Burnley", [MOVE], description="what if")
    stored = get_scenario(db, "Move CSG to Burnley")
    assert stored.changes == [MOVE] and stored.created_by == "demo-opcc" and stored.base_version == db.data_version()
    with pytest.raises(PermissionDenied):
        save_scenario(db, Actor("demo-viewer", "viewer"), "Mine", [MOVE])
    copy_scenario(db, OPCC, "Move CSG to Burnley", "Copy")
    assert [s.name for s in list_scenarios(db)][:2] == ["Copy", "Move CSG to Burnley"]
    delete_scenario(db, OPCC, "Copy")
    assert [s.name for s in list_scenarios(db)] == ["Move CSG to Burnley"]
    events = history(db, "scenario")
    assert {e for e in events["action"]} >= {"create", "delete"}
    # a scenario never changes the data version: the actual data did not change
    before = db.data_version()
    save_scenario(db, OPCC, "Move CSG to Burnley", [MOVE, EndService(23, dt.date(2013, 12, 31))])
    assert db.data_version() == before


def test_the_command_line_reviews_a_stored_scenario(demo, sqlite_demo_url, monkeypatch, capsys):
    from services_db.commands import main

    db, _, _ = demo
    save_scenario(db, OPCC, "CSG to Burnley", [MOVE])
    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    assert main(["scenario", "list"]) == 0
    assert "CSG to Burnley\t1 change(s)" in capsys.readouterr().out
    assert main(["scenario", "review", "CSG to Burnley"]) == 0
    out = capsys.readouterr().out
    assert "Scenario: CSG to Burnley — not actual allocations" in out
    assert "Gini 0.14 -> 0.13" in out
    assert main(["scenario", "review", "CSG to Burnley", "--format", "json"]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert parsed["inequity"][0]["key"] == "csg-2013-14"
    assert main(["scenario", "show", "Nope"]) == 2
