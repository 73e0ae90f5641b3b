"""Raise a gap: Early Action Team members report a gap in service; commissioners move it through its statuses
(raised → acknowledged → referred to a strategic board → resolved or closed), each move with a note."""

import pandas as pd
import streamlit as st

from components.auth import current_actor
from components.context import area_options, cached, data_version, database, review_data
from components.format import day, escape
from services_db.gaps import (
    STATUS_LABELS,
    TRANSITIONS,
    GapError,
    change_status,
    gap_history,
    gap_log,
    raise_gap,
)
from services_db.permissions import PermissionDenied, allowed


@cached
def _log(version: str, areas: tuple = (), themes: tuple = (), statuses: tuple = ()) -> pd.DataFrame:
    return gap_log(database(), area_codes=list(areas), theme_keys=list(themes), statuses=list(statuses))


version = data_version()
data = review_data()
areas = area_options(version)
area_name = dict(zip(areas["code"], areas["name"], strict=True))
themes = dict(zip(data.themes["theme_key"], data.themes["name"], strict=False))
actor = current_actor()

st.title("Raise a gap")
if flash := st.session_state.pop("gaps_flash", None):
    st.success(flash)

with st.container(border=True):
    st.subheader("Report a gap in service")
    if actor is None or not allowed(actor, "raise_gap"):
        st.info("Sign in to raise a gap. Early Action Team members, Chief Inspectors and commissioners can all "
                "raise one; anyone can read the log below.")
    else:
        with st.form("raise_gap", clear_on_submit=True):
            c1, c2 = st.columns(2)
            area = c1.selectbox("Area", list(area_name), format_func=area_name.get, key="gap_area")
            theme = c2.selectbox("Theme", list(themes), format_func=themes.get, key="gap_theme")
            affected = st.text_input("Who is affected", key="gap_affected",
                                     placeholder="e.g. young people leaving care in Burnley")
            description = st.text_area("What happened", key="gap_description",
                                       placeholder="What was needed, and why no service could meet it")
            evidence = st.text_area("Evidence", key="gap_evidence",
                                    placeholder="Incident numbers, dates, referrals refused… (no personal details)")
            if st.form_submit_button("Raise the gap", type="primary"):
                try:
                    number = raise_gap(database(), actor, area_code=area, theme_key=theme, affected=affected,
                                       description=description, evidence=evidence)
                except (GapError, PermissionDenied) as exc:
                    st.error(str(exc))
                else:
                    st.session_state["gaps_flash"] = (f"Gap {number} raised for {escape(area_name[area])} "
                                                      f"({escape(themes[theme])}). Commissioners will see it in "
                                                      "the log below.")
                    st.rerun()

st.subheader("Gaps raised")
log = _log(version)
f1, f2, f3 = st.columns(3)
f_area = f1.multiselect("Area", list(area_name), format_func=area_name.get, key="log_area")
f_theme = f2.multiselect("Theme", list(themes), format_func=themes.get, key="log_theme")
f_status = f3.multiselect("Status", list(STATUS_LABELS), format_func=STATUS_LABELS.get, key="log_status")
shown = _log(version, tuple(f_area), tuple(f_theme), tuple(f_status))

if log.empty:
    st.info("No gaps have been raised yet.")
    st.stop()
if shown.empty:
    st.info("No gaps match these filters. Clear a filter to see more.")
    st.stop()

st.dataframe(pd.DataFrame({
    "Number": shown["id"], "Raised": shown["raised_at"].map(day), "By": shown["raised_by"], "Area": shown["area"],
    "Theme": shown["theme"], "Who is affected": shown["affected"], "What happened": shown["description"],
    "Evidence": shown["evidence"], "Status": shown["status_label"], "Last change": shown["updated_at"].map(day),
}), hide_index=True, width="stretch", key="gap_log")

st.subheader("Follow a gap")
gap_id = st.selectbox("Gap", shown["id"].tolist(), key="gap_pick",
                      format_func=lambda i: f"{i}: {log.loc[log['id'] == i, 'area'].iloc[0]} – "
                                            f"{log.loc[log['id'] == i, 'theme'].iloc[0]}")
row = log[log["id"] == gap_id].iloc[0]
st.markdown(f"**Status:** {STATUS_LABELS[row['status']]}  \n**What happened:** {escape(row['description'])}")
hist = gap_history(database(), int(gap_id))
st.dataframe(pd.DataFrame({
    "When": hist["changed_at"].map(lambda v: pd.Timestamp(v).strftime("%d %b %Y %H:%M")), "Who": hist["changed_by"],
    "From": hist["from_status"].map(lambda s: STATUS_LABELS.get(s, "–")), "To": hist["to_status"].map(STATUS_LABELS),
    "Note": hist["note"]}), hide_index=True, width="stretch", key="gap_history")

nexts = TRANSITIONS[row["status"]]
if not nexts:
    st.info("This gap is finished; it can move no further.")
elif actor is None or not allowed(actor, "change_gap_status"):
    st.info("Commissioners and OPCC staff move gaps on: sign in with one of those roles to change the status.")
else:
    with st.form("change_status"):
        to = st.selectbox("Move to", list(nexts), format_func=STATUS_LABELS.get, key="gap_to")
        note = st.text_area("Note (why, and what happens next)", key="gap_note")
        if st.form_submit_button("Change the status", type="primary"):
            try:
                change_status(database(), actor, int(gap_id), to, note, expected_version=int(row["version"]))
            except (GapError, PermissionDenied) as exc:
                st.error(str(exc))
            else:
                st.session_state["gaps_flash"] = f"Gap {gap_id} is now {STATUS_LABELS[to].lower()}."
                st.rerun()
