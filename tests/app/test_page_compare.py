"""Compare areas: places from the URL or picked, need with intervals, provision per head with unknown kept apart from
£0, funding at risk and findings per place, each equal to what the area page and the force review say."""

import pytest

from services_db.compare import compare, places
from services_db.need import area_need
from services_db.review import review_area, review_force
from tests.app.chart_downloads import assert_ends_with_footer, check_chart_data, downloaded
from tests.app.conftest import texts


def test_places_in_the_url_are_compared_and_the_url_follows_the_choice(open_page, demo_data):
    data, as_at, _ = demo_data
    at = open_page("compare", query={"places": "Preston,Burnley & Pendle"})
    assert at.multiselect(key="compare_places").value == ["Preston", "Burnley & Pendle"]
    shown = texts(at)
    top = review_area(data, "Burnley & Pendle", as_at).findings[0].sentence
    assert top in shown  # the same sentence the area page leads with
    counts = [t for t in at.dataframe if "Finding" in getattr(t.value, "columns", [])]
    assert len(counts) == 2
    at.multiselect(key="compare_places").select("Lancashire").run()
    assert at.query_params["places"] == "Preston,Burnley & Pendle,Lancashire"
    assert len([t for t in at.dataframe if "Finding" in getattr(t.value, "columns", [])]) == 3


def test_an_unknown_place_in_the_url_is_named_and_one_place_asks_for_another(open_page):
    at = open_page("compare", query={"places": "Preston,Atlantis"})
    assert "Atlantis" in texts(at)
    assert at.multiselect(key="compare_places").value == ["Preston"]
    assert "Pick at least two places" in texts(at)


def test_provision_per_head_keeps_unknown_funding_apart_from_nothing(demo_data):
    data, as_at, _ = demo_data
    codes, unknown = places(data, ["Lancashire", "Preston"])
    assert unknown == [] and codes[1] == "PBA04"
    c = compare(data, codes, as_at)
    preston = c.provision[c.provision["place_code"] == "PBA04"]
    kinds = set()
    for row in preston.itertuples():
        if row.provision > 0:
            assert row.per_head == row.provision / row.population
            kinds.add("money")
        elif row.unknown_funding > 0:  # services whose funding is not recorded: unknown, never £0 a head
            assert row.per_head != row.per_head
            kinds.add("unknown")
        else:
            assert row.per_head == 0
            kinds.add("nothing")
    assert kinds == {"money", "unknown", "nothing"}  # the demo has all three, so each branch is tested
    # the force's money in a theme is the sum of its areas' (the force review's provision table)
    table = review_force(data, as_at).tables["provision"]
    force = c.provision[c.provision["place_code"] == codes[0]].set_index("theme_key")
    want = table.groupby("theme_key")["provision"].sum()
    assert force.loc["drugs-alcohol", "provision"] == pytest.approx(want["drugs-alcohol"])
    assert force.loc["drugs-alcohol", "per_head"] == pytest.approx(want["drugs-alcohol"] / force.loc[
        "drugs-alcohol", "population"])


def test_the_force_need_is_its_rate_without_an_interval(demo_data):
    data, as_at, _ = demo_data
    codes, _ = places(data, ["Lancashire", "Preston"])
    c = compare(data, codes, as_at)
    force = c.need[c.need["place_code"] == codes[0]].set_index("indicator_key")
    preston = c.need[c.need["place_code"] == codes[1]].set_index("indicator_key")
    own = area_need(data, "PBA04").set_index("indicator_key")
    key = "early-action-incidents"
    assert force.at[key, "rate"] == pytest.approx(own.at[key, "force_rate"])
    assert force.at[key, "lower"] != force.at[key, "lower"]  # no interval: it is the benchmark
    assert preston.at[key, "rate"] == own.at[key, "rate"]
    assert preston.at[key, "lower"] < preston.at[key, "rate"] < preston.at[key, "upper"]


def test_each_chart_has_its_data_and_every_csv_ends_with_the_footer(open_page, demo_data, monkeypatch):
    """Issue 14 point 5: need and provision each have their data; their CSVs and the whole comparison's end with
    the source, the "as at" date and the data's fingerprint."""
    at, store = check_chart_data(open_page, monkeypatch, demo_data[1], "compare", charts=2,
                                 query={"places": "Preston,Burnley & Pendle"}, key="compare_need_chart",
                                 header="Indicator,Unit,Preston,Burnley & Pendle", source="need by place")
    assert_ends_with_footer(downloaded(at, "compare_provision_chart_csv", store), demo_data[1])
    whole = assert_ends_with_footer(downloaded(at, "compare_csv", store), demo_data[1])
    assert "comparison of Preston, Burnley & Pendle" in whole[0]
