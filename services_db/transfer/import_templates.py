"""Importing the directory and money from the templates the app offers: organisations, services (one row per
service), funding lines and allocations, as CSV or as sheets of one .xlsx workbook.

The columns are those of the demo files (docs/demo-data.md), so a template, an export and the demo data are the
same shape. Each row is read with the rules the demo loader and the edit form use (`services_db.records`) and
written with bulk inserts and updates, so 100,000 rows take seconds, not one ORM flush per row.

People fill templates in with the names they know: a theme, area or organisation may be given by its key or code
or by its name ("Mental health", "Burnley", "Lancashire Care NHS Foundation Trust"; `services_db.references`) and
is stored as its key. The workbook template carries a "Valid values" sheet (`valid_values`) and the CSV template a
companion valid-values file; the sheet sent back with a filled-in workbook is skipped, not refused.

An import means what it says: a row already as the database has it is unchanged (no new version, no write at all),
a column left out of a file keeps what the record has, replacing a service's funding lines says how much money a
year goes and comes, and a service flagged confidential_location never has an address or coordinates stored.
`export_tables` writes the same four tables back out, so an export re-imported changes nothing.

The demo loader (`services_db.demo`) loads its files through the same planners (`plan_kinds`), with funds, plans and
priorities, which no template offers, and what its rows have beyond a template (`Extra`: a required source, a
service's known_from, a fund's eligible areas): one reader and one writer per record kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import NamedTuple

import pandas as pd
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, aliased

from services_db import models as m
from services_db import records
from services_db.bulk import write_columns
from services_db.db import Database
from services_db.transfer.files import Table
from services_db.transfer.import_plan import ImportPlan
from services_db.transfer.spreadsheet import to_csv_bytes, to_excel_bytes
from services_db.validation import RecordError, RowChecker, check_header, check_unique, unknown_columns

TEMPLATES: dict[str, list[str]] = {
    "organisations": ["org_key", "name", "sector", "org_identifier", "source"],
    "services": ["service_key", "name", "description", "provider_key", "themes", "target_groups", "tier",
                 "eligibility", "referral_route", "contact", "capacity", "status", "start_date", "end_date",
                 "end_date_is_estimate", "coverage", "confidential_location", "address", "latitude", "longitude",
                 "last_reviewed", "source"],
    "funding_lines": ["service_key", "commissioner_key", "fund_key", "annual_amount", "start_date", "end_date",
                      "is_estimate", "source"],
    "allocations": ["allocation_key", "fund_key", "recipient_key", "service_key", "area_codes", "amount", "purpose",
                    "priorities", "payment_schedule", "award_date", "planned_start", "planned_end", "parent_key",
                    "is_estimate", "status", "areas_are_estimate", "source"],
}
REQUIRED: dict[str, list[str]] = {
    "organisations": ["org_key", "name", "sector"],
    "services": ["service_key", "name", "provider_key", "themes", "coverage"],
    "funding_lines": ["service_key", "commissioner_key", "annual_amount"],
    "allocations": ["allocation_key", "fund_key", "amount"],
}
ORDER = ["organisations", "services", "funding_lines", "allocations"]
NOTES_PER_KIND = 20  # per-record preview lines of one kind before they are summed up
SERVICE_FIELDS = ["name", "description", "provider_id", "tier", "eligibility", "referral_route", "contact",
                  "capacity", "status", "start_date", "end_date", "end_date_is_estimate", "confidential_location",
                  "address", "latitude", "longitude", "last_reviewed", "source"]


VALID_VALUES_COLUMNS = ["columns", "value", "name", "what"]
VALID_VALUES_SHEET = "Valid values"
VALID_VALUES_NOTE = (
    "References may be given by key or code (value) or by name, in any case, with '&' or 'and' alike; "
    "organisations' names also without punctuation or 'NHS'/'Ltd'/'The'. A name that fits two records is refused "
    "with both listed. LSOA codes (E01...) are accepted in coverage and area_codes too. Lists take ';' between "
    "items. Dates are YYYY-MM-DD; true/false columns take true, false, yes, no, 1 or 0.")


def valid_values(s: Session) -> pd.DataFrame:
    """What each template column accepts, one value a row: the keys and codes with their names (either may be
    typed), and the fixed choices. Areas are listed above LSOA level (every LSOA code is valid too)."""
    rows: list[tuple[str, str, str, str]] = []

    def add(columns: str, what: str, pairs) -> None:
        rows.extend((columns, str(value), str(name or ""), what) for value, name in pairs)

    add("themes", "theme", s.execute(select(m.Theme.key, m.Theme.name).order_by(m.Theme.name)))
    add("target_groups", "target group", s.execute(select(m.TargetGroup.key, m.TargetGroup.name)
                                                   .order_by(m.TargetGroup.name)))
    levels = ("force", "division", "area", "district")
    areas = s.execute(select(m.Area.code, m.Area.name, m.Area.level).where(m.Area.level.in_(levels))).all()
    areas.sort(key=lambda a: (levels.index(a.level), a.name))
    rows.extend(("coverage, area_codes", a.code, a.name, a.level) for a in areas)
    add("provider_key, commissioner_key, recipient_key", "organisation",
        s.execute(select(m.Organisation.key, m.Organisation.name).order_by(m.Organisation.name)))
    add("fund_key", "fund", s.execute(select(m.Fund.key, m.Fund.name).order_by(m.Fund.financial_year, m.Fund.name)))
    add("priorities", "priority", s.execute(select(m.Priority.key, m.Priority.name).order_by(m.Priority.key)))
    add("sector", "choice", ((v, "") for v in m.SECTORS))
    add("tier", "choice", ((v, "") for v in m.TIERS))
    add("status (services)", "choice", ((v, "") for v in m.SERVICE_STATUSES))
    add("status (allocations)", "choice", ((v, "") for v in m.ALLOCATION_STATUSES))
    rows.append(("service_key (funding_lines, allocations)", "", "a service's key or name, in the directory or "
                 "in the services sheet", "reference"))
    rows.append(("(all)", "", VALID_VALUES_NOTE, "note"))
    return pd.DataFrame(rows, columns=VALID_VALUES_COLUMNS, dtype=object)


def template_frames(s: Session) -> dict[str, pd.DataFrame]:
    """The four empty templates and the "Valid values" sheet, for one workbook (re-importing it skips the list)."""
    frames = {kind: pd.DataFrame(columns=cols) for kind, cols in TEMPLATES.items()}
    frames[VALID_VALUES_SHEET] = valid_values(s)
    return frames


def template_files(db: Database) -> dict[str, bytes]:
    """The downloads the Data page offers: the workbook (four templates and "Valid values"), the services CSV
    template and the valid values as CSV, all through the formula-neutralising writers."""
    with db.sessions() as s:
        frames = template_frames(s)
    return {"services-template.xlsx": to_excel_bytes(frames),
            "services-template.csv": to_csv_bytes(frames["services"]),
            "services-valid-values.csv": to_csv_bytes(frames[VALID_VALUES_SHEET])}


def kind_of(table: Table) -> str | None:
    """Which template a table follows, by its header (a sheet may also be named after its kind)."""
    cols = set(table.header)
    if "allocation_key" in cols:
        return "allocations"
    if "commissioner_key" in cols or "annual_amount" in cols:
        return "funding_lines"
    if "org_key" in cols:
        return "organisations"
    if "service_key" in cols:
        return "services"
    return None


class Extra(NamedTuple):
    """What a kind's rows carry beyond its template (the demo's files: a `known_from`, a fund's eligible areas),
    read after the template's columns onto the same record and written with it."""

    read: Callable[[RowChecker, records.RowRecord, records.Refs], None]


