"""Issue 14, "Sign-in is lost on reload and in a new tab, so a shared link asks for sign-in again": a sign-in is a
server-side session whose random token the browser keeps in a cookie. A tab that connects with a valid cookie is
signed in as the account stands now; an expired, signed-out or revoked one signs nobody in; signing out,
deactivating the account and changing its password revoke it; only the token's hash is stored.

AppTest cannot send cookies, so the app tests replace `components.auth.browser_cookies` (what st.context.cookies
gives in a browser); tests/e2e/test_browser.py drives the real cookie in Chromium."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

import components.auth
from services_db import auth
from services_db.models import SignInSession, utcnow
from services_db.permissions import Actor

ADMIN = Actor("boss", "admin")
TIMEOUT = 60


def _jo(db, role: str = "commissioner") -> Actor:
    auth.create_user(db, ADMIN, username="jo", role=role, password="a long password", display_name="Jo")
    actor = auth.authenticate(db, "jo", "a long password")
    assert actor is not None
    return actor


def _rows(db) -> list[SignInSession]:
    with db.sessions() as s:
        return list(s.scalars(select(SignInSession).order_by(SignInSession.id)))


def test_a_session_signs_in_until_it_expires_and_stores_only_the_hash(fresh_demo_db):
    db = fresh_demo_db
    jo = _jo(db)
    now = dt.datetime(2026, 12, 4, 9, 0)
    token, expires = auth.start_session(db, jo, now=now)
    assert expires == now + dt.timedelta(hours=auth.SESSION_HOURS) == dt.datetime(2026, 12, 4, 17, 0)
    assert len(token) >= 40
    (row,) = _rows(db)
    assert row.token_hash == auth.hash_token(token) != token and len(row.token_hash) == 64
    assert token not in repr(vars(row))  # the token itself is kept nowhere on the server
    check = auth.session_actor(db, row.token_hash, now=now + dt.timedelta(hours=7, minutes=59))
    assert check.actor == Actor("jo", "commissioner", "Jo") and check.actor.signed_in and check.problem == ""
    assert auth.session_actor(db, row.token_hash, now=expires) == auth.SessionCheck(None, "expired")
    assert auth.session_actor(db, auth.hash_token("a guessed token"), now=now) == auth.SessionCheck(None, "unknown")
    second, _ = auth.start_session(db, jo, now=now)
    assert second != token  # every sign-in its own random token


def test_signing_out_ends_one_session_and_the_account_changes_end_them_all(fresh_demo_db):
    db = fresh_demo_db
    jo = _jo(db)
    one, _ = auth.start_session(db, jo)
    two, _ = auth.start_session(db, jo)
    auth.end_session(db, auth.hash_token(one))
    assert auth.session_actor(db, auth.hash_token(one)).problem == "ended"
    assert auth.session_actor(db, auth.hash_token(two)).actor is not None  # another browser's sign-in holds
    auth.update_user(db, ADMIN, "jo", role="opcc")  # a role change takes effect, it does not sign out
    assert auth.session_actor(db, auth.hash_token(two)).actor.role == "opcc"
    auth.update_user(db, ADMIN, "jo", password="another long password")
    assert auth.session_actor(db, auth.hash_token(two)).problem == "ended"
    three, _ = auth.start_session(db, auth.authenticate(db, "jo", "another long password"))
    auth.update_user(db, ADMIN, "jo", active=False)
    assert auth.session_actor(db, auth.hash_token(three)).problem == "deactivated"
    auth.update_user(db, ADMIN, "jo", active=True)  # reactivating does not bring an old sign-in back
    assert auth.session_actor(db, auth.hash_token(three)).problem == "ended"
    assert all(r.revoked_at is not None for r in _rows(db))


def test_a_deactivated_account_cannot_start_a_session_and_old_sessions_are_pruned(fresh_demo_db):
    db = fresh_demo_db
    jo = _jo(db)
    long_ago = utcnow() - dt.timedelta(days=auth.KEEP_SESSIONS_DAYS + 1)
    auth.start_session(db, jo, now=long_ago)
    auth.start_session(db, jo)
    assert len(_rows(db)) == 1  # the one that ended more than KEEP_SESSIONS_DAYS ago went at this sign-in
    auth.update_user(db, ADMIN, "jo", active=False)
    with pytest.raises(auth.AccountError):
        auth.start_session(db, jo)


# The app: the sign-in gate as app.py calls it.

def _gate_app():
    import streamlit as st

    from components.auth import sign_in_gate

    actor = sign_in_gate()
    st.write(f"actor={actor.username if actor else None}")


@pytest.fixture
def app_db(sqlite_demo_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    from services_db.db import open_database

    db = open_database(sqlite_demo_url)
    yield db
    db.dispose()


def _browser(monkeypatch, cookies: dict[str, str]) -> None:
    monkeypatch.setattr(components.auth, "browser_cookies", lambda: dict(cookies))


def _cookie_scripts(at) -> list[str]:
    return [h.proto.body for h in at.get("html") if components.auth.COOKIE in h.proto.body]


def _shown(at) -> str:
    return at.main.markdown[-1].value


def test_a_tab_with_a_valid_cookie_is_signed_in_as_the_account_stands_now(app_db, monkeypatch):
    commissioner = auth.authenticate(app_db, "demo-commissioner", "demo-commissioner-pass")
    token, _ = auth.start_session(app_db, commissioner)
    auth.update_user(app_db, Actor("demo-admin", "admin"), "demo-commissioner", role="opcc")
    _browser(monkeypatch, {components.auth.COOKIE: token, "other": "x"})
    at = AppTest.from_function(_gate_app, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert _shown(at) == "actor=demo-commissioner"
    assert at.session_state["actor"].role == "opcc"  # re-checked: the role it has now, not at sign-in
    assert at.session_state[components.auth.TOKEN_HASH] == auth.hash_token(token)
    assert token not in str([at.session_state[k] for k in ("actor", components.auth.TOKEN_HASH)])
    assert not [t for t in at.sidebar.text_input if t.key == "sign_in_username"]  # no sign-in form
    assert _cookie_scripts(at) == []  # the browser's cookie is left as it is


@pytest.mark.parametrize("ended", ["signed out", "expired", "password changed", "deactivated"])
def test_a_cookie_that_no_longer_signs_in_gives_the_sign_in_form_and_is_dropped(app_db, monkeypatch, ended):
    viewer = auth.authenticate(app_db, "demo-viewer", "demo-viewer-pass")
    when = utcnow() - dt.timedelta(hours=auth.SESSION_HOURS + 1) if ended == "expired" else None
    token, _ = auth.start_session(app_db, viewer, now=when)
    admin = Actor("demo-admin", "admin")
    if ended == "signed out":
        auth.end_session(app_db, auth.hash_token(token))
    elif ended == "password changed":
        auth.update_user(app_db, admin, "demo-viewer", password="a brand new password")
    elif ended == "deactivated":
        auth.update_user(app_db, admin, "demo-viewer", active=False)
    _browser(monkeypatch, {components.auth.COOKIE: token})
    at = AppTest.from_function(_gate_app, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert _shown(at) == "actor=None" and "actor" not in at.session_state
    assert at.sidebar.text_input(key="sign_in_username") is not None
    (script,) = _cookie_scripts(at)
    assert f'"{components.auth.COOKIE}="' in script and "Max-Age=0" in script


def test_signing_in_sets_the_cookie_and_signing_out_revokes_it(app_db, monkeypatch):
    _browser(monkeypatch, {})
    at = AppTest.from_function(_gate_app, default_timeout=TIMEOUT).run()
    at.sidebar.text_input(key="sign_in_username").input("demo-commissioner")
    at.sidebar.text_input(key="sign_in_password").input("demo-commissioner-pass")
    at.sidebar.button[0].click().run()
    assert _shown(at) == "actor=demo-commissioner"
    (script,) = _cookie_scripts(at)
    (row,) = [r for r in _rows(app_db) if r.revoked_at is None]
    token = script.split(f"{components.auth.COOKIE}=", 1)[1].split('"', 1)[0]
    assert auth.hash_token(token) == row.token_hash
    assert f"Max-Age={auth.SESSION_HOURS * 3600}; Path=/; SameSite=Strict" in script and "Secure" in script
    assert at.query_params == {}  # never in the URL
    at.run()
    assert _cookie_scripts(at) == []  # sent once

    at.sidebar.button(key="sign_out").click().run()
    assert _shown(at) == "actor=None" and "actor" not in at.session_state
    assert auth.session_actor(app_db, row.token_hash).problem == "ended"
    (script,) = _cookie_scripts(at)
    assert "Max-Age=0" in script

    # The same browser reloads with the old cookie (it has not dropped it yet): still signed out.
    _browser(monkeypatch, {components.auth.COOKIE: token})
    at = AppTest.from_function(_gate_app, default_timeout=TIMEOUT).run()
    assert _shown(at) == "actor=None"


def test_an_open_tab_is_signed_out_when_its_session_ends_elsewhere(app_db, monkeypatch):
    commissioner = auth.authenticate(app_db, "demo-commissioner", "demo-commissioner-pass")
    token, _ = auth.start_session(app_db, commissioner)
    _browser(monkeypatch, {components.auth.COOKIE: token})
    at = AppTest.from_function(_gate_app, default_timeout=TIMEOUT).run()
    assert _shown(at) == "actor=demo-commissioner"
    auth.update_user(app_db, Actor("demo-admin", "admin"), "demo-commissioner", password="changed by an admin")
    at.run()
    assert _shown(at) == "actor=None"
    assert [w.value for w in at.warning] == [components.auth.SESSION_ENDED["ended"]]
    assert _cookie_scripts(at) == []  # the cookie may already hold another tab's newer sign-in: left alone
