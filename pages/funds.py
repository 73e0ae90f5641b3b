"""Funds for OPCC staff, by financial year (April to March): totals, allocated and unallocated, where the money
went, funding per head by area, payment phasing and when funding ends."""

import pandas as pd
import plotly.express as px
import streamlit as st

from components.context import as_at, cached, data_version, database, review_data
from components.format import ESTIMATE_NOTE, day, money
from components.tables import date_col, money_col
from services_db import funds


@cached
def _schedules(version: str) -> pd.DataFrame:
    return funds.allocation_schedules(database())


@cached
def _summary(version: str, year: str, when) -> pd.DataFrame:
    return funds.fund_summary(review_data(), year, when)


@cached
def _pipeline(version: str, chosen: tuple[str, ...]) -> pd.DataFrame:
    return funds.allocation_pipeline(review_data(), list(chosen))


@cached
def _lines(version: str, chosen: tuple[str, ...]) -> pd.DataFrame:
    return funds.allocation_lines(review_data(), list(chosen))


@cached
def _by_area(version: str, chosen: tuple[str, ...]) -> pd.DataFrame:
    return funds.allocations_by_area(review_data(), list(chosen), "area")


@cached
def _figures(version: str, chosen: tuple[str, ...]) -> dict:
    """The four charts of the chosen funds, built once per data version (plotly express is slow to build)."""
    lines = _lines(version, chosen)
    tree = px.treemap(lines.assign(All="All allocations"), path=["All", "fund", "recipient"], values="amount",
                      title="Allocations by fund and recipient (£)")
    tree.update_traces(hovertemplate="%{label}<br>£%{value:,.0f}<extra></extra>")
    per = _by_area(version, chosen)
    bar = px.bar(per, x="name", y="per_1000", title="Allocated funding per 1,000 residents, by place-based area",
                 labels={"name": "Place-based area", "per_1000": "£ per 1,000 residents"})
    out = {"tree": tree, "per_head": bar, "phasing": None, "timeline": None, "ends": 0}
    phasing = funds.payment_phasing(lines, _schedules(version))
    if not phasing.empty:
        q = phasing.groupby("quarter", as_index=False)["amount"].sum()
        out["phasing"] = px.bar(q, x="quarter", y="amount", title="Payments by financial quarter",
                                labels={"quarter": "Financial quarter (Q1 = April to June)", "amount": "£ paid"})
    ends = funds.funding_ends(review_data(), list(chosen))
    if not ends.empty:
        ends = ends.assign(label=ends["recipient"] + " – " + ends["amount"].map(money))
        tl = px.timeline(ends, x_start="planned_start", x_end="planned_end", y="label", color="fund",
                         title="Allocation periods (bars end when the funding ends)",
                         labels={"label": "Recipient and amount", "planned_start": "From", "planned_end": "Ends"})
        tl.update_yaxes(autorange="reversed", title="Recipient and amount")
        tl.update_xaxes(title="Date")
        tl.update_layout(height=max(300, 22 * len(ends)))
        out["timeline"], out["ends"] = tl, len(ends)
    return out


version, when = data_version(), as_at()
data = review_data()
st.title("Funds")
years = funds.financial_years(data)
if not years:
    st.info("No funds recorded yet. Add funds and allocations on the Data page.")
    st.stop()
year = st.selectbox("Financial year (April to March)", years, index=0, key="funds_year")
summary = _summary(version, year, when)

st.subheader(f"Funds in {year}")
c = st.columns(4)
c[0].metric("Total", money(summary["total"].sum()))
c[1].metric("Allocated (awarded or paid)", money(summary["allocated"].sum()))
c[2].metric("Applied for (not received)", money(summary["applied"].sum()))
c[3].metric("Unallocated", money(summary["unallocated"].sum()))
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
if summary["is_future"].any():
    st.caption(f"{int(summary['is_future'].sum())} of these funds start after {when:%d %B %Y} (the \"as at\" "
               "date): their allocations are future money, not money received by that date.")
if summary["has_estimates"].any():
    st.caption(ESTIMATE_NOTE)

names = dict(zip(summary["fund_key"], summary["name"], strict=True))
chosen = st.multiselect("Funds to break down", list(names), default=list(names), format_func=names.get,
                        key="funds_chosen")
if not chosen:
    st.info("Choose at least one fund to see its allocations.")
    st.stop()

lines = _lines(version, tuple(chosen))
figs = _figures(version, tuple(chosen))
st.subheader("Allocations")
by = st.radio("Group by", ["recipient", "purpose", "priorities", "area"], horizontal=True, key="funds_by",
              format_func={"recipient": "Recipient", "purpose": "Purpose", "priorities": "Priority",
                           "area": "Area"}.get)
if by == "area":
    grouped = _by_area(version, tuple(chosen)).rename(columns={"name": "group"})[["group", "amount"]]
else:
    grouped = lines.groupby(by, as_index=False)["amount"].sum().rename(columns={by: "group"})
grouped = grouped.sort_values("amount", ascending=False)
t1, t2 = st.columns([2, 3])
t1.dataframe(grouped.rename(columns={"group": by.capitalize(), "amount": "Allocated (£)"}), hide_index=True,
             width="stretch", column_config={"Allocated (£)": money_col("Allocated (£)")}, key="funds_grouped")
t2.plotly_chart(figs["tree"], width="stretch", key="funds_tree")
pipeline = _pipeline(version, tuple(chosen))
if len(pipeline):
    st.markdown(f"**Applications (pipeline)**: {money(pipeline['amount'].sum())} applied for and not yet awarded. "
                "Not money received, and not counted in the allocations above.")
    st.dataframe(pipeline[["fund", "recipient", "purpose", "amount", "planned_start", "planned_end"]].rename(
        columns={"fund": "Fund", "recipient": "Applicant", "purpose": "Purpose", "amount": "Applied for (£)",
                 "planned_start": "From", "planned_end": "To"}), hide_index=True, width="stretch",
        key="funds_pipeline", column_config={"Applied for (£)": money_col("Applied for (£)"),
                                             "From": date_col("From"), "To": date_col("To")})
with st.expander("Every allocation line"):
    st.dataframe(lines.drop(columns=["area_codes", "fund_key"]).assign(
        is_estimate=lines["is_estimate"].map({True: "estimate", False: ""})), hide_index=True, width="stretch",
        column_config={"amount": money_col("Amount (£)"), "planned_start": date_col("From"),
                       "planned_end": date_col("To")})

st.subheader("Funding per head by area")
st.plotly_chart(figs["per_head"], width="stretch", key="funds_per_head")
st.caption("Allocations to several areas are shared over them by population; allocations naming no area "
           "cover the whole force. Populations are estimates (2011 Census mean per LSOA).")

st.subheader("Payment phasing")
if figs["phasing"] is None:
    st.info("No payment dates recorded for these allocations.")
else:
    st.plotly_chart(figs["phasing"], width="stretch", key="funds_phasing")

st.subheader("When funding ends")
if figs["timeline"] is None:
    st.info("No end dates recorded for these allocations.")
else:
    st.plotly_chart(figs["timeline"], width="stretch", key="funds_timeline")
