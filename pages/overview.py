"""Overview: the force at a glance: headline figures, a map by place-based area, the top gaps and the funding
cliffs of the next 12 months. In the national view (`services_db.national.is_national`), the nation force by force
from aggregates counted in the database, without reading the national snapshot."""

import datetime as dt

import pandas as pd
import streamlit as st

from components.briefing import all_briefings
from components.chart_data import chart_with_data, map_table
from components.context import as_at, cached, data_version, database, review_data
from components.format import ESTIMATE_NOTE, escape, money, plain
from components.fund_charts import count_text
from components.maps import choropleth
from components.national import (
    COLUMN_CONFIG,
    MONEY_COLUMNS,
    force_table,
    national_footer,
    per_1000_figure,
    per_1000_order,
    per_1000_table,
)
from components.tables import labels, money_styled, shown_frame, text_widths
from services_db.areas import MAP_MEASURES, force_figures, force_map
from services_db.national import is_national, national_overview
from services_db.queries import headline_figures
from services_db.review import review_force

TOP = 5  # sentences listed under each heading


@cached
def _headline(version: str) -> dict:
    return headline_figures(database())


@cached
def _at(version: str, when) -> dict:
    return force_figures(review_data(), when)


@cached
def _force(version: str, when) -> tuple[list[dict], list[dict], pd.DataFrame, pd.DataFrame]:
    """The force review's top gap and cliff sentences, its gap table and the cliffs' table as shown."""
    f = review_force(review_data(), when)

    def top(kind: str) -> list[dict]:
        return [dict(sentence=x.sentence, is_estimate=x.is_estimate) for x in f.of_kind(kind)[:TOP]]

    return top("gap"), top("cliff"), f.tables["gaps"], shown_frame(f, "cliff")


@cached
def _map(version: str, when, measure: str, indicator: str | None) -> pd.DataFrame:
    gaps = _force(version, when)[2] if measure == "gaps" else None
    return force_map(review_data(), when, measure, indicator=indicator, gaps=gaps)


def _headline_section(version: str, when: dt.date) -> None:
    figures, counts = _headline(version), _at(version, when)
    cols = st.columns(4)
    cols[0].metric("Services", f"{counts['services']:,}", help=f"Services current at {when:%-d %B %Y}.")
    cols[1].metric("Organisations", f"{figures['organisations']:,}")
    cols[2].metric("Funds", f"{figures['funds']:,}")
    cols[3].metric("Money allocated", money(counts["allocated"]),
                   help=f"Awarded or paid allocations of funds begun by {when:%-d %B %Y}, each pound counted once.")
    notes = [f"{counts['services']:,} services current at {when:%-d %B %Y}"]
    if counts["planned"] or counts["not_started"]:
        notes.append(f"{counts['planned'] + counts['not_started']:,} more planned or not yet started")
    if counts["future"]:
        notes.append(f"{money(counts['future'])} allocated in funds starting later (future money)")
    if counts["applied"]:
        notes.append(f"{money(counts['applied'])} applied for (pipeline, not money received)")
    st.caption("; ".join(notes) + ".")


def _map_section(version: str, when: dt.date) -> None:
    st.subheader("Map of the place-based areas")
    measure = st.radio("Colour the map by", list(MAP_MEASURES), format_func=MAP_MEASURES.get, horizontal=True,
                       key="overview_measure")
    indicator, title = None, MAP_MEASURES[measure]
    if measure == "need":
        names = labels(review_data().indicators, "indicator_key")
        indicator = st.selectbox("Need indicator", list(names), format_func=names.get, key="overview_indicator")
        title = f"{names[indicator]} per 1,000 residents"
    values = _map(version, when, measure, indicator)
    if not values["value"].notna().any():
        st.info("No figures for this measure in any area. Choose another measure or indicator.")
        return
    unit = values["unit"].iloc[0]
    notes = [f"Awarded or paid allocations of every fund begun by {when:%-d %B %Y} (later funds are future money; "
             "applications are not money); an allocation to several areas is shared over them by population, and "
             "one naming no area covers the whole force."] if measure == "funding" else []
    if values["is_estimate"].any():
        notes.append("Some values rest on estimated populations or shares (estimate). " + ESTIMATE_NOTE)
    chart_with_data(choropleth(values, level="area", value="value", title=plain(title), unit=unit),
                    map_table(values, value="value", label=title),
                    key="overview_map", title=title, as_at=when, caption="  \n".join(notes) or None)


def _sentences(findings: list[dict], *, mark_estimates: bool) -> None:
    for f in findings:
        st.markdown("- " + escape(f["sentence"]) + (" *(estimate)*" if mark_estimates and f["is_estimate"] else ""))


