"""What one area's briefing says: built from `services_db.areas.area_profile`, the function the area page uses.

Nothing here recomputes a review figure. Sentences are the review's own (`services_db.review` findings, ordered
by importance); need, plans and activity tables are the profile's frames; the funding-by-theme chart adds up the
review's own apportionment (`services_db.review.apportion`) over the area's LSOAs, which is the same money the
review's provision table holds. So the briefing's figures are the page's figures, and `briefing_content` is pure
over its inputs: the same data and date give the same briefing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from services_db.areas import REVIEW_SECTIONS, AreaProfile
from services_db.documents import figures as fig
from services_db.documents.model import (
    ESTIMATE_KEY,
    ESTIMATE_MARK,
    Briefing,
    Bullets,
    Figure,
    FindingList,
    Heading,
    PageBreak,
    Para,
    Table,
    TitlePage,
    date_long,
)
from services_db.hierarchy import hierarchy_of
from services_db.review import Finding, Findings
from services_db.review.apportion import area_apportionment
from services_db.review.data import ReviewData
from services_db.review.shown import ShownTable, finding_tables

SUMMARY_FINDINGS = 5  # page 1 asks at most this many questions for partners ...
MIN_QUESTIONS = 3  # ... and at least this many when the review finds that much
PRINT_LIMIT = 30  # findings printed per kind: on paper the largest matter; at national size an area has hundreds
TIER_NAMES = {"primary": "Primary", "secondary": "Secondary", "tertiary": "Tertiary"}


# -- formatting (tables show exact figures; sentences keep the review's rounding) ---------------------------------

def pounds(value: float, estimate: bool = False) -> str:
    """£1,177,536: tables show money to the pound, so the reader can add a column up."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        text = "\u2013"
    else:
        text = f"\u00a3{value:,.0f}" if value >= 0 else f"-\u00a3{-value:,.0f}"
    return f"{text} {ESTIMATE_MARK}" if estimate else text


def pct(share: float) -> str:
    return "\u2013" if share is None or not math.isfinite(share) else f"{share * 100:.1f}%"


def day(value: object, estimate: bool = False) -> str:
    if value is None or pd.isna(value):
        return "open-ended"
    text = f"{pd.Timestamp(value).day} {pd.Timestamp(value):%b %Y}"
    return f"{text} {ESTIMATE_MARK}" if estimate else text


def rate(value: float) -> str:
    return "\u2013" if value is None or not math.isfinite(value) else f"{value:,.1f}"


def marked(sentence: str, estimate: bool) -> str:
    """A review sentence as the review wrote it, with the estimate mark after it when it rests on estimates."""
    return f"{sentence} {ESTIMATE_MARK}" if estimate else sentence


def _joined(items: Iterable[str]) -> str:
    return "; ".join(str(i) for i in items if str(i))


# -- sections -----------------------------------------------------------------------------------------------------


def _title_page(p: AreaProfile, fingerprint: str, data_updated: str, sources: list[str]) -> TitlePage:
    params = p.review.findings.params
    thresholds = (f"gap: need share at least {params['need_ratio']:g} \u00d7 population share and gap index at "
                  f"least {params['min_gap_index']:g}; duplication: coverage overlap at least "
                  f"{params['min_overlap'] * 100:.0f}%; funding cliffs: ending within {params['cliff_months']} months")
    facts = (
        ("Area", p.name),
        ("Districts", ", ".join(p.districts) or "\u2013"),
        ("Residents", f"{p.population:,.0f}" + (f" {ESTIMATE_MARK}" if p.population_is_estimate else "")),
        ("Figures as at", date_long(p.as_at)),
        ("Data last updated", data_updated or "not recorded"),
        ("Data fingerprint", fingerprint),
        ("Review thresholds", thresholds),
    )
    note = (f"Snapshot: every figure in this briefing is as at {date_long(p.as_at)} and was built from the data "
            f"with fingerprint {fingerprint}. Building it again from the same data and date gives the same figures. "
            + ESTIMATE_KEY)
    return TitlePage(title=p.name, subtitle=f"Briefing for the Place-Based Chief Inspector \u00b7 figures as at "
                     f"{date_long(p.as_at)}", facts=facts, sources=tuple(sources) or ("Not recorded.",), note=note)


