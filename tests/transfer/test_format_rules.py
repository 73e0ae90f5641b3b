"""Issue 13 point 4, the formats: an Open Referral UK service and a 360Giving grant are read by the same rules as a
directory template row (services_db.records), so the same service or allocation gets the same record, or the same
refusal, whichever way it arrives. One test per rule the two importers used to apply in their own way; the format's
own paths still name the problem (`service_at_locations[0].location.latitude`, `grantProgramme/0/code`)."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from services_db import editing
from services_db.db import open_database
from services_db.permissions import Actor
from services_db.transfer import giving, openreferral
from services_db.transfer.imports import apply_plan, plan_import

ADMIN = Actor("test-admin", "admin")
COMPARED_OUT = {"key", "id", "version", "source", "known_from", "updated_at", "updated_by", "extra"}


def _csv(rows: list[dict]) -> bytes:
    header = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, restval="")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def _record(db, kind: str, key: str) -> dict:
    return {k: (sorted(v) if isinstance(v, list) else v) for k, v in editing.load(db, kind, key).items()
            if k not in COMPARED_OUT}


def _sid(name: str) -> str:
    return openreferral.uid("format-rules", name)


def _term(name: str, term: str | None = None, ours: bool = False) -> dict:
    """An attribute: a term of our vocabulary (`ours`), or a foreign one (matched to a theme by its term or name)."""
    taxonomy_term = {"id": _sid(f"term/{name}/{term}"), "name": name}
    if term is not None:
        taxonomy_term["term"] = term
    if ours:
        taxonomy_term["taxonomy"] = openreferral.TAXONOMY
    return {"id": _sid(f"attr/{name}/{term}"), "link_type": "service", "taxonomy_term": taxonomy_term}


def _location(address: dict | None = None, **point) -> list[dict]:
    loc: dict = {"id": _sid(f"loc/{address}/{point}"), "location_type": "physical", **point}
    if address:
        loc["addresses"] = [{"id": _sid(f"addr/{address}"), **address}]
    return [{"id": _sid(f"sal/{address}/{point}"), "location": loc}]


def _item(rule: str, **change) -> dict:
    """A service as a foreign feed gives it: provider by our UUID, theme by a term's name, area by GSS code."""
    item = {"id": _sid(rule), "name": "Rule test service", "description": "", "status": "active",
            "organization": {"id": openreferral.uid("organisation", "lancashire-care-ft"),
                             "name": "Lancashire Care Foundation Trust"},
            "service_areas": [{"id": _sid(f"{rule}/area"), "extent": "E07000117"}],
            "attributes": [_term("Mental health")]}
    item.update(change)
    return item


ROW = {"name": "Rule test service", "description": "", "provider_key": "lancashire-care-ft",
       "themes": "mental-health", "coverage": "E07000117", "status": "active"}

# rule -> (the service as an Open Referral UK item, the same service as a services template row)
SAME = {
    # names: a feed named the organisation, theme and area as people say them; the importer matched only our UUIDs,
    # lower-cased names and exact GSS codes, so it made a second "oruk-" organisation (sector VCFS), dropped the
    # theme and skipped the service as outside the force. Now references.py resolves them as every import does.
    "names": (_item("names", organization={"id": _sid("names/org"), "name": "Lancashire Care NHS Foundation Trust"},
                    attributes=[_term("Drugs & alcohol")],
                    service_areas=[{"id": _sid("names/area"), "name": "Burnley and Pendle"}]),
              {"provider_key": "Lancashire Care NHS Foundation Trust", "themes": "Drugs & alcohol",
               "coverage": "Burnley and Pendle"}),
    # choices in another case: the importer refused "tier:Tertiary" ("not a prevention tier"); now tertiary
    "choice-case": (_item("choice-case", attributes=[_term("Mental health"), _term("Tier", "tier:Tertiary", True)]),
                    {"tier": "Tertiary"}),
    # coordinates and the address: kept, as one address line, whichever way they come
    "coordinates": (_item("coordinates", service_at_locations=_location(
                        {"address_1": "1 Market Street", "city": "Burnley", "postal_code": "BB11 1AA"},
                        latitude=53.789, longitude=-2.243)),
                    {"address": "1 Market Street, Burnley, BB11 1AA", "latitude": "53.789", "longitude": "-2.243"}),
    # a confidential location is never stored
    "confidential": (_item("confidential", service_at_locations=_location({"address_1": "1 Hidden Lane"},
                                                                           latitude=53.7, longitude=-2.2),
                           attributes=[_term("Mental health"), _term("Confidential", "confidential-location:yes",
                                                                     True)]),
                     {"confidential_location": "true", "address": "1 Hidden Lane", "latitude": "53.7",
                      "longitude": "-2.2"}),
    # an empty status: a new service is active
    "status-empty": (_item("status-empty", status=""), {"status": ""}),
    # the assured date is the last review
    "last-reviewed": (_item("last-reviewed", assured_date="2015-06-01"), {"last_reviewed": "2015-06-01"}),
}


