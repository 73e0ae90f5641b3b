"""What one area's briefing says: built from `services_db.areas.area_profile`, the function the area page uses.

Nothing here recomputes a review figure. Sentences are the review's own (`services_db.review` findings, ordered
by importance); need, plans and activity tables are the profile's frames; the funding-by-theme chart adds up the
review's own apportionment (`services_db.review.apportion`) over the area's LSOAs, which is the same money the
review's provision table holds. So the briefing's figures are the page's figures, and `briefing_content` is pure
over its inputs: the same data and date give the same briefing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from services_db.areas import AreaProfile
from services_db.documents import figures as fig
from services_db.documents.model import (
    ESTIMATE_KEY,
    ESTIMATE_MARK,
    Briefing,
    Bullets,
    Figure,
    Heading,
    PageBreak,
    Para,
    Table,
    TitlePage,
    date_long,
)
from services_db.review.apportion import area_apportionment
from services_db.review.data import ReviewData

SUMMARY_FINDINGS = 5
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
    return TitlePage(title=p.name, subtitle="Partnership Commissioning Review \u00b7 briefing for the Place-Based "
                     "Chief Inspector: need, plans, activity and review", facts=facts,
                     sources=tuple(sources) or ("Not recorded.",), note=note)


def _summary(p: AreaProfile, apportioned_total: float) -> list:
    f = p.review.findings
    n_gaps = len(f.of_kind("gap"))
    n_dup = len(f.of_kind("duplication"))
    n_cliff = len(f.of_kind("cliff"))
    n_services = len(p.activity.services)
    def n(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    unanswered = p.plans.unanswered
    lead = (f"{n(n_services, 'commissioned service covers', 'commissioned services cover')} some part of {p.name}, "
            f"with {pounds(p.activity.annual_funding)} a year of funding between them as at {date_long(p.as_at)} "
            f"(whole services; the area's share by population is {pounds(apportioned_total)}). The review finds "
            f"{n(n_gaps, 'gap', 'gaps')}, {n(n_dup, 'duplication group', 'duplication groups')} and "
            f"{n(n_cliff, 'funding cliff', 'funding cliffs')} here; "
            f"{n(unanswered, 'priority', 'priorities')} of the plans that apply "
            f"{'has' if unanswered == 1 else 'have'} no service linked to {'it' if unanswered == 1 else 'them'} "
            f"in the area.")
    top = f.findings[:SUMMARY_FINDINGS]
    blocks: list = [Heading("Summary", 1), Para(lead, "lead"),
                    Heading(f"The {len(top)} most important findings", 2)]
    if top:
        blocks.append(Bullets(tuple(marked(x.sentence, x.is_estimate) for x in top), numbered=True))
    else:
        blocks.append(Para("The review finds nothing to report for this area at this date."))
    blocks.append(Para("Findings are ordered by the money involved (money to parity for a gap, combined funding "
                       "for a duplication group, the sum at risk at a cliff). " + ESTIMATE_KEY, "note"))
    blocks.append(PageBreak())
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
    areas = data.areas
    name_of = dict(zip(areas["code"], areas["name"], strict=False))
    parent = dict(zip(areas["code"], areas["parent_code"], strict=False))
    district_of = {c: name_of.get(parent.get(c), "") for c in codes}
    districts = {parent.get(c) for c in codes}
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
        f"{pounds(float(share['amount'].sum()))}. The appendix lists every service.")]
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


def _review_table(kind: str, table: pd.DataFrame) -> Table | None:
    if table is None or table.empty:
        return None
    if kind == "gap":
        return Table(("Theme", "Need share", "Provision share", "Provision", "Money to parity", "Reason"), tuple(
            (str(r.theme_name), pct(r.need_share) + (f" {ESTIMATE_MARK}" if r.need_is_estimate else ""),
             pct(r.provision_share), pounds(r.provision), pounds(max(r.money_to_parity, 0.0)), str(r.reason))
            for r in table.itertuples(index=False)), widths=(2, 1.3, 1.3, 1.3, 1.4, 2.7),
            align=("l", "r", "r", "r", "r", "l"))
    if kind == "duplication":
        return Table(("Theme", "Services", "Commissioners", "Overlap", "Combined funding"), tuple(
            (str(r.theme_name), _joined(r.services), _joined(r.commissioners), pct(r.overlap),
             pounds(r.combined_funding)) for r in table.itertuples(index=False)),
            widths=(1.6, 4.5, 2.6, 1, 1.5), align=("l", "l", "l", "r", "r"))
    if kind == "cliff":
        return Table(("Service", "Commissioner", "Annual amount", "Ends"), tuple(
            (str(r.service), str(r.commissioner), pounds(r.annual_amount), day(r.end_date, bool(r.end_is_estimate)))
            for r in table.itertuples(index=False)), widths=(4, 3, 1.5, 1.6), align=("l", "l", "r", "r"))
    return None


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
        "Gaps, duplication, inequity and funding cliffs as the review finds them, each as a sentence with the table "
        "behind it. Every number in a sentence is in the table beside it.")]
    for kind, heading, found, table in p.review.sections():
        if not found and kind in ("fair_share", "data"):
            continue
        blocks.append(Heading(heading, 2))
        if found:
            shown = found[:PRINT_LIMIT]
            blocks.append(Bullets(tuple(marked(x.sentence, x.is_estimate) for x in shown)))
            if len(found) > len(shown):
                blocks.append(Para(
                    f"The {len(shown)} largest of {len(found):,} findings of this kind are printed here; the area "
                    f"page's Review section and “python -m services_db review --area \"{p.name}\"” list them all."))
        else:
            blocks.append(Para("Nothing found for this area at this date."))
        if table is not None and kind == "cliff" and len(table) > 2 * PRINT_LIMIT:
            table = table.sort_values("annual_amount", ascending=False, kind="stable")
        t = _review_table(kind, table.head(2 * PRINT_LIMIT) if table is not None else None)
        if t is not None and found:
            blocks.append(t)
            if len(table) > 2 * PRINT_LIMIT:
                blocks.append(Para(f"The table shows the {2 * PRINT_LIMIT} largest of {len(table):,} rows."))
    return blocks + _raised(p)


def _appendix(p: AreaProfile) -> list:
    s = p.activity.services.sort_values("name", key=lambda c: c.str.lower(), kind="stable")
    rows = tuple((str(r.name), str(r.provider or "\u2013"), str(r.commissioners or "\u2013"),
                  pounds(float(r.annual_funding), bool(r.funding_is_estimate)),
                  day(r.end_date, bool(r.end_date_is_estimate)))
                 for r in s.itertuples(index=False))
    return [PageBreak(), Heading("Appendix: every service covering the area", 1), Para(
        f"All {len(s)} services covering some part of {p.name}, with their provider, commissioners, annual "
        f"funding as at {date_long(p.as_at)} (whole service) and end date.", "body"),
        Table(("Service", "Provider", "Commissioners", "Annual funding", "Ends"), rows,
              widths=(3.6, 2.6, 3, 1.5, 1.4), align=("l", "l", "l", "r", "r"), caption=ESTIMATE_KEY,
              empty_text="No service covers this area.")]


def briefing_content(p: AreaProfile, data: ReviewData, *, fingerprint: str, data_updated: str,
                     sources: list[str], features: dict[str, list[dict]] | None) -> Briefing:
    """The whole briefing for one area profile.

    `features`: GeoJSON features by level ("lsoa", "district") for the map; None draws no map.
    """
    share = area_funding(p, data)
    blocks = _summary(p, float(share["amount"].sum())) + _need(p, data, features) + _plans(p)
    blocks += _activity(p, data, share) + _review(p) + _appendix(p)
    gaps = p.review.findings.of_kind("gap")
    b = Briefing(area_code=p.code, area_name=p.name, as_at=p.as_at, fingerprint=fingerprint,
                 data_updated=data_updated, title_page=_title_page(p, fingerprint, data_updated, sources),
                 blocks=blocks)
    b.figures.update({
        "total_funding": float(p.activity.annual_funding), "n_services": float(len(p.activity.services)),
        "area_share": float(np.round(share["amount"].sum(), 2)), "n_gaps": float(len(gaps)),
        "n_findings": float(len(p.review.findings)),
    })
    b.sentences.update({"top_gap": gaps[0].sentence if gaps else "",
                        "summary": [x.sentence for x in p.review.findings.findings[:SUMMARY_FINDINGS]]})
    return b


def as_date(value: object) -> dt.date:
    return pd.Timestamp(value).date()
