"""Scenarios kept in the database: list, read, save (create or replace its changes), copy, delete.

Every write needs the `edit_scenario` role (commissioner, OPCC, admin), re-checked in the write's transaction, and
is recorded in the audit log. Writing a scenario does not bump the data version: the actual data did not change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select

from services_db import audit
from services_db.db import Database
from services_db.models import Scenario, utcnow
from services_db.permissions import Actor, require
from services_db.scenarios.changes import Change, ScenarioError, apply, change_from_dict
from services_db.snapshot import Snapshot

MAX_NAME = 120


@dataclass(frozen=True)
class StoredScenario:
    """A scenario as saved: its changes as dataclasses and who made it from which data version."""

    name: str
    description: str
    changes: list[Change]
    base_version: str
    created_by: str
    created_at: dt.datetime
    updated_by: str
    updated_at: dt.datetime


def _stored(row: Scenario) -> StoredScenario:
    return StoredScenario(name=row.name, description=row.description or "",
                          changes=[change_from_dict(c) for c in row.changes or []], base_version=row.base_version,
                          created_by=row.created_by, created_at=row.created_at, updated_by=row.updated_by,
                          updated_at=row.updated_at)


def _row(session, name: str) -> Scenario | None:
    return session.scalars(select(Scenario).where(Scenario.name == name)).first()


def list_scenarios(db: Database) -> list[StoredScenario]:
    """Every scenario, most recently changed first."""
    with db.sessions() as s:
        return [_stored(r) for r in s.scalars(select(Scenario).order_by(Scenario.updated_at.desc(), Scenario.name))]


def get_scenario(db: Database, name: str) -> StoredScenario:
    with db.sessions() as s:
        row = _row(s, name)
        if row is None:
            raise ScenarioError(f"There is no scenario called “{name}”")
        return _stored(row)


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ScenarioError("A scenario needs a name")
    if len(name) > MAX_NAME:
        raise ScenarioError(f"A scenario's name has at most {MAX_NAME} characters ({len(name)} given)")
    return name


def save_scenario(db: Database, actor: Actor, name: str, changes: list[Change], *, description: str = "") -> None:
    """Create the scenario or replace its changes and description (its creator and start version stay)."""
    name = _check_name(name)
    payload = [c.to_dict() for c in changes]
    with db.sessions() as s, s.begin():
        who = require(actor, "edit_scenario", s)
        row = _row(s, name)
        before = None if row is None else {"changes": row.changes, "description": row.description}
        if row is None:
            row = Scenario(name=name, description=description, changes=payload, base_version=db.data_version(),
                           created_by=who.username, created_at=utcnow(), updated_by=who.username,
                           updated_at=utcnow())
            s.add(row)
        else:
            row.changes, row.description = payload, description
            row.updated_by, row.updated_at = who.username, utcnow()
        audit.record(s, who.username, "create" if before is None else "update", "scenario", name, before,
                     {"changes": payload, "description": description})


def copy_scenario(db: Database, actor: Actor, name: str, new_name: str) -> None:
    """A new scenario with the same changes, started from today's data version."""
    old = get_scenario(db, name)
    new_name = _check_name(new_name)
    with db.sessions() as s:
        if _row(s, new_name) is not None:
            raise ScenarioError(f"There is already a scenario called “{new_name}”")
    save_scenario(db, actor, new_name, old.changes, description=old.description)


def delete_scenario(db: Database, actor: Actor, name: str) -> None:
    with db.sessions() as s, s.begin():
        who = require(actor, "edit_scenario", s)
        row = _row(s, name)
        if row is None:
            raise ScenarioError(f"There is no scenario called “{name}”")
        audit.record(s, who.username, "delete", "scenario", name,
                     {"changes": row.changes, "description": row.description}, None)
        s.execute(delete(Scenario).where(Scenario.id == row.id))


def add_change(db: Database, actor: Actor, name: str, change: Change, data: Snapshot) -> None:
    """Append `change` to the scenario, after checking that the whole scenario still applies to `data` (a change
    that cannot apply is refused with its reason and nothing is saved)."""
    scenario = get_scenario(db, name)
    changes = [*scenario.changes, change]
    apply(data, changes)
    save_scenario(db, actor, name, changes, description=scenario.description)


def remove_change(db: Database, actor: Actor, name: str, index: int) -> None:
    """Take the `index`-th change (from 0) out of the scenario."""
    scenario = get_scenario(db, name)
    if not 0 <= index < len(scenario.changes):
        raise ScenarioError(f"Scenario “{name}” has no change {index + 1}")
    save_scenario(db, actor, name, scenario.changes[:index] + scenario.changes[index + 1:],
                  description=scenario.description)