@pytest.fixture(scope="module")
def both(_seeded_sqlite, tmp_path_factory):
    """One demo database: every rule's service imported from a feed and, under '<rule>-csv', from a template."""
    path = tmp_path_factory.mktemp("format-rules") / "demo.db"
    shutil.copy(_seeded_sqlite, path)
    db = open_database(f"sqlite:///{path}")
    outcome = {}
    for rule, (item, row) in SAME.items():  # one plan each: a rule that goes wrong fails its own test only
        feed = plan_import(db, "openreferral", [("feed.json", json.dumps(item).encode())])
        template = plan_import(db, "services", [("services.csv", _csv([{"service_key": f"{rule}-csv", **ROW,
                                                                         **row}]))])
        outcome[rule] = ([str(e) for e in feed.refused], feed.added, feed.skipped, [str(e) for e in template.refused])
        for plan in (feed, template):
            if not plan.refused:
                apply_plan(db, plan, ADMIN)
    yield db, outcome
    db.dispose()


def _same(db, rule: str, outcome: dict | None = None) -> dict:
    if outcome is not None:
        assert outcome[rule] == ([], {"service": 1}, {}, []), outcome[rule]
    feed, template = _record(db, "service", f"oruk-{_sid(rule)}"), _record(db, "service", f"{rule}-csv")
    assert feed == template
    return feed


def test_names_resolve_to_the_same_records_from_a_feed(both):
    db, outcome = both
    rec = _same(db, "names", outcome)
    assert (rec["provider_key"], rec["themes"], rec["coverage"]) == ("lancashire-care-ft", ["drugs-alcohol"],
                                                                     ["PBA08"])
    assert "oruk-" + _sid("names/org") not in dict(editing.keys_of(db, "organisation"))


def test_a_choice_in_another_case_means_the_same_from_a_feed(both):
    db, outcome = both
    assert _same(db, "choice-case", outcome)["tier"] == "tertiary"


def test_coordinates_and_address_are_the_same_from_a_feed(both):
    db, outcome = both
    rec = _same(db, "coordinates", outcome)
    assert (rec["address"], rec["latitude"], rec["longitude"]) == ("1 Market Street, Burnley, BB11 1AA", 53.789,
                                                                   -2.243)


def test_a_confidential_location_is_cleared_from_a_feed(both):
    db, outcome = both
    rec = _same(db, "confidential", outcome)
    assert (rec["confidential_location"], rec["address"], rec["latitude"], rec["longitude"]) == (True, "", None, None)


def test_an_empty_status_and_the_review_date_are_the_same_from_a_feed(both):
    db, outcome = both
    assert _same(db, "status-empty", outcome)["status"] == "active"
    assert str(_same(db, "last-reviewed", outcome)["last_reviewed"]) == "2015-06-01"


# -- refusals: the same message, the column named as each file names it; nothing written ---------------------------

