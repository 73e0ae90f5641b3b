"""360Giving grants in: each grant becomes (or updates) an allocation of the fund named by its grant programme.

Recipient and funder are matched on their org-id identifier or the `360G-` identifier our export gives them (the
prefix is the publisher's, from `data/publisher.json`); a grant exported by this app comes back as the same
allocation. An incoming grant is compared with the grant our export would write for the stored allocation, field by
field: only a real difference is a change (and bumps the allocation's version), so a re-import of our own export
changes nothing. A field the grant does not carry (no awardDate, no plannedDates, no beneficiaryLocation) is left as
stored, never wiped.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services_db.models import Allocation, Area, Fund, Organisation, utcnow
from services_db.transfer.giving import ESTIMATE_NOTE, area_maps, grant_json, org_id, prefix
from services_db.transfer.plan import ImportPlan
from services_db.validation import RecordError

UNCHANGED = "unchanged (already as stored)"
CENT = Decimal("0.01")


def plan_360giving(s: Session, documents: list[tuple[str, object]], files: list[str]) -> ImportPlan:
    plan = ImportPlan("360giving", files)
    pfx = prefix()
    funds = {f.key: f.id for f in s.scalars(select(Fund))}
    orgs = {org_id(o, pfx): o.key for o in s.scalars(select(Organisation))}
    areas = set(s.scalars(select(Area.code)))
    incoming: list[dict] = []
    for label, doc in documents:
        grants = doc.get("grants") if isinstance(doc, dict) else None
        if not isinstance(grants, list):
            plan.refused.append(RecordError(label, None, None, "wrong header: not a 360Giving package "
                                            "(no 'grants' list)"))
            continue
        seen: dict[str, int] = {}
        for i, g in enumerate(grants):
            plan.rows_read += 1
            where, n = f"{label} grants[{i}]", len(plan.refused)

            def fail(col: str, msg: str, where=where) -> None:
                plan.refused.append(RecordError(where, None, col, msg))

            if not isinstance(g, dict):
                fail("", "is not a grant object")
                continue
            gid = str(g.get("id") or "")
            if not gid:
                fail("id", "is required but empty")
            elif gid in seen:
                fail("id", f"duplicate identifier '{gid}' (first at grants[{seen[gid]}])")
            seen.setdefault(gid, i)
            try:
                amount = Decimal(str(g.get("amountAwarded")))
                if not amount.is_finite():
                    raise InvalidOperation
                if amount < 0:
                    fail("amountAwarded", f"amount {amount} is negative")
            except InvalidOperation:
                fail("amountAwarded", f"'{g.get('amountAwarded')}' is not a number")
                amount = None
            prog = ((g.get("grantProgramme") or [{}])[0]).get("code")
            if prog not in funds:
                fail("grantProgramme/0/code", f"unknown fund '{prog}'")
            rec = ((g.get("recipientOrganization") or [{}])[0]).get("id")
            if rec == f"{pfx}-org-unknown":
                rec = None
            if rec and rec not in orgs:
                fail("recipientOrganization/0/id", f"unknown organisation '{rec}'")
            dates = {}
            for col, val in (("awardDate", g.get("awardDate")),
                             ("plannedDates/0/startDate", _get0(g, "startDate")),
                             ("plannedDates/0/endDate", _get0(g, "endDate"))):
                if val:
                    try:
                        dates[col] = dt.date.fromisoformat(str(val)[:10])
                    except ValueError:
                        fail(col, f"'{val}' is not a date (use YYYY-MM-DD)")
            locations = g.get("beneficiaryLocation")
            codes = None
            if isinstance(locations, list) and locations:
                codes = sorted({str((loc or {}).get("geoCode")) for loc in locations})
                for code in codes:
                    if code not in areas:
                        fail("beneficiaryLocation", f"unknown area code '{code}'")
            if len(plan.refused) > n:
                continue
            incoming.append(dict(
                where=where, key=gid.removeprefix(pfx + "-")[:120], fund=prog, recipient=orgs.get(rec),
                has_recipient=bool(g.get("recipientOrganization")),
                amount=amount.quantize(CENT), description=g.get("description"), title=g.get("title"),
                award_date=dates.get("awardDate"), has_planned="plannedDates" in g,
                start=dates.get("plannedDates/0/startDate"), end=dates.get("plannedDates/0/endDate"), codes=codes))

    stored = _stored(s, [d["key"] for d in incoming])
    area_objs, children = area_maps(s)
    todo: list[dict] = []
    for d in incoming:
        al = stored.get(d["key"])
        if al is None:
            start, end = d["start"], d["end"]
        else:
            start = d["start"] if d["has_planned"] else al.planned_start
            end = d["end"] if d["has_planned"] else al.planned_end
        if start and end and end < start:
            plan.refused.append(RecordError(d["where"], None, "plannedDates/0/endDate",
                                            f"ends ({end}) before it starts ({start})"))
            continue
        if al is None:
            text = str(d["description"] or d["title"] or "")
            estimate = text.endswith(ESTIMATE_NOTE)
            todo.append(dict(d, action="add", purpose=text.removesuffix(ESTIMATE_NOTE), is_estimate=estimate))
            plan.count("added", "allocation")
            continue
        changes = _changes(d, al, grant_json(al, area_objs, children, pfx))
        if changes:
            todo.append(dict(key=d["key"], action="change", changes=changes))
            plan.count("changed", "allocation")
        else:
            plan.count("skipped", UNCHANGED)

    def writer(session: Session, username: str) -> None:
        fund_objs = {f.key: f for f in session.scalars(select(Fund))}
        org_objs = {o.key: o for o in session.scalars(select(Organisation))}
        for d in todo:
            if d["action"] == "add":
                obj = Allocation(key=d["key"], source="360Giving import: " + ", ".join(files)[:280],
                                 fund=fund_objs[d["fund"]], recipient=org_objs.get(d["recipient"]),
                                 amount=d["amount"], purpose=d["purpose"], award_date=d["award_date"],
                                 planned_start=d["start"], planned_end=d["end"], is_estimate=d["is_estimate"],
                                 updated_by=username, updated_at=utcnow())
                if d["codes"]:
                    obj.areas = [session.get(Area, c) for c in d["codes"]]
                session.add(obj)
                continue
            obj = session.scalar(select(Allocation).where(Allocation.key == d["key"]))
            for attr, value in d["changes"].items():
                if attr == "fund":
                    obj.fund = fund_objs[value]
                elif attr == "recipient":
                    obj.recipient = org_objs.get(value)
                elif attr == "areas":
                    obj.areas = [session.get(Area, c) for c in value]
                else:
                    setattr(obj, attr, value)
            obj.version += 1
            obj.updated_by, obj.updated_at = username, utcnow()
        session.flush()
    plan.writer = writer
    return plan


def _stored(s: Session, keys: list[str]) -> dict[str, Allocation]:
    out: dict[str, Allocation] = {}
    for i in range(0, len(keys), 500):
        out.update((a.key, a) for a in s.scalars(select(Allocation).where(Allocation.key.in_(keys[i:i + 500]))
                                                  .options(selectinload(Allocation.fund).selectinload(Fund.owner),
                                                           selectinload(Allocation.recipient),
                                                           selectinload(Allocation.areas))))
    return out


def _changes(d: dict, al: Allocation, ours: dict) -> dict:
    """What the incoming grant `d` changes in the stored allocation `al` (whose own export is `ours`)."""
    changes: dict = {}
    if al.fund.key != d["fund"]:
        changes["fund"] = d["fund"]
    if d["has_recipient"] and (al.recipient.key if al.recipient else None) != d["recipient"]:
        changes["recipient"] = d["recipient"]
    if Decimal(al.amount).quantize(CENT) != d["amount"]:
        changes["amount"] = d["amount"]
    if d["description"] is not None:
        text = str(d["description"])
        if text != ours["description"]:
            changes["purpose"] = text.removesuffix(ESTIMATE_NOTE) if al.is_estimate else text
    elif d["title"] and str(d["title"]) != ours["title"]:
        changes["purpose"] = str(d["title"])
    if d["award_date"] and d["award_date"] != dt.date.fromisoformat(ours["awardDate"]):
        changes["award_date"] = d["award_date"]
    if d["has_planned"]:
        if d["start"] != al.planned_start:
            changes["planned_start"] = d["start"]
        if d["end"] != al.planned_end:
            changes["planned_end"] = d["end"]
    if d["codes"] is not None and d["codes"] != sorted(loc["geoCode"] for loc in ours["beneficiaryLocation"]):
        changes["areas"] = d["codes"]
    return changes


def _get0(g: dict, field: str):
    dates = g.get("plannedDates") or [{}]
    return dates[0].get(field) if dates and isinstance(dates[0], dict) else None
