"""360Giving: a re-import of our own export changes nothing; a real change is one change; the export's order is
explicit (grants by identifier, beneficiary locations by geoCode) so SQLite and PostgreSQL give the same file; the
publisher's identifiers and names are data, not code."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, insert, select

from services_db.models import Allocation, Area, allocation_area
from services_db.permissions import Actor
from services_db.transfer import giving, schemas
from services_db.transfer.imports import apply_plan, plan_import

ADMIN = Actor("test-admin", "admin")


def _allocations(db) -> dict[str, tuple]:
    with db.sessions() as s:
        return {a.key: (a.version, a.updated_at, a.updated_by, f"{Decimal(a.amount):.2f}", a.purpose, a.award_date,
                        a.planned_start, a.planned_end)
                for a in s.scalars(select(Allocation))}


def _plan(db, pkg):
    return plan_import(db, "360giving", [("allocations-360giving.json", json.dumps(pkg).encode())])


def test_reimport_of_own_360giving_export_changes_nothing(fresh_demo_db):
    db = fresh_demo_db
    before = _allocations(db)
    pkg = giving.package(db)
    plan = _plan(db, pkg)
    assert plan.refused == []
    assert plan.added == {} and plan.changed == {}
    assert sum(n for reason, n in plan.skipped.items() if reason.startswith("unchanged")) == len(pkg["grants"])
    apply_plan(db, plan, ADMIN)
    assert _allocations(db) == before  # version, updated_at and updated_by untouched


def test_a_real_360giving_change_is_one_change(fresh_demo_db):
    db = fresh_demo_db
    before = _allocations(db)
    pkg = giving.package(db)
    grant = pkg["grants"][5]
    grant["amountAwarded"] += 100
    plan = _plan(db, pkg)
    assert plan.refused == [] and plan.added == {} and plan.changed == {"allocation": 1}
    apply_plan(db, plan, ADMIN)
    after = _allocations(db)
    key = grant["id"].removeprefix(giving.prefix() + "-")
    assert [k for k in before if before[k] != after[k]] == [key]
    assert after[key][0] == before[key][0] + 1 and after[key][3] == f"{Decimal(before[key][3]) + 100:.2f}"


def test_export_order_is_explicit(fresh_demo_db):
    """Grants by identifier; each grant's beneficiaryLocation by geoCode (giving.LOCATION_ORDER), whatever order the
    database returns rows in (here: an allocation's areas stored in reverse order)."""
    db = fresh_demo_db
    with db.session() as s:
        rows = s.execute(select(allocation_area.c.allocation_id, allocation_area.c.area_code)
                         .join(Area, Area.code == allocation_area.c.area_code).where(Area.level == "district")).all()
        by_alloc: dict[int, list[str]] = {}
        for alloc_id, code in rows:
            by_alloc.setdefault(alloc_id, []).append(code)
        reversed_ = {a: sorted(codes, reverse=True) for a, codes in by_alloc.items() if len(codes) > 1}
        assert reversed_, "the demo has allocations to several districts"
        s.execute(delete(allocation_area).where(allocation_area.c.allocation_id.in_(list(reversed_))))
        for alloc_id, codes in reversed_.items():
            for code in codes:
                s.execute(insert(allocation_area).values(allocation_id=alloc_id, area_code=code))
        # a division is named by its districts, which the grouping file lists out of code order
        first = s.scalars(select(Allocation.id).where(Allocation.parent_id.is_(None)).order_by(Allocation.id)).first()
        s.execute(delete(allocation_area).where(allocation_area.c.allocation_id == first))
        s.execute(insert(allocation_area).values(allocation_id=first, area_code="DIV-W"))
    grants = giving.grants(db)
    assert [g["id"] for g in grants] == sorted(g["id"] for g in grants)
    for g in grants:
        codes = [loc["geoCode"] for loc in g["beneficiaryLocation"]]
        assert codes == sorted(codes), g["id"]
    assert giving.LOCATION_ORDER == "geoCode"


def test_publisher_settings_are_data(demo_db, tmp_path, monkeypatch):
    pkg = giving.package(demo_db)
    assert all(g["id"].startswith("360G-lancashire-opcc-") for g in pkg["grants"])
    settings = json.loads(giving.PUBLISHER_FILE.read_text(encoding="utf-8"))
    assert pkg["publisher"]["name"] == settings["publisher"]["name"]
    settings["360giving"]["identifier_prefix"] = "360G-cumbria-opcc"
    settings["publisher"]["name"] = "Office of the Police and Crime Commissioner for Cumbria"
    (tmp_path / "publisher.json").write_text(json.dumps(settings), encoding="utf-8")
    monkeypatch.setattr(giving, "PUBLISHER_FILE", tmp_path / "publisher.json")
    pkg = giving.package(demo_db)
    assert schemas.errors("360giving", "360-giving-package-schema.json", pkg) == []
    assert all(g["id"].startswith("360G-cumbria-opcc-") for g in pkg["grants"])
    assert pkg["publisher"]["name"] == "Office of the Police and Crime Commissioner for Cumbria"
    assert "lancashire" not in Path(giving.__file__).read_text(encoding="utf-8").lower()
    # and the import reads the same prefix: a re-import of this export still finds every allocation
    plan = _plan(demo_db, pkg)
    assert plan.refused == [] and plan.added == {}
