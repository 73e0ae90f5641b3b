"""Who is using the app: sign-in (local accounts, or the organisation's identity provider through st.login when
`[auth]` is configured in secrets.toml), sign-out, and the Actor every edit path passes to the core.

Reading pages stay open without signing in (but for History, which shows past values); anything that changes
data needs an account, and the core checks the account again on every save. Each page run re-reads the signed-in
account (one indexed query): a deactivated account is signed out there and then, and a changed role takes effect.
Tests may set st.session_state["actor"] directly.
"""

from __future__ import annotations

import streamlit as st

from components.context import database
from components.format import escape
from services_db import auth
from services_db.permissions import Actor, allowed

ROLE_LABELS = {"viewer": "Viewer", "early_action": "Early Action Team", "commissioner": "Commissioner",
               "opcc": "OPCC", "admin": "Administrator"}


SIGNED_OUT = "Your account has been deactivated, so you have been signed out."


def current_actor() -> Actor | None:
    """The signed-in person as their account stands now, or None (signing out an account deactivated since)."""
    actor = st.session_state.get("actor")
    if actor is None:
        return None
    now = auth.account_actor(database(), actor)
    if now is None:
        st.session_state.pop("actor", None)
        st.warning(SIGNED_OUT)
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
                st.session_state["actor"] = actor
                st.rerun()
    if auth.is_demo(database()):
        with st.sidebar.expander("Demo accounts"):
            st.caption("This is the demo database. One account per role:")
            for name, (role, _, password) in auth.DEMO_ACCOUNTS.items():
                st.text(f"{name} / {password}  ({ROLE_LABELS[role]})")


def sign_in_gate() -> Actor | None:
    """Called by app.py before navigation: signs people in or out in the sidebar; returns who is signed in."""
    actor = current_actor()
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
        st.session_state.pop("actor", None)
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
