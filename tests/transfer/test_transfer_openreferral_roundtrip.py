"""Open Referral UK: export → import into an empty directory loses nothing the format can hold; a re-import of our
own export changes nothing; the summary list form merges; a mixed feed imports its in-area services and skips the
rest; coordinates are range-checked; a location without service areas is placed in its LSOA; confidential
locations never get in; publisher settings are data."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from services_db.models import Area, Priority, Service, service_priority
from services_db.permissions import Actor
from services_db.transfer import giving, openreferral, schemas
from services_db.transfer.imports import apply_plan, plan_import

FIX = Path(__file__).resolve().parent.parent / "fixtures"
UK_PROFILE = FIX / "uk-profile"
ADMIN = Actor("test-admin", "admin")
COMMISSIONER = Actor("test-commissioner", "commissioner")
SUMMARY_FIELDS = tuple(schemas.schema("openreferral-uk", "service_list.json")["properties"])


def _plan(db, doc, name="feed.json"):
    return plan_import(db, "openreferral", [(name, json.dumps(doc).encode())])


def _snapshot(db) -> dict[str, dict]:
    """Every service's fields, keyed by the Open Referral id of the service (a UUID5 of our key)."""
    with db.sessions() as s:
        prios: dict[int, list[str]] = {}
        for sid, key in s.execute(select(service_priority.c.service_id, Priority.key)
                                  .join(Priority, Priority.id == service_priority.c.priority_id)):
            prios.setdefault(sid, []).append(key)
        out = {}
        for svc in s.scalars(select(Service).options(
                selectinload(Service.themes), selectinload(Service.target_groups), selectinload(Service.coverage),
                selectinload(Service.provider), selectinload(Service.funding_lines))):
            ident = openreferral.uid("service", svc.key)
            if svc.key.startswith("oruk-"):  # an import that lost our key
                ident = svc.key.removeprefix("oruk-")
            out[ident] = {
                "key": svc.key, "name": svc.name, "description": svc.description, "status": svc.status,
                "provider": svc.provider.key if svc.provider else None, "tier": svc.tier,
                "start_date": svc.start_date, "end_date": svc.end_date,
                "end_date_is_estimate": svc.end_date_is_estimate, "known_from": svc.known_from,
                "eligibility": svc.eligibility, "referral_route": svc.referral_route, "capacity": svc.capacity,
                "contact": svc.contact, "confidential_location": svc.confidential_location,
                "themes": sorted(t.key for t in svc.themes),
                "target_groups": sorted(g.key for g in svc.target_groups),
                "priorities": sorted(prios.get(svc.id, [])),
                "coverage": sorted(c.area_code for c in svc.coverage),
                "funding_lines": sorted((fl.commissioner_id, fl.fund_id, f"{Decimal(fl.annual_amount):.2f}",
                                         fl.start_date, fl.end_date, fl.is_estimate) for fl in svc.funding_lines),
                "version": svc.version, "updated_at": svc.updated_at, "updated_by": svc.updated_by,
            }
    return out


def _empty_directory(db) -> None:
    """Same areas, themes, organisations, funds and priorities; no services."""
    with db.session() as s:
        s.execute(delete(Service))


COMPARED = [  # (label, how many services/links/pounds a snapshot has of it)
    ("services", lambda v: 1),
    ("tier", lambda v: v["tier"] is not None),
    ("start date", lambda v: v["start_date"] is not None),
    ("end date", lambda v: v["end_date"] is not None),
    ("end date is an estimate", lambda v: v["end_date_is_estimate"]),
    ("known from", lambda v: v["known_from"] is not None),
    ("eligibility", lambda v: bool(v["eligibility"])),
    ("referral route", lambda v: bool(v["referral_route"])),
    ("capacity", lambda v: bool(v["capacity"])),
    ("confidential location", lambda v: v["confidential_location"]),
    ("theme links", lambda v: len(v["themes"])),
    ("target-group links", lambda v: len(v["target_groups"])),
    ("priority links", lambda v: len(v["priorities"])),
    ("coverage links", lambda v: len(v["coverage"])),
    ("funding lines", lambda v: len(v["funding_lines"])),
    ("funding £ a year", lambda v: sum(Decimal(f[2]) for f in v["funding_lines"])),
]
FIELDS = ["key", "name", "description", "status", "provider", "tier", "start_date", "end_date",
          "end_date_is_estimate", "known_from", "eligibility", "referral_route", "capacity", "contact",
          "confidential_location", "themes", "target_groups", "priorities", "coverage", "funding_lines"]


