"""The directory in Open Referral UK (HSDS 3.0 UK profile) JSON, out and in (docs/openreferral.md).

Identifiers: HSDS wants UUIDs, we key records by text, so an exported id is a UUID5 of our key and an import
recognises it again; the key itself travels in our extension object, so an import into another directory keeps it.

What the profile has a field for goes there (name, description, status, provider, assured date, service areas down
to LSOA, location and address, funding sources as text, contacts). What it has no field for is carried in two ways:
- coded facts as `attributes` whose taxonomy terms belong to our published vocabulary `services-db` (TAXONOMY):
  `theme:<key>`, `tier:<tier>`, `target-group:<key>`, `priority:<key>`, `confidential-location:yes|no`,
  `start-date:<date>`, `end-date:<date>`, `end-date-is-estimate:yes` and one
  `funding:<commissioner key>:<fund key or ->:<annual amount>:<start or ..>/<end or ..>[:estimate]` per funding line;
- free text as fields the schema allows but does not name: `eligibility_description` (the HSDS 3.0 core field the UK
  profile leaves out) and the object `x_services_db` (EXTENSION: key, referral_route, capacity, known_from, contact).
Whatever a feed carries that we have no column for (url, email, schedules, languages, cost options, funding text,
contacts, unmatched areas and taxonomy terms) is kept in `Service.extra["openreferral"]` and exported again.

Import rules:
- One rule set: each item's fields are mapped onto the services template's columns and read by `services_db.records`
  (`read_service`, `read_organisation`, `read_funding_line`), as a template row or an edit form is, so the same
  service gets the same record, or the same refusal, however it arrives (lengths, an empty status, review dates,
  periods, choices in any case, a theme required, a confidential location never stored). Themes, target groups,
  priorities, commissioners, organisations and areas are matched by key or name (`services_db.references`). What
  stays here is the format's own: its shapes and identifiers, our vocabulary's terms, which areas are this force's,
  and naming each problem by the item's own path (`records.FormatRow`).
- Merge, never wipe: a field the item does not carry (the summary list form carries no areas, attributes, contacts,
  schedules...) keeps its stored value. An item in our own vocabulary carries all of its coded facts, so there an
  absent term means "none".
- Compare, then write: each item is compared with the stored service; only a real difference is a change (and bumps
  version, updated_at, updated_by). Unchanged items are counted as skipped "unchanged".
- Place: a service whose service areas are all outside this force (or a location outside it) is skipped and named in
  the preview, not refused; a location without service areas is placed in its LSOA by point in polygon.
- Confidential: a service flagged confidential (stored, or by the feed) never has an address or coordinates stored
  (one it held is cleared, and the preview says so), and is exported without them: only the areas it covers.
- Organisations: matched by our UUID, org-id identifier, then name; a new one takes the sector our export wrote
  ("<sector> organisation") or its identifier scheme says, and is refused when nothing says (no silent default).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, selectinload

from services_db.db import Database
from services_db.models import (
    SECTORS,
    Area,
    Coverage,
    Fund,
    FundingLine,
    Organisation,
    Priority,
    Service,
    TargetGroup,
    Theme,
    service_priority,
    utcnow,
)
from services_db.records import (
    FormatRow,
    Refs,
    read_funding_line,
    read_organisation,
    read_point,
    read_service,
)
from services_db.references import AreaLookup, Lookup
from services_db.transfer.giving import publisher_settings
from services_db.transfer.import_plan import ImportPlan
from services_db.validation import RecordError

NAMESPACE = uuid.UUID("6f1d8a52-3c1e-4a53-9a64-6b1f0c2d9e10")
STATUS_OUT = {"active": "active", "planned": "inactive", "ended": "defunct"}
STATUS_IN = {"active": "active", "inactive": "planned", "defunct": "ended", "temporarily closed": "active"}
TAXONOMY = "services-db"  # our published vocabulary (docs/openreferral.md lists its terms)
LEGACY_THEME_TAXONOMY = "services-db-themes"  # what earlier exports called the theme terms
EXTENSION = "x_services_db"
KEPT = ("url", "email", "fees", "accreditations", "minimum_age", "maximum_age", "alert", "assurer_email",
        "schedules", "languages", "cost_options", "funding", "contacts")
GSS_AREA_PREFIXES = ("E01", "E06", "E07", "E08", "E09", "W01", "W06")
UNCHANGED = "unchanged (already as stored)"
OUTSIDE = "outside this force area"
NOWHERE = "no service area or location, so not known to be in this force area"
MAX_NAMES = 20
YES_NO = {"yes": True, "no": False}
BLANK = {"name": "", "description": "", "status": "active", "contact": "", "provider": None, "tier": None,
         "eligibility": "", "referral_route": "", "capacity": "", "start_date": None, "end_date": None,
         "end_date_is_estimate": False, "known_from": None, "last_reviewed": None, "confidential_location": False,
         "address": "", "latitude": None, "longitude": None, "themes": [], "target_groups": [], "priorities": [],
         "coverage": [], "funding": [], "extra": {}}
LIST_FIELDS = ("themes", "target_groups", "priorities", "funding")


def uid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


# ---------------------------------------------------------------------------------------------------------- export


def export_services(db: Database) -> dict:
    """Every service as one page of an HSDS `/services` response (full service objects in `contents`), in key order."""
    pub = publisher_settings().get("openreferral", {})
    with db.sessions() as s:
        services = s.scalars(select(Service).options(
            selectinload(Service.provider), selectinload(Service.themes), selectinload(Service.target_groups),
            selectinload(Service.coverage),
            selectinload(Service.funding_lines).selectinload(FundingLine.commissioner),
            selectinload(Service.funding_lines).selectinload(FundingLine.fund))).all()
        areas = {a.code: a for a in s.scalars(select(Area).where(Area.level != "lsoa"))}
        lsoa_names = dict(s.execute(select(Area.code, Area.name).where(Area.level == "lsoa")).all())
        prios = _priorities_of(s)
        items = [service_json(svc, areas, lsoa_names, prios.get(svc.id, []), pub)
                 for svc in sorted(services, key=lambda v: v.key)]
    return {"total_items": len(items), "total_pages": 1, "page_number": 1, "size": len(items),
            "first_page": True, "last_page": True, "empty": not items, "contents": items}


def _priorities_of(s: Session, service_ids: list[int] | None = None) -> dict[int, list[tuple[str, str]]]:
    stmt = select(service_priority.c.service_id, Priority.key, Priority.name).join(
        Priority, Priority.id == service_priority.c.priority_id)
    if service_ids is not None:
        stmt = stmt.where(service_priority.c.service_id.in_(service_ids))
    out: dict[int, list[tuple[str, str]]] = {}
    for sid, key, name in s.execute(stmt):
        out.setdefault(sid, []).append((key, name))
    return {k: sorted(v) for k, v in out.items()}


def _org_json(org: Organisation) -> dict:
    out = {"id": uid("organisation", org.key), "name": org.name, "description": f"{org.sector} organisation"}
    if org.org_identifier:
        scheme, _, ident = org.org_identifier.rpartition("-")
        out["organization_identifiers"] = [{
            "id": uid("org-identifier", org.key), "organization_id": out["id"],
            "identifier_scheme": scheme or "org-id", "identifier_type": "org-id", "identifier": ident}]
    return out


def _term(code: str, name: str, description: str = "") -> dict:
    return {"id": uid("taxonomy-term", f"{TAXONOMY}/{code}"), "name": name, "description": description or name,
            "taxonomy": TAXONOMY, "taxonomy_id": uid("taxonomy", TAXONOMY), "term": code}


def _attribute(owner: str, sid: str, term: dict) -> dict:
    term = dict(term)
    ident = f"{term.get('taxonomy') or ''}/{term.get('term') or term.get('id') or term.get('name') or ''}"
    term.setdefault("id", uid("taxonomy-term", ident))
    term.setdefault("name", str(term.get("term") or ""))
    term.setdefault("description", term["name"])
    return {"id": uid("attribute", f"{owner}/{ident}"), "link_id": sid, "link_type": "service",
            "taxonomy_term_id": term["id"], "taxonomy_term": term}


def funding_term(commissioner: str, fund: str | None, amount, start: dt.date | None, end: dt.date | None,
                 estimate: bool) -> str:
    period = f"{start.isoformat() if start else '..'}/{end.isoformat() if end else '..'}"
    return f"funding:{commissioner}:{fund or '-'}:{Decimal(amount):.2f}:{period}" + (":estimate" if estimate else "")


def _line(fl: FundingLine) -> tuple:
    """A funding line as compared on import: (commissioner, fund, amount, start, end, is_estimate)."""
    return (fl.commissioner.key, fl.fund.key if fl.fund else None, f"{Decimal(fl.annual_amount):.2f}",
            fl.start_date, fl.end_date, bool(fl.is_estimate))


def _terms(svc: Service, priorities: list[tuple[str, str]]) -> list[dict]:
    terms = [_term(f"theme:{t.key}", t.name, t.description or t.name) for t in sorted(svc.themes, key=lambda t: t.key)]
    if svc.tier:
        terms.append(_term(f"tier:{svc.tier}", f"Prevention tier: {svc.tier}",
                           "Prevention tier: primary (whole communities), secondary (early intervention for those "
                           "at risk), tertiary (reduce harm where it is happening)"))
    terms += [_term(f"target-group:{g.key}", g.name, f"Target group: {g.name}")
              for g in sorted(svc.target_groups, key=lambda g: g.key)]
    terms += [_term(f"priority:{key}", name, f"Plan priority: {name}") for key, name in priorities]
    if svc.confidential_location:
        terms.append(_term("confidential-location:yes", "Location is confidential",
                           "The service's address is confidential: only the areas it covers are published"))
    else:
        terms.append(_term("confidential-location:no", "Location is not confidential"))
    if svc.start_date:
        terms.append(_term(f"start-date:{svc.start_date.isoformat()}", f"Starts {svc.start_date.isoformat()}"))
    if svc.end_date:
        terms.append(_term(f"end-date:{svc.end_date.isoformat()}", f"Ends {svc.end_date.isoformat()}"))
    if svc.end_date_is_estimate:
        terms.append(_term("end-date-is-estimate:yes", "The end date is an estimate"))
    for fl in sorted(svc.funding_lines, key=lambda f: [str(x) for x in _line(f)]):
        name = f"{fl.commissioner.name}: £{Decimal(fl.annual_amount):,.2f} a year"
        if fl.fund is not None:
            name += f" from {fl.fund.name}"
        period = f"{fl.start_date or 'open start'} to {fl.end_date or 'open end'}"
        terms.append(_term(funding_term(*_line(fl)), name,
                           f"{name}, {period}{' (amount is an estimate)' if fl.is_estimate else ''}"))
    return terms


def _address_parts(address: str) -> tuple[str, str, str]:
    """'1 High St, Preston, PR1 1AA' → (address_1, city, postal_code); the import joins them back the same way."""
    parts = [p.strip() for p in address.split(",")]
    if len(parts) >= 3:
        return ", ".join(parts[:-2]), parts[-2], parts[-1]
    if len(parts) == 2:
        return parts[0], "", parts[1]
    return parts[0], "", ""


def service_json(svc: Service, areas: dict[str, Area], lsoa_names: dict[str, str],
                 priorities: list[tuple[str, str]] | None = None, pub: dict | None = None) -> dict:
    pub = pub if pub is not None else publisher_settings().get("openreferral", {})
    sid = uid("service", svc.key)
    kept = dict((svc.extra or {}).get("openreferral", {}))
    status = STATUS_OUT.get(svc.status, "active")
    if kept.get("status") in STATUS_IN and STATUS_IN[kept["status"]] == svc.status:
        status = kept["status"]  # e.g. "temporarily closed", which we store as active
    out: dict = {"id": sid, "name": svc.name, "description": svc.description, "status": status}
    for k in KEPT:
        if k in kept and k not in ("funding", "contacts"):
            out[k] = kept[k]
    if svc.eligibility:
        out["eligibility_description"] = svc.eligibility
    if svc.provider is not None:
        out["organization_id"] = uid("organisation", svc.provider.key)
        out["organization"] = _org_json(svc.provider)
    if svc.updated_at:
        out["last_modified"] = svc.updated_at.replace(microsecond=0).isoformat() + "Z"
    if svc.last_reviewed:
        out["assured_date"] = svc.last_reviewed.isoformat()
    out["service_areas"] = []
    for cv in sorted(svc.coverage, key=lambda c: c.area_code):
        name = areas[cv.area_code].name if cv.area_code in areas else lsoa_names.get(cv.area_code, cv.area_code)
        out["service_areas"].append({"id": uid("service-area", f"{svc.key}/{cv.area_code}"), "service_id": sid,
                                     "name": name, "extent_type": "gss_code" if cv.area_code[:1] in "EW"
                                     else "policing_area", "extent": cv.area_code})
    out["service_areas"] += [sa if sa.get("id") else {**sa, "id": uid("service-area", f"{svc.key}/kept/{i}")}
                             for i, sa in enumerate(kept.get("service_areas_unmatched", [])) if isinstance(sa, dict)]
    terms = _terms(svc, priorities or [])
    terms += [t for t in kept.get("taxonomy_terms", []) if isinstance(t, dict)]
    out["attributes"] = [_attribute(svc.key, sid, t) for t in terms]
    funders = sorted({fl.commissioner.name for fl in svc.funding_lines if fl.commissioner is not None})
    out["funding"] = [{"id": uid("funding", f"{svc.key}/{n}"), "service_id": sid, "source": n} for n in funders]
    out["funding"] += [f for f in kept.get("funding", []) if f.get("source") not in funders]
    contacts = list(kept.get("contacts", []))
    if svc.contact and not contacts:
        contacts = [{"id": uid("contact", svc.key), "service_id": sid, "name": svc.contact}]
    out["contacts"] = contacts
    ext: dict = {"key": svc.key}
    for field in ("referral_route", "capacity"):
        if getattr(svc, field):
            ext[field] = getattr(svc, field)
    if svc.known_from:
        ext["known_from"] = svc.known_from.isoformat()
    if _contact(out) != svc.contact:  # the contacts, email and url above do not spell the stored contact text
        ext["contact"] = svc.contact
    out[EXTENSION] = ext
    if not svc.confidential_location and (svc.address or svc.latitude is not None):
        loc = {"id": uid("location", svc.key), "location_type": "physical", "name": svc.name}
        if svc.latitude is not None and svc.longitude is not None:
            loc["latitude"], loc["longitude"] = svc.latitude, svc.longitude
        if svc.address:
            line1, city, postcode = _address_parts(svc.address)
            loc["addresses"] = [{"id": uid("address", svc.key), "location_id": loc["id"], "address_1": line1,
                                 "city": city, "state_province": str(pub.get("state_province", "")),
                                 "postal_code": postcode, "country": str(pub.get("country", "GB")),
                                 "address_type": "physical"}]
        out["service_at_locations"] = [{"id": uid("service-at-location", svc.key), "service_id": sid,
                                        "location_id": loc["id"], "location": loc}]
    return out


# ---------------------------------------------------------------------------------------------------------- import


def _unwrap(d):
    """A service_at_location object (a service with one of its locations) as a service with that location."""
    if isinstance(d, dict) and isinstance(d.get("service"), dict) and "name" not in d:
        svc = dict(d["service"])
        if isinstance(d.get("location"), dict) and not svc.get("service_at_locations"):
            svc["service_at_locations"] = [{"id": d.get("id"), "location": d["location"]}]
        return svc
    return d


def services_in(document, label: str) -> tuple[list[tuple[str, dict, dict | None]], list[RecordError]]:
    """The services in a single service, a paginated list, an organisation with its services, or service at
    location objects (single or paginated)."""
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return [(f"{label} contents[{i}]", _unwrap(d), None) for i, d in enumerate(document["contents"])], []
    if isinstance(document, dict) and isinstance(document.get("services"), list):
        org = {k: v for k, v in document.items() if k != "services"}
        return [(f"{label} services[{i}]", _unwrap(d), org) for i, d in enumerate(document["services"])], []
    if isinstance(document, dict) and "name" in document and "id" in document:
        return [(label, document, None)], []
    if isinstance(document, dict) and isinstance(document.get("service"), dict) and "id" in document:
        return [(label, _unwrap(document), None)], []
    if isinstance(document, list):
        return [(f"{label} [{i}]", _unwrap(d), None) for i, d in enumerate(document)], []
    return [], [RecordError(label, None, None, "wrong header: not an Open Referral service, /services page, "
                            "organisation with services or service at location")]


class _Lookups:
    """What the plan matches incoming values against, read once: the references every import resolves keys and
    names through (`records.Refs`, `services_db.references`), and the identifiers only this format uses."""

    def __init__(self, s: Session) -> None:
        self.refs = Refs.from_session(s)
        self.lsoa_codes = set(s.scalars(select(Area.code).where(Area.level == "lsoa")))
        org_keys = set(s.scalars(select(Organisation.key)))
        self.orgs_by_uid = {uid("organisation", k): k for k in org_keys}
        self.orgs_by_ident = {i: k for k, i in s.execute(select(Organisation.key, Organisation.org_identifier)) if i}
        self.service_by_uid = {uid("service", k): k for k in s.scalars(select(Service.key))}
        self.new_orgs: dict[str, dict] = {}  # organisations this feed adds: key -> values read_organisation gave


def plan_openreferral(s: Session, documents: list[tuple[str, object]], files: list[str]) -> ImportPlan:
    """Check every item in the format (`_read_item`), place and skip what is outside this force, then read each
    service that would be stored with the record rules (`_record`) and compare it with what is stored."""
    plan = ImportPlan("openreferral", files)
    look = _Lookups(s)
    pending: list[dict] = []
    seen: dict[str, str] = {}
    for label, doc in documents:
        items, errs = services_in(doc, label)
        plan.refused.extend(errs)
        for where, item, org in items:
            plan.rows_read += 1
            read = _read_item(where, item, org, look, seen, plan.refused)
            if read is not None:
                pending.append(read)

    stored = _stored_services(s, [r["key"] for r in pending])
    to_place = [r for r in pending if "coverage" not in r["row"] and not r["areas_given"]
                and r["key"] not in stored and r["point"] is not None]
    for r, code in zip(to_place, lsoas_at([r["point"] for r in to_place], look.lsoa_codes), strict=True):
        if code:
            r["row"]["coverage"] = code
    skipped: dict[str, list[str]] = {}
    records: list[dict] = []
    hidden: list[str] = []
    more: list[str] = []  # services with several locations: one address and point is stored
    for r in pending:
        cur = stored.get(r["key"])
        if cur is None and "coverage" not in r["row"]:
            reason = OUTSIDE if r["areas_given"] or r["point"] is not None else NOWHERE
            skipped.setdefault(reason, []).append(r["name"])
            continue
        if cur is not None and r["areas_given"] and "coverage" not in r["row"]:
            skipped.setdefault(OUTSIDE, []).append(r["name"])
            continue
        read = _record(r, cur, look, plan.refused)
        if read is None:
            continue
        inc, hidden_location = read
        if hidden_location:
            hidden.append(r["name"])
        if r["locations"] > 1:
            more.append(r["name"])
        before = cur or BLANK
        after = {**before, **inc}
        extra = {**before["extra"], **r["kept_set"]}
        for k in r["kept_del"]:
            extra.pop(k, None)
        after["extra"] = extra
        diff = {k: v for k, v in after.items() if v != before[k]}
        if cur is None:
            if "known_from" not in inc:
                diff.pop("known_from", None)  # the column's default: the day it was entered
            records.append(dict(r, action="add", diff=diff))
            plan.count("added", "service")
        elif diff:
            records.append(dict(r, action="change", diff=diff))
            plan.count("changed", "service")
        else:
            plan.count("skipped", UNCHANGED)
    for reason, names in skipped.items():
        plan.count("skipped", f"{reason}: {_some(names)}", len(names))
    if hidden:
        plan.notes.append(f"{len(hidden):,} service(s) flagged confidential: their address and coordinates are not "
                          f"stored ({_some(hidden)})")
    if more:
        plan.notes.append(f"{len(more):,} service(s) have more than one location: only the first address and "
                          f"coordinates are stored, the other locations are not ({_some(more)})")
    new_orgs = {r["diff"]["provider"] for r in records if r["diff"].get("provider")} & set(look.new_orgs)
    if new_orgs:
        plan.count("added", "organisation", len(new_orgs))

    def writer(session: Session, username: str) -> None:
        source = ("Open Referral UK import: " + ", ".join(files))[:300]
        orgs = {o.key: o for o in session.scalars(select(Organisation))}
        objs = {"themes": {t.key: t for t in session.scalars(select(Theme))},
                "target_groups": {g.key: g for g in session.scalars(select(TargetGroup))},
                "priorities": dict(session.execute(select(Priority.key, Priority.id)).all()),
                "funds": {f.key: f for f in session.scalars(select(Fund))}, "orgs": orgs}
        for r in records:
            provider = r["diff"].get("provider")
            if provider and provider not in orgs:  # an organisation this feed adds, read by the organisation rules
                orgs[provider] = Organisation(key=provider, source=source, updated_by=username,
                                              **look.new_orgs[provider])
                session.add(orgs[provider])
            if r["action"] == "add":
                svc = Service(key=r["key"], source=source, updated_by=username)
                session.add(svc)
            else:
                svc = session.scalar(select(Service).where(Service.key == r["key"]))
                svc.version += 1
                svc.updated_by, svc.updated_at = username, utcnow()
            for field, value in r["diff"].items():
                _set(session, svc, field, value, objs, source)
        session.flush()
    plan.writer = writer
    return plan


def _some(names: list[str]) -> str:
    return "; ".join(names[:MAX_NAMES]) + (f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")


def _set(session: Session, svc: Service, field: str, value, objs: dict, source: str) -> None:
    if field == "provider":
        svc.provider = objs["orgs"][value] if value else None
    elif field in ("themes", "target_groups"):
        setattr(svc, field, [objs[field][k] for k in value])
    elif field == "coverage":
        wanted = set(value)
        svc.coverage = [c for c in svc.coverage if c.area_code in wanted]
        have = {c.area_code for c in svc.coverage}
        svc.coverage.extend(Coverage(area_code=a) for a in value if a not in have)
    elif field == "priorities":
        session.flush()
        session.execute(delete(service_priority).where(service_priority.c.service_id == svc.id))
        for key in value:
            session.execute(insert(service_priority).values(service_id=svc.id, priority_id=objs["priorities"][key]))
    elif field == "funding":
        wanted = list(value)
        keep = []
        for fl in svc.funding_lines:
            if _line(fl) in wanted:
                wanted.remove(_line(fl))
                keep.append(fl)
        svc.funding_lines = keep + [
            FundingLine(commissioner=objs["orgs"][c], fund=objs["funds"].get(f) if f else None,
                        annual_amount=Decimal(amount), start_date=start, end_date=end, is_estimate=est, source=source)
            for c, f, amount, start, end, est in wanted]
    elif field == "extra":
        extra = {k: v for k, v in (svc.extra or {}).items() if k != "openreferral"}
        if value:
            extra["openreferral"] = value
        svc.extra = extra or None
    else:
        setattr(svc, field, value)


def _stored_services(s: Session, keys: list[str]) -> dict[str, dict]:
    """The stored values of the services these keys name, in the form the plan compares."""
    out: dict[str, dict] = {}
    keys = sorted(set(keys))
    for i in range(0, len(keys), 500):
        services = s.scalars(select(Service).where(Service.key.in_(keys[i:i + 500])).options(
            selectinload(Service.provider), selectinload(Service.themes), selectinload(Service.target_groups),
            selectinload(Service.coverage),
            selectinload(Service.funding_lines).selectinload(FundingLine.commissioner),
            selectinload(Service.funding_lines).selectinload(FundingLine.fund))).all()
        prios = _priorities_of(s, [v.id for v in services])
        for svc in services:
            out[svc.key] = {
                "name": svc.name, "description": svc.description, "status": svc.status, "contact": svc.contact,
                "provider": svc.provider.key if svc.provider else None, "tier": svc.tier,
                "eligibility": svc.eligibility, "referral_route": svc.referral_route, "capacity": svc.capacity,
                "start_date": svc.start_date, "end_date": svc.end_date,
                "end_date_is_estimate": bool(svc.end_date_is_estimate), "known_from": svc.known_from,
                "last_reviewed": svc.last_reviewed, "confidential_location": bool(svc.confidential_location),
                "address": svc.address, "latitude": svc.latitude, "longitude": svc.longitude,
                "themes": sorted(t.key for t in svc.themes), "target_groups": sorted(g.key for g in svc.target_groups),
                "priorities": [k for k, _ in prios.get(svc.id, [])],
                "coverage": sorted(c.area_code for c in svc.coverage),
                "funding": sorted((_line(fl) for fl in svc.funding_lines), key=lambda t: [str(x) for x in t]),
                "extra": dict((svc.extra or {}).get("openreferral", {}))}
    return out


# How a service object's fields map onto the services template's columns (`records.read_service`): the place in the
# item a problem with each column is named by. Columns read from a term of our vocabulary are named by that term.
PATHS = {"name": "name", "description": "description", "status": "status", "last_reviewed": "assured_date",
         "eligibility": "eligibility_description", "referral_route": f"{EXTENSION}.referral_route",
         "capacity": f"{EXTENSION}.capacity", "known_from": f"{EXTENSION}.known_from", "contact": "contacts",
         "coverage": "service_areas", "themes": "attributes", "target_groups": "attributes",
         "provider_key": "organization"}
HINTS = {"themes": "no taxonomy term names one of this directory's themes, by its key or its name; a service is "
                   "counted under its themes, so it needs one"}
# The org-id schemes that say which sector an organisation is in (Open Referral has no sector field).
SECTOR_SCHEMES = (("statutory", ("GB-LAE", "GB-LAS", "GB-GOV", "GB-PLA")), ("health", ("GB-NHS",)),
                  ("private", ("GB-COH",)), ("VCFS", ("GB-CHC", "GB-SC", "GB-NIC")))
SECTOR_HINT = ("Open Referral has no sector, and none can be told from this organisation's description or "
               "identifiers: give it an org-id identifier (GB-CHC, GB-LAE, GB-NHS, GB-COH...), or add it first "
               "with its sector through the organisations template")
FUNDING_COLUMNS = ("commissioner_key", "fund_key", "annual_amount", "start_date", "end_date", "is_estimate")


def _read_item(where: str, item, org, look: _Lookups, seen: dict[str, str],
               errors: list[RecordError]) -> dict | None:
    """The format's own checks on one service object, and its fields as the services template's columns (`row`,
    only those the item carries: a field it leaves out keeps what is stored); None if it was refused."""
    n = len(errors)

    def fail(column: str, message: str) -> None:
        errors.append(RecordError(where, None, column, message))

    if not isinstance(item, dict):
        fail("", "is not a service object")
        return None
    sid = str(item.get("id") or "").strip()
    name = str(item.get("name") or "").strip()
    for col, val in (("id", sid), ("name", name)):
        if not val:
            fail(col, "is required but empty")
    if sid and sid in seen:
        fail("id", f"duplicate identifier '{sid}' (first at {seen[sid]})")
    status = str(item.get("status") or "")
    if status and status not in STATUS_IN:
        fail("status", f"'{status}' is not one of {', '.join(STATUS_IN)}")
    ext = item.get(EXTENSION)
    if ext is not None and not isinstance(ext, dict):
        fail(EXTENSION, "is not an object")
        ext = None
    ext_key = str((ext or {}).get("key") or "")
    key = ext_key if ext_key and uid("service", ext_key) == sid else (look.service_by_uid.get(sid)
                                                                      or f"oruk-{sid}"[:120])
    row: dict = {"name": name}
    paths = dict(PATHS)
    point = _location(item, where, row, paths, errors)

    area_messages, coverage, unmatched = [], [], []
    areas_given = [sa for sa in item.get("service_areas") or [] if sa]
    for j, sa in enumerate(item.get("service_areas") or []):
        if not sa:
            continue
        found, problem, field = _area_of(sa, look.refs.areas)
        if problem:
            fail(f"service_areas[{j}].{field}", problem)
        elif found:
            coverage.append(found)
            continue
        unmatched.append(sa)
        code = str(sa.get("extent") or "") if isinstance(sa, dict) else ""
        if code[:3] in GSS_AREA_PREFIXES:
            area_messages.append((f"service_areas[{j}].extent", f"unknown area code '{code}'"))

    got = _read_attributes(item, look, fail)
    if len(errors) > n:  # a broken row is refused, whatever its area; name its unknown codes too
        for col, msg in area_messages:
            fail(col, msg)
        return None
    seen[sid] = where

    if "description" in item:
        row["description"] = str(item.get("description") or "")
    if "status" in item:
        row["status"] = STATUS_IN[status] if status else ""  # empty: a new service is active, a stored one keeps its
    if item.get("assured_date"):
        row["last_reviewed"] = str(item["assured_date"])
    if "eligibility_description" in item:
        row["eligibility"] = str(item.get("eligibility_description") or "")
    elif ext is not None:
        row["eligibility"] = ""
    if ext is not None:
        for col in ("referral_route", "capacity", "known_from"):
            row[col] = str(ext.get(col) or "")
    if ext is not None and "contact" in ext:
        row["contact"], paths["contact"] = str(ext.get("contact") or ""), f"{EXTENSION}.contact"
    elif "contacts" in item:
        row["contact"] = _contact(item)
    if coverage:
        row["coverage"] = ";".join(dict.fromkeys(coverage))
    whole = ext is not None or got["ours"]  # our own export carries every coded fact: absent means none
    priorities = funding = None
    if "attributes" in item:
        for field in ("themes", "target_groups"):
            if got[field] or whole:
                row[field] = ";".join(dict.fromkeys(got[field]))
        for field, empty in (("tier", ""), ("start_date", ""), ("end_date", ""), ("end_date_is_estimate", "no")):
            if got[field] is not None or whole:
                row[field] = got[field] if got[field] is not None else empty
        if got["confidential_location"] is not None:
            row["confidential_location"] = got["confidential_location"]
        paths.update(got["paths"])
        if got["priorities"] or whole:
            priorities = sorted(set(got["priorities"]))
        if got["funding"] or whole:
            funding = got["funding"]

    kept_set, kept_del = {}, set()
    for k in KEPT:
        if k not in item:
            continue
        value = item[k]
        if k == "funding" and isinstance(value, list):  # the sources our export writes from funding lines
            value = [f for f in value if not (isinstance(f, dict)
                                              and f.get("id") == uid("funding", f"{key}/{f.get('source')}"))]
        if k == "contacts" and isinstance(value, list):  # the contact our export writes from the contact text
            value = [c for c in value if not (isinstance(c, dict) and c.get("id") == uid("contact", key))]
        if value in (None, "", []):
            kept_del.add(k)
        else:
            kept_set[k] = value
    for k, value, carried in (("service_areas_unmatched", unmatched, bool(areas_given)),
                              ("taxonomy_terms", got["unmatched"], "attributes" in item)):
        if value:
            kept_set[k] = value
        elif carried:
            kept_del.add(k)
    if status:
        if STATUS_OUT.get(STATUS_IN[status]) != status:
            kept_set["status"] = status
        else:
            kept_del.add("status")
    if sid != uid("service", key):
        kept_set["id"] = sid
    org = item.get("organization") or org
    locations = sum(1 for sal in item.get("service_at_locations") or [] if isinstance(sal, dict) and sal)
    return dict(where=where, key=key, name=name, row=row, paths=paths, kept_set=kept_set, kept_del=kept_del,
                org=org if isinstance(org, dict) and org.get("name") else None, point=point,
                areas_given=bool(areas_given), priorities=priorities, funding=funding, locations=locations)


def _record(r: dict, cur: dict | None, look: _Lookups,
            errors: list[RecordError]) -> tuple[dict, bool] | None:
    """The service as the record rules read it (`records.read_service`, as the directory import and the edit form
    read theirs), its provider (`_provider`) and its funding lines (`records.read_funding_line`), in the form the
    plan compares: (values, whether a location given or held was not kept as the service is confidential); None
    if refused."""
    n = len(errors)
    row = dict(r["row"])
    if r["org"] is not None:
        row["provider_key"] = _provider(r["where"], r["org"], look, errors)
    c = FormatRow(r["where"], None, row, errors, r["paths"], HINTS)
    held = bool(cur and (cur["address"] or cur["latitude"] is not None or cur["longitude"] is not None))
    rec = read_service(c, look.refs, new=cur is None, was_confidential=bool(cur and cur["confidential_location"]),
                       had_location=held)
    inc = dict(rec.values)
    if "provider" in rec.refs:
        inc["provider"] = rec.refs["provider"]
    inc.update((name, sorted(keys)) for name, keys in rec.links.items())
    if "known_from" in row:  # ours only (x_services_db): when the service became known, not a template column
        inc["known_from"] = c.date("known_from")
    if r["priorities"] is not None:
        inc["priorities"] = r["priorities"]
    if r["funding"] is not None:
        look.refs.services.add(r["key"], r["name"])  # a line names its service, which may be new in this feed
        lines = []
        for col, line in r["funding"]:
            fc = FormatRow(r["where"], None, {"service_key": r["key"], **line}, errors,
                           dict.fromkeys(FUNDING_COLUMNS, col))
            fl = read_funding_line(fc, look.refs)
            v = fl.values
            if v["annual_amount"] is not None:
                lines.append((fl.refs["commissioner"], fl.refs["fund"], f"{v['annual_amount']:.2f}",
                              v["start_date"], v["end_date"], v["is_estimate"]))
        inc["funding"] = sorted(set(lines), key=lambda t: [str(x) for x in t])
    if len(errors) > n:
        return None
    return inc, rec.hidden_location


def _provider(where: str, org: dict, look: _Lookups, errors: list[RecordError]) -> str:
    """The key of the organisation that provides the service: ours by its UUID or org-id identifier, else the one
    this directory has by that name (`services_db.references`, punctuation and "NHS"/"Ltd" ignored, as every import
    matches names), else a new one read by the organisation rules (`records.read_organisation`); "" if refused."""
    ident = _org_identifier(org)
    key = look.orgs_by_uid.get(str(org.get("id"))) or look.orgs_by_ident.get(ident)
    if key:
        return key
    name = str(org.get("name") or "").strip()
    key, problem = look.refs.organisations.match(name)
    if problem:
        errors.append(RecordError(where, None, "organization.name", problem))
        return ""
    if key:
        return key
    key = f"oruk-{org.get('id') or name}"[:80]
    n = len(errors)
    c = FormatRow(where, None, {"name": name, "sector": _sector(org, ident), "org_identifier": ident}, errors,
                  {"name": "organization.name", "sector": "organization",
                   "org_identifier": "organization.organization_identifiers"}, {"sector": SECTOR_HINT})
    values = read_organisation(c).values
    if len(errors) > n:
        return ""
    look.new_orgs[key] = values
    look.refs.organisations.add(key, name)  # the feed's next service from this organisation finds it by name
    if ident:
        look.orgs_by_ident.setdefault(ident, key)
    return key


def _matched(lookup: Lookup, values: tuple[str, ...], col: str, fail) -> str | None:
    """The key the first of `values` that names a record names (`Lookup.match`: key or name); an ambiguous name is
    refused with its candidates, one that names nothing here is None (kept as it came by the caller)."""
    for value in values:
        value = value.strip()
        if not value:
            continue
        key, problem = lookup.match(value)
        if problem:
            fail(col, problem)
            return None
        if key:
            return key
    return None


def _read_attributes(item: dict, look: _Lookups, fail) -> dict:
    """Themes and the facts in our vocabulary, as the template's values (`paths`: the term each came from); any
    other term, and a term naming a record this directory does not have, is kept as it came."""
    refs = look.refs
    got: dict = {"themes": [], "target_groups": [], "priorities": [], "funding": [], "tier": None,
                 "start_date": None, "end_date": None, "end_date_is_estimate": None, "confidential_location": None,
                 "unmatched": [], "ours": False, "paths": {}}
    linked = {"theme": ("themes", refs.themes), "target-group": ("target_groups", refs.target_groups),
              "priority": ("priorities", refs.priorities)}
    facts = {"tier": "tier", "start-date": "start_date", "end-date": "end_date"}
    yes_no = {"confidential-location": "confidential_location", "end-date-is-estimate": "end_date_is_estimate"}
    for j, a in enumerate(item.get("attributes") or []):
        term = a.get("taxonomy_term") if isinstance(a, dict) else None
        if not isinstance(term, dict) or not term:
            continue
        code = str(term.get("term") or "")
        col = f"attributes[{j}].taxonomy_term.term"
        if term.get("taxonomy") != TAXONOMY or ":" not in code:
            theme = _matched(refs.themes, (code, str(term.get("name") or "")), col, fail)
            if theme:
                got["themes"].append(theme)
            else:
                got["unmatched"].append(term)
            continue
        got["ours"] = True
        kind, _, value = code.partition(":")
        if kind in linked:
            field, lookup = linked[kind]
            found = _matched(lookup, (value,), col, fail)
            if found:
                got[field].append(found)
            else:
                got["unmatched"].append(term)
        elif kind in facts:
            got[facts[kind]] = value
            got["paths"][facts[kind]] = col
        elif kind in yes_no:
            if value in YES_NO:
                got[yes_no[kind]] = value
                got["paths"][yes_no[kind]] = col
            else:
                fail(col, f"'{code}' must end in yes or no")
        elif kind == "funding":
            line = _funding_row(code, refs.organisations, lambda msg, col=col: fail(col, msg))
            if line is not None:
                got["funding"].append((col, line))
            elif not _funding_malformed(code):
                got["unmatched"].append(term)  # a commissioner this directory does not have: kept as it came
        else:
            got["unmatched"].append(term)
    return got


def _funding_parts(code: str) -> tuple[str, str, str, str, bool] | None:
    parts = code.split(":")
    estimate = parts[-1] == "estimate"
    if estimate:
        parts = parts[:-1]
    if len(parts) < 5 or parts[0] != "funding":
        return None
    return ":".join(parts[1:-3]), parts[-3], parts[-2], parts[-1], estimate


def _funding_malformed(code: str) -> bool:
    parts = _funding_parts(code)
    if parts is None:
        return True
    _, _, amount, period, _ = parts
    try:
        ok = Decimal(amount).is_finite() and Decimal(amount) >= 0
        start, _, end = period.partition("/")
        for d in (start, end):
            if d != "..":
                dt.date.fromisoformat(d)
    except (InvalidOperation, ValueError):
        return True
    return not ok


def _funding_row(code: str, organisations: Lookup, fail) -> dict | None:
    """`funding:<commissioner>:<fund or ->:<amount>:<start>/<end>[:estimate]` as a funding_lines template row (its
    values are read by `records.read_funding_line`); None if malformed (refused) or if this directory does not have
    the commissioner (the term is kept as it came)."""
    if _funding_malformed(code):
        fail(f"'{code}' is not funding:<commissioner>:<fund or ->:<annual amount>:<start or ..>/<end or ..>"
             "[:estimate]")
        return None
    commissioner, fund, amount, period, estimate = _funding_parts(code)
    key, problem = organisations.match(commissioner)
    if problem:
        fail(problem)
    if key is None:
        return None
    start, _, end = period.partition("/")
    return {"commissioner_key": key, "fund_key": "" if fund == "-" else fund, "annual_amount": amount,
            "start_date": "" if start == ".." else start, "end_date": "" if end == ".." else end,
            "is_estimate": "yes" if estimate else "no"}


def _area_of(sa, areas: AreaLookup) -> tuple[str | None, str | None, str]:
    """(code, None, field) for a service area naming one of our areas by GSS code (also at the end of a `uri`) or by
    name at any level (`AreaLookup.match`, as every import resolves areas); (None, problem, field) for a name that
    fits several; (None, None, "") for an area this directory does not have (kept as it came)."""
    if not isinstance(sa, dict):
        return None, None, ""
    for field in ("extent", "uri", "name", "service_area"):
        val = str(sa.get(field) or "").strip()
        if not val:
            continue
        tail = val.rstrip("/").rsplit("/", 1)[-1]
        if tail in areas:
            return tail, None, field
        code, problem = areas.match(val)
        if code or problem:
            return code, problem, field
    return None, None, ""


def _location(item: dict, where: str, row: dict, paths: dict, errors: list[RecordError]) -> tuple[float, float] | None:
    """The first location's point and address into `row`; every location's coordinates are checked by the one
    coordinate rule (`records.read_point`), named by the location they are in. The point, for placing the service."""
    point = None
    for j, sal in enumerate(item.get("service_at_locations") or []):
        loc = (sal or {}).get("location") if isinstance(sal, dict) else None
        if not isinstance(loc, dict):
            continue
        at = {f: f"service_at_locations[{j}].location.{f}" for f in ("latitude", "longitude")}
        lat, lon = read_point(FormatRow(where, None, {f: loc.get(f) for f in at}, errors, at))
        if point is None and lat is not None and lon is not None:
            point = (lat, lon)
            row["latitude"], row["longitude"] = lat, lon
            paths.update(at)
        for addr in loc.get("addresses") or []:
            if "address" not in row and isinstance(addr, dict):
                row["address"] = ", ".join(str(addr[k]).strip() for k in ("address_1", "city", "postal_code")
                                           if addr.get(k) not in (None, ""))
                paths["address"] = f"service_at_locations[{j}].location.addresses"
    return point


def lsoas_at(points: list[tuple[float, float]], known: set[str]) -> list[str | None]:
    """The LSOA (of those in `known`) each (latitude, longitude) lies in, by point in polygon against the ONS LSOA
    boundaries (services_db.boundaries); None outside them all."""
    out: list[str | None] = [None] * len(points)
    if not points or not known:
        return out
    try:
        import geopandas as gpd
        import pyogrio

        from services_db.boundaries import lsoa_source_path

        lats, lons = [p[0] for p in points], [p[1] for p in points]
        pad = 1e-4
        polys = pyogrio.read_dataframe(lsoa_source_path(), columns=["LSOA11CD"],
                                       bbox=(min(lons) - pad, min(lats) - pad, max(lons) + pad, max(lats) + pad))
    except (ImportError, OSError, RuntimeError):  # no boundaries to hand: nothing is placed
        return out
    polys = polys[polys["LSOA11CD"].isin(known)]
    if polys.empty:
        return out
    pts = gpd.GeoDataFrame({"i": range(len(points))}, geometry=gpd.points_from_xy(lons, lats),
                           crs=polys.crs or "EPSG:4326")
    joined = gpd.sjoin(pts, polys[["LSOA11CD", "geometry"]], how="inner", predicate="intersects")
    for i, code in sorted(zip(joined["i"], joined["LSOA11CD"], strict=True)):
        if out[i] is None:  # on a boundary: the first code
            out[i] = str(code)
    return out


def _contact(item: dict) -> str:
    bits = []
    for c in item.get("contacts") or []:
        if not isinstance(c, dict):
            continue
        text = " ".join(str(c.get(k)) for k in ("name", "title") if c.get(k))
        if text:
            bits.append(text)
    for k in ("email", "url"):
        if item.get(k):
            bits.append(str(item[k]))
    return "; ".join(bits)


def _org_identifier(org: dict) -> str:
    for ident in org.get("organization_identifiers") or []:
        scheme, value = ident.get("identifier_scheme"), ident.get("identifier")
        if scheme and value:
            return f"{scheme}-{value}"[:80]
    return ""


def _sector(org: dict, identifier: str) -> str:
    """The sector an organisation in a feed is in: as our export writes it ("<sector> organisation"), else as its
    org-id scheme says; "" when neither says (refused by the organisation rules: no silent default)."""
    described = str(org.get("description") or "")
    for sector in SECTORS:
        if described == f"{sector} organisation":
            return sector
    for sector, schemes in SECTOR_SCHEMES:
        if identifier.startswith(schemes):
            return sector
    return ""
