"""Funds: the Community Safety Grant 2013-14 reconciles (£1,794,000 total, £1,793,938 allocated, £62 left)."""

from tests.app.conftest import table_with


def test_funds_for_a_year_show_total_allocated_and_unallocated(open_page):
    at = open_page("funds")
    at.selectbox(key="funds_year").set_value("2013-14").run()
    summary = at.dataframe[0].value.set_index("Fund")
    csg = summary.loc["Home Office Community Safety Grant 2013-14"]
    assert (csg["Total (£)"], csg["Allocated (£)"], csg["Unallocated (£)"]) == (1_794_000, 1_793_938, 62)
    caf = summary.loc["Community Action Fund 2013-14"]
    assert caf["Allocated (£)"] == 34_800 and caf["Estimates"] == "some estimates"


def test_breakdown_by_area_adds_up_to_the_allocated_total(open_page):
    at = open_page("funds")
    at.selectbox(key="funds_year").set_value("2013-14").run()
    at.multiselect(key="funds_chosen").set_value(["csg-2013-14"]).run()
    at.radio(key="funds_by").set_value("area").run()
    grouped = at.dataframe[1].value
    assert round(grouped["Allocated (£)"].sum(), 2) == 1_793_938
    at.radio(key="funds_by").set_value("recipient").run()
    assert round(at.dataframe[1].value["Allocated (£)"].sum(), 2) == 1_793_938
    at.multiselect(key="funds_chosen").set_value([]).run()
    assert any("Choose at least one fund" in i.value for i in at.info)


def test_funds_starting_after_the_date_are_future_and_applications_are_apart(open_page, demo_data):
    """At 27 January 2014 the 2014-15 funds are future money, not money received; an application (status applied)
    is shown apart as pipeline, never in the allocated total."""
    data, as_at, _ = demo_data
    at = open_page("funds")
    at.selectbox(key="funds_year").set_value("2014-15").run()
    summary = at.dataframe[0].value.set_index("Fund")
    when = f"At {as_at:%d %b %Y}"
    assert set(summary[when]) == {"future: starts 01 Apr 2014"}
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
