"""Commissioned services in a police force area: need, plans, activity and review.

`streamlit run app.py` opens the embedded demo database (created on first start) unless DATABASE_URL says otherwise.

Every page runs through here, so what every page shares is drawn here once: the sign-in (which survives a reload
and a new tab), the "as at" date (also in the URL as ?as_at=YYYY-MM-DD, so a link reproduces the view) and, after
the page has run and set its own query parameters, the link to this view.
"""

from pathlib import Path

import streamlit as st

from components import links
from components.auth import sign_in_gate
from components.context import as_at_picker

# a local file: an icon name (":material/map:") makes the browser fetch the favicon from fonts.gstatic.com
FAVICON = str(Path(__file__).resolve().parent / "static" / "favicon.png")

# (file, title, icon, url path); the first page is the default
PAGES = [
    ("pages/overview.py", "Overview", ":material/home:", "overview"),
    ("pages/area.py", "Area page", ":material/location_on:", "area"),
    ("pages/directory.py", "Service directory", ":material/menu_book:", "directory"),
    ("pages/funds.py", "Funds", ":material/payments:", "funds"),
    ("pages/review.py", "Review across the force", ":material/search_insights:", "review"),
    ("pages/compare.py", "Compare areas", ":material/compare_arrows:", "compare"),
    ("pages/scenarios.py", "What-if scenarios", ":material/science:", "scenarios"),
    ("pages/gaps.py", "Raise a gap", ":material/campaign:", "gaps"),
    ("pages/edit.py", "Edit records", ":material/edit:", "edit"),
    ("pages/data.py", "Data in and out", ":material/sync_alt:", "data"),
    ("pages/history.py", "History of changes", ":material/history:", "history"),
    ("pages/users.py", "Users and roles", ":material/group:", "users"),
    ("pages/groupings.py", "Place-based areas", ":material/map:", "groupings"),
]


def main() -> None:
    st.set_page_config(page_title="Commissioned services", page_icon=FAVICON, layout="wide")
    navigation = st.navigation([st.Page(path, title=title, icon=icon, url_path=url, default=i == 0)
                                for i, (path, title, icon, url) in enumerate(PAGES)])
    sign_in_gate()
    links.as_at_from_url()
    when = as_at_picker()
    links.as_at_to_url(when)
    link = st.sidebar.empty()  # filled after the page, which may add its own query parameters
    problem = links.as_at_url_problem(when)
    if problem:
        st.warning(problem)
    try:
        navigation.run()
    finally:
        links.copy_link(link)


main()
