"""Loading the seed facts (data/demo/*.csv) and the geography into a database.

Every row is checked before anything is written, with the rules imports and the edit form use
(`services_db.records`); one bad cell refuses the whole load with the file, row and column named. Records are matched on their keys, so loading twice leaves the database as loading once did.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from services_db import boundaries
from services_db.auth import ensure_demo_users
from services_db.db import DATA_DIR, Database, bump_data_version
from services_db.models import (
    AREA_LEVELS,
    ROLES,
    Allocation,
    Area,
    Fund,
    FundingLine,
    NeedIndicator,
    NeedValue,
    Organisation,
    Plan,
    Priority,
    Role,
    Service,
    Setting,
    TargetGroup,
    Theme,
)
from services_db.records import (
    Refs,
    RowRecord,
    apply,
    limit,
    read_allocation,
    read_fund,
    read_funding_line,
    read_key,
    read_organisation,
    read_plan,
    read_priority,
    read_service,
)
from services_db.validation import ImportRefused, RecordError, RowChecker, check_header, check_unique

DEMO_DIR = DATA_DIR / "demo"
DEMO_AS_AT = "2014-01-27"  # the date of the Police and Crime Panel report (seed 002), when most demo funding runs
HIGHER_IS = ("worse", "better", "neutral")

REQUIRED = {
    "themes.csv": ["theme_key", "name"],
    "target_groups.csv": ["group_key", "name"],
    "organisations.csv": ["org_key", "name", "sector", "source"],
    "services.csv": ["service_key", "name", "provider_key", "themes", "target_groups", "tier", "status",
                     "start_date", "end_date", "coverage", "source"],
    "funds.csv": ["fund_key", "name", "owner_key", "financial_year", "total_amount", "source"],
    "funding_lines.csv": ["service_key", "commissioner_key", "fund_key", "annual_amount", "start_date", "end_date",
                          "source"],
    "allocations.csv": ["allocation_key", "fund_key", "recipient_key", "amount", "source"],
    "plans.csv": ["plan_key", "name", "owner_key", "source"],
    "priorities.csv": ["priority_key", "plan_key", "name", "source"],
    "service_priorities.csv": ["service_key", "priority_key"],
    "indicators.csv": ["indicator_key", "name", "themes", "source"],
    "need_values.csv": ["indicator_key", "area_code", "period", "value", "source"],
}

ROLE_NAMES = {
    "viewer": ("Viewer", "Reads everything and raises gaps (for example a Chief Inspector)."),
    "early_action": ("Early Action Team", "Raises gaps in service and follows them."),
    "commissioner": ("Commissioner", "Edits services and organisations."),
    "opcc": ("OPCC staff", "Also edits funds, allocations, plans and priorities."),
    "admin": ("Administrator", "Manages users, imports and restores."),
}


@dataclass
class DemoFiles:
    """The parsed demo files: for each file, (row number, dict of cells)."""

    directory: Path
    rows: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for name in sorted(REQUIRED):
            h.update((self.directory / name).read_bytes())
        return h.hexdigest()[:16]


def read_csv(path: Path, required: list[str], errors: list[RecordError]) -> list[tuple[int, dict]]:
    label = f"{path.parent.name}/{path.name}"
    if not path.exists():
        errors.append(RecordError(label, None, None, "file is missing"))
        return []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header_errors = check_header(label, reader.fieldnames or [], required)
        if header_errors:
            errors.extend(header_errors)
            return []
        return [(i, row) for i, row in enumerate(reader, start=2)]


def _read_all(directory: Path, errors: list[RecordError]) -> DemoFiles:
    files = DemoFiles(directory)
    for name, required in REQUIRED.items():
        files.rows[name] = read_csv(directory / name, required, errors)
    return files


def load_demo(db: Database, directory: Path = DEMO_DIR, grouping_dir: Path = boundaries.GEOGRAPHY_DIR) -> dict[str, int]:
    """Load geography and demo facts and the demo's accounts; raise ImportRefused (and write nothing) if any row is
    bad. Idempotent: records are matched on their keys."""
    grouping = boundaries.load_grouping(grouping_dir)
    errors: list[RecordError] = []
    files = _read_all(directory, errors)
    if errors:
        raise ImportRefused(errors)
    area_rows = boundaries.area_rows(grouping)
    with db.session() as s:
        try:
            counts = _write(s, files, area_rows, errors)
        except SQLAlchemyError:
            if errors:  # a bad cell left a required value empty; report the cell, not the constraint
                raise ImportRefused(errors) from None
            raise
        if errors:
            s.rollback()
            raise ImportRefused(errors)
        s.merge(Setting(key="default_as_at", value=DEMO_AS_AT))
        s.merge(Setting(key="data_loaded_at", value=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")))
        s.merge(Setting(key="demo_fingerprint", value=files.fingerprint()))
        s.merge(Setting(key="is_demo", value="true"))
    ensure_demo_users(db)
    return counts


def seeded(db: Database) -> Database:
    """`db`, with the demo loaded if it holds no data yet: the app's first start, `init` and the tests' demo
    databases. A database with data is left as it is, so the demo is loaded once however often this runs."""
    if db.is_empty():
        load_demo(db)
    return db


def _upsert(s: Session, model, key_attr: str, key, **values):
    obj = s.scalar(select(model).where(getattr(model, key_attr) == key))
    if obj is None:
        obj = model(**{key_attr: key}, **values)
        s.add(obj)
    else:
        for k, v in values.items():
            setattr(obj, k, v)
    return obj


def _source(c: RowChecker, model: type) -> str:
    """Every demo fact names the report it comes from (imports and edits default theirs to the file or the app)."""
    return c.text("source", required=True, max_len=limit(model, "source"))


def _record(s: Session, model: type, key: str, rec: RowRecord, source: str):
    """The record with this key, created or updated by what its row gives (records.apply)."""
    obj = s.scalar(select(model).where(model.key == key))
    if obj is None:
        obj = model(key=key)
    obj.source = source
    apply(s, obj, rec)
    s.add(obj)
    return obj


def report_dates(directory: Path = DEMO_DIR) -> dict[str, dt.date]:
    """Seed file name -> the date of its report (sources.csv `date`), for records whose own `known_from` is blank."""
    path = directory / "sources.csv"
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8-sig") as f:
        out = {}
        for row in csv.DictReader(f):
            try:
                out[row["file"].strip()] = dt.date.fromisoformat((row.get("date") or "").strip())
            except (KeyError, ValueError):
                continue
        return out


def _write(s: Session, files: DemoFiles, area_rows: list[dict], errors: list[RecordError]) -> dict[str, int]:
    """Check each file against what is already known and write it; errors accumulate and refuse the whole load."""
    for role in ROLES:
        name, description = ROLE_NAMES[role]
        _upsert(s, Role, "key", role, name=name, description=description)

    known_areas = {r["code"] for r in area_rows} | set(s.scalars(select(Area.code)))
    existing_areas = set(s.scalars(select(Area.code)))
    for r in area_rows:  # parents come first in area_rows; flush keeps foreign keys happy on PostgreSQL
        if r["code"] in existing_areas:
            area = s.get(Area, r["code"])
            if area.population_is_estimate:  # never overwrite a real (imported) population with the rule's
                area.population = r["population"]
            area.name, area.level, area.parent_code = r["name"], r["level"], r["parent_code"]
        else:
            s.add(Area(**r))
    s.flush()
    assert all(r["level"] in AREA_LEVELS for r in area_rows)

    themes = {}
    for row, v in files.rows["themes.csv"]:
        c = RowChecker("demo/themes.csv", row, v, errors)
        key = c.text("theme_key", required=True)
        themes[key] = _upsert(s, Theme, "key", key, name=c.text("name", required=True),
                              description=c.text("description"))
    groups = {}
    for row, v in files.rows["target_groups.csv"]:
        c = RowChecker("demo/target_groups.csv", row, v, errors)
        key = c.text("group_key", required=True)
        groups[key] = _upsert(s, TargetGroup, "key", key, name=c.text("name", required=True))
    s.flush()

    # Every record below is read with the rules imports and the edit form use (services_db.records); the demo
    # adds only what its files have beyond a template: a required source, known_from, eligible areas.
    refs = Refs.from_session(s)
    f = "demo/organisations.csv"
    check_unique(f, [(r, v.get("org_key", "")) for r, v in files.rows["organisations.csv"]], "org_key", errors)
    orgs: dict[str, Organisation] = {}
    for row, v in files.rows["organisations.csv"]:
        c = RowChecker(f, row, v, errors)
        key = read_key(c, "org_key", Organisation)
        orgs[key] = _record(s, Organisation, key, read_organisation(c), _source(c, Organisation))
        refs.organisations.add(key, orgs[key].name)
    s.flush()

    f = "demo/funds.csv"
    check_unique(f, [(r, v.get("fund_key", "")) for r, v in files.rows["funds.csv"]], "fund_key", errors)
    funds: dict[str, Fund] = {}
    for row, v in files.rows["funds.csv"]:
        c = RowChecker(f, row, v, errors)
        key = read_key(c, "fund_key", Fund)
        rec = read_fund(c, refs)
        eligible = c.keys("eligible_area_codes", refs.areas, what="area")  # none: the whole force
        funds[key] = _record(s, Fund, key, rec, _source(c, Fund))
        funds[key].eligible_areas = [s.get(Area, a) for a in eligible]
        refs.funds.add(key, funds[key].name)

    f = "demo/services.csv"
    reported = report_dates(files.directory)
    check_unique(f, [(r, v.get("service_key", "")) for r, v in files.rows["services.csv"]], "service_key", errors)
    services: dict[str, Service] = {}
    for row, v in files.rows["services.csv"]:
        c = RowChecker(f, row, v, errors)
        key = read_key(c, "service_key", Service)
        rec = read_service(c, refs)
        source = _source(c, Service)
        # known from: the date of the first report naming the service, else the date of the report it cites
        rec.values["known_from"] = c.date("known_from") or reported.get(source.split(" ")[0])
        services[key] = _record(s, Service, key, rec, source)
        refs.services.add(key, services[key].name)
        s.flush()
    s.flush()

    f = "demo/funding_lines.csv"
    lines_by_service: dict[str, list[FundingLine]] = {}
    for row, v in files.rows["funding_lines.csv"]:
        c = RowChecker(f, row, v, errors)
        rec = read_funding_line(c, refs)
        svc_key, com = rec.refs["service"], rec.refs["commissioner"]
        if svc_key in services and com in orgs and rec.values["annual_amount"] is not None:
            lines_by_service.setdefault(svc_key, []).append(FundingLine(
                commissioner=orgs[com], fund=funds.get(rec.refs["fund"]), **rec.values,
                source=_source(c, FundingLine)))
    for svc_key, svc in services.items():
        svc.funding_lines = lines_by_service.get(svc_key, [])

    f = "demo/plans.csv"
    plans: dict[str, Plan] = {}
    for row, v in files.rows["plans.csv"]:
        c = RowChecker(f, row, v, errors)
        key = read_key(c, "plan_key", Plan)
        plans[key] = _record(s, Plan, key, read_plan(c, refs), _source(c, Plan))
        refs.plans.add(key, plans[key].name)
    s.flush()
    f = "demo/priorities.csv"
    check_unique(f, [(r, v.get("priority_key", "")) for r, v in files.rows["priorities.csv"]], "priority_key", errors)
    priorities: dict[str, Priority] = {}
    for row, v in files.rows["priorities.csv"]:
        c = RowChecker(f, row, v, errors)
        key = read_key(c, "priority_key", Priority)
        rec = read_priority(c, refs)
        if rec.refs.get("plan"):
            priorities[key] = _record(s, Priority, key, rec, _source(c, Priority))
            refs.priorities.add(key, priorities[key].name)
    s.flush()
    links: dict[str, list[Service]] = {}
    for row, v in files.rows["service_priorities.csv"]:
        c = RowChecker("demo/service_priorities.csv", row, v, errors)
        svc_key = c.key("service_key", services, what="service")
        pri = c.key("priority_key", priorities, what="priority")
        if svc_key and pri:
            links.setdefault(pri, []).append(services[svc_key])
    for key, pri in priorities.items():
        pri.services = links.get(key, [])

    f = "demo/allocations.csv"
    check_unique(f, [(r, v.get("allocation_key", "")) for r, v in files.rows["allocations.csv"]], "allocation_key",
                 errors)
    allocations: dict[str, Allocation] = {}
    parents: list[tuple[RowChecker, Allocation, str]] = []
    for row, v in files.rows["allocations.csv"]:
        c = RowChecker(f, row, v, errors)
        key = read_key(c, "allocation_key", Allocation)
        rec = read_allocation(c, refs)
        source = _source(c, Allocation)
        if not rec.refs.get("fund") or rec.values.get("amount") is None:
            continue
        alloc = allocations[key] = _record(s, Allocation, key, rec, source)
        if c.text("parent_key"):
            parents.append((c, alloc, c.text("parent_key")))
    s.flush()
    for c, alloc, parent in parents:
        if parent not in allocations:
            c.fail("parent_key", f"unknown allocation '{parent}'")
        else:
            alloc.parent_id = allocations[parent].id

    f = "demo/indicators.csv"
    indicators: dict[str, NeedIndicator] = {}
    for row, v in files.rows["indicators.csv"]:
        c = RowChecker(f, row, v, errors)
        key = c.text("indicator_key", required=True)
        ind = _upsert(s, NeedIndicator, "key", key, name=c.text("name", required=True),
                      unit=c.text("unit") or "count", higher_is=c.choice("higher_is", HIGHER_IS) or "neutral",
                      description=c.text("description"), source=c.text("source", required=True))
        ind.themes = [themes[k] for k in c.keys("themes", themes, what="theme", required=True)]
        indicators[key] = ind
    s.flush()
    f = "demo/need_values.csv"
    seen: dict[tuple, int] = {}
    for row, v in files.rows["need_values.csv"]:
        c = RowChecker(f, row, v, errors)
        ind = c.key("indicator_key", indicators, what="indicator")
        area = c.key("area_code", known_areas, what="area code")
        period = c.text("period", required=True)
        value = c.number("value", required=True)
        ident = (ind, area, period)
        if ident in seen:
            c.fail("period", f"duplicate value for {ind} in {area} for {period} (first on row {seen[ident]})")
            continue
        seen[ident] = row
        if not (ind and area and period) or value is None:
            continue
        nv = s.scalar(select(NeedValue).where(NeedValue.indicator_key == ind, NeedValue.area_code == area,
                                              NeedValue.period == period))
        fields_ = dict(value=value, numerator=c.number("numerator"), denominator=c.number("denominator"),
                       is_estimate=c.boolean("is_estimate"), source=c.text("source", required=True))
        if nv is None:
            s.add(NeedValue(indicator_key=ind, area_code=area, period=period, **fields_))
        else:
            for k, val in fields_.items():
                setattr(nv, k, val)
    s.flush()
    bump_data_version(s)
    return {name: len(rows) for name, rows in files.rows.items()} | {"area": len(area_rows)}
