"""Adding and editing services, organisations, funds, allocations, plans and priorities.

Every save checks the role (server side), reads the form with the rules the demo loader and imports use
(`services_db.records`: a field left out keeps what the record has, names accepted for keys), refuses a
stale save (optimistic locking on `version`: the form names the version it read), records who changed what
(before and after) in the audit log and bumps the data version, all in one transaction.

The version check and its bump are one statement (`UPDATE … SET version = version + 1 WHERE key = :key AND
version = :v`, see `claim_version`), so of two saves of the same version at the same instant exactly one matches
the row; the other gets StaleEdit and its whole transaction is rolled back. The same transaction re-reads the
account of the person saving (deactivated, or no longer in a role that may edit: refused).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services_db import models as m
from services_db import records
from services_db.audit import record, snapshot
from services_db.db import Database, bump_data_version
from services_db.permissions import Actor, require
from services_db.validation import RecordError, RowChecker


class EditError(ValueError):
    """The form has problems; `errors` name each field."""

    def __init__(self, errors: list[RecordError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.column}: {e.message}" if e.column else e.message for e in errors))


class StaleEdit(EditError):
    """Somebody saved this record after it was opened; nothing was overwritten."""


@dataclass(frozen=True)
class Kind:
    model: type
    action: str
    label: str


KINDS: dict[str, Kind] = {
    "service": Kind(m.Service, "edit_service", "service"),
    "organisation": Kind(m.Organisation, "edit_organisation", "organisation"),
    "fund": Kind(m.Fund, "edit_fund", "fund"),
    "allocation": Kind(m.Allocation, "edit_allocation", "allocation"),
    "plan": Kind(m.Plan, "edit_plan", "plan"),
    "priority": Kind(m.Priority, "edit_plan", "priority"),
}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def keys_of(db: Database, table: str) -> list[tuple[str, str]]:
    """(key, name) of every record of a kind, for a picker."""
    model = KINDS[table].model
    with db.sessions() as s:
        label = model.purpose if model is m.Allocation else model.name
        return [(k, f"{k}: {n[:80]}" if model is m.Allocation else n)
                for k, n in s.execute(select(model.key, label).order_by(label))]


def options(db: Database) -> dict[str, list[tuple[str, str]]]:
    """Choices for the form's pickers: (key, label)."""
    with db.sessions() as s:
        areas = [(a.code, f"{a.name} ({a.level})") for a in s.scalars(
            select(m.Area).where(m.Area.level != "lsoa").order_by(m.Area.level, m.Area.name))]
        return {
            "organisation": [(o.key, o.name)
                             for o in s.scalars(select(m.Organisation).order_by(m.Organisation.name))],
            "theme": [(t.key, t.name) for t in s.scalars(select(m.Theme).order_by(m.Theme.name))],
            "target_group": [(t.key, t.name)
                             for t in s.scalars(select(m.TargetGroup).order_by(m.TargetGroup.name))],
            "area": areas,
            "fund": [(f.key, f.name) for f in s.scalars(select(m.Fund).order_by(m.Fund.name))],
            "service": [(x.key, x.name) for x in s.scalars(select(m.Service).order_by(m.Service.name))],
            "plan": [(p.key, p.name) for p in s.scalars(select(m.Plan).order_by(m.Plan.name))],
            "priority": [(p.key, p.name) for p in s.scalars(select(m.Priority).order_by(m.Priority.name))],
            "allocation": [(a.key, a.key)
                           for a in s.scalars(select(m.Allocation).order_by(m.Allocation.key))],
        }


def load(db: Database, table: str, key: str) -> dict:
    """A record as form values (keys of related records, lists for links) with the version it was read at."""
    with db.sessions() as s:
        obj = _get(s, table, key)
        if obj is None:
            raise EditError([RecordError(table, None, "key", f"no {table} '{key}'")])
        return _values(table, obj)


def _get(s: Session, table: str, key: str):
    model = KINDS[table].model
    return s.scalar(select(model).where(model.key == key))


def _values(table: str, obj) -> dict:
    v = {c: getattr(obj, c) for c in snapshot(obj) if c not in ("id", "updated_at", "updated_by", "extra")}
    if table == "service":
        v.update(provider_key=obj.provider.key if obj.provider else "", themes=[t.key for t in obj.themes],
                 target_groups=[g.key for g in obj.target_groups], coverage=[c.area_code for c in obj.coverage])
    elif table == "fund":
        v["owner_key"] = obj.owner.key if obj.owner else ""
    elif table == "allocation":
        v.update(fund_key=obj.fund.key, recipient_key=obj.recipient.key if obj.recipient else "",
                 service_key=obj.service.key if obj.service else "", area_codes=[a.code for a in obj.areas],
                 priorities=[p.key for p in obj.priorities])
    elif table == "plan":
        v.update(owner_key=obj.owner.key if obj.owner else "", area_codes=[a.code for a in obj.areas])
    elif table == "priority":
        v["plan_key"] = obj.plan.key
    return v


