"""One place-based area's page, assembled once: need, plans, activity and review (the four things seed 000's
Partnership Commissioning Review promised each Chief Inspector).

The area page and the briefing documents both call `area_profile`, so a figure in a printed briefing is the figure
on screen. It is pure over `ReviewData` (plus, optionally, the gaps Early Action Teams raised, which the caller
reads with `services_db.raised_gaps.gap_log`), and every review number comes from `services_db.review`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

import pandas as pd

from services_db import need as need_mod
from services_db.counting import CURRENT, NOT_STARTED, PLANNED, service_states
from services_db.directory import EXTRA_COLUMNS, coverage_counts, directory_frame
from services_db.hierarchy import UnknownAreaName, hierarchy_of
from services_db.review import Findings, review_area
from services_db.review.data import ReviewData
from services_db.review.gaps import NOT_RECORDED

REVIEW_SECTIONS = {
    "gap": "Gaps", "duplication": "Duplication", "inequity": "Inequity", "cliff": "Funding cliffs",
    "fair_share": "Fair share", "plan": "Priorities nothing answers", "unlinked": "Services linked to no priority",
    "data": "Data to check",
}
REVIEW_TABLES = {
    "gap": "gaps", "duplication": "duplication", "inequity": "inequity", "cliff": "cliff_lines",
    "fair_share": "fair_share", "plan": "plan_priorities", "unlinked": "unlinked_services",
}


@dataclass(frozen=True)
class NeedPart:
    indicators: pd.DataFrame  # services_db.need.area_need
    trends: pd.DataFrame  # services_db.need.need_trends


@dataclass(frozen=True)
class PlansPart:
    priorities: pd.DataFrame  # plan, priority, services (names, "; "), linked_services, unanswered
    unanswered: int


@dataclass(frozen=True)
class ActivityPart:
    services: pd.DataFrame  # directory rows of the services current at the date covering any LSOA of the area
    annual_funding: float  # sum of the current services' annual funding (whole services, not apportioned)
    # Services covering the area that are not current at the date, each with its `state` (planned, not yet
    # started, ended, withdrawn: services_db.counting): shown as such, never counted as activity.
    others: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def upcoming(self) -> pd.DataFrame:
        """The services not current yet: planned or not yet started."""
        if self.others.empty:
            return self.others
        return self.others[self.others["state"].isin([PLANNED, NOT_STARTED])].reset_index(drop=True)


@dataclass(frozen=True)
class ReviewPart:
    findings: Findings  # services_db.review.review_area: sentences, tables, parameters
    raised: pd.DataFrame  # gaps raised by Early Action Teams for the area (services_db.raised_gaps.gap_log rows)

    def sections(self) -> list[tuple[str, str, list, pd.DataFrame]]:
        """(kind, heading, findings, table) for each kind of finding, in REVIEW_SECTIONS order."""
        out = []
        for kind, heading in REVIEW_SECTIONS.items():
            table = self.findings.tables.get(REVIEW_TABLES.get(kind, ""), pd.DataFrame())
            if kind == "gap" and len(table):
                # the rows behind the gap findings: gaps, services whose funding is not recorded, and no figure
                # (missing is not zero: the last two are findings too, so their rows are shown beside them)
                unrecorded = table["reason"].eq(NOT_RECORDED) if "reason" in table.columns else False
                no_figure = ~table["has_need_figure"].astype(bool) if "has_need_figure" in table.columns else False
                table = table[table["is_gap"].astype(bool) | unrecorded | no_figure]
            out.append((kind, heading, self.findings.of_kind(kind), table))
        return out


@dataclass(frozen=True)
class AreaProfile:
    code: str
    name: str
    population: float
    population_is_estimate: bool
    districts: list[str]
    as_at: dt.date
    need: NeedPart
    plans: PlansPart
    activity: ActivityPart
    review: ReviewPart


def resolve_area(data: ReviewData, text: str | None) -> str | None:
    """A place-based area's code from its code or name as typed in a URL, or None (`Hierarchy.resolve`: case,
    spacing and "and" for "&" forgiven: people type "Burnley and Pendle")."""
    if not text:
        return None
    try:
        return hierarchy_of(data).resolve(text, ("area",))
    except UnknownAreaName:
        return None


def coverage_lsoas(data: ReviewData, area_code: str, as_at: dt.date,
                   service_ids: Collection[int] | None = None) -> pd.DataFrame:
    """Each LSOA of the area with how many services current at `as_at` (`services_db.counting`) cover it (share
    it: `directory.coverage_counts`); `service_ids` limits the services counted. Columns: code, services, name,
    parent_code, in the areas frame's order."""
    s = data.services
    states = service_states(s["status"], s["start_date"], s["end_date"], as_at,
                            s["known_from"] if "known_from" in s.columns else None)
    ids = set(s.loc[pd.Series(states, index=s.index) == CURRENT, "service_id"])
    if service_ids is not None:
        ids &= set(service_ids)
    cov = data.coverage[data.coverage["service_id"].isin(ids)].sort_values(["service_id", "area_code"])
    services = cov.groupby("service_id")["area_code"].agg(tuple).rename("coverage_codes").reset_index()
    counts = coverage_counts(data, services, "lsoa")
    lsoas = data.areas[data.areas["level"] == "lsoa"][["code", "name", "parent_code"]]
    counts = counts.merge(lsoas, on="code")
    return counts[counts["code"].isin(hierarchy_of(data).under(area_code))].reset_index(drop=True)


