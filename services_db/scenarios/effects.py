"""A scenario's review beside the actual one: what the changes do to gaps, duplication, inequity and cliffs.

Both reviews are the real `review_force` (same sentences, same tables); this module lines their tables up by
what identifies a row (area and theme, the set of services of a duplication group, fund) and says what moved:
a gap opened or closed, money to parity, a group formed or dissolved, a fund's Gini and ratio, its areas with
nothing, the money at risk of a cliff. Nothing here reads or writes the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services_db.review import review_force
from services_db.review.findings import Findings
from services_db.scenarios.changes import Change, apply
from services_db.snapshot import Snapshot


@dataclass(frozen=True)
class ScenarioReview:
    """The actual review (`before`), the scenario's (`after`), and their differences, one frame per measure."""

    changes: list[str]  # each change in words
    before: Findings
    after: Findings
    gaps: pd.DataFrame  # area, theme, gap index / money to parity before and after, change
    duplication: pd.DataFrame  # theme, target group, services, change (formed / dissolved)
    inequity: pd.DataFrame  # fund, Gini, ratio, areas with nothing, before and after
    cliffs: pd.DataFrame  # area, money at risk before and after
    changed: list[tuple[str, str]]  # (actual, scenario): the same finding (kind, area, theme) reworded
    new_sentences: list[str]  # findings the scenario has and the actual review has not
    gone_sentences: list[str]  # findings of the actual review the scenario no longer has


def _gap_change(was: bool, now: bool, before: float, after: float, money_before: float, money_after: float) -> str:
    """What happened to one area and theme: a gap closed or opened, grew or shrank (money to parity), or, with no
    gap either side, its provision moved (a finding such as "funding not recorded" may still come or go)."""
    if was and not now:
        return "closed"
    if now and not was:
        return "opened"
    if now and after < before - 0.005:
        return "smaller"
    if now and after > before + 0.005:
        return "larger"
    if abs(money_after - money_before) >= 0.005:
        return "more provision" if money_after > money_before else "less provision"
    return "unchanged"


def _gaps(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    keys = ["area_code", "area_name", "theme_key", "theme_name"]
    cols = ["gap_index", "is_gap", "money_to_parity", "provision"]
    both = before[keys + cols].merge(after[keys + cols], on=keys, how="outer", suffixes=("_before", "_after"))
    both["change"] = [_gap_change(bool(w), bool(n), float(b), float(a), float(pb), float(pa))
                      for w, n, b, a, pb, pa in zip(
                          both["is_gap_before"].fillna(False), both["is_gap_after"].fillna(False),
                          both["money_to_parity_before"].fillna(0), both["money_to_parity_after"].fillna(0),
                          both["provision_before"].fillna(0), both["provision_after"].fillna(0), strict=True)]
    return both[both["change"] != "unchanged"].reset_index(drop=True)


def _groups(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=["key", "theme_name", "target_group_name", "services"])
    return frame.assign(key=[tuple(sorted(int(i) for i in ids)) for ids in frame["service_ids"]])[
        ["key", "theme_name", "target_group_name", "services"]]


def _duplication(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    b, a = _groups(before), _groups(after)
    formed = a[~a["key"].isin(set(b["key"]))].assign(change="formed")
    dissolved = b[~b["key"].isin(set(a["key"]))].assign(change="dissolved")
    return pd.concat([formed, dissolved], ignore_index=True).drop(columns="key")


def _inequity(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    cols = ["basis", "key", "label", "gini", "ratio", "zero_areas"]
    both = before[cols].merge(after[cols], on=["basis", "key", "label"], how="outer", suffixes=("_before",
                                                                                                "_after"))
    both["nothing_before"] = both["zero_areas_before"].map(lambda z: len(z) if isinstance(z, tuple) else np.nan)
    both["nothing_after"] = both["zero_areas_after"].map(lambda z: len(z) if isinstance(z, tuple) else np.nan)
    moved = ~np.isclose(both["gini_before"].astype(float), both["gini_after"].astype(float), equal_nan=True) | (
        both["nothing_before"] != both["nothing_after"])
    return both[moved].drop(columns=["zero_areas_before", "zero_areas_after"]).reset_index(drop=True)


def _cliffs(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    keys = ["area_code", "area_name"]
    both = before[keys + ["at_risk"]].merge(after[keys + ["at_risk"]], on=keys, how="outer",
                                            suffixes=("_before", "_after")).fillna({"at_risk_before": 0.0,
                                                                                    "at_risk_after": 0.0})
    return both[~np.isclose(both["at_risk_before"], both["at_risk_after"])].reset_index(drop=True)


def _pair(before: Findings, after: Findings) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Findings whose sentence differs, paired where one finding of a kind, area and theme went and one came (the
    same finding with new figures), the rest listed as gone or new."""
    said, says = set(before.sentences()), set(after.sentences())
    gone = [f for f in before.findings if f.sentence not in says]
    new = [f for f in after.findings if f.sentence not in said]

    def key(f) -> tuple:  # noqa: ANN001
        return f.kind, f.area_code, f.theme_key

    gone_keys = pd.Series([key(f) for f in gone], dtype=object).value_counts()
    new_keys = pd.Series([key(f) for f in new], dtype=object).value_counts()
    unique = {k for k in gone_keys.index if gone_keys[k] == 1 and new_keys.get(k, 0) == 1}
    after_of = {key(f): f.sentence for f in new if key(f) in unique}
    changed = [(f.sentence, after_of[key(f)]) for f in gone if key(f) in unique]
    return (changed, [f.sentence for f in new if key(f) not in unique],
            [f.sentence for f in gone if key(f) not in unique])


def review_scenario(snap: Snapshot, changes: list[Change], as_at: dt.date | pd.Timestamp) -> ScenarioReview:
    """The force review of `snap` and of `snap` with `changes`, side by side. `snap` is not changed."""
    before = review_force(snap, as_at)
    after = review_force(apply(snap, changes), as_at)
    changed, new, gone = _pair(before, after)
    return ScenarioReview(
        changes=[c.describe(snap) for c in changes], before=before, after=after,
        gaps=_gaps(before.tables["gaps"], after.tables["gaps"]),
        duplication=_duplication(before.tables["duplication"], after.tables["duplication"]),
        inequity=_inequity(before.tables["inequity_summary"], after.tables["inequity_summary"]),
        cliffs=_cliffs(before.tables["cliff_totals"], after.tables["cliff_totals"]),
        changed=changed, new_sentences=new, gone_sentences=gone)