def test_export_then_import_into_an_empty_directory_loses_nothing(demo_db, fresh_demo_db):
    before = _snapshot(demo_db)
    doc = openreferral.export_services(demo_db)
    for item in doc["contents"]:
        assert schemas.errors("openreferral-uk", "service.json", item) == [], item["name"]
    target = fresh_demo_db
    _empty_directory(target)
    plan = _plan(target, doc, "directory-openreferral.json")
    assert plan.refused == []
    assert plan.added.get("service") == len(before)
    apply_plan(target, plan, ADMIN)
    after = _snapshot(target)

    rows = [(label, sum(count(v) for v in before.values()), sum(count(v) for ident, v in after.items()
                                                                 if ident in before))
            for label, count in COMPARED]
    print("\nOpen Referral UK round trip: demo directory → export → import into an empty directory")
    print(f"{'field':<26}{'before':>14}{'after':>14}")
    for label, b, a in rows:
        fmt = (lambda x: f"£{x:,.0f}") if label.startswith("funding £") else (lambda x: f"{x:,}")
        print(f"{label:<26}{fmt(b):>14}{fmt(a):>14}{'' if a == b else '   LOST'}")
    differences = [(before[i]["name"], f, before[i][f], after.get(i, {}).get(f)) for i in before for f in FIELDS
                   if after.get(i, {}).get(f) != before[i][f]]
    print(f"field-by-field differences over {len(before)} services x {len(FIELDS)} fields: {len(differences)}")
    assert [(label, b) for label, b, _ in rows] == [(label, a) for label, _, a in rows]
    assert differences == []
    assert sum(1 for v in before.values() if v["confidential_location"]) >= 1
    assert sum(len(v["funding_lines"]) for v in before.values()) == 45


def test_reimport_of_own_export_changes_nothing(fresh_demo_db):
    db = fresh_demo_db
    before = _snapshot(db)
    doc = openreferral.export_services(db)
    plan = _plan(db, doc)
    assert plan.refused == []
    assert plan.added == {} and plan.changed == {}
    assert sum(n for reason, n in plan.skipped.items() if reason.startswith("unchanged")) == len(before)
    assert not any("to change" in line and " 0 to change" not in line for line in plan.summary_lines())
    apply_plan(db, plan, ADMIN)
    after = _snapshot(db)
    assert after == before  # version, updated_at and updated_by included


def test_a_real_change_is_one_change(fresh_demo_db):
    db = fresh_demo_db
    before = _snapshot(db)
    doc = openreferral.export_services(db)
    doc["contents"][3]["description"] += " Now also on Saturdays."
    plan = _plan(db, doc)
    assert plan.refused == [] and plan.added == {} and plan.changed == {"service": 1}
    apply_plan(db, plan, ADMIN)
    after = _snapshot(db)
    moved = [i for i in before if before[i]["version"] != after[i]["version"]]
    assert moved == [doc["contents"][3]["id"]]
    assert after[moved[0]]["updated_by"] == ADMIN.username


def test_summary_list_form_merges_and_never_wipes(fresh_demo_db):
    db = fresh_demo_db
    path = FIX / "oruk_service.json"
    full = json.loads(path.read_bytes())
    example = json.loads((UK_PROFILE / "service_full.json").read_bytes())
    full["languages"], full["cost_options"] = example["languages"], example["cost_options"]
    apply_plan(db, _plan(db, full, path.name), COMMISSIONER)
    key = "oruk-" + full["id"]

    def state():
        with db.sessions() as s:
            svc = s.scalar(select(Service).where(Service.key == key).options(
                selectinload(Service.themes), selectinload(Service.coverage)))
            return (svc.extra["openreferral"], svc.contact, [t.key for t in svc.themes],
                    sorted(c.area_code for c in svc.coverage), svc.address, svc.latitude, svc.description)

    kept, contact, themes, coverage, address, lat, _ = state()
    summary = {k: v for k, v in full.items() if k in SUMMARY_FIELDS}
    summary["description"] = "New description from the summary list."
    plan = _plan(db, {"contents": [summary], "total_items": 1}, "services-summary.json")
    assert plan.refused == [] and plan.changed == {"service": 1}
    apply_plan(db, plan, COMMISSIONER)
    kept2, contact2, themes2, coverage2, address2, lat2, description2 = state()
    for field in ("schedules", "languages", "cost_options", "contacts", "funding", "taxonomy_terms",
                  "service_areas_unmatched"):
        assert kept2[field] == kept[field], field
    assert (contact2, themes2, coverage2, address2, lat2) == (contact, themes, coverage, address, lat)
    assert description2 == "New description from the summary list."

    # the summary form of our own export: nothing to change, nothing wiped
    before = _snapshot(db)
    doc = openreferral.export_services(db)
    summaries = [{k: v for k, v in item.items() if k in SUMMARY_FIELDS} for item in doc["contents"]]
    plan = _plan(db, {"contents": summaries})
    assert plan.refused == [] and plan.added == {} and plan.changed == {}
    apply_plan(db, plan, ADMIN)
    assert _snapshot(db) == before


