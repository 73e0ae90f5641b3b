"""Compare areas: two or more place-based areas (or areas and the force) side by side, as ?places=A,B."""

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.chart_data import chart_with_data, csv_with_footer, footer
from components.context import as_at, cached, data_version, review_data
from components.format import escape, money
from services_db.compare import Comparison, choices, compare, places

# Okabe–Ito: told apart with the common colour-vision deficiencies; each place also has its own marker shape
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon"]


@cached
def _compare(version: str, codes: tuple[str, ...], when: dt.date) -> Comparison:
    return compare(review_data(), list(codes), when)


def _chosen(options: list[str]) -> list[str]:
    """The places in the URL (?places=, comma-separated names or codes) or picked; the URL follows the choice."""
    asked = [p.strip() for p in st.query_params.get("places", "").split(",") if p.strip()]
    codes, unknown = places(review_data(), asked)
    if unknown:
        st.warning("Not a place-based area of this force: " + ", ".join(f"“{escape(u)}”" for u in unknown))
    names = review_data().areas.set_index("code")["name"]
    default = [str(names[c]) for c in codes if str(names[c]) in options] or options[1:3]
    picked = st.multiselect("Places to compare (two or more)", options, default=default, key="compare_places")
    if ",".join(picked) != st.query_params.get("places"):
        st.query_params["places"] = ",".join(picked)
    return picked


def _need_figure(varying: pd.DataFrame) -> go.Figure:
    """Each place's rate on each indicator with its 95% interval, one colour and marker shape per place (hollow: an
    estimate, no interval)."""
    fig = go.Figure()
    for i, (name, rows) in enumerate(varying.groupby("place_name", sort=False)):
        colour = COLOURS[i % len(COLOURS)]
        fig.add_scatter(
            y=rows["indicator"], x=rows["rate"], mode="markers", name=name,
            marker=dict(color=colour, size=12, line=dict(width=2, color=colour),
                        symbol=[SYMBOLS[i % len(SYMBOLS)] + ("-open" if est else "") for est in rows["is_estimate"]]),
            error_x=dict(type="data", symmetric=False, array=(rows["upper"] - rows["rate"]).fillna(0),
                         arrayminus=(rows["rate"] - rows["lower"]).fillna(0)),
            customdata=rows[["rate_unit"]], hovertemplate="%{y}: %{x:,.2f} %{customdata[0]}<extra>" + name
            + "</extra>")
    fig.update_layout(title="Need: each place's rate with its 95% interval (hollow: an estimate, no interval; "
                            "the force is the benchmark)", xaxis_title="Rate",
                      height=170 + 70 * varying["indicator"].nunique(),
                      legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0), margin=dict(t=90))
    return fig


def _need(c: Comparison, when: dt.date) -> None:
    st.subheader("Need")
    need = c.need
    if need.empty:
        st.info("None of these places has a need figure. Import police.uk crime or IMD File 7 on the Data page.")
        return
    varying = need[~need["shared_out"].astype(bool)]
    shared = sorted(set(need.loc[need["shared_out"].astype(bool), "indicator"]))
    table = need.assign(value=[
        "no figure" if v != v else (f"{v:,.2f} ({lo:,.2f} – {hi:,.2f})" if lo == lo else f"{v:,.2f}")
        + (" (estimate)" if est else "")
        for v, lo, hi, est in zip(need["rate"], need["lower"], need["upper"], need["is_estimate"], strict=True)])
    table = table.pivot_table(index=["indicator", "rate_unit"], columns="place_name", values="value",
                              aggfunc="first", sort=False).reset_index().rename(
        columns={"indicator": "Indicator", "rate_unit": "Unit"})
    chart_with_data(
        _need_figure(varying) if len(varying) else None, table, key="compare_need_chart", title="need by place",
        as_at=when, empty="Every need indicator of these places is a force figure shared out by population: the "
                          "same rate everywhere, so there is nothing to compare.",
        caption="Not drawn: " + escape(", ".join(shared)) + " — a force figure shared out by population, the same "
                "rate everywhere, so no place can differ from another." if shared else None)


