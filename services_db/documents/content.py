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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from services_db.areas import REVIEW_SECTIONS, AreaProfile
from services_db.documents.model import (
    ESTIMATE_KEY,
    ESTIMATE_MARK,
    Block,
    Briefing,
    Bullets,
    Figure,
    FindingList,
    Heading,
    PageBreak,
    Para,
    ScenarioMark,
    Table,
    TitlePage,
    date_long,
)
from services_db.hierarchy import hierarchy_of
from services_db.review import Finding, Findings
from services_db.review.apportion import area_apportionment
from services_db.review.data import ReviewData
from services_db.review.shown import MISSING, ShownTable, finding_tables
from services_db.review.wording import LEVEL_NOUN, count, plural

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


# -- naming areas: the area's own force by name, the rest counted ---------------------------------------------

NAMED_LEVELS = ("district", "area", "division", "force")
# review table columns that list areas (`services_db.review.shown`), one name per "; "
AREA_COLUMNS = frozenset({"Received nothing", "Not broken down for", "Funding not recorded in", "Shared areas"})
# finding texts that name every area of a list (`wording.inequity_sentence`: all who received nothing); the
# other lists a sentence names stop at three and count the rest already
LISTED_TEXTS = {"inequity": "zero_areas"}
CELL_SEPARATOR = "; "


