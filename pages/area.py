"""Area page: one place-based area's need, plans, activity and review, addressable as ?area=<name or code>."""

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.briefing import download_briefing
from components.chart_data import chart_with_data, map_table
from components.charts import (
    gap_caption,
    gap_chart,
    gap_table,
    integer_scale,
    spine_caption,
    spine_chart,
    spine_table,
    trend_chart,
)
from components.context import area_options, as_at, cached, data_version, database, review_data, shared
from components.format import ESTIMATE_NOTE, day, escape, estimate, money, plain
from components.maps import choropleth
from components.tables import colour_comparison, date_col, money_col, review_tables
from services_db.areas import AreaProfile, area_profile, coverage_lsoas, resolve_area
from services_db.brief import NEED_IMPORT, NEED_SOURCES, AreaBrief, area_brief, default_area, trend_lines
from services_db.need import SHARED_OUT, lsoa_indicators, lsoa_need
from services_db.raised_gaps import gap_log


@shared
def _profile(version: str, code: str, when: dt.date) -> AreaProfile:
    return area_profile(review_data(), code, when, raised_gaps=gap_log(database(), area_codes=[code]))


@cached
def _lsoa_need(version: str, code: str, indicator: str) -> pd.DataFrame:
    return lsoa_need(review_data(), code, indicator)


@cached
def _coverage(version: str, code: str, when: dt.date, service_ids: tuple[int, ...]) -> pd.DataFrame:
    return coverage_lsoas(review_data(), code, when, service_ids)


# Figures are held by `shared` (one object, no copy): a cached Plotly figure is unpickled and re-validated on every
# rerun, which cost more than drawing it. st.plotly_chart only reads the figure it is given.
@shared
def _need_map(version: str, code: str, indicator: str, title: str) -> go.Figure:
    lsoa = _lsoa_need(version, code, indicator)
    unit = str(lsoa["unit"].iloc[0]) if len(lsoa) else "per 1,000 residents"
    return choropleth(lsoa, level="lsoa", value="rate", codes_only=True, title=title, unit=unit)


@shared
def _coverage_map(version: str, code: str, when: dt.date, service_ids: tuple[int, ...], title: str) -> go.Figure:
    return integer_scale(choropleth(_coverage(version, code, when, service_ids), level="lsoa", value="services",
                                    codes_only=True, title=title, unit="services"))


@shared
def _brief(version: str, code: str, when: dt.date) -> AreaBrief:
    return area_brief(review_data(), _profile(version, code, when))


@shared
def _spine_figure(version: str, code: str, when: dt.date) -> go.Figure:
    brief = _brief(version, code, when)
    return spine_chart(brief.spine, brief.name)


@shared
def _gap_figure(version: str, code: str, when: dt.date) -> go.Figure:
    brief = _brief(version, code, when)
    return gap_chart(brief.gaps, brief.name)


@cached
def _default_area(version: str) -> str | None:
    return default_area(review_data())


@cached
def _resolved(version: str, asked: str | None) -> str | None:
    """The area code `asked` names (`resolve_area`), once per data version: the snapshot at the session's date is
    re-derived on each call of `review_data()`, a few milliseconds each on national data."""
    return resolve_area(review_data(), asked)


@cached
def _lsoa_indicators(version: str, code: str) -> list[str]:
    return lsoa_indicators(review_data(), code)


def _empty_need(name: str) -> str:
    """What to say when the area has no need figure: which data would fill it and how to bring it in."""
    return (f"No need indicator has a figure for {escape(name)} (an indicator counts for an area only when every one "
            "of its districts has a figure). Either of these would fill it:\n\n"
            + "".join(f"- {escape(src)}\n" for src in NEED_SOURCES) + "\n" + escape(NEED_IMPORT))


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
    wanted = _resolved(version, asked) or _default_area(version)
    default = names.index(options.loc[options["code"] == wanted, "name"].iloc[0]) \
        if wanted in set(options["code"]) else 0
    if asked and not _resolved(version, asked):
        st.warning(f"There is no place-based area called “{escape(asked)}”; showing {escape(names[default])}. "
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
               f"“{SHARED_OUT.capitalize()}”: every district's figure is the force's figure shared out by "
               "population, so no area can differ from the force on it. " + ESTIMATE_NOTE)


