"""Area page: chosen by selector or ?area=, four sections, figures equal to services_db.areas.area_profile."""

import datetime as dt
import json
import re

import pandas as pd
import pytest

from services_db.areas import area_profile
from services_db.counting import CURRENT, ENDED, NOT_STARTED, PLANNED, service_states
from services_db.need import SHARED_OUT
from tests.app.chart_downloads import check_chart_data, downloaded
from tests.app.conftest import table_with, texts


def test_picking_an_area_shows_its_need_plans_activity_and_review(open_page, demo_data):
    data, as_at, _ = demo_data
    at = open_page("area")
    at.selectbox(key="area_choice").set_value("Burnley & Pendle").run()
    assert not at.exception
    assert at.header[0].value == "Burnley & Pendle"
    assert at.query_params["area"] == ["Burnley & Pendle"] or at.query_params["area"] == "Burnley & Pendle"
    assert [t.label for t in at.tabs] == ["Need", "Plans", "Activity", "Review"]

    profile = area_profile(data, "PBA08", as_at)
    need = table_with(at, "Rate per 1,000 residents")  # In brief's chart tables come first on the page
    row = need[need["Indicator"] == "Early Action incidents"].iloc[0]
    # 44.9 per 1,000 against 39.9, but Pendle's figure is a rule-made estimate: no interval (review.md v2)
    assert row["Compared with the force"] == "not compared" and row["95% CI"] == "none (estimate)"
    assert row["Rate per 1,000 residents"] == round(
        profile.need.indicators.set_index("indicator_key").loc["early-action-incidents", "rate"], 2)
    assert row["Estimate"] == "estimate"
    shown = texts(at)
    assert f"{len(profile.activity.services)} services cover some or all of Burnley & Pendle" in shown
    for finding in profile.review.findings.findings:
        assert finding.sentence in shown
    plans = table_with(at, "Nothing linked")
    unanswered = set(plans.loc[plans["Nothing linked"] != "", "Priority"])
    assert unanswered == set(profile.plans.priorities.loc[profile.plans.priorities["unanswered"], "priority"])
    # The Community Safety Strategy Group priorities that only the (planned) Early Action Response service answers
    # are unanswered at 27 January 2014: a planned service is not current.
    assert {"Resources and value for money", "Supporting frontline policing", "Violent crime"} <= unanswered


def test_area_is_addressable_by_url_code_or_name(open_page):
    at = open_page("area", query={"area": "PBA04"})
    assert at.header[0].value == "Preston"
    at = open_page("area", query={"area": "fylde & wyre"})
    assert at.header[0].value == "Fylde & Wyre"
    at = open_page("area", query={"area": "Atlantis"})
    assert "There is no place-based area called “Atlantis”" in texts(at)


def test_area_without_need_data_says_what_would_fill_it_and_how(open_page):
    """Blackpool (first in the list) and Blackburn with Darwen have no need figure: the empty state names the data
    that would fill it and where to import it, in In brief and in the Need tab; no chart is drawn of nothing."""
    for area in ("Blackpool", "Blackburn with Darwen"):
        at = open_page("area", query={"area": area})
        shown = texts(at)
        assert f"No need indicator has a figure for {area}" in shown
        assert "police.uk street-level crime" in shown and "Indices of Deprivation 2019, File 7" in shown
        assert "imports either file on the Data in and out page" in shown
        assert f"No theme has a need figure for {area}, so its need cannot be set against its provision" in shown
        assert not {"spine_chart", "gap_chart"} & set(_charts(at))
        assert "**1. Funding cliff.**" in shown  # the findings still lead


def test_the_page_opens_on_an_area_whose_need_varies(open_page):
    """Without ?area= the page opens on Lancaster, the first area with an indicator compared through an interval
    (Blackpool, first in the list, has none); ?area= still chooses."""
    at = open_page("area")
    assert at.header[0].value == "Lancaster"
    assert at.query_params["area"] in (["Lancaster"], "Lancaster")
    assert open_page("area", query={"area": "Blackpool"}).header[0].value == "Blackpool"


# -- In brief (issue 14) -------------------------------------------------------------------------------------------

