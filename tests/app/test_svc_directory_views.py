"""services_db.directory's views for the directory page: the list's totals and the detail of one service."""

import pytest

from services_db.counting import CURRENT
from services_db.directory import (
    CONFIDENTIAL,
    FUNDING_NOT_RECORDED,
    DirectoryFilter,
    covers_choices,
    current_totals,
    directory_choices,
    directory_frame,
    directory_results,
    funding_note,
    recorded,
    search,
    service_detail,
    service_extras,
)
from services_db.queries import default_as_at, review_data, target_group_names


@pytest.fixture
def directory(demo_db):
    data = review_data(demo_db)
    return data, directory_frame(data, service_extras(demo_db), default_as_at(demo_db))


def test_results_count_current_services_and_name_unrecorded_funding(directory):
    """At 27 January 2014, 44 of the 56 services are current; nine of them have no funding recorded, so the £1.81m
    total leaves them out and says so."""
    data, frame = directory
    found = directory_results(data, frame, DirectoryFilter(states=[CURRENT]))
    assert (len(found.rows), found.of, found.current, found.unrecorded) == (44, 56, 44, 9)
    assert found.current_funding == 1_810_221
    assert (found.current, found.current_funding) == current_totals(search(frame, DirectoryFilter(states=[CURRENT])))
    notes = found.rows.set_index("key")["funding_note"]
    assert notes["early-action-teams"] == FUNDING_NOT_RECORDED
    assert (notes == FUNDING_NOT_RECORDED).sum() == 9 and set(notes) <= {"", "estimate", FUNDING_NOT_RECORDED}
    districts = found.districts.set_index("name")
    assert len(districts) == 14 and list(found.districts.columns) == ["code", "services", "name"]
    assert (districts["services"] > 0).all() and districts["services"].max() <= 44


def test_no_match_has_no_totals_and_an_empty_map(directory):
    data, frame = directory
    found = directory_results(data, frame, DirectoryFilter(keyword="zzzz no such service"))
    assert found.rows.empty and (found.current, found.current_funding, found.unrecorded) == (0, 0.0, 0)
    assert len(found.districts) == 14 and (found.districts["services"] == 0).all()


def test_funding_note_and_recorded():
    assert funding_note(False, True) == FUNDING_NOT_RECORDED == "not recorded"
    assert (funding_note(True, True), funding_note(True, False)) == ("estimate", "")
    assert [recorded(v) for v in (None, float("nan"), "  ", "")] == [None] * 4
    assert (recorded("x"), recorded(0), recorded(())) == ("x", 0, ())


def test_detail_of_a_service_not_yet_started(demo_db, directory):
    """AVERT starts in June 2015: on 27 January 2014 it has no current funding line (not recorded, never £0), its
    end date is an estimate, and it is open to the whole force."""
    data, frame = directory
    d = service_detail(data, frame, "avert-womens-diversion", target_group_names(demo_db))
    assert (d.name, d.provider, d.provider_sector, d.tier) == (
        "AVERT – women's diversion project", "Lancashire Women's Centre", "VCFS", "secondary")
    assert d.annual_funding is None and d.end_date_is_estimate
    assert str(d.start_date.date()) == "2015-06-01" and str(d.end_date.date()) == "2017-03-31"
    assert d.facts["state"] == "not yet started" and d.facts["target_groups"] == "Offenders; Women"
    assert d.facts["contact"] is None and d.facts["last_reviewed"] is None  # not recorded: None, never "" or NaN
    assert list(d.facts)[:3] == ["status", "state", "themes"]
    assert len(d.funding_lines) == 2 and d.funding_lines["annual_amount"].sum() == 187_143 + 185_684
    assert len(d.priorities) == 2
    assert len(d.districts) == 14 and (d.districts["services"] == 1).all()
    assert service_detail(data, frame, str(d.service_id), {}).key == "avert-womens-diversion"


def test_detail_never_shows_a_confidential_address(directory):
    data, frame = directory
    assert service_detail(data, frame, "sahara-preston-bme-domestic-abuse", {}).facts["address"] == CONFIDENTIAL
    teams = service_detail(data, frame, "early-action-teams", {})
    assert teams.annual_funding is None and teams.facts["address"] != CONFIDENTIAL
    assert service_detail(data, frame, "no-such-key", {}) is None


def test_filter_choices_come_from_the_rows(directory):
    data, frame = directory
    choices = directory_choices(frame)
    assert choices.sectors == ["VCFS", "health", "statutory"]
    assert len(choices.commissioners) == 10 and len(choices.providers) == 30
    assert "Office of the Police and Crime Commissioner for Lancashire" in choices.commissioners
    districts = covers_choices(data.areas, "district")
    assert len(districts) == 14 and list(districts.values())[:2] == ["Blackburn with Darwen", "Blackpool"]
    lsoas = list(covers_choices(data.areas, "lsoa").values())
    assert len(lsoas) == int((data.areas["level"] == "lsoa").sum()) and lsoas == sorted(lsoas)