class _Known:
    """What rows may refer to, read once (by key or by name: `records.Refs`); tables earlier in the same import
    add theirs. Also how rows are read beyond their template: each kind's `Extra`, and whether `source` is
    required (the demo's facts each name their report; an import's default to the file's name)."""

    def __init__(self, s: Session, extras: Mapping[str, Extra] | None = None, require_source: bool = False):
        self.refs = records.Refs.from_session(s)
        self.org_ids = dict(s.execute(select(m.Organisation.key, m.Organisation.id)).all())
        self.allocations = set(s.scalars(select(m.Allocation.key)))
        self.extras = dict(extras or {})
        self.require_source = require_source


def plan_directory(s: Session, tables: list[Table], files: list[str]) -> ImportPlan:
    """Check every table (organisations first, then services, funding lines, allocations) and plan the writes."""
    plan = ImportPlan("services", files)
    by_kind: dict[str, list[Table]] = {}
    for t in tables:
        if [h.strip() for h in t.header] == VALID_VALUES_COLUMNS:  # the template's own list, sent back with it
            plan.notes.append(f"{t.label}: the list of valid values was not read (it is not data)")
            continue
        kind = kind_of(t)
        if kind is None:
            plan.refused.append(_no_template(t))
            continue
        header_errors = check_header(t.label, t.header, REQUIRED[kind], TEMPLATES[kind])
        if header_errors:
            plan.refused.extend(header_errors)
            continue
        ignored = unknown_columns(t.header, TEMPLATES[kind])
        if ignored:
            plan.notes.append(f"{t.label}: column(s) {', '.join(ignored)} are not in the {kind} template and "
                              "were not read")
        by_kind.setdefault(kind, []).append(t)
        plan.rows_read += len(t.rows)
    plan_kinds(s, plan, [(kind, t) for kind in ORDER for t in by_kind.get(kind, [])], "import:" + ", ".join(files))
    return plan


