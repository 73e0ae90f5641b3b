"""Area page: one place-based area's need, plans, activity and review, addressable as ?area=<name or code>."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.briefing import download_briefing
from components.context import area_options, as_at, cached, data_version, database, review_data, shared
from components.format import ESTIMATE_NOTE, day, escape, estimate, money
from components.maps import choropleth
from components.tables import colour_comparison, date_col, money_col, review_tables
from services_db.areas import AreaProfile, area_profile, resolve_area
from services_db.directory import coverage_counts
from services_db.gaps import gap_log
from services_db.need import lsoa_need


@shared
def _profile(version: str, code: str, when) -> AreaProfile:
    return area_profile(review_data(), code, when, raised_gaps=gap_log(database(), area_codes=[code]))


@cached
def _lsoa_need(version: str, code: str, indicator: str) -> pd.DataFrame:
    return lsoa_need(review_data(), code, indicator)


@cached
def _coverage(version: str, code: str, service_ids: tuple[int, ...]) -> pd.DataFrame:
    data = review_data()
    from services_db.directory import EXTRA_COLUMNS, directory_frame

    frame = directory_frame(data, pd.DataFrame(columns=EXTRA_COLUMNS), as_at())
    counts = coverage_counts(data, frame[frame["service_id"].isin(service_ids)], "lsoa")
    lsoas = data.areas[data.areas["level"] == "lsoa"][["code", "name", "parent_code"]]
    districts = set(data.areas.loc[(data.areas["level"] == "district") & (data.areas["parent_code"] == code), "code"])
    counts = counts.merge(lsoas, on="code")
    return counts[counts["parent_code"].isin(districts)].reset_index(drop=True)


@cached
def _need_chart(version: str, code: str, when) -> go.Figure:
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
def _coverage_map(version: str, code: str, service_ids: tuple[int, ...], title: str) -> go.Figure:
    return choropleth(_coverage(version, code, service_ids), level="lsoa", value="services", codes_only=True,
                      title=title, unit="services")


version, when = data_version(), as_at()
options = area_options(version)
names = options["name"].tolist()
wanted = resolve_area(review_data(), st.query_params.get("area"))
default = names.index(options.loc[options["code"] == wanted, "name"].iloc[0]) if wanted else 0
if st.query_params.get("area") and not wanted:
    st.warning(f"There is no place-based area called “{escape(st.query_params.get('area'))}”; showing "
               f"{escape(names[0])}. Choose one below.")

st.title("Area page")
name = st.selectbox("Place-based area", names, index=default, key="area_choice")
code = options.loc[options["name"] == name, "code"].iloc[0]
if st.query_params.get("area") != name:
    st.query_params["area"] = name

with st.spinner(f"Reviewing {name}…"):
    profile = _profile(version, code, when)

st.header(escape(profile.name))
st.caption(f"Districts: {escape(', '.join(profile.districts))} · "
           f"{estimate(f'{profile.population:,.0f} residents', profile.population_is_estimate)} · "
           f"as at {when:%d %B %Y}")
download_briefing(profile.name, when)

need_tab, plans_tab, activity_tab, review_tab = st.tabs(["Need", "Plans", "Activity", "Review"])

with need_tab:
    st.subheader("Need")
    ind = profile.need.indicators
    if ind.empty:
        st.info("No need indicators have figures for this area. Import indicator data (Data page) or pick "
                "another area.")
    else:
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
        st.plotly_chart(_need_chart(version, code, when), width="stretch", key="need_chart")

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

    trends = profile.need.trends
    st.markdown("**Trends**")
    if trends.empty:
        st.info("No indicator has more than one period for this area yet. Import later periods to see trends.")
    else:
        for indicator, rows in trends.groupby("indicator"):
            where = rows["geography"].iloc[0]
            fig = go.Figure(go.Scatter(x=rows["period"], y=rows["value"], mode="lines+markers"))
            fig.update_layout(title=f"{indicator} ({where})", xaxis_title="Period", yaxis_title=indicator,
                              height=320)
            st.plotly_chart(fig, width="stretch", key=f"trend_{indicator}")
            if rows["is_estimate"].any():
                st.caption("Includes estimates.")

with plans_tab:
    st.subheader("Plans")
    pr = profile.plans.priorities
    if pr.empty:
        st.info("No current strategic plan applies to this area. Add plans on the Data page or change the "
                "\"as at\" date.")
    else:
        st.markdown(f"{len(pr)} priorities of the plans that apply at {when:%d %B %Y}; "
                    f"**{profile.plans.unanswered}** with no current service linked in this area.")
        show = pr.rename(columns={"plan": "Plan", "priority": "Priority",
                                  "services": "Current services linked in this area",
                                  "linked_services": "Services linked", "unanswered": "Nothing linked"})
        show["Nothing linked"] = show["Nothing linked"].map({True: "⚠ nothing linked", False: ""})
        st.dataframe(show, hide_index=True, width="stretch")

with activity_tab:
    st.subheader("Activity")
    svc = profile.activity.services
    if svc.empty:
        st.info("No service covers any part of this area at this date. Try another \"as at\" date.")
    else:
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
        st.plotly_chart(_coverage_map(version, code, tuple(int(i) for i in svc["service_id"]),
                                      f"Services covering each LSOA of {profile.name}"),
                        width="stretch", key="coverage_map")
    others = profile.activity.others
    if len(others):
        st.markdown(f"**Not current at {when:%d %B %Y}**: {len(others)} more services cover the area but are "
                    "planned, not yet started, ended or withdrawn at this date; they are not counted above.")
        st.dataframe(pd.DataFrame({
            "Service": others["name"], "At this date": others["state"], "Provider": others["provider"],
            "Themes": others["themes"], "Starts": others["start_date"], "Ends": others["end_date"],
        }), hide_index=True, width="stretch", key="activity_not_current",
            column_config={"Starts": date_col("Starts"), "Ends": date_col("Ends")})

with review_tab:
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
    st.markdown("#### Gaps raised by Early Action Teams")
    raised = profile.review.raised
    if raised.empty:
        st.markdown("_No gaps raised for this area yet. Early Action Teams can raise one on the Raise a gap page._")
    else:
        st.dataframe(pd.DataFrame({
            "Number": raised["id"], "Raised": raised["raised_at"].map(day), "Theme": raised["theme"],
            "Who is affected": raised["affected"], "What happened": raised["description"],
            "Status": raised["status_label"]}), hide_index=True, width="stretch")
