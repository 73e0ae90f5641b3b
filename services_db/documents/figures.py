"""The briefing's pictures, drawn from the data with matplotlib: an LSOA map of the area and a funding chart.

Drawn with matplotlib's object API (no pyplot, so no global figure state shared between Streamlit sessions or
threads) onto an Agg canvas, and saved without the "Software" stamp, so the same data always give the same PNG
bytes and the documents that embed them stay byte-for-byte reproducible. Colours are chosen to stay distinct
when printed in greyscale: light to dark sequences, not hues of equal lightness.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 200
TIER_ORDER = ("primary", "secondary", "tertiary", "not recorded")
TIER_COLOURS = {"primary": "#c6dbef", "secondary": "#6baed6", "tertiary": "#08519c", "not recorded": "#bdbdbd"}
MAP_COLOURS = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
NO_DATA = "#f0f0f0"


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _money_tick(value: float, _pos: object = None) -> str:
    if abs(value) >= 1_000_000:
        return f"£{value / 1e6:,.1f}m"
    if abs(value) >= 1_000:
        return f"£{value / 1e3:,.0f}k"
    return f"£{value:,.0f}"


def area_map(features: Sequence[dict], values: Mapping[str, float], district_of: Mapping[str, str],
             legend_label: str, width_cm: float = 16.0, height_cm: float = 11.0,
             outlines: Sequence[dict] | None = None) -> bytes:
    """LSOAs of one area filled by `values` (keyed by LSOA code), district outlines and names on top.

    Classes are five equal-count bands of the values shown (quantiles), the way public health atlases do it,
    so the map says where within the area need is higher, not how it compares with elsewhere.
    """
    import geopandas as gpd

    gdf = gpd.GeoDataFrame.from_features(list(features), crs="EPSG:4326")
    gdf["code"] = [f["properties"]["code"] for f in features]
    gdf["value"] = gdf["code"].map(values).astype(float)
    gdf["district"] = gdf["code"].map(district_of)
    fig = Figure(figsize=(width_cm / 2.54, height_cm / 2.54))
    ax = fig.add_axes((0.01, 0.02, 0.74, 0.96))
    lat = float(np.mean(gdf.total_bounds[[1, 3]])) if len(gdf) else 54.0
    ax.set_aspect(1.0 / math.cos(math.radians(lat)))
    ax.set_axis_off()

    known = gdf["value"].dropna()
    missing = gdf[gdf["value"].isna()]
    if len(missing):
        missing.plot(ax=ax, color=NO_DATA, edgecolor="white", linewidth=0.2)
    handles_text: list[tuple[str, str]] = []
    if len(known):
        for colour, label, mask in _classes(gdf["value"]):
            gdf[mask].plot(ax=ax, color=colour, edgecolor="white", linewidth=0.2)
            handles_text.append((colour, label))
    if len(gdf):
        # district outlines from the district layer: dissolving simplified LSOAs leaves slivers inside
        lines = (gpd.GeoDataFrame.from_features(list(outlines), crs="EPSG:4326").set_index("name")
                 if outlines else gdf.dissolve(by="district"))
        lines.boundary.plot(ax=ax, color="#252525", linewidth=0.9)
        for name, geom in zip(lines.index, lines.geometry, strict=True):
            p = geom.representative_point()
            ax.annotate(str(name), (p.x, p.y), ha="center", va="center", fontsize=7, color="#000000",
                        bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=c, edgecolor="#999999", label=t) for c, t in reversed(handles_text)]
    if len(missing):
        handles.append(Patch(facecolor=NO_DATA, edgecolor="#999999", label="no figure"))
    if handles:
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.75, 0.95), fontsize=7, frameon=False,
                   title=legend_label, title_fontsize=7, alignment="left")
    return _png(fig)


def _classes(values: pd.Series) -> list[tuple[str, str, pd.Series]]:
    """(colour, legend label, mask) per class: one class per distinct value when there are at most five (a
    district's rate shared over its LSOAs gives one value per district), else five equal-count bands."""
    known = values.dropna()
    distinct = np.unique(np.round(known.to_numpy(dtype=float), 1))
    n = len(MAP_COLOURS)
    if len(distinct) <= n:
        picks = np.linspace(0, n - 1, len(distinct) + 2)[1:-1] if len(distinct) <= 2 else np.linspace(0, n - 1,
                                                                                                       len(distinct))
        rounded = values.round(1)
        return [(MAP_COLOURS[int(round(p))], f"{v:,.1f}", rounded == v) for p, v in zip(picks, distinct, strict=True)]
    edges = np.quantile(known.to_numpy(dtype=float), np.linspace(0, 1, n + 1))
    band = np.clip(np.searchsorted(edges, values.to_numpy(dtype=float), side="right") - 1, 0, n - 1)
    out = []
    for i in range(n):
        mask = pd.Series((band == i) & values.notna().to_numpy(), index=values.index)
        if mask.any():
            out.append((MAP_COLOURS[i], f"{edges[i]:,.1f} to {edges[i + 1]:,.1f}", mask))
    return out


def funding_chart(rows: pd.DataFrame, width_cm: float = 16.0) -> bytes:
    """Horizontal bars of annual funding per theme, stacked by prevention tier.

    `rows`: theme_name, tier (primary/secondary/tertiary/None), amount (£ a year). Themes are sorted by total,
    largest at the top, so the eye reads the biggest first.
    """
    frame = rows.copy()
    frame["tier"] = frame["tier"].where(frame["tier"].isin(TIER_ORDER[:3]), "not recorded")
    pivot = frame.pivot_table(index="theme_name", columns="tier", values="amount", aggfunc="sum", fill_value=0.0)
    pivot = pivot.reindex(columns=[t for t in TIER_ORDER if t in pivot.columns])
    pivot = pivot.loc[pivot.sum(axis=1).sort_values(kind="stable").index] if len(pivot) else pivot
    n = max(len(pivot), 1)
    fig = Figure(figsize=(width_cm / 2.54, max(2.2, 0.55 + 0.32 * n)))
    ax = fig.add_axes((0.32, 0.18 if n < 4 else 0.1, 0.64, 0.78 if n < 4 else 0.86))
    left = np.zeros(len(pivot))
    for tier in pivot.columns:
        vals = pivot[tier].to_numpy(dtype=float)
        ax.barh(np.arange(len(pivot)), vals, left=left, color=TIER_COLOURS[tier], edgecolor="white",
                linewidth=0.5, label=tier.capitalize())
        left += vals
    ax.set_yticks(np.arange(len(pivot)), [str(t) for t in pivot.index], fontsize=7)
    ax.xaxis.set_major_formatter(_money_tick)
    ax.tick_params(axis="x", labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color="#dddddd", linewidth=0.5)
    ax.set_axisbelow(True)
    if len(pivot):
        ax.legend(fontsize=7, frameon=False, loc="lower right", title="Prevention tier", title_fontsize=7)
    else:
        ax.text(0.5, 0.5, "No current funding", ha="center", va="center", transform=ax.transAxes)
    return _png(fig)