def _charts(at) -> dict[str, dict]:
    """The page's Plotly charts by key, as the browser receives them."""
    out = {}
    for el in at.get("plotly_chart"):
        key = el.proto.id.split("-", 2)[-1]  # "$$ID-<hash>-<key>"
        out[key] = json.loads(el.proto.spec)
    return out


def _values(v) -> list:
    """A trace's values as sent: a list, or Plotly's typed array ({"dtype", "bdata"}: base64 of the numbers)."""
    if isinstance(v, dict) and "bdata" in v:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v or [])


def test_in_brief_leads_with_the_findings_that_matter_and_their_questions(open_page, demo_data):
    data, as_at, _ = demo_data
    at = open_page("area", query={"area": "Burnley & Pendle"})
    shown = texts(at).replace("**", "")  # bold labels
    for line in (
        "1. Funding cliff. In Burnley & Pendle, all £168,000 a year of current funding reaching the area ends within "
        "12 months (13 services; the first on 31 March 2014)",
        "2. Funding not recorded. Burnley & Pendle has 17.4% of Early Action incidents among the seven areas with a "
        "figure",
        "but six families services cover Burnley & Pendle and none of their funding is recorded.",
        "3. Funding not recorded.",
        "four vulnerable adults services cover Burnley & Pendle",
        "4. Inequity. Community Action Fund 2013-14: Pendle and Rossendale received nothing; the other 12 districts "
        "received £19.11 to £44.92 per 1,000 residents.",
        "5. Inequity. Night-time economy funding:",
        "Ask: Office of the Police and Crime Commissioner for Lancashire, which holds the fund: why did Pendle "
        "receive nothing? Were applications made, and was it eligible?",
        "9 more findings are in the Review tab.",
    ):
        assert line in shown, line
    assert "6." not in [m.value.split(" ")[0].strip("*\\") for m in at.markdown]
    # before the tabs: In brief is drawn above the Need tab's heading
    headings = [s.value for s in at.subheader]
    assert headings.index("In brief") < headings.index("Need")


def test_the_spine_chart_and_its_table(open_page):
    at = open_page("area", query={"area": "Burnley & Pendle"})
    table = table_with(at, "Position (-1 to 1, force 0)").set_index("Indicator")
    ea = table.loc["Early Action incidents"]
    assert ea["Position (-1 to 1, force 0)"] == 0.345  # (44.92 - 39.93) / (54.40 - 39.93)
    assert (ea["Force"], ea["Lowest area"], ea["Highest area"]) == (39.93, 34.47, 54.4)
    assert ea["95% CI"] == "none (estimate)" and ea["Estimate"] == "estimate"
    spine = _charts(at)["spine_chart"]
    marker = next(t for t in spine["data"] if t.get("name") == "Burnley & Pendle: estimate (no interval)")
    assert _values(marker["x"]) == [pytest.approx(-0.345, abs=1e-3)] and "error_x" not in marker  # no interval drawn
    # the shared-out indicators: labelled as such, with no marker, never "similar"
    police = table.loc["Police incidents recorded"]
    assert police["Comparison"] == SHARED_OUT and pd.isna(police["Position (-1 to 1, force 0)"])
    need = table_with(at, "Rate per 1,000 residents").set_index("Indicator")
    assert need.loc["Police incidents recorded", "Compared with the force"] == SHARED_OUT
    assert need.loc["Missing-person Early Action incidents", "Compared with the force"] == SHARED_OUT
    assert "similar" not in set(need["Compared with the force"])
    labels = [y for t in spine["data"] for y in _values(t.get("y"))]
    assert any("Police incidents recorded" in y and SHARED_OUT in y for y in labels)
    assert not any("Police incidents recorded" in y for t in spine["data"] if t.get("mode") == "markers"
                   for y in _values(t["y"]))


