"""Area page: chosen by selector or ?area=, four sections, figures equal to services_db.areas.area_profile."""

from services_db.areas import area_profile
from tests.app.conftest import texts


def test_picking_an_area_shows_its_need_plans_activity_and_review(open_page, demo_data):
    data, as_at, _ = demo_data
    at = open_page("area")
    at.selectbox(key="area_choice").set_value("Burnley & Pendle").run()
    assert not at.exception
    assert at.header[0].value == "Burnley & Pendle"
    assert at.query_params["area"] == ["Burnley & Pendle"] or at.query_params["area"] == "Burnley & Pendle"
    assert [t.label for t in at.tabs] == ["Need", "Plans", "Activity", "Review"]

    profile = area_profile(data, "PBA08", as_at)
    need = at.dataframe[0].value
    row = need[need["Indicator"] == "Early Action incidents"].iloc[0]
    assert row["Compared with the force"] == "worse"  # 44.9 per 1,000 (CI 44.0-45.9) against 39.9
    assert row["Rate per 1,000 residents"] == round(
        profile.need.indicators.set_index("indicator_key").loc["early-action-incidents", "rate"], 2)
    assert row["Estimate"] == "estimate"
    shown = texts(at)
    assert f"{len(profile.activity.services)} services cover some or all of Burnley & Pendle" in shown
    for finding in profile.review.findings.findings:
        assert finding.sentence in shown
    plans = at.dataframe[1].value
    assert set(plans.loc[plans["Nothing linked"] != "", "Priority"]) == {"Resources and value for money",
                                                                  "Supporting frontline policing"}


def test_area_is_addressable_by_url_code_or_name(open_page):
    at = open_page("area", query={"area": "PBA04"})
    assert at.header[0].value == "Preston"
    at = open_page("area", query={"area": "fylde & wyre"})
    assert at.header[0].value == "Fylde & Wyre"
    at = open_page("area", query={"area": "Atlantis"})
    assert "There is no place-based area called “Atlantis”" in texts(at)


def test_area_without_need_data_says_so(open_page):
    at = open_page("area", query={"area": "Blackpool"})
    assert "No need indicators have figures for this area" in texts(at)
