"""Review across the force: gap index by area and theme, duplication groups (co-commissioning opportunities), the
inequity of a fund or theme, and the fair-share calculator."""

import datetime as dt

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.colors import get_colorscale, sample_colorscale

from components.chart_data import chart_with_data
from components.context import as_at, cached, data_version, review_data
from components.format import escape
from components.tables import formatted, labels, money_col
from services_db.funds import FairShareView, allocated_funds, fair_share_factors, fund_fair_share
from services_db.raised_gaps import (
    CELL_NO_FIGURE,
    CELL_NO_NEED,
    CELL_NO_PROVISION,
    CELL_NOT_RECORDED,
    INDEX_CAP,
    GapIndex,
    gap_index,
)
from services_db.review import inequity, review_force
from services_db.review.fair_share import POPULATION
from services_db.review.shown import cell
from services_db.review.wording import fair_share_sentence, inequity_sentence

LEVELS = {"district": "District", "area": "Place-based area"}
# The tabs, by label: the open tab is in the URL (?tab=Inequity), so a link opens the tab its sender saw.
TABS = ("Gap index", "Duplication", "Inequity", "Fair share")


@cached
def _force(version: str, when) -> tuple[GapIndex, pd.DataFrame, dict]:
    f = review_force(review_data(), when)
    return gap_index(f.tables["gaps"]), f.tables["duplication"], f.params


@cached
def _inequity(version: str, when, fund_key, theme, level: str, indicator):
    r = inequity(review_data(), when, fund_key=fund_key, theme=theme, level=level, indicator=indicator)
    return r.table, r.summary


@cached
def _fair(version: str, fund_key: str, weights: tuple, level: str) -> FairShareView | None:
    return fund_fair_share(review_data(), fund_key, dict(weights), level)


# How each state of a gap cell is drawn. One heatmap holds them all: the index on its sequential scale (0 to
# INDEX_CAP), and each state that is not a number on a band of its own beyond it, so the colour bar names every
# state. "No provision" (need and no current service: the worst gaps) is the strongest, a dark colour above the
# top of the scale; unknown funding is grey, never drawn as no provision; every cell carries its words or number,
# so no state depends on colour alone.
INDEX_SCALE = "YlOrRd"  # sequential by lightness: readable with colour-blindness
STATE_BANDS = {  # state -> (the value drawn, its colour, its key below the picture)
    CELL_NO_PROVISION: (INDEX_CAP + 1.5, "#2d004b", "no provision: need and no current service (the worst gaps)"),
    CELL_NOT_RECORDED: (-0.5, "#bdbdbd", "not recorded: services cover it but their funding is unknown"),
    CELL_NO_NEED: (-1.5, "#f4f4f4", "no need: no need recorded and no money"),
    CELL_NO_FIGURE: (-1.5, "#f4f4f4", "no figure: no need figure"),
}
Z_MIN, Z_MAX = -2.0, INDEX_CAP + 2.0


def _scale() -> list:
    """The one colour scale: light and grey bands below zero, the index's scale from 0 to INDEX_CAP, and the
    dark band of "no provision" above it."""
    def at(z: float) -> float:
        return (z - Z_MIN) / (Z_MAX - Z_MIN)

    index = [[at(INDEX_CAP * i / 8), c] for i, c in
             enumerate(sample_colorscale(get_colorscale(INDEX_SCALE), [i / 8 for i in range(9)]))]
    light, grey, dark = (STATE_BANDS[k][1] for k in (CELL_NO_FIGURE, CELL_NOT_RECORDED, CELL_NO_PROVISION))
    return ([[0.0, light], [at(-1.0) - 1e-9, light], [at(-1.0), grey], [at(0.0) - 1e-9, grey]] + index
            + [[at(INDEX_CAP) + 1e-9, dark], [1.0, dark]])


