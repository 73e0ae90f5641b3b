"""Who may do what. Every write path calls `require` on the server side; hiding a button is only a courtesy.

Roles (a person has one): viewer (reads everything, raises gaps; e.g. a Chief Inspector), early action team
(raises gaps), commissioner (edits services and organisations), OPCC (also funds, allocations, plans and
priorities), admin (everything, including users, imports and restore).
"""

from __future__ import annotations

from dataclasses import dataclass

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
}


@dataclass(frozen=True)
class Actor:
    """The signed-in person a change is made by."""

    username: str
    role: str
    display_name: str = ""


class PermissionDenied(PermissionError):
    pass


def allowed(actor: Actor | None, action: str) -> bool:
    return actor is not None and actor.role in ACTIONS[action]


def require(actor: Actor | None, action: str) -> None:
    if not allowed(actor, action):
        who = f"{actor.username} ({actor.role})" if actor else "Nobody signed in"
        raise PermissionDenied(f"{who} may not {action.replace('_', ' ')}.")
