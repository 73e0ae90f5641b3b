"""Overview: the force at a glance: headline figures, a map by place-based area, the top gaps and the funding
cliffs of the next 12 months."""

import pandas as pd
import streamlit as st

from components.briefing import all_briefings
from components.context import as_at, cached, data_version, database, review_data
from components.format import ESTIMATE_NOTE, escape, money, plain
from components.maps import choropleth
from components.tables import shown_frame
from services_db.areas import MAP_MEASURES, force_figures, force_map
from services_db.queries import headline_figures
from services_db.review import review_force


@cached
def _headline(version: str) -> dict:
    return headline_figures(database())


@cached
def _at(version: str, when) -> dict:
    return force_figures(review_data(), when)


@cached
def _force(version: str, when) -> tuple[list[dict], pd.DataFrame, pd.DataFrame]:
    f = review_force(review_data(), when)
    return ([dict(kind=x.kind, sentence=x.sentence, is_estimate=x.is_estimate) for x in f.findings],
            f.tables["gaps"], shown_frame(f, "cliff"))


@cached
def _map(version: str, when, measure: str, indicator: str | None) -> pd.DataFrame:
    data = review_data()
    gaps = _force(version, when)[1] if measure == "gaps" else None
    return force_map(data, when, measure, indicator=indicator, gaps=gaps)


version, when = data_version(), as_at()
st.title("Commissioned services in Lancashire")
st.caption("Need, plans and activity for each place-based area, reviewed for gaps, duplication and inequity. "
           f"As at {when:%d %B %Y}.")

figures, counts = _headline(version), _at(version, when)
cols = st.columns(4)
cols[0].metric("Services", f"{counts['services']:,}", help=f"Services current at {when:%d %B %Y}.")
cols[1].metric("Organisations", f"{figures['organisations']:,}")
cols[2].metric("Funds", f"{figures['funds']:,}")
cols[3].metric("Money allocated", money(counts["allocated"]),
               help=f"Awarded or paid allocations of funds begun by {when:%d %B %Y}, each pound counted once.")
notes = [f"{counts['services']:,} services current at {when:%d %B %Y}"]
if counts["planned"] or counts["not_started"]:
    notes.append(f"{counts['planned'] + counts['not_started']:,} more planned or not yet started")
if counts["future"]:
    notes.append(f"{money(counts['future'])} allocated in funds starting later (future money)")
if counts["applied"]:
    notes.append(f"{money(counts['applied'])} applied for (pipeline, not money received)")
st.caption("; ".join(notes) + ".")

with st.spinner("Reviewing the force…"):
    findings, gaps, cliffs = _force(version, when)

left, right = st.columns([3, 2])
with left:
    st.subheader("Map of the place-based areas")
    measure = st.radio("Colour the map by", list(MAP_MEASURES), format_func=MAP_MEASURES.get, horizontal=True,
                       key="overview_measure")
    indicator = None
    if measure == "need":
        ind = review_data().indicators
        names = dict(zip(ind["indicator_key"], ind["name"], strict=False))
        indicator = st.selectbox("Need indicator", list(names), format_func=names.get, key="overview_indicator")
    values = _map(version, when, measure, indicator)
    title = MAP_MEASURES[measure] if measure != "need" else f"{plain(names[indicator])} per 1,000 residents"
    if values["value"].notna().any():
        unit = values["unit"].iloc[0]
        fig = choropleth(values, level="area", value="value", title=title, unit=unit, hover=["value"])
        st.plotly_chart(fig, width="stretch", key="overview_map")
        if measure == "funding":
            st.caption(f"Awarded or paid allocations of every fund begun by {when:%d %B %Y} (later funds are future "
                       "money; applications are not money); an allocation to several areas is shared over them by "
                       "population, and one naming no area covers the whole force.")
        if values["is_estimate"].any():
            st.caption("Some values rest on estimated populations or shares (estimate). " + ESTIMATE_NOTE)
    else:
        st.info("No figures for this measure in any area. Choose another measure or indicator.")

with right:
    st.subheader("Top gaps")
    top = [f for f in findings if f["kind"] == "gap"][:5]
    if top:
        for f in top:
            st.markdown("- " + escape(f["sentence"]) + (" *(estimate)*" if f["is_estimate"] else ""))
    else:
        st.info("No gaps at this date. Try another \"as at\" date in the sidebar.")
    st.subheader("Funding cliffs in the next 12 months")
    cliff_sentences = [f for f in findings if f["kind"] == "cliff"][:5]
    if cliff_sentences:
        for f in cliff_sentences:
            st.markdown("- " + escape(f["sentence"]))
        # The force's total and its breakdown by theme, each cell formatted as the sentence formats it.
        st.dataframe(cliffs, hide_index=True, width="stretch", key="overview_cliffs")
    else:
        st.info("No funding ends in the 12 months after this date. Move the \"as at\" date to look further ahead.")

all_briefings(when)
