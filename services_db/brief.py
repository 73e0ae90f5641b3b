""""In brief": what a Chief Inspector should read first about one place-based area, before the detail tabs.

Three things, each built here so the page only draws them (issue 14):

1. **The findings that matter most** (`top_findings`): 3 to 5 of the area's review findings, each with its question
   for partners, chosen by one documented, deterministic ranking (`RANKS`, below).
2. **The spine chart** (`spine`): the area against the force on every need indicator, as public health profiles
   (PHE Fingertips) draw it, so indicators of very different sizes share one chart without one flattening the rest.
3. **The gap picture** (`gap_picture`): need share against provision share for each theme with a need figure.

Missing is not zero throughout: an indicator the area has no figure for is not drawn, a provision share that
cannot be known (no funding recorded) is "unknown", never 0%, and every estimate says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services_db import need as need_mod
from services_db.areas import AreaProfile
from services_db.hierarchy import hierarchy_of
from services_db.review import Findings
from services_db.review.data import ReviewData
from services_db.review.dates import period_end
from services_db.review.findings import Finding
from services_db.review.gaps import NOT_RECORDED

BRIEF_MAX = 5  # findings in the summary; the Review tab has them all
BRIEF_MIN = 3
PER_RANK = 2  # at most two findings of one rank, so five "funding not recorded" gaps do not crowd out the rest

# The ranking, most important first. A finding's rank is the first that fits; within a rank, findings about the
# area come before findings about the whole force (scope), then by the rank's own order (below), then by sentence.
#   gap-none      a gap where need is present and nothing is provided (no current service, or all its funding £0)
#   gap           any other flagged gap: largest money to parity first
#   cliff         funding ending within the review's window: soonest first end, then largest sum at risk
#   duplication   services overlapping in the area: largest money potentially duplicated first
#   unrecorded    need above the population share where services' funding is not recorded: largest need share first
#   no-figure     themes whose gap cannot be measured for want of a need figure
#   inequity      funds (or themes) where a district of the area received nothing: most other districts funded first
#   fair-share    shortfall against a fair share: largest first
#   plan          plan priorities nothing answers
#   unlinked      services linked to no priority
#   data          data to check
RANKS = ("gap-none", "gap", "cliff", "duplication", "unrecorded", "no-figure", "inequity", "fair-share", "plan",
         "unlinked", "data")
RANK_LABELS = {
    "gap-none": "Gap: need and no provision", "gap": "Gap", "cliff": "Funding cliff", "duplication": "Duplication",
    "unrecorded": "Funding not recorded", "no-figure": "No need figure", "inequity": "Inequity",
    "fair-share": "Fair share", "plan": "Priority nothing answers", "unlinked": "Services linked to no priority",
    "data": "Data to check",
}

# What the empty need state says: the data that would fill it and where to import it (no package ships IMD figures,
# so the demo cannot carry them).
NEED_SOURCES = (
    "police.uk street-level crime (a month's CSV for the force, from data.police.uk/data): each crime counted in "
    "its LSOA, so every area gets its own figures and an LSOA map",
    "the English Indices of Deprivation 2019, File 7 (scores, ranks and populations per LSOA, from gov.uk)",
)
NEED_IMPORT = ("An administrator imports either file on the Data in and out page (Import need data); the area page "
               "shows the new indicators as soon as the import is applied.")


@dataclass(frozen=True)
class BriefItem:
    """One finding of the summary and why it is there (its rank's label)."""

    finding: Finding
    rank: str
    label: str


@dataclass(frozen=True)
class AreaBrief:
    """What the area page draws above its tabs."""

    code: str
    name: str
    items: list[BriefItem]
    more: int  # findings in the Review tab not shown here
    spine: pd.DataFrame  # `spine`
    gaps: pd.DataFrame  # `gap_picture`


# -- the findings -------------------------------------------------------------------------------------------------


def _gap_rows(findings: Findings) -> dict[tuple, dict]:
    table = findings.tables.get("gaps", pd.DataFrame()) if hasattr(findings.tables, "get") else pd.DataFrame()
    if not len(table):
        return {}
    return {(r["area_code"], r["theme_key"]): r for r in table.to_dict("records")}


def _first_end(findings: Findings) -> pd.Timestamp:
    total = findings.tables.get("cliff_total", pd.DataFrame())
    if len(total) and "first_end" in total.columns:
        first = pd.to_datetime(total["first_end"], errors="coerce").min()
        if pd.notna(first):
            return first
    return pd.Timestamp.max


def rank_of(finding: Finding, gaps: dict[tuple, dict]) -> str:
    """The rank (`RANKS`) of one finding; a gap's from its row of the review's gaps table (by area and theme, never
    by reading its sentence)."""
    if finding.kind == "gap":
        row = gaps.get((finding.area_code, finding.theme_key))
        if row is None:
            return "no-figure"
        if bool(row.get("is_gap")):
            known_zero = float(row.get("provision") or 0) <= 0 and int(row.get("unknown_funding") or 0) == 0
            return "gap-none" if known_zero else "gap"
        if row.get("reason") == NOT_RECORDED:
            return "unrecorded"
        return "no-figure" if not bool(row.get("has_need_figure", True)) else "gap"
    return {"cliff": "cliff", "duplication": "duplication", "inequity": "inequity", "fair_share": "fair-share",
            "plan": "plan", "unlinked": "unlinked"}.get(finding.kind, "data")


def _order_key(finding: Finding, rank: str, gaps: dict[tuple, dict], first_end: pd.Timestamp) -> tuple:
    money = finding.importance if math.isfinite(finding.importance) else 0.0
    if rank == "cliff":
        within = (first_end.value if first_end is not pd.Timestamp.max else math.inf, -money)
    elif rank == "unrecorded":
        row = gaps.get((finding.area_code, finding.theme_key), {})
        within = (-float(row.get("need_share") or 0.0), -int(row.get("services") or 0))
    elif rank == "inequity":
        within = (-float(finding.figures.get("n_funded", 0.0)), -money)
    else:
        within = (-money,)
    return (RANKS.index(rank), 0 if finding.scope == "area" else 1, *within, finding.sentence)


def top_findings(findings: Findings, limit: int = BRIEF_MAX, per_rank: int = PER_RANK) -> list[BriefItem]:
    """The findings that matter most, by `RANKS`: at most `per_rank` of one rank while there are others to
    show, up to `limit`; if that leaves fewer than `BRIEF_MIN`, the next findings in order fill it."""
    gaps = _gap_rows(findings)
    first_end = _first_end(findings)
    ranked = sorted(((rank_of(f, gaps), f) for f in findings.findings),
                    key=lambda rf: _order_key(rf[1], rf[0], gaps, first_end))
    chosen: list[tuple[str, Finding]] = []
    count: dict[str, int] = {}
    for rank, f in ranked:
        if len(chosen) == limit:
            break
        if count.get(rank, 0) < per_rank:
            chosen.append((rank, f))
            count[rank] = count.get(rank, 0) + 1
    for rank, f in ranked:
        if len(chosen) >= min(BRIEF_MIN, limit):
            break
        if all(f is not g for _, g in chosen):
            chosen.append((rank, f))
    chosen.sort(key=lambda rf: _order_key(rf[1], rf[0], gaps, first_end))
    return [BriefItem(f, rank, RANK_LABELS[rank]) for rank, f in chosen]


# -- the spine chart ----------------------------------------------------------------------------------------------

SPINE_COLUMNS = [
    "indicator_key", "indicator", "period", "rate_unit", "higher_is", "value", "lower", "upper", "force",
    "lowest", "highest", "q25", "q75", "n_areas", "half_range", "position", "lower_position", "upper_position",
    "x", "x_lower", "x_upper", "x_lowest", "x_highest", "x_q25", "x_q75", "flipped", "is_estimate", "shared_out",
    "comparison",
]


def force_areas(data: ReviewData, area_code: str) -> list[str]:
    """The place-based areas of the area's force (a national database holds many forces: an area is compared with
    its own force's areas, as its force value is its own force's)."""
    tree = hierarchy_of(data)
    force = tree.ancestor_at(area_code, "force")
    if force is None:
        return data.areas.loc[data.areas["level"] == "area", "code"].tolist()
    return list(tree.descendants(force, "area"))


def force_need(data: ReviewData, codes: Sequence[str] | None = None) -> pd.DataFrame:
    """`need.area_need` for each of `codes` (default: every place-based area), one frame with its `area_code`."""
    if codes is None:
        codes = data.areas.loc[data.areas["level"] == "area", "code"].tolist()
    parts = [need_mod.area_need(data, c).assign(area_code=c) for c in codes]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*need_mod.NEED_COLUMNS, "area_code"])


