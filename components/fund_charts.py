"""The Funds page's charts: where the money went (fund -> recipient -> area), each fund's money as one bar
(allocated, applied for, unallocated) and when each fund's money ends, and each chart's table (the page draws
each figure with its table and CSV through `components.chart_data`).

Built with plotly's graph objects (not plotly express: express takes ~100 ms a figure to build, and the page
has a 300 ms budget). Every figure here takes the frames `services_db.funds` returns and draws them as they are:
no money is worked out here, only laid out. Names reach Plotly through `plain` (Plotly reads a little HTML).
Colours are the Okabe-Ito set (readable with the common colour-blindnesses), one per fund, the same fund the same
colour in every chart of the page.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

from components.format import money_text, plain

# Okabe-Ito, then Paul Tol's wine and olive for funds beyond eight; yellow last (weakest on white)
FUND_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#882255", "#999933", "#000000",
                "#F0E442")
ALLOCATED, APPLIED, UNALLOCATED = "#0072B2", "#E69F00", "#C8C8C8"
APPLIED_LABEL = "Applied for, not awarded (pipeline)"


def count_text(n: int, one: str, many: str | None = None) -> str:
    """'1 grant', '24 grants': never '1 records'."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def fund_colours(fund_keys: Iterable[str]) -> dict[str, str]:
    """fund key -> colour, in the order given (pass every fund, so a fund keeps its colour whatever is chosen)."""
    return {k: FUND_PALETTE[i % len(FUND_PALETTE)] for i, k in enumerate(dict.fromkeys(fund_keys))}


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def short(text: object, width: int = 36) -> str:
    """A long name on at most two lines of `width` characters (the rest as "…"), HTML made inert: axis and node
    labels stay readable; the full name is in the hover and the table."""
    words, lines, line = str(text).split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], lines[1][: width - 1].rstrip() + "…"]
    return "<br>".join(plain(x) for x in lines)


def layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title={"text": plain(title), "x": 0, "xanchor": "left"}, height=height,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10}, font={"size": 13},
                      hoverlabel={"font_size": 13}, plot_bgcolor="white")
    return fig


# -- fund -> recipient -> area --------------------------------------------------------------------------------------

