"""The directory in Open Referral UK (HSDS 3.0 UK profile) JSON, out and in.

Identifiers: HSDS wants UUIDs, we key records by text, so an exported id is a UUID5 of our key and an import
recognises it again (import what we export changes nothing). Whatever a feed carries that we have no column for
(url, email, schedules, languages, cost options, funding, contacts, unmatched areas and taxonomy terms) is kept in
`Service.extra["openreferral"]` rather than dropped. A service with a confidential location is exported without
its address or coordinates: only the areas it covers.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services_db.db import Database
from services_db.models import Area, Coverage, Organisation, Service, Theme, utcnow
from services_db.transfer.plan import ImportPlan
from services_db.validation import RecordError

NAMESPACE = uuid.UUID("6f1d8a52-3c1e-4a53-9a64-6b1f0c2d9e10")
STATUS_OUT = {"active": "active", "planned": "inactive", "ended": "defunct"}
STATUS_IN = {"active": "active", "inactive": "planned", "defunct": "ended", "temporarily closed": "active"}
THEME_TAXONOMY = "services-db-themes"
KEPT = ("url", "email", "fees", "accreditations", "minimum_age", "maximum_age", "alert", "assurer_email",
        "schedules", "languages", "cost_options", "funding", "contacts")


def uid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def export_services(db: Database) -> dict:
    """Every service as one page of an HSDS `/services` response (full service objects in `contents`)."""
    with db.sessions() as s:
        services = s.scalars(select(Service).order_by(Service.key).options(
            selectinload(Service.provider), selectinload(Service.themes), selectinload(Service.coverage),
            selectinload(Service.funding_lines))).all()
        areas = {a.code: a for a in s.scalars(select(Area).where(Area.level != "lsoa"))}
        lsoa_names = dict(s.execute(select(Area.code, Area.name).where(Area.level == "lsoa")).all())
        items = [service_json(svc, areas, lsoa_names) for svc in services]
    return {"total_items": len(items), "total_pages": 1, "page_number": 1, "size": len(items),
            "first_page": True, "last_page": True, "empty": not items, "contents": items}


def _org_json(org: Organisation) -> dict:
    out = {"id": uid("organisation", org.key), "name": org.name, "description": f"{org.sector} organisation"}
    if org.org_identifier:
        scheme, _, ident = org.org_identifier.rpartition("-")
        out["organization_identifiers"] = [{
            "id": uid("org-identifier", org.key), "organization_id": out["id"],
            "identifier_scheme": scheme or "org-id", "identifier_type": "org-id", "identifier": ident}]
    return out


def service_json(svc: Service, areas: dict[str, Area], lsoa_names: dict[str, str]) -> dict:
    sid = uid("service", svc.key)
    out: dict = {"id": sid, "name": svc.name, "description": svc.description,
                 "status": STATUS_OUT.get(svc.status, "active")}
    kept = dict((svc.extra or {}).get("openreferral", {}))
    for k in KEPT:
        if k in kept and k not in ("funding", "contacts"):
            out[k] = kept[k]
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
    out["attributes"] = [{
        "id": uid("attribute", f"{svc.key}/{t.key}"), "link_id": sid, "link_type": "service",
        "taxonomy_term_id": uid("theme", t.key),
        "taxonomy_term": {"id": uid("theme", t.key), "name": t.name, "description": t.description or t.name,
                          "taxonomy": THEME_TAXONOMY, "term": t.key}} for t in sorted(svc.themes, key=lambda t: t.key)]
    funders = sorted({fl.commissioner.name for fl in svc.funding_lines if fl.commissioner is not None})
    out["funding"] = [{"id": uid("funding", f"{svc.key}/{n}"), "service_id": sid, "source": n} for n in funders]
    out["funding"] += [f for f in kept.get("funding", []) if f.get("source") not in funders]
    contacts = list(kept.get("contacts", []))
    if svc.contact and not contacts:
        contacts = [{"id": uid("contact", svc.key), "service_id": sid, "name": svc.contact}]
    out["contacts"] = contacts
    if not svc.confidential_location and (svc.address or svc.latitude is not None):
        loc = {"id": uid("location", svc.key), "location_type": "physical", "name": svc.name}
        if svc.latitude is not None and svc.longitude is not None:
            loc["latitude"], loc["longitude"] = svc.latitude, svc.longitude
        if svc.address:
            parts = [p.strip() for p in svc.address.split(",")]
            loc["addresses"] = [{"id": uid("address", svc.key), "location_id": loc["id"], "address_1": parts[0],
                                 "city": parts[1] if len(parts) > 2 else "", "state_province": "Lancashire",
                                 "postal_code": parts[-1] if len(parts) > 1 else "", "country": "GB",
                                 "address_type": "physical"}]
        out["service_at_locations"] = [{"id": uid("service-at-location", svc.key), "service_id": sid,
                                        "location_id": loc["id"], "location": loc}]
    return out


def services_in(document, label: str) -> tuple[list[tuple[str, dict, dict | None]], list[RecordError]]:
    """The services in a single service, a paginated list, or an organisation with its services."""
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return [(f"{label} contents[{i}]", d, None) for i, d in enumerate(document["contents"])], []
    if isinstance(document, dict) and isinstance(document.get("services"), list):
        org = {k: v for k, v in document.items() if k != "services"}
        return [(f"{label} services[{i}]", d, org) for i, d in enumerate(document["services"])], []
    if isinstance(document, dict) and "name" in document and "id" in document:
        return [(label, document, None)], []
    if isinstance(document, list):
        return [(f"{label} [{i}]", d, None) for i, d in enumerate(document)], []
    return [], [RecordError(label, None, None, "wrong header: not an Open Referral service, /services page or "
                            "organisation with services")]


def plan_openreferral(s: Session, documents: list[tuple[str, object]], files: list[str]) -> ImportPlan:
    plan = ImportPlan("openreferral", files)
    by_uid = {uid("service", k): k for k in s.scalars(select(Service.key))}
    orgs_by_uid = {uid("organisation", k): k for k in s.scalars(select(Organisation.key))}
    orgs_by_ident = {i: k for k, i in s.execute(select(Organisation.key, Organisation.org_identifier)) if i}
    areas = s.execute(select(Area.code, Area.name, Area.level)).all()
    area_codes = {a.code for a in areas}
    area_by_name = {a.name.lower(): a.code for a in areas if a.level != "lsoa"}
    themes = {t.key: t.key for t in s.scalars(select(Theme))}
    themes.update({t.name.lower(): t.key for t in s.scalars(select(Theme))})
    records: list[dict] = []
    seen: dict[str, str] = {}
    for label, doc in documents:
        items, errs = services_in(doc, label)
        plan.refused.extend(errs)
        for where, item, org in items:
            plan.rows_read += 1
            n = len(plan.refused)

            def fail(column: str, message: str, where=where) -> None:
                plan.refused.append(RecordError(where, None, column, message))

            if not isinstance(item, dict):
                fail("", "is not a service object")
                continue
            sid = str(item.get("id") or "").strip()
            name = str(item.get("name") or "").strip()
            for col, val in (("id", sid), ("name", name)):
                if not val:
                    fail(col, "is required but empty")
            if sid in seen:
                fail("id", f"duplicate identifier '{sid}' (first at {seen[sid]})")
            status = str(item.get("status") or "active")
            if status not in STATUS_IN:
                fail("status", f"'{status}' is not one of {', '.join(STATUS_IN)}")
            org = item.get("organization") or org
            coverage, unmatched = [], []
            for j, sa in enumerate(item.get("service_areas") or []):
                found = _area_of(sa, area_codes, area_by_name)
                if found:
                    coverage.append(found)
                else:
                    unmatched.append(sa)
                    code = str(sa.get("extent") or "")
                    if code[:3] in ("E01", "E06", "E07", "E08", "E09", "W01", "W06"):
                        fail(f"service_areas[{j}].extent", f"unknown area code '{code}'")
            if not coverage and len(plan.refused) == n:
                fail("service_areas", "no service area in this force area (give a district, policing area or "
                     "LSOA name or GSS code)")
            theme_keys, terms = [], []
            for a in item.get("attributes") or []:
                term = (a or {}).get("taxonomy_term") or {}
                key = themes.get(str(term.get("term") or "")) or themes.get(str(term.get("name") or "").lower())
                if key:
                    theme_keys.append(key)
                else:
                    terms.append(term)
            dates = {}
            for col in ("assured_date",):
                if item.get(col):
                    try:
                        dates[col] = dt.date.fromisoformat(str(item[col])[:10])
                    except ValueError:
                        fail(col, f"'{item[col]}' is not a date (use YYYY-MM-DD)")
            if len(plan.refused) > n:
                continue
            seen[sid] = where
            key = by_uid.get(sid) or f"oruk-{sid}"[:120]
            loc = _location(item)
            kept = {k: item[k] for k in KEPT if item.get(k) not in (None, "", [])}
            if unmatched:
                kept["service_areas_unmatched"] = unmatched
            if terms:
                kept["taxonomy_terms"] = terms
            kept["status"], kept["id"] = status, sid
            org_key = None
            if isinstance(org, dict) and org.get("name"):
                ident = _org_identifier(org)
                org_key = (orgs_by_uid.get(str(org.get("id"))) or orgs_by_ident.get(ident)
                           or f"oruk-{org.get('id') or org['name']}"[:80])
            records.append(dict(key=key, name=name[:300], description=str(item.get("description") or ""),
                                status=STATUS_IN[status], contact=_contact(item), coverage=sorted(set(coverage)),
                                themes=sorted(set(theme_keys)), last_reviewed=dates.get("assured_date"),
                                org=org, org_key=org_key, kept=kept, **loc))
            plan.count("changed" if key in by_uid.values() else "added", "service")
    new_orgs = {r["org_key"] for r in records if r["org_key"]} - set(orgs_by_uid.values())
    if new_orgs:
        plan.count("added", "organisation", len(new_orgs))

    def writer(session: Session, username: str) -> None:
        source = "Open Referral UK import: " + ", ".join(files)
        orgs = {o.key: o for o in session.scalars(select(Organisation))}
        theme_objs = {t.key: t for t in session.scalars(select(Theme))}
        for r in records:
            if r["org_key"] and r["org_key"] not in orgs:
                orgs[r["org_key"]] = Organisation(key=r["org_key"], name=str(r["org"]["name"])[:200],
                                                  sector=_sector(_org_identifier(r["org"])),
                                                  org_identifier=_org_identifier(r["org"]) or None,
                                                  source=source[:300], updated_by=username)
                session.add(orgs[r["org_key"]])
            svc = session.scalar(select(Service).where(Service.key == r["key"]))
            if svc is None:
                svc = Service(key=r["key"], source=source[:300], updated_by=username)
                session.add(svc)
            else:
                svc.version += 1
                svc.updated_by, svc.updated_at = username, utcnow()
            svc.name, svc.description, svc.status, svc.contact = r["name"], r["description"], r["status"], r["contact"]
            if r["org_key"]:
                svc.provider = orgs[r["org_key"]]
            if r["address"] or r["latitude"] is not None:
                svc.address, svc.latitude, svc.longitude = r["address"], r["latitude"], r["longitude"]
            if r["last_reviewed"]:
                svc.last_reviewed = r["last_reviewed"]
            if r["themes"]:
                svc.themes = [theme_objs[k] for k in r["themes"]]
            svc.extra = {**(svc.extra or {}), "openreferral": r["kept"]}
            session.flush()
            wanted = set(r["coverage"])
            svc.coverage = [c for c in svc.coverage if c.area_code in wanted]
            have = {c.area_code for c in svc.coverage}
            svc.coverage.extend(Coverage(area_code=a) for a in r["coverage"] if a not in have)
        session.flush()
    plan.writer = writer
    return plan


def _area_of(sa: dict, codes: set[str], by_name: dict[str, str]) -> str | None:
    if not isinstance(sa, dict):
        return None
    for field in ("extent", "uri", "name", "service_area"):
        val = str(sa.get(field) or "").strip()
        if not val:
            continue
        tail = val.rstrip("/").rsplit("/", 1)[-1]
        if tail in codes:
            return tail
        if val.lower() in by_name:
            return by_name[val.lower()]
    return None


def _location(item: dict) -> dict:
    out = {"address": "", "latitude": None, "longitude": None}
    for sal in item.get("service_at_locations") or []:
        loc = (sal or {}).get("location") or {}
        if loc.get("latitude") is not None and loc.get("longitude") is not None:
            try:
                out["latitude"], out["longitude"] = float(loc["latitude"]), float(loc["longitude"])
            except (TypeError, ValueError):
                pass
        for addr in loc.get("addresses") or []:
            parts = [addr.get(k) for k in ("address_1", "city", "postal_code")]
            out["address"] = ", ".join(str(p) for p in parts if p)
            break
        break
    return out


def _contact(item: dict) -> str:
    bits = []
    for c in item.get("contacts") or []:
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


def _sector(identifier: str) -> str:
    if identifier.startswith(("GB-LAE", "GB-LAS", "GB-GOV", "GB-PLA")):
        return "statutory"
    if identifier.startswith("GB-NHS"):
        return "health"
    if identifier.startswith("GB-COH"):
        return "private"
    return "VCFS"
