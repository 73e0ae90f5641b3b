"""The one set of rules that turns a row (a demo file's, an import's, an edit form's) into a record.

Loading the demo (`services_db.demo`), importing the directory templates (`services_db.transfer.import_templates`) and
saving an edit form (`services_db.editing`) used to read rows each in their own way, and disagreed: an empty sector
meant "statutory" in one and "VCFS" in another, one checked lengths and the others let the database refuse them,
one kept a confidential service's coordinates, one read coordinates and the review date and the others did not.
A person who saw a row accepted in one place and refused in another could not know what the app stores. Each
path now reads its rows through these functions and only decides how to write what they return. The Open Referral
UK and 360Giving importers read theirs by two rule sets of their own (a name cut to fit, an organisation without
an identifier made "VCFS", a stored address kept when a feed flagged the service confidential); they now map their
format's fields onto these columns and read them here too, naming problems by the format's own paths (`FormatRow`).

The rules, the same everywhere:

- A column a row leaves out keeps what an existing record has; a new record reads every column, so a missing
  required one is refused and the others take their defaults (status "active", allocation status "awarded",
  payment schedule "single").
- Text is checked against the length the database column holds (`limit`), named by column.
- References may be keys or names (`services_db.references`): "Mental health", "Burnley", "Lancashire Care NHS
  Foundation Trust".
- Coordinates must be a latitude within -90..90 and a longitude within -180..180; a review date cannot be after
  today.
- A service flagged confidential_location never has an address or coordinates stored, whatever the row says and
  whatever the record had.
- Sector is required (an organisation's sector drives the review's statutory/voluntary splits; no silent default).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from services_db import models as m
from services_db.references import AreaLookup, Lookup
from services_db.validation import RecordError, RowChecker

# A service's text fields, and those that may be left empty ("" stored, never NULL).
SERVICE_TEXTS = ("description", "eligibility", "referral_route", "contact", "capacity")
LOCATION = ("address", "latitude", "longitude")


def limit(model: type, column: str) -> int | None:
    """The length the database column holds (None for unbounded text): the one length check."""
    return getattr(model.__table__.c[column].type, "length", None)


class FormatRow(RowChecker):
    """A row in the templates' columns, read from a file in another format (Open Referral UK, 360Giving).

    Those importers map their format's fields onto the columns the `read_*` functions read, so a service or an
    allocation gets the same record whichever way it arrives; a problem is still named as the person's file names
    it (`service_at_locations[0].location.latitude`, `grantProgramme/0/code`), through `paths`."""

    def __init__(self, file: str, row: int | None, values: dict, errors: list[RecordError],
                 paths: Mapping[str, str], hints: Mapping[str, str] | None = None) -> None:
        super().__init__(file, row, values, errors)
        self.paths = paths
        self.hints = hints or {}  # column -> what the format's reader should know, added to its problems

    def fail(self, column: str | None, message: str) -> None:
        hint = self.hints.get(column or "")
        super().fail(self.paths.get(column, column) if column else column, f"{message} ({hint})" if hint else message)


_LOOKUPS: dict[str, tuple[str, type, bool]] = {  # attribute -> (what a message calls it, model, loose names)
    "organisations": ("organisation", m.Organisation, True), "themes": ("theme", m.Theme, False),
    "target_groups": ("target group", m.TargetGroup, False), "funds": ("fund", m.Fund, False),
    "services": ("service", m.Service, False), "priorities": ("priority", m.Priority, False),
    "plans": ("plan", m.Plan, False),
}


class Refs:
    """What rows may refer to, each found by key or by name (`references.Lookup`; areas `AreaLookup`).

    Each kind is read from the session when first asked for, once: an edit of an organisation never reads every
    service's name, and an import of 100,000 rows reads each kind once however many rows refer to it."""

    organisations: Lookup
    themes: Lookup
    target_groups: Lookup
    funds: Lookup
    services: Lookup
    priorities: Lookup
    plans: Lookup

    def __init__(self, s: Session) -> None:
        self._s = s
        self._areas: AreaLookup | None = None

    @classmethod
    def from_session(cls, s: Session) -> Refs:
        return cls(s)

    def __getattr__(self, name: str) -> Lookup:
        if name not in _LOOKUPS:
            raise AttributeError(name)
        what, model, loose = _LOOKUPS[name]
        lookup = Lookup(what, dict(self._s.execute(select(model.key, model.name)).all()), loose=loose)
        setattr(self, name, lookup)  # found as an attribute from now on; __getattr__ is not asked again
        return lookup

    @property
    def areas(self) -> AreaLookup:
        if self._areas is None:
            self._areas = AreaLookup.from_rows(self._s.execute(select(
                m.Area.code, m.Area.name, m.Area.level, m.Area.parent_code, m.Area.population)).all())
        return self._areas