def _activity(data: ReviewData, code: str, as_at: dt.date) -> ActivityPart:
    touching = hierarchy_of(data).touching(code)
    ids = data.coverage.loc[data.coverage["area_code"].isin(touching), "service_id"].unique()
    hits = directory_frame(data, pd.DataFrame(columns=EXTRA_COLUMNS), as_at, service_ids=ids)
    current = hits[hits["is_current"]].reset_index(drop=True)  # services_db.counting's one "current at D" rule
    return ActivityPart(services=current, annual_funding=float(current["annual_funding"].sum()),
                        others=hits[~hits["is_current"]].reset_index(drop=True))


def _plans(data: ReviewData, priorities: pd.DataFrame, activity: ActivityPart) -> PlansPart:
    """The review's priorities for the area (plans whose period contains the date), each with the names of the
    area's current services linked to it: the same "current" test as the review's count beside them."""
    name_of = dict(zip(activity.services["service_id"], activity.services["name"], strict=False))
    links = data.service_priorities[data.service_priorities["service_id"].isin(set(name_of))]
    linked = links.groupby("priority_key")["service_id"].agg(
        lambda s: "; ".join(sorted(name_of[i] for i in s)))
    pr = priorities.copy()
    # a list, not .map().fillna(): with nothing linked the mapped column is float NaN, and filling it with text
    # is deprecated in pandas (an error in pandas 4)
    pr["services"] = [linked.get(k, "Nothing linked") for k in pr["priority_key"]]
    table = pr.rename(columns={"plan_name": "plan", "priority_name": "priority"})
    cols = ["plan", "priority", "services", "linked_services", "unanswered"]
    table = table[cols] if len(table) else pd.DataFrame(columns=cols)
    return PlansPart(priorities=table.reset_index(drop=True), unanswered=int(table["unanswered"].sum()))


def area_profile(data: ReviewData, area: str, as_at: dt.date, *, raised_gaps: pd.DataFrame | None = None,
                 **review_params) -> AreaProfile:
    """Everything the area page and the briefing show for one place-based area (code or name) at a date.

    `raised_gaps` (from `services_db.raised_gaps.gap_log`) are shown in the review and counted beside computed gaps;
    `review_params` go to `services_db.review.review_area` (thresholds; defaults from review.md).
    """
    code = resolve_area(data, area)
    if code is None:
        raise ValueError(f"There is no place-based area called '{area}'.")
    tree = hierarchy_of(data)
    row = data.areas[data.areas["code"] == code].iloc[0]
    districts = [tree.name_of(d) for d in tree.descendants(code, "district")]
    raised = raised_gaps if raised_gaps is not None else pd.DataFrame(columns=["area_code", "theme_key"])
    findings = review_area(data, code, as_at, raised_gaps=raised[["area_code", "theme_key"]] if len(raised)
                           else None, **review_params)
    activity = _activity(data, code, as_at)
    return AreaProfile(
        code=code, name=str(row["name"]), population=float(row["population"]),
        population_is_estimate=bool(row["population_is_estimate"]), districts=districts, as_at=as_at,
        need=NeedPart(indicators=need_mod.area_need(data, code), trends=need_mod.need_trends(data, code)),
        plans=_plans(data, findings.tables["plan_priorities"], activity),
        activity=activity,
        review=ReviewPart(findings=findings, raised=raised[raised["area_code"] == code].reset_index(drop=True)
                          if len(raised) else raised),
    )