def plan_kinds(s: Session, plan: ImportPlan, tables: list[tuple[str, Table]], default_source: str, *,
               extras: Mapping[str, Extra] | None = None, require_source: bool = False) -> None:
    """Plan each (kind, table) in turn, rows seeing the records the tables before them add, and set the plan's
    writer: the one reader and writer per record kind, for imports (`plan_directory`, the four template kinds) and
    the demo loader (`services_db.demo`, which adds funds, plans and priorities and its `extras`)."""
    known = _Known(s, extras, require_source)
    steps = [_PLANNERS[kind](s, t, known, plan) for kind, t in tables]

    def writer(session: Session, username: str) -> None:
        for step in steps:
            step(session, username, default_source)

    plan.writer = writer


def _no_template(t: Table) -> RecordError:
    """A header with none of the templates' key columns: the missing and unknown columns of the closest template."""
    best = max(ORDER, key=lambda k: len(set(t.header) & set(TEMPLATES[k])) + (k == "services") * 0.5)
    missing = [c for c in REQUIRED[best] if c not in t.header]
    unknown = unknown_columns(t.header, {c for cols in TEMPLATES.values() for c in cols})
    message = (f"wrong header: missing column(s) {', '.join(missing)} (of the {best} template; the templates are "
               f"{', '.join(ORDER)})")
    if unknown:
        message += f"; unknown column(s) {', '.join(unknown)}"
    return RecordError(t.label, 1, None, message)


def _some(items: list[str], what: str) -> str:
    """'a, b, c' or 'a, b, … and 5 more <what>'."""
    if len(items) <= NOTES_PER_KIND:
        return ", ".join(items)
    return ", ".join(items[:NOTES_PER_KIND]) + f" and {len(items) - NOTES_PER_KIND:,} more {what}"


def _pounds(amount: Decimal | float) -> str:
    return f"£{amount:,.0f}"


class _Row(NamedTuple):
    c: RowChecker
    key: str | None
    old: object
    rec: records.RowRecord
    src: str


def _read_rows(t: Table, known: _Known, plan: ImportPlan, kind: str, model: type, key_col: str | None,
               existing: Mapping, read: Callable[[RowChecker, str | None, object], records.RowRecord],
               ) -> Iterator[_Row]:
    """Every row of a table read the one way (its key, `read` for its record, the kind's `Extra`, its source),
    yielding those with no problem; a row with any is refused (`plan.refused`) and not yielded."""
    errors = plan.refused
    if key_col:
        check_unique(t.label, [(r, v.get(key_col, "").strip()) for r, v in t.rows], key_col, errors)
    extra = known.extras.get(kind)
    for row, v in t.rows:
        n = len(errors)
        c = RowChecker(t.label, row, v, errors)
        key = records.read_key(c, key_col, model) if key_col else None
        old = existing.get(key)
        rec = read(c, key, old)
        src = (c.text("source", required=True, max_len=records.limit(model, "source")) if known.require_source
               else records.read_source(c, model))
        if extra:
            extra.read(c, rec, known.refs)
        if len(errors) == n:
            yield _Row(c, key, old, rec, src)