@dataclass
class RowRecord:
    """One record as a row gives it: column values, the keys of records it refers to and links to."""

    values: dict[str, object] = field(default_factory=dict)  # model attribute -> value
    refs: dict[str, str | None] = field(default_factory=dict)  # "provider" -> organisation key (None: none)
    links: dict[str, list[str]] = field(default_factory=dict)  # "themes" -> theme keys
    hidden_location: bool = False  # confidential: an address or coordinates given or held were not kept


def _reads(c: RowChecker, new: bool):
    """Whether a column is read: every column for a new record, only those the row has for an existing one."""
    return lambda column: new or column in c.values


def read_key(c: RowChecker, column: str, model: type) -> str:
    """A record's own key: required, within the key column's length."""
    return c.text(column, required=True, max_len=limit(model, "key"))


def read_source(c: RowChecker, model: type) -> str:
    """Where the row's facts come from ("" when not said: the caller names the file or the app)."""
    return c.text("source", max_len=limit(model, "source"))


def _named(c: RowChecker, new: bool, model: type) -> tuple[Callable[[str], bool], RowRecord]:
    """Which columns are read (`_reads`) and a record with its name: every named record reads its required
    name first, within the model's name column, so the rule and the order of problems are one."""
    reads, rec = _reads(c, new), RowRecord()
    if reads("name"):
        rec.values["name"] = c.text("name", required=True, max_len=limit(model, "name"))
    return reads, rec


def read_organisation(c: RowChecker, *, new: bool = True) -> RowRecord:
    reads, rec = _named(c, new, m.Organisation)
    if reads("sector"):
        rec.values["sector"] = c.choice("sector", m.SECTORS)
    if reads("org_identifier"):
        rec.values["org_identifier"] = c.text("org_identifier",
                                              max_len=limit(m.Organisation, "org_identifier")) or None
    return rec


def _period(c: RowChecker, reads, start: str, end: str, values: dict) -> None:
    """Both dates when the row has both (the end may not come before the start); else the one it has."""
    if reads(start) and reads(end):
        values[start], values[end] = c.period(start, end)
        return
    for col in (start, end):
        if reads(col):
            values[col] = c.date(col)


def _status(c: RowChecker, reads, allowed: tuple[str, ...], default: str, new: bool, values: dict) -> None:
    """A status named in the row; an empty cell is the default for a new record and keeps an existing record's
    (a blank cell must not reopen an ended service or revive a withdrawn allocation)."""
    if reads("status"):
        status = c.choice("status", allowed, required=False)
        if status or new:
            values["status"] = status or default


def _coordinate(c: RowChecker, column: str, lo: float, hi: float) -> float | None:
    value = c.number(column)
    if value is not None and not lo <= value <= hi:
        c.fail(column, f"{value} is outside {lo} to {hi}")
        return None
    return value


def read_point(c: RowChecker) -> tuple[float | None, float | None]:
    """A latitude and a longitude, each range-checked: the coordinate rule, for a file with several locations."""
    return _coordinate(c, "latitude", -90, 90), _coordinate(c, "longitude", -180, 180)