@cached
def _heatmap(version: str, when):
    index = _force(version, when)[0]
    matrix, states, cell_text = index.matrix, index.states, index.labels
    z = matrix.copy()
    for state, (value, _, _) in STATE_BANDS.items():
        z = z.mask(states == state, value)
    present = [s for s in STATE_BANDS if (states == s).any().any()]
    ticks = {STATE_BANDS[CELL_NOT_RECORDED][0]: CELL_NOT_RECORDED, 0: "0", 1: "1", 2: "2", 3: "3", 4: "4",
             INDEX_CAP: f"{INDEX_CAP:g}+", STATE_BANDS[CELL_NO_PROVISION][0]: CELL_NO_PROVISION,
             STATE_BANDS[CELL_NO_FIGURE][0]: "no figure or no need"}
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(dtype=float), x=[str(c) for c in matrix.columns], y=[str(r) for r in matrix.index],
        zmin=Z_MIN, zmax=Z_MAX, colorscale=_scale(), xgap=2, ygap=2, name="gap index",
        text=cell_text.to_numpy(), texttemplate="%{text}", textfont=dict(size=13),
        hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
        colorbar=dict(title=dict(text="Gap index"), tickvals=list(ticks), ticktext=list(ticks.values()),
                      thickness=16, len=1.0)))
    for state in present:  # a key for each state drawn, beside the colour bar's
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=STATE_BANDS[state][2], hoverinfo="skip",
                                 marker=dict(symbol="square", size=14, color=STATE_BANDS[state][1],
                                             line=dict(color="#555555", width=1))))
    fig.update_yaxes(autorange="reversed", title=None)
    fig.update_xaxes(side="top", title=None)
    fig.update_layout(
        title="Gap index (need share ÷ provision share) by place-based area and theme",
        height=150 + 52 * len(matrix.index), margin=dict(l=0, r=0, t=80, b=0), plot_bgcolor="white",
        legend=dict(orientation="h", yanchor="top", y=-0.02, xanchor="left", x=0))
    return fig


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
    frame = _fair(version, fund_key, weights, level).table
    long = frame.melt(id_vars="area_name", value_vars=["actual", "fair_share"], var_name="split",
                      value_name="amount")
    long["split"] = long["split"].map({"actual": "Actual allocation", "fair_share": "Fair share"})
    return px.bar(long, x="area_name", y="amount", color="split", barmode="group",
                  title="Fair share beside the actual split (£)",
                  labels={"area_name": "Area", "amount": "£", "split": ""})


def _gap_tab(version: str, when: dt.date, index: GapIndex, params: dict) -> None:
    st.subheader("Gap index by area and theme")
    if index.empty:
        st.info("No theme has need data yet, so no gap index can be computed. Import need indicators.")
        return
    caption = (f"A gap is flagged where need share ≥ {params['need_ratio']} × population share and gap index "
               f"≥ {params['min_gap_index']} (shares over the areas with a need figure; provision is known "
               "funding), or where there is need and no current service of the theme covers the area. Where "
               "services cover the area but their funding is not recorded, no gap can be measured: the row says "
               "so. Significant gaps (need rate's 95% interval wholly above the force's) rank first. In the "
               "picture, \"no provision\" (need and no current service, the darkest cell) is the worst gap; "
               "\"not recorded\" (grey) means the funding is unknown, which is not the same as no provision.")
    chart_with_data(_heatmap(version, when), index.labels.rename_axis(index="Area").reset_index(),
                    key="gap_heatmap", title="Gap index by place-based area and theme", as_at=when, caption=caption)
    # Shares and money as the gap sentences show them (one formatting function per kind of number).
    # gap_index and provision_share are already words or figures as the heatmap shows them ("no provision",
    # "not recorded"; never "Infinity" nor 0% for unknown funding).
    st.dataframe(formatted(index.flagged, {"need_share": "percent", "money_to_parity": "money"}).rename(columns={
                     "rank": "Rank", "area_name": "Area", "theme_name": "Theme", "need_share": "Need share",
                     "provision_share": "Provision share", "gap_index": "Gap index", "reason": "Why",
                     "significant": "Significantly above the force", "services": "Current services",
                     "unknown_funding": "Funding not recorded", "money_to_parity": "Money to parity (£)",
                     "need_is_estimate": "Need is an estimate"}),
                 hide_index=True, width="stretch", key="gap_table")
    if index.no_need_figure:
        st.caption("No need figure (no gap, share or parity is computed for them; missing is not zero): "
                   + escape(", ".join(index.no_need_figure)) + ".")


