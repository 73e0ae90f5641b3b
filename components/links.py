"""Every view is a link: the "as at" date lives in the URL (`?as_at=YYYY-MM-DD`) and every page shows its own
address, query string and all, to copy and send.

The app's other choices (area, service, fund and year, tab) are each page's own query parameters; this module owns
the app-wide parts, which app.py draws on every page. Nothing here reads the database.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode, urlsplit

import streamlit as st

AS_AT = "as_at"  # the query parameter, and the picker's session-state key (components.context)
_SEEN = "_as_at_in_url"  # the ?as_at= value this session last applied or wrote
_PROBLEM = "_as_at_url_problem"  # (bad value, date shown instead) until the person picks another date
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The picker offers ten years either side of its value; a year outside this range is a typing slip, not a date
# anybody's data could be as at.
EARLIEST, LATEST = dt.date(1990, 1, 1), dt.date(2100, 12, 31)


def parse_as_at(text: str | None) -> dt.date | None:
    """The date in an `as_at` query parameter, or None unless it is a real YYYY-MM-DD date from 1990 to 2100.

    Only the one written form is accepted (Python's fromisoformat would also take 20140127 or 2014-W05-1), so a
    link always reads the same to a person as to the app."""
    text = (text or "").strip()
    if not _ISO.match(text):
        return None
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return value if EARLIEST <= value <= LATEST else None


def as_at_from_url() -> None:
    """Before the sidebar's picker draws: a `?as_at=` the session has not seen yet (a link opened in a new tab, a
    page's URL typed in) sets the session's date; an invalid one is reported and the date stays as it was (the
    database's own date on a first visit).

    Only a value this session has not applied or written itself counts, so the URL (one run behind the picker
    while the person changes the date) never undoes their choice."""
    raw = st.query_params.get(AS_AT)
    if raw is None or raw == st.session_state.get(_SEEN):
        return
    st.session_state[_SEEN] = raw
    value = parse_as_at(raw)
    if value is None:
        st.session_state[_PROBLEM] = raw
    else:
        st.session_state[AS_AT] = value
        st.session_state.pop(_PROBLEM, None)


def as_at_to_url(value: dt.date) -> None:
    """After the picker: the URL carries the date shown, always spelled out (not left off when it is the
    default), so a link means the same date after the data, and their default date, move on."""
    text = value.isoformat()
    if st.query_params.get(AS_AT) != text:
        st.query_params[AS_AT] = text
    st.session_state[_SEEN] = text


def as_at_url_problem(value: dt.date) -> str | None:
    """The warning for a link whose as-at date could not be read, repeated on each run (a page's own rerun would
    otherwise wipe it before it is read) until the person picks a date of their own."""
    problem = st.session_state.get(_PROBLEM)
    if problem is None:
        return None
    bad, shown = problem if isinstance(problem, tuple) else (problem, value)
    if value != shown:
        st.session_state.pop(_PROBLEM, None)
        return None
    st.session_state[_PROBLEM] = (bad, shown)
    return (f"The link's as-at date “{bad[:40]}” is not a date this app can show (write it as YYYY-MM-DD, "
            f"for example 2014-01-27), so figures are as at {value:%-d %B %Y} instead.")


def query_string() -> str:
    """The current query parameters as a URL query string (repeated keys kept), without the leading "?"."""
    pairs = [(key, value) for key in st.query_params for value in st.query_params.get_all(key)]
    return urlencode(pairs)


def current_url() -> str | None:
    """This view's address: the page's URL from the browser (st.context.url, which drops the query string) and
    the query parameters as they stand now. None where there is no browser (a script run on its own)."""
    base = st.context.url
    if not base:
        return None
    if not urlsplit(base).path:  # the default page comes as "http://host": "http://host/?…" reads as a link
        base += "/"
    query = query_string()
    return f"{base}?{query}" if query else base


def copy_link(where=None) -> None:
    """The "link to this view" control: the URL in a code block, whose built-in button copies it (no script of
    ours touches the clipboard). app.py draws it after the page has run, so it holds the page's own choices."""
    where = where if where is not None else st.sidebar
    url = current_url()
    if url is None:
        return
    with where.container():
        st.caption("Link to this view, to send a colleague exactly what you see (point at it for its copy button):")
        st.code(url, language=None, wrap_lines=True)