REFUSED = {
    # lengths: the importer cut a long name to 300 and a capacity to 200 characters without a word
    "name-length": (_item("x", name="x" * 301), {"name": "x" * 301},
                    ("name", "name", "is longer than 300 characters")),
    "capacity-length": (_item("x", x_services_db={"capacity": "c" * 201}), {"capacity": "c" * 201},
                        ("x_services_db.capacity", "capacity", "is longer than 200 characters")),
    # coordinates out of range: refused before, in words of its own
    "latitude-range": (_item("x", service_at_locations=_location(latitude=95, longitude=-2.2)),
                       {"latitude": "95", "longitude": "-2.2"},
                       ("service_at_locations[0].location.latitude", "latitude", "95.0 is outside -90 to 90")),
    # a review in the future: accepted before
    "review-in-future": (_item("x", assured_date="2999-01-01"), {"last_reviewed": "2999-01-01"},
                         ("assured_date", "last_reviewed", "2999-01-01 is in the future")),
    # a service that ends before it starts: accepted before
    "period": (_item("x", attributes=[_term("Mental health"), _term("s", "start-date:2015-01-01", True),
                                      _term("e", "end-date:2014-01-01", True)]),
               {"start_date": "2015-01-01", "end_date": "2014-01-01"},
               ("attributes[2].taxonomy_term.term", "end_date", "ends (2014-01-01) before it starts (2015-01-01)")),
    # a service with no theme: added without one before (invisible to the review's theme shares)
    "no-theme": (_item("x", attributes=[_term("Floating support", "floating-support")]), {"themes": ""},
                 ("attributes", "themes", "is required but empty")),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_same_service_is_refused_the_same_way_from_a_feed(demo_db, case):
    item, row, (feed_column, template_column, message) = REFUSED[case]
    feed = plan_import(demo_db, "openreferral", [("feed.json", json.dumps(item).encode())])
    template = plan_import(demo_db, "services", [("services.csv", _csv([{"service_key": "x", **ROW, **row}]))])
    assert [(e.column, e.message.split(" (no taxonomy")[0]) for e in feed.refused] == [(feed_column, message)]
    assert [(e.column, e.message) for e in template.refused] == [(template_column, message)]
    assert [e.file for e in feed.refused] == ["feed.json"]


def test_a_funding_line_naming_an_unknown_fund_is_refused_the_same_way(demo_db):
    """The importer stored the line without its fund, without a word; now the template's refusal."""
    code = "funding:opcc-lancashire:csg-2031-32:100.00:2014-04-01/2015-03-31"
    item = _item("x", attributes=[_term("Mental health"), _term("line", code, True)])
    feed = plan_import(demo_db, "openreferral", [("feed.json", json.dumps(item).encode())])
    line = {"service_key": "mental-health-responding-team", "commissioner_key": "opcc-lancashire", "fund_key": "csg-2031-32",
            "annual_amount": "100.00", "start_date": "2014-04-01", "end_date": "2015-03-31"}
    template = plan_import(demo_db, "services", [("lines.csv", _csv([line]))])
    assert [e.message for e in feed.refused] == [e.message for e in template.refused]
    assert feed.refused[0].message.startswith("unknown fund 'csg-2031-32'")
    assert feed.refused[0].column == "attributes[1].taxonomy_term.term"


def test_a_new_organisation_needs_a_sector_from_a_feed_too(demo_db):
    """The importer made an organisation with no identifier "VCFS" without a word; a template refuses an
    organisation without a sector. Now the feed's is refused too, saying what would tell its sector."""
    item = _item("x", organization={"id": _sid("x/org"), "name": "Somewhere New Trust"})
    feed = plan_import(demo_db, "openreferral", [("feed.json", json.dumps(item).encode())])
    template = plan_import(demo_db, "services", [("orgs.csv", _csv([{"org_key": "new", "name": "Somewhere New Trust",
                                                                     "sector": ""}]))])
    assert [(e.column, e.message) for e in template.refused] == [("sector", "is required but empty")]
    assert [e.column for e in feed.refused] == ["organization"]
    assert feed.refused[0].message.startswith("is required but empty (Open Referral has no sector")


def test_a_new_organisation_keeps_the_sector_our_export_wrote(fresh_demo_db):
    """Our export writes an organisation's sector as "<sector> organisation"; the importer ignored it and made a
    statutory body without an org-id identifier VCFS. Now it is the organisation a template row gives."""
    db = fresh_demo_db
    item = _item("sector", organization={"id": _sid("sector/org"), "name": "Somewhere Borough Council",
                                         "description": "statutory organisation"})
    apply_plan(db, plan_import(db, "openreferral", [("feed.json", json.dumps(item).encode())]), ADMIN)
    apply_plan(db, plan_import(db, "services", [("orgs.csv", _csv([{
        "org_key": "sector-csv", "name": "Somewhere Borough Council", "sector": "statutory"}]))]), ADMIN)
    assert _record(db, "organisation", "oruk-" + _sid("sector/org")) == _record(db, "organisation", "sector-csv")


# -- rules for a service already stored --------------------------------------------------------------------------

def _stored_both_ways(db, rule: str, item: dict, row: dict) -> None:
    apply_plan(db, plan_import(db, "openreferral", [("feed.json", json.dumps(item).encode())]), ADMIN)
    apply_plan(db, plan_import(db, "services", [("services.csv", _csv([{"service_key": f"{rule}-csv", **ROW,
                                                                          **row}]))]), ADMIN)


def test_an_empty_status_keeps_an_ended_service_ended_from_a_feed(fresh_demo_db):
    """The importer read an empty status as "active" and so reopened an ended service; a blank template cell keeps
    the status."""
    db = fresh_demo_db
    _stored_both_ways(db, "ended", _item("ended", status="defunct"), {"status": "ended"})
    _stored_both_ways(db, "ended", _item("ended", status=""), {"status": ""})
    assert _same(db, "ended")["status"] == "ended"


def test_flagging_a_stored_service_confidential_clears_its_location_from_a_feed(fresh_demo_db):
    """The importer kept the address a service already had when a feed flagged it confidential (it only refused
    new ones); the template clears it, and so does the feed now, saying so in the preview."""
    db = fresh_demo_db
    place = _location({"address_1": "1 Market Street", "city": "Burnley"}, latitude=53.789, longitude=-2.243)
    _stored_both_ways(db, "hide", _item("hide", service_at_locations=place),
                      {"address": "1 Market Street, Burnley", "latitude": "53.789", "longitude": "-2.243"})
    flagged = _item("hide", attributes=[_term("Mental health"), _term("c", "confidential-location:yes", True)])
    plan = plan_import(db, "openreferral", [("feed.json", json.dumps(flagged).encode())])
    assert any("flagged confidential" in note and "Rule test service" in note for note in plan.notes)
    apply_plan(db, plan, ADMIN)
    apply_plan(db, plan_import(db, "services", [("services.csv", _csv([{"service_key": "hide-csv", **ROW,
                                                                         "confidential_location": "true"}]))]), ADMIN)
    rec = _same(db, "hide")
    assert (rec["confidential_location"], rec["address"], rec["latitude"], rec["longitude"]) == (True, "", None, None)


# -- 360Giving ---------------------------------------------------------------------------------------------------

def _grant(key: str, **change) -> dict:
    grant = {"id": f"{giving.prefix()}-{key}", "title": "Rule test grant", "description": "Rule test grant",
             "currency": "GBP", "amountAwarded": 1500, "awardDate": "2013-06-01",
             "recipientOrganization": [{"id": f"{giving.prefix()}-org-lancashire-care-ft",
                                        "name": "Lancashire Care Foundation Trust"}],
             "fundingOrganization": [{"id": f"{giving.prefix()}-org-opcc-lancashire", "name": "OPCC"}],
             "grantProgramme": [{"code": "csg-2013-14", "title": "Home Office Community Safety Grant 2013-14"}],
             "beneficiaryLocation": [{"name": "Burnley", "geoCode": "E07000117", "geoCodeType": "LAD"}]}
    grant.update(change)
    return grant


ALLOCATION = {"fund_key": "csg-2013-14", "recipient_key": "lancashire-care-ft", "amount": "1500",
              "purpose": "Rule test grant", "award_date": "2013-06-01", "area_codes": "E07000117"}

GRANTS_SAME = {
    # names: the importer took grant programmes, recipients and areas by code or identifier only ("unknown fund",
    # "unknown organisation", "unknown area code 'None'"); now by name as well, as a template row
    "names": (_grant("names", grantProgramme=[{"title": "Home Office Community Safety Grant 2013-14"}],
                     recipientOrganization=[{"id": "GB-CHC-0000000", "name": "Lancashire Care NHS Foundation Trust"}],
                     beneficiaryLocation=[{"name": "Burnley and Pendle"}]),
              {"fund_key": "Home Office Community Safety Grant 2013-14",
               "recipient_key": "Lancashire Care NHS Foundation Trust", "area_codes": "Burnley and Pendle"}),
    # defaults (status awarded, payment schedule single) and planned dates
    "defaults": (_grant("defaults", plannedDates=[{"startDate": "2013-07-01", "endDate": "2014-03-31"}]),
                 {"planned_start": "2013-07-01", "planned_end": "2014-03-31"}),
    # an estimated amount, as our export writes it
    "estimate": (_grant("estimate", description="Rule test grant" + giving.ESTIMATE_NOTE), {"is_estimate": "true"}),
}


def test_a_grant_is_the_allocation_a_template_row_gives(fresh_demo_db):
    db = fresh_demo_db
    pkg = {"grants": [g for g, _ in GRANTS_SAME.values()]}
    plan = plan_import(db, "360giving", [("grants.json", json.dumps(pkg).encode())])
    assert [str(e) for e in plan.refused] == [] and plan.added == {"allocation": len(GRANTS_SAME)}
    apply_plan(db, plan, ADMIN)
    rows = [{"allocation_key": f"{rule}-csv", **ALLOCATION, **row} for rule, (_, row) in GRANTS_SAME.items()]
    plan = plan_import(db, "services", [("allocations.csv", _csv(rows))])
    assert [str(e) for e in plan.refused] == []
    apply_plan(db, plan, ADMIN)
    got = {rule: (_record(db, "allocation", rule), _record(db, "allocation", f"{rule}-csv")) for rule in GRANTS_SAME}
    for rule, (grant, row) in got.items():
        assert grant == row, rule
    assert (got["names"][0]["fund_key"], got["names"][0]["recipient_key"], got["names"][0]["area_codes"]) == (
        "csg-2013-14", "lancashire-care-ft", ["PBA08"])
    assert (got["defaults"][0]["status"], got["defaults"][0]["payment_schedule"]) == ("awarded", "single")
    assert (got["estimate"][0]["is_estimate"], got["estimate"][0]["purpose"]) == (True, "Rule test grant")


def test_a_grant_for_a_stored_allocation_gives_the_record_a_new_one_gets(fresh_demo_db):
    """The importer read a changed description into the purpose but never the estimate note's meaning, so the same
    grant gave one record new and another over a stored allocation. Now one record."""
    db = fresh_demo_db
    first = _grant("again", description="Rule test grant")
    apply_plan(db, plan_import(db, "360giving", [("g.json", json.dumps({"grants": [first]}).encode())]), ADMIN)
    changed = {**first, "description": "Rule test grant, second phase" + giving.ESTIMATE_NOTE, "amountAwarded": 900}
    fresh = {**changed, "id": f"{giving.prefix()}-again-new"}
    plan = plan_import(db, "360giving", [("g.json", json.dumps({"grants": [changed, fresh]}).encode())])
    assert plan.changed == {"allocation": 1} and plan.added == {"allocation": 1}
    apply_plan(db, plan, ADMIN)
    assert _record(db, "allocation", "again") == _record(db, "allocation", "again-new")
    assert _record(db, "allocation", "again")["is_estimate"] is True


GRANTS_REFUSED = {
    # an unknown fund: now with "did you mean", as a template says it
    "fund": (_grant("x", grantProgramme=[{"code": "csg-2013-4"}]), {"fund_key": "csg-2013-4"},
             ("grantProgramme/0/code", "fund_key")),
    # a negative amount
    "amount": (_grant("x", amountAwarded=-5), {"amount": "-5"}, ("amountAwarded", "amount")),
    # an identifier longer than the key column: the importer cut it to 120 characters without a word
    "key-length": (_grant("k" * 121), {"allocation_key": "k" * 121}, ("id", "allocation_key")),
    # planned dates the wrong way round
    "period": (_grant("x", plannedDates=[{"startDate": "2014-01-01", "endDate": "2013-01-01"}]),
               {"planned_start": "2014-01-01", "planned_end": "2013-01-01"},
               ("plannedDates/0/endDate", "planned_end")),
    # an unknown area: "unknown area code" before, now the template's words and "did you mean"
    "area": (_grant("x", beneficiaryLocation=[{"name": "Nowhere", "geoCode": "E07999999"}]),
             {"area_codes": "E07999999"}, ("beneficiaryLocation", "area_codes")),
}


@pytest.mark.parametrize("case", list(GRANTS_REFUSED))
def test_the_same_allocation_is_refused_the_same_way_from_360giving(demo_db, case):
    grant, row, (grant_column, template_column) = GRANTS_REFUSED[case]
    plan = plan_import(demo_db, "360giving", [("grants.json", json.dumps({"grants": [grant]}).encode())])
    template = plan_import(demo_db, "services", [("allocations.csv", _csv([{"allocation_key": "x", **ALLOCATION,
                                                                            **row}]))])
    assert [(e.file, e.column) for e in plan.refused] == [("grants.json grants[0]", grant_column)]
    assert [e.column for e in template.refused] == [template_column]
    assert [e.message for e in plan.refused] == [e.message for e in template.refused]


def test_360giving_refuses_another_currency_and_names_what_it_does_not_store(demo_db):
    """Format rules of 360Giving's own: an amount in euros would be stored as pounds (it was), and a field the app
    has no column for is named in the preview, not dropped without a word."""
    euros = plan_import(demo_db, "360giving", [("g.json", json.dumps({"grants": [_grant("x", currency="EUR")]})
                                                .encode())])
    assert [str(e) for e in euros.refused] == [
        "g.json grants[0], column 'currency': 'EUR' is not GBP: amounts are stored in pounds, so this grant's would "
        "be wrong"]
    extra = plan_import(demo_db, "360giving", [("g.json", json.dumps({"grants": [_grant(
        "x", classifications=[{"title": "Youth"}], url="https://example.org/grant")]}).encode())])
    assert extra.refused == []
    assert ("grant fields this app has no column for were read but not stored: classifications (1 grant), "
            "url (1 grant)") in extra.notes


def test_a_feed_says_which_locations_it_does_not_store(demo_db):
    """A service has one address and point here; a feed's second location was dropped without a word."""
    two = _location({"address_1": "1 Market Street", "city": "Burnley"}, latitude=53.789, longitude=-2.243) + \
        _location({"address_1": "2 Church Street", "city": "Burnley"}, latitude=53.79, longitude=-2.24)
    plan = plan_import(demo_db, "openreferral", [("feed.json", json.dumps(_item("two", service_at_locations=two))
                                                  .encode())])
    assert plan.refused == [] and plan.added == {"service": 1}
    assert ("1 service(s) have more than one location: only the first address and coordinates are stored, the "
            "other locations are not (Rule test service)") in plan.notes