def claim_version(session: Session, model, where, version: int | None) -> bool:
    """Bump the version of the row matching `where` if it is still at `version`, as one statement; True if it was.

    The check and the write cannot be separated: on PostgreSQL the UPDATE takes the row lock and re-checks the
    version against the newest committed row; on SQLite it takes the database's one write lock. Of two
    transactions claiming the same version exactly one gets True. Call it first in the transaction, so that on
    SQLite everything read after it is read inside the write transaction.
    """
    if version is None:
        return False
    result = session.execute(update(model).where(where, model.version == version)
                             .values(version=model.version + 1).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _stale(kind: Kind, obj) -> StaleEdit:
    return StaleEdit([RecordError(kind.model.__tablename__, None, None, (
        f"{obj.updated_by} saved this {kind.label} at {obj.updated_at:%H:%M on %d %b %Y} after you opened it, so "
        "your changes were not saved (nothing was overwritten). Reload it to see their changes, then make yours "
        "again."))])


def save(db: Database, actor: Actor | None, table: str, values: dict, *, key: str | None = None,
         version: int | None = None) -> str:
    """Create (key None) or update a record; returns its key. Raises PermissionDenied, EditError or StaleEdit."""
    kind = KINDS[table]
    require(actor, kind.action)
    errors: list[RecordError] = []
    form = {k: _text(v) for k, v in values.items()}
    with db.session() as s:
        obj = before = None
        if key is not None:
            claimed = claim_version(s, kind.model, kind.model.key == key, version)
            obj = _get(s, table, key)  # read after the claim: what is there now, with the version already bumped
            if obj is None:
                raise EditError([RecordError(table, None, "key", f"no {table} '{key}' (it may have been deleted)")])
            if not claimed:
                raise _stale(kind, obj)
            before = _audit_view(table, obj) | {"version": version}
        c = RowChecker(table, None, form, errors)
        new_key = records.read_key(c, "key", kind.model) if obj is None else obj.key
        if obj is None and new_key and _get(s, table, new_key) is not None:
            c.fail("key", f"duplicate identifier '{new_key}': a {kind.label} with this key exists")
        new = obj is None
        if new:
            obj = kind.model(key=new_key,
                             source=records.read_source(c, kind.model) or f"app: {actor.username}")
        with s.no_autoflush:
            _APPLY[table](s, obj, c, new)
        if errors:
            s.rollback()
            raise EditError(errors)
        if obj.id is None:
            s.add(obj)
        obj.updated_by, obj.updated_at = actor.username, m.utcnow()
        try:
            s.flush()
        except IntegrityError as exc:
            if before is not None:
                raise
            # Somebody created the same key since the check above.
            raise EditError([RecordError(table, None, "key", (
                f"duplicate identifier '{new_key}': a {kind.label} with this key exists"))]) from exc
        # The account as it stands now, read in this transaction: a demoted or deactivated account saves nothing.
        require(actor, kind.action, s)
        record(s, actor.username, "create" if before is None else "update", table, new_key, before,
               _audit_view(table, obj))
        bump_data_version(s)
        return new_key


def _audit_view(table: str, obj) -> dict:
    out = snapshot(obj)
    for k, v in _values(table, obj).items():
        if isinstance(v, list):
            out[k] = ";".join(sorted(v))
        elif k.endswith("_key"):
            out[k] = v
    return out


def _refs(s: Session) -> records.Refs:
    return records.Refs.from_session(s)


def _apply_service(s: Session, o: m.Service, c: RowChecker, new: bool) -> None:
    had = bool(o.address) or o.latitude is not None or o.longitude is not None
    records.apply(s, o, records.read_service(
        c, _refs(s), new=new, was_confidential=bool(o.confidential_location), had_location=had))


def _apply_organisation(s: Session, o: m.Organisation, c: RowChecker, new: bool) -> None:
    records.apply(s, o, records.read_organisation(c, new=new))


def _apply_fund(s: Session, o: m.Fund, c: RowChecker, new: bool) -> None:
    records.apply(s, o, records.read_fund(c, _refs(s), new=new))


def _apply_allocation(s: Session, o: m.Allocation, c: RowChecker, new: bool) -> None:
    records.apply(s, o, records.read_allocation(c, _refs(s), new=new))


def _apply_plan(s: Session, o: m.Plan, c: RowChecker, new: bool) -> None:
    records.apply(s, o, records.read_plan(c, _refs(s), new=new))


def _apply_priority(s: Session, o: m.Priority, c: RowChecker, new: bool) -> None:
    records.apply(s, o, records.read_priority(c, _refs(s), new=new))


# Each kind is read with the rules the demo loader and imports use (services_db.records): a field the form leaves
# out keeps what the record has; a new record reads every field.
_APPLY: dict[str, Callable[[Session, object, RowChecker, bool], None]] = {
    "service": _apply_service, "organisation": _apply_organisation, "fund": _apply_fund,
    "allocation": _apply_allocation, "plan": _apply_plan, "priority": _apply_priority,
}
