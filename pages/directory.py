"""Service directory for commissioners: search and filter every service, map the results, download them, and open
any service's detail view (addressable as ?service=<key or id>)."""

import datetime as dt

import pandas as pd
import streamlit as st

from components.context import as_at, cached, data_version, database, review_data
from components.format import day, escape, estimate, money, plain
from components.maps import choropleth
from components.tables import date_col, estimate_cells, labels, money_col
from services_db.counting import CURRENT, ENDED, NOT_STARTED, PLANNED, WITHDRAWN
from services_db.directory import (
    FUNDING_NOT_RECORDED,
    DirectoryChoices,
    DirectoryFilter,
    DirectoryResults,
    ServiceDetail,
    covers_choices,
    directory_choices,
    directory_frame,
    directory_results,
    export_frame,
    service_detail,
    service_extras,
)
from services_db.queries import target_group_names
from services_db.transfer.spreadsheet import to_csv_bytes, to_excel_bytes

LEVELS = {"place-based area": "area", "district": "district", "LSOA": "lsoa"}  # the "Covers" choices
FACTS = {"status": "Status", "state": "At {when:%d %B %Y}", "themes": "Themes", "target_groups": "Target groups",
         "commissioners": "Commissioners", "coverage": "Covers", "eligibility": "Eligibility",
         "referral_route": "Referral route", "contact": "Contact", "capacity": "Capacity", "address": "Address",
         "last_reviewed": "Last reviewed", "source": "Source"}


@cached
def _frame(version: str, when) -> pd.DataFrame:
    return directory_frame(review_data(), service_extras(database()), when)


@cached
def _groups(version: str) -> dict[str, str]:
    return target_group_names(database())


@cached
def _choices(version: str, when) -> DirectoryChoices:
    return directory_choices(_frame(version, when))


@cached
def _detail(version: str, when, wanted: str) -> ServiceDetail | None:
    return service_detail(review_data(), _frame(version, when), wanted, _groups(version))


@st.cache_data(show_spinner=False, max_entries=8)  # each entry holds two files of up to every service
def _downloads(version: str, when, ids: tuple[int, ...]) -> tuple[bytes, bytes]:
    frame = _frame(version, when)
    out = export_frame(frame[frame["service_id"].isin(ids)])
    return to_csv_bytes(out), to_excel_bytes(out, "Services")


def _back() -> None:
    """Back to the list, as a callback so the page runs once, without the service. (Deleting the parameter and then
    calling st.rerun() did nothing: the rerun starts from the query string the run began with, which still names
    the service. And the picker's kept choice would open the service again.)"""
    st.query_params.pop("service", None)
    st.session_state.pop("dir_open", None)


def _detail_view(version: str, when: dt.date, wanted: str) -> None:
    """One service, opened by ?service=<key or id>."""
    detail = _detail(version, when, wanted)
    st.button("← Back to the directory", key="back", on_click=_back)
    if detail is None:
        st.warning(f"There is no service “{escape(wanted)}”. Search the directory below.")
        return
    st.header(escape(detail.name))
    st.caption(f"{escape(detail.provider or 'Provider not recorded')} "
               f"({escape(detail.provider_sector or 'sector unknown')}) · key {escape(detail.key)}")
    if detail.description:
        st.markdown(escape(detail.description))
    c = st.columns(4)
    c[0].metric("Annual funding", FUNDING_NOT_RECORDED if detail.annual_funding is None  # unknown is not £0
                else estimate(money(detail.annual_funding), detail.funding_is_estimate))
    c[1].metric("Prevention tier", detail.tier.capitalize() if detail.tier else "not recorded")
    c[2].metric("Starts", day(detail.start_date))
    c[3].metric("Ends", estimate(day(detail.end_date), detail.end_date_is_estimate))
    facts = detail.facts | {"commissioners": detail.facts["commissioners"] or "None recorded",
                            "last_reviewed": day(detail.facts["last_reviewed"])}
    st.markdown("\n".join(f"- **{FACTS[k].format(when=when)}:** {escape(v) if v else '–'}" for k, v in facts.items()))
    st.markdown("**Funding lines**")
    if detail.funding_lines.empty:
        st.info("No funding lines recorded for this service.")
    else:
        lines = detail.funding_lines.assign(is_estimate=estimate_cells(detail.funding_lines["is_estimate"]))
        st.dataframe(lines.rename(columns={"commissioner": "Commissioner", "fund": "Fund",
                                           "annual_amount": "£ a year", "start_date": "From",
                                           "end_date": "To", "is_estimate": "Estimate"}),
                     hide_index=True, width="stretch",
                     column_config={"£ a year": money_col("£ a year"), "From": date_col("From"),
                                    "To": date_col("To")})
    st.markdown("**Plan priorities it answers**")
    if len(detail.priorities):
        st.dataframe(detail.priorities, hide_index=True, width="stretch")
    else:
        st.info("Linked to no priority.")
    st.plotly_chart(choropleth(detail.districts, level="district", value="services",
                               title=f"Where {plain(detail.name)} works (districts covered)", unit="covered"),
                    width="stretch", key="detail_map")