ABOUT_HEADING = "About this briefing"
FORCE_HEADING = "Across the force"
QUESTIONS_HEADING = "Questions for partners"
HOUSEKEEPING = ("unlinked", "data")
PER_KIND = 2  # page 1 asks at most two questions of one kind while another kind has one to ask  # findings that tidy the records: never a page-1 question before the rest


def about_blocks(tp: TitlePage) -> list:
    """What page 1 used to hold (the area's facts, thresholds, fingerprint and sources), near the end."""
    blocks: list = [Heading(ABOUT_HEADING, 1),
                    Table(("About", "Value"), tuple((k, v) for k, v in tp.facts), widths=(1, 3), align=("l", "l")),
                    Heading("Data sources", 2), Bullets(tuple(tp.sources))]
    if tp.note:
        blocks.append(Para(tp.note, "note"))
    return blocks


def top_questions(f: Findings, most: int = SUMMARY_FINDINGS, least: int = MIN_QUESTIONS) -> list[Finding]:
    """The 3 to 5 findings whose questions matter most for the area, in the order page 1 asks them.

    The area's own findings only (scope "area"), in the review's order of importance: first the largest of each
    kind (tidying findings, services linked to no priority or money with no coverage, last), then the next
    largest, at most PER_KIND of a kind while others wait. Findings about the whole force (funds, force-wide
    duplication, data) are asked only when the area has fewer than `least` findings of its own. A question
    already asked is not asked twice.
    """
    local = [x for x in f.findings if x.scope == "area" and x.question]
    picked: list[Finding] = []
    asked: set[str] = set()

    def take(x: Finding) -> None:
        if len(picked) < most and x.question not in asked:
            picked.append(x)
            asked.add(x.question)

    first: dict[str, Finding] = {}
    for x in local:
        first.setdefault(x.kind, x)
    for x in local:
        if first[x.kind] is x and x.kind not in HOUSEKEEPING:
            take(x)
    for x in local:
        if sum(y.kind == x.kind for y in picked) < PER_KIND:
            take(x)
    for x in local:
        if len(picked) < least:
            take(x)
    if len(picked) < least:
        for x in [y for y in f.findings if y.scope == "force" and y.question] + list(f.across):
            if len(picked) < least:
                take(x)
    return picked


def finding_list(found: Iterable[Finding], *, question_first: bool = False, numbered: bool = False) -> FindingList:
    return FindingList(tuple((marked(x.sentence, x.is_estimate), x.question) for x in found), numbered=numbered,
                       question_first=question_first)


def _n(count: int, one: str, many: str) -> str:
    return f"{'no' if count == 0 else f'{count:,}'} {one if count == 1 else many}"


def _column_sum(table: pd.DataFrame | None, column: str) -> float:
    if table is None or table.empty or column not in table.columns:
        return 0.0
    return float(pd.to_numeric(table[column], errors="coerce").fillna(0.0).clip(lower=0.0).sum())


def _area_groups(f: Findings) -> pd.DataFrame:
    """The duplication groups that are the area's own findings (force-wide ones are the force's)."""
    groups = f.tables.get("duplication", pd.DataFrame())
    if groups is None or groups.empty:
        return pd.DataFrame()
    if "wide" in groups.columns:
        groups = groups[~groups["wide"].astype(bool)]
    return groups