def spine(data: ReviewData, area_code: str, everyone: pd.DataFrame | None = None) -> pd.DataFrame:
    """The area on each need indicator against the force's place-based areas, normalised as a Fingertips spine
    chart: the force value is the centre (0) and the area furthest from it defines the ends (-1 and 1), the same
    distance both ways, so `position = (value - force) / half_range` with `half_range` the largest distance of
    any area's value from the force's. Intervals are normalised alike (none for an estimate).

    Drawn (`x...`) as Fingertips does, worse on the left: an indicator where higher is worse is mirrored
    (`flipped`); one with no direction keeps lower on the left. An indicator whose figures are a shared-out force
    figure (`need.SHARED_OUT`) has no position: every area sits on the force value by construction.
    Columns: `SPINE_COLUMNS`; `lowest`/`highest` and the quartiles are of the areas' values.
    """
    everyone = force_need(data, force_areas(data, area_code)) if everyone is None else everyone
    mine = everyone[everyone["area_code"] == area_code]
    rows = []
    for r in mine.itertuples(index=False):
        values = everyone.loc[everyone["indicator_key"] == r.indicator_key, "rate"].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        force = float(r.force_rate)
        shared = bool(r.shared_out)
        half = float(np.abs(values - force).max()) if len(values) and math.isfinite(force) else math.nan
        usable = not shared and math.isfinite(half) and half > 0

        def norm(v: float, usable: bool = usable, half: float = half, force: float = force) -> float:
            return (v - force) / half if usable and v == v else math.nan

        flipped = r.higher_is == "worse"
        sign = -1.0 if flipped else 1.0
        lo, hi = norm(float(r.lower)), norm(float(r.upper))
        q25, q75 = (np.quantile(values, [0.25, 0.75]) if len(values) else (math.nan, math.nan))
        ends = sorted([sign * norm(float(values.min())), sign * norm(float(values.max()))]) if len(values) \
            else [math.nan, math.nan]
        quart = sorted([sign * norm(float(q25)), sign * norm(float(q75))])
        xs = sorted([sign * lo, sign * hi])
        rows.append(dict(
            indicator_key=r.indicator_key, indicator=r.indicator, period=r.period, rate_unit=r.rate_unit,
            higher_is=r.higher_is, value=float(r.rate), lower=float(r.lower), upper=float(r.upper), force=force,
            lowest=float(values.min()) if len(values) else math.nan,
            highest=float(values.max()) if len(values) else math.nan, q25=float(q25), q75=float(q75),
            n_areas=int(len(values)), half_range=half, position=norm(float(r.rate)), lower_position=lo,
            upper_position=hi, x=sign * norm(float(r.rate)), x_lower=xs[0], x_upper=xs[1], x_lowest=ends[0],
            x_highest=ends[1], x_q25=quart[0], x_q75=quart[1], flipped=flipped,
            is_estimate=bool(r.is_estimate), shared_out=shared, comparison=str(r.comparison)))
    return pd.DataFrame(rows, columns=SPINE_COLUMNS)


