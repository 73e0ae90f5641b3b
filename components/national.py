"""The national overview's figure and tables (`services_db.national.force_summary`, one row per force), drawn
without the national snapshot.

`chart_with_data` ends every chart's CSV with the data's fingerprint, a hash of the whole snapshot: at national
size that is the 1.4 GiB read this view exists to avoid, so national figures end theirs with the database's data
version instead (`national_footer`).
Nothing here works a figure out: the frames are laid out as they come.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.chart_data import SOURCE
from components.format import money_text, plain
from components.tables import estimate_cells

BLUE, GREY = "#0072B2", "#8c8c8c"
MONEY_COLUMNS = ("Known funding (£ a year)", "Known funding per 1,000 residents")


def _estimates(summary: pd.DataFrame) -> pd.Series:
    """Which of a row's figures are estimates, in words ("residents, funding"), blank for none."""
    residents = estimate_cells(summary["residents_is_estimate"].astype(bool)).replace("estimate", "residents")
    funding = estimate_cells(summary["funding_is_estimate"].astype(bool)).replace("estimate", "funding")
    return (residents + ", " + funding).str.strip(", ")


def force_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The per-force table as the page shows it and its CSV carries it (numbers kept; money formatted on screen)."""
    return pd.DataFrame({
        "Force": summary["force_name"], "Code": summary["force_code"],
        "Residents": summary["residents"].round(), "Services": summary["services"],
        "Known funding (£ a year)": summary["known_funding"],
        "Known funding per 1,000 residents": summary["per_1000"],
        "Funding not recorded (services)": summary["funding_not_recorded"],
        "Services also covering other forces": summary["multi_force"],
        "Place-based areas": summary["areas"], "Districts": summary["districts"],
        "Estimate": _estimates(summary),
    })


COLUMN_CONFIG = {c: st.column_config.NumberColumn(c, format="localized") for c in ("Residents", "Services")}


def per_1000_order(summary: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(forces with known funding per 1,000 residents, highest first; forces without, by name)."""
    known = summary["per_1000"].notna()
    return (summary[known].sort_values(["per_1000", "force_name"], ascending=[False, True]),
            summary[~known].sort_values("force_name"))


ALL_FORCES_LABEL = "All forces together"


def per_1000_figure(summary: pd.DataFrame, reference: float | None = None) -> go.Figure | None:
    """Known funding per 1,000 residents, one labelled horizontal bar per force with known funding, highest at the
    top, with `reference` (all forces together) as a grey bar in its place when given; None when no force has any
    (forces without are named by the page, never drawn as £0)."""
    drawn, _ = per_1000_order(summary)
    if drawn.empty:
        return None
    bars = pd.DataFrame({"name": drawn["force_name"].map(plain), "value": drawn["per_1000"],
                         "known": drawn["known_funding"], "colour": BLUE})
    if reference is not None and reference == reference:
        total = pd.DataFrame({"name": [f"<b>{ALL_FORCES_LABEL}</b>"], "value": [reference],
                              "known": [summary["known_funding"].sum()], "colour": [GREY]})
        bars = pd.concat([bars, total]).sort_values("value", ascending=False, kind="stable")
    fig = go.Figure(go.Bar(
        y=bars["name"].tolist(), x=bars["value"].tolist(), orientation="h", marker_color=bars["colour"].tolist(),
        text=[money_text(v) for v in bars["value"]], textposition="outside", cliponaxis=False,
        textfont={"color": "#0b0c0c"}, customdata=[[money_text(k)] for k in bars["known"]],
        hovertemplate="%{y}<br>%{text} per 1,000 residents<br>%{customdata[0]} a year known<extra></extra>"))
    fig.update_layout(
        title={"text": "Known funding per 1,000 residents, by force", "x": 0, "xanchor": "left"},
        height=max(260, 60 + 22 * len(bars)), margin={"l": 10, "r": 70, "t": 50, "b": 10},
        font={"size": 13, "color": "#0b0c0c"},
        plot_bgcolor="white", bargap=0.25,
        xaxis={"title": "£ a year per 1,000 residents", "tickprefix": "£", "tickformat": ",.0f",
               "gridcolor": "#e5e5e5", "tickfont": {"color": "#0b0c0c"}},
        yaxis={"autorange": "reversed", "automargin": True, "tickfont": {"color": "#0b0c0c"}})  # AA contrast
    return fig


def per_1000_table(summary: pd.DataFrame, totals: dict | None = None) -> pd.DataFrame:
    """The chart's data: every force in the chart's order, then those without known funding (shown as such), then
    all forces together (`services_db.national.national_totals`) when given, as the grey bar shows them."""
    drawn, missing = per_1000_order(summary)
    rows = pd.concat([drawn, missing])
    table = pd.DataFrame({"Force code": rows["force_code"], "Force": rows["force_name"],
                          "Residents": rows["residents"].round(), "Known funding (£ a year)": rows["known_funding"],
                          "Known funding per 1,000 residents": rows["per_1000"],
                          "Funding not recorded (services)": rows["funding_not_recorded"]})
    if totals is not None:
        table.loc[len(table)] = ["", ALL_FORCES_LABEL, np.round(totals["residents"]),
                                 summary["known_funding"].sum(min_count=1), totals["per_1000"],
                                 totals["funding_not_recorded"]]
    return table


def national_footer(title: str, as_at: dt.date, data_version: str) -> dict[str, str]:
    """The CSV footer of a national figure: source, "as at" date and the database's data version (the
    fingerprint would need the whole national snapshot)."""
    return {"Source": f"{SOURCE}: {title}", "As at": f"{as_at:%-d %B %Y}", "Data version": data_version}