def _filters(version: str, when: dt.date) -> DirectoryFilter:
    """The search box and filters, as a DirectoryFilter."""
    data, choices, groups = review_data(), _choices(version, when), _groups(version)
    themes = labels(data.themes, "theme_key")
    with st.container(border=True):
        keyword = st.text_input("Search names and descriptions", key="dir_keyword",
                                placeholder="e.g. domestic abuse, triage, Preston")
        c1, c2, c3, c4 = st.columns(4)
        f_themes = c1.multiselect("Theme", list(themes), format_func=themes.get, key="dir_themes")
        f_groups = c2.multiselect("Target group", list(groups), format_func=groups.get, key="dir_groups")
        f_tiers = c3.multiselect("Prevention tier", ["primary", "secondary", "tertiary"], key="dir_tiers")
        f_sectors = c4.multiselect("Provider sector", choices.sectors, key="dir_sectors")
        c5, c6, c7, c8 = st.columns(4)
        level = c5.selectbox("Covers", ["any area", *LEVELS], key="dir_level")
        covers = None
        if level != "any area":
            label = covers_choices(data.areas, LEVELS[level])
            covers = c5.selectbox(f"Covers this {level}", list(label), format_func=lambda c: f"{label[c]} ({c})",
                                  key=f"dir_covers_{LEVELS[level]}")
        f_comm = c6.multiselect("Commissioner", choices.commissioners, key="dir_commissioners")
        f_prov = c7.multiselect("Provider", choices.providers, key="dir_providers")
        use_end = c8.checkbox("Funding ends before…", key="dir_use_end")
        ends = c8.date_input("Funding ends before", value=when + dt.timedelta(days=365), key="dir_ends",
                             disabled=not use_end, label_visibility="collapsed")
        f_states = st.multiselect(
            f"At {when:%d %B %Y} the service is", [CURRENT, PLANNED, NOT_STARTED, ENDED, WITHDRAWN],
            default=[CURRENT], key="dir_states",
            help="Current at the \"as at\" date by default; planned, not yet started, ended and withdrawn services "
                 "can be added. Totals count current services.")
    return DirectoryFilter(keyword=keyword, themes=f_themes, target_groups=f_groups, tiers=f_tiers, covers=covers,
                           commissioners=f_comm, providers=f_prov, sectors=f_sectors,
                           funding_ends_before=ends if use_end else None, states=f_states)


def _results_view(version: str, when: dt.date, found: DirectoryResults) -> None:
    """The matching services: totals, table, downloads, a picker to open one, and a map."""
    rows = found.rows
    if rows.empty:
        st.info("No services match. Remove a filter or shorten the search words.")
        return
    unrecorded = (f" (recorded; the funding of {found.unrecorded} of them is {FUNDING_NOT_RECORDED})."
                  if found.unrecorded else ".")
    st.markdown(f"**{len(rows)} of {found.of} services**; {found.current} of them current at {when:%d %B %Y}, "
                f"with annual funding {money(found.current_funding)}" + unrecorded)
    table = pd.DataFrame({
        "Service": rows["name"], "At this date": rows["state"], "Provider": rows["provider"],
        "Sector": rows["provider_sector"], "Commissioners": rows["commissioners"], "Tier": rows["tier"],
        "Themes": rows["themes"], "Annual funding (£)": rows["annual_funding"], "Funding": rows["funding_note"],
        "Funding ends": rows["funding_ends"], "Covers": rows["coverage"], "Details": "?service=" + rows["key"],
    })
    st.dataframe(table, hide_index=True, width="stretch", key="dir_table",
                 column_config={"Annual funding (£)": money_col("Annual funding (£)"),
                                "Funding ends": date_col("Funding ends"),
                                "Details": st.column_config.LinkColumn("Details", display_text="open")})
    csv, xlsx = _downloads(version, when, tuple(int(i) for i in rows["service_id"]))
    d1, d2, d3 = st.columns([1, 1, 2])
    d1.download_button("Download CSV", csv, "services.csv", "text/csv", key="dl_csv")
    d2.download_button("Download Excel", xlsx, "services.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx")
    names = labels(rows, "key")
    pick = d3.selectbox("Open a service", ["", *names], key="dir_open",
                        format_func=lambda k: names[k] if k else "Choose a service…")
    if pick:
        st.query_params["service"] = pick
        st.rerun()
    st.plotly_chart(choropleth(found.districts, level="district", value="services",
                               title="Matching services per district", unit="services"),
                    width="stretch", key="dir_map")


def main() -> None:
    version, when = data_version(), as_at()
    st.title("Service directory")
    wanted = st.query_params.get("service")
    if wanted:
        _detail_view(version, when, wanted)
        return
    flt = _filters(version, when)
    _results_view(version, when, directory_results(review_data(), _frame(version, when), flt))


main()
