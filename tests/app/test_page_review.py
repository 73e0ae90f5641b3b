"""Review across the force: inequity of the Community Action Fund and the fair-share calculator."""

from services_db.review import fair_share
from tests.app.conftest import table_with, texts


def test_inequity_names_the_districts_that_received_nothing(open_page):
    at = open_page("review")
    at.selectbox(key="ineq_fund").set_value("community-action-fund-2013-14").run()
    shown = texts(at)
    assert "Community Action Fund 2013-14: Pendle and Rossendale received nothing" in shown
    assert {m.label: m.value for m in at.metric}["Areas that received nothing"] == "2"


def test_fair_share_calculator_follows_the_weights(open_page, demo_data):
    data, _, _ = demo_data
    at = open_page("review")
    at.selectbox(key="fair_fund").set_value("csg-2013-14").run()
    at.number_input(key="fair_w_early-action-incidents").set_value(50.0).run()
    assert not at.exception
    expected = fair_share(data, "csg-2013-14", weights={"population": 100.0, "early-action-incidents": 50.0})
    table = table_with(at, "Fair share (£)").set_index("Area")
    for row in expected.itertuples():
        assert abs(table.loc[row.area_name, "Fair share (£)"] - row.fair_share) < 0.01
    assert "Population 67%, Early Action incidents 33%" in texts(at)


def test_gap_heatmap_and_table_are_drawn(open_page):
    at = open_page("review")
    flagged = table_with(at, "Money to parity (£)")
    assert len(flagged) > 0
    gaps = flagged[flagged["Rank"] > 0]
    assert gaps["Rank"].tolist() == list(range(1, len(gaps) + 1))
    # Services whose funding is not recorded are said so, never "£0" or "need but no provision" (issue 11).
    unknown = flagged[flagged["Why"] == "funding not recorded"]
    assert (unknown["Funding not recorded"] > 0).all() and (unknown["Money to parity (£)"] == "–").all()
    assert not ((flagged["Why"] == "need but no provision") & (flagged["Current services"] > 0)).any()
    assert "No need figure" in texts(at) and "Blackburn with Darwen" in texts(at)
