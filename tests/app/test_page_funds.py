"""Funds: the Community Safety Grant 2013-14 reconciles (£1,794,000 total, £1,793,938 allocated, £62 left); funds
at a glance (issue 14 point 6): each fund as one bar with the pipeline apart, the money's flow from fund to
recipient to area, when each fund's money ends counting every grant, and the year and funds in the URL."""

from __future__ import annotations

import html
import json

from components.fund_charts import APPLIED_LABEL
from tests.app.chart_downloads import check_chart_data
from tests.app.conftest import table_with, texts

CAF = "Community Action Fund 2013-14"
PIF_CAPITAL = "pif-capital-application-2014-15"


def _chart(at, key: str) -> dict:
    """The plotly figure drawn under `key`, as the browser gets it."""
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(key):
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart {key!r}: {[el.proto.id for el in at.get('plotly_chart')]}")


def _table(at, *columns: str):
    """The first table on the page with all of `columns` (AppTest does not keep a dataframe's key)."""
    for df in at.dataframe:
        if set(columns) <= set(df.value.columns):
            return df.value
    raise AssertionError(f"no table with columns {columns}")


def test_funds_for_a_year_show_total_allocated_and_unallocated(open_page):
    at = open_page("funds")
    at.selectbox(key="funds_year").set_value("2013-14").run()
    summary = table_with(at, "Owner").set_index("Fund")
    csg = summary.loc["Home Office Community Safety Grant 2013-14"]
    assert (csg["Total (£)"], csg["Allocated (£)"], csg["Unallocated (£)"]) == (1_794_000, 1_793_938, 62)
    caf = summary.loc[CAF]
    assert caf["Allocated (£)"] == 34_800 and caf["Estimates"] == "some estimates"
    # the amounts come straight after the fund's name (visible at 1440 px); the owner last
    assert list(summary.columns[:4]) == ["Total (£)", "Allocated (£)", "Applied for (£)", "Unallocated (£)"]
    assert summary.columns[-1] == "Owner"


def test_breakdown_by_area_adds_up_to_the_allocated_total(open_page):
    at = open_page("funds")
    at.selectbox(key="funds_year").set_value("2013-14").run()
    at.multiselect(key="funds_chosen").set_value(["csg-2013-14"]).run()
    at.radio(key="funds_by").set_value("area").run()
    grouped = _table(at, "Area", "Allocated (£)")
    assert round(grouped["Allocated (£)"].sum(), 2) == 1_793_938
    at.radio(key="funds_by").set_value("recipient").run()
    assert round(_table(at, "Recipient", "Allocated (£)")["Allocated (£)"].sum(), 2) == 1_793_938
    at.multiselect(key="funds_chosen").set_value([]).run()
    assert any("Choose at least one fund" in i.value for i in at.info)


def test_funds_starting_after_the_date_are_future_and_applications_are_apart(open_page, demo_data):
    """At 27 January 2014 the 2014-15 funds are future money, not money received; an application (status applied)
    is shown apart as pipeline, never in the allocated total."""
    data, as_at, _ = demo_data
    at = open_page("funds")
    at.selectbox(key="funds_year").set_value("2014-15").run()
    summary = table_with(at, "Owner").set_index("Fund")
    when = f"At {as_at:%-d %b %Y}"
    assert set(summary[when]) == {"future: starts 1 Apr 2014"}
    assert any("start after 27 January 2014" in c.value and "future money" in c.value for c in at.caption)
    applied = data.allocations[data.allocations["status"] == "applied"]
    applied = applied[applied["fund_key"].isin(set(data.funds.loc[data.funds["financial_year"] == "2014-15",
                                                                 "fund_key"]))]
    assert summary["Applied for (£)"].sum() == applied["amount"].sum()
    assert summary["Allocated (£)"].sum() + summary["Applied for (£)"].sum() <= summary["Total (£)"].sum()
    if len(applied):  # the £140,000 Police Innovation Fund capital application, once stored as applied
        at.multiselect(key="funds_chosen").set_value(sorted(set(applied["fund_key"]))).run()
        pipeline = table_with(at, "Applicant")
        assert pipeline["Applied for (£)"].sum() == applied["amount"].sum()


def test_each_fund_is_one_bar_with_the_pipeline_drawn_apart(open_page):
    """2014-15: the £140,000 capital application is drawn as "applied for, not awarded" (hatched), never as
    allocated; the £216,000 precursor award is all allocated."""
    at = open_page("funds")
    at.selectbox(key="funds_year").set_value("2014-15").run()
    bars = {t["name"]: t for t in _chart(at, "funds_bars")["data"]}
    allocated, applied = bars["Allocated (awarded or paid)"], bars[APPLIED_LABEL]
    funds = [t.replace("<br>", " ") for t in allocated["y"]]
    capital = next(i for i, name in enumerate(funds) if "capital application" in name)
    precursor = next(i for i, name in enumerate(funds) if "precursor" in name)
    assert allocated["x"][capital] == 0 and applied["x"][capital] == 100
    assert allocated["x"][precursor] == 100 and applied["x"][precursor] == 0
    assert applied["marker"]["pattern"]["shape"] == "/"  # hatched: drawn apart from the money
    table = table_with(at, "Applied for, not awarded (£)").set_index("Fund")
    row = table.loc["Police Innovation Fund capital application 2014-15 (applied for, January 2014)"]
    assert (row["Allocated (£)"], row["Applied for, not awarded (£)"]) == (0, 140_000)
    assert "Applied for, not awarded" in [m.label for m in at.metric]


