"""360Giving grants in: each grant becomes (or updates) an allocation of the fund named by its grant programme.

A grant's fields are mapped onto the allocations template's columns and read by the same rules as a template row
or an edit form (`records.read_allocation`: amounts, dates, statuses, defaults, lengths; `services_db.references`:
a fund, recipient or area may be named by its key, code or name, with "did you mean" for one that names nothing),
so the same allocation gets the same record whichever way it arrives. The format's own checks stay here: the
package shape, identifiers, the currency, and problems named by the grant's own paths (`grantProgramme/0/code`).

Recipient and funder are matched on their org-id identifier or the `360G-` identifier our export gives them (the
prefix is the publisher's, from `data/publisher.json`), else by the recipient's name; a grant exported by this app
comes back as the same allocation. An incoming grant is compared with the grant our export would write for the
stored allocation, field by field: a field that differs is read by the allocation rules and only a real difference
is a change (and bumps the allocation's version), so a re-import of our own export changes nothing. A field the
grant does not carry (no awardDate, no plannedDates, no beneficiaryLocation) is left as stored, never wiped; a
field the app has no column for is named in the preview, not dropped without a word.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services_db.models import Allocation, Area, Fund, Organisation, utcnow
from services_db.records import FormatRow, Refs, read_allocation, read_key, read_source
from services_db.transfer.giving import ESTIMATE_NOTE, area_maps, grant_json, org_id, prefix
from services_db.transfer.import_plan import ImportPlan
from services_db.validation import RecordError

UNCHANGED = "unchanged (already as stored)"
CENT = Decimal("0.01")
CURRENCY = "GBP"  # amounts are stored in pounds
# Where each allocations template column is in a grant: a problem with a column is named by it.
PATHS = {"allocation_key": "id", "fund_key": "grantProgramme/0/code", "recipient_key": "recipientOrganization/0/id",
         "amount": "amountAwarded", "purpose": "description", "is_estimate": "description",
         "award_date": "awardDate", "planned_start": "plannedDates/0/startDate",
         "planned_end": "plannedDates/0/endDate", "area_codes": "beneficiaryLocation", "source": "dataSource"}
# Grant fields the import reads (fundingOrganization: the fund's owner, which the fund already names; currency:
# checked; plannedDates' duration: worked out from the dates).
READ = {"id", "title", "description", "currency", "amountAwarded", "awardDate", "plannedDates",
        "recipientOrganization", "fundingOrganization", "grantProgramme", "beneficiaryLocation", "dataSource"}


def plan_360giving(s: Session, documents: list[tuple[str, object]], files: list[str]) -> ImportPlan:
    """Check each package and grant in the format, read each grant as an allocations template row, compare it
    with what is stored and plan the writes."""
    plan = ImportPlan("360giving", files)
    pfx = prefix()
    refs = Refs.from_session(s)
    orgs = {org_id(o, pfx): o.key for o in s.scalars(select(Organisation))}
    grants_in: list[tuple[str, dict, str]] = []
    for label, doc in documents:
        grants = doc.get("grants") if isinstance(doc, dict) else None
        if not isinstance(grants, list):
            plan.refused.append(RecordError(label, None, None, "wrong header: not a 360Giving package "
                                            "(no 'grants' list)"))
            continue
        seen: dict[str, int] = {}
        for i, g in enumerate(grants):
            plan.rows_read += 1
            where = f"{label} grants[{i}]"
            if not isinstance(g, dict):
                plan.refused.append(RecordError(where, None, "", "is not a grant object"))
                continue
            gid = str(g.get("id") or "").strip()
            if gid in seen:
                plan.refused.append(RecordError(where, None, "id", f"duplicate identifier '{gid}' (first at "
                                                f"grants[{seen[gid]}])"))
                continue
            if gid:
                seen[gid] = i
            grants_in.append((where, g, gid.removeprefix(pfx + "-")))

    stored = _stored(s, [key for _, _, key in grants_in])
    area_objs, children = area_maps(s)
    todo: list[dict] = []
    not_stored: dict[str, int] = {}
    default_source = ("360Giving import: " + ", ".join(files))[:300]
    for where, g, key in grants_in:
        n = len(plan.refused)
        al = stored.get(key)
        ours = grant_json(al, area_objs, children, pfx) if al is not None else None
        row, paths = _row(g, key, orgs, pfx, ours)
        c = FormatRow(where, None, row, plan.refused, paths)
        read_key(c, "allocation_key", Allocation)
        rec = read_allocation(c, refs, new=al is None)
        src = read_source(c, Allocation)
        currency = str(g.get("currency") or "").strip()
        if currency and currency.upper() != CURRENCY:
            c.fail("currency", f"'{currency}' is not {CURRENCY}: amounts are stored in pounds, so this grant's "
                               "would be wrong")
        if len(plan.refused) > n:
            continue
        for name in g:
            if name not in READ:
                not_stored[name] = not_stored.get(name, 0) + 1
        values = {**rec.refs, **rec.values, **rec.links}
        if al is None:
            todo.append(dict(key=key, action="add", values=values, source=src or default_source))
            plan.count("added", "allocation")
            continue
        changes = {k: v for k, v in values.items() if _differs(v, _stored_value(al, k))}
        if src and src != al.source:
            changes["source"] = src
        if changes:
            todo.append(dict(key=key, action="change", changes=changes))
            plan.count("changed", "allocation")
        else:
            plan.count("skipped", UNCHANGED)
    if not_stored:
        plan.notes.append("grant fields this app has no column for were read but not stored: " + ", ".join(
            f"{name} ({count:,} grant{'s' if count != 1 else ''})" for name, count in sorted(not_stored.items())))

    def writer(session: Session, username: str) -> None:
        fund_objs = {f.key: f for f in session.scalars(select(Fund))}
        org_objs = {o.key: o for o in session.scalars(select(Organisation))}
        for d in todo:
            if d["action"] == "add":
                obj = Allocation(key=d["key"], source=d["source"], updated_by=username, updated_at=utcnow())
                session.add(obj)
                changes = d["values"]
            else:
                obj = session.scalar(select(Allocation).where(Allocation.key == d["key"]))
                obj.version += 1
                obj.updated_by, obj.updated_at = username, utcnow()
                changes = d["changes"]
            for attr, value in changes.items():
                if attr == "fund":
                    obj.fund = fund_objs[value]
                elif attr == "recipient":
                    obj.recipient = org_objs.get(value) if value else None
                elif attr == "areas":
                    obj.areas = [session.get(Area, c) for c in value]
                elif attr not in ("service", "priorities"):  # not carried by a grant: a new one has none
                    setattr(obj, attr, value)
        session.flush()
    plan.writer = writer
    return plan


def _row(g: dict, key: str, orgs: dict[str, str], pfx: str, ours: dict | None) -> tuple[dict, dict]:
    """The grant as an allocations template row, and where each column is in the grant. A new allocation reads
    every column; for a stored one (`ours`: the grant our export writes for it) a field is carried only when the
    grant says something our export would not, since the export fills in what the allocation leaves open (an
    award date from the fund, districts for a policing area, the force for no area)."""
    paths = dict(PATHS)
    row: dict = {"allocation_key": key}
    programme = _first(g, "grantProgramme")
    row["fund_key"] = str(programme.get("code") or programme.get("title") or "")
    if not programme.get("code") and programme.get("title"):
        paths["fund_key"] = "grantProgramme/0/title"
    row["amount"] = "" if g.get("amountAwarded") is None else str(g.get("amountAwarded"))
    if ours is None or g.get("recipientOrganization"):
        row["recipient_key"], paths["recipient_key"] = _recipient(_first(g, "recipientOrganization"), orgs, pfx)
    text = g.get("description")
    if text is not None:
        if ours is None or str(text) != ours["description"]:
            row["purpose"] = str(text).removesuffix(ESTIMATE_NOTE)
            row["is_estimate"] = "yes" if str(text).endswith(ESTIMATE_NOTE) else "no"
    elif g.get("title") and (ours is None or str(g["title"]) != ours["title"]):
        row["purpose"], paths["purpose"] = str(g["title"]), "title"
    elif ours is None:
        row["purpose"] = ""
    award = g.get("awardDate")
    if award and (ours is None or str(award)[:10] != ours["awardDate"]):
        row["award_date"] = str(award)
    if "plannedDates" in g:
        dates = _first(g, "plannedDates")
        row["planned_start"], row["planned_end"] = dates.get("startDate") or "", dates.get("endDate") or ""
    locations = g.get("beneficiaryLocation")
    if isinstance(locations, list) and locations:
        codes = sorted({str((loc or {}).get("geoCode") or (loc or {}).get("name") or "") if isinstance(loc, dict)
                        else "" for loc in locations} - {""})
        if ours is None or codes != sorted(loc["geoCode"] for loc in ours["beneficiaryLocation"]):
            row["area_codes"] = ";".join(codes)
    if g.get("dataSource"):
        row["source"] = str(g["dataSource"])
    return row, paths


def _recipient(org: dict, orgs: dict[str, str], pfx: str) -> tuple[str, str]:
    """What the recipient_key column holds (our key for an identifier we know, else the organisation's name for the
    references to find, else the identifier, refused as unknown) and where in the grant it came from."""
    ident = str(org.get("id") or "").strip()
    if not ident or ident == f"{pfx}-org-unknown":
        return "", PATHS["recipient_key"]
    if ident in orgs:
        return orgs[ident], PATHS["recipient_key"]
    name = str(org.get("name") or "").strip()
    if name:
        return name, "recipientOrganization/0/name"
    return ident, PATHS["recipient_key"]


def _first(g: dict, field: str) -> dict:
    items = g.get(field)
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}


def _stored_value(al: Allocation, attr: str):
    """The stored allocation's value in the form `read_allocation` gives it (keys for records, codes for areas)."""
    if attr in ("fund", "recipient", "service"):
        related = getattr(al, attr)
        return related.key if related is not None else None
    if attr == "areas":
        return [a.code for a in al.areas]
    if attr == "priorities":
        return [p.key for p in al.priorities]
    if attr == "amount":
        return Decimal(al.amount).quantize(CENT)
    return getattr(al, attr)


def _differs(new, old) -> bool:
    if isinstance(new, list):
        return set(new) != set(old)
    return new != old


def _stored(s: Session, keys: list[str]) -> dict[str, Allocation]:
    out: dict[str, Allocation] = {}
    for i in range(0, len(keys), 500):
        out.update((a.key, a) for a in s.scalars(select(Allocation).where(Allocation.key.in_(keys[i:i + 500]))
                                                  .options(selectinload(Allocation.fund).selectinload(Fund.owner),
                                                           selectinload(Allocation.recipient),
                                                           selectinload(Allocation.areas),
                                                           selectinload(Allocation.priorities))))
    return out
