"""Local accounts: argon2 hashes, sign-in, demo accounts only in the demo, the admin command, role checks."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from services_db import auth
from services_db.commands import main
from services_db.models import User
from services_db.permissions import Actor, PermissionDenied

ADMIN = Actor("boss", "admin")


def test_demo_accounts_exist_one_per_role_with_argon2_hashes(demo_db):
    users = {u["username"]: u["role"] for u in auth.list_users(demo_db)}
    assert {k: v for k, v in users.items() if k.startswith("demo-")} == {
        name: role for name, (role, _, _) in auth.DEMO_ACCOUNTS.items()}
    with demo_db.sessions() as s:
        assert all(h.startswith("$argon2id$") for h in s.scalars(select(User.password_hash)))
    actor = auth.authenticate(demo_db, "demo-opcc", "demo-opcc-pass")
    assert actor == Actor("demo-opcc", "opcc", "Demo OPCC officer")
    assert auth.authenticate(demo_db, "demo-opcc", "wrong") is None
    assert auth.authenticate(demo_db, "nobody", "demo-opcc-pass") is None


def test_no_demo_accounts_outside_the_demo(empty_db):
    auth.ensure_demo_users(empty_db)
    assert auth.list_users(empty_db) == []


def test_create_and_deactivate_user(fresh_demo_db):
    db = fresh_demo_db
    auth.create_user(db, ADMIN, username="Jo.Bloggs", role="commissioner", password="a long password",
                     email="Jo@Example.org")
    assert auth.authenticate(db, "jo.bloggs", "a long password") == Actor("jo.bloggs", "commissioner", "jo.bloggs")
    assert auth.actor_for_email(db, "jo@example.org").username == "jo.bloggs"
    with pytest.raises(auth.AccountError, match="already an account called 'jo.bloggs'"):
        auth.create_user(db, ADMIN, username="jo.bloggs", role="viewer", password="another long one")
    with pytest.raises(auth.AccountError, match="at least 10 characters"):
        auth.create_user(db, ADMIN, username="short", role="viewer", password="short")
    auth.update_user(db, ADMIN, "jo.bloggs", active=False)
    assert auth.authenticate(db, "jo.bloggs", "a long password") is None


@pytest.mark.parametrize("role", ["viewer", "early_action", "commissioner", "opcc"])
def test_only_admins_manage_users(fresh_demo_db, role):
    with pytest.raises(PermissionDenied):
        auth.create_user(fresh_demo_db, Actor("x", role), username="new-user", role="admin", password="long enough!")
    assert "new-user" not in {u["username"] for u in auth.list_users(fresh_demo_db)}


def test_user_add_command(sqlite_demo_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert main(["user", "add", "--username", "analyst", "--role", "viewer", "--password-stdin"]) == 0
    assert "created analyst (viewer)" in capsys.readouterr().out
    from services_db.db import open_database
    db = open_database(sqlite_demo_url)
    assert auth.authenticate(db, "analyst", "correct horse battery") == Actor("analyst", "viewer", "analyst")
    db.dispose()
