"""Accounts and roles (administrators only; the core checks the role again on every change)."""

import pandas as pd
import streamlit as st

from components.auth import ROLE_LABELS, require_role
from components.context import database
from services_db import auth
from services_db.models import ROLES
from services_db.permissions import Actor, PermissionDenied


def _add_form(actor: Actor) -> None:
    with st.form("add_user"):
        st.markdown("**Add an account**")
        username = st.text_input("Username", key="new_username")
        name = st.text_input("Display name", key="new_name")
        email = st.text_input("E-mail (for single sign-on; optional)", key="new_email")
        role = st.selectbox("Role", ROLES, format_func=ROLE_LABELS.get, key="new_role")
        password = st.text_input("Password (at least 10 characters; empty for single sign-on only)", type="password",
                                 key="new_password")
        if st.form_submit_button("Add"):
            try:
                auth.create_user(database(), actor, username=username, role=role, password=password or None,
                                 display_name=name, email=email or None)
                st.success("Account added.")
            except (auth.AccountError, PermissionDenied) as exc:
                st.error(str(exc))


def _change_form(actor: Actor, accounts: dict[str, dict]) -> None:
    st.markdown("**Change an account**")
    # Picked outside the form so the form below opens on that account's current role and state: saving changes only
    # what was changed (deactivating a commissioner leaves them a commissioner).
    who = st.selectbox("Account", list(accounts), key="change_username")
    if not who:
        return
    current = accounts[who]
    with st.form("change_user"):
        roles = list(ROLES)
        new_role = st.selectbox("Role", roles, index=roles.index(current["role"]) if current["role"] in roles else 0,
                                format_func=ROLE_LABELS.get, key=f"change_role_{who}")
        active = st.checkbox("Active", current["active"], key=f"change_active_{who}")
        if st.form_submit_button("Save"):
            try:
                auth.update_user(database(), actor, who, role=new_role if new_role != current["role"] else None,
                                 active=active if active != current["active"] else None)
                st.success("Saved.")
            except (auth.AccountError, PermissionDenied) as exc:
                st.error(str(exc))


def main() -> None:
    st.title("Users and roles")
    actor = require_role("manage_users", "manage users")
    if actor is None:
        return
    st.dataframe(pd.DataFrame(auth.list_users(database())), hide_index=True, key="users_table")
    _add_form(actor)
    # Read again after the form: an account added in this run can be changed at once.
    _change_form(actor, {u["username"]: u for u in auth.list_users(database())})


main()