def flow_figure(flows: pd.DataFrame, colours: dict[str, str], most: int = 11) -> go.Figure | None:
    """A Sankey of `services_db.funds.allocation_flows`: funds on the left (each its colour), recipients in the
    middle, place-based areas on the right; every link coloured by the fund its money came from. Recipients past
    the `most` largest are drawn as one "Other recipients" node (all of them are in the table). A recipient not
    named is a node of its own fund, not one node joining unrelated funds. Nodes are placed column by column in
    order (recipients grouped by fund, largest first) so links cross as little as they can and no label sits on
    another. None when there is no money."""
    f = flows[flows["amount"] > 0].copy()
    if f.empty:
        return None
    unnamed = f["recipient"].eq("Recipient not named")
    f["node"] = f["recipient"].where(~unnamed, "Not named (" + f["fund"].astype(str) + ")")
    ranked = f.groupby("node")["amount"].sum().sort_values(ascending=False)
    if len(ranked) > most:
        others = set(ranked.index[most - 1:])
        f.loc[f["node"].isin(others), "node"] = f"Other recipients ({len(others)})"
    fund_total = f.groupby("fund_key", sort=False)["amount"].sum().sort_values(ascending=False)
    fund_nodes = list(fund_total.index)
    fund_name = dict(zip(f["fund_key"], f["fund"], strict=False))
    # each recipient under the fund giving it most, funds in order, largest recipient first within each
    main_fund = f.groupby(["node", "fund_key"])["amount"].sum().reset_index().sort_values(
        "amount", ascending=False).drop_duplicates("node").set_index("node")["fund_key"]
    node_total = f.groupby("node")["amount"].sum()
    recipients = sorted(node_total.index, key=lambda r: (fund_nodes.index(main_fund[r]),
                                                         r.startswith("Other recipients"), -node_total[r]))
    areas = list(f.groupby("area", sort=False)["amount"].sum().sort_values(ascending=False).index)
    columns = [[("fund", k) for k in fund_nodes], [("recipient", r) for r in recipients],
               [("area", a) for a in areas]]
    sizes = {("fund", k): fund_total[k] for k in fund_nodes} | {("recipient", r): node_total[r] for r in recipients} \
        | {("area", a): v for a, v in f.groupby("area")["amount"].sum().items()}
    index, xs, ys = {}, [], []
    for x, column in zip((0.001, 0.45, 0.999), columns, strict=True):
        ys += _stacked_centres([sizes[n] for n in column])
        xs += [x] * len(column)
        index |= {n: len(index) + i for i, n in enumerate(column)}
    full = [fund_name[k] for k in fund_nodes] + recipients + areas
    node_colour = [colours.get(k, "#555555") for k in fund_nodes] + ["#7f7f7f"] * len(recipients) \
        + ["#3d3d3d"] * len(areas)
    first = f.groupby(["fund_key", "node"], as_index=False, sort=False)["amount"].sum()
    second = f.groupby(["fund_key", "node", "area"], as_index=False, sort=False)["amount"].sum()
    source = [index[("fund", k)] for k in first["fund_key"]] + [index[("recipient", r)] for r in second["node"]]
    target = [index[("recipient", r)] for r in first["node"]] + [index[("area", a)] for a in second["area"]]
    value = first["amount"].round(2).tolist() + second["amount"].round(2).tolist()
    link_colour = [_rgba(colours.get(k, "#555555"), 0.4) for k in [*first["fund_key"], *second["fund_key"]]]
    link_text = [plain(fund_name[k]) for k in [*first["fund_key"], *second["fund_key"]]]
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat=",.0f",
        textfont={"size": 12, "color": "#1a1a1a", "shadow": "none"},
        node={"label": [short(n, 34) for n in full], "color": node_colour, "pad": 18, "thickness": 14,
              "x": xs, "y": ys, "line": {"width": 0},
              "customdata": [plain(n) for n in full],
              "hovertemplate": "%{customdata}<br>£%{value:,.0f}<extra></extra>"},
        link={"source": source, "target": target, "value": value, "color": link_colour, "customdata": link_text,
              "hovertemplate": "%{source.customdata} → %{target.customdata}<br>£%{value:,.0f} from "
                               "%{customdata}<extra></extra>"}))
    height = max(380, 48 * max(len(recipients), len(areas), len(fund_nodes)) + 90)
    layout(fig, "Where the money went: fund → recipient → place-based area", height)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 80, "b": 10})
    for x, text in ((0.0, "Fund"), (0.45, "Recipient"), (1.0, "Place-based area")):
        fig.add_annotation(x=x, y=1.0, xref="paper", yref="paper", text=f"<b>{text}</b>", showarrow=False,
                           xanchor={0.0: "left", 1.0: "right"}.get(x, "left"), yanchor="bottom", yshift=6)
    return fig


def _stacked_centres(sizes: list[float], pad: float = 0.035) -> list[float]:
    """Vertical centres (0 at the top, 1 at the bottom) of nodes stacked in order with a gap between each, each as
    tall as its share of the column: the positions Plotly's Sankey is given, so the order we chose is kept."""
    total = sum(sizes) or 1.0
    room = max(1.0 - pad * (len(sizes) - 1), 0.3)
    out, top = [], 0.0
    for s in sizes:
        h = room * s / total
        out.append(min(max(top + h / 2, 0.001), 0.999))
        top += h + pad
    return out


def flow_table(flows: pd.DataFrame) -> pd.DataFrame:
    """The flow chart's data as its table: every fund, recipient and area, largest first."""
    return flows.rename(columns={"fund": "Fund", "recipient": "Recipient", "area": "Area", "amount": "Amount (£)",
                                 "lines": "Allocation lines"})[
        ["Fund", "Recipient", "Area", "Amount (£)", "Allocation lines"]]


