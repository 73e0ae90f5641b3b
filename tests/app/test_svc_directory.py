"""services_db.directory and services_db.transfer.spreadsheet: search, filters, coverage and safe exports."""

import datetime as dt
import io
import math

import openpyxl
import pandas as pd

from services_db.directory import (
    DirectoryFilter,
    directory_frame,
    export_frame,
    find_service,
    search,
    service_extras,
)
from services_db.queries import default_as_at, review_data
from services_db.review import service_funding
from services_db.transfer.spreadsheet import neutralise, to_csv_bytes, to_excel_bytes


def _frame(db):
    data = review_data(db)
    return data, directory_frame(data, service_extras(db), default_as_at(db))


def test_one_row_per_service_with_the_reviews_funding(demo_db):
    data, frame = _frame(demo_db)
    assert len(frame) == len(data.services)
    funding = service_funding(data, default_as_at(demo_db)).set_index("service_id")["annual_funding"]
    for row in frame.itertuples():
        if row.funding_recorded:
            assert row.annual_funding == funding[row.service_id]
        else:  # no current funding line: unknown, never £0
            assert math.isnan(row.annual_funding)


def test_a_service_with_no_recorded_funding_is_not_recorded_not_zero(demo_db):
    """Issue 11, problem 3: the directory said "annual funding £0" for services whose funding is not recorded."""
    data, frame = _frame(demo_db)
    teams = frame.set_index("key").loc["early-action-teams"]  # the seed gives no amount: no funding line
    assert not teams["funding_recorded"] and math.isnan(teams["annual_funding"])
    paid = frame.set_index("key").loc["preston-chorley-street-pastors"]
    assert paid["funding_recorded"] and paid["annual_funding"] > 0
    out = export_frame(frame).set_index("Key")
    assert not out.loc["early-action-teams", "Funding recorded"]
    assert math.isnan(out.loc["early-action-teams", "Annual funding (£)"])
    # A funding line that has ended by the date leaves the funding unknown at that date, not £0.
    later = directory_frame(data, service_extras(demo_db), dt.date(2030, 1, 1)).set_index("key")
    assert not later["funding_recorded"].any() and later["annual_funding"].isna().all()


def test_keyword_needs_every_word(demo_db):
    _, frame = _frame(demo_db)
    hits = search(frame, DirectoryFilter(keyword="DOMESTIC abuse"))
    assert len(hits) > 0
    assert all("domestic" in t and "abuse" in t for t in (hits["name"] + " " + hits["description"]).str.lower())


def test_covers_a_district_includes_county_wide_services(demo_db):
    data, frame = _frame(demo_db)
    pendle = search(frame, DirectoryFilter(covers="E07000122"), data.areas)
    names = set(pendle["name"])
    assert "Mediation Services (Pendle)" in names
    assert "AVERT – women's diversion project" in names  # covers the whole force
    assert "Blackpool CCTV hub" not in names
    lsoa = search(frame, DirectoryFilter(covers="E01025174"), data.areas)  # Pendle 008A
    assert set(lsoa["name"]) == names


def test_funding_ends_before_and_other_filters(demo_db):
    data, frame = _frame(demo_db)
    ends = search(frame, DirectoryFilter(funding_ends_before=dt.date(2014, 4, 1)))
    assert len(ends) > 0 and (ends["funding_ends"] < pd.Timestamp("2014-04-01")).all()
    vcfs = search(frame, DirectoryFilter(sectors=["VCFS"], tiers=["secondary"]))
    assert set(vcfs["provider_sector"]) <= {"VCFS"} and set(vcfs["tier"]) <= {"secondary"}
    opcc = "Office of the Police and Crime Commissioner for Lancashire"
    assert all(opcc in t for t in search(frame, DirectoryFilter(commissioners=[opcc]))["commissioner_list"])


def test_find_service_by_key_or_id(demo_db):
    _, frame = _frame(demo_db)
    row = find_service(frame, "avert-womens-diversion")
    assert row is not None and find_service(frame, str(row["service_id"]))["key"] == "avert-womens-diversion"
    assert find_service(frame, "nope") is None and find_service(frame, "") is None


def test_exports_neutralise_formulas():
    frame = pd.DataFrame({"Service": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "Safe"], "£": [1, 2, 3, 4, 5]})
    text = to_csv_bytes(frame).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1" in text and "'-2" in text and "'@SUM" in text
    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame)))
    cells = [c.value for c in book.active["A"]][1:]
    assert cells == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "Safe"]
    assert [c.data_type for c in book.active["A"]][1:] == ["s"] * 5
    assert neutralise(-5) == -5


def test_export_frame_has_readable_columns(demo_db):
    _, frame = _frame(demo_db)
    out = export_frame(frame)
    assert list(out.columns)[:3] == ["Key", "Service", "Provider"]
    assert "lsoas" not in out.columns


def test_each_row_says_what_the_service_is_at_the_date(demo_db):
    """services_db.counting's states, per row: planned stays planned, a service first reported in 2016 with no
    start date is not yet current in January 2014, and the 2013-14 services have ended by July 2016."""
    from services_db.counting import CURRENT, ENDED, NOT_STARTED, PLANNED

    data = review_data(demo_db)
    extras = service_extras(demo_db)
    early = directory_frame(data, extras, dt.date(2014, 1, 27)).set_index("name")
    late = directory_frame(data, extras, dt.date(2016, 7, 21)).set_index("name")
    assert early.loc["Early Action Response service", "state"] == PLANNED
    assert early.loc["Vulnerable Caller project", "state"] == NOT_STARTED  # starts 1 April 2015
    assert early.loc["YOT Triage Scheme", "state"] == CURRENT and late.loc["YOT Triage Scheme", "state"] == ENDED
    assert (early["is_current"] == (early["state"] == CURRENT)).all()
    genga = "Genga virtual enforcement hubs (organised crime, Pursue)"
    if pd.notna(data.services.set_index("name").loc[genga, "known_from"]):  # first reported in 2016
        assert early.loc[genga, "state"] == NOT_STARTED and late.loc[genga, "state"] == CURRENT
    assert search(early.reset_index(), DirectoryFilter(states=[PLANNED]))["state"].eq(PLANNED).all()
