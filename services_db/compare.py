"""Areas side by side (issue "Each user's job on one screen", point 3): two or more place-based areas, or areas and
the whole force, on one screen: need with intervals, provision per head by theme, funding at risk, findings.

Everything comes from the same calls the area page and the force review make (`need.area_need`, `review_force`,
`review_area`), so a figure here is the figure there; this module only lines them up by place. The force is a
place like the others (its code is the force's own), with the force rate as its need value (no interval: it is the
benchmark the areas are compared with).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services_db.counting import period_contains, services_current
from services_db.hierarchy import UnknownAreaName, hierarchy_of
from services_db.need import area_need
from services_db.review.data import ReviewData
from services_db.review.findings import review_area, review_force

KINDS = {"gap": "Gaps", "duplication": "Duplication", "inequity": "Inequity", "cliff": "Funding cliffs",
         "plan": "Plan priorities unanswered", "unlinked": "Services not linked to a plan"}
TOP = 3  # findings listed per place


@dataclass(frozen=True)
class Comparison:
    """The places (in the order asked) and one long frame per view, keyed by place_code.

    need: place_code, place_name, indicator_key, indicator, rate, lower, upper, rate_unit, is_estimate,
    shared_out, comparison. provision: place_code, place_name, theme_key, theme_name, provision, population,
    per_head, services, unknown_funding. at_risk: place_code, place_name, at_risk, services, first_end.
    findings: place_code, place_name, kind, label, count; top: place_code, place_name, rank, kind, sentence,
    question, is_estimate.
    """

    places: pd.DataFrame  # code, name, level, population
    need: pd.DataFrame
    provision: pd.DataFrame
    at_risk: pd.DataFrame
    findings: pd.DataFrame
    top: pd.DataFrame
    as_at: dt.date


def places(data: ReviewData, asked: list[str]) -> tuple[list[str], list[str]]:
    """(codes, unknown): each asked name or code resolved among the force and its place-based areas, in order and
    once each; what resolves to nothing is returned apart so the page can say so."""
    tree = hierarchy_of(data)
    codes: list[str] = []
    unknown: list[str] = []
    for text in asked:
        try:
            code = tree.resolve(text, ("force", "area"))
        except UnknownAreaName:
            unknown.append(text)
            continue
        if code not in codes:
            codes.append(code)
    return codes, unknown


def choices(data: ReviewData) -> list[str]:
    """The names a user may pick: the force first, then its place-based areas (the review's provision table is
    per place-based area, so districts are not offered)."""
    return hierarchy_of(data).names_at(("force", "area"))


def _need(data: ReviewData, code: str, name: str, is_force: bool, area_codes: list[str]) -> pd.DataFrame:
    """A place's need rows. The force's are the force rates its areas are compared with (over the districts that
    have a figure: an indicator measured in 12 of 14 districts is the 12's rate), with no interval."""
    cols = ["indicator_key", "indicator", "rate", "lower", "upper", "rate_unit", "is_estimate", "shared_out",
            "comparison"]
    if not is_force:
        return area_need(data, code)[cols].assign(place_code=code, place_name=name)
    rows = pd.concat([area_need(data, a) for a in area_codes], ignore_index=True).drop_duplicates("indicator_key")
    rows = rows.assign(rate=rows["force_rate"], lower=np.nan, upper=np.nan, comparison="the force")
    return rows[cols].assign(place_code=code, place_name=name)


def _force_theme_services(data: ReviewData, as_at: dt.date) -> pd.DataFrame:
    """Per theme, the services current at `as_at` anywhere in the force, each once, and how many of them have
    unknown funding (no funding line current at the date with an amount: the review's rule, `review.shares`).
    The areas' counts cannot be added up for this: a service covering two areas would count twice."""
    svc = data.services
    now = svc[services_current(svc["status"], svc["start_date"], svc["end_date"], as_at, svc.get("known_from"))]
    lines = data.funding_lines
    amount = pd.to_numeric(lines["annual_amount"], errors="coerce")
    live = period_contains(lines["start_date"], lines["end_date"], as_at) & amount.notna().to_numpy()
    known = set(lines.loc[live, "service_id"])
    rows = now[["service_id", "themes"]].explode("themes").dropna()
    rows = rows.assign(unknown=~rows["service_id"].isin(known))
    return (rows.drop_duplicates(["service_id", "themes"]).groupby("themes")
            .agg(services=("service_id", "size"), unknown_funding=("unknown", "sum"))
            .rename_axis("theme_key").reset_index())


def _provision(force: pd.DataFrame, by_theme: pd.DataFrame | None, code: str, name: str, members: set[str],
               population: float) -> pd.DataFrame:
    """A place's provision per theme: an area's own row of the force review's provision table; the force's sum of
    its areas' money with the services counted once per theme (`by_theme`). `per_head` is missing where no money is recorded but
    some service's funding is not recorded: that is unknown, not £0 a head."""
    rows = force[force["area_code"].isin(members)]
    agg = rows.groupby(["theme_key", "theme_name"], as_index=False, sort=False).agg(
        provision=("provision", "sum"), services=("services", "sum"), unknown_funding=("unknown_funding", "sum"))
    if by_theme is not None:  # the force: a service covering two areas is one service, not two
        agg = agg.drop(columns=["services", "unknown_funding"]).merge(by_theme, on="theme_key", how="left")
        agg[["services", "unknown_funding"]] = agg[["services", "unknown_funding"]].fillna(0).astype(int)
    agg["population"] = population
    agg["per_head"] = agg["provision"] / population if population else np.nan
    unknown = (agg["provision"] <= 0) & (agg["unknown_funding"].fillna(1) > 0)
    agg.loc[unknown, "per_head"] = np.nan
    return agg.assign(place_code=code, place_name=name)


def compare(data: ReviewData, codes: list[str], as_at: dt.date) -> Comparison:
    """The places `codes` (the force's or its areas' codes, as `places` resolves them) side by side at `as_at`."""
    tree = hierarchy_of(data)
    force = review_force(data, as_at)
    provision_by_area = force.tables["provision"]
    force_themes = _force_theme_services(data, as_at)
    areas = data.areas.set_index("code")
    force_code = str(data.areas.loc[data.areas["level"] == "force", "code"].iloc[0])
    rows, need, provision, risk, counts, top = [], [], [], [], [], []
    for code in codes:
        name = tree.name_of(code, code)
        level = str(areas.at[code, "level"])
        population = float(pd.to_numeric(areas.at[code, "population"], errors="coerce"))
        is_force = level == "force"
        rows.append(dict(code=code, name=name, level=level, population=population))
        need.append(_need(data, code, name, is_force, list(tree.descendants(force_code, "area"))))
        members = set(tree.descendants(code, "area"))
        provision.append(_provision(provision_by_area, force_themes if is_force else None, code, name, members,
                                    population))
        findings = force if is_force else review_area(data, code, as_at)
        total = findings.tables["cliff_total"]
        risk.append(dict(place_code=code, place_name=name,
                         at_risk=float(total["at_risk"].sum()) if len(total) else 0.0,
                         services=int(total["services"].sum()) if len(total) else 0,
                         first_end=total["first_end"].min() if len(total) else pd.NaT))
        for kind, label in KINDS.items():
            counts.append(dict(place_code=code, place_name=name, kind=kind, label=label,
                               count=len(findings.of_kind(kind))))
        for rank, f in enumerate(findings.findings[:TOP], start=1):
            top.append(dict(place_code=code, place_name=name, rank=rank, kind=f.kind, sentence=f.sentence,
                            question=getattr(f, "question", "") or "", is_estimate=bool(f.is_estimate)))
    return Comparison(places=pd.DataFrame(rows), need=pd.concat(need, ignore_index=True),
                      provision=pd.concat(provision, ignore_index=True), at_risk=pd.DataFrame(risk),
                      findings=pd.DataFrame(counts), top=pd.DataFrame(top), as_at=as_at)
