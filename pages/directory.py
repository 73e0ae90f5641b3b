"""Service directory for commissioners: search and filter every service, find the services covering a place, see
the results as a table or as cards, map them, download them, and open any service's detail view.

Every filter, the place, the view and the opened service live in the URL (the widgets are bound to query
parameters, ?theme=Mental+health&place=Pendle&view=Cards, and the service is ?service=<key or id>), so a
commissioner can send the link and a colleague opens the same list."""

import datetime as dt

import pandas as pd
import streamlit as st

from components.chart_data import chart_with_data, map_table
from components.context import as_at, cached, data_version, database, review_data
from components.format import day, escape, plain
from components.maps import choropleth, clicked_code, same_everywhere
from components.tables import date_col, estimate_cells, labels, money_col
from services_db.counting import CURRENT, ENDED, NOT_STARTED, PLANNED, WITHDRAWN
from services_db.directory import (
    CARD_LIMIT,
    DirectoryChoices,
    DirectoryFilter,
    DirectoryResults,
    Place,
    ServiceCard,
    ServiceDetail,
    UnknownPlace,
    directory_choices,
    directory_frame,
    directory_results,
    export_frame,
    find_place,
    recorded,
    results_summary,
    service_cards,
    service_detail,
    service_extras,
)
from services_db.queries import target_group_names
from services_db.transfer.spreadsheet import to_csv_bytes, to_excel_bytes

URL = dict(bind="query-params", persist_state="page")  # a filter is in the link, and kept while a service is open
VIEWS = ("Table", "Cards")
FACTS = {"status": "Status", "state": "At {when:%-d %B %Y}", "themes": "Themes", "target_groups": "Target groups",
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
    # The figure large and what qualifies it under it ("a year from April 2014", "estimate"), so neither is cut
    # off; "not recorded" when unknown: never a false £0.
    figure, words = detail.funding_headline
    c[0].metric("Annual funding", figure, words or None, delta_color="off", delta_arrow="off")
    c[1].metric("Prevention tier", detail.tier.capitalize() if detail.tier else "not recorded")
    c[2].metric("Starts", day(detail.start_date))
    c[3].metric("Ends", day(detail.end_date), "estimate" if detail.end_date_is_estimate else None,
                delta_color="off", delta_arrow="off")
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
                     column_config={"Commissioner": st.column_config.TextColumn("Commissioner", width=230),
                                    "Fund": st.column_config.TextColumn("Fund", width=260),
                                    "£ a year": money_col("£ a year"), "From": date_col("From"),
                                    "To": date_col("To")})
    st.markdown("**Plan priorities it answers**")
    if len(detail.priorities):
        st.dataframe(detail.priorities.rename(columns={"plan": "Plan", "priority": "Priority"}),
                     hide_index=True, width="stretch")
    else:
        st.info("Linked to no priority.")
    if same_everywhere(detail.districts, "services") is not None:  # all covered or none: a flat map says nothing
        covered = bool(detail.districts["services"].iloc[0])
        st.info(f"{'Covers every' if covered else 'Covers no'} district of the force ({len(detail.districts)}).")
    else:
        title = f"Where {detail.name} works (1 = district covered)"
        chart_with_data(choropleth(detail.districts, level="district", value="services", integer=True,
                                   title=plain(title), unit="covered"),
                        map_table(detail.districts, value="services", label="Covered (1 = yes)", place="District"),
                        key="detail_map", title=title, as_at=when)


def _place(typed: str) -> Place | None:
    """The place typed in the place box, or None (nothing typed, or unknown: said so with the nearest names)."""
    try:
        return find_place(review_data().areas, typed)
    except UnknownPlace as e:
        quoted = [f"“{escape(n)}”" for n in e.suggestions]
        nearest = ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else "".join(quoted)
        st.warning(f"No place-based area, district or LSOA is called “{escape(e.given)}”."
                   + (f" Did you mean {nearest}?" if nearest else " Type an area, district or LSOA name or code.")
                   + " The list below is not limited to a place.")
        return None


def place_text(areas: pd.DataFrame, code: str) -> str:
    """What to put in the place box for the area `code`: its name when typing that name finds this same area (an
    area is found before a district of the same name), else its code."""
    named = areas.loc[areas["code"] == code, "name"]
    name = str(named.iloc[0]) if len(named) else ""
    try:
        found = find_place(areas, name) if name else None
    except UnknownPlace:
        found = None
    return name if found is not None and found.code == code else code


def _map_clicked() -> None:
    """A district clicked on the map: the place box (and ?place=) set to it, as if typed. A callback, so it runs
    before the box is drawn in the run that follows."""
    code = clicked_code(st.session_state.get("dir_map"))
    if code:
        st.session_state["place"] = place_text(review_data().areas, code)