def test_the_flow_from_fund_to_recipient_to_area_adds_up_with_a_colour_per_fund(open_page):
    at = open_page("funds")
    at.selectbox(key="funds_year").set_value("2013-14").run()
    sankey = _chart(at, "funds_flow")["data"][0]
    assert sankey["type"] == "sankey"
    labels = [html.unescape(label) for label in sankey["node"]["customdata"]]
    funds = labels[:3]
    assert set(funds) == {"Home Office Community Safety Grant 2013-14", CAF,
                          "Community Safety & Partnership Funding 2013-14"}
    assert len(set(sankey["node"]["color"][:3])) == 3, "one colour per fund"
    from_funds = [v for s, v in zip(sankey["link"]["source"], sankey["link"]["value"], strict=True) if s < 3]
    assert round(sum(from_funds), 2) == 1_933_738  # every pound allocated in the year, once
    into_areas = [v for s, v in zip(sankey["link"]["source"], sankey["link"]["value"], strict=True) if s >= 3]
    assert round(sum(into_areas), 2) == 1_933_738
    assert "Preston" in labels and "Blackpool" in labels
    flow = table_with(at, "Allocation lines")
    assert round(flow["Amount (£)"].sum(), 2) == 1_933_738


def test_when_funding_ends_counts_every_grant(open_page):
    """The 24 Community Action Fund grants all end on 31 March 2014: one marker that says 24 grants, not 1 bar."""
    at = open_page("funds")
    timeline = _chart(at, "funds_timeline")["data"]
    caf = next(t for t in timeline if t["name"] == CAF)
    assert caf["text"] == ["24 grants · £34,800"]
    ends = table_with(at, "Grants ending").set_index("Fund")
    assert ends.loc[CAF, "Grants ending"] == 24 and ends.loc[CAF, "Money ending (£)"] == 34_800
    assert ends.loc[CAF, "Financial quarter"] == "2013-14 Q4"
    # across all funds, not only the year's: the LCC reserve's three yearly lines end in three years
    assert len(ends.loc["LCC Strategic Investment Reserve – Early Action Response 2014-17"]) == 3
    assert ends["Grants ending"].sum() == 24 + 37 + 2 + 1 + 3 + 6 + 1 + 1


def test_the_year_and_funds_live_in_the_url(open_page):
    at = open_page("funds", query={"year": "2014-15", "fund": PIF_CAPITAL})
    assert at.selectbox(key="funds_year").value == "2014-15"
    assert at.multiselect(key="funds_chosen").value == [PIF_CAPITAL]
    assert table_with(at, "Applicant")["Applied for (£)"].sum() == 140_000
    # choosing funds writes them to the URL; choosing every fund of the year names none
    at.multiselect(key="funds_chosen").set_value(["pif-precursor-2014-15"]).run()
    assert at.query_params["fund"] == ["pif-precursor-2014-15"] or at.query_params["fund"] == "pif-precursor-2014-15"
    at.selectbox(key="funds_year").set_value("2013-14").run()
    assert at.query_params["year"] == ["2013-14"] or at.query_params["year"] == "2013-14"
    assert "fund" not in at.query_params
    chosen = at.multiselect(key="funds_chosen")
    assert chosen.value and len(chosen.value) == len(chosen.options) == 3, "a new year starts with all its funds"


def test_a_link_to_a_single_year_inside_a_longer_fund_year_opens_it(open_page):
    """?year=2015-16: no fund is recorded for 2015-16 alone; the Early Action award 2015-17 covers it."""
    at = open_page("funds", query={"year": "2015-16"})
    assert at.selectbox(key="funds_year").value == "2015-17"
    assert "No fund is recorded for 2015-16 alone" in texts(at)
    at = open_page("funds", query={"fund": "pif-2016-17"})  # a fund and no year: the fund's year
    assert at.selectbox(key="funds_year").value == "2016-17"


def test_no_internal_words_reach_the_page(open_page):
    at = open_page("funds")
    at.selectbox(key="funds_year").set_value("2016-18").run()
    for df in at.dataframe:
        assert not {"allocation_id", "fund_key", "area_codes", "is_estimate"} & set(df.value.columns)
    shown = texts(at) + " ".join(e.label for e in at.expander)
    assert "1 records" not in shown and "1 lines" not in shown
    assert "Every allocation line (1 line)" in shown
    assert "1 fund of this year starts after 27 January 2014" in shown and "its allocations are future" in shown


def test_every_chart_has_its_data_with_source_date_and_fingerprint(open_page, demo_data, monkeypatch):
    """Issue 14 point 5: the five charts each have their data; the CSV keeps the exact money."""
    check_chart_data(open_page, monkeypatch, demo_data[1], "funds", charts=5, key="funds_bars",
                     header="Fund,Total (£),Allocated (£)", source="each fund's money, funds of 2013-14")
