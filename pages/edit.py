"""Add and edit services, organisations, funds, allocations, plans and priorities."""

import streamlit as st

from components.auth import current_actor
from components.context import database
from components.editing import edit_form
from services_db.editing import KINDS, keys_of, load, options
from services_db.permissions import allowed

st.title("Edit records")
actor = current_actor()
editable = [k for k, spec in KINDS.items() if allowed(actor, spec.action)]
if actor is None:
    st.info("Sign in (in the sidebar) to add or edit records.")
    st.stop()
if not editable:
    st.warning("Your role may read everything but not edit records.")
    st.stop()
db = database()
kind = st.selectbox("Kind of record", editable, key="edit_kind")
records = keys_of(db, kind)
labels = {"": f"(new {kind})", **dict(records)}
key = st.selectbox("Record", list(labels), format_func=labels.get, key=f"edit_pick_{kind}")
record = None
if key:
    # The version a person opened stays with their session, so a later save by someone else is detected.
    state = f"loaded_{kind}_{key}"
    if state not in st.session_state:
        st.session_state[state] = load(db, kind, key)
    record = st.session_state[state]
    if st.button("Reload (discard my changes)", key="edit_reload"):
        st.session_state[state] = load(db, kind, key)
        st.rerun()
edit_form(db, actor, kind, record, options(db))
