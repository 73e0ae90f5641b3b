"""Exports validate against the shared schemas; confidential locations never leave; backups lose nothing."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from sqlalchemy import select, update

from services_db.models import Service
from services_db.permissions import Actor, PermissionDenied
from services_db.transfer import backup, giving, openreferral, schemas
from services_db.transfer.imports import apply_plan, plan_import
from services_db.transfer.spreadsheet import neutralise, to_csv_bytes, to_excel_bytes

ADMIN = Actor("test-admin", "admin")


def test_openreferral_export_is_valid_and_hides_confidential_locations(fresh_demo_db):
    db = fresh_demo_db
    with db.session() as s:
        keys = s.scalars(select(Service.key).order_by(Service.key).limit(2)).all()
        s.execute(update(Service).where(Service.key == keys[0]).values(
            confidential_location=True, address="1 Secret Road, Preston, PR1 1AA", latitude=53.76, longitude=-2.7))
        s.execute(update(Service).where(Service.key == keys[1]).values(
            address="2 Open Street, Preston, PR1 2BB", latitude=53.75, longitude=-2.69))
    doc = openreferral.export_services(db)
    assert doc["total_items"] == len(doc["contents"]) > 50
    for item in doc["contents"]:
        assert schemas.errors("openreferral-uk", "service.json", item) == [], item["name"]
    text = json.dumps(doc)
    assert "Secret Road" not in text and "53.76" not in text
    assert "2 Open Street" in text
    hidden = next(i for i in doc["contents"] if i["id"] == openreferral.uid("service", keys[0]))
    assert "service_at_locations" not in hidden and hidden["service_areas"]


def test_openreferral_round_trip_changes_nothing(fresh_demo_db):
    db = fresh_demo_db
    doc = openreferral.export_services(db)
    plan = plan_import(db, "openreferral", [("export.json", json.dumps(doc).encode())])
    assert plan.refused == [] and plan.added == {} and plan.changed == {}  # its own export: nothing to change


def test_360giving_json_and_spreadsheet_are_valid(demo_db):
    pkg = giving.package(demo_db)
    assert schemas.errors("360giving", "360-giving-package-schema.json", pkg) == []
    grants = pkg["grants"]
    total = sum(g["amountAwarded"] for g in grants if g["grantProgramme"][0]["code"] == "csg-2013-14")
    assert round(total, 2) == 1793938.00
    types = {loc["geoCodeType"] for g in grants for loc in g["beneficiaryLocation"]}
    assert {"LAD", "PFA"} <= types
    assert all(g["recipientOrganization"][0]["id"].startswith(("GB-", "360G-")) for g in grants)
    frame = pd.read_excel(io.BytesIO(to_excel_bytes(giving.flat_frame(grants), "grants")), dtype=str)
    again = {"grants": giving.unflatten(frame), "version": "1.4"}
    assert schemas.errors("360giving", "360-giving-package-schema.json", again) == []
    assert [g["id"] for g in again["grants"]] == [g["id"] for g in grants]


def test_360giving_round_trip(fresh_demo_db):
    pkg = giving.package(fresh_demo_db)
    plan = plan_import(fresh_demo_db, "360giving", [("g.json", json.dumps(pkg).encode())])
    assert plan.refused == [] and plan.added == {} and plan.changed == {}  # its own export: nothing to change


@pytest.mark.parametrize("value,expected", [("=1+2", "'=1+2"), ("+44 1772", "'+44 1772"), ("-cmd", "'-cmd"),
                                            ("@SUM(A1)", "'@SUM(A1)"), ("Preston", "Preston"), (-5, -5)])
def test_formulas_are_neutralised(value, expected):
    assert neutralise(value) == expected


def test_csv_and_excel_neutralise_cells():
    frame = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "ok"], "amount": [-5.0, 3.0]})
    assert to_csv_bytes(frame).decode("utf-8-sig").splitlines()[1].startswith("\"'=HYPERLINK")
    back = pd.read_excel(io.BytesIO(to_excel_bytes(frame)))
    assert back["name"].tolist() == ["'=HYPERLINK(\"http://x\")", "ok"] and back["amount"].tolist() == [-5.0, 3.0]


def test_backup_and_restore_round_trip_loses_nothing(fresh_demo_db, empty_db):
    original = backup.dump(fresh_demo_db)
    data = backup.backup_bytes(fresh_demo_db, ADMIN)
    plan = plan_import(empty_db, "backup", [("b.json.gz", data)])
    apply_plan(empty_db, plan, ADMIN)
    restored = backup.dump(empty_db)
    for name, rows in original["tables"].items():
        got = restored["tables"][name]
        if name == "audit_event":  # the restore itself is recorded, after everything that was restored
            assert got[:-1] == rows and got[-1]["action"] == "import"
        elif name == "setting":
            assert [r for r in got if r["key"] != "data_version"] == [r for r in rows if r["key"] != "data_version"]
        else:
            assert got == rows, name
    assert sum(len(r) for r in original["tables"].values()) > 2000


def test_backup_needs_admin_and_a_real_file(demo_db):
    for role in ("viewer", "early_action", "commissioner", "opcc"):
        with pytest.raises(PermissionDenied):
            backup.backup_bytes(demo_db, Actor("x", role))
    from services_db.transfer.files import FileProblem
    with pytest.raises(FileProblem, match="b.json.gz: not a backup made by this app"):
        plan_import(demo_db, "backup", [("b.json.gz", b"hello")])
