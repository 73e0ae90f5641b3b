"""Area page: one place-based area's need, plans, activity and review, addressable as ?area=<name or code>."""

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.briefing import download_briefing
from components.context import area_options, as_at, cached, data_version, database, review_data, shared
from components.format import ESTIMATE_NOTE, day, escape, estimate, money
from components.maps import choropleth
from components.tables import colour_comparison, date_col, money_col, review_tables
from services_db.areas import AreaProfile, area_profile, coverage_lsoas, resolve_area
from services_db.gaps import gap_log
from services_db.need import lsoa_need


@shared
def _profile(version: str, code: str, when: dt.date) -> AreaProfile:
    return area_profile(review_data(), code, when, raised_gaps=gap_log(database(), area_codes=[code]))


@cached
def _lsoa_need(version: str, code: str, indicator: str) -> pd.DataFrame:
    return lsoa_need(review_data(), code, indicator)


@cached
def _coverage(version: str, code: str, when: dt.date, service_ids: tuple[int, ...]) -> pd.DataFrame:
    return coverage_lsoas(review_data(), code, when, service_ids)


@cached
def _need_chart(version: str, code: str, when: dt.date) -> go.Figure:
    profile = _profile(version, code, when)
    ind = profile.need.indicators
    fig = go.Figure()
    fig.add_bar(x=ind["indicator"], y=ind["rate"], name=profile.name,
                error_y=dict(type="data", symmetric=False, array=ind["upper"] - ind["rate"],
                             arrayminus=ind["rate"] - ind["lower"]))
    fig.add_scatter(x=ind["indicator"], y=ind["force_rate"], mode="markers", name="Force rate",
                    marker=dict(symbol="line-ew-open", size=40, line=dict(width=3)))
    fig.update_layout(title=f"{profile.name} against the force (rate per 1,000 residents, 95% CI)",
                      xaxis_title="Indicator", yaxis_title="Rate per 1,000 residents", height=420)
    return fig


@cached
def _need_map(version: str, code: str, indicator: str, title: str) -> go.Figure:
    lsoa = _lsoa_need(version, code, indicator)
    unit = str(lsoa["unit"].iloc[0]) if len(lsoa) else "per 1,000 residents"
    return choropleth(lsoa, level="lsoa", value="rate", codes_only=True, title=title, unit=unit)


@cached
def _coverage_map(version: str, code: str, when: dt.date, service_ids: tuple[int, ...], title: str) -> go.Figure:
    return choropleth(_coverage(version, code, when, service_ids), level="lsoa", value="services", codes_only=True,
                      title=title, unit="services")


def _section(heading: str, rows: pd.DataFrame, empty: str) -> bool:
    """A tab's heading; when it has no rows, say so (`empty`: what to do about it) and return False."""
    st.subheader(heading)
    if rows.empty:
        st.info(empty)
        return False
    return True


def _chosen_area(version: str) -> tuple[str, str]:
    """The area asked for in the URL (?area=, by name or code) or picked in the selector: (code, name)."""
    options = area_options(version)
    names = options["name"].tolist()
    asked = st.query_params.get("area")
    wanted = resolve_area(review_data(), asked)
    default = names.index(options.loc[options["code"] == wanted, "name"].iloc[0]) if wanted else 0
    if asked and not wanted:
        st.warning(f"There is no place-based area called “{escape(asked)}”; showing {escape(names[0])}. "
                   "Choose one below.")
    st.title("Area page")
    name = st.selectbox("Place-based area", names, index=default, key="area_choice")
    if st.query_params.get("area") != name:
        st.query_params["area"] = name
    return options.loc[options["name"] == name, "code"].iloc[0], name


