"""What changed, who changed it and when: the audit log, per record (signed-in people only).

Values before and after a change can be personal or sensitive, so the page needs an account; the addresses and
coordinates of confidential services are redacted for everyone but administrators.
"""

import streamlit as st

from components.auth import require_role
from components.context import database
from components.format import escape
from services_db.audit import history
from services_db.permissions import allowed

TABLES = ["", "service", "organisation", "fund", "allocation", "plan", "priority", "gap_report", "app_user",
          "services", "openreferral", "360giving", "police-uk", "imd", "indicators", "backup"]


def main() -> None:
    st.title("History of changes")
    actor = require_role("view_history", "see the history of changes")
    if actor is None:
        return
    table = st.selectbox("Kind of record", TABLES, format_func=lambda t: t or "(everything)", key="history_table")
    key = st.text_input("Record key (leave empty for all)", key="history_key").strip()
    frame = history(database(), table or None, key or None, admin=allowed(actor, "view_confidential_history"))
    if frame.empty:
        st.info("No changes recorded yet.")
        return
    if key:
        st.markdown(f"{len(frame):,} change(s) to **{escape(key)}**")
    st.dataframe(frame[["at", "username", "action", "table", "record", "changed"]], hide_index=True,
                 key="history_frame")


main()
