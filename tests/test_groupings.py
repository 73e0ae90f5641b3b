"""The force's own areas (issue 15, point 4): dated groupings, checked, saved by an administrator, and applied to a
snapshot by `regroup` without moving a service. Checked on the demo data: the demo's own grouping regrouped gives
byte-identical findings; Burnley & Pendle split by districts gives a review for each; an area smaller than a
district sits inside its district."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import Counter

import pandas as pd
import pytest
from alembic import command
from sqlalchemy import inspect, select

from services_db.audit import history
from services_db.db import alembic_config
from services_db.groupings import (
    _MEMO,
    GroupingError,
    areas_table,
    base_grouping,
    delete_grouping,
    draft,
    grouping_at,
    grouping_of,
    list_groupings,
    lsoa_areas,
    lsoa_codes,
    propose,
    regroup,
    save_grouping,
    validate,
)
from services_db.models import PlaceGrouping
from services_db.permissions import Actor, PermissionDenied
from services_db.queries import default_as_at, review_data
from services_db.review.findings import review_area, review_force
from services_db.snapshot import Snapshot

BURNLEY, PENDLE, PRESTON, FYLDE = "E07000117", "E07000122", "E07000123", "E07000119"
ADMIN = Actor("demo-admin", "admin")


@pytest.fixture(scope="module")
def demo(_demo_dbs):
    db = _demo_dbs["sqlite"]
    return review_data(db), pd.Timestamp(default_as_at(db))


@pytest.fixture(scope="module")
def own(demo) -> object:
    """The demo's own grouping as if saved: regrouped through the real path, not the base short cut."""
    return dataclasses.replace(grouping_of(demo[0]), base=False, id=1, name="Same as the files")


def _split(data):
    base = grouping_of(data)
    table = {**base.district_table(), BURNLEY: "Burnley", PENDLE: "Pendle"}
    return draft(base, table, {}, data, name="Burnley and Pendle apart", applies_from=dt.date(2014, 1, 1))


def _carve(data, n: int = 10):
    base = grouping_of(data)
    town = data.hierarchy.under(BURNLEY)[:n]
    return draft(base, base.district_table(), {"Burnley Town Centre": town}, data, name="Town centre",
                 applies_from=dt.date(2014, 1, 1)), town


# -- regroup -------------------------------------------------------------------------------------------------------

def test_the_demo_regrouped_by_its_own_grouping_gives_byte_identical_findings(demo, own):
    data, as_at = demo
    same = regroup(data, own)
    assert same is not data and same.version == f"{data.version}+grouping-1"
    assert same.areas.equals(data.areas)
    assert review_force(same, as_at).to_json() == review_force(data, as_at).to_json()
    for name in data.hierarchy.names_at(("area",)):
        assert review_area(same, name, as_at).to_json() == review_area(data, name, as_at).to_json(), name


def test_the_base_grouping_is_the_snapshot_itself(demo):
    data, _ = demo
    assert regroup(data, grouping_of(data)) is data


def test_regroup_is_remembered_and_fast(demo, own):
    data, _ = demo
    assert regroup(data, own) is regroup(data, own)  # a page redraw reuses the snapshot and its review arrays
    best, split = float("inf"), _split(data)
    for _ in range(5):
        _MEMO.pop(data, None)
        start = time.perf_counter()
        regroup(data, split)
        best = min(best, time.perf_counter() - start)
    print(f"regroup (Burnley & Pendle split, demo): {best * 1000:.1f} ms")
    assert best < 0.05


def test_splitting_burnley_and_pendle_by_districts_gives_a_review_for_each(demo):
    data, as_at = demo
    split = _split(data)
    assert validate(split, data) == []
    names = [a.name for a in split.areas]
    assert names[6:9] == ["Blackburn with Darwen", "Burnley", "Pendle"]  # where Burnley & Pendle was
    assert "Burnley & Pendle" not in names
    new = regroup(data, split)
    tree = new.hierarchy
    assert new.version.endswith("+grouping-draft-" + split.key)
    assert len(tree.codes_at("area")) == 10
    for name, district in (("Burnley", BURNLEY), ("Pendle", PENDLE)):
        code = tree.resolve(name, ("area",))
        assert code not in data.hierarchy  # a new area, a new code
        assert tree.under(code) == data.hierarchy.under(district)
        assert tree.population(code) == data.hierarchy.population(district)
        assert tree.ancestor_at(code, "division") == "DIV-E"
        review = review_area(new, name, as_at)
        assert review.scope_code == code and review.scope_name == name and review.findings
    assert "PBA08" not in tree
    assert data.hierarchy.resolve("Burnley & Pendle", ("area",)) == "PBA08"  # the original is untouched
    assert review_force(new, as_at).findings