def _need_by_lsoa(version: str, code: str, name: str, ind: pd.DataFrame) -> None:
    """The LSOA map, only of indicators with LSOA values of their own: a district figure shared out by population
    paints each district one colour, which says nothing the Need table does not."""
    st.markdown("**By LSOA**")
    mappable = [k for k in _lsoa_indicators(version, code) if k in set(ind["indicator_key"])]
    if not mappable:
        st.info(f"No map by LSOA: no indicator has figures of its own below district level in {escape(name)}. "
                "Each LSOA's value would be its district's figure shared out by population, so every district "
                "would be one colour. Importing police.uk street-level crime (counted in each LSOA) or IMD 2019 "
                "File 7 on the Data in and out page gives every LSOA its own figure, and a map worth drawing.")
        return
    labels = dict(zip(ind["indicator_key"], ind["indicator"], strict=True))
    key = st.selectbox("Indicator to map by LSOA (those with LSOA figures of their own)", mappable,
                       format_func=labels.get, key="need_map_indicator")
    lsoa = _lsoa_need(version, code, key)
    unit = lsoa["unit"].iloc[0]
    title = f"{labels[key]} ({unit}) by LSOA"
    chart_with_data(_need_map(version, code, key, plain(title)),
                    map_table(lsoa, value="rate", label=f"Value ({unit})", place="LSOA"), key="need_map",
                    title=title, as_at=as_at(), filename=f"{key}-by-lsoa.csv", version=version,
                    caption="Some LSOA values are estimates (made by a documented rule)."
                    if lsoa["is_estimate"].any() else None)


@shared
def _trend_charts(version: str, code: str, when: dt.date) -> list[tuple[go.Figure, pd.DataFrame, str, bool]]:
    """Each trend of the area and the force: its figure, its table, its title and whether it holds estimates.
    Built once per area and date (five figures built on every rerun were a tenth of a warm page on national data)."""
    charts = []
    lines = trend_lines(_profile(version, code, when).need.trends)
    for (indicator, where), rows in lines.groupby(["indicator", "geography"], sort=False):
        table = pd.DataFrame({"Period": rows["period"], "Value": rows["value"], "Where": rows["geography"],
                              "Estimate": rows["is_estimate"].map({True: "estimate", False: ""})})
        charts.append((trend_chart(rows, str(indicator), str(where)), table, f"{indicator} ({where})",
                       bool(rows["is_estimate"].any())))
    return charts


def _trends(version: str, code: str, when: dt.date) -> None:
    st.markdown("**Trends**")
    charts = _trend_charts(version, code, when)
    if not charts:
        st.info("No indicator has two or more periods for this area or the force yet, so there is no trend to "
                "draw. Import later periods (police.uk crime month by month, for example) to see trends.")
        return
    for i, (fig, table, title, estimated) in enumerate(charts):
        chart_with_data(fig, table, key=f"trend_{i}", title=title, as_at=as_at(), filename=f"trend-{i + 1}.csv",
                        caption="Includes estimates (hollow markers)." if estimated else None, version=version)


def _need(profile: AreaProfile, version: str, code: str, when: dt.date) -> None:
    ind = profile.need.indicators
    st.subheader("Need")
    if ind.empty:
        st.info(f"No need indicator has a figure for {escape(profile.name)}. In brief, above, says which data "
                "would fill it and how to import it.")
    else:
        _need_table(ind)
        st.caption("The spine chart under In brief places each of these against the force's areas.")
        _need_by_lsoa(version, code, profile.name, ind)
    _trends(version, code, when)


def _plans(profile: AreaProfile, when: dt.date) -> None:
    pr = profile.plans.priorities
    if not _section("Plans", pr, "No current strategic plan applies to this area. Add plans on the Data page or "
                    "change the \"as at\" date."):
        return
    st.markdown(f"{len(pr)} priorities of the plans that apply at {when:%-d %B %Y}; "
                f"**{profile.plans.unanswered}** with no current service linked in this area.")
    show = pr.rename(columns={"plan": "Plan", "priority": "Priority",
                              "services": "Current services linked in this area",
                              "linked_services": "Services linked", "unanswered": "Nothing linked"})
    show["Nothing linked"] = show["Nothing linked"].map({True: "⚠ nothing linked", False: ""})
    st.dataframe(show, hide_index=True, width="stretch")


