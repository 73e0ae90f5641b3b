"""Each import format: a good file, each kind of bad row (exact message, nothing written), files that lie."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services_db import queries
from services_db.models import Area, NeedValue, Service
from services_db.permissions import Actor, PermissionDenied
from services_db.transfer.files import MAX_BYTES, FileProblem
from services_db.transfer.imports import apply_plan, plan_import
from services_db.validation import ImportRefused

FIX = Path(__file__).resolve().parent.parent / "fixtures"
ADMIN = Actor("test-admin", "admin")
COMMISSIONER = Actor("test-commissioner", "commissioner")
HEADER = ("service_key,name,description,provider_key,themes,target_groups,tier,status,start_date,end_date,"
          "coverage,confidential_location,source")
GOOD = ("new-refuge,Burnley refuge,Safe housing,{org},domestic-abuse,women,tertiary,active,2014-04-01,2015-03-31,"
        "E07000117,true,partner spreadsheet")


def _org(db) -> str:
    from services_db.models import Organisation
    with db.sessions() as s:
        return s.scalars(select(Organisation.key).order_by(Organisation.key)).first()


def _counts(db) -> dict:
    return queries.table_counts(db)


def _refused(db, kind: str, name: str, content: str | bytes) -> list[str]:
    """What the preview of importing one file refuses, as the messages people read."""
    data = content.encode() if isinstance(content, str) else content
    return [str(e) for e in plan_import(db, kind, [(name, data)]).refused]


def test_services_csv_adds_then_reimport_changes_nothing(fresh_demo_db):
    db = fresh_demo_db
    data = (HEADER + "\n" + GOOD.format(org=_org(db)) + "\n").encode()
    plan = plan_import(db, "services", [("partner.csv", data)])
    assert plan.added == {"service": 1} and plan.changed == {} and plan.refused == []
    apply_plan(db, plan, COMMISSIONER)
    with db.sessions() as s:
        svc = s.scalar(select(Service).where(Service.key == "new-refuge"))
        assert (svc.name, svc.confidential_location, [c.area_code for c in svc.coverage]) == (
            "Burnley refuge", True, ["E07000117"])
        assert [t.key for t in svc.themes] == ["domestic-abuse"] and svc.updated_by == "test-commissioner"
    again = plan_import(db, "services", [("partner.csv", data)])
    assert again.added == {} and again.changed == {}


BAD = [
    ("coverage", "E07999999", "partner.csv, row 2, column 'coverage': unknown area 'E07999999'"),
    ("start_date", "31/03/2014", "partner.csv, row 2, column 'start_date': '31/03/2014' is not a date (use YYYY-MM-DD)"),
    ("end_date", "2001-01-01", "partner.csv, row 2, column 'end_date': ends (2001-01-01) before it starts (2014-04-01)"),
    ("themes", "knitting", "partner.csv, row 2, column 'themes': unknown theme 'knitting'"),
    ("name", "", "partner.csv, row 2, column 'name': is required but empty"),
]


@pytest.mark.parametrize("column,value,message", BAD, ids=[b[0] for b in BAD])
def test_bad_service_row_is_refused_and_nothing_written(fresh_demo_db, column, value, message):
    db = fresh_demo_db
    rows = list(csv.DictReader(io.StringIO(HEADER + "\n" + GOOD.format(org=_org(db)))))
    rows[0][column] = value
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HEADER.split(","))
    w.writeheader()
    w.writerows(rows)
    before = _counts(db)
    plan = plan_import(db, "services", [("partner.csv", buf.getvalue().encode())])
    assert [str(e) for e in plan.refused] == [message]
    with pytest.raises(ImportRefused):
        apply_plan(db, plan, ADMIN)
    assert _counts(db) == before


def test_duplicate_key_and_wrong_header(fresh_demo_db):
    db = fresh_demo_db
    line = GOOD.format(org=_org(db))
    assert _refused(db, "services", "p.csv", f"{HEADER}\n{line}\n{line}\n") == [
        "p.csv, row 3, column 'service_key': duplicate identifier 'new-refuge' (first on row 2)"]
    assert _refused(db, "services", "p.csv", "service_key,title\nx,y\n") == [
        "p.csv, row 1: wrong header: missing column(s) name, provider_key, themes, coverage; unknown column(s) title"]


def test_negative_and_non_numeric_allocation_amounts(fresh_demo_db):
    db = fresh_demo_db
    text = ("allocation_key,fund_key,amount\n"
            "a1,csg-2013-14,-5\n"
            "a2,csg-2013-14,lots\n")
    assert _refused(db, "services", "alloc.csv", text) == [
        "alloc.csv, row 2, column 'amount': amount -5 is negative",
        "alloc.csv, row 3, column 'amount': 'lots' is not a number"]


def test_xlsx_template_round_trip(fresh_demo_db):
    import pandas as pd

    from services_db.transfer.spreadsheet import to_excel_bytes
    db = fresh_demo_db
    frame = pd.read_csv(io.StringIO(HEADER + "\n" + GOOD.format(org=_org(db))), dtype=str)
    plan = plan_import(db, "services", [("partner.xlsx", to_excel_bytes({"services": frame}))])
    assert plan.refused == [] and plan.added == {"service": 1}


@pytest.mark.parametrize("name,data,message", [
    ("report.csv", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "report.csv: this is a PDF document, not a CSV file or Excel (.xlsx) workbook"),
    ("empty.csv", b"", "empty.csv: the file is empty"),
    ("latin1.csv", "service_key,name\ncaf\xe9,x\n".encode("latin-1"),
     "latin1.csv: the file is not UTF-8 text (byte 0xe9 on line 2); save it as 'CSV UTF-8' and try again"),
])
def test_files_that_are_not_what_they_claim(demo_db, name, data, message):
    with pytest.raises(FileProblem) as err:
        plan_import(demo_db, "services", [(name, data)])
    assert str(err.value) == message


def test_oversized_file_is_refused_before_reading(demo_db, tmp_path):
    from services_db.transfer.files import read_bytes
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(MAX_BYTES + 1)
    with pytest.raises(FileProblem, match=r"big.csv: the file is 210 MB; the limit is 200 MB"):
        read_bytes(big)


def test_police_uk_counts_per_lsoa_month_and_type(fresh_demo_db):
    db = fresh_demo_db
    path = FIX / "police_uk_2024-01_lancashire_street.csv"
    plan = plan_import(db, "police-uk", [(path.name, path.read_bytes())])
    assert plan.refused == []
    assert plan.skipped == {"no location (empty LSOA code)": 1, "outside this force area": 1}
    assert plan.added == {"need_indicator": 3, "need_value": 3}
    apply_plan(db, plan, ADMIN)
    with db.sessions() as s:
        got = dict(s.execute(select(NeedValue.indicator_key, NeedValue.value).where(
            NeedValue.area_code == "E01024859", NeedValue.period == "2024-01")).all())
    assert got == {"policeuk-anti-social-behaviour": 1.0, "policeuk-violence-sexual-offences": 2.0}


def test_police_uk_bad_rows(demo_db):
    text = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
            "Last outcome category,Context\n"
            ",Jan 2024,L,L,,,x,E01024859,Burnley 001A,Burglary,,\n"
            ",2024-01,L,L,,,x,E01999999,Burnley 099Z,Burglary,,\n"
            ",2024-01,L,L,,,x,E01024859,Burnley 001A,Knitting,,\n")
    assert _refused(demo_db, "police-uk", "crime.csv", text) == [
        "crime.csv, row 2, column 'Month': 'Jan 2024' is not a month (use YYYY-MM)",
        "crime.csv, row 3, column 'LSOA code': unknown LSOA code 'E01999999'",
        "crime.csv, row 4, column 'Crime type': unknown crime type 'Knitting' (no theme is mapped to it in "
        "data/reference/police_uk_crime_types.csv)"]


def test_imd_sets_real_population(fresh_demo_db):
    db = fresh_demo_db
    path = FIX / "imd2019_file7_sample.csv"
    plan = plan_import(db, "imd", [(path.name, path.read_bytes())])
    assert plan.refused == [] and plan.skipped == {"outside this force area": 1}
    assert plan.added["need_value"] == 3 * 5
    apply_plan(db, plan, ADMIN)
    with db.sessions() as s:
        lsoa = s.get(Area, "E01024859")
        burnley = s.get(Area, "E07000117")
        assert (lsoa.population, lsoa.population_is_estimate) == (1630.0, False)
        assert burnley.population_is_estimate is True  # most Burnley LSOAs still carry the rule's estimate
        score = s.scalar(select(NeedValue.value).where(NeedValue.indicator_key == "imd-2019-score",
                                                       NeedValue.area_code == "E01024861"))
    assert score == 38.702


def test_generic_indicators_good_and_bad(fresh_demo_db):
    db = fresh_demo_db
    path = FIX / "indicators_sample.csv"
    plan = plan_import(db, "indicators", [(path.name, path.read_bytes())])
    assert plan.refused == [] and plan.added == {"need_value": 2}
    bad = ("area_code,period,indicator,value\n"
           "E07999999,2013-14,police-incidents,1\n"
           "E07000117,March 2014,police-incidents,1\n"
           "E07000117,2013-14,police-incidents,many\n"
           "E07000117,2013-14,made-up,1\n")
    assert _refused(db, "indicators", "ind.csv", bad) == [
        "ind.csv, row 2, column 'area_code': unknown area code 'E07999999'",
        "ind.csv, row 3, column 'period': 'March 2014' is not a period (use 2013-14, 2013-10 or 2012-10/2013-09)",
        "ind.csv, row 4, column 'value': 'many' is not a number",
        "ind.csv, row 5, column 'indicator': unknown indicator 'made-up' (give indicator_name to create it)"]


@pytest.mark.parametrize("fixture", ["oruk_service.json", "oruk_services_page.json", "oruk_organization.json"])
def test_openreferral_import_keeps_what_has_no_column(fresh_demo_db, fixture):
    db = fresh_demo_db
    path = FIX / fixture
    plan = plan_import(db, "openreferral", [(path.name, path.read_bytes())])
    assert plan.refused == []
    apply_plan(db, plan, COMMISSIONER)
    with db.sessions() as s:
        svc = s.scalar(select(Service).where(Service.key == "oruk-3d0f5a6e-8b2c-4c1e-9f7a-2b1c0d9e8f70"))
        assert svc.name == "Burnley Women's Refuge Outreach"
        assert sorted(c.area_code for c in svc.coverage) == ["E07000117", "E07000122"]
        assert [t.key for t in svc.themes] == ["domestic-abuse"]
        assert svc.provider.org_identifier == "GB-CHC-1123456"
        kept = svc.extra["openreferral"]
        assert kept["schedules"][0]["byday"] == "MO,TU,WE,TH,FR"
        assert kept["service_areas_unmatched"][0]["name"] == "Craven"
        assert kept["taxonomy_terms"][0]["term"] == "floating-support"
        assert kept["funding"][0]["source"] == "Lancashire County Council"
        assert svc.address == "1 Example Street, Burnley, BB11 1AA"


def test_openreferral_bad_service(demo_db):
    doc = b'{"id": "x", "name": "", "status": "open", "service_areas": [{"id": "y", "extent": "E07999999"}]}'
    assert _refused(demo_db, "openreferral", "svc.json", doc) == [
        "svc.json, column 'name': is required but empty",
        "svc.json, column 'status': 'open' is not one of active, inactive, defunct, temporarily closed",
        "svc.json, column 'service_areas[0].extent': unknown area code 'E07999999'"]


def test_roles_for_imports(fresh_demo_db):
    db = fresh_demo_db
    data = (HEADER + "\n" + GOOD.format(org=_org(db)) + "\n").encode()
    plan = plan_import(db, "services", [("p.csv", data)])
    for role in ("viewer", "early_action"):
        with pytest.raises(PermissionDenied):
            apply_plan(db, plan, Actor("x", role))
    path = FIX / "indicators_sample.csv"
    ind = plan_import(db, "indicators", [(path.name, path.read_bytes())])
    for role in ("viewer", "early_action", "commissioner", "opcc"):
        with pytest.raises(PermissionDenied):
            apply_plan(db, ind, Actor("x", role))
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Service).where(Service.key == "new-refuge")) == 0