# -- allocated / applied for / unallocated, one bar per fund --------------------------------------------------------

def allocation_bar_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The bar chart's data (`fund_summary` rows): per fund, its total and what is allocated, applied for and
    unallocated (shares of the total when the total is known)."""
    total = summary["total"].where(summary["total"] > 0)
    return pd.DataFrame({
        "Fund": summary["name"], "Total (£)": summary["total"], "Allocated (£)": summary["allocated"],
        "Applied for, not awarded (£)": summary["applied"], "Unallocated (£)": summary["unallocated"],
        "Allocated (%)": (summary["allocated"] / total * 100).round(1),
        "Applied for (%)": (summary["applied"] / total * 100).round(1),
        "Unallocated (%)": (summary["unallocated"].clip(lower=0) / total * 100).round(1),
        "Amounts not recorded": summary["unknown_amounts"],
    })


def allocation_bars_figure(summary: pd.DataFrame) -> go.Figure | None:
    """One bar per fund, as shares of its total: allocated (awarded or paid), applied for (pipeline: hatched,
    its own colour, named "applied for, not awarded") and unallocated. A fund whose total is not recorded has no
    bar (it cannot be shared out) and a fund with amounts not recorded has no unallocated part: both are said on
    the bar, never drawn as £0. More allocated than the total is drawn past 100% and said."""
    if summary.empty:
        return None
    t = allocation_bar_table(summary)
    names = [short(n, 40) for n in summary["name"]]
    fig = go.Figure()
    parts = (("Allocated (awarded or paid)", "Allocated (%)", "allocated", ALLOCATED, ""),
             (APPLIED_LABEL, "Applied for (%)", "applied", APPLIED, "/"),
             ("Unallocated", "Unallocated (%)", "unallocated", UNALLOCATED, ""))
    for label, share, amount, colour, pattern in parts:
        values = summary[amount] if amount != "unallocated" else summary[amount].clip(lower=0)
        fig.add_bar(
            y=names, x=t[share].tolist(), orientation="h", name=label, marker={
                "color": colour, "line": {"color": "#8a5a00" if pattern else colour, "width": 1},
                "pattern": {"shape": pattern, "fgcolor": "#E69F00", "bgcolor": "#FBEBCB", "solidity": 0.2,
                            "fillmode": "replace"} if pattern else None},
            text=[(money_text(v, exact=False) + (" applied for" if pattern else "")) if pd.notna(v) and v > 0
                  else "" for v in values],
            textposition="inside", insidetextanchor="middle",
            textfont={"color": "white" if colour == ALLOCATED else "#1a1a1a"},
            customdata=[[plain(n), money_text(v)] for n, v in zip(summary["name"], values, strict=True)],
            hovertemplate=f"%{{customdata[0]}}<br>{plain(label)}: %{{customdata[1]}} (%{{x:.1f}}% of the total)"
                          "<extra></extra>")
    for name, row in zip(names, summary.itertuples(index=False), strict=True):
        note = _bar_note(row)
        if note:
            known = sum(v for v in (row.allocated, row.applied) if pd.notna(v))
            x = known / row.total * 100 if pd.notna(row.total) and row.total > 0 else 0
            fig.add_annotation(x=max(x, 0), y=name, text=note, showarrow=False, xanchor="left", xshift=6,
                               font={"size": 12, "color": "#333333"})
    fig.update_layout(barmode="stack", uniformtext={"minsize": 11, "mode": "hide"},
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "traceorder": "normal"},
                      xaxis={"title": "Share of the fund's total (%)", "range": [0, max(100, _widest(t)) * 1.02],
                             "ticksuffix": "%", "gridcolor": "#e5e5e5"},
                      yaxis={"autorange": "reversed"})
    layout(fig, "Each fund: allocated, applied for (not awarded) and unallocated", 170 + 56 * len(summary))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 90, "b": 10})
    return fig


def _widest(t: pd.DataFrame) -> float:
    shares = t[["Allocated (%)", "Applied for (%)", "Unallocated (%)"]].fillna(0).sum(axis=1)
    return float(shares.max()) if len(shares) else 100.0


def _bar_note(row) -> str:
    """What a fund's bar cannot show, said on it."""
    if pd.isna(row.total):
        return "total not recorded: no bar"
    notes = []
    if row.unknown_amounts:
        notes.append(f"{count_text(int(row.unknown_amounts), 'amount')} not recorded: unallocated not known")
    if pd.notna(row.unallocated) and row.unallocated < 0:
        notes.append(f"over-allocated: {money_text(row.unallocated)} unallocated")
    return "; ".join(notes)


