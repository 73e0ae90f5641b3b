"""The force's own areas follow from the date they apply (issue "Plan the next year"): once an admin saves a grouping
splitting Burnley & Pendle from 1 April 2014, the area page, the review, the CLI and the briefings show Burnley and
Pendle as areas as at that date and later, and Burnley & Pendle before it."""

from __future__ import annotations

import datetime as dt

from services_db.db import open_database
from services_db.documents.build import build_briefing
from services_db.groupings import base_grouping, propose, save_grouping, snapshot_at
from services_db.permissions import Actor
from services_db.review import review_force

BURNLEY, PENDLE = "E07000117", "E07000122"
FROM = dt.date(2014, 4, 1)


def _split(url: str):
    db = open_database(url)
    base = base_grouping(db)
    table = {**base.district_table(), BURNLEY: "Burnley", PENDLE: "Pendle"}
    proposal = propose(db, base, table, {}, name="Burnley and Pendle apart", applies_from=FROM)
    assert proposal.problems == []
    save_grouping(db, Actor("demo-admin", "admin"), proposal.grouping)
    return db


def test_the_area_page_and_review_follow_the_grouping_from_its_date(demo_url, open_page):
    _split(demo_url)
    before = open_page("area", session={"as_at": dt.date(2014, 1, 27)})
    names = before.selectbox(key="area_choice").options
    assert "Burnley & Pendle" in names and "Pendle" not in names
    after = open_page("area", query={"area": "Pendle"}, session={"as_at": dt.date(2014, 6, 1)})
    names = after.selectbox(key="area_choice").options
    assert "Pendle" in names and "Burnley" in names and "Burnley & Pendle" not in names
    assert after.selectbox(key="area_choice").value == "Pendle"
    review = open_page("review", session={"as_at": dt.date(2014, 6, 1)})
    assert not review.exception


def test_the_snapshot_briefing_and_command_line_follow_it_too(demo_url, monkeypatch, capsys):
    db = _split(demo_url)
    early, late = snapshot_at(db, dt.date(2014, 3, 31)), snapshot_at(db, FROM)
    def areas_of(snap) -> set[str]:
        return set(snap.areas.loc[snap.areas["level"] == "area", "name"])

    assert "Burnley & Pendle" in areas_of(early) and "Pendle" not in areas_of(early)
    areas = areas_of(late)
    assert {"Burnley", "Pendle"} <= areas and "Burnley & Pendle" not in areas
    assert late.version != early.version  # every cache keyed on the version keeps the two apart
    assert {"Burnley", "Pendle"} <= set(review_force(late, FROM).tables["gaps"]["area_name"])
    built = build_briefing(db, "Pendle", FROM, "pdf")
    assert built.content.startswith(b"%PDF") and "pendle" in built.filename
    from services_db.commands import main

    monkeypatch.setenv("DATABASE_URL", demo_url)
    assert main(["review", "--area", "Pendle", "--as-at", "2014-06-01"]) == 0
    assert "Pendle" in capsys.readouterr().out
    assert main(["review", "--area", "Burnley & Pendle", "--as-at", "2014-01-27"]) == 0
    capsys.readouterr()
    assert main(["review", "--area", "Burnley & Pendle", "--as-at", "2014-06-01"]) == 2  # no such area any more
