"""Importing the directory and money from the templates the app offers: organisations, services (one row per
service), funding lines and allocations, as CSV or as sheets of one .xlsx workbook.

The columns are those of the demo files (docs/demo-data.md), so a template, an export and the demo data are the
same shape. Services are checked row by row with RowChecker and written with bulk inserts and updates, so 100,000
rows take seconds, not one ORM flush per row.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from services_db.bulk import write_columns
from services_db.models import (
    ALLOCATION_STATUSES,
    SECTORS,
    SERVICE_STATUSES,
    TIERS,
    Allocation,
    Area,
    Fund,
    FundingLine,
    Organisation,
    Priority,
    Service,
    TargetGroup,
    Theme,
    service_target_group,
    service_theme,
    utcnow,
)
from services_db.models import Coverage as CoverageModel
from services_db.transfer.files import Table
from services_db.transfer.plan import ImportPlan
from services_db.validation import RecordError, RowChecker, check_header, check_unique

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
SERVICE_FIELDS = ["name", "description", "provider_id", "tier", "eligibility", "referral_route", "contact",
                  "capacity", "status", "start_date", "end_date", "end_date_is_estimate", "confidential_location",
                  "address", "latitude", "longitude", "last_reviewed", "source"]


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


class _Known:
    """Keys already in the database, read once; tables earlier in the same import add theirs."""

    def __init__(self, s: Session):
        self.orgs = dict(s.execute(select(Organisation.key, Organisation.id)).all())
        self.services = dict(s.execute(select(Service.key, Service.id)).all())
        self.funds = dict(s.execute(select(Fund.key, Fund.id)).all())
        self.priorities = dict(s.execute(select(Priority.key, Priority.id)).all())
        self.allocations = dict(s.execute(select(Allocation.key, Allocation.id)).all())
        self.areas = set(s.scalars(select(Area.code)))
        self.themes = set(s.scalars(select(Theme.key)))
        self.groups = set(s.scalars(select(TargetGroup.key)))


def plan_directory(s: Session, tables: list[Table], files: list[str]) -> ImportPlan:
    """Check every table (organisations first, then services, funding lines, allocations) and plan the writes."""
    plan = ImportPlan("services", files)
    known = _Known(s)
    by_kind: dict[str, list[Table]] = {}
    for t in tables:
        kind = kind_of(t)
        if kind is None:
            plan.refused.append(RecordError(t.label, 1, None, "wrong header: expected the columns of one of the "
                                            "templates (organisations, services, funding_lines, allocations)"))
            continue
        header_errors = check_header(t.label, t.header, REQUIRED[kind])
        if header_errors:
            plan.refused.extend(header_errors)
            continue
        by_kind.setdefault(kind, []).append(t)
        plan.rows_read += len(t.rows)
    steps = []
    for kind in ORDER:
        for t in by_kind.get(kind, []):
            steps.append(_PLANNERS[kind](s, t, known, plan))
    default_source = "import:" + ", ".join(files)

    def writer(session: Session, username: str) -> None:
        for step in steps:
            step(session, username, default_source)

    plan.writer = writer
    return plan


def _source(c: RowChecker, default: str) -> str:
    return c.text("source", max_len=300) or default


def _plan_organisations(s: Session, t: Table, known: _Known, plan: ImportPlan):
    errors = plan.refused
    check_unique(t.label, [(r, v.get("org_key", "").strip()) for r, v in t.rows], "org_key", errors)
    existing = {o.key: o for o in s.scalars(select(Organisation))}
    todo = []
    for row, v in t.rows:
        n = len(errors)
        c = RowChecker(t.label, row, v, errors)
        key = c.text("org_key", required=True, max_len=80)
        values = dict(name=c.text("name", required=True, max_len=200), sector=c.choice("sector", SECTORS),
                      org_identifier=c.text("org_identifier", max_len=80) or None)
        src = c.text("source", max_len=300)
        if len(errors) > n:
            continue
        old = existing.get(key)
        if old is None:
            plan.count("added", "organisation")
            known.orgs.setdefault(key, None)
        elif any(getattr(old, k) != val for k, val in values.items()):
            plan.count("changed", "organisation")
        else:
            continue
        todo.append((key, values, src))

    def write(session: Session, username: str, default_source: str) -> None:
        for key, values, src in todo:
            obj = session.scalar(select(Organisation).where(Organisation.key == key))
            if obj is None:
                session.add(Organisation(key=key, source=src or default_source, updated_by=username, **values))
            else:
                for k, val in values.items():
                    setattr(obj, k, val)
                obj.version += 1
                obj.updated_by, obj.updated_at = username, utcnow()
                if src:
                    obj.source = src
        session.flush()
    return write


def _plan_services(s: Session, t: Table, known: _Known, plan: ImportPlan):
    errors = plan.refused
    cols = set(t.header)
    check_unique(t.label, [(r, v.get("service_key", "").strip()) for r, v in t.rows], "service_key", errors)
    existing = {r.key: r for r in s.execute(select(Service.__table__)).mappings()}
    links = {"themes": _links(s, service_theme.c.service_id, service_theme.c.theme_key),
             "target_groups": _links(s, service_target_group.c.service_id, service_target_group.c.group_key),
             "coverage": _links(s, CoverageModel.service_id, CoverageModel.area_code)}
    new_rows, changed_rows, link_rows = [], [], []
    for row, v in t.rows:
        n = len(errors)
        c = RowChecker(t.label, row, v, errors)
        key = c.text("service_key", required=True, max_len=120)
        provider = c.key("provider_key", known.orgs, what="organisation")
        start, end = c.period("start_date", "end_date")
        vals = {
            "name": c.text("name", required=True, max_len=300),
            "description": c.text("description"),
            "tier": c.choice("tier", TIERS, required=False),
            "eligibility": c.text("eligibility"),
            "referral_route": c.text("referral_route"),
            "contact": c.text("contact"),
            "capacity": c.text("capacity", max_len=200),
            "status": c.choice("status", SERVICE_STATUSES, required=False) or "active",
            "start_date": start, "end_date": end,
            "end_date_is_estimate": c.boolean("end_date_is_estimate"),
            "confidential_location": c.boolean("confidential_location"),
            "address": c.text("address"),
            "latitude": c.number("latitude"), "longitude": c.number("longitude"),
            "last_reviewed": c.date("last_reviewed"),
        }
        for col, lo, hi in (("latitude", -90, 90), ("longitude", -180, 180)):
            if vals[col] is not None and not lo <= vals[col] <= hi:
                c.fail(col, f"{vals[col]} is outside {lo} to {hi}")
        src = c.text("source", max_len=300)
        wanted = {
            "themes": c.keys("themes", known.themes, what="theme", required=True),
            "target_groups": c.keys("target_groups", known.groups, what="target group"),
            "coverage": c.keys("coverage", known.areas, what="area code", required=True),
        }
        if len(errors) > n:
            continue
        vals = {k: val for k, val in vals.items() if k in cols}  # a column left out keeps what we have
        old = existing.get(key)
        if old is None:
            full = {f: None for f in SERVICE_FIELDS} | {
                "description": "", "eligibility": "", "referral_route": "", "contact": "", "capacity": "",
                "status": "active", "end_date_is_estimate": False, "confidential_location": False, "address": ""}
            full.update(vals)
            new_rows.append((key, provider, src, full, wanted))
            plan.count("added", "service")
            known.services.setdefault(key, None)
            continue
        vals["provider_id"] = known.orgs.get(provider, old["provider_id"])
        if src:
            vals["source"] = src
        diff = {k: val for k, val in vals.items() if old[k] != val}
        link_diff = {k: w for k, w in wanted.items() if k in cols and set(w) != links[k].get(old["id"], set())}
        if diff or link_diff:
            plan.count("changed", "service")
            changed_rows.append((old["id"], old["version"], vals))
            link_rows.append((old["id"], {k: w for k, w in wanted.items() if k in cols}))

    def write(session: Session, username: str, default_source: str) -> None:
        now = utcnow()
        orgs = dict(session.execute(select(Organisation.key, Organisation.id)).all())
        if new_rows:
            session.execute(insert(Service.__table__), [  # Core: batched multi-row VALUES, not one per row
                {"key": key, **full, "provider_id": orgs.get(provider), "source": src or default_source,
                 "version": 1, "updated_at": now, "updated_by": username}
                for key, provider, src, full, _ in new_rows])
            ids = dict(session.execute(select(Service.key, Service.id)).all())
            link_rows.extend((ids[key], wanted) for key, _, _, _, wanted in new_rows)
        if changed_rows:
            session.execute(update(Service), [
                {"id": sid, **vals, "version": version + 1, "updated_at": now, "updated_by": username}
                for sid, version, vals in changed_rows])
        _replace_links(session, link_rows, [sid for sid, _, _ in changed_rows])
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
    specs = {"themes": (service_theme, "theme_key"), "target_groups": (service_target_group, "group_key"),
             "coverage": (CoverageModel.__table__, "area_code")}
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
    errors = plan.refused
    lines: dict[str, list[dict]] = {}
    for row, v in t.rows:
        n = len(errors)
        c = RowChecker(t.label, row, v, errors)
        svc = c.key("service_key", known.services, what="service")
        com = c.key("commissioner_key", known.orgs, what="organisation")
        fund = c.key("fund_key", known.funds, what="fund", required=False)
        start, end = c.period("start_date", "end_date")
        amount = c.money("annual_amount")
        est = c.boolean("is_estimate")
        src = c.text("source", max_len=300)
        if len(errors) > n:
            continue
        lines.setdefault(svc, []).append(dict(com=com, fund=fund, annual_amount=amount, start_date=start,
                                              end_date=end, is_estimate=est, src=src))
        plan.count("added", "funding_line")
    existing = {k for k, n in _count_lines(s).items() if k in lines and n}
    if existing:
        plan.count("changed", "service (funding lines replaced)", len(existing))

    def write(session: Session, username: str, default_source: str) -> None:
        ids = dict(session.execute(select(Service.key, Service.id)).all())
        orgs = dict(session.execute(select(Organisation.key, Organisation.id)).all())
        funds = dict(session.execute(select(Fund.key, Fund.id)).all())
        for chunk in _chunks([ids[k] for k in lines]):
            session.execute(delete(FundingLine).where(FundingLine.service_id.in_(chunk)))
        rows = [dict(service_id=ids[k], commissioner_id=orgs[d["com"]], fund_id=funds.get(d["fund"]),
                     annual_amount=d["annual_amount"], start_date=d["start_date"], end_date=d["end_date"],
                     is_estimate=d["is_estimate"], source=d["src"] or default_source)
                for k, ds in lines.items() for d in ds]
        if rows:
            session.execute(insert(FundingLine), rows)
    return write


def _count_lines(s: Session) -> dict[str, int]:
    from sqlalchemy import func
    return dict(s.execute(select(Service.key, func.count(FundingLine.id)).join(FundingLine).group_by(Service.key)).all())


def _plan_allocations(s: Session, t: Table, known: _Known, plan: ImportPlan):
    errors = plan.refused
    cols = set(t.header)  # status and areas_are_estimate left out of a file keep what the record has
    check_unique(t.label, [(r, v.get("allocation_key", "").strip()) for r, v in t.rows], "allocation_key", errors)
    in_file = {v.get("allocation_key", "").strip() for _, v in t.rows}
    todo = []
    for row, v in t.rows:
        n = len(errors)
        c = RowChecker(t.label, row, v, errors)
        key = c.text("allocation_key", required=True, max_len=120)
        vals = dict(
            fund=c.key("fund_key", known.funds, what="fund"),
            recipient=c.key("recipient_key", known.orgs, what="organisation", required=False),
            service=c.key("service_key", known.services, what="service", required=False),
            areas=c.keys("area_codes", known.areas, what="area code"),
            amount=c.money("amount"), purpose=c.text("purpose"),
            priorities=c.keys("priorities", known.priorities, what="priority"),
            payment_schedule=c.text("payment_schedule", max_len=40) or "single",
            award_date=c.date("award_date"),
            is_estimate=c.boolean("is_estimate"), src=c.text("source", max_len=300),
            status=c.choice("status", ALLOCATION_STATUSES, required=False) if "status" in cols else None,
            areas_are_estimate=c.boolean("areas_are_estimate") if "areas_are_estimate" in cols else None,
        )
        vals["planned_start"], vals["planned_end"] = c.period("planned_start", "planned_end")
        parent = c.text("parent_key")
        if parent and parent not in known.allocations and parent not in in_file:
            c.fail("parent_key", f"unknown allocation '{parent}'")
        if parent == key and key:
            c.fail("parent_key", "an allocation cannot be its own parent")
        vals["parent"] = parent or None
        if len(errors) > n:
            continue
        plan.count("changed" if key in known.allocations else "added", "allocation")
        todo.append((key, vals))

    def write(session: Session, username: str, default_source: str) -> None:
        orgs = {o.key: o for o in session.scalars(select(Organisation))}
        funds = {f.key: f for f in session.scalars(select(Fund))}
        services = dict(session.execute(select(Service.key, Service.id)).all())
        pris = {p.key: p for p in session.scalars(select(Priority))}
        objs = {}
        for key, d in todo:
            obj = session.scalar(select(Allocation).where(Allocation.key == key))
            fields = dict(fund=funds[d["fund"]], recipient=orgs.get(d["recipient"]),
                          service_id=services.get(d["service"]), amount=d["amount"], purpose=d["purpose"],
                          payment_schedule=d["payment_schedule"], award_date=d["award_date"],
                          planned_start=d["planned_start"], planned_end=d["planned_end"],
                          is_estimate=d["is_estimate"], updated_by=username, updated_at=utcnow())
            if obj is None or d["status"] is not None:
                fields["status"] = d["status"] or "awarded"  # applied / awarded / paid / withdrawn
            if obj is None or d["areas_are_estimate"] is not None:
                fields["areas_are_estimate"] = bool(d["areas_are_estimate"])
            if obj is None:
                obj = Allocation(key=key, source=d["src"] or default_source, **fields)
                session.add(obj)
            else:
                for k, val in fields.items():
                    setattr(obj, k, val)
                obj.version += 1
                if d["src"]:
                    obj.source = d["src"]
            obj.areas = [session.get(Area, a) for a in d["areas"]]
            obj.priorities = [pris[p] for p in d["priorities"]]
            objs[key] = obj
        session.flush()
        for key, d in todo:
            if d["parent"]:
                parent = objs.get(d["parent"]) or session.scalar(
                    select(Allocation).where(Allocation.key == d["parent"]))
                objs[key].parent_id = parent.id
        session.flush()
    return write


_PLANNERS = {"organisations": _plan_organisations, "services": _plan_services,
             "funding_lines": _plan_funding_lines, "allocations": _plan_allocations}

