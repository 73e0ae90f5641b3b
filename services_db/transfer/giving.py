"""Fund allocations as 360Giving (1.4) grants: a JSON package and the flat spreadsheet form.

One grant per top-level allocation (breakdown lines would count money twice). Organisations use their org-id
identifier where we know it, else a `360G-` prefixed one. Beneficiary locations are the districts (LAD) an
allocation names, or the police force area (PFA) when it names the force or nothing.

Who publishes (the `360G-` identifier prefix, the publisher's name, the county written in addresses) is data, not
code: `data/publisher.json`, read at every export, so another force edits that file and nothing here.

Order is explicit, never the database's: grants are sorted by their identifier, and each grant's
beneficiaryLocation by `geoCode` (LOCATION_ORDER), so SQLite and PostgreSQL give the same file byte for byte.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services_db.db import DATA_DIR, Database
from services_db.models import Allocation, Area, Fund, Organisation

PUBLISHER_FILE = DATA_DIR / "publisher.json"
FORCE_LEVEL = "force"
LOCATION_ORDER = "geoCode"  # the documented sort key of every grant's beneficiaryLocation list
ESTIMATE_NOTE = " (amount is an estimate)"


def publisher_settings() -> dict:
    """`data/publisher.json`: publisher name and identifier, 360Giving prefix, Open Referral address defaults."""
    try:
        settings = json.loads(PUBLISHER_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{PUBLISHER_FILE}: the publisher settings file is missing "
                                "(see docs/openreferral.md, 'Publisher settings')") from None
    pfx = str(settings.get("360giving", {}).get("identifier_prefix", ""))
    if not pfx.startswith("360G-"):
        raise ValueError(f"{PUBLISHER_FILE}: 360giving.identifier_prefix must begin with '360G-' (got '{pfx}')")
    return settings


def prefix() -> str:
    """The publisher's 360Giving identifier prefix (`360G-` and a name of its own)."""
    return publisher_settings()["360giving"]["identifier_prefix"]


def org_id(org: Organisation | None, pfx: str | None = None) -> str:
    pfx = pfx or prefix()
    if org is None:
        return f"{pfx}-org-unknown"
    return org.org_identifier or f"{pfx}-org-{org.key}"


def _locations(alloc: Allocation, areas: dict[str, Area], children: dict[str, list[str]]) -> list[dict]:
    out: dict[str, dict] = {}

    def add(code: str) -> None:
        a = areas[code]
        if a.level == "district":
            out[code] = {"name": a.name, "geoCode": code, "geoCodeType": "LAD"}
        elif a.level == FORCE_LEVEL:
            out[code] = {"name": a.name, "geoCode": code, "geoCodeType": "PFA"}
        elif a.level == "lsoa":
            out[code] = {"name": a.name, "geoCode": code, "geoCodeType": "LSOA"}
        else:  # a place-based area or division has no GSS code: name its districts
            for child in children.get(code, []):
                add(child)

    for a in alloc.areas:
        add(a.code)
    if not out:
        force = min((a for a in areas.values() if a.level == FORCE_LEVEL), key=lambda a: a.code, default=None)
        if force is not None:
            add(force.code)
    return sorted(out.values(), key=lambda loc: loc[LOCATION_ORDER])


def area_maps(s) -> tuple[dict[str, Area], dict[str, list[str]]]:
    """Areas above LSOA level by code, and each one's children (sorted by code)."""
    areas = {a.code: a for a in s.scalars(select(Area).where(Area.level != "lsoa"))}
    children: dict[str, list[str]] = {}
    for a in areas.values():
        if a.parent_code:
            children.setdefault(a.parent_code, []).append(a.code)
    return areas, {k: sorted(v) for k, v in children.items()}


def grant_json(al: Allocation, areas: dict[str, Area], children: dict[str, list[str]], pfx: str) -> dict:
    """One top-level allocation as a 360Giving grant (the import compares incoming grants with this)."""
    fund = al.fund
    award = al.award_date or al.planned_start or fund.start_date or dt.date(int(fund.financial_year[:4]), 4, 1)
    recipient = al.recipient
    grant = {
        "id": f"{pfx}-{al.key}",
        "title": (al.purpose.split(":")[0] if al.purpose else al.key)[:200] or al.key,
        "description": al.purpose or f"Allocation from {fund.name}",
        "currency": "GBP",
        "amountAwarded": float(al.amount),
        "awardDate": award.isoformat(),
        "recipientOrganization": [{"id": org_id(recipient, pfx),
                                   "name": recipient.name if recipient else "Not recorded"}],
        "fundingOrganization": [{"id": org_id(fund.owner, pfx),
                                 "name": fund.owner.name if fund.owner else fund.name}],
        "grantProgramme": [{"code": fund.key, "title": fund.name}],
        "beneficiaryLocation": _locations(al, areas, children),
        "dataSource": al.source,
    }
    if al.planned_start or al.planned_end:
        dates = {}
        if al.planned_start:
            dates["startDate"] = al.planned_start.isoformat()
        if al.planned_end:
            dates["endDate"] = al.planned_end.isoformat()
        if al.planned_start and al.planned_end:
            months = (al.planned_end.year - al.planned_start.year) * 12 + al.planned_end.month \
                - al.planned_start.month + 1
            dates["duration"] = months
        grant["plannedDates"] = [dates]
    if al.is_estimate:
        grant["description"] += ESTIMATE_NOTE
    return grant


