"""Issue 14: imports accept what people type. A theme, area or organisation given by its name (any case, "&" or
"and") is stored as its key or GSS code; an unknown value is refused with file, row, column, the value and "did you
mean"; a name that fits two records is refused with both listed; the templates carry the valid values."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select

from services_db import queries
from services_db.models import Allocation, FundingLine, Organisation, Service
from services_db.permissions import Actor
from services_db.references import AreaLookup, Lookup
from services_db.transfer.import_templates import VALID_VALUES_SHEET, template_files
from services_db.transfer.imports import apply_plan, plan_import
from services_db.validation import ImportRefused

ADMIN = Actor("test-admin", "admin")
SERVICE = {"service_key": "typed-svc", "name": "Typed service", "provider_key": "lancashire-care-ft",
           "themes": "mental-health", "coverage": "E07000117", "status": "active", "source": "typed.csv"}


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def _stored(db, key: str) -> tuple[str | None, list[str], list[str]]:
    with db.sessions() as s:
        svc = s.scalar(select(Service).where(Service.key == key))
        return (svc.provider.key if svc.provider else None, sorted(t.key for t in svc.themes),
                sorted(c.area_code for c in svc.coverage))


ACCEPTED = [
    ("themes", "Mental health", ("themes", ["mental-health"])),
    ("themes", "MENTAL HEALTH", ("themes", ["mental-health"])),
    ("themes", "  mental   health ", ("themes", ["mental-health"])),
    ("themes", "Drugs & alcohol; victims", ("themes", ["drugs-alcohol", "victims"])),
    ("themes", "drugs and ALCOHOL", ("themes", ["drugs-alcohol"])),
    ("coverage", "Burnley", ("coverage", ["E07000117"])),
    ("coverage", "burnley", ("coverage", ["E07000117"])),
    ("coverage", "e07000117", ("coverage", ["E07000117"])),
    ("coverage", "Burnley and Pendle", ("coverage", ["PBA08"])),
    ("coverage", "burnley & pendle; Preston", ("coverage", ["PBA04", "PBA08"])),  # Preston: the area, as resolve
    ("coverage", "Lancashire", ("coverage", ["E23000003"])),
    ("provider_key", "Lancashire Care Foundation Trust", ("provider", "lancashire-care-ft")),
    ("provider_key", "lancashire care foundation trust", ("provider", "lancashire-care-ft")),
    ("provider_key", "Lancashire Care NHS Foundation Trust", ("provider", "lancashire-care-ft")),
    ("provider_key", "The Prince's Trust", ("provider", "princes-trust")),
    ("provider_key", "princes trust", ("provider", "princes-trust")),
]


@pytest.mark.parametrize("column,typed,want", ACCEPTED, ids=[f"{a[0]}:{a[1]}" for a in ACCEPTED])
def test_a_name_as_people_type_it_is_stored_as_its_key(fresh_demo_db, column, typed, want):
    db = fresh_demo_db
    plan = plan_import(db, "services", [("typed.csv", _csv([SERVICE | {column: typed}]))])
    assert [str(e) for e in plan.refused] == [] and plan.added == {"service": 1}
    apply_plan(db, plan, ADMIN)
    provider, themes, coverage = _stored(db, "typed-svc")
    got = {"provider": provider, "themes": themes, "coverage": coverage}
    assert got[want[0]] == want[1]


def test_names_in_funding_lines_and_allocations(fresh_demo_db):
    db = fresh_demo_db
    lines = [{"service_key": "Avert – women's diversion project", "commissioner_key": "Office of the Police and "
              "Crime Commissioner for Lancashire", "fund_key": "", "annual_amount": "1000"}]
    allocs = [{"allocation_key": "typed-alloc", "fund_key": "csg-2013-14", "recipient_key": "Burnley Borough Council",
               "area_codes": "Burnley; Pendle", "amount": "500"}]
    plan = plan_import(db, "services", [("lines.csv", _csv(lines)), ("allocs.csv", _csv(allocs))])
    assert [str(e) for e in plan.refused] == []
    apply_plan(db, plan, ADMIN)
    with db.sessions() as s:
        alloc = s.scalar(select(Allocation).where(Allocation.key == "typed-alloc"))
        assert (alloc.recipient.key, sorted(a.code for a in alloc.areas)) == ("burnley-council",
                                                                              ["E07000117", "E07000122"])
        line = s.scalar(select(FundingLine).join(Service).where(Service.key == "avert-womens-diversion"))
        assert line.commissioner.key == "opcc-lancashire"


REFUSED = [
    ("themes", "Mental helth",
     "typed.csv, row 2, column 'themes': unknown theme 'Mental helth'; did you mean Mental health (mental-health)?"),
    ("coverage", "Burnly",
     "typed.csv, row 2, column 'coverage': unknown area 'Burnly'; did you mean Burnley (E07000117)?"),
    ("provider_key", "Lancashire Care Trust",
     "typed.csv, row 2, column 'provider_key': unknown organisation 'Lancashire Care Trust'; did you mean "
     "Lancashire Care Foundation Trust (lancashire-care-ft), Lancashire Fire and Rescue Service "
     "(lancashire-fire-rescue) or Lancashire Drug and Alcohol Action Team (DAAT) (lancashire-daat)?"),
    ("themes", "knitting", "typed.csv, row 2, column 'themes': unknown theme 'knitting'"),
]


@pytest.mark.parametrize("column,typed,message", REFUSED, ids=[r[1] for r in REFUSED])
def test_an_unknown_value_names_file_row_column_and_what_was_meant(fresh_demo_db, column, typed, message):
    db = fresh_demo_db
    before = queries.table_counts(db)
    plan = plan_import(db, "services", [("typed.csv", _csv([SERVICE | {column: typed}]))])
    assert [str(e) for e in plan.refused] == [message]
    with pytest.raises(ImportRefused):
        apply_plan(db, plan, ADMIN)
    assert queries.table_counts(db) == before


def test_a_name_that_fits_two_organisations_is_refused_with_both(fresh_demo_db):
    db = fresh_demo_db
    orgs = [{"org_key": "lancs-care-nhs", "name": "Lancashire Care NHS Foundation Trust", "sector": "health"}]
    apply_plan(db, plan_import(db, "services", [("orgs.csv", _csv(orgs))]), ADMIN)
    # each exact name still finds its own organisation
    ok = plan_import(db, "services", [("typed.csv", _csv([SERVICE | {"provider_key": "Lancashire Care NHS "
                                                                                      "Foundation Trust"}]))])
    assert ok.refused == []
    before = queries.table_counts(db)
    plan = plan_import(db, "services", [("typed.csv", _csv([SERVICE | {"provider_key": "Lancashire Care "
                                                                                        "Foundation Trust."}]))])
    assert [str(e) for e in plan.refused] == [
        "typed.csv, row 2, column 'provider_key': 'Lancashire Care Foundation Trust.' could be any of 2 "
        "organisations: Lancashire Care Foundation Trust (lancashire-care-ft); Lancashire Care NHS Foundation "
        "Trust (lancs-care-nhs). Give the key of the one you mean"]
    with pytest.raises(ImportRefused):
        apply_plan(db, plan, ADMIN)
    assert queries.table_counts(db) == before


def _tree() -> AreaLookup:
    rows = [("F", "Shire", "force", None, 3.0), ("A1", "North", "area", "F", 2.0), ("A2", "South", "area", "F", 1.0),
            ("D1", "Newtown", "district", "A1", 1.0), ("D2", "Oldtown", "district", "A1", 1.0),
            ("D3", "Newtown", "district", "A2", 1.0), ("L1", "Newtown 001A", "lsoa", "D1", 1.0),
            ("L2", "Oldtown 001A", "lsoa", "D2", 1.0), ("L3", "Newtown 001B", "lsoa", "D3", 1.0),
            ("A3", "Seaside", "area", "F", 1.0), ("D4", "Seaside", "district", "A3", 1.0),
            ("L4", "Seaside 001A", "lsoa", "D4", 1.0)]
    return AreaLookup.from_rows(rows)


def test_area_names_ambiguous_or_one_place():
    areas = _tree()
    assert areas.find("newtown") == (None, "'newtown' could be any of 2 areas: Newtown (district D1); Newtown "
                                           "(district D3). Give the GSS code of the one you mean")
    assert areas.find("SEASIDE") == ("A3", None)  # an area and its one district: the same place, the area
    assert areas.find("d2") == ("D2", None) and areas.find("Oldtown") == ("D2", None)
    assert areas.find("Oldtwn") == (None, "unknown area 'Oldtwn'; did you mean Oldtown (D2)?")


def test_lookup_ambiguous_label_lists_candidates():
    themes = Lookup("theme", {"a": "Same name", "b": "Same  NAME"})
    assert themes.find("same name") == (None, "'same name' could be any of 2 themes: Same name (a); Same  NAME "
                                              "(b). Give the key of the one you mean")
    assert themes.find("a") == ("a", None)


def _sheet(data: bytes, name: str) -> pd.DataFrame:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    rows = list(book[name].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0]).fillna("")


def test_templates_carry_the_valid_values(fresh_demo_db):
    db = fresh_demo_db
    with db.session() as s:  # a name that would run as a formula must reach the list inert
        s.add(Organisation(key="formula-org", name="=HYPERLINK(\"http://x\")", sector="VCFS", source="test"))
    files = template_files(db)
    book = openpyxl.load_workbook(io.BytesIO(files["services-template.xlsx"]), read_only=True)
    assert book.sheetnames == ["organisations", "services", "funding_lines", "allocations", VALID_VALUES_SHEET]
    valid = _sheet(files["services-template.xlsx"], VALID_VALUES_SHEET)
    data = queries.review_data(db)
    pairs = set(zip(valid["value"], valid["name"], strict=True))
    for key, name in zip(data.themes["theme_key"], data.themes["name"], strict=True):
        assert (key, name) in pairs
    non_lsoa = data.areas[data.areas["level"] != "lsoa"]
    assert len(non_lsoa) == 1 + 3 + 9 + 14
    for code, name in zip(non_lsoa["code"], non_lsoa["name"], strict=True):
        assert (code, name) in pairs
    assert ("lancashire-care-ft", "Lancashire Care Foundation Trust") in pairs
    assert {"primary", "secondary", "tertiary", "VCFS", "statutory", "active", "withdrawn"} <= set(valid["value"])
    assert ("formula-org", "'=HYPERLINK(\"http://x\")") in pairs  # shown as text, never run
    csv_values = pd.read_csv(io.BytesIO(files["services-valid-values.csv"]), dtype=str, encoding="utf-8-sig")
    assert ("E07000117", "Burnley") in set(zip(csv_values["value"], csv_values["name"], strict=True))
    # the workbook sent back, list and all, imports: the list is skipped with a note, not refused
    plan = plan_import(db, "services", [("services-template.xlsx", files["services-template.xlsx"])])
    assert plan.refused == [] and plan.added == {} and any("valid values" in n for n in plan.notes)
