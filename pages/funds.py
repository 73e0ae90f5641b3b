"""Funds for OPCC staff, by financial year (April to March): at a glance first (each fund's money as one bar:
allocated, applied for, unallocated), then where the chosen funds' money went (fund -> recipient -> area),
funding per head by area, payment phasing and when each fund's money ends. The year and the funds chosen live in
the URL (?year=2013-14&fund=csg-2013-14), so a link shows a colleague exactly this view."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from components import fund_charts as charts
from components.chart_data import chart_with_data
from components.context import as_at, cached, data_version, database, review_data
from components.format import ESTIMATE_NOTE, day, escape, money_text
from components.tables import date_col, estimate_cells, labels, money_styled, text_widths
from services_db import funds

GROUP_LABELS = {"recipient": "Recipient", "purpose": "Purpose", "priorities": "Priority", "area": "Area"}


@cached
def _schedules(version: str) -> pd.DataFrame:
    return funds.allocation_schedules(database())


@cached
def _year(version: str, year: str, when) -> funds.FundYear:
    return funds.fund_year(review_data(), year, when)


@cached
def _breakdown(version: str, chosen: tuple[str, ...]) -> funds.FundBreakdown:
    return funds.fund_breakdown(review_data(), chosen, _schedules(version))


@cached
def _timeline(version: str) -> pd.DataFrame:
    return funds.funding_end_timeline(review_data())


@cached
def _colours(version: str) -> dict[str, str]:
    """Every fund's colour, over all funds, so a fund is the same colour whatever year or funds are chosen."""
    return charts.fund_colours(review_data().funds["fund_key"])


@cached
def _figures(version: str, year: str, when: dt.date, chosen: tuple[str, ...]) -> dict:
    """The page's charts, built once per data version and choice (a figure costs milliseconds to build)."""
    fy, b, colours = _year(version, year, when), _breakdown(version, chosen), _colours(version)
    year_keys = fy.funds["fund_key"].tolist()
    return {
        "bars": charts.allocation_bars_figure(fy.funds),
        "flow": charts.flow_figure(b.flows, colours),
        "per_head": charts.per_head_figure(b.by_area),
        "phasing": charts.phasing_figure(b.phasing),
        "timeline": charts.end_timeline_figure(_timeline(version), colours, year_keys, when),
    }


MONEY = ("Total (£)", "Allocated (£)", "Applied for, not awarded (£)", "Unallocated (£)", "Amount (£)",
         "Money ending (£)", "Paid (£)", "Allocated (£) ", "Applied for (£)")


def _year_section(version: str, fy: funds.FundYear, when: dt.date, figs: dict) -> None:
    """The year's funds at a glance: totals, one bar per fund, then the table of funds."""
    summary = fy.funds
    st.subheader(f"Funds in {fy.year}")
    c = st.columns(4)
    c[0].metric("Total", money_text(fy.total, exact=False))
    c[1].metric("Allocated (awarded or paid)", money_text(fy.allocated, exact=False))
    c[2].metric("Applied for, not awarded", money_text(fy.applied, exact=False),
                help="Applications (pipeline): money asked for, not received. Never counted as allocated.")
    c[3].metric("Unallocated", "not known" if pd.isna(fy.unallocated) else money_text(fy.unallocated,
                                                                                             exact=False))
    chart_with_data(figs["bars"], charts.allocation_bar_table(summary), key="funds_bars", as_at=when,
                    title=f"each fund's money, funds of {fy.year}", empty="No funds recorded for this year.",
                    money_columns=MONEY)
    for sentence in charts.unknown_sentences(summary):
        st.caption(escape(sentence))
    # key columns first: the amounts stay in view at 1440 px; owner last
    table = pd.DataFrame({
        "Fund": summary["name"], "Total (£)": summary["total"], "Allocated (£)": summary["allocated"],
        "Applied for (£)": summary["applied"], "Unallocated (£)": summary["unallocated"],
        "Allocated (%)": (summary["share_allocated"] * 100).round(1), "Allocations": summary["allocations"],
        f"At {when:%-d %b %Y}": [f"future: starts {day(s)}" if f else "" for s, f in
                                zip(summary["starts"], summary["is_future"], strict=True)],
        "Estimates": summary["has_estimates"].map({True: "some estimates", False: ""}),
        "Owner": summary["owner"],
    })
    st.dataframe(money_styled(table, MONEY), hide_index=True, width="stretch", key="funds_summary",
                 column_config=text_widths(table) | {
                     "Owner": st.column_config.TextColumn("Owner", width="small"),
                     "Allocated (%)": st.column_config.NumberColumn("Allocated (%)", format="%.1f%%")})
    if fy.future:
        one = fy.future == 1
        st.caption(f"{charts.count_text(fy.future, 'fund')} of this year {'starts' if one else 'start'} after "
                   f"{when:%-d %B %Y} (the \"as at\" date): {'its' if one else 'their'} allocations are future money, "
                   "not money received by that date.")
    if fy.has_estimates:
        st.caption(ESTIMATE_NOTE)