def _duplication_tab(groups: pd.DataFrame, params: dict) -> None:
    st.subheader("Duplication groups: co-commissioning opportunities")
    st.caption(f"Two services overlap when they share a theme and a target group and their coverage overlaps ≥ "
               f"{params['min_overlap']:.0%} (by population). A group is services of different commissioners or "
               "providers that all overlap each other within one theme and one target group, ranked by the money "
               "potentially duplicated (known funding less the largest service's): a chance to pool budgets.")
    if groups.empty:
        st.info("No duplication groups at this date. Try another \"as at\" date in the sidebar.")
        return
    for row in groups.to_dict("records"):
        with st.expander(f"{escape(row['theme_name'])} for {escape(row['target_group_name'])}: "
                         f"{row['n_services']} services, "
                         f"{cell('money', row['combined_funding'])} a year, overlap at least "
                         f"{cell('at_least', row['overlap'])}"):
            st.markdown(f"**Commissioners:** {escape('; '.join(row['commissioners']))}  \n"
                        f"**Providers:** {escape('; '.join(row['providers']))}  \n"
                        f"**Shared areas:** {escape('; '.join(row['shared_areas']))}")
            st.markdown("\n".join(f"- {escape(s)}" for s in row["services"]))


def _inequity_tab(version: str, when: dt.date, fund_names: dict[str, str]) -> None:
    st.subheader("Inequity")
    basis = st.radio("Look at", ["fund", "theme"], horizontal=True, key="ineq_basis", bind="query-params",
                     format_func={"fund": "A fund's allocations", "theme": "Current funding for a theme"}.get)
    if basis == "fund":
        fund_key = st.selectbox("Fund", list(fund_names), format_func=fund_names.get, key="ineq_fund", bind="query-params")
        theme = None
    else:
        theme_names = labels(review_data().themes, "theme_key")
        theme = st.selectbox("Theme", list(theme_names), format_func=theme_names.get, key="ineq_theme", bind="query-params")
        fund_key = None
    level = st.radio("By", list(LEVELS), horizontal=True, key="ineq_level", bind="query-params", format_func=LEVELS.get)
    table, summary = _inequity(version, when, fund_key, theme, level, None)
    if not summary.get("total"):
        st.info("Nothing was allocated or funded here at this date. Choose another fund or theme, or change the "
                "\"as at\" date.")
        return
    st.markdown("> " + escape(inequity_sentence(summary, "district" if level == "district" else "area").text()))
    m = st.columns(4)
    m[0].metric("Highest ÷ lowest (funded areas)", cell("number1", summary["ratio"]))  # as the sentence has it
    m[1].metric("Coefficient of variation", f"{summary['cv']:.2f}")
    m[2].metric("Gini coefficient", cell("number2", summary["gini"]))
    m[3].metric("Areas that received nothing", f"{len(summary['zero_areas'])}")
    per = f"£ per {summary.get('per', 1000):,.0f} residents"
    drawn = table.sort_values("per_1000")
    chart_with_data(_inequity_chart(version, when, fund_key, theme, level), pd.DataFrame({
        "Area": drawn["area_name"], per: drawn["per_1000"], "Amount (£)": drawn["amount"],
        "Residents": drawn["population"], "Received nothing": drawn["received_nothing"].map({True: "yes", False: ""})}),
        key="ineq_chart", title=f"{summary['label']}: {per}", as_at=when, money_columns=["Amount (£)"])
    # Money and rates as the sentence above shows them.
    shown = formatted(table, {"amount": "money", "per_head": "rate", "per_1000": "rate", "share": "percent",
                              "population_share": "percent", "population": "count"})
    st.dataframe(shown.rename(columns={
        "area_name": "Area", "amount": "Amount", "population": "Residents", "per_head": "Per head",
        "per_1000": f"Per {summary.get('per', 1000):,.0f} residents", "share": "Share of the money",
        "population_share": "Share of residents"}), hide_index=True, width="stretch", key="ineq_table")


