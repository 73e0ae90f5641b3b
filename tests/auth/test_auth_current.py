"""A demoted or deactivated account loses its rights at once: every write re-reads the account, and an open
session of a deactivated account is signed out on its next page run. The account form opens on the account's
current role, so changing one thing changes nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from streamlit.testing.v1 import AppTest

from services_db import auth, editing, raised_gaps
from services_db.audit import history
from services_db.models import AuditEvent, User
from services_db.permissions import Actor, PermissionDenied
from services_db.transfer.imports import apply_plan, plan_import

ADMIN = Actor("boss", "admin")
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def _signed_in(db, role: str, username: str = "jo") -> Actor:
    auth.create_user(db, ADMIN, username=username, role=role, password="a long password")
    actor = auth.authenticate(db, username, "a long password")
    assert actor is not None and actor.role == role
    return actor


def _events(db) -> int:
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


def _try_save(db, actor, kind="service"):
    key = editing.keys_of(db, kind)[0][0]
    rec = editing.load(db, kind, key)
    editing.save(db, actor, kind, rec | {"name": "Changed by a stale session"}, key=key, version=rec["version"])
    return key, rec["version"]


@pytest.mark.parametrize("change", [{"role": "viewer"}, {"active": False}, {"role": "viewer", "active": False}])
def test_a_save_with_the_sign_in_role_is_refused_once_the_account_changes(fresh_demo_db, change):
    db = fresh_demo_db
    actor = _signed_in(db, "commissioner")
    _try_save(db, actor)  # allowed while the account is a commissioner
    auth.update_user(db, ADMIN, "jo", **change)
    events = _events(db)
    key = editing.keys_of(db, "service")[0][0]
    before = editing.load(db, "service", key)
    with pytest.raises(PermissionDenied):
        _try_save(db, actor)  # the Actor still says "commissioner"
    after = editing.load(db, "service", key)
    assert (after["name"], after["version"]) == (before["name"], before["version"])  # all rolled back
    assert _events(db) == events  # no audit entry either
    with pytest.raises(PermissionDenied):
        raised_gaps.change_status(db, actor, raised_gaps.raise_gap(db, ADMIN, area_code=editing.options(db)["area"][0][0],
                                                     theme_key=editing.options(db)["theme"][0][0], affected="",
                                                     description="x"), "acknowledged", "note", expected_version=1)
    if change.get("active") is False:
        with pytest.raises(PermissionDenied):
            raised_gaps.raise_gap(db, actor, area_code=editing.options(db)["area"][0][0],
                           theme_key=editing.options(db)["theme"][0][0], affected="", description="x")


def test_a_deactivated_administrator_manages_nothing_and_imports_nothing(fresh_demo_db):
    db = fresh_demo_db
    admin = _signed_in(db, "admin", "ann")
    auth.create_user(db, admin, username="helper", role="viewer", password="a long password")
    auth.update_user(db, ADMIN, "ann", active=False)
    with pytest.raises(PermissionDenied):
        auth.create_user(db, admin, username="sleeper", role="admin", password="a long password")
    with pytest.raises(PermissionDenied):
        auth.update_user(db, admin, "helper", role="admin")
    users = {u["username"]: u for u in auth.list_users(db)}
    assert "sleeper" not in users and users["helper"]["role"] == "viewer"
    csv = b"area_code,period,indicator,value\n"
    plan = plan_import(db, "indicators", [("need.csv", csv)])
    with pytest.raises(PermissionDenied):
        apply_plan(db, plan, admin)


def test_a_signed_in_account_that_no_longer_exists_is_refused(fresh_demo_db):
    db = fresh_demo_db
    actor = _signed_in(db, "commissioner")
    with db.session() as s:
        s.execute(delete(User).where(User.username == "jo"))
    with pytest.raises(PermissionDenied):
        _try_save(db, actor)
    # Actors made by code for the command line (no account row) keep the role they were given.
    _try_save(db, Actor("cli", "admin", "command line"))


def test_a_promoted_account_saves_with_its_new_role(fresh_demo_db):
    db = fresh_demo_db
    actor = _signed_in(db, "commissioner")
    auth.update_user(db, ADMIN, "jo", role="opcc")
    assert auth.account_actor(db, actor).role == "opcc"
    with pytest.raises(PermissionDenied):
        _try_save(db, actor, kind="fund")  # the session's own Actor still says commissioner: not refreshed
    _try_save(db, auth.account_actor(db, actor), kind="fund")
    assert history(db, "fund").iloc[0]["username"] == "jo"


# --- the app -----------------------------------------------------------------------------------------------------


@pytest.fixture
def app_db(sqlite_demo_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    return sqlite_demo_url


def _db(url):
    from services_db.db import open_database

    return open_database(url)


def _gate_app():
    import streamlit as st

    from components.auth import sign_in_gate

    actor = sign_in_gate()
    st.write(f"actor={actor.username if actor else None}")


def test_a_deactivated_account_is_signed_out_on_its_next_page_run(app_db):
    db = _db(app_db)
    actor = auth.authenticate(db, "demo-commissioner", "demo-commissioner-pass")
    key = editing.keys_of(db, "organisation")[0][0]
    name = editing.load(db, "organisation", key)["name"]
    at = AppTest.from_file(str(ROOT / "pages/edit.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = actor
    at.run()
    at.selectbox(key="edit_kind").select("organisation").run()
    at.session_state["edit_pick_organisation"] = key
    at.run()
    at.text_input(key=f"edit_organisation_{key}_name").input("Saved after deactivation")
    auth.update_user(db, ADMIN, "demo-commissioner", active=False)  # meanwhile, an administrator acts
    next(b for b in at.button if b.label == "Save").click().run()
    assert "actor" not in at.session_state
    assert [w.value for w in at.warning] == ["Your account has been deactivated, so you have been signed out."]
    assert [i.value for i in at.info] == ["Sign in (in the sidebar) to add or edit records."]
    assert not at.success
    assert editing.load(db, "organisation", key)["name"] == name
    # The sidebar gate (app.py) shows the signed-out state too.
    gate = AppTest.from_function(_gate_app, default_timeout=TIMEOUT)
    gate.session_state["actor"] = actor
    gate.run()
    assert "actor" not in gate.session_state and "actor=None" in gate.main.markdown[-1].value
    assert gate.sidebar.text_input(key="sign_in_username")  # the sign-in form is back
    db.dispose()


def test_a_demoted_account_sees_its_new_role_on_its_next_page_run(app_db):
    db = _db(app_db)
    actor = auth.authenticate(db, "demo-commissioner", "demo-commissioner-pass")
    at = AppTest.from_file(str(ROOT / "pages/edit.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = actor
    at.run()
    assert at.selectbox(key="edit_kind").options == ["service", "organisation"]
    auth.update_user(db, ADMIN, "demo-commissioner", role="viewer")
    at.run()
    assert [w.value for w in at.warning] == ["Your role may read everything but not edit records."]
    assert at.session_state["actor"].role == "viewer"
    db.dispose()


def test_account_form_opens_on_the_current_role_so_deactivating_keeps_it(app_db):
    at = AppTest.from_file(str(ROOT / "pages/users.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = Actor("demo-admin", "admin")
    at.run()
    at.selectbox(key="change_username").select("demo-commissioner").run()
    role = [s for s in at.selectbox if s.label == "Role"][-1]  # [0] is the add-an-account form's
    active = next(c for c in at.checkbox if c.label == "Active")
    assert (role.value, active.value) == ("commissioner", True)
    active.uncheck()
    next(b for b in at.button if b.label == "Save").click().run()
    assert [s.value for s in at.success] == ["Saved."]
    db = _db(app_db)
    users = {u["username"]: u for u in auth.list_users(db)}
    assert (users["demo-commissioner"]["role"], users["demo-commissioner"]["active"]) == ("commissioner", False)
    at.selectbox(key="change_username").select("demo-opcc").run()
    assert [s for s in at.selectbox if s.label == "Role"][-1].value == "opcc"
    db.dispose()