# Records written one by one through `records.apply`: kind -> (model, key column, reader, what a count calls it).
_RECORDS: dict[str, tuple[type, str, Callable[..., records.RowRecord], str]] = {
    "organisations": (m.Organisation, "org_key", lambda c, refs, new: records.read_organisation(c, new=new),
                      "organisation"),
    "funds": (m.Fund, "fund_key", records.read_fund, "fund"),
    "plans": (m.Plan, "plan_key", records.read_plan, "plan"),
    "priorities": (m.Priority, "priority_key", records.read_priority, "priority"),
}
# Links to areas a kind's `Extra` may read (as area codes) that `records.apply` does not set: attribute names.
_AREA_LINKS = ("eligible_areas",)


def _related_key(obj) -> str | None:
    return None if obj is None else getattr(obj, "key", None) or obj.code


def _record_differs(old, rec: records.RowRecord, src: str) -> bool:
    """Whether a row changes the record it names: a value, a record it refers to, a link, or a source it gives."""
    return (any(getattr(old, k) != val for k, val in rec.values.items())
            or any(_related_key(getattr(old, name)) != key for name, key in rec.refs.items())
            or any({_related_key(o) for o in getattr(old, name)} != set(keys) for name, keys in rec.links.items())
            or bool(src and src != old.source))


def _plan_records(kind: str):
    model, key_col, read, what = _RECORDS[kind]

    def planner(s: Session, t: Table, known: _Known, plan: ImportPlan):
        existing = {o.key: o for o in s.scalars(select(model))}
        todo = []
        # a new record reads every column; an existing one only those the file has (one left out keeps its value)
        for r in _read_rows(t, known, plan, kind, model, key_col, existing,
                            lambda c, key, old: read(c, known.refs, new=old is None)):
            if r.old is None:
                plan.count("added", what)
                getattr(known.refs, kind).add(r.key, r.rec.values["name"])
                if model is m.Organisation:
                    known.org_ids.setdefault(r.key, None)
            elif not _record_differs(r.old, r.rec, r.src):
                continue  # unchanged
            else:
                plan.count("changed", what)
            todo.append((r.key, r.rec, r.src))

        def write(session: Session, username: str, default_source: str) -> None:
            for key, rec, src in todo:
                obj = session.scalar(select(model).where(model.key == key))
                if obj is None:
                    obj = model(key=key, source=src or default_source, updated_by=username)
                else:
                    obj.version += 1
                    obj.updated_by, obj.updated_at = username, m.utcnow()
                    if src:
                        obj.source = src
                areas = {n: rec.links[n] for n in _AREA_LINKS if n in rec.links}
                links = {n: ks for n, ks in rec.links.items() if n not in areas}
                records.apply(session, obj, records.RowRecord(rec.values, rec.refs, links))
                for name, codes in areas.items():
                    setattr(obj, name, [session.get(m.Area, a) for a in codes])
                session.add(obj)
            session.flush()
        return write
    return planner