def summary_counts(p: AreaProfile) -> dict[str, float]:
    """The figures page 1's summary gives, each from the review's own tables (each pound once)."""
    f = p.review.findings
    gaps = f.tables.get("gaps", pd.DataFrame())
    if len(gaps) and "is_gap" in gaps.columns:
        gaps = gaps[gaps["is_gap"].astype(bool)]
    groups = _area_groups(f)
    ids = {int(s) for t in groups.get("service_ids", pd.Series(dtype=object)) for s in t} if len(groups) else set()
    funding = f.tables.get("service_funding", pd.DataFrame())
    dup_money = float(funding.loc[funding["service_id"].isin(ids), "annual_funding"].sum()) if len(funding) else 0.0
    cliff = f.tables.get("cliff_total", pd.DataFrame())
    at_risk = _column_sum(cliff, "at_risk") if len(cliff) else sum(
        x.importance for x in f.of_kind("cliff") if math.isfinite(x.importance))
    first_end = cliff["first_end"].dropna().min() if len(cliff) and "first_end" in cliff.columns else None
    return {
        "gaps": float(len([x for x in f.of_kind("gap") if x.scope == "area"])),
        "money_to_parity": _column_sum(gaps, "money_to_parity"),
        "duplication_groups": float(len([x for x in f.of_kind("duplication") if x.scope == "area"])),
        "duplication_services": float(len(ids)), "duplication_funding": dup_money,
        "at_risk": float(at_risk), "first_end": first_end,
        "unanswered": float(p.plans.unanswered),
        "force_findings": float(len([x for x in f.findings if x.scope == "force"]) + len(f.across)),
    }


def _summary(p: AreaProfile, apportioned_total: float) -> list:
    f = p.review.findings
    c = summary_counts(p)
    n_services = len(p.activity.services)
    parts = [_n(int(c["gaps"]), "gap in service", "gaps in service")
             + (f" ({pounds(c['money_to_parity'])} a year more would reach parity)" if c["money_to_parity"] > 0
                else "")]
    parts.append(_n(int(c["duplication_groups"]), "duplication group", "duplication groups")
                 + (f" among {_n(int(c['duplication_services']), 'service', 'services')} with "
                    f"{pounds(c['duplication_funding'])} a year of recorded funding" if c["duplication_groups"] else ""))
    if c["at_risk"] > 0:
        parts.append(f"{pounds(c['at_risk'])} a year of the area's funding ending within "
                     f"{f.params['cliff_months']} months" + (f", the first on {date_long(pd.Timestamp(c['first_end']))}"
                                                            if c["first_end"] is not None and pd.notna(c["first_end"])
                                                            else ""))
    else:
        parts.append(f"no funding ending within {f.params['cliff_months']} months")
    unanswered = int(c["unanswered"])
    parts.append(_n(unanswered, "plan priority", "plan priorities") + " with no service linked to "
                 + ("it" if unanswered == 1 else "them"))
    lead = (f"As at {date_long(p.as_at)}, {_n(n_services, 'commissioned service covers', 'commissioned services cover')}"
            f" some part of {p.name}, with {pounds(p.activity.annual_funding)} a year of recorded funding between "
            f"them (whole services; the area's share by population is {pounds(apportioned_total)}). The review finds "
            f"here: {'; '.join(parts[:-1])}; and {parts[-1]}.")
    if c["force_findings"]:
        lead += (f" A further {_n(int(c['force_findings']), 'finding', 'findings')} about the whole force "
                 f"(funds, force-wide duplication) {'is' if c['force_findings'] == 1 else 'are'} under "
                 f"\u201c{FORCE_HEADING}\u201d.")
    top = top_questions(f)
    blocks: list = [Heading("Summary", 1), Para(lead, "lead"), Heading(QUESTIONS_HEADING, 2)]
    if top:
        blocks.append(finding_list(top, question_first=True, numbered=True))
        blocks.append(Para(
            "The largest finding of each kind first, by the money involved; each question names the partners the "
            "data show can act, and is asked again after its finding in the Review. (est.) marks an estimate.",
            "note"))
    else:
        blocks.append(Para("The review finds nothing to ask partners about for this area at this date."))
    blocks.append(PageBreak())
    return blocks


def scoped_tables(f: Findings, kind: str, force: bool) -> list[ShownTable]:
    """The tables beside a kind's findings, keeping the rows of one scope where the rows say (duplication groups
    carry `wide`): the Review shows the area's own groups, "Across the force" the wide ones (force-wide, or over
    most of the force's areas)."""
    out = []
    for t in finding_tables(f, kind):
        if t.keys and all(isinstance(k, Mapping) and "wide" in k for k in t.keys):
            pick = [i for i, k in enumerate(t.keys) if bool(k["wide"]) == force]
            t = replace(t, rows=tuple(t.rows[i] for i in pick), keys=tuple(t.keys[i] for i in pick))
        out.append(t)
    return out