@dataclass(frozen=True)
class OwnForce:
    """Which area names belong to the briefing's own force, so a list of areas names those and counts the rest.

    At national size a fund's inequity lists every district in the country that received nothing (thousands of
    names): a Chief Inspector needs the force's own districts by name and the others as a number ("Burnley,
    Hyndburn and 4,210 districts in other forces"). The review keeps every name (its tables and exports); only
    the briefing words them so. With one force in the data (the demo) nothing is counted, so nothing changes.
    """

    force_code: str | None = None
    force_name: str = ""
    elsewhere: Mapping[str, str] = field(default_factory=dict)  # name -> level, of areas in other forces only
    listed: Mapping[tuple[str, str], list[str]] = field(default_factory=dict)  # see `listed_areas`

    @classmethod
    def of(cls, data: ReviewData, code: str, findings: Findings | None = None) -> OwnForce:
        """The own force of area `code`; `findings`: the review whose sentences list areas (`listed_areas`)."""
        tree = hierarchy_of(data)
        force = tree.ancestor_at(code, "force")
        if force is None:
            return cls()
        areas = data.areas[data.areas["level"].isin(NAMED_LEVELS)]
        up = tree.ancestor_map("force")
        in_force = areas["code"].map(lambda c: up.get(c) == force)
        own = set(areas.loc[in_force, "name"].astype(str))
        others = areas[~in_force & ~areas["name"].astype(str).isin(own)]
        elsewhere = dict(zip(others["name"].astype(str), others["level"].astype(str), strict=False))
        listed = listed_areas(findings) if elsewhere and findings is not None else {}
        return cls(force, str(tree.name_of(force, force)), elsewhere, listed)

    def split(self, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """(names to show, in their order; levels of the areas in other forces, one per name left out)."""
        shown: list[str] = []
        counted: list[str] = []
        for name in names:
            level = self.elsewhere.get(name)
            if level is None:
                shown.append(name)
            else:
                counted.append(level)
        return shown, counted

    @staticmethod
    def counted_words(levels: list[str], number: str) -> str:
        """"4,210 districts in other forces" (`number`: the count as written); "2 other forces" for forces."""
        n = len(levels)
        kinds = set(levels)
        if kinds == {"force"}:
            return f"{number} other {plural('force', n)}"
        noun = LEVEL_NOUN.get(levels[0], "area") if len(kinds) == 1 else "area"
        return f"{number} {plural(noun, n)} in {'another force' if n == 1 else 'other forces'}"

    def sentence_names(self, names: Sequence[str]) -> str | None:
        """The names as a sentence gives them, own force's by name, the rest counted; None when none is counted."""
        shown, counted = self.split(names)
        if not counted:
            return None
        items = [*shown, self.counted_words(counted, count(len(counted))[0])]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    def cell(self, text: str) -> str:
        """A table cell listing areas ("A; B; C"), own force's by name, the rest counted (digits, as tables are):
        "Burnley; Hyndburn; and 4,210 districts in other forces"."""
        if not self.elsewhere or text in ("", MISSING):
            return text
        shown, counted = self.split(text.split(CELL_SEPARATOR))
        if not counted:
            return text
        rest = self.counted_words(counted, f"{len(counted):,}")
        return CELL_SEPARATOR.join(shown) + f"{CELL_SEPARATOR}and {rest}" if shown else rest

    def table(self, t: ShownTable) -> ShownTable:
        cols = [j for j, c in enumerate(t.columns) if c in AREA_COLUMNS]
        if not self.elsewhere or not cols:
            return t
        rows = tuple(tuple(self.cell(v) if j in cols else v for j, v in enumerate(row)) for row in t.rows)
        return replace(t, rows=rows)

    def finding(self, x: Finding) -> Finding:
        """The finding as this briefing words it: a list of every area replaced by own-force names and a count."""
        key = LISTED_TEXTS.get(x.kind)
        old = x.texts.get(key) if key else None
        names = self.listed.get((x.kind, str(x.texts.get("label"))))
        if not old or not names:
            return x
        new = self.sentence_names(names)
        if new is None or old not in x.sentence:
            return x
        return replace(x, sentence=x.sentence.replace(old, new, 1), texts={**x.texts, key: new})


def listed_areas(f: Findings) -> dict[tuple[str, str], list[str]]:
    """(kind, label) -> every area a finding's sentence lists (LISTED_TEXTS), read from the table beside it: the
    cell's items, one name each ("; " never occurs in a name)."""
    out: dict[tuple[str, str], list[str]] = {}
    for kind in LISTED_TEXTS:
        for t in finding_tables(f, kind)[:1]:
            if "Received nothing" not in t.columns:
                continue
            j = t.columns.index("Received nothing")
            for key, row in zip(t.keys, t.rows, strict=False):
                if row[j] not in ("", MISSING):
                    out[(kind, str(key.get("label")))] = row[j].split(CELL_SEPARATOR)
    return out


# -- sections -----------------------------------------------------------------------------------------------------


def thresholds_text(params: Mapping[str, object]) -> str:
    return (f"gap: need share at least {params['need_ratio']:g} \u00d7 population share and gap index at "
            f"least {params['min_gap_index']:g}; duplication: coverage overlap at least "
            f"{float(params['min_overlap']) * 100:.0f}%; funding cliffs: ending within {params['cliff_months']} months")


def fingerprint_facts(fingerprint: str, scenario: ScenarioMark | None) -> tuple[tuple[str, str], ...]:
    """The fingerprint as "About this briefing" gives it: the data's; for a scenario, the scenario and a fingerprint
    that names the actual data's and the changes' ("data 7d81…; scenario 3f9a…")."""
    if scenario is None:
        return (("Data fingerprint", fingerprint),)
    return (("Scenario", f"{scenario.name} \u2014 not actual allocations ({len(scenario.changes)} "
                         f"{plural('change', len(scenario.changes))})"),
            ("Fingerprint", f"{fingerprint} (the actual data's fingerprint; the scenario's changes' key)"))


def snapshot_note(as_at: dt.date, fingerprint: str, scenario: ScenarioMark | None) -> str:
    if scenario is None:
        return (f"Snapshot: every figure in this briefing is as at {date_long(as_at)} and was built from the data "
                f"with fingerprint {fingerprint}. Building it again from the same data and date gives the same "
                "figures. " + ESTIMATE_KEY)
    return (f"Scenario: every figure in this briefing is as at {date_long(as_at)} and was built from the actual data "
            f"with the changes of scenario \u201c{scenario.name}\u201d applied (fingerprint {fingerprint}). None of "
            "the changes has been made: these are not actual allocations, and the records are unchanged. Building it "
            "again from the same data, changes and date gives the same figures. " + ESTIMATE_KEY)


def _title_page(p: AreaProfile, fingerprint: str, data_updated: str, sources: list[str],
                scenario: ScenarioMark | None = None) -> TitlePage:
    facts = (
        ("Area", p.name),
        ("Districts", ", ".join(p.districts) or "\u2013"),
        ("Residents", f"{p.population:,.0f}" + (f" {ESTIMATE_MARK}" if p.population_is_estimate else "")),
        ("Figures as at", date_long(p.as_at)),
        ("Data last updated", data_updated or "not recorded"),
        *fingerprint_facts(fingerprint, scenario),
        ("Review thresholds", thresholds_text(p.review.findings.params)),
    )
    what = "Briefing" if scenario is None else f"Scenario \u201c{scenario.name}\u201d: briefing"
    return TitlePage(title=p.name, subtitle=f"{what} for the Place-Based Chief Inspector \u00b7 figures as at "
                     f"{date_long(p.as_at)}", facts=facts, sources=tuple(sources) or ("Not recorded.",),
                     note=snapshot_note(p.as_at, fingerprint, scenario))


def scenario_lead(scenario: ScenarioMark, place: str, where: str = "") -> Para:
    """Page 1's first words in a scenario's briefing: what it is, before any figure is read. `where`: where the
    changes are listed (default: under SCENARIO_HEADING)."""
    n = len(scenario.changes)
    where = where or f"listed with what {'it does' if n == 1 else 'they do'} under \u201c{SCENARIO_HEADING}\u201d"
    return Para(f"What if: this briefing shows {place} as it would be with the {count(n)[0]} "
                f"{plural('change', n)} of scenario \u201c{scenario.name}\u201d, {where}. "
                f"{'It has not' if n == 1 else 'None of them has'} been made: every figure here is the scenario's, "
                "not the actual allocations.", "lead")


ABOUT_HEADING = "About this briefing"
SCENARIO_HEADING = "The scenario: what changes"
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


def finding_list(found: Iterable[Finding], *, question_first: bool = False, numbered: bool = False,
                 own: OwnForce | None = None) -> FindingList:
    """The findings with their questions; `own`: word area lists as the area's briefing does (`OwnForce`)."""
    said = [own.finding(x) for x in found] if own is not None else list(found)
    return FindingList(tuple((marked(x.sentence, x.is_estimate), x.question) for x in said), numbered=numbered,
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


def _summary(p: AreaProfile, apportioned_total: float, own: OwnForce) -> list:
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
        blocks.append(finding_list(top, question_first=True, numbered=True, own=own))
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


def _across(p: AreaProfile, own: OwnForce) -> list:
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
        blocks += [Heading(heading, 2), finding_list(shown, own=own)]
        if len(these) > len(shown):
            blocks.append(Para(f"The {len(shown)} largest of {len(these):,} findings of this kind are printed here."))
        for t in scoped_tables(f, kind, force=True):
            blocks += review_table(own.table(t))
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
    from services_db.documents import figures as fig  # matplotlib: loaded when a briefing is drawn

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


def _activity(p: AreaProfile, data: ReviewData, share: pd.DataFrame, own: OwnForce | None = None) -> list:
    services = p.activity.services
    own = own or OwnForce.of(data, p.code)
    appendix = ("lists those working only within " + own.force_name + " and counts the rest"
                if counted_wide(services, service_reach(services, data, own)) else "lists them all")
    theme_name = dict(zip(data.themes["theme_key"], data.themes["name"], strict=False))
    blocks: list = [Heading("Activity", 1), Para(
        f"{len(services)} commissioned services cover some part of {p.name}; their annual funding as at "
        f"{date_long(p.as_at)} is {pounds(p.activity.annual_funding)} (whole services, some of which also work "
        f"elsewhere). The area's share of that money, split by population over the LSOAs each service covers, is "
        f"{pounds(float(share['amount'].sum()))}. Only services current at that date are counted; the appendix "
        f"{appendix}.")]
    long = share.explode("theme_keys").dropna(subset=["theme_keys"])
    long = long.assign(theme_name=long["theme_keys"].map(lambda k: theme_name.get(k, str(k))))
    blocks.append(Heading("Funding by theme and prevention tier", 2))
    from services_db.documents import figures as fig

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


def _review(p: AreaProfile, own: OwnForce) -> list:
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
            blocks.append(finding_list(shown, own=own))
            if len(found) > len(shown):
                blocks.append(Para(
                    f"The {len(shown)} largest of {len(found):,} findings of this kind are printed here; the area "
                    f"page's Review section and “python -m services_db review --area \"{p.name}\"” list them all."))
        else:
            blocks.append(Para("Nothing found for this area at this date."))
        if found:
            for shown_table in scoped_tables(p.review.findings, kind, force=False):
                blocks += review_table(own.table(shown_table))
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


APPENDIX_LISTED = 150  # services listed one by one; past this, those covering the whole force or more are counted
LOCAL, FORCE_WIDE, BEYOND = "local", "force", "beyond"


def service_reach(services: pd.DataFrame, data: ReviewData, own: OwnForce) -> pd.Series:
    """Each service's reach, by the areas it covers: BEYOND the area's force (a national or regional service:
    residents covered outside the snapshot's areas, or an area of another force), FORCE_WIDE (the force, or every
    LSOA of it), or LOCAL (within the force, short of all of it). Every service is LOCAL when the force is not
    known."""
    if own.force_code is None or services.empty:
        return pd.Series(LOCAL, index=services.index, dtype=object)
    tree = hierarchy_of(data)
    force_of = tree.ancestor_map("force")
    n_lsoas = len(tree.under(own.force_code))
    outside = pd.to_numeric(services.get("outside_population", 0.0), errors="coerce").fillna(0.0) > 0
    codes = services.get("coverage_codes", pd.Series([()] * len(services), index=services.index))

    def reach(covered: object, beyond: bool) -> str:
        t = tuple(covered) if isinstance(covered, tuple | list) else ()
        if beyond or any(force_of.get(c, own.force_code) != own.force_code for c in t):
            return BEYOND
        if own.force_code in t or (n_lsoas > 0 and len(tree.under(t)) >= n_lsoas):
            return FORCE_WIDE
        return LOCAL

    return pd.Series([reach(t, b) for t, b in zip(codes, outside, strict=True)], index=services.index, dtype=object)


def counted_wide(services: pd.DataFrame, reach: pd.Series) -> bool:
    """Whether the appendix counts the force-wide and wider services instead of listing them: only when listing
    every service would run past APPENDIX_LISTED rows (at national size an area has hundreds: a national
    service covers every area of every force) and some service works only within the force."""
    return len(services) > APPENDIX_LISTED and bool((reach != LOCAL).any())


def _wide_table(services: pd.DataFrame, reach: pd.Series, own: OwnForce) -> Table:
    """Force-wide and wider services in one table: how many, their annual funding (whole services; those with
    none recorded counted apart, never as £0)."""
    rows = []
    labels = {BEYOND: f"{own.force_name} and beyond (national or several forces)",
              FORCE_WIDE: f"The whole of {own.force_name}"}
    for key in (BEYOND, FORCE_WIDE):
        these = services[reach == key]
        if these.empty:
            continue
        recorded = these["funding_recorded"].astype(bool) if "funding_recorded" in these.columns else \
            these["annual_funding"].notna()
        money = these.loc[recorded, "annual_funding"]
        estimate = bool(these.loc[recorded, "funding_is_estimate"].astype(bool).any())
        rows.append((labels[key], f"{len(these):,}",
                     pounds(float(money.sum()), estimate) if recorded.any() else NOT_RECORDED,
                     f"{int((~recorded).sum()):,}"))
    return Table(("Services covering", "Services", "Annual funding (whole services)", "Funding not recorded for"),
                 tuple(rows), widths=(5, 1.5, 3, 2.5), align=("l", "r", "r", "r"), caption=ESTIMATE_KEY)


def _appendix(p: AreaProfile, data: ReviewData, own: OwnForce | None = None) -> list:
    own = own or OwnForce.of(data, p.code)
    s = p.activity.services.sort_values("name", key=lambda c: c.str.lower(), kind="stable")
    reach = service_reach(s, data, own)
    wide = counted_wide(s, reach)
    listed = s[reach == LOCAL] if wide else s
    rows = tuple((str(r.name), str(r.provider or "\u2013"), str(r.commissioners or "\u2013"),
                  funding_cell(r.annual_funding, bool(r.funding_is_estimate),
                               bool(getattr(r, "funding_recorded", True))),
                  day(r.end_date, bool(r.end_date_is_estimate)))
                 for r in listed.itertuples(index=False))
    columns = ("provider, commissioners, annual funding at that date (whole service; \u201c"
               f"{NOT_RECORDED}\u201d where no funding is recorded for the date) and end date")
    if wide:
        intro = (f"The {len(s):,} services current at {date_long(p.as_at)} covering some part of {p.name}: the "
                 f"{len(s) - len(listed):,} that cover the whole of {own.force_name} or reach beyond it are counted "
                 f"in the first table; the {len(listed):,} that work only within {own.force_name} are listed in the "
                 f"second, with their {columns}. The directory lists every one of them. Services that have ended "
                 "by then are not listed.")
    else:
        intro = (f"All {len(s)} services current at {date_long(p.as_at)} covering some part of {p.name}, with "
                 f"their {columns}. Services that have ended by then are not listed.")
    blocks = [PageBreak(), Heading(APPENDIX_HEADING, 1), Para(intro, "body")]
    upcoming = p.activity.upcoming.sort_values("name", key=lambda c: c.str.lower(), kind="stable") \
        if len(p.activity.upcoming) else p.activity.upcoming
    if len(upcoming):  # shown as what they are, never as current: before the table, so the table ends the briefing
        blocks.append(Para(
            f"Not current at {date_long(p.as_at)}, so not counted anywhere in this briefing: "
            + "; ".join(f"{r.name} ({r.state}" + (f", starts {day(r.start_date)}" if pd.notna(r.start_date) else "")
                        + ")" for r in upcoming.itertuples(index=False)) + ".", "body"))
    if wide:
        blocks.append(_wide_table(s, reach, own))
    blocks.append(Table(("Service", "Provider", "Commissioners", "Annual funding", "Ends"), rows,
                        widths=(3.6, 2.6, 3, 1.5, 1.4), align=("l", "l", "l", "r", "r"), caption=ESTIMATE_KEY,
                        empty_text="No current service covers this area."))
    return blocks


def briefing_content(p: AreaProfile, data: ReviewData, *, fingerprint: str, data_updated: str,
                     sources: list[str], features: dict[str, list[dict]] | None,
                     scenario: ScenarioMark | None = None, scenario_blocks: Sequence[Block] = ()) -> Briefing:
    """The whole briefing for one area profile.

    `features`: GeoJSON features by level ("lsoa", "district") for the map; None draws no map. `scenario`: the
    briefing is of a what-if scenario (`p` and `data` are then the scenario's): page 1 says so first, and
    `scenario_blocks` (its changes and their effect, `services_db.documents.scenario`) follow page 1.
    """
    share = area_funding(p, data)
    own = OwnForce.of(data, p.code, p.review.findings)
    title = _title_page(p, fingerprint, data_updated, sources, scenario)
    summary = _summary(p, float(share["amount"].sum()), own)
    if scenario is not None:
        summary = [summary[0], scenario_lead(scenario, p.name), *summary[1:], *scenario_blocks]
    blocks = summary + _need(p, data, features) + _plans(p)
    blocks += _activity(p, data, share, own) + _review(p, own) + _across(p, own) + about_blocks(title)
    blocks += _appendix(p, data, own)
    gaps = p.review.findings.of_kind("gap")
    top = top_questions(p.review.findings)
    b = Briefing(area_code=p.code, area_name=p.name, as_at=p.as_at, fingerprint=fingerprint,
                 data_updated=data_updated, title_page=title, blocks=blocks, scenario=scenario)
    b.figures.update({
        "total_funding": float(p.activity.annual_funding), "n_services": float(len(p.activity.services)),
        "area_share": float(np.round(share["amount"].sum(), 2)), "n_gaps": float(len(gaps)),
        "n_findings": float(len(p.review.findings)),
    })
    b.sentences.update({"top_gap": gaps[0].sentence if gaps else "", "summary": [x.sentence for x in top],
                        "questions": [x.question for x in top]})
    return b
