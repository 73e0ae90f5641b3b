"""Service directory: keyword search, filters (including covers this LSOA), and the detail view by URL."""

from services_db.counting import CURRENT, PLANNED
from services_db.directory import DirectoryFilter, current_totals, directory_frame, search, service_extras
from tests.app.chart_downloads import check_chart_data
from tests.app.conftest import texts


def _count(at) -> int:
    for m in at.markdown:
        if " of " in m.value and "services**" in m.value:
            return int(m.value.split("**")[1].split(" of ")[0])
    raise AssertionError("no result count shown")


def test_search_and_filters_narrow_the_results(open_page, demo_data):
    data, as_at, db = demo_data
    frame = directory_frame(data, service_extras(db), as_at)
    at = open_page("directory")
    assert _count(at) == len(search(frame, DirectoryFilter(states=[CURRENT]))) < len(frame)  # current by default
    at.text_input(key="q").set_value("domestic abuse").run()
    expected = search(frame, DirectoryFilter(keyword="domestic abuse", states=[CURRENT]))
    assert _count(at) == len(expected) > 0
    assert set(at.dataframe[0].value["Service"]) == set(expected["name"])

    at.text_input(key="q").set_value("").run()
    at.text_input(key="place").set_value("E01025174").run()  # Pendle 008A
    covering = search(frame, DirectoryFilter(covers="E01025174", states=[CURRENT]), data.areas)
    assert _count(at) == len(covering) > 0
    assert "Mediation Services (Pendle)" in set(at.dataframe[0].value["Service"])

    at.multiselect(key="tier").set_value(["primary"]).run()
    both = search(frame, DirectoryFilter(covers="E01025174", tiers=["primary"], states=[CURRENT]), data.areas)
    assert _count(at) == len(both)


def test_the_current_filter_and_totals_follow_the_as_at_date(open_page, demo_data):
    """The directory lists services current at the "as at" date by default and totals only those; a planned
    service is listed only when asked for, and shown as planned."""
    data, as_at, db = demo_data
    frame = directory_frame(data, service_extras(db), as_at)
    at = open_page("directory")
    current = search(frame, DirectoryFilter(states=[CURRENT]))
    assert set(at.dataframe[0].value["At this date"]) == {CURRENT}
    n, funding = current_totals(current)
    assert f"{n} of them current at {as_at:%-d %B %Y}, with recorded annual funding £{funding:,.0f}" in texts(at)
    at.multiselect(key="state").set_value([CURRENT, PLANNED]).run()
    table = at.dataframe[0].value.set_index("Service")
    assert table.loc["Early Action Response service", "At this date"] == PLANNED  # status planned: not current
    assert _count(at) == len(current) + int((frame["state"] == PLANNED).sum())
    assert f"{n} of them current at {as_at:%-d %B %Y}" in texts(at)  # the totals still count current services only


def test_nothing_matches_says_what_to_change(open_page):
    at = open_page("directory")
    at.text_input(key="q").set_value("zzzz no such service").run()
    assert "No services match. Remove a filter or shorten the search words." in texts(at)


def test_detail_view_by_url(open_page):
    at = open_page("directory", query={"service": "avert-womens-diversion"})
    assert at.header[0].value == "AVERT – women's diversion project"
    shown = texts(at)
    assert "Lancashire Women's Centre" in shown
    ends = next(m for m in at.metric if m.label == "Ends")
    assert (ends.value, ends.delta) == ("31 Mar 2017", "estimate")  # labelled under the date: end_date_is_estimate
    at = open_page("directory", query={"service": "no-such-key"})
    assert "There is no service “no-such-key”" in texts(at)


def test_unknown_funding_is_shown_as_not_recorded(open_page):
    """Issue 11, problem 3: "annual funding £0" for a service whose funding is simply not recorded."""
    at = open_page("directory", query={"service": "early-action-teams"})
    assert {m.label: m.value for m in at.metric}["Annual funding"] == "not recorded"
    at = open_page("directory")
    table = at.dataframe[0].value.set_index("Service")
    assert table.loc["Police Early Action Teams", "Annual funding"] == "not recorded"
    assert "not recorded" in texts(at)


def test_the_maps_data_downloads_and_the_list_keeps_its_csv_and_excel(open_page, demo_data, monkeypatch):
    """Issue 14 point 5: the map's data (each district and its matching services) with the footer."""
    at, _ = check_chart_data(open_page, monkeypatch, demo_data[1], "directory", charts=1, key="dir_map",
                             header="District code,District,Matching services",
                             source="Matching services per district")
    assert {"dl_csv", "dl_xlsx"} <= {b.key for b in at.download_button}