def _need_table(ind: pd.DataFrame) -> None:
    table = pd.DataFrame({
        "Indicator": ind["indicator"], "Period": ind["period"],
        "Count": ind["count"].round(0),
        "Rate per 1,000 residents": ind["rate"].round(2),
        "95% CI": [f"{lo:,.2f} – {hi:,.2f}" if lo == lo and hi == hi else "none (estimate)" if est else "none"
                   for lo, hi, est in zip(ind["lower"], ind["upper"], ind["is_estimate"], strict=True)],
        "Force rate": ind["force_rate"].round(2),
        "Compared with the force": ind["comparison"],
        "Estimate": ind["is_estimate"].map({True: "estimate", False: ""}),
    })
    st.dataframe(colour_comparison(table, "Compared with the force"), hide_index=True, width="stretch",
                 column_config={"Count": st.column_config.NumberColumn(format="%,.0f"),
                                "Rate per 1,000 residents": st.column_config.NumberColumn(format="%.2f"),
                                "Force rate": st.column_config.NumberColumn(format="%.2f")})
    st.caption("Better / similar / worse: the area's 95% confidence interval (Byar's method for counts, "
               "Wilson's for proportions, as public health profiles do) lies wholly below, across or above "
               "the force's rate; higher / similar / lower where an indicator has no good direction. "
               + ESTIMATE_NOTE)


def _need_by_lsoa(version: str, code: str, ind: pd.DataFrame) -> None:
    labels = dict(zip(ind["indicator_key"], ind["indicator"], strict=True))
    key = st.selectbox("Indicator to map by LSOA", list(labels), format_func=labels.get, key="need_map_indicator")
    lsoa = _lsoa_need(version, code, key)
    if lsoa["rate"].notna().any():
        st.plotly_chart(_need_map(version, code, key, f"{labels[key]} ({lsoa['unit'].iloc[0]}) by LSOA"),
                        width="stretch", key="need_map")
        if lsoa["is_estimate"].any():
            st.caption("LSOA values are estimates: the district figure shared over its LSOAs by population.")
    else:
        st.info("This indicator has no figures below the force level. Choose another indicator.")


def _trends(trends: pd.DataFrame) -> None:
    st.markdown("**Trends**")
    if trends.empty:
        st.info("No indicator has more than one period for this area yet. Import later periods to see trends.")
        return
    for indicator, rows in trends.groupby("indicator"):
        where = rows["geography"].iloc[0]
        fig = go.Figure(go.Scatter(x=rows["period"], y=rows["value"], mode="lines+markers"))
        fig.update_layout(title=f"{indicator} ({where})", xaxis_title="Period", yaxis_title=indicator, height=320)
        st.plotly_chart(fig, width="stretch", key=f"trend_{indicator}")
        if rows["is_estimate"].any():
            st.caption("Includes estimates.")


def _need(profile: AreaProfile, version: str, code: str, when: dt.date) -> None:
    ind = profile.need.indicators
    if _section("Need", ind, "No need indicators have figures for this area. Import indicator data (Data page) "
                "or pick another area."):
        _need_table(ind)
        st.plotly_chart(_need_chart(version, code, when), width="stretch", key="need_chart")
        _need_by_lsoa(version, code, ind)
    _trends(profile.need.trends)


def _plans(profile: AreaProfile, when: dt.date) -> None:
    pr = profile.plans.priorities
    if not _section("Plans", pr, "No current strategic plan applies to this area. Add plans on the Data page or "
                    "change the \"as at\" date."):
        return
    st.markdown(f"{len(pr)} priorities of the plans that apply at {when:%d %B %Y}; "
                f"**{profile.plans.unanswered}** with no current service linked in this area.")
    show = pr.rename(columns={"plan": "Plan", "priority": "Priority",
                              "services": "Current services linked in this area",
                              "linked_services": "Services linked", "unanswered": "Nothing linked"})
    show["Nothing linked"] = show["Nothing linked"].map({True: "⚠ nothing linked", False: ""})
    st.dataframe(show, hide_index=True, width="stretch")