def test_need_share_against_provision_share_in_one_chart(open_page):
    at = open_page("area", query={"area": "Burnley & Pendle"})
    table = table_with(at, "Share of the provision").set_index("Theme")
    assert table.loc["Families", "Share of the need"] == "17.4% (estimate)"
    assert table.loc["Families", "Share of the provision"] == "unknown"  # not 0%: funding not recorded
    assert table.loc["Community safety", "Share of the provision"] == "13.1%"
    assert table.loc["Community safety", "Note"].startswith("need share is the population share")
    chart = _charts(at)["gap_chart"]
    provision = next(t for t in chart["data"] if t.get("name") == "Share of the known provision")
    assert _values(provision["y"]) == ["Community safety (need: shared-out force figure)"]  # no 0% diamond for unknowns
    assert "For 4 of the 5 themes the provision share is unknown" in texts(at)


def test_no_lsoa_map_of_a_shared_out_figure_and_no_need_bar_chart(open_page):
    at = open_page("area", query={"area": "Burnley & Pendle"})
    charts = _charts(at)
    assert "need_map" not in charts and "need_chart" not in charts
    assert "No map by LSOA: no indicator has figures of its own below district level in Burnley & Pendle" in texts(at)
    assert "Importing police.uk street-level crime" in texts(at)


def test_a_trend_is_drawn_on_a_period_axis(open_page):
    """The trend with two periods is drawn on a category axis: a date axis read "2011-12" as December 2011, and
    with one period drew a dot on an axis labelled "23:59:59.999"."""
    charts = _charts(open_page("area", query={"area": "Burnley & Pendle"}))
    trend = next(c for k, c in charts.items() if k.startswith("trend_"))
    assert trend["layout"]["xaxis"]["type"] == "category" and _values(trend["data"][0]["x"]) == ["2011-12", "2013-14"]


def test_the_coverage_map_counts_services_in_whole_steps(open_page):
    charts = _charts(open_page("area", query={"area": "Burnley & Pendle"}))
    bar = next(t["marker"] for t in charts["coverage_map"]["data"] if t.get("marker", {}).get("showscale"))
    assert bar["colorbar"]["dtick"] == 1 and float(bar["cmin"]).is_integer() and float(bar["cmax"]).is_integer()


def test_imported_crime_is_offered_for_the_map_and_one_month_is_no_trend(demo_url, open_page):
    """police.uk crime is counted in each LSOA: the map offers it (and only it). One month of it is one period:
    no trend is drawn for it."""
    from services_db.db import open_database
    from services_db.permissions import Actor
    from services_db.transfer.imports import apply_plan, plan_import
    from tests.app.test_need_imported import FIX

    db = open_database(demo_url)
    try:
        plan = plan_import(db, "police-uk", [(FIX.name, FIX.read_bytes())])
        apply_plan(db, plan, Actor("test-admin", "admin"))
    finally:
        db.dispose()
    at = open_page("area", query={"area": "Burnley & Pendle"})
    picker = at.selectbox(key="need_map_indicator")
    assert picker.options and all("(police.uk)" in o for o in picker.options)
    assert "need_map" in _charts(at)
    titles = [c["layout"]["title"]["text"] for k, c in _charts(at).items() if k.startswith("trend_")]
    assert titles == ["Referrals to children's social care (average a month) (Lancashire)"]


# -- the "as at" date, moved with the sidebar widget, reaches every list, count, plan table and the review --------

def _at_date(at, day):
    """Pick `day` as the "as at" date. The sidebar's date widget (app.py, key "as_at") stores its value under this
    session-state key; AppTest (Streamlit 1.67) does not draw app.py's sidebar again after switch_page, so a page
    test sets the widget's key (the overview's test below drives the widget itself)."""
    at.session_state["as_at"] = day
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _activity_names(at) -> set[str]:
    return set(table_with(at, "Annual funding (£)")["Service"])


def _count_shown(at, area: str, day) -> int:
    m = re.search(rf"(\d+) services cover some or all of {re.escape(area)}( as at {day:%-d %B %Y})?", texts(at))
    assert m, f"no service count for {area}"
    assert m.group(2), f"the service count does not say it is as at {day}"
    return int(m.group(1))