def unknown_sentences(summary: pd.DataFrame) -> list[str]:
    """What the bars leave out, fund by fund, in words (Markdown-safe: the caller escapes)."""
    out = []
    for row in summary.itertuples(index=False):
        if pd.isna(row.total):
            out.append(f"{row.name}: the fund's total is not recorded, so what is unallocated is not known.")
        if row.unknown_amounts:
            out.append(f"{row.name}: {count_text(int(row.unknown_amounts), 'award or application', 'awards or applications')}"
                       " with no amount recorded (not drawn, not counted as £0), so what is unallocated is not known.")
        if pd.notna(row.unallocated) and row.unallocated < 0:
            out.append(f"{row.name}: {money_text(-row.unallocated)} more allocated and applied for than the fund "
                       f"holds ({money_text(row.unallocated)} unallocated).")
    return out


# -- when each fund's money ends ------------------------------------------------------------------------------------

def end_timeline_figure(timeline: pd.DataFrame, colours: dict[str, str], highlight: Iterable[str] = (),
                        as_at: dt.date | None = None) -> go.Figure | None:
    """`services_db.funds.funding_end_timeline`: one row per fund (its period a grey line), a marker where its
    money ends, sized by the money ending and labelled with how many grants end there and how much ("24 grants ·
    £34,800"): every grant counts, so 24 grants ending together are one marker saying 24. The chosen year's funds
    are drawn in full colour, the others faded."""
    if timeline.empty:
        return None
    chosen = set(highlight)
    order = list(dict.fromkeys(timeline["fund_key"]))
    fund = dict(zip(timeline["fund_key"], timeline["fund"], strict=False))
    label = {k: short(fund[k], 40) for k in order}
    fig = go.Figure()
    periods = timeline.drop_duplicates("fund_key")
    xs, ys = [], []
    for row in periods.itertuples(index=False):
        if pd.notna(row.fund_start) and pd.notna(row.fund_end):
            xs += [row.fund_start, row.fund_end, None]
            ys += [label[row.fund_key]] * 2 + [None]
    fig.add_scatter(x=xs, y=ys, mode="lines", line={"color": "#d4d4d4", "width": 4}, name="The fund's period",
                    hoverinfo="skip")
    biggest = float(timeline["amount"].max()) if timeline["amount"].notna().any() else 1.0
    for key in order:
        rows = timeline[timeline["fund_key"] == key]
        size = [12 + 30 * math.sqrt(a / biggest) if pd.notna(a) and biggest > 0 else 12 for a in rows["amount"]]
        text = [_ending_text(g, a, u) for g, a, u in zip(rows["grants"], rows["amount"], rows["unknown_amounts"],
                                                          strict=True)]
        fig.add_scatter(
            x=rows["ends"].tolist(), y=[label[key]] * len(rows), mode="markers+text", name=plain(fund[key]), showlegend=False,
            marker={"size": size, "color": colours.get(key, "#555555"), "line": {"color": "white", "width": 1},
                    "opacity": 1.0 if not chosen or key in chosen else 0.4},
            text=text, textposition="top center",
            textfont={"size": 12, "color": "#1a1a1a" if not chosen or key in chosen else "#6b6b6b"},
            customdata=[[plain(fund[key]), t, q] for t, q in zip(text, rows["quarter"], strict=True)],
            hovertemplate="%{customdata[0]}<br>ends %{x|%d %b %Y} (%{customdata[2]})<br>%{customdata[1]}"
                          "<extra></extra>")
    if as_at is not None:
        fig.add_shape(type="line", x0=as_at, x1=as_at, y0=0, y1=1, yref="paper",
                      line={"color": "#333333", "dash": "dot", "width": 1})
        fig.add_annotation(x=as_at, y=1, yref="paper", text=f"As at {as_at:%-d %b %Y}", showarrow=False,
                           yanchor="bottom", font={"size": 12})
    starts = pd.to_datetime(timeline["fund_start"]).min()
    ends = pd.to_datetime(timeline["ends"]).max()
    pad = pd.Timedelta(days=200)
    fig.update_layout(showlegend=False, xaxis={"title": "When the money ends", "tickformat": "%b %Y",
                                               "range": [starts - pad, ends + pd.Timedelta(days=240)],
                                               "gridcolor": "#e5e5e5"},
                      yaxis={"autorange": "reversed", "categoryorder": "array",
                             "categoryarray": [label[k] for k in order]})
    return layout(fig, "When each fund's money ends (marker size: money ending; label: grants and money)",
                   150 + 74 * len(order))


