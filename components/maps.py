"""Choropleth maps of the force drawn as plain SVG shapes: outlines from services_db.geography, one filled shape
per area coloured from a value per area code, with a colour bar naming the unit.

Why not plotly's map traces: `geo` maps fetch a world topology from a CDN and draw nothing without it, and
`choropleth_map` needs WebGL, which locked-down council and police desktops (and headless browsers) often lack.
Filled scatter shapes work on any browser with no network, and the data sent is just the simplified outlines.
"""

import json
import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.colors import get_colorscale, sample_colorscale

from services_db.geography import map_geojson


@st.cache_data(show_spinner=False, max_entries=64)
def outlines(level: str, codes: tuple[str, ...] | None = None) -> dict:
    """GeoJSON for `level`, limited to `codes` when given (an area page sends only its own LSOAs)."""
    gj = map_geojson(level)
    if codes is None:
        return gj
    keep = set(codes)
    return {"type": "FeatureCollection", "features": [f for f in gj["features"] if f["id"] in keep]}


def _rings(geometry: dict) -> list[list]:
    """The outer rings of a Polygon or MultiPolygon (holes are left unfilled by drawing them in white)."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry["type"] == "MultiPolygon":
        return [poly[0] for poly in geometry["coordinates"]]
    return []


def choropleth(frame: pd.DataFrame, *, level: str, value: str, title: str, unit: str,
               codes_only: bool = False, height: int = 520, colorscale: str = "Blues") -> go.Figure:
    """A map of `frame[value]` by `frame["code"]` (with `frame["name"]` in the hover text when present)."""
    gj = outlines(level, tuple(frame["code"]) if codes_only else None)
    # Rounded as shown, so float noise (333.24973 vs 333.24978) is not painted as a difference.
    values = {c: (None if v is None or v != v else round(float(v), 2))
              for c, v in zip(frame["code"], frame[value], strict=False)}
    names = dict(zip(frame["code"], frame["name"], strict=False)) if "name" in frame else {}
    finite = [float(v) for v in values.values() if v is not None and v == v]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    span = hi - lo
    fig = go.Figure()
    lats = []
    for feature in gj["features"]:
        code = feature["id"]
        if code not in values:
            continue
        v = values[code]
        missing = v is None or v != v
        colour = "#e0e0e0" if missing else sample_colorscale(
            get_colorscale(colorscale), [0.5 if not span else min(1.0, max(0.0, 0.08 + 0.92 * (v - lo) / span))])[0]
        xs, ys = [], []
        for ring in _rings(feature["geometry"]):
            xs += [p[0] for p in ring] + [None]
            ys += [p[1] for p in ring] + [None]
        lats += [y for y in ys if y is not None]
        label = f"{names.get(code, code)}: " + ("no figure" if missing else f"{float(v):,.2f} {unit}")
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=colour, mode="lines",
                                 line=dict(color="#555555", width=0.6), hoveron="fills", text=label,
                                 hoverinfo="text", showlegend=False, name=names.get(code, code)))
    fig.add_trace(go.Scatter(  # an invisible marker that carries the colour bar
        x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
        marker=dict(colorscale=colorscale, cmin=lo - (0 if span else 1), cmax=hi + (0 if span else 1), color=[lo], showscale=True,
                    colorbar=dict(title=dict(text=unit), thickness=14))))
    ratio = 1 / math.cos(math.radians(sum(lats) / len(lats))) if lats else 1.7
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=ratio)
    fig.update_layout(title=title, height=height, margin=dict(l=0, r=0, t=40, b=0), plot_bgcolor="white",
                      hovermode="closest")
    return fig


def figure_bytes(fig: go.Figure) -> int:
    """Size of the figure as sent to the browser (for the benchmark)."""
    return len(json.dumps(fig.to_plotly_json(), default=str).encode())
