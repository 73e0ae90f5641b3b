"""Place-based areas: the force's own grouping of districts (and LSOA sets) into areas, each from a date. Everyone
reads the groupings; an administrator makes a new one from the grouping in force, sees it on a map and in a table,
and saves it once nothing is wrong with it (the core checks the role and the grouping again on save)."""

import datetime as dt

import pandas as pd
import streamlit as st

from components.auth import current_actor
from components.context import as_at, database
from components.format import day, escape
from components.grouping_map import NONE_LABEL, area_map, colour_names
from services_db.groupings import (
    Grouping,
    GroupingError,
    Proposal,
    editor_table,
    grouping_at,
    grouping_view,
    list_groupings,
    lsoa_codes,
    propose,
    save_grouping,
)
from services_db.permissions import Actor, PermissionDenied, allowed


def _list(groupings: list[Grouping]) -> None:
    st.dataframe(pd.DataFrame({
        "Grouping": [g.name for g in groupings],
        "Applies from": [g.applies_from_text for g in groupings],
        "Areas": [len(g.areas) for g in groupings],
        "Made by": [g.created_by or "the grouping files" for g in groupings],
        "Made on": [day(g.created_at) if g.created_at else "" for g in groupings],
    }), hide_index=True, key="groupings_list")


def _draw(view: Proposal, title: str, key: str) -> None:
    """The map and, beside it, the same assignment as a table (colours named by area, for anyone who cannot tell
    them apart)."""
    names = [a.name for a in view.grouping.areas]
    colours = colour_names(names)
    left, right = st.columns([3, 2])
    left.plotly_chart(area_map(view.lsoa_areas, areas=names, title=title), key=f"map_{key}",
                      width="stretch")
    table = view.areas.assign(**{"Colour on the map": [colours[n] for n in view.areas["Area"]]})
    table = table[["Area", "Colour on the map", "Division", "Districts", "LSOAs", "Code"]]
    right.dataframe(table, hide_index=True, key=f"areas_{key}")
    unplaced = int((view.lsoa_areas["area"] == "").sum())
    if unplaced:
        right.caption(f"{unplaced} LSOAs are in no area (grey on the map: “{NONE_LABEL}”).")


def _read(groupings: list[Grouping], in_force: Grouping) -> None:
    """One grouping on the map and as a table: the one in force at the "as at" date unless another is picked."""
    now = next((i for i, g in enumerate(groupings) if g.id == in_force.id), 0)
    pick = st.selectbox("Show the grouping", range(len(groupings)), index=now, key="grouping_shown",
                        format_func=lambda i: f"{groupings[i].name} (from {groupings[i].applies_from_text})")
    _draw(grouping_view(database(), groupings[pick]), escape(groupings[pick].name), "shown")


def _editor(actor: Actor, when: dt.date) -> None:
    source = grouping_at(database(), when)
    st.subheader("Make a new grouping")
    st.caption(f"Starting from the grouping in force on {when:%-d %B %Y} (“{escape(source.name)}”). Type an area's "
               "name against each district: a new name makes a new area, an area's old name keeps it. An area "
               "smaller than a district is a list of LSOAs inside one district.")
    name = st.text_input("Name of the grouping", max_chars=120, key="grouping_name")
    applies = st.date_input("Applies from", value=when, format="DD/MM/YYYY", key="grouping_from")
    table = editor_table(database(), source)
    edited = st.data_editor(table, hide_index=True, key=f"grouping_table_{source.key}", disabled=["District", "Code"],
                            height=36 * (len(table) + 1) + 3,
                            column_config={"Area": st.column_config.TextColumn("Area", required=True)})
    sets = dict(source.lsoa_sets())
    first = next(iter(sets), "")
    st.markdown("**An area smaller than a district** (optional)")
    small = st.text_input("Its name", value=first, key=f"small_name_{source.key}")
    pasted = st.text_area("Its LSOA codes (paste them: one a line, or separated by commas or spaces)",
                          value="\n".join(sets.get(first, ())), key=f"small_codes_{source.key}")
    upload = st.file_uploader("…or upload a CSV or text file with the codes", type=["csv", "txt"],
                              key="small_file")
    codes = lsoa_codes(pasted) + (lsoa_codes(upload.getvalue().decode("utf-8", "replace")) if upload else ())
    sets.pop(first, None)
    if small.strip() and codes:
        sets[small.strip()] = codes
    view = propose(database(), source, dict(zip(edited["Code"], edited["Area"].fillna(""), strict=True)), sets,
                   name=name, applies_from=applies)
    _draw(view, "Preview: " + (escape(name) or "the new grouping"), "draft")
    for problem in view.problems:
        st.error(escape(problem))
    if st.button("Save grouping", type="primary", disabled=bool(view.problems), key="grouping_save"):
        try:
            saved = save_grouping(database(), actor, view.grouping)
        except (GroupingError, PermissionDenied) as exc:
            st.error(escape(str(exc)))
            return
        st.session_state["grouping_saved"] = f"Saved “{saved.name}”: it applies from {saved.applies_from_text}."
        st.rerun()


def main() -> None:
    st.title("Place-based areas")
    st.caption("How the force groups its districts (and, for areas smaller than a district, LSOAs) into "
               "place-based areas, and from which date each grouping applies. A review, an area page or a briefing "
               "as at a date uses the grouping of that date.")
    if "grouping_saved" in st.session_state:
        st.success(escape(st.session_state.pop("grouping_saved")))
    groupings = list_groupings(database())
    _list(groupings)
    _read(groupings, grouping_at(database(), as_at()))
    actor = current_actor()
    if not allowed(actor, "edit_grouping"):
        st.info("Only administrators may make a new grouping; you can read the groupings above.")
        return
    _editor(actor, as_at())


main()