def test_an_area_smaller_than_a_district_sits_inside_it(demo):
    data, as_at = demo
    carve, town = _carve(data)
    assert validate(carve, data) == []
    new = regroup(data, carve)
    tree, old = new.hierarchy, data.hierarchy
    code = tree.resolve("Burnley Town Centre", ("area",))
    assert tree.under(code) == town
    assert tree.under(BURNLEY) == old.under(BURNLEY)  # the district keeps every LSOA
    assert set(tree.under("PBA08")) == set(old.under("PBA08")) - set(town)
    assert {tree.ancestor_at(x, "district") for x in town} == {BURNLEY}
    assert tree.ancestor_at(code, "division") == "DIV-E"
    every = Counter(x for a in tree.codes_at("area") for x in tree.under(a))
    assert set(every) == set(old.under("E23000003")) and set(every.values()) == {1}  # each LSOA in one area
    assert tree.population("PBA08") + tree.population(code) == old.population("PBA08")
    assert review_area(new, "Burnley Town Centre", as_at).scope_code == code
    assert review_force(new, as_at).findings
    assert grouping_of(new, name=carve.name, base=False).areas == carve.areas  # the tree holds the grouping


def test_a_service_naming_a_regrouped_area_keeps_its_lsoas(demo):
    data, as_at = demo
    frames = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    sid = int(data.services["service_id"].iloc[0])
    frames["coverage"] = pd.concat([frames["coverage"], pd.DataFrame({"service_id": [sid], "area_code": ["PBA08"]})],
                                   ignore_index=True)
    frames["plans"] = frames["plans"].assign(area_codes=[("PBA08",)] * len(frames["plans"]))
    with_area = Snapshot(**frames, version="test")
    new = regroup(with_area, _split(with_area))
    rows = new.coverage[new.coverage["service_id"] == sid]["area_code"].tolist()
    assert "PBA08" not in rows and {BURNLEY, PENDLE} <= set(rows)
    assert set(new.plans["area_codes"]) == {(BURNLEY, PENDLE)}
    covered = new.hierarchy.under(rows)
    assert set(with_area.hierarchy.under("PBA08")) <= set(covered)
    review_force(new, as_at)


def test_problems_name_the_area_and_the_places_at_fault(demo):
    data, _ = demo
    base = grouping_of(data)
    tree = data.hierarchy
    table = {**base.district_table(), PENDLE: ""}
    bad = draft(base, table, {"Burnley": (*tree.under(BURNLEY)[:3], *tree.under(PENDLE)[:2]),
                              "Fylde": tree.under(BURNLEY)[2:5]}, data, name="", applies_from=None)
    problems = validate(bad, data)
    text = "\n".join(problems)
    assert "The grouping needs a name." in problems
    assert "Not in any area: Pendle (E07000122)" in text
    assert "Area “Burnley” has LSOAs in Burnley, Pendle: an area smaller than a district must lie inside one" in text
    assert "LSOAs in both “Burnley” and “Fylde”: Burnley" in text
    assert "Area “Fylde” has the name of the district Fylde but is not exactly that district" in text
    two = dataclasses.replace(base, areas=(*base.areas, dataclasses.replace(base.areas[0], code="X1")), base=False)
    assert any("2 areas are called “Blackpool”" in p for p in validate(two, data))
    assert any("District Blackpool is in both" in p for p in validate(two, data))
    empty = dataclasses.replace(base, areas=(*base.areas, dataclasses.replace(base.areas[0], code="X2", name="Void",
                                                                              districts=())))
    assert "Area “Void” is empty: give it districts or LSOAs." in validate(empty, data)
    blackpool = [a for a in _split(data).areas if a.name == "Blackpool"][0]
    assert blackpool.districts == ("E06000009",)  # exactly the district: its name is fine
    unknown = draft(base, base.district_table(), {"Somewhere": ("E01999999",)}, data, name="u")
    assert any("Area “Somewhere”: not LSOAs of Lancashire: E01999999" in p for p in validate(unknown, data))