def _provision_figure(prov: pd.DataFrame) -> go.Figure:
    """Annual funding per resident by theme, one bar per place (colour and pattern), none where it is unknown."""
    fig = go.Figure()
    for i, (name, rows) in enumerate(prov.groupby("place_name", sort=False)):
        fig.add_bar(y=rows["theme_name"], x=rows["per_head"], orientation="h", name=name,
                    marker=dict(color=COLOURS[i % len(COLOURS)],
                                pattern=dict(shape=["", "/", ".", "x", "-", "|", "+", "\\"][i % 8])),
                    hovertemplate="%{y}: £%{x:,.2f} a head<extra>" + name + "</extra>")
    fig.update_layout(barmode="group", title="Annual funding per resident (£), apportioned to each place",
                      xaxis_title="£ per resident a year", xaxis_tickprefix="£",
                      height=160 + 16 * prov["theme_name"].nunique() * max(1, prov["place_name"].nunique()),
                      legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0), margin=dict(t=90),
                      yaxis=dict(autorange="reversed"), bargap=0.25)
    return fig


def _provision(c: Comparison, when: dt.date) -> None:
    st.subheader("Provision per head by theme")
    prov = c.provision
    unknown = prov[prov["per_head"].isna()]
    show = prov.assign(cell=[("not recorded" if v != v else f"£{v:,.2f}") + f" ({int(n)} services)"
                             if n == n else ("not recorded" if v != v else f"£{v:,.2f}")
                             for v, n in zip(prov["per_head"], prov["services"], strict=True)])
    table = show.pivot_table(index="theme_name", columns="place_name", values="cell", aggfunc="first",
                             sort=False).reset_index().rename(columns={"theme_name": "Theme"})
    chart_with_data(
        _provision_figure(prov), table, key="compare_provision_chart", title="provision per head by theme",
        as_at=when,
        caption="No bar where no money is recorded but a service's funding is not recorded (unknown, not £0): "
                + "; ".join(f"{escape(r.place_name)} — {escape(r.theme_name)}" for r in unknown.itertuples()) + "."
                if len(unknown) else None)


def _risk_and_findings(c: Comparison) -> None:
    st.subheader("Funding at risk and findings")
    columns = st.columns(len(c.places))
    for col, place in zip(columns, c.places.itertuples(), strict=True):
        with col:
            st.markdown(f"**{escape(place.name)}**")
            risk = c.at_risk[c.at_risk["place_code"] == place.code].iloc[0]
            st.metric("Funding ending within the cliff window", money(risk["at_risk"]),
                      help="Annual funding of the place's services whose funding ends within the review's cliff "
                           "window, apportioned to the place.")
            counts = c.findings[c.findings["place_code"] == place.code]
            st.dataframe(counts[["label", "count"]].rename(columns={"label": "Finding", "count": "Number"}),
                         hide_index=True, width="stretch", key=f"compare_counts_{place.code}")
            for f in c.top[c.top["place_code"] == place.code].itertuples():
                st.markdown(f"{f.rank}. " + escape(f.sentence) + (" *(estimate)*" if f.is_estimate else "")
                            + (f"  \n   *Ask:* {escape(f.question)}" if f.question else ""))


def main() -> None:
    version, when = data_version(), as_at()
    st.title("Compare areas")
    st.caption(f"As at {when:%-d %B %Y}. Pick two or more places; the link in the address bar opens this comparison.")
    options = choices(review_data())
    picked = _chosen(options)
    if len(picked) < 2:
        st.info("Pick at least two places (an area and the force count).")
        return
    codes, _ = places(review_data(), picked)
    c = _compare(version, tuple(codes), when)
    _need(c, when)
    _provision(c, when)
    _risk_and_findings(c)
    st.download_button("Download the whole comparison (CSV)", data=_csv(c, picked, when),
                       file_name="comparison.csv", mime="text/csv", key="compare_csv")


def _csv(c: Comparison, picked: list[str], when: dt.date) -> bytes:
    """Every figure of the comparison (need, provision, funding at risk, findings) in one spreadsheet-safe file,
    with the same source, date and fingerprint footer as each chart's data."""
    frames = [c.need.assign(view="need"), c.provision.assign(view="provision"), c.at_risk.assign(view="at risk"),
              c.findings.assign(view="findings")]
    return csv_with_footer(pd.concat(frames, ignore_index=True),
                           footer(when, "comparison of " + ", ".join(picked)))


main()