def _current_services(profile: AreaProfile, version: str, code: str, when: dt.date) -> None:
    svc = profile.activity.services
    st.markdown(f"{len(svc)} services cover some or all of {escape(profile.name)} as at {when:%d %B %Y} "
                f"(services current at that date); their annual funding (whole services, wherever they work) "
                f"is {money(profile.activity.annual_funding)}.")
    show = pd.DataFrame({
        "Service": svc["name"], "Provider": svc["provider"], "Commissioners": svc["commissioners"],
        "Annual funding (£)": svc["annual_funding"],
        "Funding": svc["funding_is_estimate"].map({True: "estimate", False: ""}),
        "Tier": svc["tier"], "Themes": svc["themes"], "Starts": svc["start_date"], "Ends": svc["end_date"],
        "End date": svc["end_date_is_estimate"].map({True: "estimate", False: ""}), "Covers": svc["coverage"],
    })
    st.dataframe(show, hide_index=True, width="stretch",
                 column_config={"Annual funding (£)": money_col("Annual funding (£)"),
                                "Starts": date_col("Starts"), "Ends": date_col("Ends")})
    st.plotly_chart(_coverage_map(version, code, when, tuple(int(i) for i in svc["service_id"]),
                                  f"Services covering each LSOA of {profile.name}"),
                    width="stretch", key="coverage_map")


def _not_current(profile: AreaProfile, when: dt.date) -> None:
    others = profile.activity.others
    if not len(others):
        return
    st.markdown(f"**Not current at {when:%d %B %Y}**: {len(others)} more services cover the area but are "
                "planned, not yet started, ended or withdrawn at this date; they are not counted above.")
    st.dataframe(pd.DataFrame({
        "Service": others["name"], "At this date": others["state"], "Provider": others["provider"],
        "Themes": others["themes"], "Starts": others["start_date"], "Ends": others["end_date"],
    }), hide_index=True, width="stretch", key="activity_not_current",
        column_config={"Starts": date_col("Starts"), "Ends": date_col("Ends")})


def _activity(profile: AreaProfile, version: str, code: str, when: dt.date) -> None:
    if _section("Activity", profile.activity.services,
                "No service covers any part of this area at this date. Try another \"as at\" date."):
        _current_services(profile, version, code, when)
    _not_current(profile, when)


def _raised(raised: pd.DataFrame) -> None:
    st.markdown("#### Gaps raised by Early Action Teams")
    if raised.empty:
        st.markdown("_No gaps raised for this area yet. Early Action Teams can raise one on the Raise a gap page._")
        return
    st.dataframe(pd.DataFrame({
        "Number": raised["id"], "Raised": raised["raised_at"].map(day), "Theme": raised["theme"],
        "Who is affected": raised["affected"], "What happened": raised["description"],
        "Status": raised["status_label"]}), hide_index=True, width="stretch")


def _review(profile: AreaProfile) -> None:
    st.subheader("Review")
    params = profile.review.findings.params
    st.caption(f"Thresholds: gap where need share ≥ {params['need_ratio']} × population share and gap index ≥ "
               f"{params['min_gap_index']}; duplication where coverage overlaps ≥ {params['min_overlap']:.0%}; "
               f"cliffs within {params['cliff_months']} months.")
    for kind, heading, items, _table in profile.review.sections():
        if kind in ("fair_share", "data") and not items:
            continue
        st.markdown(f"#### {heading}")
        if not items:
            st.markdown("_None found at this date._")
            continue
        for f in items:
            st.markdown("- " + escape(f.sentence) + (" *(estimate)*" if f.is_estimate else ""))
        review_tables(profile.review.findings, kind, "area_review")
    _raised(profile.review.raised)


def main() -> None:
    version, when = data_version(), as_at()
    code, name = _chosen_area(version)
    with st.spinner(f"Reviewing {name}…"):
        profile = _profile(version, code, when)

    st.header(escape(profile.name))
    st.caption(f"Districts: {escape(', '.join(profile.districts))} · "
               f"{estimate(f'{profile.population:,.0f} residents', profile.population_is_estimate)} · "
               f"as at {when:%d %B %Y}")
    download_briefing(profile.name, when)

    need_tab, plans_tab, activity_tab, review_tab = st.tabs(["Need", "Plans", "Activity", "Review"])
    with need_tab:
        _need(profile, version, code, when)
    with plans_tab:
        _plans(profile, when)
    with activity_tab:
        _activity(profile, version, code, when)
    with review_tab:
        _review(profile)


main()