def _fair_share_tab(version: str, fund_names: dict[str, str]) -> None:
    st.subheader("Fair-share calculator")
    allocated = allocated_funds(review_data())
    if not allocated:
        st.info("No fund has allocations yet.")
        return
    fund = st.selectbox("Fund", allocated, format_func=lambda k: fund_names.get(k, k), key="fair_fund", bind="query-params")
    st.markdown("Weights of the formula (any scale; they are made to add up to 100%):")
    factors = fair_share_factors(review_data())
    cols = st.columns(min(4, len(factors)))
    weights = {k: cols[i % len(cols)].number_input(escape(label), min_value=0.0, max_value=100.0,
                                                   value=100.0 if k == POPULATION else 0.0, step=5.0,
                                                   key=f"fair_w_{k}")
               for i, (k, label) in enumerate(factors.items())}
    if not any(v > 0 for v in weights.values()):
        st.warning("Give at least one factor a weight above zero.")
        return
    level = st.radio("By", list(LEVELS), horizontal=True, key="fair_level", bind="query-params", format_func=LEVELS.get)
    key = tuple((k, v) for k, v in weights.items() if v > 0)
    view = _fair(version, fund, key, level)
    st.caption("Formula: " + ", ".join(f"{escape(name)} {v:.0%}" for name, v in view.formula))
    st.markdown("> " + escape(fair_share_sentence(view.furthest_below, fund_names.get(fund, fund),
                                                  view.formula).text()))
    frame = view.table
    chart_with_data(_fair_chart(version, fund, key, level), pd.DataFrame({
        "Area": frame["area_name"], "Actual allocation (£)": frame["actual"], "Fair share (£)": frame["fair_share"]}),
        key="fair_chart", title=f"Fair share beside the actual split: {fund_names.get(fund, fund)}",
        as_at=as_at(), money_columns=["Actual allocation (£)", "Fair share (£)"])
    # As the sentence shows them, then the exact figures in separately labelled (£) columns.
    rounded = formatted(frame.assign(actual_shown=frame["actual"], fair_shown=frame["fair_share"]),
                        {"actual_shown": "money", "fair_shown": "money", "gap": "money"})
    st.dataframe(rounded[["area_name", "actual_shown", "fair_shown", "gap", "received", "actual", "fair_share",
                          "difference"]].rename(columns={
        "area_name": "Area", "actual_shown": "Actual", "fair_shown": "Fair share", "gap": "Difference",
        "received": "Received", "actual": "Actual (£)", "fair_share": "Fair share (£)",
        "difference": "Actual − fair share (£)"}), hide_index=True, width="stretch", key="fair_table",
        column_config={k: money_col(k) for k in ("Actual (£)", "Fair share (£)", "Actual − fair share (£)")})
    st.caption("Actual, fair share and difference as the sentence shows them; the (£) columns are exact.")


def main() -> None:
    version, when = data_version(), as_at()
    st.title("Review across the force")
    st.caption(f"As at {when:%-d %B %Y}. Every threshold is shown beside its result.")
    with st.spinner("Reviewing the force…"):
        index, groups, params = _force(version, when)
    fund_names = labels(review_data().funds, "fund_key")
    heat_tab, dup_tab, ineq_tab, fair_tab = st.tabs(list(TABS), key="tab", bind="query-params")
    with heat_tab:
        _gap_tab(version, when, index, params)
    with dup_tab:
        _duplication_tab(groups, params)
    with ineq_tab:
        _inequity_tab(version, when, fund_names)
    with fair_tab:
        _fair_share_tab(version, fund_names)


main()