def _across(p: AreaProfile) -> list:
    """The force section: findings about the whole force that bear on the area, each with its question."""
    f = p.review.findings
    found = [x for x in f.findings if x.scope == "force"] + list(f.across)
    blocks: list = [Heading(FORCE_HEADING, 1), Para(
        f"Findings about the force as a whole that bear on {p.name}: duplication among services that cover the "
        f"whole force or most of it, funds and themes shared between the districts where a district of {p.name} received "
        "nothing, and data to check. Each is reported once for the force and appears in every briefing it bears "
        "on; it is not counted among the area's own findings.")]
    if not found:
        return blocks + [Para(f"Nothing about the whole force bears on {p.name} at this date.")]
    for kind, heading in REVIEW_SECTIONS.items():
        these = [x for x in found if x.kind == kind]
        if not these:
            continue
        shown = these[:PRINT_LIMIT]
        blocks += [Heading(heading, 2), finding_list(shown)]
        if len(these) > len(shown):
            blocks.append(Para(f"The {len(shown)} largest of {len(these):,} findings of this kind are printed here."))
        for t in scoped_tables(f, kind, force=True):
            blocks += review_table(t)
    return blocks

def _need(p: AreaProfile, data: ReviewData, features: dict[str, list[dict]] | None) -> list:
    ind = p.need.indicators
    blocks: list = [Heading("Need", 1), Para(
        f"Demand in {p.name} against the force: each indicator's latest figure as a rate per 1,000 residents "
        "with its 95% confidence interval. \u201cWorse\u201d or \u201cbetter\u201d means the whole interval lies "
        "beyond the force rate; otherwise the area is \u201csimilar\u201d.")]
    rows = tuple(
        (str(r.indicator), str(r.period), f"{r.count:,.0f}", rate(r.rate), f"{rate(r.lower)} to {rate(r.upper)}",
         rate(r.force_rate), str(r.comparison) + (f" {ESTIMATE_MARK}" if r.is_estimate else ""))
        for r in ind.itertuples(index=False))
    blocks.append(Table(("Indicator", "Period", "Count", "Rate", "95% interval", "Force rate", "Compared"),
                        rows, widths=(3.2, 1.6, 1.1, 0.9, 1.4, 1.0, 1.3), align=("l", "l", "r", "r", "r", "r", "l"),
                        caption="Rates per 1,000 residents. " + ESTIMATE_KEY,
                        empty_text="No need indicators are recorded for this area's districts."))
    if features is not None and len(ind):
        blocks += _map(p, data, ind, features)
    trends = p.need.trends
    if len(trends):
        blocks.append(Heading("Trends", 2))
        blocks.append(Table(("Indicator", "Where", "Period", "Value"), tuple(
            (str(r.indicator), str(r.geography), str(r.period),
             f"{r.value:,.0f}" + (f" {ESTIMATE_MARK}" if r.is_estimate else "")) for r in trends.itertuples()),
            widths=(4, 2, 1.5, 1.5), align=("l", "l", "l", "r")))
    return blocks


def map_indicator(indicators: pd.DataFrame) -> pd.Series:
    """The indicator the map shows: the first the area does worse on, else the first listed."""
    worse = indicators[indicators["comparison"].astype(str).str.startswith(("worse", "higher"))]
    return (worse if len(worse) else indicators).iloc[0]


