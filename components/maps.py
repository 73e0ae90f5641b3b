"""Choropleth maps of the force drawn as plain SVG shapes: outlines from services_db.boundaries, one filled shape
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

from services_db.boundaries import map_geojson


@st.cache_data(show_spinner=False, max_entries=64)
def outlines(level: str, codes: tuple[str, ...] | None = None) -> dict:
    """GeoJSON for `level`, limited to `codes` when given (an area page sends only its own LSOAs)."""
    gj = map_geojson(level)
    if codes is None:
        return gj
    keep = set(codes)
    return {"type": "FeatureCollection", "features": [f for f in gj["features"] if f["id"] in keep]}


def rings(geometry: dict) -> list[list]:
    """The outer rings of a Polygon or MultiPolygon (holes are left unfilled by drawing them in white)."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry["type"] == "MultiPolygon":
        return [poly[0] for poly in geometry["coordinates"]]
    return []


def same_everywhere(frame: pd.DataFrame, value: str) -> float | None:
    """The one value every area of `frame` has, or None when the values differ (or none is known). A map of one
    value is one flat colour that says nothing a sentence would not say better, so pages say it instead."""
    known = pd.to_numeric(frame[value], errors="coerce").dropna().round(2) if len(frame) else pd.Series(dtype=float)
    return float(known.iloc[0]) if len(known) and known.nunique() == 1 and len(known) == len(frame) else None


MAX_CLASSES = 7  # counts are drawn in at most this many colours, each a range of whole numbers


def _count_scale(colorscale: str, lo: int, hi: int) -> tuple[list, dict, list[str], int]:
    """For counts: the colours of whole-number classes from `lo` to `hi` (one per number when there are at most
    MAX_CLASSES of them, else ranges of equal width: 11–13, 14–16...), the stepped scale that draws them, the colour
    bar's ticks (whole numbers or ranges only, never "3.5 services") and the width of a class."""
    n = hi - lo + 1
    width = math.ceil(n / MAX_CLASSES)
    k = math.ceil(n / width)
    # min(): 0.08 + 0.92 * 5 / 5 is 1.0000000000000002 in floating point, past the end of the scale
    colours = sample_colorscale(get_colorscale(colorscale),
                                [min(1.0, 0.08 + 0.92 * i / max(k - 1, 1)) for i in range(k)])
    scale = []
    for i, c in enumerate(colours):
        scale += [[i / k, c], [(i + 1) / k, c]]
    starts = [lo + i * width for i in range(k)]
    text = [f"{s:,}" if min(s + width - 1, hi) == s else f"{s:,}–{min(s + width - 1, hi):,}" for s in starts]
    bar = dict(tickvals=[s + (width - 1) / 2 for s in starts], ticktext=text)
    return scale, bar, colours, width


def centroid(geometry: dict) -> tuple[float, float] | None:
    """A point to click for an area: the centroid of its largest outer ring (shoelace formula), or the mean of
    that ring's vertices when the ring has no area."""
    best, best_area, best_xy = None, -1.0, None
    for ring in rings(geometry):
        pts = [(float(p[0]), float(p[1])) for p in ring]
        if len(pts) < 3:
            continue
        a = cx = cy = 0.0
        for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
            cross = x0 * y1 - x1 * y0
            a += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
        if abs(a) > best_area:
            best_area, best = abs(a), pts
            best_xy = (cx / (3 * a), cy / (3 * a)) if a else None
    if best is None:
        return None
    return best_xy or (sum(x for x, _ in best) / len(best), sum(y for _, y in best) / len(best))


CLICK_HINT = "Click to list the services covering it"