def _plan_services(s: Session, t: Table, known: _Known, plan: ImportPlan):
    cols = set(t.header)
    existing = {r.key: r for r in s.execute(select(m.Service.__table__)).mappings()}
    links = {"themes": _links(s, m.service_theme.c.service_id, m.service_theme.c.theme_key),
             "target_groups": _links(s, m.service_target_group.c.service_id, m.service_target_group.c.group_key),
             "coverage": _links(s, m.Coverage.service_id, m.Coverage.area_code)}
    new_rows, changed_rows, link_rows, hidden = [], [], [], []

    def read(c: RowChecker, key: str | None, old) -> records.RowRecord:
        # the one set of rules (records.read_service): a column left out keeps what we have, a confidential
        # location is never stored whatever the file says
        return records.read_service(c, known.refs, new=old is None,
                                    was_confidential=bool(old and old["confidential_location"]),
                                    had_location=bool(old and (old["address"] or old["latitude"] is not None
                                                               or old["longitude"] is not None)))

    for _, key, old, rec, src in _read_rows(t, known, plan, "services", m.Service, "service_key", existing, read):
        vals, wanted, provider = rec.values, rec.links, rec.refs.get("provider")
        if rec.hidden_location:
            hidden.append(key)
        if old is None:
            full = {f: None for f in SERVICE_FIELDS} | {
                "description": "", "eligibility": "", "referral_route": "", "contact": "", "capacity": "",
                "status": "active", "end_date_is_estimate": False, "confidential_location": False, "address": ""}
            full.update(vals)
            new_rows.append((key, provider, src, full, wanted))
            plan.count("added", "service")
            known.refs.services.add(key, vals["name"])
            continue
        if "provider" in rec.refs:
            vals["provider_id"] = known.org_ids.get(provider)  # None: an organisation this import adds
        if src:
            vals["source"] = src
        diff = {k: val for k, val in vals.items() if old[k] != val}
        link_diff = {k: w for k, w in wanted.items() if k in cols and set(w) != links[k].get(old["id"], set())}
        if diff or link_diff:
            plan.count("changed", "service")
            changed_rows.append((old["id"], old["version"], vals, provider))
            link_rows.append((old["id"], {k: w for k, w in wanted.items() if k in cols}))
    if hidden:
        plan.notes.append(f"{len(hidden):,} service(s) flagged confidential_location: their address and coordinates "
                          f"are not stored ({_some(hidden, 'services')})")

    def write(session: Session, username: str, default_source: str) -> None:
        now = m.utcnow()
        orgs = dict(session.execute(select(m.Organisation.key, m.Organisation.id)).all())
        if new_rows:
            session.execute(insert(m.Service.__table__), [  # Core: batched multi-row VALUES, not one per row
                {"key": key, **full, "provider_id": orgs.get(provider), "source": src or default_source,
                 "version": 1, "updated_at": now, "updated_by": username}
                for key, provider, src, full, _ in new_rows])
            ids = dict(session.execute(select(m.Service.key, m.Service.id)).all())
            link_rows.extend((ids[key], wanted) for key, _, _, _, wanted in new_rows)
        if changed_rows:
            session.execute(update(m.Service), [
                {"id": sid, **vals, **({"provider_id": orgs.get(provider)} if "provider_id" in vals else {}),
                 "version": version + 1, "updated_at": now, "updated_by": username}
                for sid, version, vals, provider in changed_rows])
        _replace_links(session, link_rows, [sid for sid, _, _, _ in changed_rows])
    return write


def _links(s: Session, id_col, key_col) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for sid, k in s.execute(select(id_col, key_col)):
        out.setdefault(sid, set()).add(k)
    return out


def _chunks(items: list, size: int = 900):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _replace_links(session: Session, link_rows: list[tuple[int, dict]], changed_ids: list[int]) -> None:
    specs = {"themes": (m.service_theme, "theme_key"), "target_groups": (m.service_target_group, "group_key"),
             "coverage": (m.Coverage.__table__, "area_code")}
    for name, (table, col) in specs.items():
        touched = [sid for sid, wanted in link_rows if name in wanted]
        changed = set(touched) & set(changed_ids)
        for chunk in _chunks(sorted(changed)):
            session.execute(delete(table).where(table.c.service_id.in_(chunk)))
        pairs = [(sid, k) for sid, wanted in link_rows if name in wanted for k in dict.fromkeys(wanted[name])]
        if pairs:  # COPY on PostgreSQL: 500,000 link rows of a national import in seconds, not half a minute
            sids, keys = zip(*pairs, strict=True)
            write_columns(session.connection(), table, {"service_id": sids, col: keys})