def _map(p: AreaProfile, data: ReviewData, ind: pd.DataFrame, features: dict[str, list[dict]]) -> list:
    from services_db.need import lsoa_need

    chosen = map_indicator(ind)
    values = lsoa_need(data, p.code, str(chosen["indicator_key"]))
    codes = set(values["code"])
    own = [f for f in features.get("lsoa", []) if f["properties"]["code"] in codes]
    if not own:
        return [Para("No LSOA boundaries are available for this area, so no map is drawn.", "note")]
    tree = hierarchy_of(data)
    district = {c: tree.ancestor_at(c, "district") for c in codes}
    district_of = {c: tree.name_of(d, "") for c, d in district.items()}
    districts = set(district.values())
    outlines = [f for f in features.get("district", []) if f["properties"]["code"] in districts]
    png = fig.area_map(own, dict(zip(values["code"], values["rate"], strict=True)), district_of,
                       f"{chosen['indicator']}\nper 1,000 residents", outlines=outlines or None)
    estimate = bool(values["is_estimate"].any())
    caption = (f"{chosen['indicator']} ({chosen['period']}), rate per 1,000 residents in each of the "
               f"{len(own)} LSOAs of {p.name} (five bands of equal count where values vary more than that); district outlines in black.")
    if estimate:
        caption += (" Estimate: where the figure is held for a district, it is shared over the district's LSOAs "
                    "by population, so each LSOA shows its district's rate.")
    return [Figure(png, 16.0, 11.0, caption)]


def _plans(p: AreaProfile) -> list:
    pr = p.plans.priorities
    n_plans = pr["plan"].nunique() if len(pr) else 0
    blocks: list = [Heading("Plans and priorities", 1), Para(
        f"{len(pr)} priorities of {n_plans} current strategic plans apply to {p.name}. {p.plans.unanswered} "
        f"{'has' if p.plans.unanswered == 1 else 'have'} no current service covering the area linked to them. Linked services are those covering some part of "
        "the area.")]
    rows = tuple((str(r.plan), str(r.priority), str(r.services), str(int(r.linked_services)))
                 for r in pr.itertuples(index=False))
    blocks.append(Table(("Plan", "Priority", "Services linked in the area", "Number"), rows,
                        widths=(2.4, 2.4, 4.2, 0.9), align=("l", "l", "l", "r"),
                        empty_text="No current plan applies to this area."))
    return blocks


def area_funding(p: AreaProfile, data: ReviewData) -> pd.DataFrame:
    """The area's share of each service's funding (the review's apportionment summed over the area's LSOAs).

    Columns: service_id, amount, tier, theme_keys. The sum per theme is the review's provision for the area.
    """
    per_service = area_apportionment(data, pd.Timestamp(p.as_at), p.code)
    svc = data.services.drop_duplicates("service_id").set_index("service_id")
    per_service["tier"] = per_service["service_id"].map(svc["tier"])
    per_service["theme_keys"] = per_service["service_id"].map(svc["themes"]).map(
        lambda t: t if isinstance(t, tuple) else ())
    return per_service


def _activity(p: AreaProfile, data: ReviewData, share: pd.DataFrame) -> list:
    services = p.activity.services
    theme_name = dict(zip(data.themes["theme_key"], data.themes["name"], strict=False))
    blocks: list = [Heading("Activity", 1), Para(
        f"{len(services)} commissioned services cover some part of {p.name}; their annual funding as at "
        f"{date_long(p.as_at)} is {pounds(p.activity.annual_funding)} (whole services, some of which also work "
        f"elsewhere). The area's share of that money, split by population over the LSOAs each service covers, is "
        f"{pounds(float(share['amount'].sum()))}. Only services current at that date are counted; the appendix "
        "lists them all.")]
    long = share.explode("theme_keys").dropna(subset=["theme_keys"])
    long = long.assign(theme_name=long["theme_keys"].map(lambda k: theme_name.get(k, str(k))))
    blocks.append(Heading("Funding by theme and prevention tier", 2))
    blocks.append(Figure(fig.funding_chart(long[["theme_name", "tier", "amount"]]), 16.0,
                         _chart_height(long["theme_name"].nunique()),
                         f"The area's share of annual funding by theme, as at {date_long(p.as_at)}, stacked by "
                         "prevention tier. A service with several themes counts in full under each of them."))
    prov = p.review.findings.tables.get("provision", pd.DataFrame())
    prov = prov[(prov["provision"] > 0) | (prov["services"] > 0)] if len(prov) else prov
    prov = prov.sort_values(["provision", "theme_name"], ascending=[False, True], kind="stable")
    blocks.append(Table(
        ("Theme", "Current services", "Area's share (\u00a3 a year)", "Share of force funding for the theme"),
        tuple((str(r.theme_name), str(int(r.services)), pounds(r.provision), pct(r.provision_share))
              for r in prov.itertuples(index=False)),
        widths=(3.5, 1.5, 2, 2.5), align=("l", "r", "r", "r"),
        caption="The review's provision figures: each service's funding shared over its LSOAs by population "
                "(residents per LSOA are an estimate).", empty_text="No current funding reaches this area."))
    tiers = services.assign(tier=services["tier"].where(services["tier"].isin(list(TIER_NAMES)), "not recorded"))
    share_tier = share.assign(tier=share["tier"].where(share["tier"].isin(list(TIER_NAMES)), "not recorded"))
    rows = []
    for key in [*TIER_NAMES, "not recorded"]:
        these = tiers[tiers["tier"] == key]
        if these.empty:
            continue
        rows.append((TIER_NAMES.get(key, "Not recorded"), str(len(these)), pounds(float(these["annual_funding"].sum())),
                     pounds(float(share_tier.loc[share_tier["tier"] == key, "amount"].sum()))))
    blocks.append(Table(("Prevention tier", "Services", "Annual funding (whole services)", "Area's share"),
                        tuple(rows), widths=(2.5, 1.5, 3, 2.5), align=("l", "r", "r", "r")))
    return blocks


