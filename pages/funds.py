"""Funds for OPCC staff, by financial year (April to March): totals, allocated and unallocated, where the money
went, funding per head by area, payment phasing and when funding ends."""

import datetime as dt

import pandas as pd
import plotly.express as px
import streamlit as st

from components.context import as_at, cached, data_version, database, review_data
from components.format import ESTIMATE_NOTE, day, money
from components.tables import date_col, estimate_cells, labels, money_col
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
def _figures(version: str, chosen: tuple[str, ...]) -> dict:
    """The four charts of the chosen funds, built once per data version (plotly express is slow to build)."""
    b = _breakdown(version, chosen)
    tree = px.treemap(b.lines.assign(All="All allocations"), path=["All", "fund", "recipient"], values="amount",
                      title="Allocations by fund and recipient (£)")
    tree.update_traces(hovertemplate="%{label}<br>£%{value:,.0f}<extra></extra>")
    bar = px.bar(b.by_area, x="name", y="per_1000", title="Allocated funding per 1,000 residents, by place-based area",
                 labels={"name": "Place-based area", "per_1000": "£ per 1,000 residents"})
    out = {"tree": tree, "per_head": bar, "phasing": None, "timeline": None}
    if not b.phasing.empty:
        out["phasing"] = px.bar(b.phasing, x="quarter", y="amount", title="Payments by financial quarter",
                                labels={"quarter": "Financial quarter (Q1 = April to June)", "amount": "£ paid"})
    if not b.ends.empty:
        ends = b.ends.assign(label=b.ends["recipient"] + " – " + b.ends["amount"].map(money))
        tl = px.timeline(ends, x_start="planned_start", x_end="planned_end", y="label", color="fund",
                         title="Allocation periods (bars end when the funding ends)",
                         labels={"label": "Recipient and amount", "planned_start": "From", "planned_end": "Ends"})
        tl.update_yaxes(autorange="reversed", title="Recipient and amount")
        tl.update_xaxes(title="Date")
        tl.update_layout(height=max(300, 22 * len(ends)))
        out["timeline"] = tl
    return out


def _chart(fig, key: str, empty: str) -> None:
    """The chart, or what is missing when there is none."""
    if fig is None:
        st.info(empty)
    else:
        st.plotly_chart(fig, width="stretch", key=key)


def _year_section(fy: funds.FundYear, when: dt.date) -> None:
    """The year's funds: totals, one row per fund."""
    summary = fy.funds
    st.subheader(f"Funds in {fy.year}")
    c = st.columns(4)
    c[0].metric("Total", money(fy.total))
    c[1].metric("Allocated (awarded or paid)", money(fy.allocated))
    c[2].metric("Applied for (not received)", money(fy.applied))
    c[3].metric("Unallocated", money(fy.unallocated))
    st.dataframe(pd.DataFrame({
        "Fund": summary["name"], "Owner": summary["owner"], "Total (£)": summary["total"],
        "Allocated (£)": summary["allocated"], "Applied for (£)": summary["applied"],
        "Unallocated (£)": summary["unallocated"],
        "Allocated (%)": (summary["share_allocated"] * 100).round(1), "Allocations": summary["allocations"],
        "Estimates": summary["has_estimates"].map({True: "some estimates", False: ""}),
        f"At {when:%d %b %Y}": [f"future: starts {day(s)}" if f else "" for s, f in
                                zip(summary["starts"], summary["is_future"], strict=True)],
    }), hide_index=True, width="stretch", key="funds_summary",
        column_config={k: money_col(k) for k in ("Total (£)", "Allocated (£)", "Applied for (£)", "Unallocated (£)")})
    if fy.future:
        st.caption(f"{fy.future} of these funds start after {when:%d %B %Y} (the \"as at\" date): their allocations "
                   "are future money, not money received by that date.")
    if fy.has_estimates:
        st.caption(ESTIMATE_NOTE)


def _breakdown_section(version: str, chosen: tuple[str, ...]) -> None:
    """Where the chosen funds' money went, who applied, per head by area, payments and end dates."""
    b, figs = _breakdown(version, chosen), _figures(version, chosen)
    st.subheader("Allocations")
    by = st.radio("Group by", list(GROUP_LABELS), horizontal=True, key="funds_by", format_func=GROUP_LABELS.get)
    t1, t2 = st.columns([2, 3])
    t1.dataframe(b.grouped(by).rename(columns={"group": by.capitalize(), "amount": "Allocated (£)"}),
                 hide_index=True, width="stretch", column_config={"Allocated (£)": money_col("Allocated (£)")},
                 key="funds_grouped")
    t2.plotly_chart(figs["tree"], width="stretch", key="funds_tree")
    if len(b.pipeline):
        st.markdown(f"**Applications (pipeline)**: {money(b.applied)} applied for and not yet awarded. "
                    "Not money received, and not counted in the allocations above.")
        st.dataframe(b.pipeline[["fund", "recipient", "purpose", "amount", "planned_start", "planned_end"]].rename(
            columns={"fund": "Fund", "recipient": "Applicant", "purpose": "Purpose", "amount": "Applied for (£)",
                     "planned_start": "From", "planned_end": "To"}), hide_index=True, width="stretch",
            key="funds_pipeline", column_config={"Applied for (£)": money_col("Applied for (£)"),
                                                 "From": date_col("From"), "To": date_col("To")})
    with st.expander("Every allocation line"):
        st.dataframe(b.lines.drop(columns=["area_codes", "fund_key"]).assign(
            is_estimate=estimate_cells(b.lines["is_estimate"])), hide_index=True, width="stretch",
            column_config={"amount": money_col("Amount (£)"), "planned_start": date_col("From"),
                           "planned_end": date_col("To")})

    st.subheader("Funding per head by area")
    st.plotly_chart(figs["per_head"], width="stretch", key="funds_per_head")
    st.caption("Allocations to several areas are shared over them by population; allocations naming no area "
               "cover the whole force. Populations are estimates (2011 Census mean per LSOA).")
    st.subheader("Payment phasing")
    _chart(figs["phasing"], "funds_phasing", "No payment dates recorded for these allocations.")
    st.subheader("When funding ends")
    _chart(figs["timeline"], "funds_timeline", "No end dates recorded for these allocations.")


def main() -> None:
    version, when = data_version(), as_at()
    st.title("Funds")
    years = funds.financial_years(review_data())
    if not years:
        st.info("No funds recorded yet. Add funds and allocations on the Data page.")
        return
    # a new year starts with all its funds chosen: the last year's choices are no option of this one
    year = st.selectbox("Financial year (April to March)", years, index=0, key="funds_year",
                        on_change=lambda: st.session_state.pop("funds_chosen", None))
    fy = _year(version, year, when)
    _year_section(fy, when)
    names = labels(fy.funds, "fund_key")
    chosen = st.multiselect("Funds to break down", list(names), default=list(names), format_func=names.get,
                            key="funds_chosen")
    if not chosen:
        st.info("Choose at least one fund to see its allocations.")
        return
    _breakdown_section(version, tuple(chosen))


main()
