"""The scenarios page offers the scenario's briefing under its review: the force's or a chosen area's, PDF or
Word, built only when clicked (the same `build_scenario_briefing` the command line runs)."""

from __future__ import annotations

import io

from docx import Document
from streamlit.runtime.media_file_manager import MediaFileManager

from services_db.db import open_database
from services_db.permissions import Actor
from services_db.scenarios import MoveMoney
from services_db.scenarios.store import save_scenario
from tests.app.conftest import demo_url, open_page  # noqa: F401 - the app tests' fixtures

NAME = "CSG to Burnley"


def _capture_deferred(monkeypatch) -> dict[str, tuple[str, object]]:
    """Every deferred download a run registers, by element id: (file name, the callable a click runs)."""
    held: dict[str, tuple[str, object]] = {}
    original = MediaFileManager.add_deferred

    def recording(self, data_callable, mimetype, coordinates, file_name=None, *, element_id=""):
        held[element_id] = (file_name, data_callable)
        return original(self, data_callable, mimetype, coordinates, file_name, element_id=element_id)

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording)
    return held


def test_the_review_ends_with_the_scenario_briefing_download(open_page, demo_url, monkeypatch):  # noqa: F811
    held = _capture_deferred(monkeypatch)
    db = open_database(demo_url)
    save_scenario(db, Actor("demo-opcc", "opcc"), NAME,
                  [MoveMoney("csg-2013-14", "Blackpool", "Burnley & Pendle", 20_000, "vulnerable-adults")])
    db.dispose()
    at = open_page("scenarios", query={"scenario": NAME}, session={"actor": Actor("v", "viewer")})
    place = at.selectbox(key="scenario_briefing_place")
    assert place.options[0] == "The force (Lancashire)" and "Burnley & Pendle" in place.options
    assert len(place.options) == 10  # the force and its nine place-based areas
    assert at.radio(key="scenario_briefing_format").options == ["PDF", "Word"]
    button = at.get("download_button")
    assert [b.proto.label for b in button] == ["Download scenario briefing"]
    place.set_value("Burnley & Pendle").run()
    at.radio(key="scenario_briefing_format").set_value("Word").run()
    assert not at.exception, [e.value for e in at.exception]
    button = at.get("download_button")[0]
    assert button.proto.label == "Download scenario briefing" and button.proto.deferred_file_id
    file_name, build = held[button.proto.id]
    assert file_name == "briefing-burnley-pendle-scenario-csg-to-burnley-2014-01-27.docx"
    doc = Document(io.BytesIO(build()))  # what a click hands over: built then, not when the page is drawn
    assert doc.sections[0].header.paragraphs[0].text == f"Scenario: {NAME} \u2014 not actual allocations"
    assert doc.paragraphs[0].text == "Burnley & Pendle"