def _chart_height(n_themes: int) -> float:
    return round(max(2.2, 0.55 + 0.32 * max(n_themes, 1)) * 2.54, 3)


def _raised(p: AreaProfile) -> list:
    raised = p.review.raised
    blocks: list = [Heading("Gaps raised by Early Action Teams", 2)]
    if raised is None or raised.empty:
        return blocks + [Para("No gaps in service have been raised for this area through the app.")]
    rows = tuple((str(r.id), day(r.raised_at), str(r.theme), str(r.description), str(r.status_label))
                 for r in raised.sort_values("id").itertuples(index=False))
    blocks.append(Table(("No.", "Raised", "Theme", "What was raised", "Status"), rows,
                        widths=(0.6, 1.3, 1.8, 5, 1.6), align=("r", "l", "l", "l", "l")))
    return blocks


def _review(p: AreaProfile) -> list:
    blocks: list = [Heading("Review", 1), Para(
        f"Gaps, duplication, inequity and funding cliffs in {p.name} as the review finds them, each as a sentence "
        "with the table behind it, followed by the question for the partners who can act on it. Every number in a "
        f"sentence is in the table beside it. Findings about the whole force are under \u201c{FORCE_HEADING}\u201d.")]
    for kind, heading, found, _table in p.review.sections():
        elsewhere = [x for x in found if x.scope != "area"]
        found = [x for x in found if x.scope == "area"]
        if not found and kind in ("fair_share", "data"):
            continue
        blocks.append(Heading(heading, 2))
        if not found and elsewhere:
            blocks.append(Para(f"{_n(len(elsewhere), 'finding', 'findings')} of this kind about the whole force "
                               f"{'is' if len(elsewhere) == 1 else 'are'} under \u201c{FORCE_HEADING}\u201d."))
            continue
        if found:
            shown = found[:PRINT_LIMIT]
            blocks.append(finding_list(shown))
            if len(found) > len(shown):
                blocks.append(Para(
                    f"The {len(shown)} largest of {len(found):,} findings of this kind are printed here; the area "
                    f"page's Review section and “python -m services_db review --area \"{p.name}\"” list them all."))
        else:
            blocks.append(Para("Nothing found for this area at this date."))
        if found:
            for shown_table in scoped_tables(p.review.findings, kind, force=False):
                blocks += review_table(shown_table)
    return blocks + _raised(p)


def review_table(t: ShownTable, limit: int | None = None) -> list:
    """A table shown beside review findings (`services_db.review.shown`: cells formatted by the sentences' own
    functions, so "£7,620" in a sentence is "£7,620" in its table), as a briefing Table; columns with nothing in
    them are left out, and at most `limit` rows (default twice PRINT_LIMIT) are printed, saying so."""
    if not len(t):
        return []
    limit = 2 * PRINT_LIMIT if limit is None else limit
    keep = t.kept()
    rows = tuple(tuple(row[j] for j in keep) for row in t.rows[:limit])
    align = t.align
    blocks: list = [Table(tuple(t.columns[j] for j in keep), rows,
                          widths=tuple(1.0 if align[j] == "r" else 2.0 for j in keep),
                          align=tuple(align[j] for j in keep), caption=t.caption)]
    if len(t) > limit:
        blocks.append(Para(f"The table shows the first {limit} of {len(t):,} rows."))
    return blocks


