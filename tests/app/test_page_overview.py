"""Overview: headline figures, the map measure switch, top gaps and cliffs, all equal to the review's."""

import datetime as dt

from components.format import money
from services_db.areas import force_figures
from services_db.review import review_force
from tests.app.chart_downloads import check_chart_data
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
    # awarded or paid money of the funds begun by 27 January 2014 (the 2013-14 funds); later funds are future money
    assert {m.label: m.value for m in at.metric}["Money allocated"] == money(force_figures(data, as_at)["allocated"])


def test_overview_map_can_be_coloured_by_each_measure(open_page):
    at = open_page("overview")
    for measure in ("provision", "funding", "gaps", "need"):
        at.radio(key="overview_measure").set_value(measure).run()
        assert not at.exception
        assert len(at.get("plotly_chart")) == 1
        assert at.radio(key="overview_measure").value == measure
    assert at.selectbox(key="overview_indicator").value == "police-incidents"


def test_overview_counts_follow_the_as_at_widget(open_page, demo_data):
    """The sidebar's "As at" date moves the overview's service count and money: at 27 January 2014 a service first
    reported in 2016, a planned one or one starting in 2015 is not current, and the 2014-17 funds are future money;
    at 21 July 2016 the 2013-14 services have ended."""
    data, _, _ = demo_data
    shown = {}
    for day in (dt.date(2016, 7, 21), dt.date(2014, 1, 27)):
        at = open_page("overview")  # AppTest draws app.py's sidebar on the first run only: one session per date
        at.date_input(key="as_at").set_value(day).run()
        assert not at.exception
        metrics = {m.label: m.value for m in at.metric}
        expected = force_figures(data, day)
        assert metrics["Services"] == f"{expected['services']:,}"
        assert metrics["Money allocated"] == money(expected["allocated"])
        assert f"{expected['services']:,} services current at {day:%-d %B %Y}" in texts(at)
        shown[day] = expected
    early, late = shown[dt.date(2014, 1, 27)], shown[dt.date(2016, 7, 21)]
    assert early["future"] > 0 and late["future"] == 0 and early["allocated"] < late["allocated"]
    assert early["planned"] > 0 and early["services"] + early["planned"] + early["not_started"] <= len(data.services)


def test_the_maps_data_downloads_with_source_date_and_fingerprint(open_page, demo_data, monkeypatch):
    """Issue 14 point 5: the map has its data beside it, and the CSV ends as Fingertips' exports do."""
    check_chart_data(open_page, monkeypatch, demo_data[1], "overview", charts=1, key="overview_map",
                     header="Area code,Area,", source="per 1,000 residents")
