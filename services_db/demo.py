"""Loading the seed facts (data/demo/*.csv) and the geography into a database.

Every row is checked before anything is written, with the rules imports and the edit form use
(`services_db.records`); one bad cell refuses the whole load with the file, row and column named. Organisations,
funds, services, funding lines, plans, priorities and allocations are read and written by the import pipeline
(`transfer.import_templates.plan_kinds`), the one writer per record kind; the demo adds only what its files have
beyond a template (`_extras`). Records are matched on their keys, so loading twice leaves the database as loading
once did.
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
from services_db import models as m
from services_db.auth import ensure_demo_users
from services_db.db import DATA_DIR, Database, bump_data_version
from services_db.records import Refs, RowRecord
from services_db.transfer.files import Table
from services_db.transfer.import_plan import ImportPlan
from services_db.transfer.import_templates import Extra, plan_kinds
from services_db.validation import ImportRefused, RecordError, RowChecker, check_header

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
# The files of records read and written by the import pipeline, as (kind, file), in the order they are planned:
# each kind's rows may refer to the records of those before it.
RECORD_FILES = [("organisations", "organisations.csv"), ("funds", "funds.csv"), ("services", "services.csv"),
                ("funding_lines", "funding_lines.csv"), ("plans", "plans.csv"), ("priorities", "priorities.csv"),
                ("allocations", "allocations.csv")]

ROLE_NAMES = {
    "viewer": ("Viewer", "Reads everything and raises gaps (for example a Chief Inspector)."),
    "early_action": ("Early Action Team", "Raises gaps in service and follows them."),
    "commissioner": ("Commissioner", "Edits services and organisations."),
    "opcc": ("OPCC staff", "Also edits funds, allocations, plans and priorities."),
    "admin": ("Administrator", "Manages users, imports and restores."),
}


@dataclass
class DemoFiles:
    """The parsed demo files: for each file, its header and its (row number, dict of cells)."""

    directory: Path
    rows: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)
    headers: dict[str, list[str]] = field(default_factory=dict)

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for name in sorted(REQUIRED):
            h.update((self.directory / name).read_bytes())
        return h.hexdigest()[:16]


def read_csv(path: Path, required: list[str], errors: list[RecordError]) -> tuple[list[str], list[tuple[int, dict]]]:
    """The file's header and rows (row numbers as a spreadsheet shows them); none, with the problem, if it is
    missing or its header lacks a required column."""
    label = f"{path.parent.name}/{path.name}"
    if not path.exists():
        errors.append(RecordError(label, None, None, "file is missing"))
        return required, []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header_errors = check_header(label, reader.fieldnames or [], required)
        if header_errors:
            errors.extend(header_errors)
            return required, []
        return list(reader.fieldnames), [(i, row) for i, row in enumerate(reader, start=2)]


def _read_all(directory: Path, errors: list[RecordError]) -> DemoFiles:
    files = DemoFiles(directory)
    for name, required in REQUIRED.items():
        files.headers[name], files.rows[name] = read_csv(directory / name, required, errors)
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
        s.merge(m.Setting(key="default_as_at", value=DEMO_AS_AT))
        s.merge(m.Setting(key="data_loaded_at", value=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")))
        s.merge(m.Setting(key="demo_fingerprint", value=files.fingerprint()))
        s.merge(m.Setting(key="is_demo", value="true"))
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


def _extras(files: DemoFiles) -> dict[str, Extra]:
    """What the demo's rows have beyond a template, read onto the same records by the import pipeline."""
    reported = report_dates(files.directory)

    def known_from(c: RowChecker, rec: RowRecord, refs: Refs) -> None:
        # known from: the date of the first report naming the service, else the date of the report it cites
        rec.values["known_from"] = c.date("known_from") or reported.get(c.text("source").split(" ")[0])

    def eligible_areas(c: RowChecker, rec: RowRecord, refs: Refs) -> None:
        rec.links["eligible_areas"] = c.keys("eligible_area_codes", refs.areas, what="area")  # none: the whole force

    return {"services": Extra(known_from), "funds": Extra(eligible_areas)}


def _table(files: DemoFiles, name: str) -> Table:
    """A demo file as the import pipeline reads a table. Funding lines are taken grouped by service in the order of
    services.csv (each keeping its row number): the order the demo has always written them in, and so their ids
    and the order they are listed in."""
    rows = files.rows[name]
    if name == "funding_lines.csv":
        order = {v.get("service_key", "").strip(): i for i, (_, v) in enumerate(files.rows["services.csv"])}
        rows = sorted(rows, key=lambda rv: order.get(rv[1].get("service_key", "").strip(), len(order)))
    return Table(f"demo/{name}", files.headers[name], rows)