def _plan_funding_lines(s: Session, t: Table, known: _Known, plan: ImportPlan):
    """A service's lines in the file replace all of its lines, unless they are the lines it already has."""
    lines: dict[str, list[dict]] = {}
    for _, _, _, rec, src in _read_rows(t, known, plan, "funding_lines", m.FundingLine, None, {},
                                        lambda c, key, old: records.read_funding_line(c, known.refs)):
        lines.setdefault(rec.refs["service"], []).append(dict(com=rec.refs["commissioner"], fund=rec.refs["fund"],
                                                              **rec.values, src=src))
    existing = _existing_lines(s, set(lines))
    replace: dict[str, list[dict]] = {}
    replaced = []
    for svc, new in lines.items():
        old = existing.get(svc, [])
        if _same_lines(new, old):
            continue  # unchanged
        replace[svc] = new
        plan.count("added", "funding_line", len(new))
        if old:
            plan.count("changed", "service (funding lines replaced)")
            replaced.append((svc, len(old), sum(d["annual_amount"] for d in old),
                             sum(d["annual_amount"] for d in new)))
    for svc, n_old, gone, added in replaced[:NOTES_PER_KIND]:
        plan.notes.append(f"service {svc}: {n_old:,} funding line{'s' if n_old != 1 else ''} replaced, "
                          f"{_pounds(gone)} a year removed, {_pounds(added)} added")
    if len(replaced) > NOTES_PER_KIND:
        rest = replaced[NOTES_PER_KIND:]
        plan.notes.append(f"and {len(rest):,} more services: {sum(r[1] for r in rest):,} funding lines replaced, "
                          f"{_pounds(sum(r[2] for r in rest))} a year removed, {_pounds(sum(r[3] for r in rest))} "
                          "added")

    def write(session: Session, username: str, default_source: str) -> None:
        if not replace:
            return
        ids = dict(session.execute(select(m.Service.key, m.Service.id)).all())
        orgs = dict(session.execute(select(m.Organisation.key, m.Organisation.id)).all())
        funds = dict(session.execute(select(m.Fund.key, m.Fund.id)).all())
        for chunk in _chunks([ids[k] for k in replace]):
            session.execute(delete(m.FundingLine).where(m.FundingLine.service_id.in_(chunk)))
        rows = [dict(service_id=ids[k], commissioner_id=orgs[d["com"]], fund_id=funds.get(d["fund"]),
                     annual_amount=d["annual_amount"], start_date=d["start_date"], end_date=d["end_date"],
                     is_estimate=d["is_estimate"], source=d["src"] or default_source)
                for k, ds in replace.items() for d in ds]
        if rows:
            session.execute(insert(m.FundingLine), rows)
    return write


_LINE_FIELDS = ("com", "fund", "annual_amount", "start_date", "end_date", "is_estimate")


def _existing_lines(s: Session, service_keys: set[str]) -> dict[str, list[dict]]:
    """The funding lines the named services have now, in the shape the file's lines are read into."""
    com, fund = aliased(m.Organisation), aliased(m.Fund)
    stmt = (select(m.Service.key, com.key, fund.key, m.FundingLine.annual_amount, m.FundingLine.start_date,
                   m.FundingLine.end_date, m.FundingLine.is_estimate, m.FundingLine.source)
            .join(m.FundingLine, m.FundingLine.service_id == m.Service.id)
            .join(com, com.id == m.FundingLine.commissioner_id)
            .outerjoin(fund, fund.id == m.FundingLine.fund_id))
    out: dict[str, list[dict]] = {}
    for svc, *values in s.execute(stmt):
        if svc in service_keys:
            out.setdefault(svc, []).append(dict(zip((*_LINE_FIELDS, "src"), values, strict=True)))
    return out


def _same_lines(new: list[dict], old: list[dict]) -> bool:
    """The same lines, in any order; a line with no source in the file matches whatever source the line has."""
    if len(new) != len(old):
        return False
    left = [tuple(d[f] for f in _LINE_FIELDS) + (d["src"],) for d in old]
    for d in sorted(new, key=lambda d: not d["src"]):  # lines naming their source first
        want = tuple(d[f] for f in _LINE_FIELDS)
        hit = next((i for i, o in enumerate(left) if o[:-1] == want and (not d["src"] or o[-1] == d["src"])), None)
        if hit is None:
            return False
        left.pop(hit)
    return True


# The column each field of an allocation is read from: a column left out of a file keeps what the record has.
_ALLOCATION_COLUMNS = {
    "fund": "fund_key", "recipient": "recipient_key", "service": "service_key", "areas": "area_codes",
    "amount": "amount", "purpose": "purpose", "priorities": "priorities", "payment_schedule": "payment_schedule",
    "award_date": "award_date", "planned_start": "planned_start", "planned_end": "planned_end", "parent": "parent_key",
    "is_estimate": "is_estimate", "status": "status", "areas_are_estimate": "areas_are_estimate",
}