def force_figures(data: ReviewData, as_at: dt.date) -> dict[str, float | int]:
    """The overview's counts at a date, by the one rule (`services_db.counting`) and the one money rule
    (`services_db.funds.money_totals`): services current, planned and not yet started; money allocated (awarded
    or paid, each pound once, in funds begun by the date), future money and applications (pipeline)."""
    from services_db.funds import money_totals

    s = data.services
    states = pd.Series(service_states(s["status"], s["start_date"], s["end_date"], as_at,
                                      s["known_from"] if "known_from" in s.columns else None))
    counts = states.value_counts()
    return {"services": int(counts.get(CURRENT, 0)), "planned": int(counts.get(PLANNED, 0)),
            "not_started": int(counts.get(NOT_STARTED, 0)), **money_totals(data, as_at)}


MAP_MEASURES = {
    "need": "Need indicator (per 1,000 residents)",
    "provision": "Provision (£ a year per 1,000 residents)",
    "funding": "Funding allocated (£ per 1,000 residents)",
    "gaps": "Number of gaps",
}


def force_map(data: ReviewData, as_at: dt.date, measure: str, *, indicator: str | None = None,
              fund_keys: list[str] | None = None, gaps: pd.DataFrame | None = None) -> pd.DataFrame:
    """One value per place-based area for the overview map: code, name, value, unit, is_estimate.

    need: the indicator's rate per 1,000 residents (services_db.need.area_need; NaN where the area has no
    figure); provision: current
    services' annual funding apportioned to the area by population (services_db.review.apportion) per 1,000
    residents; funding: fund allocations (money only, in funds begun by `as_at` unless `fund_keys` are given)
    placed in the area (services_db.funds.allocations_by_area) per 1,000 residents; gaps: flagged gaps of the
    force review (pass its `gaps` table to avoid recomputing it).
    """
    from services_db.funds import allocations_by_area
    from services_db.review import apportion
    from services_db.review import gaps as review_gaps

    areas = data.areas[data.areas["level"] == "area"][["code", "name", "population", "population_is_estimate"]]
    out = areas.copy()
    if measure == "need":  # the area page's rate (services_db.need.area_need), so both pages show one figure
        rows = {c: need_mod.area_need(data, c).set_index("indicator_key") for c in out["code"]}
        pick = {c: r.loc[indicator] for c, r in rows.items() if indicator in r.index}
        out["value"] = out["code"].map({c: r["rate"] for c, r in pick.items()})
        out["is_estimate"] = out["code"].map({c: bool(r["is_estimate"]) for c, r in pick.items()}).fillna(False)
        out["unit"] = "per 1,000 residents"
    elif measure == "provision":
        ap = apportion(data, as_at)
        money = ap.groupby(ap["lsoa_code"].map(hierarchy_of(data).ancestor_map("area")))["amount"].sum()
        out["value"] = out["code"].map(money).fillna(0.0) / out["population"] * 1000
        out["is_estimate"] = out["population_is_estimate"].astype(bool)
        out["unit"] = "£ a year per 1,000 residents"
    elif measure == "funding":
        if fund_keys is None:  # money received by the date: funds starting later are future money
            from services_db.funds import future_funds

            later = future_funds(data, as_at)
            fund_keys = [k for k in data.funds["fund_key"] if k not in later]
        by = allocations_by_area(data, fund_keys, "area").set_index("code")
        out["value"] = out["code"].map(by["per_1000"])
        out["is_estimate"] = out["population_is_estimate"].astype(bool)
        out["unit"] = "£ per 1,000 residents"
    elif measure == "gaps":
        g = gaps if gaps is not None else review_gaps(data, as_at, level="area")
        counts = g[g["is_gap"]].groupby("area_code").size()
        out["value"] = out["code"].map(counts).fillna(0).astype(int)
        out["is_estimate"] = False
        out["unit"] = "gaps"
    else:
        raise ValueError(f"unknown map measure {measure!r}; choose from {sorted(MAP_MEASURES)}")
    return out[["code", "name", "value", "unit", "is_estimate", "population"]].reset_index(drop=True)
