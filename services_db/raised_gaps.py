"""Gaps in service raised by Early Action Teams, and what became of them.

A gap moves raised → acknowledged → referred (to a strategic board) → resolved or closed; each move carries a
note, who and when. Saves name the version they read so two people moving the same gap cannot overwrite each
other silently: the version check and its bump are one UPDATE (`editing.claim_version`), on SQLite as on
PostgreSQL. Each write re-reads the account of the person making it in the same transaction.

Beside the gaps people raise, `gap_index` shapes the gaps the review finds (need share against provision share,
`services_db.review.gaps`) into the list and the area-by-theme matrix the review page shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from services_db.audit import record, snapshot
from services_db.db import Database, bump_data_version
from services_db.editing import claim_version
from services_db.models import GAP_STATUSES, Area, GapReport, GapStatusChange, Theme, utcnow
from services_db.permissions import Actor, require

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "raised": ("acknowledged", "closed"),
    "acknowledged": ("referred", "resolved", "closed"),
    "referred": ("resolved", "closed"),
    "resolved": (),
    "closed": (),
}
STATUS_LABELS = {
    "raised": "Raised", "acknowledged": "Acknowledged", "referred": "Referred to a strategic board",
    "resolved": "Resolved", "closed": "Closed",
}
MAX_TEXT = 5000


class GapError(ValueError):
    """A gap could not be saved; the message says why in words for the form."""


class StaleEdit(GapError):
    """Somebody else saved this record since it was read."""


def raise_gap(db: Database, actor: Actor, *, area_code: str, theme_key: str, affected: str, description: str,
              evidence: str = "") -> int:
    """Record a new gap in service; returns its number."""
    require(actor, "raise_gap")
    description, affected, evidence = description.strip(), affected.strip(), evidence.strip()
    if not description:
        raise GapError("Say what happened: the description is required.")
    if any(len(t) > MAX_TEXT for t in (description, affected, evidence)):
        raise GapError(f"Each text box takes at most {MAX_TEXT:,} characters.")
    with db.session() as s:
        if s.get(Area, area_code) is None:
            raise GapError(f"Unknown area '{area_code}'.")
        if s.get(Theme, theme_key) is None:
            raise GapError(f"Unknown theme '{theme_key}'.")
        gap = GapReport(raised_by=actor.username, area_code=area_code, theme_key=theme_key, affected=affected,
                        description=description, evidence=evidence, status="raised", updated_by=actor.username)
        gap.history.append(GapStatusChange(from_status=None, to_status="raised", note="Raised",
                                           changed_by=actor.username))
        s.add(gap)
        s.flush()
        require(actor, "raise_gap", s)
        record(s, actor.username, "create", "gap_report", str(gap.id), None, snapshot(gap))
        bump_data_version(s)
        return gap.id


def change_status(db: Database, actor: Actor, gap_id: int, to_status: str, note: str, *, expected_version: int) -> None:
    """Move a gap to its next status, refusing stale saves and moves the workflow does not allow."""
    require(actor, "change_gap_status")
    if to_status not in GAP_STATUSES:
        raise GapError(f"Unknown status '{to_status}'.")
    if not note.strip():
        raise GapError("Add a note saying why the status changes.")
    with db.session() as s:
        claimed = claim_version(s, GapReport, GapReport.id == gap_id, expected_version)
        gap = s.get(GapReport, gap_id)  # read after the claim: as it is now, version already bumped if claimed
        if gap is None:
            raise GapError(f"There is no gap number {gap_id}.")
        if not claimed:
            raise StaleEdit(f"Gap {gap_id} was changed by {gap.updated_by} at {gap.updated_at:%d %b %Y %H:%M} "
                            "since you opened it; reload to see their change, then try again.")
        if to_status not in TRANSITIONS[gap.status]:
            allowed = ", ".join(STATUS_LABELS[t] for t in TRANSITIONS[gap.status]) or "nothing (it is finished)"
            raise GapError(f"A gap that is {STATUS_LABELS[gap.status].lower()} can move to: {allowed}.")
        before = snapshot(gap) | {"version": expected_version}
        gap.history.append(GapStatusChange(from_status=gap.status, to_status=to_status, note=note.strip(),
                                           changed_by=actor.username))
        gap.status = to_status
        gap.updated_by, gap.updated_at = actor.username, utcnow()
        s.flush()
        require(actor, "change_gap_status", s)
        record(s, actor.username, "update", "gap_report", str(gap.id), before, snapshot(gap))
        bump_data_version(s)


def gap_log(db: Database, *, area_codes: list[str] | None = None, theme_keys: list[str] | None = None,
            statuses: list[str] | None = None, gap_ids: list[int] | None = None) -> pd.DataFrame:
    """Raised gaps with their area and theme names, newest first, filtered as asked."""
    stmt = (select(GapReport.id, GapReport.raised_at, GapReport.raised_by, GapReport.area_code,
                   Area.name.label("area"), GapReport.theme_key, Theme.name.label("theme"), GapReport.affected,
                   GapReport.description, GapReport.evidence, GapReport.status, GapReport.version,
                   GapReport.updated_at, GapReport.updated_by)
            .join(Area, Area.code == GapReport.area_code).join(Theme, Theme.key == GapReport.theme_key)
            .order_by(GapReport.id.desc()))
    if area_codes:
        stmt = stmt.where(GapReport.area_code.in_(area_codes))
    if theme_keys:
        stmt = stmt.where(GapReport.theme_key.in_(theme_keys))
    if statuses:
        stmt = stmt.where(GapReport.status.in_(statuses))
    if gap_ids is not None:
        stmt = stmt.where(GapReport.id.in_(gap_ids))
    with db.engine.connect() as c:
        result = c.execute(stmt)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    frame["status_label"] = frame["status"].map(STATUS_LABELS)
    return frame


def gap_history(db: Database, gap_id: int) -> pd.DataFrame:
    """Each status change of one gap: from, to, note, who and when."""
    stmt = (select(GapStatusChange.changed_at, GapStatusChange.changed_by, GapStatusChange.from_status,
                   GapStatusChange.to_status, GapStatusChange.note)
            .where(GapStatusChange.gap_id == gap_id).order_by(GapStatusChange.id))
    with db.engine.connect() as c:
        result = c.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


@dataclass(frozen=True)
class GapDetail:
    """One raised gap, its story so far and where it may go next."""

    gap: dict  # its `gap_log` row
    history: pd.DataFrame  # `gap_history`
    next_statuses: tuple[str, ...]  # `TRANSITIONS` from its status: none once it is resolved or closed


def gap_detail(db: Database, gap_id: int) -> GapDetail | None:
    """The gap numbered `gap_id`, or None when there is none."""
    rows = gap_log(db, gap_ids=[int(gap_id)])
    if rows.empty:
        return None
    gap = rows.iloc[0].to_dict()
    return GapDetail(gap=gap, history=gap_history(db, int(gap_id)), next_statuses=TRANSITIONS[gap["status"]])


# -- the gaps the review finds (its gap index), as the review page lists them --------------------------------------


@dataclass(frozen=True)
class GapIndex:
    """The review's gap index of every area and theme (`services_db.review.gaps`), shaped to be shown.

    A cell of the area-by-theme picture is one of `CELL_STATES`. The worst gaps (need and no current service)
    have no finite index, so they are a state of their own ("no provision"), never a blank or "Infinity"; a cell
    whose services' funding is not recorded is unknown ("not recorded"), which is not the same as no provision.
    """

    # area x theme, the areas with a need figure: the index as a number (capped at INDEX_CAP so one extreme area
    # does not wash out the colours), NaN where the cell is not a number (its state says what it is)
    matrix: pd.DataFrame
    states: pd.DataFrame  # the same shape: each cell's state (`CELL_STATES`)
    labels: pd.DataFrame  # the same shape: what each cell says ("1.85", "no provision", "not recorded"...)
    # the rows to act on: each flagged gap, and each area and theme whose services' funding is not recorded (no
    # gap can be measured there); gap_index as text (`index_label`), provision_share as text ("not recorded" where
    # the funding is unknown, never "0.0%"), money_to_parity only for gaps and never below zero, significant as
    # "yes", "no" or "not tested"
    flagged: pd.DataFrame
    no_need_figure: list[str]  # the areas with no need figure: no gap, share or parity is computed for them
    empty: bool  # no theme has need data, so no gap index can be computed


INDEX_CAP = 5.0
FLAGGED_COLUMNS = ["rank", "area_name", "theme_name", "need_share", "provision_share", "gap_index", "reason",
                   "significant", "services", "unknown_funding", "money_to_parity", "need_is_estimate"]

# What a cell of the gap picture is. "no provision" is the strongest state: need and no current service at all.
CELL_INDEX, CELL_NO_PROVISION, CELL_NOT_RECORDED, CELL_NO_NEED, CELL_NO_FIGURE = (
    "index", "no provision", "not recorded", "no need", "no figure")
CELL_STATES = (CELL_NO_PROVISION, CELL_INDEX, CELL_NOT_RECORDED, CELL_NO_NEED, CELL_NO_FIGURE)


def cell_state(gap_index: float, reason: str, has_need_figure: bool) -> str:
    """What one (area, theme) cell is: a number, or the state that stands in for one. An infinite index is never
    shown as a number: with no service it is "no provision", with services whose funding is not recorded it is
    "not recorded" (unknown, not zero), and with services recorded at £0 it is "no provision" as well (there is
    no money)."""
    from services_db.review.gaps import NO_PROVISION, NOT_RECORDED

    if not has_need_figure:
        return CELL_NO_FIGURE
    if reason == NO_PROVISION:
        return CELL_NO_PROVISION
    value = float(gap_index) if gap_index is not None else float("nan")
    if math.isfinite(value):
        return CELL_INDEX
    if reason == NOT_RECORDED:
        return CELL_NOT_RECORDED
    return CELL_NO_PROVISION if value > 0 else CELL_NO_NEED  # +inf: need, £0 recorded; NaN: no need, no money


def index_label(gap_index: float, state: str) -> str:
    """A cell or table entry: the index to two decimals, or the state's words (never "Infinity" or "nan")."""
    from services_db.review.shown import cell

    return cell("number2", gap_index) if state == CELL_INDEX else state


