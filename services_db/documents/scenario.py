"""What a scenario's briefing adds to the briefing: its changes, what they do, and the force's scenario briefing.

A scenario's briefing is the ordinary briefing built from the scenario's snapshot (`scenarios.apply`), so every
figure, sentence and table is made by the same code as the actual one. This module writes only what is new: the
section listing each change (`Change.describe`) and its effect on the force review (`ScenarioReview`: gaps opened,
closed or moved, inequity's Gini and ratio actual → scenario, duplication groups formed or dissolved, money at
risk, findings reworded), and the force's briefing, which has no actual counterpart. Pure: no database, no
Streamlit; `build.py` gathers the inputs.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import pandas as pd

from services_db.areas import REVIEW_SECTIONS
from services_db.documents import model as doc
from services_db.documents.content import (
    PRINT_LIMIT,
    SCENARIO_HEADING,
    about_blocks,
    finding_list,
    fingerprint_facts,
    pounds,
    scenario_lead,
    snapshot_note,
    thresholds_text,
)
from services_db.review.wording import count, plural
from services_db.scenarios.effects import ScenarioReview

FINDINGS_HEADING = doc.Heading("Findings that change", 2)
PAGE_ONE_ROWS = 16  # table rows and changes that still leave page 1 of the force's briefing at full size
ARROW = " \u2192 "  # actual → scenario, in every before/after cell
EFFECT_ROWS = 2 * PRINT_LIMIT  # rows printed per effect table: at national size an added service moves hundreds
GAP_CHANGES = {"opened": "gap opened", "closed": "gap closed", "smaller": "gap smaller", "larger": "gap larger",
               "more provision": "more provision", "less provision": "less provision"}


def _missing(value: object) -> bool:
    try:
        return value is None or bool(pd.isna(value)) or not math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def _money(value: object) -> str:
    return "\u2013" if _missing(value) else pounds(float(value))  # type: ignore[arg-type]


def _gini(value: object) -> str:
    return "\u2013" if _missing(value) else f"{float(value):.2f}"  # type: ignore[arg-type]


def _ratio(value: object) -> str:
    return "\u2013" if _missing(value) else f"{float(value):.1f}"  # type: ignore[arg-type]


def _whole(value: object) -> str:
    return "\u2013" if _missing(value) else f"{float(value):,.0f}"  # type: ignore[arg-type]


def moved(before: object, after: object, fmt: Callable[[object], str]) -> str:
    """"0.14 → 0.13": a figure actual → scenario, each written as the review writes it."""
    return f"{fmt(before)}{ARROW}{fmt(after)}"


def _capped(frame: pd.DataFrame, table: doc.Table) -> list[doc.Block]:
    out: list[doc.Block] = [table]
    if len(frame) > EFFECT_ROWS:
        out.append(doc.Para(f"The table shows the first {EFFECT_ROWS} of {len(frame):,} rows; \u201cpython "
                            "-m services_db scenario review\u201d lists them all.", "note"))
    return out


def _tally(changes: pd.Series, words: dict[str, str]) -> str:
    said = [f"{count(int(n))[0]} {words.get(k, k)}" for k, n in changes.value_counts().items()]
    return "; ".join(said)


def _some(n: int, noun: str) -> str:
    return f"no {noun}" if n == 0 else f"{count(n)[0]} {plural(noun, n)}"


def effect_summary(r: ScenarioReview) -> str:
    """One sentence of what the changes do, counted from the effect tables."""
    opened = int((r.gaps["change"] == "opened").sum()) if len(r.gaps) else 0
    closed = int((r.gaps["change"] == "closed").sum()) if len(r.gaps) else 0
    other = len(r.gaps) - opened - closed
    formed = int((r.duplication["change"] == "formed").sum()) if len(r.duplication) else 0
    gone = len(r.duplication) - formed
    gaps = ("no gap in service opened or closed" if not opened and not closed else
            f"{_some(opened, 'gap')} in service opened and {_some(closed, 'gap')} closed")
    if other:
        gaps += (f", and {count(other)[0]} {'area and theme sees its' if other == 1 else 'areas and themes see their'}"
                 " provision or money to parity move")
    parts = [gaps, "no duplication group formed or dissolved" if not formed and not gone else
             f"{_some(formed, 'duplication group')} formed and {_some(gone, 'duplication group')} dissolved",
             f"the spread of {count(len(r.inequity))[0]} "
             f"{'fund or theme' if len(r.inequity) == 1 else 'funds and themes'} changes"
             if len(r.inequity) else "no fund's or theme's spread changes",
             f"money at risk of a funding cliff moves in {count(len(r.cliffs))[0]} {plural('area', len(r.cliffs))}"
             if len(r.cliffs) else "no area's money at risk changes"]
    reworded = len(r.changed) + len(r.new_sentences) + len(r.gone_sentences)
    said = (f"{count(reworded, capital=True)[0]} {plural('finding', reworded)} of the review "
            f"{'reads' if reworded == 1 else 'read'} differently." if reworded else "The findings read the same.")
    return f"Across the force, with the scenario: {'; '.join(parts)}. {said}"


def changes_blocks(mark: doc.ScenarioMark) -> list[doc.Block]:
    """The changes, numbered, each as the scenario page words it."""
    if not mark.changes:
        return [doc.Heading("Changes", 2),
                doc.Para("This scenario has no changes: its figures are the actual ones.")]
    return [doc.Heading("Changes", 2), doc.Bullets(tuple(mark.changes), numbered=True)]


def effect_blocks(r: ScenarioReview, *, summary: bool = True) -> list[doc.Block]:
    """What the changes do to the force review, actual → scenario, one table per measure (the scenario page's
    tables, `pages/scenarios.py`), then the findings that read differently; `summary`: open with the sentence
    that counts them (the force briefing has it on page 1 already)."""
    blocks: list[doc.Block] = ([doc.Heading("What the changes do", 2), doc.Para(effect_summary(r), "body")]
                               if summary else [])
    blocks.append(doc.Heading("Gaps", 2))
    if r.gaps.empty:
        blocks.append(doc.Para("No gap opens, closes or moves."))
    else:
        g = r.gaps.head(EFFECT_ROWS)
        rows = tuple((str(x.area_name), str(x.theme_name), GAP_CHANGES.get(str(x.change), str(x.change)),
                      moved(x.provision_before, x.provision_after, _money),
                      moved(x.money_to_parity_before, x.money_to_parity_after, _money))
                     for x in g.itertuples(index=False))
        blocks += _capped(r.gaps, doc.Table(
            ("Area", "Theme", "Change", "Provision (actual \u2192 scenario)", "To parity (actual \u2192 scenario)"),
            rows, widths=(2.2, 2.2, 1.6, 2.6, 2.6), align=("l", "l", "l", "r", "r"),
            caption="Provision: the area's share of the theme's known funding a year. To parity: the money a year "
                    "that would bring the area's share of provision up to its share of need; below \u00a30, the "
                    "area already has more than its share."))
    blocks.append(doc.Heading("Inequity", 2))
    if r.inequity.empty:
        blocks.append(doc.Para("No fund's or theme's spread changes."))
    else:
        rows = tuple((str(x.label), moved(x.gini_before, x.gini_after, _gini),
                      moved(x.ratio_before, x.ratio_after, _ratio), moved(x.nothing_before, x.nothing_after, _whole))
                     for x in r.inequity.head(EFFECT_ROWS).itertuples(index=False))
        blocks += _capped(r.inequity, doc.Table(
            ("Fund or theme", "Gini (actual \u2192 scenario)", "Ratio (actual \u2192 scenario)",
             "Districts with nothing"), rows, widths=(3.6, 2, 2, 2), align=("l", "r", "r", "r"),
            caption="Gini: 0 when every district receives the same per head, 1 when one district receives it all. "
                    "Ratio: the highest district's money per head to the lowest's."))
    blocks.append(doc.Heading("Duplication", 2))
    if r.duplication.empty:
        blocks.append(doc.Para("No duplication group forms or dissolves."))
    else:
        rows = tuple((str(x.change), str(x.theme_name), str(x.target_group_name), str(x.services))
                     for x in r.duplication.head(EFFECT_ROWS).itertuples(index=False))
        blocks += _capped(r.duplication, doc.Table(("Change", "Theme", "Who for", "Services"), rows,
                                                   widths=(1.2, 1.8, 1.8, 5), align=("l", "l", "l", "l")))
    blocks.append(doc.Heading("Funding cliffs", 2))
    if r.cliffs.empty:
        blocks.append(doc.Para("No area's money at risk changes."))
    else:
        rows = tuple((str(x.area_name), moved(x.at_risk_before, x.at_risk_after, _money))
                     for x in r.cliffs.head(EFFECT_ROWS).itertuples(index=False))
        blocks += _capped(r.cliffs, doc.Table(("Area", "At risk a year (actual \u2192 scenario)"), rows,
                                          widths=(3, 3), align=("l", "r"),
                                          caption="Annual funding ending within the review's window."))
    blocks += findings_blocks(r)
    return blocks


def findings_blocks(r: ScenarioReview) -> list[doc.Block]:
    """The review's sentences that differ: the same finding actual beside scenario, then those only one has."""
    blocks: list[doc.Block] = [FINDINGS_HEADING]
    if not (r.changed or r.gone_sentences or r.new_sentences):
        return blocks + [doc.Para("The findings read the same.")]
    if r.changed:
        shown = r.changed[:PRINT_LIMIT]
        blocks.append(doc.Table(("Actual", "Scenario"), tuple((was, now) for was, now in shown),
                                widths=(1, 1), align=("l", "l")))
        if len(r.changed) > len(shown):
            blocks.append(doc.Para(
                f"The first {len(shown)} of {len(r.changed):,} findings that read differently."))
    for title, these in (("Only in the actual review (the scenario no longer finds them)", r.gone_sentences),
                         ("Only in the scenario", r.new_sentences)):
        if these:
            blocks += [doc.Para(title + ":", "body"), doc.Bullets(tuple(these[:PRINT_LIMIT]))]
            if len(these) > PRINT_LIMIT:
                blocks.append(doc.Para(f"The first {PRINT_LIMIT} of {len(these):,}.", "note"))
    return blocks