def grants(db: Database) -> list[dict]:
    pfx = prefix()
    with db.sessions() as s:
        allocs = s.scalars(select(Allocation).where(Allocation.parent_id.is_(None)).options(
            selectinload(Allocation.fund).selectinload(Fund.owner), selectinload(Allocation.recipient),
            selectinload(Allocation.areas))).all()
        areas, children = area_maps(s)
        out = [grant_json(al, areas, children, pfx) for al in allocs]
    return sorted(out, key=lambda g: g["id"])


def package(db: Database) -> dict:
    publisher = {k: v for k, v in publisher_settings()["publisher"].items() if v}
    return {"grants": grants(db), "version": "1.4", "publisher": publisher}


FLAT = [("Identifier", "id"), ("Title", "title"), ("Description", "description"), ("Currency", "currency"),
        ("Amount Awarded", "amountAwarded"), ("Award Date", "awardDate"),
        ("Planned Dates:Start Date", "plannedDates/0/startDate"), ("Planned Dates:End Date", "plannedDates/0/endDate"),
        ("Planned Dates:Duration (months)", "plannedDates/0/duration"),
        ("Recipient Org:Identifier", "recipientOrganization/0/id"), ("Recipient Org:Name", "recipientOrganization/0/name"),
        ("Funding Org:Identifier", "fundingOrganization/0/id"), ("Funding Org:Name", "fundingOrganization/0/name"),
        ("Grant Programme:Code", "grantProgramme/0/code"), ("Grant Programme:Title", "grantProgramme/0/title"),
        ("Data Source", "dataSource")]
MAX_LOCATIONS = 14


def _get(obj, path: str):
    for part in path.split("/"):
        if isinstance(obj, list):
            obj = obj[int(part)] if int(part) < len(obj) else None
        elif isinstance(obj, dict):
            obj = obj.get(part)
        if obj is None:
            return None
    return obj


def flat_frame(grant_list: list[dict]) -> pd.DataFrame:
    """The 360Giving spreadsheet layout: one row per grant, titled columns as in the standard's template."""
    rows = []
    for g in grant_list:
        row = {title: _get(g, path) for title, path in FLAT}
        for i, loc in enumerate(g.get("beneficiaryLocation", [])[:MAX_LOCATIONS]):
            row[f"Beneficiary Location:{i}:Name"] = loc["name"]
            row[f"Beneficiary Location:{i}:Geographic Code"] = loc["geoCode"]
            row[f"Beneficiary Location:{i}:Geographic Code Type"] = loc["geoCodeType"]
        rows.append(row)
    return pd.DataFrame(rows)


def unflatten(frame: pd.DataFrame) -> list[dict]:
    """The spreadsheet back into 360Giving JSON (so a test can validate the spreadsheet against the schema)."""
    out = []
    for rec in frame.to_dict("records"):
        g: dict = {}
        for title, path in FLAT:
            val = rec.get(title)
            if val is None or (isinstance(val, float) and pd.isna(val)) or val == "":
                continue
            if path in ("amountAwarded",):
                val = float(val)
            elif path.endswith("duration"):
                val = int(val)
            else:
                val = str(val)
            _put(g, path, val)
        locs = []
        for i in range(MAX_LOCATIONS):
            code = rec.get(f"Beneficiary Location:{i}:Geographic Code")
            if code is None or (isinstance(code, float) and pd.isna(code)):
                continue
            locs.append({"name": str(rec[f"Beneficiary Location:{i}:Name"]), "geoCode": str(code),
                         "geoCodeType": str(rec[f"Beneficiary Location:{i}:Geographic Code Type"])})
        if locs:
            g["beneficiaryLocation"] = locs
        out.append(g)
    return out


def _put(obj: dict, path: str, value) -> None:
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if part.isdigit():
            continue
        if nxt.isdigit():
            lst = obj.setdefault(part, [{}])
            obj = lst[0]
        else:
            obj = obj.setdefault(part, {})
    obj[parts[-1]] = value
