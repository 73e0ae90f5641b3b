"""Local accounts: argon2 password hashes, sign-in and the demo's one-account-per-role (`python -m services_db user`
is `services_db.commands.users`).

When the app is configured for the organisation's identity provider (OpenID Connect through st.login), a person is
matched to their row here by e-mail, so roles live in one place either way. Unknown usernames still cost one hash
check, so response time does not reveal which accounts exist.

The role a person signed in with is not trusted for long: `account_actor` re-reads the account (the app does on
every page run) and every write path re-reads it inside its own transaction (`permissions.require`).
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from services_db.audit import record, snapshot
from services_db.db import Database
from services_db.models import ROLES, User
from services_db.permissions import Actor, account_now, require

_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not-a-real-password")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,79}$")
MIN_PASSWORD = 10

# The demo's accounts: documented in the README and named on the sign-in screen only when running the demo.
DEMO_ACCOUNTS: dict[str, tuple[str, str, str]] = {  # username: (role, display name, password)
    "demo-viewer": ("viewer", "Demo Chief Inspector (viewer)", "demo-viewer-pass"),
    "demo-early-action": ("early_action", "Demo Early Action Team member", "demo-early-action-pass"),
    "demo-commissioner": ("commissioner", "Demo commissioner", "demo-commissioner-pass"),
    "demo-opcc": ("opcc", "Demo OPCC officer", "demo-opcc-pass"),
    "demo-admin": ("admin", "Demo administrator", "demo-admin-pass"),
}


class AccountError(ValueError):
    """A user could not be created or changed; the message is for the form or the terminal."""


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _actor(user: User) -> Actor:
    return Actor(user.username, user.role_key, user.display_name, signed_in=True)


def account_actor(db: Database, actor: Actor) -> Actor | None:
    """`actor` as their account stands now (its current role), or None if it was deactivated or removed."""
    with db.sessions() as s:
        return account_now(s, actor)


def authenticate(db: Database, username: str, password: str) -> Actor | None:
    """The Actor for a right username and password of an active account, else None."""
    username = (username or "").strip().lower()
    with db.sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
        hashed = user.password_hash if user is not None and user.password_hash else _DUMMY
        try:
            _HASHER.verify(hashed, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user is None or not user.active or not user.password_hash:
            return None
        return _actor(user)


def actor_for_email(db: Database, email: str) -> Actor | None:
    """The Actor for someone signed in through the identity provider, matched on e-mail."""
    if not email:
        return None
    with db.sessions() as s:
        user = s.scalar(select(User).where(User.email == email.strip().lower(), User.active.is_(True)))
        return _actor(user) if user else None


def _check(username: str, role: str, password: str | None) -> None:
    if not USERNAME.match(username):
        raise AccountError("A username is 2 to 80 lower-case letters, digits, '.', '_', '-' or '@'.")
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters.")


def create_user(db: Database, actor: Actor | None, *, username: str, role: str, password: str | None,
                display_name: str = "", email: str | None = None) -> None:
    """Add an account (an admin action). Without a password the person can only sign in through the provider."""
    require(actor, "manage_users")
    username = username.strip().lower()
    _check(username, role, password)
    with db.session() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise AccountError(f"There is already an account called '{username}'.")
        if email and s.scalar(select(User.id).where(User.email == email.strip().lower())) is not None:
            raise AccountError(f"Another account already uses {email}.")
        user = User(username=username, display_name=display_name.strip() or username, role_key=role,
                    email=email.strip().lower() if email else None,
                    password_hash=hash_password(password) if password else None)
        s.add(user)
        s.flush()
        require(actor, "manage_users", s)  # the administrator's account as it stands now, in this transaction
        after = snapshot(user)
        after.pop("password_hash")
        record(s, actor.username, "create", "app_user", username, None, after)


def update_user(db: Database, actor: Actor | None, username: str, *, role: str | None = None,
                active: bool | None = None, password: str | None = None) -> None:
    require(actor, "manage_users")
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise AccountError(f"No account called '{username}'.")
        _check(user.username, role or user.role_key, password)
        if username == actor.username and (active is False or (role and role != "admin")):
            raise AccountError("You cannot demote or deactivate your own account.")
        before = snapshot(user)
        if role:
            user.role_key = role
        if active is not None:
            user.active = active
        if password:
            user.password_hash = hash_password(password)
        s.flush()
        require(actor, "manage_users", s)  # the administrator's account as it stands now, in this transaction
        after = snapshot(user)
        for d in (before, after):
            d["password_hash"] = "(set)" if d.get("password_hash") else ""
        if password:
            after["password_hash"] = "(changed)"
        record(s, actor.username, "update", "app_user", username, before, after)


def list_users(db: Database) -> list[dict]:
    with db.sessions() as s:
        return [dict(username=u.username, display_name=u.display_name, role=u.role_key, email=u.email or "",
                     active=u.active, local_password=bool(u.password_hash), created_at=u.created_at)
                for u in s.scalars(select(User).order_by(User.username))]


def is_demo(db: Database) -> bool:
    return db.setting("is_demo") == "true"


def ensure_demo_users(db: Database) -> None:
    """One account per role with the documented demo passwords, only in the demo database; idempotent."""
    if not is_demo(db):
        return
    with db.session() as s:
        have = set(s.scalars(select(User.username)))
        for username, (role, name, password) in DEMO_ACCOUNTS.items():
            if username not in have:
                s.add(User(username=username, display_name=name, role_key=role, password_hash=hash_password(password)))
