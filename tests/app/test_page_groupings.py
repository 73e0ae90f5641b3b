"""Place-based areas page (issue 15, point 4): everyone reads the groupings; an administrator carves an area smaller
than a district out of Burnley by pasting LSOA codes, sees the problems before saving, and saves a dated grouping
that applies from its date on."""

import datetime as dt

from services_db.db import open_database
from services_db.groupings import grouping_at, list_groupings
from services_db.permissions import Actor
from tests.app.conftest import texts

ADMIN = Actor("demo-admin", "admin")
BURNLEY = "E07000117"


def _errors(at) -> list[str]:
    return [str(e.value).replace("\\", "") for e in at.error]


def _table(at, column, last: bool = False):
    """The first (or `last`) table with `column`: the grouping shown comes before the editor's preview."""
    found = [df.value for df in at.dataframe if column in getattr(df.value, "columns", [])]
    assert found, f"no table with {column!r}"
    return found[-1 if last else 0]


def test_a_viewer_reads_the_groupings_but_cannot_make_one(open_page):
    at = open_page("groupings", session={"actor": Actor("demo-viewer", "viewer")})
    assert [t.value for t in at.title] == ["Place-based areas"]
    listed = _table(at, "Applies from")
    assert listed["Grouping"].tolist() == ["From the grouping files"]
    assert listed["Applies from"].tolist() == ["the beginning"]
    areas = _table(at, "Colour on the map")
    assert len(areas) == 9 and "Burnley & Pendle" in areas["Area"].tolist()
    assert areas.set_index("Area").loc["Burnley & Pendle", "Districts"] == "Burnley, Pendle"
    assert "Only administrators may make a new grouping" in texts(at)
    assert not [b for b in at.button if b.label == "Save grouping"]


def test_an_admin_carves_a_town_centre_out_of_burnley_and_saves_it(open_page, demo_url):
    db = open_database(demo_url)
    town = [c for c in list_groupings(db)[0].areas if c.name == "Burnley & Pendle"][0]
    assert town.districts == (BURNLEY, "E07000122")
    from services_db.groupings import _tree_of

    codes = _tree_of(db).under(BURNLEY)[:6]
    at = open_page("groupings", session={"actor": ADMIN})
    assert any(e.label == "Name of the grouping" for e in at.text_input)
    save = [b for b in at.button if b.label == "Save grouping"][0]
    assert save.disabled  # no name yet
    assert "The grouping needs a name." in _errors(at)
    [e for e in at.text_input if e.label == "Name of the grouping"][0].input("Town centre from April")
    [e for e in at.date_input if e.label == "Applies from"][0].set_value(dt.date(2014, 4, 1))
    [e for e in at.text_input if e.label == "Its name"][0].input("Burnley")
    [e for e in at.text_area if e.label.startswith("Its LSOA codes")][0].input(", ".join(codes))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("has the name of the district Burnley but is not exactly that district" in e for e in _errors(at))
    [e for e in at.text_input if e.label == "Its name"][0].input("Burnley Town Centre")
    at.run()
    assert _errors(at) == []
    preview = _table(at, "Colour on the map", last=True).set_index("Area")
    assert preview.loc["Burnley Town Centre", "LSOAs"] == 6
    assert preview.loc["Burnley Town Centre", "Districts"] == "part of Burnley"
    assert preview.loc["Burnley & Pendle", "Districts"] == "Burnley (part), Pendle"
    [b for b in at.button if b.label == "Save grouping"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Saved “Town centre from April”: it applies from 1 April 2014." in texts(at)
    assert _table(at, "Applies from")["Grouping"].tolist() == ["From the grouping files", "Town centre from April"]
    assert grouping_at(db, dt.date(2014, 3, 31)).base
    assert grouping_at(db, dt.date(2014, 4, 1)).area_named("Burnley Town Centre").lsoas == tuple(codes)
    db.dispose()