def read_service(c: RowChecker, refs: Refs, *, new: bool = True, was_confidential: bool = False,
                 had_location: bool = False) -> RowRecord:
    """A service's columns, its provider and its theme, target group and coverage links.

    `was_confidential` and `had_location` describe the existing record, so a row that leaves the flag out still
    clears a confidential service's location, and the caller can say so (`hidden_location`)."""
    reads, rec = _named(c, new, m.Service)
    v = rec.values
    for col in SERVICE_TEXTS:
        if reads(col):
            v[col] = c.text(col, max_len=limit(m.Service, col))
    if reads("provider_key"):
        rec.refs["provider"] = c.key("provider_key", refs.organisations, what="organisation", required=False)
    if reads("tier"):
        v["tier"] = c.choice("tier", m.TIERS, required=False)
    _status(c, reads, m.SERVICE_STATUSES, "active", new, v)
    _period(c, reads, "start_date", "end_date", v)
    for col in ("end_date_is_estimate", "confidential_location"):
        if reads(col):
            v[col] = c.boolean(col)
    if reads("address"):
        v["address"] = c.text("address")
    if reads("latitude"):
        v["latitude"] = _coordinate(c, "latitude", -90, 90)
    if reads("longitude"):
        v["longitude"] = _coordinate(c, "longitude", -180, 180)
    if reads("last_reviewed"):
        v["last_reviewed"] = c.date("last_reviewed")
        if v["last_reviewed"] and v["last_reviewed"] > dt.date.today():
            c.fail("last_reviewed", f"{v['last_reviewed']} is in the future")
    if v.get("confidential_location", was_confidential):  # never stored, whatever the row or the record had
        rec.hidden_location = had_location or bool(v.get("address")) or any(
            v.get(col) is not None for col in ("latitude", "longitude"))
        v.update(address="", latitude=None, longitude=None)
    if reads("themes"):
        rec.links["themes"] = c.keys("themes", refs.themes, what="theme", required=True)
    if reads("target_groups"):
        rec.links["target_groups"] = c.keys("target_groups", refs.target_groups, what="target group")
    if reads("coverage"):
        rec.links["coverage"] = c.keys("coverage", refs.areas, what="area", required=True)
    return rec


def read_funding_line(c: RowChecker, refs: Refs) -> RowRecord:
    """A funding line: the service it pays for, who commissions it, from which fund, how much a year, when."""
    rec = RowRecord()
    rec.refs["service"] = c.key("service_key", refs.services, what="service")
    rec.refs["commissioner"] = c.key("commissioner_key", refs.organisations, what="organisation")
    rec.refs["fund"] = c.key("fund_key", refs.funds, what="fund", required=False)
    rec.values["start_date"], rec.values["end_date"] = c.period("start_date", "end_date")
    rec.values["annual_amount"] = c.money("annual_amount")
    rec.values["is_estimate"] = c.boolean("is_estimate")
    return rec


def read_allocation(c: RowChecker, refs: Refs, *, new: bool = True) -> RowRecord:
    """An allocation's columns, its fund, recipient and service, and its area and priority links. (Its parent,
    which may come later in the same file, is the caller's.)"""
    reads, rec = _reads(c, new), RowRecord()
    v = rec.values
    if reads("fund_key"):
        rec.refs["fund"] = c.key("fund_key", refs.funds, what="fund")
    if reads("recipient_key"):
        rec.refs["recipient"] = c.key("recipient_key", refs.organisations, what="organisation", required=False)
    if reads("service_key"):
        rec.refs["service"] = c.key("service_key", refs.services, what="service", required=False)
    if reads("amount"):
        v["amount"] = c.money("amount")
    if reads("purpose"):
        v["purpose"] = c.text("purpose")
    if reads("payment_schedule"):
        v["payment_schedule"] = c.text("payment_schedule",
                                       max_len=limit(m.Allocation, "payment_schedule")) or "single"
    if reads("award_date"):
        v["award_date"] = c.date("award_date")
    _period(c, reads, "planned_start", "planned_end", v)
    if reads("is_estimate"):
        v["is_estimate"] = c.boolean("is_estimate")
    _status(c, reads, m.ALLOCATION_STATUSES, "awarded", new, v)
    if reads("areas_are_estimate"):
        v["areas_are_estimate"] = c.boolean("areas_are_estimate")
    if reads("area_codes"):
        rec.links["areas"] = c.keys("area_codes", refs.areas, what="area")
    if reads("priorities"):
        rec.links["priorities"] = c.keys("priorities", refs.priorities, what="priority")
    return rec