def gap_index(gaps: pd.DataFrame) -> GapIndex:
    """`gaps`: the force review's gap table (`Findings.tables["gaps"]`)."""
    from services_db.review.gaps import NOT_RECORDED
    from services_db.review.shown import cell

    if gaps.empty:
        none = pd.DataFrame()
        return GapIndex(matrix=none, states=none, labels=none, flagged=pd.DataFrame(columns=FLAGGED_COLUMNS),
                        no_need_figure=[], empty=True)
    states = [cell_state(g, r, bool(h)) for g, r, h in
              zip(gaps["gap_index"].tolist(), gaps["reason"].tolist(), gaps["has_need_figure"].tolist(), strict=True)]
    values = pd.to_numeric(gaps["gap_index"], errors="coerce")
    cells = gaps.assign(
        state=states, shown=values.where([s == CELL_INDEX for s in states]).clip(upper=INDEX_CAP),
        label=[index_label(g, s) for g, s in zip(values.tolist(), states, strict=True)])
    cells = cells[cells["has_need_figure"].astype(bool)]
    shaped = {k: cells.pivot_table(index="area_name", columns="theme_name", values=k, aggfunc="first", dropna=False)
              for k in ("shown", "state", "label")}
    shaped["state"] = shaped["state"].fillna(CELL_NO_FIGURE)
    shaped["label"] = shaped["label"].fillna(CELL_NO_FIGURE)
    kept = gaps[gaps["is_gap"] | (gaps["reason"] == NOT_RECORDED)]
    flagged = kept[FLAGGED_COLUMNS]
    kept_states = [states[gaps.index.get_loc(i)] for i in kept.index]
    flagged = flagged.assign(
        gap_index=[index_label(g, s) for g, s in zip(values[kept.index].tolist(), kept_states, strict=True)],
        provision_share=[CELL_NOT_RECORDED if s == CELL_NOT_RECORDED else cell("percent", v)  # unknown, not 0%
                         for v, s in zip(flagged["provision_share"].tolist(), kept_states, strict=True)],
        money_to_parity=flagged["money_to_parity"].clip(lower=0.0).where(kept["is_gap"]),
        significant=flagged["significant"].map({True: "yes", False: "no"}).fillna("not tested"))
    missing = gaps.loc[~gaps["has_need_figure"].astype(bool), "area_name"].unique().tolist()
    return GapIndex(matrix=shaped["shown"].astype(float), states=shaped["state"], labels=shaped["label"],
                    flagged=flagged, no_need_figure=missing, empty=False)
