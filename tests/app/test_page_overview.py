"""Overview: headline figures, the map measure switch, top gaps and cliffs, all equal to the review's."""

from services_db.review import review_force
from tests.app.conftest import texts


def test_overview_shows_the_reviews_top_gap_and_cliffs(open_page, demo_data):
    data, as_at, _ = demo_data
    at = open_page("overview")
    shown = texts(at)
    findings = review_force(data, as_at)
    top_gap = findings.of_kind("gap")[0].sentence
    top_cliff = findings.of_kind("cliff")[0].sentence
    assert top_gap in shown
    assert top_cliff in shown
    assert {m.label: m.value for m in at.metric}["Money allocated"] == "£10.90m"


def test_overview_map_can_be_coloured_by_each_measure(open_page):
    at = open_page("overview")
    for measure in ("provision", "funding", "gaps", "need"):
        at.radio(key="overview_measure").set_value(measure).run()
        assert not at.exception
        assert len(at.get("plotly_chart")) == 1
        assert at.radio(key="overview_measure").value == measure
    assert at.selectbox(key="overview_indicator").value == "police-incidents"
