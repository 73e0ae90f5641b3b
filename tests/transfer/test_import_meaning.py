"""Imports mean what they say: an unchanged row is unchanged (no version, stamp, audit entry or data version), a
header refusal names the missing and unknown columns, replacing funding lines says how much money goes, a column
left out keeps what the record has, and a confidential location is never stored."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from sqlalchemy import func, select, update

from services_db.models import Allocation, AuditEvent, FundingLine, Organisation, Service
from services_db.permissions import Actor
from services_db.transfer.import_plan import ImportPlan
from services_db.transfer.imports import apply_plan, plan_import
from services_db.transfer.spreadsheet import to_csv_bytes, to_excel_bytes
from services_db.validation import check_header

ADMIN = Actor("test-admin", "admin")
COMMISSIONER = Actor("test-commissioner", "commissioner")


def _state(db) -> dict:
    """Everything an import that changes nothing must leave as it was."""
    with db.sessions() as s:
        out = {"audit": s.scalar(select(func.count()).select_from(AuditEvent)), "data_version": db.data_version()}
        for model in (Organisation, Service, Allocation):
            out[model.__name__] = sorted(s.execute(select(model.key, model.version, model.updated_at,
                                                          model.updated_by)).all())
        out["funding_lines"] = sorted(s.execute(select(FundingLine.id, FundingLine.service_id,
                                                       FundingLine.annual_amount, FundingLine.source)).all())
    return out


def _demo_rows(name: str) -> list[dict]:
    from services_db.demo import DEMO_DIR

    with (DEMO_DIR / f"{name}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def test_export_then_reimport_changes_nothing(fresh_demo_db):
    """Issue 10: the directory exported to CSV and imported again is previewed as 0 to add, 0 to change, and
    applying it writes nothing: versions, stamps, audit log and data version all as they were."""
    from services_db.transfer.import_templates import export_tables

    db = fresh_demo_db
    with db.session() as s:  # a value our downloads neutralise (it begins like a formula) must survive too
        s.execute(update(Service).where(Service.key == "avert-womens-diversion").values(contact="+44 1772 000000"))
    tables = export_tables(db)
    assert {k: len(f) for k, f in tables.items()} == {"organisations": 41, "services": 56, "funding_lines": 45,
                                                       "allocations": 77}
    csvs = [(f"{kind}.csv", to_csv_bytes(frame)) for kind, frame in tables.items()]
    assert b"'+44 1772 000000" in csvs[1][1]
    before = _state(db)
    plan = plan_import(db, "services", csvs)
    print("\n" + "\n".join(plan.summary_lines()))
    assert plan.refused == [] and plan.rows_read == 41 + 56 + 45 + 77
    assert plan.added == {} and plan.changed == {}
    apply_plan(db, plan, ADMIN)
    assert _state(db) == before

    workbook = to_excel_bytes(tables)  # the same as one workbook, a sheet per table
    plan = plan_import(db, "services", [("directory.xlsx", workbook)])
    assert plan.refused == [] and plan.added == {} and plan.changed == {}
    apply_plan(db, plan, ADMIN)
    assert _state(db) == before


def test_reimporting_the_demo_files_changes_nothing(fresh_demo_db):
    from services_db.demo import DEMO_DIR

    db = fresh_demo_db
    before = _state(db)
    names = ["organisations", "services", "funding_lines", "allocations"]
    plan = plan_import(db, "services", [(f"{n}.csv", (DEMO_DIR / f"{n}.csv").read_bytes()) for n in names])
    assert plan.refused == [] and plan.added == {} and plan.changed == {}
    assert plan.notes == ["services.csv: column(s) known_from are not in the services template and were not read"]
    apply_plan(db, plan, ADMIN)
    assert _state(db) == before


def test_a_plan_with_nothing_to_add_or_change_writes_nothing(fresh_demo_db):
    db = fresh_demo_db
    before = _state(db)
    called = []
    plan = ImportPlan("services", ["nothing.csv"], rows_read=3)
    plan.writer = lambda session, username: called.append(username)
    apply_plan(db, plan, ADMIN)
    assert called == [] and _state(db) == before
    plan.count("changed", "service")
    apply_plan(db, plan, ADMIN)
    after = _state(db)
    assert called == ["test-admin"] and after["audit"] == before["audit"] + 1
    assert after["data_version"] != before["data_version"]


def test_only_changed_rows_are_written(fresh_demo_db):
    """One changed allocation among 77 unchanged: one to change, one version bump, the rest untouched."""
    db = fresh_demo_db
    rows = _demo_rows("allocations")
    next(r for r in rows if r["allocation_key"] == "csg13-bwd-csp-fund")["amount"] = "95000.00"
    before = _state(db)
    plan = plan_import(db, "services", [("allocations.csv", _csv(rows))])
    assert plan.added == {} and plan.changed == {"allocation": 1}
    apply_plan(db, plan, ADMIN)
    after = _state(db)
    changed = [a for a, b in zip(before["Allocation"], after["Allocation"], strict=True) if a != b]
    assert [(a.key, a.version + 1) for a in changed] == [
        (b.key, b.version) for b in after["Allocation"] if b.key == "csg13-bwd-csp-fund"]
    assert after["audit"] == before["audit"] + 1


def test_replacing_funding_lines_says_how_much_money_goes(fresh_demo_db):
    db = fresh_demo_db
    rows = [{"service_key": "avert-womens-diversion", "commissioner_key": "opcc-lancashire", "fund_key": "",
             "annual_amount": "150000", "start_date": "2017-04-01", "end_date": "2018-03-31"},
            {"service_key": "made-data-resource", "commissioner_key": "lancashire-cssg",  # the lines it has
             "fund_key": "csg-2013-14", "annual_amount": "15000.00", "start_date": "2013-04-01",
             "end_date": "2014-03-31"},
            {"service_key": "made-data-resource", "commissioner_key": "opcc-lancashire",
             "fund_key": "csg-2013-14", "annual_amount": "8000.00", "start_date": "2013-04-01",
             "end_date": "2014-03-31"}]
    with db.sessions() as s:  # the demo's own lines (data/demo/funding_lines.csv): restating them changes nothing
        made = sorted(s.execute(select(Organisation.key, FundingLine.annual_amount).join(
            FundingLine, FundingLine.commissioner_id == Organisation.id).join(Service).where(
            Service.key == "made-data-resource")).all())
    assert made == [("lancashire-cssg", Decimal("15000.00")), ("opcc-lancashire", Decimal("8000.00"))]
    plan = plan_import(db, "services", [("lines.csv", _csv(rows))])
    assert plan.refused == []
    assert plan.added == {"funding_line": 1} and plan.changed == {"service (funding lines replaced)": 1}
    assert plan.notes == ["service avert-womens-diversion: 2 funding lines replaced, £372,827 a year removed, "
                          "£150,000 added"]
    assert "  service avert-womens-diversion: 2 funding lines replaced, £372,827 a year removed, £150,000 added" \
        in plan.summary_lines()
    before = _state(db)
    apply_plan(db, plan, ADMIN)
    with db.sessions() as s:
        amounts = sorted(s.scalars(select(FundingLine.annual_amount).join(Service).where(
            Service.key == "avert-womens-diversion")))
    assert amounts == [Decimal("150000.00")]
    unchanged = [line for line in before["funding_lines"] if line[1] != _service_id(db, "avert-womens-diversion")]
    assert [line for line in _state(db)["funding_lines"] if line in unchanged] == unchanged


def _service_id(db, key: str) -> int:
    with db.sessions() as s:
        return s.scalar(select(Service.id).where(Service.key == key))


def test_confidential_location_is_never_stored(fresh_demo_db):
    db = fresh_demo_db
    with db.sessions() as s:
        org = s.scalar(select(Organisation.key).order_by(Organisation.key))
    new = {"service_key": "safe-house", "name": "Safe house", "provider_key": org, "themes": "domestic-abuse",
           "coverage": "E07000117", "confidential_location": "true", "address": "1 Hidden Lane, Burnley BB11 1AA",
           "latitude": "53.79", "longitude": "-2.24"}
    plan = plan_import(db, "services", [("refuges.csv", _csv([new]))])
    assert plan.refused == [] and plan.added == {"service": 1}
    apply_plan(db, plan, COMMISSIONER)
    with db.sessions() as s:
        svc = s.scalar(select(Service).where(Service.key == "safe-house"))
        assert (svc.confidential_location, svc.address, svc.latitude, svc.longitude) == (True, "", None, None)
    assert plan.notes == ["1 service(s) flagged confidential_location: their address and coordinates are not "
                          "stored (safe-house)"]  # the preview says so

    # an existing confidential service: a file that leaves the flag out still cannot give it an address
    again = {k: v for k, v in new.items() if k != "confidential_location"} | {"address": "2 Hidden Lane"}
    plan = plan_import(db, "services", [("refuges.csv", _csv([again]))])
    assert plan.changed == {} and plan.added == {}  # nothing stored changes
    assert plan.notes[-1].endswith("are not stored (safe-house)")
    # and one stored before the flag was set is removed when the flag comes
    with db.session() as s:
        s.execute(update(Service).where(Service.key == "safe-house").values(
            confidential_location=False, address="1 Hidden Lane", latitude=53.79, longitude=-2.24))
    plan = plan_import(db, "services", [("refuges.csv", _csv([{k: v for k, v in new.items()
                                                                if k not in ("address", "latitude", "longitude")}]))])
    assert plan.changed == {"service": 1}
    apply_plan(db, plan, COMMISSIONER)
    with db.sessions() as s:
        svc = s.scalar(select(Service).where(Service.key == "safe-house"))
        assert (svc.confidential_location, svc.address, svc.latitude, svc.longitude) == (True, "", None, None)


def test_export_leaves_confidential_locations_out(fresh_demo_db):
    from services_db.transfer.import_templates import export_tables

    db = fresh_demo_db
    with db.session() as s:
        s.execute(update(Service).where(Service.key == "sahara-preston-bme-domestic-abuse").values(
            confidential_location=True, address="3 Secret Road", latitude=53.76, longitude=-2.7))
    services = export_tables(db)["services"].set_index("service_key")
    assert services.loc["sahara-preston-bme-domestic-abuse", ["address", "latitude", "longitude"]].tolist() == [
        "", "", ""]
    assert "Secret Road" not in to_csv_bytes(services).decode("utf-8-sig")


def test_a_column_left_out_keeps_what_the_record_has(fresh_demo_db):
    """An allocations file of key, fund and amount changes the amount only (purpose, areas, dates... kept)."""
    db = fresh_demo_db
    with db.sessions() as s:
        old = s.scalar(select(Allocation).where(Allocation.key == "csg13-bwd-csp-fund"))
        kept = (old.purpose, old.planned_start, old.planned_end, old.payment_schedule, old.recipient_id,
                old.service_id, sorted(a.code for a in old.areas), sorted(p.key for p in old.priorities))
    rows = [{"allocation_key": "csg13-bwd-csp-fund", "fund_key": "csg-2013-14", "amount": "94958.00"}]
    plan = plan_import(db, "services", [("a.csv", _csv(rows))])
    assert plan.refused == [] and plan.changed == {} and plan.added == {}
    rows[0]["amount"] = "90000"
    plan = plan_import(db, "services", [("a.csv", _csv(rows))])
    assert plan.changed == {"allocation": 1}
    apply_plan(db, plan, ADMIN)
    with db.sessions() as s:
        new = s.scalar(select(Allocation).where(Allocation.key == "csg13-bwd-csp-fund"))
        assert new.amount == Decimal("90000.00") and new.version == old.version + 1
        assert (new.purpose, new.planned_start, new.planned_end, new.payment_schedule, new.recipient_id,
                new.service_id, sorted(a.code for a in new.areas), sorted(p.key for p in new.priorities)) == kept


def test_a_service_moved_to_an_organisation_added_by_the_same_import(fresh_demo_db):
    db = fresh_demo_db
    orgs = [{"org_key": "new-charity", "name": "New Charity", "sector": "VCFS"}]
    svc = [r for r in _demo_rows("services") if r["service_key"] == "avert-womens-diversion"]
    svc[0]["provider_key"] = "new-charity"
    plan = plan_import(db, "services", [("orgs.csv", _csv(orgs)), ("svc.csv", _csv(svc))])
    assert plan.refused == [] and plan.added == {"organisation": 1} and plan.changed == {"service": 1}
    apply_plan(db, plan, ADMIN)
    with db.sessions() as s:
        got = s.scalar(select(Organisation.key).join(Service, Service.provider_id == Organisation.id).where(
            Service.key == "avert-womens-diversion"))
    assert got == "new-charity"


def test_header_refusals_name_missing_and_unknown_columns(demo_db):
    plan = plan_import(demo_db, "services", [("p.csv", b"Service name,Provider,themes\nx,y,z\n")])
    assert [str(e) for e in plan.refused] == [
        "p.csv, row 1: wrong header: missing column(s) service_key, name, provider_key, coverage (of the services "
        "template; the templates are organisations, services, funding_lines, allocations); unknown column(s) "
        "Service name, Provider"]
    plan = plan_import(demo_db, "services", [("o.csv", b"org_key,title,sector\nx,y,VCFS\n")])
    assert [str(e) for e in plan.refused] == [
        "o.csv, row 1: wrong header: missing column(s) name; unknown column(s) title"]
    assert [str(e) for e in check_header("f.csv", ["service_key", "Name", "themes"],
                                         ["service_key", "name", "themes", "coverage"],
                                         ["service_key", "name", "themes", "coverage"])] == [
        "f.csv, row 1: wrong header: missing column(s) name, coverage; unknown column(s) Name"]
