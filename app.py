"""Commissioned services in a police force area: need, plans, activity and review.

`streamlit run app.py` opens the embedded demo database (created on first start) unless DATABASE_URL says otherwise.
"""

import streamlit as st

from components.auth import sign_in_gate
from components.context import as_at_picker

st.set_page_config(page_title="Commissioned services", page_icon=":material/map:", layout="wide")

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True, url_path="overview"),
    st.Page("pages/area.py", title="Area page", icon=":material/location_on:", url_path="area"),
    st.Page("pages/directory.py", title="Service directory", icon=":material/menu_book:", url_path="directory"),
    st.Page("pages/funds.py", title="Funds", icon=":material/payments:", url_path="funds"),
    st.Page("pages/review.py", title="Review across the force", icon=":material/search_insights:", url_path="review"),
    st.Page("pages/gaps.py", title="Raise a gap", icon=":material/campaign:", url_path="gaps"),
    st.Page("pages/edit.py", title="Edit records", icon=":material/edit:", url_path="edit"),
    st.Page("pages/data.py", title="Data in and out", icon=":material/sync_alt:", url_path="data"),
    st.Page("pages/history.py", title="History of changes", icon=":material/history:", url_path="history"),
    st.Page("pages/users.py", title="Users and roles", icon=":material/group:", url_path="users"),
]

navigation = st.navigation(pages)
sign_in_gate()
as_at_picker()
navigation.run()
