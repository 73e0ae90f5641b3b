"""Issue 13 point 4: one rule set per record. The same row loaded with the demo files, imported from a template and
saved through the edit form gives the same record, or the same refusal (services_db.records). One test per rule
the three paths used to disagree on."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import pytest

from services_db import editing
from services_db.db import open_database
from services_db.demo import DEMO_DIR, load_demo
from services_db.permissions import Actor
from services_db.transfer.imports import apply_plan, plan_import
from services_db.validation import ImportRefused

ADMIN = Actor("test-admin", "admin")
BASE = {"name": "Rule test service", "description": "", "provider_key": "lancashire-care-ft",
        "themes": "mental-health", "target_groups": "adults", "tier": "secondary", "status": "active",
        "start_date": "2014-04-01", "end_date": "2015-03-31", "coverage": "E07000117",
        "confidential_location": "false", "source": "rules.csv"}
# rule -> the service row that shows it (each path stores it under its own key)
RULES: dict[str, dict[str, str]] = {
    # status: the demo refused an empty cell, imports made it "active", the form refused it; now "active"
    "status-default": {"status": ""},
    # provider: the demo and imports refused an empty cell, the form allowed "(none)"; now optional everywhere
    "provider-optional": {"provider_key": ""},
    # coordinates: read and range-checked by imports only; the demo and the form dropped them
    "coordinates": {"address": "1 Market Street, Burnley", "latitude": "53.789", "longitude": "-2.243"},
    # confidential: imports and the form cleared the location, the demo never read it; now cleared everywhere
    "confidential": {"confidential_location": "true", "address": "1 Hidden Lane", "latitude": "53.7",
                     "longitude": "-2.2"},
    # last reviewed: read by imports and the form, dropped by the demo
    "last-reviewed": {"last_reviewed": "2015-06-01"},
    # choices typed in another case: refused everywhere before; the one value meant, everywhere now
    "choice-case": {"tier": "Tertiary", "status": "PLANNED"},
    # names instead of keys (issue 14), through every path
    "names": {"themes": "Mental health; Drugs & alcohol", "coverage": "Burnley; burnley & pendle",
              "provider_key": "Lancashire Care NHS Foundation Trust"},
}
EXTRA_COLUMNS = ["address", "latitude", "longitude", "last_reviewed"]
COMPARED_OUT = {"key", "id", "version", "source", "known_from", "updated_at", "updated_by", "extra"}


def _demo_copy(target: Path, services: dict[str, dict] | None = None, orgs: dict[str, dict] | None = None) -> Path:
    """The demo files with extra service and organisation rows (and the service columns the demo lacks)."""
    shutil.copytree(DEMO_DIR, target)
    for name, extra in (("services.csv", services or {}), ("organisations.csv", orgs or {})):
        path = target / name
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header, rows = list(reader.fieldnames), list(reader)
        key_col = "service_key" if name == "services.csv" else "org_key"
        if name == "services.csv":
            header += [c for c in EXTRA_COLUMNS if c not in header]
        rows += [{key_col: key, **row} for key, row in extra.items()]
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=header, restval="")
            w.writeheader()
            w.writerows({k: v for k, v in r.items() if k in header} for r in rows)
    return target


def _csv(rows: list[dict]) -> bytes:
    header = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, restval="")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def _record(db, kind: str, key: str) -> dict:
    return {k: v for k, v in editing.load(db, kind, key).items() if k not in COMPARED_OUT}


@pytest.fixture(scope="module")
def three_paths(tmp_path_factory) -> dict:
    """One database: the demo loaded with every rule's row (key '<rule>-demo'), then the same rows imported
    ('<rule>-import') and saved through the edit form ('<rule>-edit')."""
    tmp = tmp_path_factory.mktemp("rules")
    rows = {rule: BASE | change for rule, change in RULES.items()}
    orgs = {"sector-case-demo": {"name": "Sector case org", "sector": "vcfs", "source": "rules.csv"}}
    directory = _demo_copy(tmp / "demo", {f"{r}-demo": row for r, row in rows.items()}, orgs)
    db = open_database(f"sqlite:///{tmp / 'rules.db'}")
    load_demo(db, directory)
    files = [("orgs.csv", _csv([{"org_key": "sector-case-import", "name": "Sector case org", "sector": "vcfs"}])),
             ("services.csv", _csv([{"service_key": f"{r}-import", **row} for r, row in rows.items()]))]
    plan = plan_import(db, "services", files)
    assert [str(e) for e in plan.refused] == []
    apply_plan(db, plan, ADMIN)
    for rule, row in rows.items():
        editing.save(db, ADMIN, "service", {"key": f"{rule}-edit", **row})
    editing.save(db, ADMIN, "organisation", {"key": "sector-case-edit", "name": "Sector case org", "sector": "vcfs"})
    yield db
    db.dispose()


def _same_three(db, kind: str, stem: str) -> dict:
    got = {path: _record(db, kind, f"{stem}-{path}") for path in ("demo", "import", "edit")}
    assert got["demo"] == got["import"] == got["edit"], got
    return got["demo"]


def test_empty_status_is_active_everywhere(three_paths):
    assert _same_three(three_paths, "service", "status-default")["status"] == "active"


def test_empty_provider_is_allowed_everywhere(three_paths):
    assert _same_three(three_paths, "service", "provider-optional")["provider_key"] == ""


def test_coordinates_and_address_are_kept_everywhere(three_paths):
    rec = _same_three(three_paths, "service", "coordinates")
    assert (rec["address"], rec["latitude"], rec["longitude"]) == ("1 Market Street, Burnley", 53.789, -2.243)


def test_confidential_location_is_cleared_everywhere(three_paths):
    rec = _same_three(three_paths, "service", "confidential")
    assert (rec["confidential_location"], rec["address"], rec["latitude"], rec["longitude"]) == (True, "", None, None)


def test_last_reviewed_is_kept_everywhere(three_paths):
    assert _same_three(three_paths, "service", "last-reviewed")["last_reviewed"] == dt.date(2015, 6, 1)


def test_choices_in_another_case_mean_the_same_everywhere(three_paths):
    rec = _same_three(three_paths, "service", "choice-case")
    assert (rec["tier"], rec["status"]) == ("tertiary", "planned")
    assert _same_three(three_paths, "organisation", "sector-case")["sector"] == "VCFS"


def test_names_resolve_to_the_same_keys_everywhere(three_paths):
    rec = _same_three(three_paths, "service", "names")
    assert (rec["provider_key"], sorted(rec["themes"]), sorted(rec["coverage"])) == (
        "lancashire-care-ft", ["drugs-alcohol", "mental-health"], ["E07000117", "PBA08"])


# -- rules that refuse: the same column and message from every path, and nothing written -------------------------

REFUSALS = {
    # lengths: the demo let the database decide (SQLite stores anything), the form allowed 120 for every key
    "name-length": ("service", {"name": "x" * 301}, ("name", "is longer than 300 characters")),
    "org-key-length": ("organisation", {"key": "k" * 81}, ("org_key", "is longer than 80 characters")),
    # coordinates out of range: only imports checked them
    "latitude-range": ("service", {"latitude": "95"}, ("latitude", "95.0 is outside -90 to 90")),
    # a review in the future is a typing slip, refused everywhere (new)
    "review-in-future": ("service", {"last_reviewed": "2999-01-01"}, ("last_reviewed", "2999-01-01 is in the future")),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_the_same_row_is_refused_the_same_way_everywhere(empty_db, fresh_demo_db, tmp_path, case):
    kind, change, (column, message) = REFUSALS[case]
    if kind == "service":
        row = BASE | change
        demo_rows, org_rows = {"refused-svc": row}, None
        import_rows = [("services.csv", _csv([{"service_key": "refused-svc", **row}]))]
        edit_values = {"key": "refused-svc", **row}
    else:
        key = change["key"]
        row = {"name": "Long key org", "sector": "VCFS", "source": "rules.csv"}
        demo_rows, org_rows = None, {key: row}
        import_rows = [("orgs.csv", _csv([{"org_key": key, **row}]))]
        edit_values = {"key": key, **row}
    with pytest.raises(ImportRefused) as demo:
        load_demo(empty_db, _demo_copy(tmp_path / "demo", demo_rows, org_rows))
    plan = plan_import(fresh_demo_db, "services", import_rows)
    with pytest.raises(editing.EditError) as edit:
        editing.save(fresh_demo_db, ADMIN, kind, edit_values)
    demo_got = [(e.column, e.message) for e in demo.value.errors]
    import_got = [(e.column, e.message) for e in plan.refused]
    edit_got = [("org_key" if e.column == "key" else e.column, e.message) for e in edit.value.errors]
    assert demo_got == import_got == edit_got == [(column, message)]
    assert "refused-svc" not in dict(editing.keys_of(fresh_demo_db, "service"))