def scenario_blocks(mark: doc.ScenarioMark, r: ScenarioReview, as_at: dt.date, place: str) -> list[doc.Block]:
    """The area briefing's scenario section, after page 1: the changes and what they do to the force review,
    then a page break so the briefing proper starts on a page of its own."""
    intro = (f"This briefing is built from the actual data as at {doc.date_long(as_at)} with the changes "
             "below applied to a copy of it; the records are unchanged. Everything after this section is "
             f"{place} as the scenario would have it. The effects are for the whole force, since moving "
             "money out of one area changes another's figures and the force's spread.")
    return [doc.Heading(SCENARIO_HEADING, 1), doc.Para(intro), *changes_blocks(mark), *effect_blocks(r),
            doc.PageBreak()]


def _force_review(r: ScenarioReview) -> list[doc.Block]:
    """The scenario's force review, kind by kind, each finding with its question (at most PRINT_LIMIT a kind)."""
    f = r.after
    blocks: list[doc.Block] = [doc.Heading("The force review with the scenario", 1), doc.Para(
        f"Every finding of the force review as at {doc.date_long(f.as_at)} with the scenario's changes, the "
        "largest of each kind first, each followed by the question for the partners who can act on it. Each "
        "area's scenario briefing shows the tables behind them.")]
    for kind, heading in REVIEW_SECTIONS.items():
        found = f.of_kind(kind)
        if not found:
            continue
        shown = found[:PRINT_LIMIT]
        blocks += [doc.Heading(heading, 2), finding_list(shown)]
        if len(found) > len(shown):
            blocks.append(doc.Para(
                f"The {len(shown)} largest of {len(found):,} findings of this kind are printed here; "
                "\u201cpython -m services_db scenario review\u201d lists the changes."))
    return blocks


