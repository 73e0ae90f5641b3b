"""Charts of the area page's "In brief" and Need tab, each with the table a reader without the picture needs
(drawn beside its chart, with its CSV, by `components.chart_data`).

Colours are from the Okabe-Ito palette (told apart with any common colour-blindness) and never carry meaning on
their own: a marker's shape and the row's label say the same thing (worse, estimate, unknown). Every chart is
drawn by Plotly from the data alone: no web tiles, fonts or scripts from anywhere but the app.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from components.format import escape, plain
from services_db.need import SHARED_OUT

BLUE, ORANGE, VERMILLION, GREY, DARK = "#0072B2", "#E69F00", "#D55E00", "#BBBBBB", "#333333"
COMPARISON_MARKERS = {  # colour and shape of the area's marker by its comparison with the force
    "worse": (VERMILLION, "triangle-up"), "better": (BLUE, "circle"), "similar": (DARK, "circle"),
    "higher": (DARK, "triangle-right"), "lower": (DARK, "triangle-left"),
}


def _fmt(v: float, unit: str = "") -> str:
    if v is None or not isinstance(v, int | float) or not math.isfinite(v):
        return "no figure"
    return f"{v:,.2f}" + (f" {unit}" if unit else "")


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%" if isinstance(v, int | float) and math.isfinite(v) else "unknown"


# -- the spine chart ----------------------------------------------------------------------------------------------


def spine_label(row: pd.Series) -> str:
    """A row's label: the indicator and what its marker means, in words (the chart's colour is never needed)."""
    interval = row["lower"] == row["lower"] and row["upper"] == row["upper"]
    if row["shared_out"]:
        status = SHARED_OUT
    elif not interval:
        status = "estimate, no interval: not compared" if row["is_estimate"] else "no interval: not compared"
    else:
        status = (f"{row['comparison']} than the force" if row["comparison"] in ("worse", "better", "higher", "lower")
                  else str(row["comparison"])) + (" (estimate)" if row["is_estimate"] else "")
    return (f"<b>{plain(row['indicator'])}</b><br><span style='font-size:12px;color:#444444'>"
            f"{plain(row['period'])} · {plain(status)}</span>")


def spine_chart(spine: pd.DataFrame, area_name: str) -> go.Figure:
    """The area's value on each indicator against the range of the force's areas (Fingertips' spine chart): the
    force is the centre line, the light band every area, the dark band the middle half, the marker the area with
    its 95% interval; an estimate is a hollow diamond with no interval; a shared-out figure has no marker."""
    labels = [spine_label(r) for _, r in spine.iterrows()]
    frame = spine.assign(label=labels)
    drawn = frame[~frame["shared_out"] & frame["x"].notna()]
    fig = go.Figure()
    fig.add_bar(y=drawn["label"], x=drawn["x_highest"] - drawn["x_lowest"], base=drawn["x_lowest"],
                orientation="h", marker_color="#E3E3E3", width=0.55, name="Range of the force's areas",
                hoverinfo="skip")
    fig.add_bar(y=drawn["label"], x=drawn["x_q75"] - drawn["x_q25"], base=drawn["x_q25"], orientation="h",
                marker_color="#A8A8A8", width=0.55, name="Middle half of the areas", hoverinfo="skip")

    def hover(r: pd.Series) -> str:
        return (f"{plain(area_name)}: {_fmt(r['value'], r['rate_unit'])}" + (" (estimate)" if r["is_estimate"] else "")
                + (f"<br>95% interval {_fmt(r['lower'])} to {_fmt(r['upper'])}" if r["lower"] == r["lower"] else "")
                + f"<br>Force: {_fmt(r['force'], r['rate_unit'])}"
                + f"<br>Areas: {_fmt(r['lowest'])} to {_fmt(r['highest'])}")

    with_interval = drawn["x_lower"].notna() & drawn["x_upper"].notna()
    firm = drawn[with_interval]
    for comparison, rows in firm.groupby("comparison", sort=False):
        colour, symbol = COMPARISON_MARKERS.get(str(comparison), (DARK, "square"))
        fig.add_scatter(
            y=rows["label"], x=rows["x"], mode="markers", name=f"{area_name}: {comparison}",
            marker=dict(color=colour, symbol=symbol, size=14, line=dict(color="white", width=1)),
            error_x=dict(type="data", symmetric=False, array=rows["x_upper"] - rows["x"],
                         arrayminus=rows["x"] - rows["x_lower"], color=colour, thickness=2, width=6),
            hovertext=[hover(r) for _, r in rows.iterrows()], hoverinfo="text")
    est = drawn[~with_interval]
    if len(est):
        fig.add_scatter(y=est["label"], x=est["x"], mode="markers", name=f"{area_name}: estimate (no interval)",
                        marker=dict(color="white", symbol="diamond", size=15, line=dict(color=DARK, width=2)),
                        hovertext=[hover(r) for _, r in est.iterrows()], hoverinfo="text")
    shared = frame[frame["shared_out"]]
    if len(shared):  # kept on the chart, in words: a row with no marker, not a marker on the force line
        fig.add_scatter(y=shared["label"], x=[0.0] * len(shared), mode="text", cliponaxis=False,
                        text=["  every area equals the force here: no comparison"] * len(shared),
                        textposition="middle right", textfont=dict(color="#444444", size=12),
                        name="Shared-out force figure", hoverinfo="skip", showlegend=False)
    reach = [1.0] + [abs(v) for v in pd.concat([drawn["x_lower"], drawn["x_upper"], drawn["x"]]).tolist()
                     if isinstance(v, float) and math.isfinite(v)]
    edge = max(reach) * 1.1
    fig.add_vline(x=0, line=dict(color=DARK, width=2), annotation_text="Force", annotation_position="top")
    fig.update_layout(
        barmode="overlay", height=130 + 70 * len(frame), margin=dict(l=10, r=90, t=50, b=40),
        title=dict(text=f"{plain(area_name)} against the force's areas on each need indicator", font=dict(size=15)),
        legend=dict(orientation="h", y=-0.12 - 0.15 / max(1, len(frame))), plot_bgcolor="white",
        yaxis=dict(autorange="reversed", categoryorder="array", categoryarray=labels),
        xaxis=dict(range=[-edge, edge], tickvals=[-1, 0, 1], zeroline=False, showgrid=False,
                   ticktext=["← worse (lower)", "force", "better (higher) →"]))
    return fig


def spine_caption(spine: pd.DataFrame) -> str:
    """How to read the spine chart, in words (Markdown, names escaped), naming its shared-out indicators."""
    shared = spine.loc[spine["shared_out"].astype(bool), "indicator"].tolist()
    return ("Each indicator is scaled to the force's place-based areas: the centre line is the force, the ends "
            "are as far as the area furthest from it; worse is on the left (lower, where an indicator has no "
            "good direction). The area's marker carries its 95% interval; a value made by a rule (an estimate) "
            "is a hollow diamond with no interval."
            + (f" {escape('; '.join(shared))}: {SHARED_OUT} (every district's figure is the force's shared out "
               "by population)." if shared else ""))


def spine_table(spine: pd.DataFrame) -> pd.DataFrame:
    """The spine chart as a table: every value it places, and where (the position is -1 to 1, force 0)."""
    return pd.DataFrame({
        "Indicator": spine["indicator"], "Period": spine["period"], "Unit": spine["rate_unit"],
        "Area": spine["value"].round(2),
        "95% CI": [f"{lo:,.2f} – {hi:,.2f}" if lo == lo and hi == hi else "none (estimate)" if est else "none"
                   for lo, hi, est in zip(spine["lower"], spine["upper"], spine["is_estimate"], strict=True)],
        "Force": spine["force"].round(2), "Lowest area": spine["lowest"].round(2),
        "Highest area": spine["highest"].round(2), "Areas with a figure": spine["n_areas"],
        "Position (-1 to 1, force 0)": spine["position"].round(3),
        "Drawn worse on the left": spine["flipped"].map({True: "yes (higher is worse)", False: "no"}),
        "Comparison": spine["comparison"],
        "Estimate": spine["is_estimate"].map({True: "estimate", False: ""}),
    })


# -- need share against provision share ---------------------------------------------------------------------------


def gap_label(row: pd.Series) -> str:
    note = " (need: shared-out force figure)" if row["need_shared_out"] else ""
    return plain(row["theme"]) + note


def gap_chart(gaps: pd.DataFrame, area_name: str) -> go.Figure:
    """Per theme, the area's share of the need (circle) against its share of the known provision (diamond), with
    its share of the residents (bar) for reference; a provision share that cannot be known is said in words."""
    frame = gaps.assign(label=[gap_label(r) for _, r in gaps.iterrows()])
    fig = go.Figure()
    xs, ys = [], []
    for _, r in frame[frame["provision_known"]].iterrows():
        xs += [r["need_share"] * 100, r["provision_share"] * 100, None]
        ys += [r["label"], r["label"], None]
    if xs:
        fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color=GREY, width=3), hoverinfo="skip",
                        showlegend=False)
    fig.add_scatter(x=frame["population_share"] * 100, y=frame["label"], mode="markers", name="Share of residents",
                    marker=dict(symbol="line-ns-open", size=26, color=DARK, line=dict(width=2)),
                    hovertext=[f"{plain(area_name)}: {_pct(v)} of the residents" for v in frame["population_share"]],
                    hoverinfo="text")
    fig.add_scatter(
        x=frame["need_share"] * 100, y=frame["label"], mode="markers+text", name="Share of the need",
        marker=dict(symbol="circle", size=14, color=BLUE),
        text=[_pct(v) + (" (estimate)" if e else "") for v, e in zip(frame["need_share"], frame["need_is_estimate"],
                                                                      strict=True)],
        textposition="top right", textfont=dict(color=BLUE),
        hovertext=[f"Need: {_pct(v)} of {plain(lab)}" for v, lab in zip(frame["need_share"], frame["need_label"],
                                                                         strict=True)], hoverinfo="text")
    known = frame[frame["provision_known"]]
    fig.add_scatter(
        x=known["provision_share"] * 100, y=known["label"], mode="markers+text",
        name="Share of the known provision", marker=dict(symbol="diamond", size=14, color=ORANGE,
                                                         line=dict(color=DARK, width=1)),
        text=[_pct(v) for v in known["provision_share"]], textposition="bottom center",
        textfont=dict(color="#8a5a00"),
        hovertext=[f"Provision: {_pct(v)} of the known funding" + (f" ({plain(n)})" if n else "")
                   for v, n in zip(known["provision_share"], known["provision_note"], strict=True)], hoverinfo="text")
    unknown = frame[~frame["provision_known"]]
    if len(unknown):
        fig.add_scatter(x=unknown["need_share"] * 100, y=unknown["label"], mode="text",
                        text=["   provision share unknown: funding not recorded"] * len(unknown),
                        textposition="middle right", textfont=dict(color="#8a5a00", size=12), cliponaxis=False,
                        name="Provision share unknown", hoverinfo="skip", showlegend=False)
    top = max([0.0] + [v * 100 for v in pd.concat([frame["need_share"], frame["provision_share"],
                                                   frame["population_share"]]).tolist()
                       if isinstance(v, float) and math.isfinite(v)])
    fig.update_layout(
        height=140 + 70 * len(frame), margin=dict(l=10, r=10, t=50, b=40), plot_bgcolor="white",
        title=dict(text=f"{plain(area_name)}: share of the need against share of the provision, by theme",
                   font=dict(size=15)),
        legend=dict(orientation="h", y=-0.12 - 0.15 / max(1, len(frame))),
        xaxis=dict(title="Share of the areas with a need figure (%)", range=[0, max(5.0, top * 2.6)],
                   ticksuffix="%", gridcolor="#EEEEEE"),
        yaxis=dict(autorange="reversed"))
    return fig


def gap_caption(gaps: pd.DataFrame) -> str:
    """What the gap picture's shares are of, and how many themes' provision share is unknown (never 0%)."""
    unknown = int((~gaps["provision_known"].astype(bool)).sum())
    note = (f" For {unknown} of the {len(gaps)} themes the provision share is unknown because the funding is not "
            "recorded: it is not shown as 0%.") if unknown else ""
    return ("Shares of the areas with a need figure. Provision is the current services' known funding apportioned "
            "by population." + note)


def gap_table(gaps: pd.DataFrame) -> pd.DataFrame:
    """The gap picture as a table: shares as percentages, unknown provision as "unknown" (never 0%)."""
    return pd.DataFrame({
        "Theme": gaps["theme"], "Need measured by": gaps["need_label"],
        "Share of the need": [_pct(v) + (" (estimate)" if e else "") for v, e in
                              zip(gaps["need_share"], gaps["need_is_estimate"], strict=True)],
        "Share of the provision": [_pct(v) for v in gaps["provision_share"]],
        "Share of the residents": [_pct(v) for v in gaps["population_share"]],
        "Current services": gaps["services"], "Funding not recorded": gaps["unknown_funding"],
        "Note": [("need share is the population share: shared-out force figure. " if s else "") + n
                 for s, n in zip(gaps["need_shared_out"], gaps["provision_note"], strict=True)],
    })


# -- trends and maps ----------------------------------------------------------------------------------------------


def trend_chart(rows: pd.DataFrame, indicator: str, where: str) -> go.Figure:
    """One indicator over its periods, on a period (category) axis: "2013-14" is a financial year, not a date."""
    est = rows["is_estimate"].astype(bool)
    lo, hi = float(rows["value"].min()), float(rows["value"].max())
    span = [0, hi * 1.2] if lo >= 0 and hi > 0 else None  # room above the top label; negatives: Plotly's own
    fig = go.Figure(go.Scatter(
        x=rows["period"].astype(str), y=rows["value"], mode="lines+markers+text", line=dict(color=BLUE),
        marker=dict(size=10, symbol=["diamond-open" if e else "circle" for e in est], color=BLUE,
                    line=dict(color=BLUE, width=2)),
        text=[f"{v:,.0f}" + (" (estimate)" if e else "") for v, e in zip(rows["value"], est, strict=True)],
        textposition="top center", name=plain(indicator), hoverinfo="x+y"))
    fig.update_layout(title=f"{plain(indicator)} ({plain(where)})", height=320, plot_bgcolor="white",
                      margin=dict(l=10, r=10, t=50, b=40),
                      xaxis=dict(title="Period", type="category"),
                      yaxis=dict(title="Value", range=span, gridcolor="#EEEEEE"))
    return fig


def integer_scale(fig: go.Figure) -> go.Figure:
    """A map of counts (services) with a colour bar in whole steps: 3 and 4 services, never 3.5."""
    for trace in fig.data:
        marker = getattr(trace, "marker", None)
        if marker is not None and marker.showscale:
            lo, hi = marker.cmin, marker.cmax
            if lo is not None and hi is not None:
                marker.cmin, marker.cmax = math.floor(lo), math.ceil(hi)
            marker.colorbar.dtick = 1
            marker.colorbar.tickformat = ",d"
    return fig
