"""360Giving grants in: each grant becomes (or updates) an allocation of the fund named by its grant programme.

Recipient and funder are matched on their org-id identifier or the `360G-` identifier our export gives them; a
grant exported by this app comes back as the same allocation.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from services_db.models import Allocation, Area, Fund, Organisation, utcnow
from services_db.transfer.giving import PREFIX, org_id
from services_db.transfer.plan import ImportPlan
from services_db.validation import RecordError


def plan_360giving(s: Session, documents: list[tuple[str, object]], files: list[str]) -> ImportPlan:
    plan = ImportPlan("360giving", files)
    funds = {f.key: f.id for f in s.scalars(select(Fund))}
    orgs = {org_id(o): o.key for o in s.scalars(select(Organisation))}
    areas = set(s.scalars(select(Area.code)))
    existing = set(s.scalars(select(Allocation.key)))
    todo = []
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
            if rec == f"{PREFIX}-org-unknown":
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
            start, end = dates.get("plannedDates/0/startDate"), dates.get("plannedDates/0/endDate")
            if start and end and end < start:
                fail("plannedDates/0/endDate", f"ends ({end}) before it starts ({start})")
            codes = [loc.get("geoCode") for loc in g.get("beneficiaryLocation") or []]
            for code in codes:
                if code not in areas:
                    fail("beneficiaryLocation", f"unknown area code '{code}'")
            if len(plan.refused) > n:
                continue
            key = gid.removeprefix(PREFIX + "-")[:120]
            plan.count("changed" if key in existing else "added", "allocation")
            todo.append(dict(key=key, fund=prog, recipient=orgs.get(rec), amount=amount.quantize(Decimal("0.01")),
                             purpose=str(g.get("description") or g.get("title") or ""),
                             award_date=dates.get("awardDate"), start=start, end=end, codes=codes))

    def writer(session: Session, username: str) -> None:
        fund_objs = {f.key: f for f in session.scalars(select(Fund))}
        org_objs = {o.key: o for o in session.scalars(select(Organisation))}
        for d in todo:
            obj = session.scalar(select(Allocation).where(Allocation.key == d["key"]))
            is_new = obj is None
            if is_new:
                obj = Allocation(key=d["key"], source="360Giving import: " + ", ".join(files)[:280])
                session.add(obj)
            else:
                obj.version += 1
            obj.fund, obj.recipient, obj.amount = fund_objs[d["fund"]], org_objs.get(d["recipient"]), d["amount"]
            obj.purpose, obj.award_date = d["purpose"], d["award_date"]
            obj.planned_start, obj.planned_end = d["start"], d["end"]
            obj.updated_by, obj.updated_at = username, utcnow()
            if is_new and d["codes"]:  # our export names a place-based area by its districts: keep ours
                obj.areas = [session.get(Area, c) for c in d["codes"]]
        session.flush()
    plan.writer = writer
    return plan


def _get0(g: dict, field: str):
    dates = g.get("plannedDates") or [{}]
    return dates[0].get(field) if dates and isinstance(dates[0], dict) else None