def clicked_code(event: object) -> str | None:
    """The area code of the point clicked on a `clickable` choropleth, from Streamlit's selection state
    (`{"selection": {"points": [{"customdata": [code, label], ...}]}}`, as `st.plotly_chart(on_select=...)` returns it
    and keeps it in session state under its key), or None when no area point is selected."""
    try:
        points = event["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    for point in points or []:
        data = point.get("customdata") if isinstance(point, dict) else None
        code = data[0] if isinstance(data, list | tuple) and data else data
        if isinstance(code, str) and code:
            return code
    return None


def choropleth(frame: pd.DataFrame, *, level: str, value: str, title: str, unit: str,
               codes_only: bool = False, height: int = 520, colorscale: str = "Blues",
               integer: bool = False, clickable: bool = False) -> go.Figure:
    """A map of `frame[value]` by `frame["code"]` (with `frame["name"]` in the hover text when present).

    `integer`: the values are counts (services): shown as whole numbers, coloured in steps of whole numbers
    (`_count_scale`) with the colour bar ticked at whole numbers or ranges of them only.

    `clickable`: a small marker at each area's centroid carrying [code, label] in `customdata`, so a click (a point
    selection, `st.plotly_chart(on_select=..., selection_mode="points")`) names the area (`clicked_code`). Filled
    shapes are not selectable in plotly (a fill's hover has no point index: a click inside it selects nothing,
    checked in Chromium), hence the dots."""
    gj = outlines(level, tuple(frame["code"]) if codes_only else None)
    # Rounded as shown, so float noise (333.24973 vs 333.24978) is not painted as a difference.
    values = {c: (None if v is None or v != v else (round(float(v)) if integer else round(float(v), 2)))
              for c, v in zip(frame["code"], frame[value], strict=False)}
    names = dict(zip(frame["code"], frame["name"], strict=False)) if "name" in frame else {}
    finite = [float(v) for v in values.values() if v is not None and v == v]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    span = hi - lo
    stepped = bool(integer and finite)
    scale, bar, steps, width = _count_scale(colorscale, int(lo), int(hi)) if stepped else (colorscale, {}, [], 1)

    def colour_of(v: float) -> str:
        if stepped:
            return steps[(int(v) - int(lo)) // width]
        at = 0.5 if not span else min(1.0, max(0.0, 0.08 + 0.92 * (v - lo) / span))
        return sample_colorscale(get_colorscale(colorscale), [at])[0]

    fig = go.Figure()
    lats = []
    targets: list[tuple[float, float, str, str]] = []  # x, y, code, label of each area's click target
    for feature in gj["features"]:
        code = feature["id"]
        if code not in values:
            continue
        v = values[code]
        missing = v is None or v != v
        colour = "#e0e0e0" if missing else colour_of(v)
        xs, ys = [], []
        for ring in rings(feature["geometry"]):
            xs += [p[0] for p in ring] + [None]
            ys += [p[1] for p in ring] + [None]
        lats += [y for y in ys if y is not None]
        shown = "no figure" if missing else f"{int(v):,} {unit}" if integer else f"{float(v):,.2f} {unit}"
        label = f"{names.get(code, code)}: {shown}"
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=colour, mode="lines",
                                 line=dict(color="#555555", width=0.6), hoveron="fills", text=label,
                                 hoverinfo="text", showlegend=False, name=names.get(code, code)))
        middle = centroid(feature["geometry"]) if clickable else None
        if middle is not None:
            targets.append((*middle, code, label))
    if targets:
        fig.add_trace(go.Scatter(
            x=[t[0] for t in targets], y=[t[1] for t in targets], customdata=[[t[2], t[3]] for t in targets],
            mode="markers", showlegend=False, name="districts",  # the label in customdata: `text` is the fills'
            marker=dict(size=11, color="white", line=dict(color="#333333", width=1.5)),
            hovertemplate=f"%{{customdata[1]}}<br>{CLICK_HINT}<extra></extra>",
            selected=dict(marker=dict(color="#d62728")), unselected=dict(marker=dict(opacity=0.9))))
    if stepped:
        cmin, cmax = lo - 0.5, lo - 0.5 + len(steps) * width
    else:
        cmin, cmax = lo - (0 if span else 1), hi + (0 if span else 1)
    fig.add_trace(go.Scatter(  # an invisible marker that carries the colour bar
        x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
        marker=dict(colorscale=scale, cmin=cmin, cmax=cmax, color=[lo], showscale=True,
                    colorbar=dict(title=dict(text=unit), thickness=14, **bar))))
    ratio = 1 / math.cos(math.radians(sum(lats) / len(lats))) if lats else 1.7
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=ratio)
    fig.update_layout(title=title, height=height, margin=dict(l=0, r=0, t=40, b=0), plot_bgcolor="white",
                      hovermode="closest")
    return fig


def figure_bytes(fig: go.Figure) -> int:
    """Size of the figure as sent to the browser (for the benchmark)."""
    return len(json.dumps(fig.to_plotly_json(), default=str).encode())
