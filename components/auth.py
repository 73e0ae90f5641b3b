"""Who is using the app: sign-in (local accounts, or the organisation's identity provider through st.login when
`[auth]` is configured in secrets.toml), sign-out, and the Actor every edit path passes to the core.

Reading pages stay open without signing in (but for History, which shows past values); anything that changes
data needs an account, and the core checks the account again on every save. Each page run re-reads the signed-in
account (one indexed query): a deactivated account is signed out there and then, and a changed role takes effect.
Tests may set st.session_state["actor"] directly.

A local sign-in survives a reload and a new tab: Streamlit's session ends with its browser tab, so signing in also
starts a server-side session (`services_db.auth.start_session`) whose random token goes into a cookie, and a tab
that connects with that cookie is signed in again (`restore_sign_in`), the account re-checked as it stands now.
Streamlit reads the cookies a tab sent when it connected (st.context.cookies) but has no call to set one, so a
few lines of our own script, sent with the page (never fetched), write it: SameSite=Strict, Path=/, Secure over
https. It cannot be HttpOnly (only a server response can set that), so the server side carries the weight: only
the token's hash is stored, it expires, and signing out, deactivation and a password change revoke it. The token
never goes in a URL. (A sign-in through the identity provider keeps Streamlit's own st.login cookie instead.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import streamlit as st

from components.context import database
from components.format import escape
from services_db import auth
from services_db.permissions import Actor, allowed

ROLE_LABELS = {"viewer": "Viewer", "early_action": "Early Action Team", "commissioner": "Commissioner",
               "opcc": "OPCC", "admin": "Administrator"}


SIGNED_OUT = "Your account has been deactivated, so you have been signed out."
SESSION_ENDED = {
    "deactivated": SIGNED_OUT,
    "expired": f"Your sign-in has expired (it lasts {auth.SESSION_HOURS} hours), so you have been signed out. "
               "Sign in again in the sidebar.",
    "ended": "You have been signed out (in another tab or window, or because your password was changed). "
             "Sign in again in the sidebar.",
    "unknown": "You have been signed out. Sign in again in the sidebar.",
}

COOKIE = "services_db_session"  # the browser's cookie holding the sign-in token
TOKEN_HASH = "sign_in_session"  # session state: the SHA-256 of this tab's sign-in token (never the token)
_PENDING_COOKIE = "_sign_in_cookie_to_write"  # session state: (token, max-age s) for the browser on the next run
_COOKIE_TRIED = "_sign_in_cookie_tried"  # session state: this tab's cookie has been looked at


def browser_cookies() -> Mapping[str, str]:
    """The cookies this tab sent when it connected (tests replace this: AppTest cannot send cookies)."""
    return st.context.cookies


def _cookie_script(token: str, max_age: int) -> str:
    """Sets (or, with max_age 0, deletes) the sign-in cookie in the browser. The token is URL-safe base64 and is
    JSON-quoted besides, so nothing in it can end the script."""
    return ("<script>(function () {"
            "var secure = window.location.protocol === 'https:' ? '; Secure' : '';"
            f"document.cookie = {json.dumps(COOKIE + '=' + token)} + '; Max-Age={int(max_age)}; Path=/; "
            "SameSite=Strict' + secure;"
            "})();</script>")


def _write_pending_cookie() -> None:
    """Send the cookie change queued by a sign-in or sign-out (queued, because both rerun the script at once and
    what a run draws before st.rerun may never reach the browser)."""
    pending = st.session_state.pop(_PENDING_COOKIE, None)
    if pending is not None:
        st.sidebar.html(_cookie_script(*pending), unsafe_allow_javascript=True)


def _forget_sign_in(*, drop_cookie: bool) -> None:
    """This tab is signed out: its state goes and, when it signed out itself, the browser drops the cookie. A tab
    that finds its session ended elsewhere leaves the cookie be: it may already hold a newer sign-in from another
    tab, and an old one signs nobody in."""
    st.session_state.pop("actor", None)
    st.session_state.pop(TOKEN_HASH, None)
    if drop_cookie:
        st.session_state[_PENDING_COOKIE] = ("", 0)


def restore_sign_in(cookies: Mapping[str, str] | None = None) -> Actor | None:
    """Sign this tab in from the browser's sign-in cookie (a reload, a new tab, a shared link), at most once per
    tab: the account as it stands now, or None, dropping a cookie that no longer signs anyone in."""
    if st.session_state.get(_COOKIE_TRIED):
        return None
    st.session_state[_COOKIE_TRIED] = True
    token = (cookies if cookies is not None else browser_cookies()).get(COOKIE)
    if not isinstance(token, str) or not token:  # (AppTest's stand-in browser answers with a mock)
        return None
    token_hash = auth.hash_token(token)
    check = auth.session_actor(database(), token_hash)
    if check.actor is None:
        st.session_state[_PENDING_COOKIE] = ("", 0)
        return None
    st.session_state["actor"] = check.actor
    st.session_state[TOKEN_HASH] = token_hash
    return check.actor


def current_actor() -> Actor | None:
    """The signed-in person as their account stands now, or None (signing out an account deactivated since, or a
    sign-in session that ended: signed out in another tab, expired, or revoked by a password change)."""
    actor = st.session_state.get("actor")
    if actor is None:
        return None
    token_hash = st.session_state.get(TOKEN_HASH)
    if token_hash:  # a local sign-in: the session itself must still hold (signed out elsewhere, expired, revoked)
        check = auth.session_actor(database(), token_hash)
        now, message = check.actor, SESSION_ENDED.get(check.problem, SESSION_ENDED["unknown"])
    else:
        now, message = auth.account_actor(database(), actor), SIGNED_OUT
    if now is None:
        _forget_sign_in(drop_cookie=False)
        st.warning(message)
        return None
    if now.role != actor.role:
        st.session_state["actor"] = now
    return now


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def _oidc_actor() -> Actor | None:
    user = getattr(st, "user", None)
    if user is None or not user.get("is_logged_in", False):
        return None
    actor = auth.actor_for_email(database(), str(user.get("email") or ""))
    if actor is None:
        st.sidebar.error(f"{user.get('email')} has no account here; ask an administrator to add you.")
    return actor


def _local_form() -> None:
    with st.sidebar.form("sign_in", clear_on_submit=False):
        st.markdown("**Sign in**")
        username = st.text_input("Username", key="sign_in_username")
        password = st.text_input("Password", type="password", key="sign_in_password")
        if st.form_submit_button("Sign in"):
            actor = auth.authenticate(database(), username, password)
            if actor is None:
                st.error("That username and password do not match an active account.")
            else:
                try:
                    token, _ = auth.start_session(database(), actor)
                except auth.AccountError:  # deactivated between the password check and now
                    st.error("That username and password do not match an active account.")
                else:
                    st.session_state["actor"] = actor
                    st.session_state[TOKEN_HASH] = auth.hash_token(token)
                    st.session_state[_PENDING_COOKIE] = (token, auth.SESSION_HOURS * 3600)
                    st.rerun()
    if auth.is_demo(database()):
        with st.sidebar.expander("Demo accounts"):
            st.caption("This is the demo database. One account per role:")
            for name, (role, _, password) in auth.DEMO_ACCOUNTS.items():
                st.text(f"{name} / {password}  ({ROLE_LABELS[role]})")


def sign_in_gate() -> Actor | None:
    """Called by app.py before navigation: signs people in or out in the sidebar; returns who is signed in."""
    actor = current_actor()
    if actor is None:
        actor = restore_sign_in()
    _write_pending_cookie()
    if actor is None and _oidc_configured():
        actor = _oidc_actor()
        if actor is not None:
            st.session_state["actor"] = actor
    if actor is None:
        if _oidc_configured():
            if st.sidebar.button("Sign in with your organisation account"):
                st.login()
        else:
            _local_form()
        return None
    st.sidebar.caption(f"Signed in as **{escape(actor.display_name or actor.username)}** · "
                       f"{ROLE_LABELS.get(actor.role, actor.role)}")
    if st.sidebar.button("Sign out", key="sign_out"):
        token_hash = st.session_state.get(TOKEN_HASH)
        if token_hash:
            auth.end_session(database(), token_hash)
        _forget_sign_in(drop_cookie=True)
        if _oidc_configured():
            st.logout()
        st.rerun()
    return actor


def require_role(action: str, what: str) -> Actor | None:
    """On a page: the actor if they may do `action`, else a message saying who may (and None)."""
    actor = current_actor()
    if actor is None:
        st.info(f"Sign in (in the sidebar) to {what}.")
        return None
    if not allowed(actor, action):
        st.warning(f"Your role ({ROLE_LABELS.get(actor.role, actor.role)}) may not {what}.")
        return None
    return actor
