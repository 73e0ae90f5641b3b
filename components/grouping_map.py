"""A map of which place-based area each LSOA is in: one colour per area, named in a legend.

`components.maps.choropleth` draws a number per area on a sequential scale; areas are categories, where a scale
would suggest an order that is not there, so this draws them with a qualitative palette instead, from the same
outlines (`components.maps.outlines`: plain SVG shapes, nothing fetched from outside the server). The palette is
Paul Tol's "muted" scheme, chosen to stay distinguishable with the common colour-vision deficiencies; past nine
areas colours repeat, so pages show the same assignment as a table beside the map (the hover text names the area
and how many LSOAs it has).
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from components.maps import outlines, rings

# Paul Tol, "muted" qualitative scheme (https://personal.sron.nl/~pault/), and his pale grey for "none"
PALETTE = ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499")
COLOUR_NAMES = ("rose", "indigo", "sand", "green", "cyan", "wine", "teal", "olive", "purple")  # Tol's own names
NONE_COLOUR = "#DDDDDD"
NONE_LABEL = "In no area"


def area_colours(areas: list[str]) -> dict[str, str]:
    """Each area's colour, in the order given (the legend's and the table's)."""
    return {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(areas)}


def colour_names(areas: list[str]) -> dict[str, str]:
    """Each area's colour by name, for the table beside the map ("rose", "indigo"...; "rose, again" past nine)."""
    return {a: COLOUR_NAMES[i % len(COLOUR_NAMES)] + (", again" if i >= len(COLOUR_NAMES) else "")
            for i, a in enumerate(areas)}


def area_map(frame: pd.DataFrame, *, areas: list[str], title: str, height: int = 560) -> go.Figure:
    """LSOAs (`frame`: code, name, district, area) coloured by `area`, one legend entry per area in `areas`' order
    (LSOAs in no area in pale grey). One filled trace per area, so the figure stays small at 941 LSOAs."""
    gj = outlines("lsoa")
    shapes = {f["id"]: f["geometry"] for f in gj["features"]}
    colours = area_colours(areas)
    fig = go.Figure()
    lats: list[float] = []
    order = [*areas, ""] if (frame["area"] == "").any() else list(areas)
    for area in order:
        rows = frame[frame["area"] == area]
        xs: list[float | None] = []
        ys: list[float | None] = []
        for code in rows["code"]:
            for ring in rings(shapes.get(code, {"type": "None"})):
                xs += [p[0] for p in ring] + [None]
                ys += [p[1] for p in ring] + [None]
        if not xs:
            continue
        lats += [y for y in ys[:400] if y is not None]
        label = area or NONE_LABEL
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=colours.get(area, NONE_COLOUR), mode="lines",
                                 line=dict(color="#ffffff", width=0.4), hoveron="fills", hoverinfo="text",
                                 text=f"{label}: {len(rows)} LSOAs", name=label, showlegend=True))
    ratio = 1 / math.cos(math.radians(sum(lats) / len(lats))) if lats else 1.7
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=ratio)
    fig.update_layout(title=title, height=height, margin=dict(l=0, r=0, t=40, b=0), plot_bgcolor="white",
                      hovermode="closest", legend=dict(title=dict(text="Place-based area")))
    return fig
