"""Accounts and roles (administrators only; the core checks the role again on every change)."""

import pandas as pd
import streamlit as st

from components.auth import ROLE_LABELS, require_role
from components.context import database
from services_db import auth
from services_db.models import ROLES
from services_db.permissions import PermissionDenied

st.title("Users and roles")
actor = require_role("manage_users", "manage users")
if actor is None:
    st.stop()
db = database()
st.dataframe(pd.DataFrame(auth.list_users(db)), hide_index=True, key="users_table")
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
            auth.create_user(db, actor, username=username, role=role, password=password or None,
                             display_name=name, email=email or None)
            st.success("Account added.")
        except (auth.AccountError, PermissionDenied) as exc:
            st.error(str(exc))
with st.form("change_user"):
    st.markdown("**Change an account**")
    who = st.selectbox("Account", [u["username"] for u in auth.list_users(db)], key="change_username")
    new_role = st.selectbox("Role", ROLES, format_func=ROLE_LABELS.get, key="change_role")
    active = st.checkbox("Active", True, key="change_active")
    if st.form_submit_button("Save"):
        try:
            auth.update_user(db, actor, who, role=new_role, active=active)
            st.success("Saved.")
        except (auth.AccountError, PermissionDenied) as exc:
            st.error(str(exc))