def test_activity_at_27_january_2014_leaves_out_planned_and_later_services(open_page, demo_data):
    """Issue 11, problem 4: planned services, services starting later (and, once each record knows when it became
    known, services first reported in 2016) do not count as current at 27 January 2014."""
    data, _, _ = demo_data
    at = open_page("area", query={"area": "Preston"})
    later, early = dt.date(2016, 7, 21), dt.date(2014, 1, 27)
    _at_date(at, later)
    _at_date(at, early)
    names = _activity_names(at)
    planned = {"Blackburn CCTV hub", "Domestic Abuse Commission", "Early Action Response service"}  # status planned
    not_started = {"AVERT – women's diversion project", "Vulnerable Caller project"}  # start 2015
    assert not (planned | not_started) & names
    profile = area_profile(data, "PBA04", early)
    assert _count_shown(at, "Preston", early) == len(names) == len(profile.activity.services)
    shown_apart = table_with(at, "At this date").set_index("Service")["At this date"]
    assert {shown_apart[n] for n in planned} == {PLANNED}  # shown as planned, not as current
    assert {shown_apart[n] for n in not_started} == {NOT_STARTED}
    # Every row listed is current by the one rule, whatever the record's known-from date says.
    svc = data.services.set_index("name")
    listed = svc.loc[sorted(names)]
    assert service_states(listed["status"], listed["start_date"], listed["end_date"], early,
                          listed["known_from"]).tolist() == [CURRENT] * len(listed)
    first_known_2016 = svc.index[pd.to_datetime(svc["known_from"]) >= pd.Timestamp("2016-01-01")]
    first_known_2016 = set(first_known_2016) & set(svc.index[svc["start_date"].isna()])
    assert not first_known_2016 & names  # Genga hubs, Blackpool CCTV hub, Families in Need once known_from is read
    _at_date(at, later)
    assert _count_shown(at, "Preston", later) == len(area_profile(data, "PBA04", later).activity.services)


def test_moving_the_date_past_a_services_end_removes_it_everywhere_at_once(open_page):
    """Sahara (Preston) ends on 31 March 2014: on 27 January 2014 it is in Preston's activity list and count, in the
    plan table against "Protecting Vulnerable People" and in the review's funding cliffs; on 1 April 2014 it is in
    none of the four (and is shown apart as ended)."""
    sahara = "Sahara (Preston) – domestic abuse services for BME communities"
    before, after = dt.date(2014, 1, 27), dt.date(2014, 4, 1)
    at = _at_date(open_page("area", query={"area": "Preston"}), before)

    def places(day) -> dict[str, bool]:
        plans = table_with(at, "Nothing linked").set_index("Priority")
        linked = next(c for c in plans.columns if "linked in this area" in c)
        own = {"Annual funding (£)", "Nothing linked", "At this date", "Indicator"}
        review = [df.value for df in at.dataframe if hasattr(df.value, "columns") and not own & set(df.value.columns)]
        return {
            "activity": sahara in _activity_names(at),
            "plans": sahara in plans.loc["Protecting Vulnerable People", linked],
            # the review tab's tables (its funding cliffs list Sahara's line on 27 January 2014) and sentences
            "review": any(t.astype(str).apply(lambda c: c.str.contains(sahara, regex=False)).any().any()
                          for t in review) or sahara in texts(at),
        }

    assert places(before) == {"activity": True, "plans": True, "review": True}
    n_before = len(_activity_names(at))
    _at_date(at, after)
    assert places(after) == {"activity": False, "plans": False, "review": False}
    n_after = len(_activity_names(at))
    assert n_after < n_before and _count_shown(at, "Preston", after) == n_after
    assert table_with(at, "At this date").set_index("Service").loc[sahara, "At this date"] == ENDED


def test_every_chart_and_map_has_its_data_with_source_date_and_fingerprint(open_page, demo_data, monkeypatch):
    """Issue 14 point 5: the spine chart, the gap picture, the maps and the trends each have their data."""
    at, store = check_chart_data(open_page, monkeypatch, demo_data[1], "area", query={"area": "Lancaster"},
                                 charts=-3, key="spine_chart", header="Indicator,Period,Unit,Area,95% CI,Force",
                                 source="Lancaster against the force's areas")
    assert downloaded(at, "coverage_map_csv", store).decode("utf-8-sig").startswith("LSOA code,LSOA,Current")
