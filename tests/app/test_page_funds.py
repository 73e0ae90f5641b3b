"""Funds: the Community Safety Grant 2013-14 reconciles (£1,794,000 total, £1,793,938 allocated, £62 left)."""


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
