"""Add and edit services, organisations, funds, allocations, plans and priorities."""

import streamlit as st

from components.auth import current_actor
from components.context import database
from components.editing import edit_form
from services_db.editing import KINDS, keys_of, load, options
from services_db.permissions import allowed


def _opened(kind: str, key: str) -> dict:
    """The record as this person opened it. The version a person opened stays with their session, so a later save
    by someone else is detected."""
    state = f"loaded_{kind}_{key}"
    if state not in st.session_state:
        st.session_state[state] = load(database(), kind, key)
    if st.button("Reload (discard my changes)", key="edit_reload"):
        st.session_state[state] = load(database(), kind, key)
        st.rerun()
    return st.session_state[state]


def main() -> None:
    st.title("Edit records")
    actor = current_actor()
    if actor is None:
        st.info("Sign in (in the sidebar) to add or edit records.")
        return
    editable = [k for k, spec in KINDS.items() if allowed(actor, spec.action)]
    if not editable:
        st.warning("Your role may read everything but not edit records.")
        return
    db = database()
    kind = st.selectbox("Kind of record", editable, key="edit_kind")
    records = {"": f"(new {kind})", **dict(keys_of(db, kind))}
    key = st.selectbox("Record", list(records), format_func=records.get, key=f"edit_pick_{kind}")
    edit_form(db, actor, kind, _opened(kind, key) if key else None, options(db))


main()