def force_content(r: ScenarioReview, mark: doc.ScenarioMark, *, force_code: str, force_name: str,
                  as_at: dt.date, fingerprint: str, data_updated: str, sources: list[str]) -> doc.Briefing:
    """The force's briefing of a scenario: page 1 the changes and what they do in one paragraph, then the effect
    tables, the findings that change, the scenario's whole force review with its questions, and the facts."""
    facts = (("Force", force_name), ("Figures as at", doc.date_long(as_at)),
             ("Data last updated", data_updated or "not recorded"), *fingerprint_facts(fingerprint, mark),
             ("Review thresholds", thresholds_text(r.after.params)))
    title = doc.TitlePage(title=force_name,
                          subtitle=f"Scenario \u201c{mark.name}\u201d: briefing for the force \u00b7 "
                                   f"figures as at {doc.date_long(as_at)}",
                          facts=facts, sources=tuple(sources) or ("Not recorded.",),
                          note=snapshot_note(as_at, fingerprint, mark))
    before, after = len(r.before.findings), len(r.after.findings)
    lead = (f"{effect_summary(r)} The force review finds {count(after)[0]} {plural('finding', after)} with the "
            f"scenario, against {count(before)[0]} in the actual data.")
    effects = effect_blocks(r, summary=False)
    findings = effects.index(FINDINGS_HEADING)
    rows = sum(len(x.rows) for x in effects[:findings] if isinstance(x, doc.Table))
    # page 1 is drawn on one page (shrunk to fit): the effect tables join it only when they are short
    split = [] if rows + len(mark.changes) <= PAGE_ONE_ROWS else [doc.PageBreak()]
    blocks: list[doc.Block] = [
        doc.Heading("Summary", 1), scenario_lead(mark, force_name, "listed below"), doc.Para(lead, "body"),
        *changes_blocks(mark), *split, doc.Heading("What the changes do", 1 if split else 2),
        *effects[:findings], doc.PageBreak(), *effects[findings:], doc.PageBreak(), *_force_review(r),
        *about_blocks(title)]
    b = doc.Briefing(area_code=force_code, area_name=force_name, as_at=as_at, fingerprint=fingerprint,
                     data_updated=data_updated, title_page=title, blocks=blocks, scenario=mark)
    b.figures.update({"n_findings": float(after), "n_findings_actual": float(before),
                      "gaps_changed": float(len(r.gaps)), "inequity_changed": float(len(r.inequity))})
    b.sentences.update({"changes": list(mark.changes), "summary": [x.sentence for x in r.after.findings[:5]],
                        "changed": [list(p) for p in r.changed]})
    return b

