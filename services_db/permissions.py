"""Who may do what. Every write path calls `require` on the server side; hiding a button is only a courtesy.

A role kept in a browser session goes stale when an administrator demotes or deactivates the account, so every
write path also calls `require(actor, action, session)` inside its own transaction: that re-reads the account
(active, current role) in the same transaction as the write, so the two commit or fail together.

Roles (a person has one): viewer (reads everything, raises gaps; e.g. a Chief Inspector), early action team
(raises gaps), commissioner (edits services and organisations), OPCC (also funds, allocations, plans and
priorities), admin (everything, including users, imports and restore).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from services_db.models import User

ACTIONS: dict[str, frozenset[str]] = {
    "raise_gap": frozenset({"viewer", "early_action", "commissioner", "opcc", "admin"}),
    "change_gap_status": frozenset({"commissioner", "opcc", "admin"}),
    "edit_service": frozenset({"commissioner", "opcc", "admin"}),
    "edit_organisation": frozenset({"commissioner", "opcc", "admin"}),
    "edit_fund": frozenset({"opcc", "admin"}),
    "edit_allocation": frozenset({"opcc", "admin"}),
    "edit_plan": frozenset({"opcc", "admin"}),
    "import": frozenset({"admin"}),
    "import_directory": frozenset({"commissioner", "opcc", "admin"}),
    "import_funding": frozenset({"opcc", "admin"}),
    "export_backup": frozenset({"admin"}),
    "restore": frozenset({"admin"}),
    "manage_users": frozenset({"admin"}),
    "view_history": frozenset({"viewer", "early_action", "commissioner", "opcc", "admin"}),
    # What-if scenarios: drafts that never touch the records (issue "Plan the next year").
    "edit_scenario": frozenset({"commissioner", "opcc", "admin"}),
    # The force's own place-based areas (dated groupings of districts and LSOA sets): administrators only.
    "edit_grouping": frozenset({"admin"}),
    # The addresses and coordinates of confidential services in old audit entries.
    "view_confidential_history": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Actor:
    """The signed-in person a change is made by."""

    username: str
    role: str
    display_name: str = ""
    # True for someone who signed in (services_db.auth makes these): their account must still exist. An Actor made
    # by code for the command line or a test (no account row) keeps the role it was given.
    signed_in: bool = field(default=False, compare=False)


class PermissionDenied(PermissionError):
    pass


def allowed(actor: Actor | None, action: str) -> bool:
    return actor is not None and actor.role in ACTIONS[action]


def account_now(session: Session, actor: Actor, *, lock: bool = False) -> Actor | None:
    """`actor` with the role their account has now, or None if it is deactivated (or, signed in, gone).

    `lock` takes a shared row lock on the account (PostgreSQL), so an administrator's change to it waits for the
    transaction that checked it; SQLite has one writer at a time anyway.
    """
    stmt = select(User.role_key, User.active).where(User.username == actor.username)
    row = session.execute(stmt.with_for_update(read=True) if lock else stmt).first()
    if row is None:
        return None if actor.signed_in else actor
    if not row.active:
        return None
    if row.role_key == actor.role:
        return actor
    return Actor(actor.username, row.role_key, actor.display_name, signed_in=actor.signed_in)


def require(actor: Actor | None, action: str, where=None) -> Actor:
    """Refuse (PermissionDenied) unless `actor` may do `action`; returns the actor as their account stands now.

    With `where` (the write's Session, or a Database) the account is re-read: a deactivated account, or one whose
    current role may not do `action`, is refused however the actor was obtained.
    """
    if not allowed(actor, action):
        who = f"{actor.username} ({actor.role})" if actor else "Nobody signed in"
        raise PermissionDenied(f"{who} may not {action.replace('_', ' ')}.")
    if where is None:
        return actor
    if isinstance(where, Session):
        now = account_now(where, actor, lock=True)
    else:
        with where.sessions() as s:
            now = account_now(s, actor)
    if now is None:
        raise PermissionDenied(f"The account {actor.username} is deactivated or no longer exists, so it may not "
                               f"{action.replace('_', ' ')}.")
    if not allowed(now, action):
        raise PermissionDenied(f"{now.username} ({now.role}) may not {action.replace('_', ' ')}: the account's role "
                               "was changed.")
    return now
