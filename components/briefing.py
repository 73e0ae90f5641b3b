"""The briefing buttons: "Download briefing" on an area page, "All 9 briefings" on the overview, and a what-if
scenario's briefing (the force's or an area's) on the scenarios page.

Thin on purpose: the documents are built by `services_db.documents`, the same code the command line runs. A
single briefing is built only when the button is clicked (Streamlit runs the callable then), so drawing the page
costs nothing; the all-areas zip is built on request with a progress bar and kept for the session, keyed by the
data version, date and format, so it is offered again without rebuilding until the data change.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components.context import database, review_data
from services_db import documents, queries

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
        st.caption(f"A dated briefing for {area_name} with every figure as at {as_at:%-d %B %Y}, to print or "
                   "circulate. It records a fingerprint of the data it was built from.")
        fmt = _format_choice(key)
        st.download_button(
            "Download briefing", data=lambda: documents.build_briefing(db, area_name, as_at, fmt).content,
            file_name=documents.briefing_filename(area_name, as_at, fmt), mime=documents.FORMATS[fmt][1],
            key=f"{key}_download", icon=":material/download:", on_click="ignore")


def all_briefings(as_at: dt.date, *, key: str = "all_briefings") -> None:
    """Build every area's briefing with a progress bar and offer them as one zip."""
    db = database()
    with st.container(border=True):
        n = len(queries.areas(db, "area"))
        st.markdown(f"**All {n} briefings**")
        st.caption(f"One briefing per place-based area, figures as at {as_at:%-d %B %Y}, in one zip file.")
        fmt = _format_choice(key)
        state = f"{key}_zip"
        wanted = (db.data_version(), as_at.isoformat(), fmt)
        if st.button(f"Build all {n} briefings", key=f"{key}_build"):
            bar = st.progress(0.0, text="Starting…")

            def progress(done: int, total: int, name: str) -> None:
                bar.progress(done / total, text=f"Built {done} of {total}: {name}")

            st.session_state[state] = (wanted, documents.build_all(db, as_at, fmt, progress=progress))
            bar.empty()
        held = st.session_state.get(state)
        if held and held[0] == wanted:
            st.download_button("Download all briefings (zip)", data=held[1],
                               file_name=documents.all_filename(as_at, fmt), mime="application/zip",
                               key=f"{key}_download", icon=":material/folder_zip:", on_click="ignore")


def download_scenario_briefing(scenario: str, as_at: dt.date, *, key: str = "scenario_briefing") -> None:
    """A choice of the force or one area, a format, and a download button for the scenario's briefing: the
    ordinary briefing built from the scenario's data, "Scenario: <name> — not actual allocations" on every page,
    with the changes and what they do. Built only when the button is clicked, like the area page's."""
    db = database()
    data = review_data()
    _, force = documents.force_of(data)
    whole = f"The force ({force})"
    with st.container(border=True):
        st.markdown("**Scenario briefing**")
        st.caption(f"A briefing with every figure as at {as_at:%-d %B %Y} as this scenario would have it, marked "
                   "\u201cScenario \u2014 not actual allocations\u201d on every page, with the changes and what "
                   "they do. The fingerprint names the actual data and the scenario's changes.")
        place = st.selectbox("Briefing of", [whole, *documents.area_names(data)], key=f"{key}_place")
        fmt = _format_choice(key)
        area = None if place == whole else place
        st.download_button(
            "Download scenario briefing",
            data=lambda: documents.build_scenario_briefing(db, scenario, area, as_at, fmt).content,
            file_name=documents.scenario_filename(scenario, force if area is None else area, as_at, fmt),
            mime=documents.FORMATS[fmt][1], key=f"{key}_download", icon=":material/download:",
            on_click="ignore")
