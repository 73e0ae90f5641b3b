"""Raise a gap: Early Action Team members report a gap in service; commissioners move it through its statuses
(raised → acknowledged → referred to a strategic board → resolved or closed), each move with a note."""

import pandas as pd
import streamlit as st

from components.auth import current_actor
from components.context import area_options, cached, data_version, database, review_data
from components.format import day, escape
from components.tables import labels
from services_db.permissions import Actor, PermissionDenied, allowed
from services_db.raised_gaps import (
    STATUS_LABELS,
    GapDetail,
    GapError,
    change_status,
    gap_detail,
    gap_log,
    raise_gap,
)


@cached
def _log(version: str, areas: tuple = (), themes: tuple = (), statuses: tuple = ()) -> pd.DataFrame:
    return gap_log(database(), area_codes=list(areas), theme_keys=list(themes), statuses=list(statuses))


@cached
def _detail(version: str, gap_id: int) -> GapDetail | None:
    return gap_detail(database(), gap_id)


def _raise_form(actor: Actor | None, area_name: dict[str, str], themes: dict[str, str]) -> None:
    """The form that reports a gap (for anyone signed in with a role that may)."""
    st.subheader("Report a gap in service")
    if actor is None or not allowed(actor, "raise_gap"):
        st.info("Sign in to raise a gap. Early Action Team members, Chief Inspectors and commissioners can all "
                "raise one; anyone can read the log below.")
        return
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


def _log_section(version: str, area_name: dict[str, str], themes: dict[str, str]) -> pd.DataFrame | None:
    """The log of raised gaps, filtered; returns the rows shown (None when there are none)."""
    st.subheader("Gaps raised")
    f1, f2, f3 = st.columns(3)
    f_area = f1.multiselect("Area", list(area_name), format_func=area_name.get, key="log_area")
    f_theme = f2.multiselect("Theme", list(themes), format_func=themes.get, key="log_theme")
    f_status = f3.multiselect("Status", list(STATUS_LABELS), format_func=STATUS_LABELS.get, key="log_status")
    if _log(version).empty:
        st.info("No gaps have been raised yet.")
        return None
    shown = _log(version, tuple(f_area), tuple(f_theme), tuple(f_status))
    if shown.empty:
        st.info("No gaps match these filters. Clear a filter to see more.")
        return None
    st.dataframe(pd.DataFrame({
        # the key columns first: at 1440 px the long text pushed Status out of view
        "Number": shown["id"], "Status": shown["status_label"], "Area": shown["area"], "Theme": shown["theme"],
        "Raised": shown["raised_at"].map(day), "Last change": shown["updated_at"].map(day),
        "Who is affected": shown["affected"], "What happened": shown["description"], "Evidence": shown["evidence"],
        "By": shown["raised_by"],
    }), hide_index=True, width="stretch", key="gap_log",
        column_config={"What happened": st.column_config.TextColumn(width="large"),
                       "Evidence": st.column_config.TextColumn(width="medium")})
    return shown


def _follow(version: str, actor: Actor | None, shown: pd.DataFrame) -> None:
    """One gap's story, and the form that moves it on (for the roles that may)."""
    st.subheader("Follow a gap")
    names = {i: f"{i}: {a} – {t}" for i, a, t in zip(shown["id"].tolist(), shown["area"], shown["theme"], strict=True)}
    gap_id = st.selectbox("Gap", list(names), key="gap_pick", format_func=names.get)
    detail = _detail(version, int(gap_id))
    if detail is None:  # gone since the log was read
        st.info("This gap is no longer recorded.")
        return
    gap, hist = detail.gap, detail.history
    st.markdown(f"**Status:** {STATUS_LABELS[gap['status']]}  \n**What happened:** {escape(gap['description'])}")
    st.dataframe(pd.DataFrame({
        "When": hist["changed_at"].map(lambda v: pd.Timestamp(v).strftime("%-d %b %Y %H:%M")),
        "Who": hist["changed_by"], "From": hist["from_status"].map(lambda s: STATUS_LABELS.get(s, "–")),
        "To": hist["to_status"].map(STATUS_LABELS), "Note": hist["note"]}),
        hide_index=True, width="stretch", key="gap_history")
    if not detail.next_statuses:
        st.info("This gap is finished; it can move no further.")
        return
    if actor is None or not allowed(actor, "change_gap_status"):
        st.info("Commissioners and OPCC staff move gaps on: sign in with one of those roles to change the status.")
        return
    with st.form("change_status"):
        to = st.selectbox("Move to", list(detail.next_statuses), format_func=STATUS_LABELS.get, key="gap_to")
        note = st.text_area("Note (why, and what happens next)", key="gap_note")
        if st.form_submit_button("Change the status", type="primary"):
            try:
                change_status(database(), actor, int(gap_id), to, note, expected_version=int(gap["version"]))
            except (GapError, PermissionDenied) as exc:
                st.error(str(exc))
            else:
                st.session_state["gaps_flash"] = f"Gap {gap_id} is now {STATUS_LABELS[to].lower()}."
                st.rerun()


def main() -> None:
    version = data_version()
    area_name = labels(area_options(version), "code")
    themes = labels(review_data().themes, "theme_key")
    actor = current_actor()
    st.title("Raise a gap")
    if flash := st.session_state.pop("gaps_flash", None):
        st.success(flash)
    with st.container(border=True):
        _raise_form(actor, area_name, themes)
    shown = _log_section(version, area_name, themes)
    if shown is not None:
        _follow(version, actor, shown)


main()