def _breakdown_section(version: str, when: dt.date, b: funds.FundBreakdown, figs: dict) -> None:
    """Where the chosen funds' money went, who applied, per head by area, payments."""
    st.subheader("Where the money went")
    chart_with_data(figs["flow"], charts.flow_table(b.flows), key="funds_flow", as_at=when,
                    title="allocations by fund, recipient and area", empty="No money allocated in these funds.",
                    money_columns=MONEY)
    st.caption("Money only (awarded or paid). An allocation to several areas is shared over them by population; one "
               "naming no area covers the whole force.")
    by = st.radio("Group the allocations by", list(GROUP_LABELS), horizontal=True, key="funds_by",
                  format_func=GROUP_LABELS.get)
    grouped = b.grouped(by).rename(columns={"group": GROUP_LABELS[by], "amount": "Allocated (£)"})
    st.dataframe(money_styled(grouped[["Allocated (£)", GROUP_LABELS[by]]], MONEY), hide_index=True,
                 width="stretch", key="funds_grouped",
                 column_config={"Allocated (£)": st.column_config.Column("Allocated (£)", width="small")})
    if len(b.pipeline):
        st.markdown(f"**Applications (pipeline)**: {money_text(b.applied)} applied for and not awarded. "
                    "Not money received, and not counted in the allocations above.")
        pipeline = b.pipeline.rename(columns={
            "fund": "Fund", "recipient": "Applicant", "purpose": "Purpose", "amount": "Applied for (£)",
            "planned_start": "From", "planned_end": "To"})[
            ["Applied for (£)", "Applicant", "Fund", "Purpose", "From", "To"]]
        st.dataframe(money_styled(pipeline, MONEY), hide_index=True, width="stretch", key="funds_pipeline",
                     column_config=text_widths(pipeline) | {"From": date_col("From"), "To": date_col("To")})
    with st.expander(f"Every allocation line ({charts.count_text(len(b.lines), 'line')})"):
        lines = pd.DataFrame({  # the estimate flag beside the amount it qualifies
            "Amount (£)": b.lines["amount"], "Estimate": estimate_cells(b.lines["is_estimate"]),
            "Recipient": b.lines["recipient"], "Fund": b.lines["fund"], "From": b.lines["planned_start"],
            "To": b.lines["planned_end"], "Purpose": b.lines["purpose"], "Priorities": b.lines["priorities"]})
        st.dataframe(money_styled(lines, MONEY), hide_index=True, width="stretch", key="funds_lines",
                     column_config=text_widths(lines) | {"From": date_col("From"), "To": date_col("To")})

    st.subheader("Funding per head by area")
    per_head = b.by_area.rename(columns={"name": "Area", "amount": "Allocated (£)", "population": "Residents",
                                         "per_1000": "£ per 1,000 residents"})[
        ["Area", "Allocated (£)", "£ per 1,000 residents", "Residents"]]
    chart_with_data(figs["per_head"], per_head, key="funds_per_head", as_at=when,
                    title="allocated funding per head by area", empty="No money allocated.", money_columns=MONEY,
                    column_config={"£ per 1,000 residents": st.column_config.NumberColumn(format="£%.0f"),
                                   "Residents": st.column_config.NumberColumn(format="%,.0f")})
    st.caption("Populations are estimates (2011 Census mean per LSOA).")
    st.subheader("Payment phasing")
    phasing = b.phasing.rename(columns={"quarter": "Financial quarter", "amount": "Paid (£)"})
    chart_with_data(figs["phasing"], phasing, key="funds_phasing", as_at=when,
                    title="payments by financial quarter", empty="No payment dates recorded for these allocations.",
                    money_columns=MONEY)


