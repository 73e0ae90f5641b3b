"""Local accounts: argon2 password hashes, sign-in and the demo's one-account-per-role (`python -m services_db user`
is `services_db.commands.users`).

When the app is configured for the organisation's identity provider (OpenID Connect through st.login), a person is
matched to their row here by e-mail, so roles live in one place either way. Unknown usernames still cost one hash
check, so response time does not reveal which accounts exist.

The role a person signed in with is not trusted for long: `account_actor` re-reads the account (the app does on
every page run) and every write path re-reads it inside its own transaction (`permissions.require`).

A sign-in lasts beyond one browser tab through a server-side session (`start_session`): a random token goes to the
browser's cookie and only its SHA-256 is stored, so the table (or a backup of it) signs nobody in. A session holds
for SESSION_HOURS from sign-in, fixed (one working day; a stolen cookie is worth a day at most), and ends early
when the person signs out, the account is deactivated or its password changes (`update_user` revokes them in the
same transaction as the change, which the audit records).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services_db.audit import record, snapshot
from services_db.db import Database
from services_db.models import ROLES, SignInSession, User, utcnow
from services_db.permissions import Actor, account_now, require

_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not-a-real-password")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,79}$")
MIN_PASSWORD = 10
SESSION_HOURS = 8  # fixed from sign-in: a working day
KEEP_SESSIONS_DAYS = 90  # ended sessions are kept this long as the record of sign-ins, then pruned at a sign-in

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


def hash_token(token: str) -> str:
    """What the database keeps of a sign-in token: its SHA-256 (the token is 256 random bits, so no salt or slow
    hash is needed, and a lookup by hash is one indexed query)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionCheck:
    """A sign-in session as it stands now: the Actor (current role) if it still signs someone in, else why not
    ("unknown", "expired", "ended" for signed out or revoked, "deactivated"), so the app can say which."""

    actor: Actor | None
    problem: str = ""


def start_session(db: Database, actor: Actor, *, now: dt.datetime | None = None) -> tuple[str, dt.datetime]:
    """A new sign-in session for `actor`'s active account: (the token for the browser's cookie, when it expires).

    Called after `authenticate`; the raw token is returned once and never stored. Old ended sessions are pruned
    here, so the table stays small without a scheduled job."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(hours=SESSION_HOURS)
    with db.session() as s:
        user_id = s.scalar(select(User.id).where(User.username == actor.username, User.active.is_(True)))
        if user_id is None:
            raise AccountError(f"No active account called '{actor.username}'.")
        s.add(SignInSession(token_hash=hash_token(token), user_id=user_id, created_at=now, expires_at=expires))
        s.execute(delete(SignInSession).where(
            SignInSession.expires_at < now - dt.timedelta(days=KEEP_SESSIONS_DAYS)))
    return token, expires


def session_actor(db: Database, token_hash: str, *, now: dt.datetime | None = None) -> SessionCheck:
    """Who a session signs in now (one indexed query over the session and its account): the account's current
    role, or the reason it no longer signs anyone in. The app asks on every page run of a session-backed sign-in,
    so signing out elsewhere, expiry, deactivation and a password change all take effect on the next click."""
    now = now or utcnow()
    with db.sessions() as s:
        row = s.execute(
            select(SignInSession.expires_at, SignInSession.revoked_at, User.username, User.role_key,
                   User.display_name, User.active)
            .join(User, User.id == SignInSession.user_id)
            .where(SignInSession.token_hash == token_hash)).first()
    if row is None:
        return SessionCheck(None, "unknown")
    if not row.active:
        return SessionCheck(None, "deactivated")
    if row.revoked_at is not None:
        return SessionCheck(None, "ended")
    if row.expires_at <= now:
        return SessionCheck(None, "expired")
    return SessionCheck(Actor(row.username, row.role_key, row.display_name, signed_in=True))


def end_session(db: Database, token_hash: str, *, now: dt.datetime | None = None) -> None:
    """Sign out: the session stops signing anyone in, in every tab that shares it."""
    with db.session() as s:
        s.execute(update(SignInSession)
                  .where(SignInSession.token_hash == token_hash, SignInSession.revoked_at.is_(None))
                  .values(revoked_at=now or utcnow()))


def _revoke_all(s: Session, user_id: int) -> None:
    """End every open session of one account (deactivated, or its password changed: whoever holds an old cookie
    must prove the new password)."""
    s.execute(update(SignInSession)
              .where(SignInSession.user_id == user_id, SignInSession.revoked_at.is_(None))
              .values(revoked_at=utcnow()))


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
        if active is False or password:
            _revoke_all(s, user.id)
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