@pytest.mark.parametrize("example", ["service_full.json", "organization_full.json", "service_at_location_full.json"])
def test_uk_profile_examples_are_skipped_as_out_of_area_not_refused(fresh_demo_db, example):
    db = fresh_demo_db
    plan = plan_import(db, "openreferral", [(example, (UK_PROFILE / example).read_bytes())])
    assert plan.refused == [] and plan.added == {} and plan.changed == {}
    assert plan.skipped == {"outside this force area: Community Counselling": 1}


def test_a_mixed_feed_imports_in_area_services_and_lists_the_skipped(fresh_demo_db):
    db = fresh_demo_db
    ours = json.loads((FIX / "oruk_service.json").read_bytes())
    theirs = json.loads((UK_PROFILE / "service_full.json").read_bytes())
    plan = _plan(db, {"contents": [theirs, ours], "total_items": 2})
    assert plan.refused == []
    assert plan.added == {"service": 1, "organisation": 1}
    assert plan.skipped == {"outside this force area: Community Counselling": 1}
    assert "  skipped 1: outside this force area: Community Counselling" in plan.summary_lines()
    apply_plan(db, plan, COMMISSIONER)
    with db.sessions() as s:
        assert s.scalar(select(Service).where(Service.name == "Community Counselling")) is None
        assert s.scalar(select(Service).where(Service.key == "oruk-" + ours["id"])) is not None


def test_coordinates_are_range_checked(demo_db):
    item = json.loads((FIX / "oruk_service.json").read_bytes())
    loc = item["service_at_locations"][0]["location"]
    loc["latitude"], loc["longitude"] = 100, 101
    plan = _plan(demo_db, {"contents": [item]}, "bad.json")
    assert [str(e) for e in plan.refused] == [  # the one coordinate rule's words (records.read_point)
        "bad.json contents[0], column 'service_at_locations[0].location.latitude': 100.0 is outside -90 to 90"]
    loc["latitude"], loc["longitude"] = 53.79, -200
    plan = _plan(demo_db, {"contents": [item]}, "bad.json")
    assert [str(e) for e in plan.refused] == [
        "bad.json contents[0], column 'service_at_locations[0].location.longitude': -200.0 is outside -180 to 180"]
    loc["latitude"] = "north"
    plan = _plan(demo_db, {"contents": [item]}, "bad.json")
    assert "column 'service_at_locations[0].location.latitude': 'north' is not a number" in str(plan.refused[0])


def _located(name: str, lat: float, lon: float, sid: str) -> dict:
    """A service with a location and a theme (a service needs one, however it arrives: records.read_service)."""
    return {"id": sid, "name": name, "status": "active", "service_at_locations": [{
        "id": openreferral.uid("x", sid + "sal"), "location": {
            "id": openreferral.uid("x", sid + "loc"), "location_type": "physical", "latitude": lat, "longitude": lon}}],
        "attributes": [{"id": openreferral.uid("x", sid + "att"), "link_type": "service", "taxonomy_term": {
            "id": openreferral.uid("x", sid + "term"), "name": "Domestic abuse"}}]}


def test_a_location_without_service_areas_is_placed_in_its_lsoa(fresh_demo_db):
    db = fresh_demo_db
    burnley = _located("Burnley drop-in", 53.789, -2.248, "0e0e0e0e-0000-4000-8000-000000000001")
    london = _located("Westminster drop-in", 51.4995, -0.1248, "0e0e0e0e-0000-4000-8000-000000000002")
    plan = _plan(db, [burnley, london])
    assert plan.refused == [] and plan.added == {"service": 1}
    assert plan.skipped == {"outside this force area: Westminster drop-in": 1}
    apply_plan(db, plan, COMMISSIONER)
    with db.sessions() as s:
        svc = s.scalar(select(Service).where(Service.key == "oruk-" + burnley["id"]))
        codes = [c.area_code for c in svc.coverage]
        assert len(codes) == 1 and codes[0].startswith("E01")
        lsoa = s.get(Area, codes[0])
        assert lsoa.level == "lsoa" and lsoa.parent_code == "E07000117" and lsoa.name.startswith("Burnley ")
        assert (svc.latitude, svc.longitude) == (53.789, -2.248)