def _plan_allocations(s: Session, t: Table, known: _Known, plan: ImportPlan):
    cols = set(t.header)
    in_file = {v.get("allocation_key", "").strip() for _, v in t.rows}
    existing = _existing_allocations(s)
    given = [f for f, col in _ALLOCATION_COLUMNS.items() if col in cols]
    todo = []

    def read(c: RowChecker, key: str | None, old) -> records.RowRecord:
        rec = records.read_allocation(c, known.refs, new=old is None)  # the rules the demo loader and edit form use
        parent = c.text("parent_key")  # the parent may come later in the file: the caller's, not the rules'
        if parent and parent not in known.allocations and parent not in in_file:
            c.fail("parent_key", f"unknown allocation '{parent}'")
        if parent == key and key:
            c.fail("parent_key", "an allocation cannot be its own parent")
        rec.refs["parent"] = parent or None
        return rec

    for _, key, old, rec, src in _read_rows(t, known, plan, "allocations", m.Allocation, "allocation_key", existing,
                                            read):
        vals = {**rec.refs, **rec.values, **rec.links, "src": src}
        if old is None:
            plan.count("added", "allocation")
            todo.append((key, vals, list(_ALLOCATION_COLUMNS)))
            continue
        fields = [f for f in given if f in vals]  # an empty status cell keeps the allocation's status
        if not (any(_differs(vals[f], old[f]) for f in fields) or (vals["src"] and vals["src"] != old["src"])):
            continue  # unchanged
        plan.count("changed", "allocation")
        todo.append((key, vals, fields))

    def write(session: Session, username: str, default_source: str) -> None:
        if not todo:
            return
        orgs = {o.key: o for o in session.scalars(select(m.Organisation))}
        funds = {f.key: f for f in session.scalars(select(m.Fund))}
        services = dict(session.execute(select(m.Service.key, m.Service.id)).all())
        pris = {p.key: p for p in session.scalars(select(m.Priority))}
        objs = {}
        for key, d, fields in todo:
            obj = session.scalar(select(m.Allocation).where(m.Allocation.key == key))
            related = {"fund": lambda k: funds[k], "recipient": orgs.get, "service": services.get}
            values = {("service_id" if f == "service" else f): related.get(f, lambda x: x)(d[f])
                      for f in fields if f not in ("areas", "priorities", "parent")}
            if obj is None:
                obj = m.Allocation(key=key, source=d["src"] or default_source, updated_by=username,
                                 updated_at=m.utcnow(), **values)
                session.add(obj)
            else:
                for k, val in values.items():
                    setattr(obj, k, val)
                obj.version += 1
                obj.updated_by, obj.updated_at = username, m.utcnow()
                if d["src"]:
                    obj.source = d["src"]
            if "areas" in fields:
                obj.areas = [session.get(m.Area, a) for a in d["areas"]]
            if "priorities" in fields:
                obj.priorities = [pris[p] for p in d["priorities"]]
            objs[key] = obj
        session.flush()
        for key, d, fields in todo:
            if "parent" not in fields:
                continue
            parent = d["parent"] and (objs.get(d["parent"]) or session.scalar(
                select(m.Allocation).where(m.Allocation.key == d["parent"])))
            objs[key].parent_id = parent.id if parent else None
        session.flush()
    return write


def _differs(new, old) -> bool:
    if isinstance(new, list):
        return set(new) != old
    return new != old