def _timeline_section(version: str, when: dt.date, year: str, figs: dict) -> None:
    """When each fund's money ends, across all funds (the year's funds in full colour)."""
    st.subheader("When funding ends, across all funds")
    timeline = _timeline(version)
    chart_with_data(figs["timeline"], charts.end_table(timeline), key="funds_timeline", as_at=when,
                    title="when each fund's money ends", empty="No end dates recorded for any allocation.",
                    money_columns=MONEY, column_config={"Ends": date_col("Ends")})
    st.caption(f"Every grant counts: a marker stands for all the grants of a fund ending that day, and says how many. "
               f"Funds of {year} in full colour. Money only (awarded or paid); applications are not drawn.")
    own = int(timeline["from_fund_end"].sum()) if len(timeline) else 0
    if own:
        st.caption(f"{charts.count_text(own, 'allocation')} with no end date of its own end with their fund.")


def _on_year() -> None:
    """A new year: into the URL, and all its funds chosen (the last year's choices are no option of this one)."""
    st.session_state.pop("funds_chosen", None)
    st.query_params["year"] = st.session_state["funds_year"]
    st.query_params.pop("fund", None)


def _on_funds(every: list[str]) -> None:
    """The funds chosen into the URL: none named when all are (the year's default)."""
    chosen = st.session_state.get("funds_chosen") or []
    if set(chosen) == set(every) or not chosen:
        st.query_params.pop("fund", None)
    else:
        st.query_params["fund"] = list(chosen)


def _from_url(years: list[str]) -> str | None:
    """The year (and funds) a link asks for, put into the widgets' state before they are drawn. A link's year that
    no fund has exactly (2015-16) opens the fund year covering it, and says so."""
    asked = st.query_params.get("year")
    asked_funds = st.query_params.get_all("fund")
    year = funds.year_asked(years, asked)
    if year is None and asked_funds:
        year = funds.year_of_fund(review_data(), asked_funds[0])
    if year is not None and year != st.session_state.get("funds_year"):
        st.session_state["funds_year"] = year
        st.session_state.pop("funds_chosen", None)
        if asked_funds:
            st.session_state["funds_chosen"] = asked_funds
    return asked if asked and year and asked != year else None


def main() -> None:
    version, when = data_version(), as_at()
    st.title("Funds")
    years = funds.financial_years(review_data())
    if not years:
        st.info("No funds recorded yet. Add funds and allocations on the Data page.")
        return
    asked = _from_url(years)
    if st.session_state.get("funds_year") not in years:
        st.session_state["funds_year"] = years[0]
    year = st.selectbox("Financial year (April to March; a fund over several years is listed by its span)", years,
                        key="funds_year", on_change=_on_year)
    st.query_params["year"] = year
    if asked:
        st.caption(escape(f"No fund is recorded for {asked} alone: showing the funds of {year}, which covers it."))
    fy = _year(version, year, when)
    names = labels(fy.funds, "fund_key")
    if any(k not in names for k in st.session_state.get("funds_chosen") or []):  # a link's fund of another year
        kept = [k for k in st.session_state["funds_chosen"] if k in names]
        st.session_state["funds_chosen"] = kept or list(names)
    if "funds_chosen" not in st.session_state:
        st.session_state["funds_chosen"] = list(names)
    chosen = tuple(st.session_state["funds_chosen"]) or tuple(names)
    figs = _figures(version, year, when, chosen)
    _year_section(version, fy, when, figs)
    chosen = st.multiselect("Funds to break down", list(names), format_func=names.get, key="funds_chosen",
                            on_change=_on_funds, args=(list(names),))
    if not chosen:
        st.info("Choose at least one fund to see its allocations.")
        _timeline_section(version, when, year, figs)
        return
    _breakdown_section(version, when, _breakdown(version, tuple(chosen)), figs)
    _timeline_section(version, when, year, figs)


main()
