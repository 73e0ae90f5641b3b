"""What changed, who changed it and when: the audit log, per record."""

import streamlit as st

from components.context import database
from components.format import escape
from services_db.audit import history

st.title("History of changes")
db = database()
tables = ["", "service", "organisation", "fund", "allocation", "plan", "priority", "gap_report", "app_user",
          "services", "openreferral", "360giving", "police-uk", "imd", "indicators", "backup"]
table = st.selectbox("Kind of record", tables, format_func=lambda t: t or "(everything)", key="history_table")
key = st.text_input("Record key (leave empty for all)", key="history_key").strip()
frame = history(db, table or None, key or None)
if frame.empty:
    st.info("No changes recorded yet.")
else:
    if key:
        st.markdown(f"{len(frame):,} change(s) to **{escape(key)}**")
    st.dataframe(frame[["at", "username", "action", "table", "record", "changed"]], hide_index=True,
                 key="history_frame")
