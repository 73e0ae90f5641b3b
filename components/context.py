"""The one database handle, the session's "as at" date and cached reads shared by every page of a running app.

Cached reads are keyed on `data_version()`: the database's data version, which every write path bumps, plus the
place-based grouping in force at the session's "as at" date (an admin may regroup the areas from a date), so a warm
page costs no query at all until somebody changes the data, and nobody ever sees a stale figure after a save.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from services_db import queries
from services_db.db import Database, database_url, open_database
from services_db.demo import seeded
from services_db.groupings import GroupingError, snapshot_at
from services_db.review.data import ReviewData


@st.cache_resource(show_spinner="Opening the database (the first start builds the demo data and map cache)…")
def _open(url: str) -> Database:
    return seeded(open_database(url))


def enter_through_app() -> None:
    """Rerun through app.py when Streamlit ran a page file on its own.

    Until a script calls st.navigation, Streamlit assumes a legacy multipage app because pages/ sits beside app.py
    (PagesManager.uses_pages_directory); the first URL opened after a server start, if it is a page's URL
    (/area?area=Preston, /edit), then runs that page file alone: raw file names in the sidebar, no sign-in, no
    "as at" date. Clearing the flag and rerunning runs app.py's navigation for the same page and query string."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if PagesManager.uses_pages_directory and get_script_run_ctx() is not None:
        PagesManager.uses_pages_directory = False
        if not st.session_state.get("_via_app"):  # once per session: a rerun drops the run's button clicks
            st.rerun()


def database() -> Database:
    """Opened once per server process and URL; migrates it and, on the first start over a database with no data
    (the embedded demo file, on a new machine), loads the demo, so the app never opens empty. Every page reads
    it before drawing anything, so it is also where a page run on its own is sent through app.py."""
    enter_through_app()
    return _open(database_url())


def data_version() -> str:
    """The cache key of everything read from the database: the snapshot's version (the data version, with the
    grouping in force at the "as at" date when it is not the files' own)."""
    return review_data().version


def review_data() -> ReviewData:
    """The snapshot the session's pages read: re-read only when the data version changes, with the place-based
    grouping in force at the "as at" date (`groupings.snapshot_at`). A saved grouping that no longer applies to
    the data is reported once per run and the files' grouping is used instead."""
    data = queries.review_data(database())
    try:
        return snapshot_at(database(), as_at(), data)
    except GroupingError as exc:
        if not st.session_state.get("_grouping_warned") == str(exc):
            st.session_state["_grouping_warned"] = str(exc)
            st.warning(f"The place-based areas saved for this date cannot be applied to the data ({exc}); the "
                       "areas of the grouping files are shown instead. An administrator can fix them on the "
                       "Place-based areas page.")
        return data


def _default_as_at() -> dt.date:
    return queries.default_as_at(database())


def as_at() -> dt.date:
    """The "as at" date chosen in the sidebar, shared by every page of the session."""
    if "as_at" not in st.session_state:
        st.session_state["as_at"] = _default_as_at()
    value = st.session_state["as_at"]
    return value if isinstance(value, dt.date) else _default_as_at()


def as_at_picker() -> dt.date:
    """Draw the sidebar's "as at" date (app.py calls this once, before the page runs)."""
    st.session_state["_via_app"] = True  # this session has entered through app.py (see enter_through_app)
    as_at()
    st.sidebar.date_input(
        "As at", key="as_at", format="DD/MM/YYYY",
        help="Funding, services and plans are counted as they stood on this date. The demo data's own date is "
             f"{_default_as_at():%-d %B %Y}.")
    return as_at()


@st.cache_data(show_spinner=False, max_entries=64)
def area_options(version: str) -> pd.DataFrame:
    """Place-based areas (code, name, population) of the grouping in force at the "as at" date, in its order."""
    del version
    areas = review_data().areas
    return areas.loc[areas["level"] == "area", ["code", "name", "population", "population_is_estimate"]].reset_index(
        drop=True)


def cached(fn):
    """Cache `fn(version, *args)` per data version and arguments (a thin alias so pages read clearly)."""
    return st.cache_data(show_spinner=False, max_entries=128)(fn)


def shared(fn):
    """Like `cached`, but hands every session the same object instead of an unpickled copy: for large read-only
    results (an area's whole profile), where copying on every rerun costs more than the page itself."""
    return st.cache_resource(show_spinner=False, max_entries=64)(fn)