def test_an_lsoa_set_of_whole_districts_is_those_districts(demo):
    data, _ = demo
    base = grouping_of(data)
    g = draft(base, base.district_table(), {"Burnley": data.hierarchy.under(BURNLEY)}, data, name="w")
    burnley = g.area_named("Burnley")
    assert burnley.districts == (BURNLEY,) and burnley.lsoas == ()
    assert validate(g, data) == []


# -- stored groupings ---------------------------------------------------------------------------------------------

def test_an_admin_saves_a_dated_grouping_that_applies_from_its_date(fresh_demo_db):
    db = fresh_demo_db
    base = base_grouping(db)
    assert base.base and base.applies_from is None and len(base.areas) == 9
    assert grouping_at(db, dt.date(2014, 1, 27)) == base
    table = {**base.district_table(), BURNLEY: "Burnley", PENDLE: "Pendle"}
    proposal = propose(db, base, table, {}, name="Burnley and Pendle apart", applies_from=dt.date(2014, 4, 1))
    assert proposal.problems == []
    assert set(proposal.lsoa_areas["area"]) == {a.name for a in proposal.grouping.areas}
    with pytest.raises(PermissionDenied):
        save_grouping(db, Actor("demo-opcc", "opcc"), proposal.grouping)
    version = db.data_version()
    saved = save_grouping(db, ADMIN, proposal.grouping)
    assert saved.id is not None and db.data_version() != version
    assert grouping_at(db, dt.date(2014, 3, 31)).base
    now = grouping_at(db, dt.date(2014, 4, 1))
    assert now.id == saved.id and now.areas == proposal.grouping.areas
    assert [g.name for g in list_groupings(db)] == ["From the grouping files", "Burnley and Pendle apart"]
    events = history(db, "place_grouping", str(saved.id))
    assert len(events) == 1 and events.iloc[0]["username"] == "demo-admin"
    again = propose(db, now, now.district_table(), {}, name="Again", applies_from=dt.date(2014, 4, 1))
    assert any("already applies from 1 April 2014" in p for p in again.problems)
    with pytest.raises(GroupingError):
        save_grouping(db, ADMIN, again.grouping)
    data = review_data(db)
    assert review_area(regroup(data, now), "Pendle", dt.date(2014, 4, 1)).findings
    version = db.data_version()
    delete_grouping(db, ADMIN, saved.id)
    assert db.data_version() != version and grouping_at(db, dt.date(2014, 4, 1)).base
    with db.sessions() as s:
        assert s.scalars(select(PlaceGrouping)).all() == []


def test_a_later_grouping_keeps_codes_of_areas_it_keeps_and_never_reuses_one(fresh_demo_db):
    db = fresh_demo_db
    base = base_grouping(db)
    first = save_grouping(db, ADMIN, propose(db, base, {**base.district_table(), BURNLEY: "Burnley",
                                                         PENDLE: "Pendle"}, {}, name="Apart",
                                             applies_from=dt.date(2014, 4, 1)).grouping)
    back = propose(db, first, {**first.district_table(), BURNLEY: "Burnley & Pendle", PENDLE: "Burnley & Pendle"},
                   {}, name="Together again", applies_from=dt.date(2015, 4, 1)).grouping
    codes = {a.name: a.code for a in back.areas}
    assert codes["Blackpool"] == "PBA01"
    assert codes["Burnley & Pendle"] not in {a.code for a in first.areas} | {"PBA08"}  # a new area, a new code


def test_migration_0005_goes_down_and_up(empty_db):
    engine = empty_db.engine
    tables = {"place_grouping", "place_grouping_area", "place_grouping_member"}
    assert tables <= set(inspect(engine).get_table_names())
    cfg = alembic_config(engine)
    with engine.begin() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0004")
    assert not tables & set(inspect(engine).get_table_names())
    with engine.begin() as c:
        cfg.attributes["connection"] = c
        command.upgrade(cfg, "head")
    assert tables <= set(inspect(engine).get_table_names())