def _existing_allocations(s: Session) -> dict[str, dict]:
    """Every allocation in the shape a file's row is read into (areas and priorities as sets)."""
    rec, parent = aliased(m.Organisation), aliased(m.Allocation)
    stmt = (select(m.Allocation.id, m.Allocation.key, m.Fund.key.label("fund"), rec.key.label("recipient"),
                   m.Service.key.label("service"), parent.key.label("parent"), m.Allocation.amount,
                   m.Allocation.purpose, m.Allocation.payment_schedule, m.Allocation.award_date,
                   m.Allocation.planned_start, m.Allocation.planned_end, m.Allocation.is_estimate,
                   m.Allocation.status, m.Allocation.areas_are_estimate, m.Allocation.source.label("src"))
            .join(m.Fund, m.Fund.id == m.Allocation.fund_id)
            .outerjoin(rec, rec.id == m.Allocation.recipient_id)
            .outerjoin(m.Service, m.Service.id == m.Allocation.service_id)
            .outerjoin(parent, parent.id == m.Allocation.parent_id))
    rows = {r.id: dict(r._mapping) | {"areas": set(), "priorities": set()} for r in s.execute(stmt)}
    for aid, code in s.execute(select(m.allocation_area.c.allocation_id, m.allocation_area.c.area_code)):
        rows[aid]["areas"].add(code)
    for aid, key in s.execute(select(m.allocation_priority.c.allocation_id, m.Priority.key)
                              .join(m.Priority, m.Priority.id == m.allocation_priority.c.priority_id)):
        rows[aid]["priorities"].add(key)
    return {r["key"]: r for r in rows.values()}


_PLANNERS = {"organisations": _plan_records("organisations"), "services": _plan_services,
             "funding_lines": _plan_funding_lines, "allocations": _plan_allocations,
             "funds": _plan_records("funds"), "plans": _plan_records("plans"),
             "priorities": _plan_records("priorities")}



def export_tables(db: Database) -> dict[str, pd.DataFrame]:
    """The directory and its money as the four import templates (text cells, dates ISO, booleans true/false, lists
    ;-joined): write them as CSV or sheets and import them back to change nothing. A confidential location's
    address and coordinates are left out."""
    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return str(value)

    def frame(kind: str, rows: list[dict]) -> pd.DataFrame:
        return pd.DataFrame([{c: text(r.get(c)) for c in TEMPLATES[kind]} for r in rows], columns=TEMPLATES[kind],
                            dtype=object)

    with db.sessions() as s:
        orgs = [dict(org_key=o.key, name=o.name, sector=o.sector, org_identifier=o.org_identifier, source=o.source)
                for o in s.scalars(select(m.Organisation).order_by(m.Organisation.key))]
        org_key = dict(s.execute(select(m.Organisation.id, m.Organisation.key)).all())
        links = {"themes": _links(s, m.service_theme.c.service_id, m.service_theme.c.theme_key),
                 "target_groups": _links(s, m.service_target_group.c.service_id, m.service_target_group.c.group_key),
                 "coverage": _links(s, m.Coverage.service_id, m.Coverage.area_code)}
        services = []
        for r in s.execute(select(m.Service.__table__).order_by(m.Service.key)).mappings():
            row = {f: r[f] for f in SERVICE_FIELDS} | {"service_key": r["key"],
                                                       "provider_key": org_key.get(r["provider_id"])}
            row |= {name: ";".join(sorted(found.get(r["id"], ()))) for name, found in links.items()}
            if r["confidential_location"]:
                row.update(address="", latitude=None, longitude=None)
            services.append(row)
        lines = [dict(service_key=svc, commissioner_key=d["com"], fund_key=d["fund"], annual_amount=d["annual_amount"],
                      start_date=d["start_date"], end_date=d["end_date"], is_estimate=d["is_estimate"],
                      source=d["src"])
                 for svc, ds in sorted(_existing_lines(s, set(s.scalars(select(m.Service.key)))).items()) for d in ds]
        allocations = [dict(allocation_key=key, fund_key=a["fund"], recipient_key=a["recipient"],
                            service_key=a["service"], area_codes=";".join(sorted(a["areas"])), amount=a["amount"],
                            purpose=a["purpose"], priorities=";".join(sorted(a["priorities"])),
                            payment_schedule=a["payment_schedule"], award_date=a["award_date"],
                            planned_start=a["planned_start"], planned_end=a["planned_end"], parent_key=a["parent"],
                            is_estimate=a["is_estimate"], status=a["status"],
                            areas_are_estimate=a["areas_are_estimate"], source=a["src"])
                       for key, a in sorted(_existing_allocations(s).items())]
    return {"organisations": frame("organisations", orgs), "services": frame("services", services),
            "funding_lines": frame("funding_lines", lines), "allocations": frame("allocations", allocations)}