# -- the gap picture ----------------------------------------------------------------------------------------------

GAP_PICTURE_COLUMNS = [
    "theme_key", "theme", "need_share", "provision_share", "population_share", "need_label", "need_is_estimate",
    "need_shared_out", "provision", "provision_total", "services", "unknown_funding", "provision_known",
    "provision_note", "is_gap",
]


def gap_picture(findings: Findings, shared_out: Sequence[str] = ()) -> pd.DataFrame:
    """Need share against provision share for each theme with a need figure for the area (the review's gaps
    table: both shares over the areas with a figure, as the gap index compares them).

    The provision share is unknown (NaN, `provision_known` False, `provision_note` saying why) when no funding of
    the theme is recorded in those areas, or when the area's services of the theme all have unrecorded funding;
    where only some do, the share is of the known funding and the note says how many are not recorded. A theme
    whose need share rests only on shared-out force figures (`need.shared_out_indicators`) is its population
    share by construction, and is marked so (`need_shared_out`).
    """
    table = findings.tables.get("gaps", pd.DataFrame())
    if not len(table):
        return pd.DataFrame(columns=GAP_PICTURE_COLUMNS)
    table = table[table["has_need_figure"].astype(bool)]
    shared = set(shared_out)
    rows = []
    for r in table.to_dict("records"):
        services, unknown = int(r["services"]), int(r["unknown_funding"])
        total = float(r["provision_total"]) if r["provision_total"] == r["provision_total"] else 0.0
        if total <= 0:
            known, note = False, "unknown: no funding of this theme is recorded in the areas with a figure"
        elif services and unknown == services:
            known = False
            note = (f"unknown: the funding of its {services} service{'s' if services != 1 else ''} "
                    "here is not recorded")
        elif unknown:
            known, note = True, f"known funding only: {unknown} of {services} services' funding not recorded"
        elif services == 0:
            known, note = True, "no current service of this theme covers the area"
        else:
            known, note = True, ""
        keys = tuple(r["indicator_keys"]) if isinstance(r["indicator_keys"], list | tuple) else ()
        rows.append(dict(
            theme_key=r["theme_key"], theme=r["theme_name"], need_share=float(r["need_share"]),
            provision_share=float(r["provision_share"]) if known else math.nan,
            population_share=float(r["population_share"]), need_label=r["need_label"],
            need_is_estimate=bool(r["need_is_estimate"]), need_shared_out=bool(keys) and set(keys) <= shared,
            provision=float(r["provision"]) if known else math.nan, provision_total=total if total > 0 else math.nan,
            services=services, unknown_funding=unknown, provision_known=known, provision_note=note,
            is_gap=bool(r["is_gap"])))
    out = pd.DataFrame(rows, columns=GAP_PICTURE_COLUMNS)
    return out.sort_values(["need_share", "theme"], ascending=[False, True]).reset_index(drop=True)