NOT_RECORDED = "not recorded"
APPENDIX_HEADING = "Appendix: every current service covering the area"


def funding_cell(amount: object, is_estimate: bool, recorded: bool = True) -> str:
    """A service's annual funding as the appendix shows it: "not recorded" when unknown (the directory frame's
    funding_recorded, or NaN), never "£0"."""
    if not recorded or amount is None or pd.isna(amount):
        return NOT_RECORDED
    return pounds(float(amount), is_estimate)


def _appendix(p: AreaProfile, data: ReviewData) -> list:
    del data  # the profile's activity rows carry everything the appendix shows
    s = p.activity.services.sort_values("name", key=lambda c: c.str.lower(), kind="stable")
    rows = tuple((str(r.name), str(r.provider or "\u2013"), str(r.commissioners or "\u2013"),
                  funding_cell(r.annual_funding, bool(r.funding_is_estimate),
                               bool(getattr(r, "funding_recorded", True))),
                  day(r.end_date, bool(r.end_date_is_estimate)))
                 for r in s.itertuples(index=False))
    blocks = [PageBreak(), Heading(APPENDIX_HEADING, 1), Para(
        f"All {len(s)} services current at {date_long(p.as_at)} covering some part of {p.name}, with their "
        f"provider, commissioners, annual funding at that date (whole service; \u201c{NOT_RECORDED}\u201d where "
        "no funding is recorded for the date) and end date. Services that have ended by then are not listed.",
        "body")]
    upcoming = p.activity.upcoming.sort_values("name", key=lambda c: c.str.lower(), kind="stable") \
        if len(p.activity.upcoming) else p.activity.upcoming
    if len(upcoming):  # shown as what they are, never as current: before the table, so the table ends the briefing
        blocks.append(Para(
            f"Not current at {date_long(p.as_at)}, so not counted anywhere in this briefing: "
            + "; ".join(f"{r.name} ({r.state}" + (f", starts {day(r.start_date)}" if pd.notna(r.start_date) else "")
                        + ")" for r in upcoming.itertuples(index=False)) + ".", "body"))
    blocks.append(Table(("Service", "Provider", "Commissioners", "Annual funding", "Ends"), rows,
                        widths=(3.6, 2.6, 3, 1.5, 1.4), align=("l", "l", "l", "r", "r"), caption=ESTIMATE_KEY,
                        empty_text="No current service covers this area."))
    return blocks


def briefing_content(p: AreaProfile, data: ReviewData, *, fingerprint: str, data_updated: str,
                     sources: list[str], features: dict[str, list[dict]] | None) -> Briefing:
    """The whole briefing for one area profile.

    `features`: GeoJSON features by level ("lsoa", "district") for the map; None draws no map.
    """
    share = area_funding(p, data)
    title = _title_page(p, fingerprint, data_updated, sources)
    blocks = _summary(p, float(share["amount"].sum())) + _need(p, data, features) + _plans(p)
    blocks += _activity(p, data, share) + _review(p) + _across(p) + about_blocks(title) + _appendix(p, data)
    gaps = p.review.findings.of_kind("gap")
    top = top_questions(p.review.findings)
    b = Briefing(area_code=p.code, area_name=p.name, as_at=p.as_at, fingerprint=fingerprint,
                 data_updated=data_updated, title_page=title, blocks=blocks)
    b.figures.update({
        "total_funding": float(p.activity.annual_funding), "n_services": float(len(p.activity.services)),
        "area_share": float(np.round(share["amount"].sum(), 2)), "n_gaps": float(len(gaps)),
        "n_findings": float(len(p.review.findings)),
    })
    b.sentences.update({"top_gap": gaps[0].sentence if gaps else "", "summary": [x.sentence for x in top],
                        "questions": [x.question for x in top]})
    return b