def _keys(files: DemoFiles, name: str, column: str) -> set[str]:
    return {v.get(column, "").strip() for _, v in files.rows[name]} - {""}


def _write(s: Session, files: DemoFiles, area_rows: list[dict], errors: list[RecordError]) -> dict[str, int]:
    """Check each file against what is already known and write it; errors accumulate and refuse the whole load."""
    for role in m.ROLES:
        name, description = ROLE_NAMES[role]
        _upsert(s, m.Role, "key", role, name=name, description=description)

    known_areas = {r["code"] for r in area_rows} | set(s.scalars(select(m.Area.code)))
    existing_areas = set(s.scalars(select(m.Area.code)))
    for r in area_rows:  # parents come first in area_rows; flush keeps foreign keys happy on PostgreSQL
        if r["code"] in existing_areas:
            area = s.get(m.Area, r["code"])
            if area.population_is_estimate:  # never overwrite a real (imported) population with the rule's
                area.population = r["population"]
            area.name, area.level, area.parent_code = r["name"], r["level"], r["parent_code"]
        else:
            s.add(m.Area(**r))
    s.flush()
    assert all(r["level"] in m.AREA_LEVELS for r in area_rows)

    themes = {}
    for row, v in files.rows["themes.csv"]:
        c = RowChecker("demo/themes.csv", row, v, errors)
        key = c.text("theme_key", required=True)
        themes[key] = _upsert(s, m.Theme, "key", key, name=c.text("name", required=True),
                              description=c.text("description"))
    groups = {}
    for row, v in files.rows["target_groups.csv"]:
        c = RowChecker("demo/target_groups.csv", row, v, errors)
        key = c.text("group_key", required=True)
        groups[key] = _upsert(s, m.TargetGroup, "key", key, name=c.text("name", required=True))
    s.flush()

    # The records go through the import pipeline (transfer.import_templates.plan_kinds): the one reader, with the
    # rules imports and the edit form use (services_db.records), and the one writer per kind. The demo adds only
    # what its files have beyond a template: a required source, known_from, eligible areas (`_extras`), and funds,
    # plans and priorities, which no template offers.
    plan = ImportPlan("demo", [f"demo/{name}" for _, name in RECORD_FILES])
    tables = [(kind, _table(files, name)) for kind, name in RECORD_FILES]
    plan_kinds(s, plan, tables, "demo", extras=_extras(files), require_source=True)
    errors.extend(plan.refused)
    service_keys = _keys(files, "services.csv", "service_key")
    priority_keys = _keys(files, "priorities.csv", "priority_key")
    links: dict[str, list[str]] = {}
    for row, v in files.rows["service_priorities.csv"]:
        c = RowChecker("demo/service_priorities.csv", row, v, errors)
        svc_key = c.key("service_key", service_keys, what="service")
        pri = c.key("priority_key", priority_keys, what="priority")
        if svc_key and pri:
            links.setdefault(pri, []).append(svc_key)
    if not errors:
        plan.writer(s, "system")
        services = {sv.key: sv for sv in s.scalars(select(m.Service).where(m.Service.key.in_(service_keys)))}
        for pri in s.scalars(select(m.Priority).where(m.Priority.key.in_(priority_keys))):
            pri.services = [services[k] for k in links.get(pri.key, [])]

    f = "demo/indicators.csv"
    indicators: dict[str, m.NeedIndicator] = {}
    for row, v in files.rows["indicators.csv"]:
        c = RowChecker(f, row, v, errors)
        key = c.text("indicator_key", required=True)
        ind = _upsert(s, m.NeedIndicator, "key", key, name=c.text("name", required=True),
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
        nv = s.scalar(select(m.NeedValue).where(m.NeedValue.indicator_key == ind, m.NeedValue.area_code == area,
                                                m.NeedValue.period == period))
        fields_ = dict(value=value, numerator=c.number("numerator"), denominator=c.number("denominator"),
                       is_estimate=c.boolean("is_estimate"), source=c.text("source", required=True))
        if nv is None:
            s.add(m.NeedValue(indicator_key=ind, area_code=area, period=period, **fields_))
        else:
            for k, val in fields_.items():
                setattr(nv, k, val)
    s.flush()
    bump_data_version(s)
    return {name: len(rows) for name, rows in files.rows.items()} | {"area": len(area_rows)}