def _current_services(profile: AreaProfile, version: str, code: str, when: dt.date) -> None:
    svc = profile.activity.services
    st.markdown(f"{len(svc)} services cover some or all of {escape(profile.name)} as at {when:%-d %B %Y} "
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
    ids = tuple(int(i) for i in svc["service_id"])
    title = f"Services covering each LSOA of {profile.name}"
    chart_with_data(_coverage_map(version, code, when, ids, plain(title)),
                    map_table(_coverage(version, code, when, ids), value="services", label="Current services",
                              place="LSOA"),
                    key="coverage_map", title=title, as_at=when, filename="services-by-lsoa.csv", version=version)


def _not_current(profile: AreaProfile, when: dt.date) -> None:
    others = profile.activity.others
    if not len(others):
        return
    st.markdown(f"**Not current at {when:%-d %B %Y}**: {len(others)} more services cover the area but are "
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
        "Number": raised["id"], "Status": raised["status_label"], "Raised": raised["raised_at"].map(day),
        "Theme": raised["theme"], "Who is affected": raised["affected"], "What happened": raised["description"]}),
        hide_index=True, width="stretch", column_config={"What happened": st.column_config.TextColumn(width="large")})


def _review(profile: AreaProfile) -> None:
    """Every finding, grouped by kind, each kind with its sentences, the questions they end in and its table."""
    st.subheader("Review")
    params = profile.review.findings.params
    st.caption(f"Thresholds: gap where need share ≥ {params['need_ratio']} × population share and gap index ≥ "
               f"{params['min_gap_index']}; duplication where coverage overlaps ≥ {params['min_overlap']:.0%}; "
               f"cliffs within {params['cliff_months']} months.")
    for kind, heading, items, _table in profile.review.sections():
        if kind in ("fair_share", "data") and not items:
            continue
        st.markdown(f"#### {heading}" + (f" ({len(items)})" if items else ""))
        if not items:
            st.markdown("_None found at this date._")
            continue
        for f in items:
            st.markdown("- " + escape(f.sentence) + (" *(estimate)*" if f.is_estimate else ""))
        with st.expander(f"Questions for partners ({len(items)})"):
            for f in items:
                st.markdown("- " + escape(f.question))
        review_tables(profile.review.findings, kind, "area_review")
    _raised(profile.review.raised)


def _brief_findings(brief: AreaBrief) -> None:
    if not brief.items:
        st.markdown("_The review finds nothing to raise for this area at this date._")
        return
    for i, item in enumerate(brief.items, start=1):
        f = item.finding
        st.markdown(f"**{i}. {item.label}.** " + escape(f.sentence) + (" *(estimate)*" if f.is_estimate else "")
                    + ("" if f.scope == "area" else " *(about the whole force)*"))
        st.markdown("> **Ask:** " + escape(f.question))
    st.caption("Chosen by one fixed ranking: gaps with need and no provision, other gaps by money to parity, "
               "funding cliffs soonest first, duplication, funding not recorded, missing need figures, inequity, "
               "then plans; at most two of one kind; findings about the area before those about the whole force."
               + (f" {brief.more} more findings are in the Review tab." if brief.more else ""))


def _brief_spine(brief: AreaBrief, version: str, when: dt.date) -> None:
    spine = brief.spine
    chart_with_data(None if spine.empty else _spine_figure(version, brief.code, when), spine_table(spine),
                    key="spine_chart", title=f"{brief.name} against the force's areas on each need indicator",
                    as_at=when, filename="area-need-spine.csv", caption=spine_caption(spine), version=version,
                    empty=_empty_need(brief.name))


def _brief_gaps(brief: AreaBrief, version: str, when: dt.date) -> None:
    gaps = brief.gaps
    chart_with_data(None if gaps.empty else _gap_figure(version, brief.code, when), gap_table(gaps),
                    key="gap_chart", title=f"{brief.name}: share of the need against share of the provision, by theme",
                    as_at=when, filename="area-need-provision.csv", caption=gap_caption(gaps), version=version,
                    empty=f"No theme has a need figure for {escape(brief.name)}, so its need cannot be set against "
                          "its provision. The need data listed above would give it one.")


def _in_brief(profile: AreaProfile, version: str, when: dt.date) -> None:
    """The summary above the tabs: what to raise, and the two pictures of the area against the force."""
    brief = _brief(version, profile.code, when)
    st.subheader("In brief")
    _brief_findings(brief)
    st.markdown("**Need against the force**")
    _brief_spine(brief, version, when)
    st.markdown("**Need share against provision share (the gap picture)**")
    _brief_gaps(brief, version, when)


def main() -> None:
    version, when = data_version(), as_at()
    code, name = _chosen_area(version)
    with st.spinner(f"Reviewing {name}…"):
        profile = _profile(version, code, when)

    st.header(escape(profile.name))
    st.caption(f"Districts: {escape(', '.join(profile.districts))} · "
               f"{estimate(f'{profile.population:,.0f} residents', profile.population_is_estimate)} · "
               f"as at {when:%-d %B %Y}")
    download_briefing(profile.name, when)
    _in_brief(profile, version, when)

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
