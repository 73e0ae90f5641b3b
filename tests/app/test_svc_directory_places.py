"""services_db.directory for issue 14: places typed by a person, funding said as what it is (not recorded, or money
that starts later, never £0), the totals sentence, the cards; and the map's whole-number colour steps."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from components.maps import _count_scale, choropleth, same_everywhere
from services_db.directory import (
    DirectoryFilter,
    DirectoryResults,
    UnknownPlace,
    directory_frame,
    directory_results,
    find_place,
    funding_parts,
    funding_text,
    results_summary,
    service_cards,
    service_extras,
    upcoming_funding,
)
from services_db.queries import default_as_at, review_data, target_group_names


@pytest.fixture
def directory(demo_db):
    data = review_data(demo_db)
    return data, directory_frame(data, service_extras(demo_db), default_as_at(demo_db)), demo_db


@pytest.mark.parametrize(("typed", "code", "level"), [
    ("Burnley & Pendle", "PBA08", "area"), ("burnley  and pendle", "PBA08", "area"), ("PBA08", "PBA08", "area"),
    ("pendle", "E07000122", "district"), ("E01025174", "E01025174", "lsoa"), ("pendle 008a", "E01025174", "lsoa"),
])
def test_a_place_by_name_or_code_at_any_level(directory, typed, code, level):
    data, _, _ = directory
    place = find_place(data.areas, typed)
    assert (place.code, place.level) == (code, level)


def test_an_unknown_place_suggests_the_nearest(directory):
    data, _, _ = directory
    assert find_place(data.areas, "  ") is None
    with pytest.raises(UnknownPlace) as e:
        find_place(data.areas, "Burnly")
    assert e.value.suggestions == ["Burnley"]  # an area or district first, not "Burnley 014G"
    with pytest.raises(UnknownPlace) as e:
        find_place(data.areas, "E0102517")
    assert e.value.suggestions and all(s.startswith("E010251") for s in e.value.suggestions)
    with pytest.raises(UnknownPlace) as e:
        find_place(data.areas, "Atlantis")
    assert e.value.suggestions == []


def test_funding_text_never_says_zero_for_unknown_or_later_money():
    assert funding_text(True, 50000.0, False) == "£50,000"
    assert funding_text(True, 9289.0, True) == "£9,289 (estimate)"
    assert funding_text(True, 0.0, False) == "£0"  # recorded as nothing: that is £0
    assert funding_text(False, float("nan"), False) == "not recorded"
    assert funding_text(False, float("nan"), False, pd.Timestamp("2014-04-01"), 1_216_000.0) == \
        "£1,216,000 a year from April 2014"
    assert funding_text(False, float("nan"), False, pd.Timestamp("2014-05-15"), 100.0) == \
        "£100 a year from 15 May 2014"


def test_upcoming_funding_adds_the_lines_that_count_at_the_first_later_start():
    lines = pd.DataFrame({
        "service_id": [1, 1, 1, 2, 3],
        "annual_amount": [1_000_000.0, 216_000.0, 5.0, 7.0, None],
        "start_date": pd.to_datetime(["2014-04-01", "2014-04-01", "2016-04-01", "2013-04-01", "2015-04-01"]),
        "end_date": pd.to_datetime(["2017-03-31", "2015-03-31", "2017-03-31", "2014-03-31", "2016-03-31"]),
    })
    later = upcoming_funding(lines, dt.date(2014, 1, 27))
    assert later.index.tolist() == [1]  # 2 is current (not later); 3 has no amount (unknown is not £0)
    assert later.loc[1, "funding_from"] == pd.Timestamp("2014-04-01")
    assert later.loc[1, "funding_from_amount"] == 1_216_000.0  # not the 2016 line
    assert upcoming_funding(lines, dt.date(2030, 1, 1)).empty


def test_the_demo_early_action_response_service(directory):
    _, frame, _ = directory
    ear = frame.set_index("key").loc["early-action-response-service"]
    assert not ear["funding_recorded"] and pd.isna(ear["annual_funding"])  # not money at the date...
    assert ear["funding_text"] == "£1,216,000 a year from April 2014"  # ...but not £0 nor unknown either


def _found(rows: int, current: int, unrecorded: int, money: float) -> DirectoryResults:
    return DirectoryResults(rows=pd.DataFrame(index=range(rows)), of=56, current=current, current_funding=money,
                            unrecorded=unrecorded, districts=pd.DataFrame())


def test_results_summary_never_totals_unknown_as_zero():
    day = dt.date(2014, 1, 27)
    assert results_summary(_found(5, 2, 2, 0.0), day) == \
        "**5 of 56 services**; 2 of them current at 27 January 2014, their annual funding not recorded."
    assert results_summary(_found(5, 3, 1, 1500.0), day).endswith(
        "with recorded annual funding £1,500 (the funding of 1 of them is not recorded).")
    assert results_summary(_found(5, 3, 0, 1500.0), day).endswith("with annual funding £1,500.")
    assert results_summary(_found(4, 0, 0, 0.0), day) == "**4 of 56 services**; 0 of them current at 27 January 2014."


def test_cards_say_each_field_or_none(directory):
    data, frame, db = directory
    rows = directory_results(data, frame, DirectoryFilter(keyword="AVERT women")).rows
    (card,) = service_cards(rows, target_group_names(db))
    assert (card.name, card.provider) == ("AVERT – women's diversion project", "Lancashire Women's Centre")
    assert card.for_whom and "Women" in card.for_whom and card.where
    assert service_cards(frame, {}, limit=5) == service_cards(frame.head(5), {})


def test_same_everywhere():
    assert same_everywhere(pd.DataFrame({"v": [3, 3, 3]}), "v") == 3.0
    assert same_everywhere(pd.DataFrame({"v": [3, 4]}), "v") is None
    assert same_everywhere(pd.DataFrame({"v": [3, None]}), "v") is None  # a missing area is not the same value
    assert same_everywhere(pd.DataFrame({"v": []}), "v") is None


@pytest.mark.parametrize(("lo", "hi", "ticks"), [
    (3, 4, ["3", "4"]), (0, 6, ["0", "1", "2", "3", "4", "5", "6"]), (2, 7, ["2", "3", "4", "5", "6", "7"]),
    (11, 25, ["11–13", "14–16", "17–19", "20–22", "23–25"]), (1, 9, ["1–2", "3–4", "5–6", "7–8", "9"]),
])
def test_counts_are_coloured_in_whole_number_steps(lo, hi, ticks):
    scale, bar, colours, width = _count_scale("Blues", lo, hi)
    assert bar["ticktext"] == ticks and len(colours) == len(ticks) and len(scale) == 2 * len(ticks)


def test_a_count_map_hovers_whole_numbers():
    frame = pd.DataFrame({"code": ["E07000117", "E07000122"], "name": ["Burnley", "Pendle"], "n": [3, 4]})
    fig = choropleth(frame, level="district", value="n", title="t", unit="services", integer=True)
    hovers = sorted(t.text for t in fig.data if t.text)
    assert hovers == ["Burnley: 3 services", "Pendle: 4 services"]
    bar = fig.data[-1].marker.colorbar
    assert list(bar.ticktext) == ["3", "4"]


def test_funding_parts_put_the_figure_first():
    assert funding_parts(True, 9289.0, True) == ("£9,289", "estimate")
    assert funding_parts(False, float("nan"), False) == ("not recorded", "")
    assert funding_parts(False, float("nan"), True, pd.Timestamp("2015-04-01"), 450000.0) == \
        ("£450,000", "a year from April 2015, estimate")


def test_the_force_and_its_divisions_are_places_too(directory):
    """"Lancashire" is the force: every service covering any part of it, not "no such place"."""
    data, frame, _ = directory
    force = data.areas.loc[data.areas["level"] == "force"].iloc[0]
    place = find_place(data.areas, force["name"].lower())
    assert (place.code, place.level, place.described) == (force["code"], "force", f"{force['name']} (force area)")
    covering = directory_results(data, frame, DirectoryFilter(covers=place.code)).rows
    assert len(covering) == int(frame["coverage_codes"].map(bool).sum())
