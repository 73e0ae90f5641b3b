"""The briefing buttons: "Download briefing" on an area page and "All 9 briefings" on the overview.

Thin on purpose: the documents are built by `services_db.documents`, the same code the command line runs. A
single briefing is built only when the button is clicked (Streamlit runs the callable then), so drawing the page
costs nothing; the all-areas zip is built on request with a progress bar and kept for the session, keyed by the
data version, date and format, so it is offered again without rebuilding until the data change.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components.context import database
from services_db import queries
from services_db.documents import FORMATS, all_filename, briefing_filename, build_all, build_briefing

FORMAT_LABELS = {"PDF": "pdf", "Word": "docx"}


def _format_choice(key: str) -> str:
    label = st.radio("Format", list(FORMAT_LABELS), horizontal=True, key=f"{key}_format",
                     help="PDF prints exactly as laid out; Word (.docx) can be edited.")
    return FORMAT_LABELS[label]


def download_briefing(area_name: str, as_at: dt.date, *, key: str = "briefing") -> None:
    """A format choice and a download button for one area's dated briefing snapshot."""
    db = database()
    with st.container(border=True):
        st.markdown("**Briefing snapshot**")
        st.caption(f"A dated briefing for {area_name} with every figure as at {as_at:%d %B %Y}, to print or "
                   "circulate. It records a fingerprint of the data it was built from.")
        fmt = _format_choice(key)
        st.download_button(
            "Download briefing", data=lambda: build_briefing(db, area_name, as_at, fmt).content,
            file_name=briefing_filename(area_name, as_at, fmt), mime=FORMATS[fmt][1], key=f"{key}_download",
            icon=":material/download:", on_click="ignore")


def all_briefings(as_at: dt.date, *, key: str = "all_briefings") -> None:
    """Build every area's briefing with a progress bar and offer them as one zip."""
    db = database()
    with st.container(border=True):
        n = len(queries.areas(db, "area"))
        st.markdown(f"**All {n} briefings**")
        st.caption(f"One briefing per place-based area, figures as at {as_at:%d %B %Y}, in one zip file.")
        fmt = _format_choice(key)
        state = f"{key}_zip"
        wanted = (db.data_version(), as_at.isoformat(), fmt)
        if st.button(f"Build all {n} briefings", key=f"{key}_build"):
            bar = st.progress(0.0, text="Starting…")

            def progress(done: int, total: int, name: str) -> None:
                bar.progress(done / total, text=f"Built {done} of {total}: {name}")

            st.session_state[state] = (wanted, build_all(db, as_at, fmt, progress=progress))
            bar.empty()
        held = st.session_state.get(state)
        if held and held[0] == wanted:
            st.download_button("Download all briefings (zip)", data=held[1], file_name=all_filename(as_at, fmt),
                               mime="application/zip", key=f"{key}_download", icon=":material/folder_zip:",
                               on_click="ignore")
