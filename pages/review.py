"""Review across the force: gap index by area and theme, duplication groups (co-commissioning opportunities), the
inequity of a fund or theme, and the fair-share calculator."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from components.context import as_at, cached, data_version, review_data
from components.format import escape
from components.tables import formatted, money_col
from services_db.review import fair_share, inequity, review_force
from services_db.review.fair_share import normalise_weights
from services_db.review.gaps import NOT_RECORDED
from services_db.review.shown import cell
from services_db.review.wording import fair_share_sentence, inequity_sentence


@cached
def _force(version: str, when):
    f = review_force(review_data(), when)
    return f.tables["gaps"], f.tables["duplication"], f.params


@cached
def _inequity(version: str, when, fund_key, theme, level: str, indicator):
    r = inequity(review_data(), when, fund_key=fund_key, theme=theme, level=level, indicator=indicator)
    return r.table, r.summary


@cached
def _fair(version: str, fund_key: str, weights: tuple, level: str) -> pd.DataFrame:
    return fair_share(review_data(), fund_key, weights=dict(weights), level=level)


@cached
def _heatmap(version: str, when):
    g = _force(version, when)[0].copy()
    g["shown"] = g["gap_index"].replace(np.inf, np.nan).clip(upper=5)
    matrix = g.pivot_table(index="area_name", columns="theme_name", values="shown", aggfunc="first")
    return px.imshow(matrix, color_continuous_scale="RdYlGn_r", zmin=0, zmax=3, aspect="auto",
                     title="Gap index (need share ÷ provision share); blank where provision is zero or there is "
                           "no need figure",
                     labels=dict(x="Theme", y="Place-based area", color="Gap index"))


@cached
def _inequity_chart(version: str, when, fund_key, theme, level: str):
    table, summary = _inequity(version, when, fund_key, theme, level, None)
    t = table.sort_values("per_1000")
    return px.bar(t, x="area_name", y="per_1000",
                  color=t["received_nothing"].map({True: "received nothing", False: "funded"}),
                  title=f"{summary['label']}: £ per 1,000 residents",
                  labels={"area_name": "Area", "per_1000": "£ per 1,000 residents", "color": ""})


@cached
def _fair_chart(version: str, fund_key: str, weights: tuple, level: str):
    frame = _fair(version, fund_key, weights, level)
    long = frame.melt(id_vars="area_name", value_vars=["actual", "fair_share"], var_name="split",
                      value_name="amount")
    long["split"] = long["split"].map({"actual": "Actual allocation", "fair_share": "Fair share"})
    return px.bar(long, x="area_name", y="amount", color="split", barmode="group",
                  title="Fair share beside the actual split (£)",
                  labels={"area_name": "Area", "amount": "£", "split": ""})


version, when = data_version(), as_at()
data = review_data()
st.title("Review across the force")
st.caption(f"As at {when:%d %B %Y}. Every threshold is shown beside its result.")
with st.spinner("Reviewing the force…"):
    gaps, groups, params = _force(version, when)

heat_tab, dup_tab, ineq_tab, fair_tab = st.tabs(["Gap index", "Duplication", "Inequity", "Fair share"])

with heat_tab:
    st.subheader("Gap index by area and theme")
    if gaps.empty:
        st.info("No theme has need data yet, so no gap index can be computed. Import need indicators.")
    else:
        g = gaps
        st.plotly_chart(_heatmap(version, when), width="stretch", key="gap_heatmap")
        st.caption(f"A gap is flagged where need share ≥ {params['need_ratio']} × population share and gap index "
                   f"≥ {params['min_gap_index']} (shares over the areas with a need figure; provision is known "
                   "funding), or where there is need and no current service of the theme covers the area. Where "
                   "services cover the area but their funding is not recorded, no gap can be measured: the row says "
                   "so. Significant gaps (need rate's 95% interval wholly above the force's) rank first.")
        shown = g[g["is_gap"] | (g["reason"] == NOT_RECORDED)]
        flagged = shown[["rank", "area_name", "theme_name", "need_share", "provision_share", "gap_index", "reason",
                         "significant", "services", "unknown_funding", "money_to_parity", "need_is_estimate"]]
        # Shares and money as the gap sentences show them (one formatting function per kind of number).
        flagged = flagged.assign(
            money_to_parity=flagged["money_to_parity"].clip(lower=0.0).where(shown["is_gap"]),
            significant=flagged["significant"].map({True: "yes", False: "no"}).fillna("not tested"))
        st.dataframe(formatted(flagged, {"need_share": "percent", "provision_share": "percent",
                                         "gap_index": "number2", "money_to_parity": "money"}).rename(columns={
                         "rank": "Rank", "area_name": "Area", "theme_name": "Theme", "need_share": "Need share",
                         "provision_share": "Provision share", "gap_index": "Gap index", "reason": "Why",
                         "significant": "Significantly above the force", "services": "Current services",
                         "unknown_funding": "Funding not recorded", "money_to_parity": "Money to parity (£)",
                         "need_is_estimate": "Need is an estimate"}),
                     hide_index=True, width="stretch", key="gap_table")
        missing = g.loc[~g["has_need_figure"].astype(bool), "area_name"].unique().tolist()
        if missing:
            st.caption("No need figure (no gap, share or parity is computed for them; missing is not zero): "
                       + escape(", ".join(missing)) + ".")

with dup_tab:
    st.subheader("Duplication groups: co-commissioning opportunities")
    st.caption(f"Two services overlap when they share a theme and a target group and their coverage overlaps ≥ "
               f"{params['min_overlap']:.0%} (by population). A group is services of different commissioners or "
               "providers that all overlap each other within one theme and one target group, ranked by the money "
               "potentially duplicated (known funding less the largest service's): a chance to pool budgets.")
    if groups.empty:
        st.info("No duplication groups at this date. Try another \"as at\" date in the sidebar.")
    else:
        for row in groups.to_dict("records"):
            with st.expander(f"{escape(row['theme_name'])} for {escape(row['target_group_name'])}: "
                             f"{row['n_services']} services, "
                             f"{cell('money', row['combined_funding'])} a year, overlap at least "
                             f"{cell('at_least', row['overlap'])}"):
                st.markdown(f"**Commissioners:** {escape('; '.join(row['commissioners']))}  \n"
                            f"**Providers:** {escape('; '.join(row['providers']))}  \n"
                            f"**Shared areas:** {escape('; '.join(row['shared_areas']))}")
                st.markdown("\n".join(f"- {escape(s)}" for s in row["services"]))

with ineq_tab:
    st.subheader("Inequity")
    basis = st.radio("Look at", ["fund", "theme"], horizontal=True, key="ineq_basis",
                     format_func={"fund": "A fund's allocations", "theme": "Current funding for a theme"}.get)
    fund_names = dict(zip(data.funds["fund_key"], data.funds["name"], strict=False))
    theme_names = dict(zip(data.themes["theme_key"], data.themes["name"], strict=False))
    if basis == "fund":
        key = st.selectbox("Fund", list(fund_names), format_func=fund_names.get, key="ineq_fund")
        fund_key, theme = key, None
    else:
        key = st.selectbox("Theme", list(theme_names), format_func=theme_names.get, key="ineq_theme")
        fund_key, theme = None, key
    level = st.radio("By", ["district", "area"], horizontal=True, key="ineq_level",
                     format_func={"district": "District", "area": "Place-based area"}.get)
    table, summary = _inequity(version, when, fund_key, theme, level, None)
    if not summary.get("total"):
        st.info("Nothing was allocated or funded here at this date. Choose another fund or theme, or change the "
                "\"as at\" date.")
    else:
        st.markdown("> " + escape(inequity_sentence(summary, "district" if level == "district" else "area").text()))
        m = st.columns(4)
        m[0].metric("Highest ÷ lowest (funded areas)", cell("number1", summary["ratio"]))  # as the sentence has it
        m[1].metric("Coefficient of variation", f"{summary['cv']:.2f}")
        m[2].metric("Gini coefficient", cell("number2", summary["gini"]))
        m[3].metric("Areas that received nothing", f"{len(summary['zero_areas'])}")
        st.plotly_chart(_inequity_chart(version, when, fund_key, theme, level), width="stretch", key="ineq_chart")
        # Money and rates as the sentence above shows them.
        shown = formatted(table, {"amount": "money", "per_head": "rate", "per_1000": "rate", "share": "percent",
                                  "population_share": "percent", "population": "count"})
        st.dataframe(shown.rename(columns={
            "area_name": "Area", "amount": "Amount", "population": "Residents", "per_head": "Per head",
            "per_1000": f"Per {summary.get('per', 1000):,.0f} residents", "share": "Share of the money",
            "population_share": "Share of residents"}), hide_index=True, width="stretch", key="ineq_table")

with fair_tab:
    st.subheader("Fair-share calculator")
    allocated = sorted(set(data.allocations["fund_key"]))
    if not allocated:
        st.info("No fund has allocations yet.")
    else:
        fund = st.selectbox("Fund", allocated, format_func=lambda k: fund_names.get(k, k), key="fair_fund")
        st.markdown("Weights of the formula (any scale; they are made to add up to 100%):")
        factors = {"population": "Population"} | dict(zip(data.indicators["indicator_key"],
                                                           data.indicators["name"], strict=False))
        cols = st.columns(min(4, len(factors)))
        weights = {}
        for i, (k, label) in enumerate(factors.items()):
            weights[k] = cols[i % len(cols)].number_input(escape(label), min_value=0.0, max_value=100.0,
                                                          value=100.0 if k == "population" else 0.0, step=5.0,
                                                          key=f"fair_w_{k}")
        weights = {k: v for k, v in weights.items() if v > 0}
        if not weights:
            st.warning("Give at least one factor a weight above zero.")
        else:
            level = st.radio("By", ["district", "area"], horizontal=True, key="fair_level",
                             format_func={"district": "District", "area": "Place-based area"}.get)
            frame = _fair(version, fund, tuple(sorted(weights.items())), level)
            norm = normalise_weights(weights)
            st.caption("Formula: " + ", ".join(f"{escape(factors[k])} {v:.0%}" for k, v in norm.items()))
            worst = frame.nsmallest(1, "difference").iloc[0]
            st.markdown("> " + escape(fair_share_sentence(worst, fund_names.get(fund, fund),
                                                          [(factors[k], v) for k, v in norm.items()]).text()))
            st.plotly_chart(_fair_chart(version, fund, tuple(sorted(weights.items())), level), width="stretch", key="fair_chart")
            # As the sentence shows them, then the exact figures in separately labelled (£) columns.
            rounded = formatted(frame.assign(actual_shown=frame["actual"], fair_shown=frame["fair_share"],
                                             gap=frame["difference"].abs(),
                                             more=np.where(frame["difference"] >= 0, "more", "less")),
                                {"actual_shown": "money", "fair_shown": "money", "gap": "money"})
            st.dataframe(rounded[["area_name", "actual_shown", "fair_shown", "gap", "more", "actual", "fair_share",
                                  "difference"]].rename(columns={
                "area_name": "Area", "actual_shown": "Actual", "fair_shown": "Fair share", "gap": "Difference",
                "more": "Received", "actual": "Actual (£)", "fair_share": "Fair share (£)",
                "difference": "Actual − fair share (£)"}), hide_index=True, width="stretch", key="fair_table",
                column_config={k: money_col(k) for k in ("Actual (£)", "Fair share (£)", "Actual − fair share (£)")})
            st.caption("Actual, fair share and difference as the sentence shows them; the (£) columns are exact.")