def test_confidential_services_never_get_an_address_from_an_import(fresh_demo_db):
    db = fresh_demo_db
    item = json.loads((FIX / "oruk_service.json").read_bytes())
    item["attributes"].append({"id": "21111111-2222-4333-8444-555555555599", "link_type": "service",
                               "taxonomy_term": {"id": "31111111-2222-4333-8444-555555555599", "name": "Confidential",
                                                 "description": "Location is confidential", "taxonomy": "services-db",
                                                 "term": "confidential-location:yes"}})
    apply_plan(db, _plan(db, item), COMMISSIONER)
    with db.sessions() as s:
        svc = s.scalar(select(Service).where(Service.key == "oruk-" + item["id"]))
        assert svc.confidential_location is True
        assert (svc.address, svc.latitude, svc.longitude) == ("", None, None)
        secret = s.scalar(select(Service).where(Service.confidential_location.is_(True),
                                                Service.key != svc.key).limit(1))
    # a service already flagged confidential: an incoming address is not stored either
    doc = openreferral.export_services(db)
    hidden = next(i for i in doc["contents"] if i["id"] == openreferral.uid("service", secret.key))
    assert "service_at_locations" not in hidden
    hidden["service_at_locations"] = copy.deepcopy(item["service_at_locations"])
    plan = _plan(db, {"contents": [hidden]})
    assert plan.refused == [] and plan.changed == {}
    apply_plan(db, plan, ADMIN)
    with db.sessions() as s:
        again = s.scalar(select(Service).where(Service.key == secret.key))
        assert (again.address, again.latitude, again.longitude) == (secret.address, secret.latitude,
                                                                     secret.longitude)
        assert "Example Street" not in again.address


def test_export_order_is_explicit_and_publisher_settings_are_data(fresh_demo_db, tmp_path, monkeypatch):
    db = fresh_demo_db
    with db.session() as s:
        svc = s.scalar(select(Service).where(Service.confidential_location.is_(False)).order_by(Service.key).limit(1))
        svc.address, svc.latitude, svc.longitude = "1 Open Street, Preston, PR1 2BB", 53.76, -2.70
    doc = openreferral.export_services(db)
    keys = [openreferral.uid("service", k) for k in sorted(_snapshot(db)[i]["key"] for i in _snapshot(db))]
    assert [i["id"] for i in doc["contents"]] == keys
    addr = next(i for i in doc["contents"] if i.get("service_at_locations"))
    assert addr["service_at_locations"][0]["location"]["addresses"][0]["state_province"] == "Lancashire"
    settings = json.loads(giving.PUBLISHER_FILE.read_text(encoding="utf-8"))
    settings["openreferral"]["state_province"] = "Cumbria"
    (tmp_path / "publisher.json").write_text(json.dumps(settings), encoding="utf-8")
    monkeypatch.setattr(giving, "PUBLISHER_FILE", tmp_path / "publisher.json")
    doc = openreferral.export_services(db)
    addr = next(i for i in doc["contents"] if i.get("service_at_locations"))
    assert addr["service_at_locations"][0]["location"]["addresses"][0]["state_province"] == "Cumbria"
    assert "Lancashire" not in Path(openreferral.__file__).read_text(encoding="utf-8")


def test_a_foreign_feed_and_our_export_of_it_reimport_unchanged(fresh_demo_db):
    db = fresh_demo_db
    path = FIX / "oruk_services_page.json"
    apply_plan(db, plan_import(db, "openreferral", [(path.name, path.read_bytes())]), COMMISSIONER)
    before = _snapshot(db)
    again = plan_import(db, "openreferral", [(path.name, path.read_bytes())])
    assert again.refused == [] and again.added == {} and again.changed == {}
    doc = openreferral.export_services(db)
    mine = [i for i in doc["contents"] if i[openreferral.EXTENSION]["key"].startswith("oruk-")]
    assert mine and all(schemas.errors("openreferral-uk", "service.json", i) == [] for i in mine)
    craven = next(i for i in mine if any(sa.get("name") == "Craven" for sa in i["service_areas"]))
    assert "floating-support" in [a["taxonomy_term"].get("term") for a in craven["attributes"]]
    plan = _plan(db, doc)
    assert plan.refused == [] and plan.added == {} and plan.changed == {}
    apply_plan(db, plan, ADMIN)
    assert _snapshot(db) == before