def _filters(version: str, when: dt.date) -> tuple[DirectoryFilter, Place | None]:
    """The search box, the place and the filters, as a DirectoryFilter (and the place found, to name it). Each
    widget is bound to the URL under its key, so the link carries them."""
    data, choices, groups = review_data(), _choices(version, when), _groups(version)
    themes = labels(data.themes, "theme_key")
    with st.container(border=True):
        k1, k2 = st.columns([3, 2])
        keyword = k1.text_input("Search names and descriptions", key="q",
                                placeholder="e.g. domestic abuse, triage, Preston", **URL)
        typed = k2.text_input("Services covering a place", key="place", **URL,
                              placeholder="an area, district or LSOA: Pendle, E01025174",
                              help="A place-based area, a district or an LSOA, by name or code: the services "
                                   "covering any part of it.")
        place = _place(typed)
        c1, c2, c3, c4 = st.columns(4)
        f_themes = c1.multiselect("Theme", list(themes), format_func=themes.get, key="theme", **URL)
        f_groups = c2.multiselect("Target group", list(groups), format_func=groups.get, key="group", **URL)
        f_tiers = c3.multiselect("Prevention tier", ["primary", "secondary", "tertiary"], key="tier", **URL)
        f_sectors = c4.multiselect("Provider sector", choices.sectors, key="sector", **URL)
        c6, c7, c8 = st.columns(3)
        f_comm = c6.multiselect("Commissioner", choices.commissioners, key="commissioner", **URL)
        f_prov = c7.multiselect("Provider", choices.providers, key="provider", **URL)
        ends = c8.date_input("Funding ends before", value=None, key="ends_before", format="DD/MM/YYYY", **URL,
                             help="Leave empty for any end date.")
        f_states = st.multiselect(
            f"At {when:%-d %B %Y} the service is", [CURRENT, PLANNED, NOT_STARTED, ENDED, WITHDRAWN],
            default=[CURRENT], key="state", **URL,
            help="Current at the \"as at\" date by default; planned, not yet started, ended and withdrawn services "
                 "can be added. Totals count current services.")
    flt = DirectoryFilter(keyword=keyword, themes=f_themes, target_groups=f_groups, tiers=f_tiers,
                          covers=place.code if place else None, commissioners=f_comm, providers=f_prov,
                          sectors=f_sectors, funding_ends_before=ends, states=f_states)
    return flt, place


def _open(key: str) -> None:
    """Open a service from its card: a callback, so the run that follows already has ?service=<key>."""
    st.query_params["service"] = key


def _card(card: ServiceCard) -> None:
    """One service as a card: what a directory user scans for, each missing field said so."""
    def said(value: object) -> str:
        return escape(value) if value else "not recorded"

    with st.container(border=True):
        st.markdown(f"**{escape(card.name)}**")
        st.caption(f"{escape(card.state.capitalize())} · annual funding {escape(card.funding)}")
        st.markdown(f"**Provider:** {said(card.provider)}  \n"
                    f"**For:** {said(card.for_whom)}  \n"
                    f"**Where:** {said(card.where)}  \n"
                    f"**Contact:** {said(card.contact)}  \n"
                    f"**Last reviewed:** {day(card.last_reviewed) if card.last_reviewed else 'not recorded'}")
        st.button("Open details", key=f"card_{card.key}", on_click=_open, args=(card.key,),
                  help=f"Open {escape(card.name)}")


def _cards_view(version: str, found: DirectoryResults) -> None:
    cards = service_cards(found.rows, _groups(version))
    if len(found.rows) > len(cards):
        st.caption(f"The first {CARD_LIMIT} of {len(found.rows)} services as cards: narrow the search, or see "
                   "them all as the table.")
    columns = st.columns(3)
    for i, card in enumerate(cards):
        with columns[i % 3]:
            _card(card)


def _table_view(found: DirectoryResults) -> None:
    """The list as a table: the columns a commissioner compares first (service, provider, commissioners, funding,
    state) sized to be seen together at 1440 px; the rest scroll."""
    rows = found.rows

    def said(column: str, missing: str = "not recorded") -> pd.Series:  # a blank cell would read as nothing
        return rows[column].map(lambda v: v if recorded(v) is not None else missing)

    table = pd.DataFrame({
        "Service": rows["name"], "Provider": said("provider"), "Commissioners": said("commissioners", "none recorded"),
        "Annual funding": rows["funding_text"], "At this date": rows["state"],
        "Funding ends": rows["funding_ends"].map(lambda v: day(v) if recorded(v) is not None else "no funding line"),
        "Themes": said("themes"), "Covers": said("coverage"), "Tier": said("tier"), "Sector": said("provider_sector"),
        "Details": "?service=" + rows["key"],
    })
    text = st.column_config.TextColumn
    st.dataframe(table, hide_index=True, width="stretch", key="dir_table",
                 column_config={"Service": text("Service", width=250), "Provider": text("Provider", width=170),
                                "Commissioners": text("Commissioners", width=190),
                                "Annual funding": text("Annual funding", width=150),
                                "At this date": text("At this date", width=95),
                                "Funding ends": text("Funding ends", width=120),
                                "Details": st.column_config.LinkColumn("Details", display_text="open")})


def _results_view(version: str, when: dt.date, found: DirectoryResults, place: Place | None) -> None:
    """The matching services: totals, the table or the cards, downloads, a picker to open one, and a map."""
    rows = found.rows
    if place is not None:
        st.caption(f"Services covering any part of {escape(place.described)}.")
    if rows.empty:
        st.info("No services match. Remove a filter or shorten the search words.")
        return
    st.markdown(results_summary(found, when))
    view = st.segmented_control("Show as", VIEWS, default=VIEWS[0], required=True, key="view", **URL)
    if view == "Cards":
        _cards_view(version, found)
    else:
        _table_view(found)
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
    n = same_everywhere(found.districts, "services")
    if n is not None:  # one value everywhere: a one-colour map would say only this
        st.info(f"Every district of the force ({len(found.districts)}) has {int(n)} of these services covering "
                "it, so there is no map to draw.")
    else:
        title = "Matching services per district"
        chart_with_data(choropleth(found.districts, level="district", value="services", integer=True, title=title,
                                   unit="services", clickable=True),
                        map_table(found.districts, value="services", label="Matching services", place="District"),
                        key="dir_map", title=title, as_at=when, on_select=_map_clicked,
                        caption="Click a district to list the services covering it (click the dot at its centre).")


def main() -> None:
    version, when = data_version(), as_at()
    st.title("Service directory")
    wanted = st.query_params.get("service")
    if wanted:
        _detail_view(version, when, wanted)
        return
    flt, place = _filters(version, when)
    _results_view(version, when, directory_results(review_data(), _frame(version, when), flt), place)


main()