# -- the page's pieces --------------------------------------------------------------------------------------------


def area_brief(data: ReviewData, profile: AreaProfile) -> AreaBrief:
    """Everything "In brief" draws for one area's profile (one call: the findings, the spine, the gap picture)."""
    items = top_findings(profile.review.findings)
    return AreaBrief(
        code=profile.code, name=profile.name, items=items, more=len(profile.review.findings) - len(items),
        spine=spine(data, profile.code),
        gaps=gap_picture(profile.review.findings, sorted(need_mod.shared_out_indicators(data))))


def default_area(data: ReviewData) -> str | None:
    """The area the page opens on without ?area=: the first place-based area (in the grouping file's order) with
    an indicator compared with the force through an interval; else the first with any need figure; else the
    first (all within the first area's force). The demo's first, Blackpool, has no need figure at all, so a first
    visit would see an empty page."""
    areas = data.areas.loc[data.areas["level"] == "area", "code"].tolist()
    if areas:  # the first force's areas only: a national database has hundreds of areas in dozens of forces
        first_force = set(force_areas(data, areas[0]))
        areas = [c for c in areas if c in first_force]
    first_with_figure = None
    for code in areas:  # in order, stopping at the first that qualifies
        table = need_mod.area_need(data, code)
        if (table["interval"] != need_mod.NONE).any():
            return code
        if first_with_figure is None and len(table):
            first_with_figure = code
    return first_with_figure or (areas[0] if areas else None)


def trend_lines(trends: pd.DataFrame) -> pd.DataFrame:
    """The trends worth drawing: indicators with two or more distinct periods (one dot is not a trend), each in
    time order by the period's last day (a financial year "2013-14", a month "2013-10" or a span), as text
    periods for a category axis (a date axis turns "2013-14" into a month and one point into "23:59:59.999")."""
    if trends.empty:
        return trends
    out = trends.copy()
    out["period"] = out["period"].astype(str)
    n = out.groupby(["indicator", "geography"])["period"].transform("nunique")
    out = out[n >= 2].copy()
    if out.empty:
        return out.reset_index(drop=True)
    out["_end"] = [_period_end(p) for p in out["period"]]
    return out.sort_values(["indicator", "_end", "period"]).drop(columns="_end").reset_index(drop=True)


def _period_end(period: str) -> pd.Timestamp:
    end = period_end(period)
    return end if pd.notna(end) else pd.Timestamp.max  # an unreadable period goes last, by its text
