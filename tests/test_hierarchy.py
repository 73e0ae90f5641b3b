"""services_db.hierarchy: one Hierarchy per snapshot, one name resolver, checked on the demo data by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import weakref

import pandas as pd
import pytest

from services_db.areas import area_profile, coverage_lsoas, resolve_area
from services_db.directory import EXTRA_COLUMNS, coverage_counts, directory_frame
from services_db.documents.build import BriefingError, resolve
from services_db.hierarchy import Hierarchy, UnknownAreaName, hierarchy_of, normalise_name
from services_db.queries import default_as_at, review_data
from services_db.review.geography import geography_of

FORCE, PRESTON_AREA, PRESTON, PENDLE, BURNLEY = "E23000003", "PBA04", "E07000123", "E07000122", "E07000117"
PENDLE_008A = "E01025174"


@pytest.fixture(scope="module")
def demo(_demo_dbs):
    db = _demo_dbs["sqlite"]
    return review_data(db), default_as_at(db)


@pytest.fixture(scope="module")
def tree(demo) -> Hierarchy:
    return hierarchy_of(demo[0])


# -- names ---------------------------------------------------------------------------------------------------------

def test_normalise_name_is_one_normalisation():
    assert normalise_name("Burnley & Pendle") == normalise_name("  burnley  and   PENDLE ") == "burnley and pendle"
    assert normalise_name("Fylde&Wyre") == normalise_name("fylde and wyre")
    assert normalise_name("Lancashire") == "lancashire"  # "and" inside a word is left alone


def test_resolve_forgives_case_spacing_and_ampersand(tree):
    assert (tree.resolve("Burnley and Pendle") == tree.resolve("Burnley & Pendle") == tree.resolve("burnley  &  pendle")
            == tree.resolve("PBA08") == tree.resolve(" pba08 ") == "PBA08")
    assert tree.resolve("hyndburn, ribble valley and rossendale", ("area",)) == "PBA09"
    assert tree.resolve("Preston") == PRESTON_AREA  # an area before the district of the same name
    assert tree.resolve("Preston", ("district",)) == PRESTON
    assert tree.resolve("pendle") == PENDLE  # a district, at the default levels (area, then district)


def test_unknown_name_raises_a_key_error_listing_the_valid_names(tree):
    with pytest.raises(UnknownAreaName) as caught:
        tree.resolve("Atlantis", ("area",))
    assert isinstance(caught.value, KeyError)
    assert caught.value.given == "Atlantis"
    assert caught.value.valid == tree.names_at(("area",))
    assert len(caught.value.valid) == 9 and "Burnley & Pendle" in str(caught.value)
    with pytest.raises(UnknownAreaName):
        tree.resolve("Pendle", ("area",))  # a district is not a place-based area
    with pytest.raises(UnknownAreaName):
        tree.resolve("", ("area",))


def test_names_at_lists_levels_in_order_each_name_once(tree):
    assert tree.names_at(("area",))[:4] == ["Blackpool", "Fylde & Wyre", "Lancaster", "Preston"]
    both = tree.names_at(("area", "district"))
    assert len(both) == len(set(both)) == 9 + 14 - 5  # 5 districts share their area's name (Preston...)
    assert tree.codes_at("force") == (FORCE,)


def test_every_resolver_agrees(demo, tree):
    """The URL resolver, the briefing's and the review's Geography all match names as the Hierarchy does."""
    data, _ = demo
    geo = geography_of(data.areas)
    for name in tree.names_at(("area",)):
        for typed in (name, name.upper(), name.replace("&", "and"), f"  {name.replace(' ', '   ')} "):
            code = tree.resolve(typed, ("area",))
            assert resolve_area(data, typed) == resolve(data, typed) == str(geo.codes[geo.resolve(typed, ("area",))])
            assert code == tree.resolve(name, ("area",))
    assert resolve_area(data, "Atlantis") is None and resolve_area(data, None) is None
    with pytest.raises(BriefingError) as caught:
        resolve(data, "Atlantis")
    assert "Burnley & Pendle" in caught.value.valid


# -- the tree ------------------------------------------------------------------------------------------------------

def test_preston_area_lsoas_all_lie_in_preston_district(tree):
    lsoas = tree.under(PRESTON_AREA)
    assert len(lsoas) == 86 and lsoas[:3] == ("E01025231", "E01025232", "E01025233")
    assert {tree.ancestor_at(c, "district") for c in lsoas} == {PRESTON}
    assert {tree.ancestor_at(c, "area") for c in lsoas} == {PRESTON_AREA}
    assert tree.under(PRESTON) == lsoas  # the area is one district


def test_under(demo, tree):
    data, _ = demo
    every = tuple(data.areas.loc[data.areas["level"] == "lsoa", "code"])
    assert tree.under(FORCE) == every and len(every) == 941  # the force's code means every LSOA
    assert len(tree.under("PBA08")) == 117 == len(tree.under(PENDLE)) + len(tree.under(BURNLEY)) == 57 + 60
    assert tree.under(["PBA08", BURNLEY, PENDLE_008A]) == tree.under("PBA08")  # each LSOA once, frame order
    assert tree.under(PENDLE_008A) == (PENDLE_008A,)
    assert tree.under("NOPE") == () and tree.under([]) == ()


def test_ancestor_at(tree):
    assert tree.ancestor_at(PENDLE_008A, "district") == PENDLE
    assert tree.ancestor_at(PENDLE_008A, "area") == "PBA08"
    assert tree.ancestor_at(PENDLE_008A, "division") == "DIV-E"
    assert tree.ancestor_at(PENDLE_008A, "force") == FORCE
    assert tree.ancestor_at(PENDLE_008A, "lsoa") == PENDLE_008A
    assert tree.ancestor_at("PBA08", "district") is None  # nothing above an area is a district
    assert tree.ancestor_at("NOPE", "area") is None
    up = tree.ancestor_map("district")
    assert up[PENDLE_008A] == PENDLE and up[PENDLE] == PENDLE and "PBA08" not in up


def test_touching(tree):
    assert tree.touching(PENDLE, "area") == {"PBA08"}
    assert tree.touching("PBA08", "district") == {BURNLEY, PENDLE}
    assert tree.touching(PENDLE_008A, "district") == {PENDLE}
    assert tree.touching("DIV-E", "area") == {"PBA07", "PBA08", "PBA09"}
    assert tree.touching([PENDLE, PRESTON], "area") == {"PBA08", PRESTON_AREA}
    assert tree.touching(PENDLE_008A) == {PENDLE_008A, PENDLE, "PBA08", "DIV-E", FORCE}  # every level
    assert len(tree.touching(PENDLE, "lsoa")) == 57
    assert tree.touching("NOPE") == frozenset()


def test_touching_map_is_touching_for_every_code_at_once(demo, tree):
    codes = demo[0].areas["code"].tolist()
    for level in ("lsoa", "district", "area", "division", "force"):
        table = tree.touching_map(level)
        for code in codes:
            assert set(table.get(code, ())) == tree.touching(code, level), (code, level)
    assert tree.touching_map("district")["PBA08"] == (BURNLEY, PENDLE)  # in the frame's order
    assert tree.touching_map("nowhere") == {}


def test_descendants(tree):
    assert tree.descendants("PBA08", "district") == (BURNLEY, PENDLE)
    assert len(tree.descendants(FORCE, "district")) == 14
    assert tree.descendants(PENDLE, "district") == (PENDLE,)
    assert tree.descendants(PENDLE_008A, "district") == ()


# -- one Hierarchy per snapshot ------------------------------------------------------------------------------------

def test_built_once_per_snapshot(demo):
    data, _ = demo
    assert hierarchy_of(data) is hierarchy_of(data) is hierarchy_of(data.areas)
    other = dataclasses.replace(data, areas=data.areas.copy())
    assert hierarchy_of(other) is not hierarchy_of(data)
    assert hierarchy_of(dataclasses.replace(data, services=data.services.copy())) is hierarchy_of(data)


def test_the_memo_is_bounded_and_lets_snapshots_go():
    from services_db import hierarchy

    frames = [_small() for _ in range(hierarchy._CACHE_SIZE + 3)]
    refs = [weakref.ref(f) for f in frames]
    trees = [hierarchy_of(f) for f in frames]
    assert len(hierarchy._CACHE) <= hierarchy._CACHE_SIZE
    assert hierarchy_of(frames[-1]) is trees[-1]
    del frames, trees
    gc.collect()
    assert all(ref() is None for ref in refs)  # the memo does not keep a snapshot alive
    assert hierarchy_of(_small()).resolve("north") == "A1"


# -- a hand-made tree: the odd cases -------------------------------------------------------------------------------

def _small() -> pd.DataFrame:
    rows = [("F", "Force", "force", None, 50.0), ("A1", "North", "area", "F", 30.0),
            ("A2", "South & East", "area", "F", 20.0), ("A3", None, "area", "F", float("nan")),
            ("D1", "Alpha", "district", "A1", 20.0), ("D2", "Beta", "district", "A1", 10.0),
            ("D3", "Gamma", "district", "A2", 20.0),
            ("L1", "L1", "lsoa", "D1", 10.0), ("L2", "L2", "lsoa", "D1", 10.0), ("L3", "L3", "lsoa", "D2", 10.0),
            ("L4", "L4", "lsoa", "D3", 20.0)]
    return pd.DataFrame(rows, columns=["code", "name", "level", "parent_code", "population"])


def test_odd_cases_of_a_hand_made_tree():
    t = Hierarchy(_small())
    assert t.under("A1") == ("L1", "L2", "L3") and t.under("F") == ("L1", "L2", "L3", "L4")
    assert t.resolve("south and east") == "A2" and t.resolve("a3") == "A3"
    assert t.name_of("A3") == "A3" and t.name_of("NOPE") is None and t.name_of("NOPE", "") == ""
    assert t.under("A3") == () and t.touching("A3") == {"A3"}  # an area with no LSOA touches only itself
    assert t.touching("A3", "district") == frozenset()
    assert t.population("A1") == 30.0 and pd.isna(t.population("A3"))
    with pytest.raises(ValueError, match="not unique"):
        Hierarchy(pd.concat([_small(), _small().iloc[:1]]))


def test_a_cycle_in_parent_code_does_not_hang():
    frame = _small()
    frame.loc[frame["code"] == "F", "parent_code"] = "L1"
    t = Hierarchy(frame)
    assert t.ancestor_at("L1", "force") == "F" and t.ancestor_at("L1", "district") == "D1"


# -- the area page's coverage, moved into the core -----------------------------------------------------------------

def test_coverage_lsoas_counts_the_services_current_at_the_date(demo, tree):
    data, as_at = demo
    cov = coverage_lsoas(data, PRESTON_AREA, as_at)
    assert list(cov.columns) == ["code", "services", "name", "parent_code"]
    assert tuple(cov["code"]) == tree.under(PRESTON_AREA)
    # what the page used to compute: the current services' coverage counted over the force, then Preston's rows
    frame = directory_frame(data, pd.DataFrame(columns=EXTRA_COLUMNS), as_at)
    counts = coverage_counts(data, frame[frame["is_current"]], "lsoa").set_index("code")["services"]
    assert cov.set_index("code")["services"].to_dict() == counts.loc[list(cov["code"])].to_dict()
    ids = tuple(int(i) for i in area_profile(data, PRESTON_AREA, as_at).activity.services["service_id"])
    assert coverage_lsoas(data, PRESTON_AREA, as_at, ids).equals(cov)
    assert coverage_lsoas(data, PRESTON_AREA, as_at, ids[:1])["services"].max() == 1
    assert coverage_lsoas(data, PRESTON_AREA, dt.date(1990, 1, 1))["services"].sum() == 0  # the date counts