def _ending_text(grants: int, amount: float, unknown: int) -> str:
    text = f"{count_text(int(grants), 'grant')} · {money_text(amount, exact=False)}"
    return text + (f" ({int(unknown)} not recorded)" if unknown and pd.notna(amount) else "")


def end_table(timeline: pd.DataFrame) -> pd.DataFrame:
    """The timeline's data as its table: per fund and end date, the financial quarter, grants and money."""
    return pd.DataFrame({
        "Fund": timeline["fund"], "Ends": timeline["ends"], "Financial quarter": timeline["quarter"],
        "Grants ending": timeline["grants"], "Money ending (£)": timeline["amount"],
        "Amounts not recorded": timeline["unknown_amounts"], "Fund's year": timeline["financial_year"],
    })


# -- per head by area, payments by quarter ---------------------------------------------------------------------------

def per_head_figure(by_area: pd.DataFrame) -> go.Figure | None:
    """`services_db.funds.allocations_by_area`: £ per 1,000 residents, one bar per place-based area."""
    if by_area.empty:
        return None
    fig = go.Figure(go.Bar(x=[plain(n) for n in by_area["name"]], y=by_area["per_1000"].tolist(), marker_color=ALLOCATED,
                           hovertemplate="%{x}<br>£%{y:,.0f} per 1,000 residents<extra></extra>"))
    fig.update_layout(xaxis_title="Place-based area", yaxis={"title": "£ per 1,000 residents", "tickprefix": "£", "tickformat": ",.0f",
                                                             "gridcolor": "#e5e5e5"})
    return layout(fig, "Allocated funding per 1,000 residents, by place-based area", 420)


def phasing_figure(phasing: pd.DataFrame) -> go.Figure | None:
    """`services_db.funds.quarterly_payments`: £ paid per financial quarter; None when nothing has a date."""
    if phasing.empty:
        return None
    fig = go.Figure(go.Bar(x=phasing["quarter"].tolist(), y=phasing["amount"].tolist(), marker_color=ALLOCATED,
                           hovertemplate="%{x}<br>£%{y:,.0f} paid<extra></extra>"))
    fig.update_layout(xaxis={"title": "Financial quarter (Q1 = April to June)", "type": "category"},
                      yaxis={"title": "£ paid", "tickprefix": "£", "tickformat": ",.0f", "gridcolor": "#e5e5e5"})
    return layout(fig, "Payments by financial quarter", 380)