def test_regroup_refuses_a_grouping_that_cannot_apply(demo):
    data, _ = demo
    base = grouping_of(data)
    broken = dataclasses.replace(base, base=False, areas=base.areas[1:])  # Blackpool in no area
    with pytest.raises(GroupingError, match=r"Not in any area: Blackpool \(E06000009\)"):
        regroup(data, broken)


def test_pasted_lsoa_codes_and_the_table_of_areas(demo):
    data, _ = demo
    assert lsoa_codes("LSOA code\ne01024860, E01024861;E01024860 Burnley 001B\tw01000001 E0102486") == (
        "E01024860", "E01024861", "W01000001")
    carve, town = _carve(data, 4)
    table = areas_table(carve, data).set_index("Area")
    assert table.loc["Burnley Town Centre", ["Division", "Districts", "LSOAs"]].tolist() == [
        "East", "part of Burnley", 4]
    assert table.loc["Burnley & Pendle", "Districts"] == "Burnley (part), Pendle"
    assert table["LSOAs"].sum() == len(data.hierarchy.under("E23000003"))
    per_lsoa = lsoa_areas(carve, data).set_index("code")
    assert set(per_lsoa.loc[list(town), "area"]) == {"Burnley Town Centre"}


def test_moving_a_district_to_another_division_keeps_what_services_cover(demo):
    """Preston joins Fylde & Wyre (West): the South division and Fylde & Wyre change, Preston's area goes; services
    naming the divisions keep their LSOAs and the divisions' residents follow their areas."""
    data, as_at = demo
    base = grouping_of(data)
    moved = draft(base, {**base.district_table(), PRESTON: "Lancaster"}, {}, data, name="m")
    assert any("has the name of the district Lancaster" in p for p in validate(moved, data))
    moved = draft(base, {**base.district_table(), PRESTON: "Fylde and Wyre"}, {}, data, name="m")
    assert validate(moved, data) == []
    assert moved.area_named("Fylde & Wyre").code == "PBA02" and moved.area_named("Preston") is None
    assert moved.area_named("Fylde & Wyre").districts == (FYLDE, "E07000128", PRESTON)
    new = regroup(data, moved)
    old_tree, tree = data.hierarchy, new.hierarchy
    assert "PBA04" not in tree and set(tree.under("DIV-W")) == set(old_tree.under("DIV-W")) | set(
        old_tree.under(PRESTON))
    assert tree.population("DIV-S") == old_tree.population("DIV-S") - old_tree.population(PRESTON)
    for division in ("DIV-W", "DIV-S"):
        before = data.coverage.loc[data.coverage["area_code"] == division, "service_id"]
        assert len(before)
        for sid in before:
            codes = new.coverage.loc[new.coverage["service_id"] == sid, "area_code"].tolist()
            assert division not in codes
            assert set(old_tree.under(division)) <= set(tree.under(codes))
    assert review_force(new, as_at).findings


def test_the_command_line_lists_and_shows_the_grouping_in_force(sqlite_demo_url, monkeypatch, capsys):
    from services_db.commands import main

    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    assert main(["grouping", "list"]) == 0
    assert capsys.readouterr().out.startswith("From the grouping files\tfrom the beginning\t9 areas")
    assert main(["grouping", "show"]) == 0
    out = capsys.readouterr().out
    assert "in force on 27 January 2014" in out and "PBA08\tBurnley & Pendle\tEast\t117 LSOAs\tBurnley, Pendle" in out
    assert main(["grouping", "show", "--format", "json", "--as-at", "2014-04-01"]) == 0
    assert '"code": "PBA08"' in capsys.readouterr().out


def test_an_area_carved_out_of_a_district_maps_its_districts_need(demo):
    """An LSOA of a carved area has that area as its parent and the district above it: its need map shares out
    the district's figure (it showed no figure when need.lsoa_need read the parent as the district)."""
    from services_db.need import lsoa_need

    data, _ = demo
    carve, town = _carve(data)
    new = regroup(data, carve)
    code = new.hierarchy.resolve("Burnley Town Centre", ("area",))
    rows = lsoa_need(new, code, "early-action-incidents").set_index("code")
    assert list(rows.index) == list(town)
    assert rows["rate"].notna().all()
    whole = lsoa_need(data, "PBA08", "early-action-incidents").set_index("code")
    assert rows["rate"].tolist() == pytest.approx(whole.loc[list(town), "rate"].tolist())