def _gaps_and_cliffs(gaps: list[dict], cliffs: list[dict], cliff_table: pd.DataFrame) -> None:
    st.subheader("Top gaps")
    if gaps:
        _sentences(gaps, mark_estimates=True)
    else:
        st.info("No gaps at this date. Try another \"as at\" date in the sidebar.")
    st.subheader("Funding cliffs in the next 12 months")
    if cliffs:
        _sentences(cliffs, mark_estimates=False)
        # The force's total and its breakdown by theme, each cell formatted as the sentence formats it.
        st.dataframe(cliff_table, hide_index=True, width="stretch", key="overview_cliffs")
    else:
        st.info("No funding ends in the 12 months after this date. Move the \"as at\" date to look further ahead.")


@cached
def _national(version: str, when) -> tuple[pd.DataFrame, dict]:
    """The forces' rows and the nation's totals, counted in the database (no snapshot read)."""
    return national_overview(database(), when)


def national_main(version: str, when: dt.date) -> None:
    """The national view's overview: headline figures, the forces' table and known funding per 1,000 residents."""
    summary, totals = _national(version, when)
    st.title("Commissioned services in every force area")
    st.caption(f"The national view: {len(summary)} police force areas, as at {when:%-d %B %Y}. This overview is "
               "counted in the database; the other pages read the whole national snapshot when opened (a wait at "
               "this size), and briefings are made for one force's areas (`SERVICES_DB_FORCE` set to its code).")
    cols = st.columns(4)
    cols[0].metric("Forces", f"{len(summary):,}")
    cols[1].metric("Services", f"{totals['services']:,}",
                   help=f"Services current at {when:%-d %B %Y}, each once (a force's row counts every service "
                        "covering any part of it, so the rows add up to more).")
    cols[2].metric("Residents", "not recorded" if pd.isna(totals["residents"]) else f"{totals['residents']:,.0f}")
    cols[3].metric("Known funding", "not recorded" if pd.isna(totals["known_funding"])
                   else money(totals["known_funding"]),
                   help="A year: the funding lines current at the date of the services current then.")
    notes = [f"Services covering several forces ({totals['multi_force']:,} current at this date) count in the row of "
             "every force they cover; their known funding is shared between those forces by the residents they "
             "cover in each, as the review shares money out, so each pound is in one force's row."]
    if totals["funding_not_recorded"]:
        notes.append(f"The funding of {count_text(totals['funding_not_recorded'], 'current service')} is not recorded: "
                     "counted as unknown, never as £0.")
    if totals["unplaced"]:
        notes.append(f"{count_text(totals['unplaced'], 'current service')} covering no area of any force: in no "
                     "force's row.")
    if totals["unshared"]:
        notes.append(f"{money(totals['unshared'])} of known funding is of services covering no LSOA: in no "
                     "force's row.")
    if summary["residents_is_estimate"].any() or summary["funding_is_estimate"].any():
        notes.append("Figures marked estimate in the table rest on estimated residents or funding, made by a "
                     "documented rule, not taken from a source.")
    st.caption("  \n".join(escape(n) for n in notes))

    st.subheader("Forces")
    table = force_table(summary)
    st.dataframe(money_styled(table, MONEY_COLUMNS), hide_index=True, width="stretch", key="national_forces",
                 column_config=text_widths(table) | COLUMN_CONFIG)
    _, missing = per_1000_order(summary)
    caption = (f"Each bar: a force's share of the known annual funding of the services current at "
               f"{when:%-d %B %Y} that cover it, per 1,000 residents; the grey bar: all forces together.")
    if len(missing):
        caption += (f" No known funding (not drawn; not £0): {', '.join(missing['force_name'])}.")
    title = "Known funding per 1,000 residents, by force"
    chart_with_data(per_1000_figure(summary, totals["per_1000"]), per_1000_table(summary, totals),
                    key="national_per_1000", title=title, as_at=when, caption=escape(caption),
                    money_columns=MONEY_COLUMNS, column_config=COLUMN_CONFIG,
                    csv_footer=national_footer(title, when, version.rsplit("#", 1)[-1]),
                    empty="No force has known funding at this date: no service current then has a current "
                          "funding line. Try another \"as at\" date in the sidebar.")


def main() -> None:
    db = database()
    if is_national(db):
        national_main(db.data_version(), as_at())
        return
    version, when = data_version(), as_at()
    st.title("Commissioned services in Lancashire")
    st.caption("Need, plans and activity for each place-based area, reviewed for gaps, duplication and inequity. "
               f"As at {when:%-d %B %Y}.")
    _headline_section(version, when)
    with st.spinner("Reviewing the force…"):
        gaps, cliffs, _, cliff_table = _force(version, when)
    left, right = st.columns([3, 2])
    with left:
        _map_section(version, when)
    with right:
        _gaps_and_cliffs(gaps, cliffs, cliff_table)
    all_briefings(when)


main()