def read_fund(c: RowChecker, refs: Refs, *, new: bool = True) -> RowRecord:
    reads, rec = _named(c, new, m.Fund)
    v = rec.values
    if reads("money_source"):
        v["money_source"] = c.text("money_source", max_len=limit(m.Fund, "money_source"))
    if reads("owner_key"):
        rec.refs["owner"] = c.key("owner_key", refs.organisations, what="organisation", required=False)
    if reads("financial_year"):
        v["financial_year"] = c.text("financial_year", required=True, max_len=limit(m.Fund, "financial_year"))
    if reads("total_amount"):
        v["total_amount"] = c.money("total_amount")
    _period(c, reads, "start_date", "end_date", v)
    return rec


def read_plan(c: RowChecker, refs: Refs, *, new: bool = True) -> RowRecord:
    reads, rec = _named(c, new, m.Plan)
    if reads("owner_key"):
        rec.refs["owner"] = c.key("owner_key", refs.organisations, what="organisation", required=False)
    _period(c, reads, "start_date", "end_date", rec.values)
    if reads("area_codes"):
        rec.links["areas"] = c.keys("area_codes", refs.areas, what="area")
    return rec


def read_priority(c: RowChecker, refs: Refs, *, new: bool = True) -> RowRecord:
    reads, rec = _named(c, new, m.Priority)
    if reads("description"):
        rec.values["description"] = c.text("description")
    if reads("plan_key"):
        rec.refs["plan"] = c.key("plan_key", refs.plans, what="plan")
    return rec


# -- writing a record read from a row onto a model object (the demo loader and the edit form; imports write in bulk)

_REF_MODELS: dict[str, type] = {"provider": m.Organisation, "recipient": m.Organisation,
                                "owner": m.Organisation, "commissioner": m.Organisation, "fund": m.Fund,
                                "service": m.Service, "plan": m.Plan}
_LINK_MODELS: dict[str, type] = {"themes": m.Theme, "target_groups": m.TargetGroup, "areas": m.Area,
                                 "priorities": m.Priority}


def _key_column(model: type):
    return model.code if model is m.Area else model.key


def apply(s: Session, obj: object, rec: RowRecord) -> None:
    """Set what `rec` read onto `obj`: its values, the records it refers to and its links (in the row's order);
    what the row left out is left as it is. Reading the related records does not flush `obj` half-made."""
    with s.no_autoflush:
        _apply(s, obj, rec)


def _apply(s: Session, obj: object, rec: RowRecord) -> None:
    for name, value in rec.values.items():
        setattr(obj, name, value)
    for name, key in rec.refs.items():
        model = _REF_MODELS[name]
        setattr(obj, name, s.scalar(select(model).where(model.key == key)) if key else None)
    for name, keys in rec.links.items():
        if name == "coverage":
            wanted = set(keys)
            obj.coverage = [cv for cv in obj.coverage if cv.area_code in wanted]
            have = {cv.area_code for cv in obj.coverage}
            obj.coverage.extend(m.Coverage(area_code=a) for a in keys if a not in have)
            continue
        model = _LINK_MODELS[name]
        found = {_key(o): o for o in s.scalars(select(model).where(_key_column(model).in_(keys)))} if keys else {}
        setattr(obj, name, [found[k] for k in keys if k in found])


def _key(obj: object) -> str:
    return obj.code if isinstance(obj, m.Area) else obj.key
