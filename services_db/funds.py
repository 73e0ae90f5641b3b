"""Funds and their allocations, for OPCC staff: totals, what is unallocated, where the money went and when.

The one rule that matters: an allocation with a parent is a breakdown line of that parent (seed 002's £581,476
to the Lancashire Community Safety Strategy Group is itself split nine ways). Totals count top-level
allocations only; breakdowns show the leaves, plus whatever of a parent its lines do not account for, so no
pound is counted twice and every breakdown adds back to the fund's allocated total.

What is money follows `services_db.counting`: only awarded and paid allocations are money (an application,
status "applied", is pipeline, shown apart by `allocation_pipeline`, never as money received; a withdrawn one is
nothing), and a fund whose period starts after the "as at" date is future money (`fund_periods`, `fund_summary`).

Pure pandas over `ReviewData`, except `allocation_schedules`, which reads the payment schedule the review frames
do not carry.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
from sqlalchemy import select

from services_db.counting import allocation_tree_is_money, fund_is_future
from services_db.db import Database
from services_db.hierarchy import hierarchy_of
from services_db.models import Allocation
from services_db.review.apportion import split_pence
from services_db.review.data import ReviewData

UNALLOCATED = "Unallocated"
NOT_BROKEN_DOWN = "(rest of the parent allocation, not broken down)"


def financial_year_of(day: dt.date | pd.Timestamp) -> str:
    """'2013-14' for any date from 1 April 2013 to 31 March 2014."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def financial_years(data: ReviewData) -> list[str]:
    """The funds' financial years, oldest first."""
    return sorted(data.funds["financial_year"].dropna().unique().tolist())


def funds_in_year(data: ReviewData, year: str | None) -> pd.DataFrame:
    funds = data.funds
    return funds if not year else funds[funds["financial_year"] == year]


def _top_level(allocations: pd.DataFrame) -> pd.DataFrame:
    return allocations[allocations["parent_allocation_id"].isna()]


def _statuses(allocations: pd.DataFrame) -> pd.Series:
    """Each allocation's status, lower case; a frame or row without one is "awarded" (older records)."""
    if "status" not in allocations.columns:
        return pd.Series("awarded", index=allocations.index, dtype=object)
    return allocations["status"].map(lambda v: v.strip().lower() if isinstance(v, str) and v.strip() else "awarded")


def money_allocations(allocations: pd.DataFrame) -> pd.DataFrame:
    """The allocations that are money (awarded or paid, and so is everything above them in their tree:
    `services_db.counting.allocation_tree_is_money`)."""
    return allocations[allocation_tree_is_money(allocations["allocation_id"], allocations["parent_allocation_id"],
                                                _statuses(allocations))]


def allocation_pipeline(data: ReviewData, fund_keys: list[str] | None = None) -> pd.DataFrame:
    """Applications (status "applied"): money asked for, not received. Shown apart from allocations, never added
    to them. Columns: allocation_id, fund_key, fund, recipient, purpose, amount, planned_start, planned_end,
    is_estimate."""
    alloc = data.allocations
    if fund_keys is not None:
        alloc = alloc[alloc["fund_key"].isin(fund_keys)]
    applied = alloc[_statuses(alloc) == "applied"].copy()
    fund_name = dict(zip(data.funds["fund_key"], data.funds["name"], strict=False))
    applied["fund"] = applied["fund_key"].map(fund_name)
    applied["recipient"] = applied["recipient"].fillna("Recipient not named")
    applied["purpose"] = applied["purpose"].fillna("").replace("", "Purpose not stated")
    cols = ["allocation_id", "fund_key", "fund", "recipient", "purpose", "amount", "planned_start", "planned_end",
            "is_estimate"]
    return applied[cols].sort_values(["fund_key", "allocation_id"]).reset_index(drop=True)


_FY_SPAN = re.compile(r"^\s*(\d{4})\s*-\s*(\d{2}|\d{4})\s*$")


def _financial_year_span(year: object) -> tuple[pd.Timestamp, pd.Timestamp]:
    """'2014-17' -> (1 April 2014, 31 March 2017); NaT for what is not a financial year."""
    m = _FY_SPAN.match(year) if isinstance(year, str) else None
    if not m:
        return pd.NaT, pd.NaT
    first = int(m.group(1))
    last = int(m.group(2)) if len(m.group(2)) == 4 else first // 100 * 100 + int(m.group(2))
    if last <= first:
        last += 100 if len(m.group(2)) == 2 else 0
    return pd.Timestamp(first, 4, 1), pd.Timestamp(max(last, first + 1), 3, 31)


def fund_periods(funds: pd.DataFrame) -> pd.DataFrame:
    """Each fund's period: its own start_date / end_date where recorded, else its financial year(s) ("2014-17" is
    1 April 2014 to 31 March 2017). Columns: fund_key, start, end."""
    span = [_financial_year_span(y) for y in funds["financial_year"]]
    start = pd.to_datetime(pd.Series([s for s, _ in span], index=funds.index, dtype="datetime64[ns]"))
    end = pd.to_datetime(pd.Series([e for _, e in span], index=funds.index, dtype="datetime64[ns]"))
    if "start_date" in funds.columns:
        start = pd.to_datetime(funds["start_date"], errors="coerce").fillna(start)
    if "end_date" in funds.columns:
        end = pd.to_datetime(funds["end_date"], errors="coerce").fillna(end)
    return pd.DataFrame({"fund_key": funds["fund_key"], "start": start, "end": end}).reset_index(drop=True)


def future_funds(data: ReviewData, as_at: dt.date | pd.Timestamp) -> set[str]:
    """The funds whose period starts after `as_at`: future money, not money received at that date."""
    periods = fund_periods(data.funds)
    return set(periods.loc[fund_is_future(periods["start"], as_at), "fund_key"])


def money_totals(data: ReviewData, as_at: dt.date | pd.Timestamp) -> dict[str, float]:
    """The force's money at a date, each pound once (top-level lines): allocated (awarded or paid, in funds begun by
    the date), future (awarded or paid, in a fund or with a planned start after the date, as the review counts
    it) and applied for (pipeline, not money)."""
    top = _top_level(money_allocations(data.allocations))
    later = top["fund_key"].isin(future_funds(data, as_at)) | fund_is_future(top["planned_start"], as_at)
    applied = data.allocations[(_statuses(data.allocations) == "applied")
                               & data.allocations["parent_allocation_id"].isna()]
    return {"allocated": round(float(top.loc[~later, "amount"].sum()), 2),
            "future": round(float(top.loc[later, "amount"].sum()), 2),
            "applied": round(float(applied["amount"].sum()), 2)}


def fund_summary(data: ReviewData, year: str | None = None, as_at: dt.date | pd.Timestamp | None = None) -> pd.DataFrame:
    """fund_key, name, financial_year, owner, total, allocated (awarded or paid top-level lines only), unallocated
    (neither awarded nor applied for), share allocated, allocations (count of those lines), has_estimates, applied (top-level applications: pipeline,
    not in allocated), starts, ends (the fund's period: `fund_periods`), is_future (starts after `as_at`; never
    when no date is given)."""
    funds = funds_in_year(data, year)
    money = money_allocations(data.allocations)
    top = _top_level(money)
    allocated = top.groupby("fund_key")["amount"].sum()
    count = top.groupby("fund_key").size()
    estimates = money.groupby("fund_key")["is_estimate"].any()
    every_top = _top_level(data.allocations)
    applied = every_top[_statuses(every_top) == "applied"].groupby("fund_key")["amount"].sum()
    out = funds[["fund_key", "name", "financial_year", "owner", "total_amount"]].rename(columns={"total_amount": "total"})
    out = out.copy()
    out["allocated"] = out["fund_key"].map(allocated).fillna(0.0).round(2)
    out["applied"] = out["fund_key"].map(applied).fillna(0.0).round(2)
    out["unallocated"] = (out["total"] - out["allocated"] - out["applied"]).round(2)
    out["share_allocated"] = np.where(out["total"] > 0, out["allocated"] / out["total"], np.nan)
    out["allocations"] = out["fund_key"].map(count).fillna(0).astype(int)
    out["has_estimates"] = out["fund_key"].map(estimates).fillna(False).astype(bool)
    periods = fund_periods(funds)
    out["starts"] = periods["start"].to_numpy()
    out["ends"] = periods["end"].to_numpy()
    out["is_future"] = (fund_is_future(out["starts"], as_at) if as_at is not None
                        else np.zeros(len(out), dtype=bool))
    return out.reset_index(drop=True)


def allocation_lines(data: ReviewData, fund_keys: list[str] | None = None) -> pd.DataFrame:
    """The leaves of the allocation tree for some funds (all when None), with a line for each parent's remainder.

    Columns: allocation_id, fund_key, fund, recipient, purpose, priorities (names, "; "-joined), area_codes,
    amount, planned_start, planned_end, is_estimate. The amounts add up to the funds' allocated totals: money only
    (awarded or paid; applications are `allocation_pipeline`).
    """
    alloc = money_allocations(data.allocations)
    if fund_keys is not None:
        alloc = alloc[alloc["fund_key"].isin(fund_keys)]
    parent_ids = set(alloc["parent_allocation_id"].dropna().astype(int))
    leaves = alloc[~alloc["allocation_id"].isin(parent_ids)].copy()
    rests = []
    for pid in parent_ids:
        parent = alloc[alloc["allocation_id"] == pid]
        if parent.empty:
            continue
        rest = round(float(parent["amount"].iloc[0]) - float(alloc.loc[alloc["parent_allocation_id"] == pid,
                                                                        "amount"].sum()), 2)
        if rest != 0:
            row = parent.iloc[0].copy()
            row["amount"] = rest
            row["purpose"] = f"{row['purpose']} {NOT_BROKEN_DOWN}".strip()
            rests.append(row)
    if rests:
        leaves = pd.concat([leaves, pd.DataFrame(rests)], ignore_index=True)
    fund_name = dict(zip(data.funds["fund_key"], data.funds["name"], strict=False))
    priority_name = dict(zip(data.priorities["priority_key"], data.priorities["name"], strict=False))
    leaves["fund"] = leaves["fund_key"].map(fund_name)
    leaves["recipient"] = leaves["recipient"].fillna("Recipient not named")
    leaves["purpose"] = leaves["purpose"].fillna("").replace("", "Purpose not stated")
    leaves["priorities"] = leaves["priorities"].map(
        lambda t: "; ".join(priority_name.get(k, k) for k in t) if isinstance(t, tuple) and t else "No priority named")
    cols = ["allocation_id", "fund_key", "fund", "recipient", "purpose", "priorities", "area_codes", "amount",
            "planned_start", "planned_end", "is_estimate"]
    return leaves[cols].sort_values(["fund_key", "allocation_id"]).reset_index(drop=True)


def allocations_by_area(data: ReviewData, fund_keys: list[str] | None = None, level: str = "area") -> pd.DataFrame:
    """Allocated money per area of `level`: each leaf's amount split over the LSOAs of its areas by population
    (to the penny, so the areas add back to the allocated total). An allocation naming no area covers the force.

    Columns: code, name, population, population_is_estimate, amount, per_head, per_1000.
    """
    areas, tree = data.areas, hierarchy_of(data)
    lines = allocation_lines(data, fund_keys)
    force = tree.codes_at("force")
    groups, lsoas, totals = [], [], []
    for line in lines.itertuples(index=False):
        codes = line.area_codes if isinstance(line.area_codes, tuple) and line.area_codes else force
        covered = sorted(tree.under(codes))
        if not covered:
            continue
        groups += [len(totals)] * len(covered)
        lsoas += covered
        totals.append(int(round(float(line.amount) * 100)))
    target = areas[areas["level"] == level][["code", "name", "population", "population_is_estimate"]].copy()
    if totals:
        weights = np.nan_to_num(np.array([tree.population(c) for c in lsoas]), nan=0.0)
        pence = split_pence(np.array(groups), weights, np.array(totals))
        up = tree.ancestor_map(level)
        per = pd.Series(pence, index=[up.get(c) for c in lsoas]).groupby(level=0).sum() / 100
    else:
        per = pd.Series(dtype=float)
    target["amount"] = target["code"].map(per).fillna(0.0).round(2)
    target["per_head"] = np.where(target["population"] > 0, target["amount"] / target["population"], np.nan)
    target["per_1000"] = target["per_head"] * 1000
    return target.reset_index(drop=True)


def allocation_schedules(db: Database) -> pd.DataFrame:
    """allocation_id, payment_schedule ('single', 'quarterly', 'monthly', 'annual'), award_date."""
    with db.engine.connect() as c:
        result = c.execute(select(Allocation.id.label("allocation_id"), Allocation.payment_schedule,
                                  Allocation.award_date))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


_STEP_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12, "annually": 12}


def payment_phasing(lines: pd.DataFrame, schedules: pd.DataFrame) -> pd.DataFrame:
    """When the money is paid: each line spread over its planned period by its schedule.

    A quarterly line of a year pays four equal parts at the start of each quarter; a single payment falls on the
    planned start (or the award date). Parts are rounded to the penny with the remainder on the last payment so a
    line's payments add up to its amount. Columns: allocation_id, fund, recipient, date, quarter, financial_year,
    amount, is_estimate.
    """
    sched = dict(zip(schedules["allocation_id"], schedules["payment_schedule"], strict=False))
    award = dict(zip(schedules["allocation_id"], schedules["award_date"], strict=False))
    rows = []
    for line in lines.itertuples(index=False):
        start = line.planned_start if pd.notna(line.planned_start) else pd.to_datetime(award.get(line.allocation_id))
        if start is None or pd.isna(start):
            continue
        start = pd.Timestamp(start)
        end = pd.Timestamp(line.planned_end) if pd.notna(line.planned_end) else start
        step = _STEP_MONTHS.get(str(sched.get(line.allocation_id, "single")).lower())
        dates = [start]
        if step:
            dates = list(pd.date_range(start, max(end, start), freq=pd.DateOffset(months=step)))
            dates = [d for d in dates if d <= end] or [start]
        pence = int(round(float(line.amount) * 100))
        part = pence // len(dates)
        parts = [part] * len(dates)
        parts[-1] += pence - part * len(dates)
        for d, p in zip(dates, parts, strict=True):
            fy = financial_year_of(d)
            q = (d.month - 4) % 12 // 3 + 1
            rows.append((line.allocation_id, line.fund, line.recipient, d, f"{fy} Q{q}", fy, p / 100,
                         bool(line.is_estimate)))
    return pd.DataFrame(rows, columns=["allocation_id", "fund", "recipient", "date", "quarter", "financial_year",
                                       "amount", "is_estimate"])


def funding_ends(data: ReviewData, fund_keys: list[str] | None = None) -> pd.DataFrame:
    """Allocation lines (leaves) with their planned period, for a timeline of when funding ends.

    Columns: allocation_id, fund, recipient, purpose, amount, planned_start, planned_end, is_estimate.
    """
    lines = allocation_lines(data, fund_keys)
    lines = lines[lines["planned_end"].notna()].copy()
    lines["planned_start"] = lines["planned_start"].fillna(lines["planned_end"])
    return lines[["allocation_id", "fund", "recipient", "purpose", "amount", "planned_start", "planned_end",
                  "is_estimate"]].sort_values("planned_end").reset_index(drop=True)


# -- the Funds page's views, each one call returning what it draws ------------------------------------------------
# (appended while the hierarchy helpers above are being replaced: hoist this import to the top afterwards)
from dataclasses import dataclass  # noqa: E402


@dataclass(frozen=True)
class FundYear:
    """The funds of one financial year at a date, and the totals the Funds page heads them with."""

    year: str
    funds: pd.DataFrame  # `fund_summary` rows
    total: float
    allocated: float  # awarded or paid (money)
    applied: float  # applied for: pipeline, not money
    unallocated: float
    future: int  # how many of the funds start after the date (their allocations are future money)
    has_estimates: bool


def fund_year(data: ReviewData, year: str, as_at: dt.date | pd.Timestamp) -> FundYear:
    """`fund_summary` of the year's funds at `as_at`, with its totals."""
    summary = fund_summary(data, year, as_at)
    return FundYear(year=year, funds=summary, total=float(summary["total"].sum()),
                    allocated=float(summary["allocated"].sum()), applied=float(summary["applied"].sum()),
                    unallocated=float(summary["unallocated"].sum()), future=int(summary["is_future"].sum()),
                    has_estimates=bool(summary["has_estimates"].any()))


def quarterly_payments(lines: pd.DataFrame, schedules: pd.DataFrame) -> pd.DataFrame:
    """`payment_phasing` of the lines summed by financial quarter: quarter, amount (empty when no line has a
    date to pay on)."""
    return payment_phasing(lines, schedules).groupby("quarter", as_index=False)["amount"].sum()


GROUP_BY = ("recipient", "purpose", "priorities", "area")  # what `FundBreakdown.grouped` groups the money by


@dataclass(frozen=True)
class FundBreakdown:
    """Where the money of some funds went: what the Funds page draws below the year's table."""

    fund_keys: tuple[str, ...]
    lines: pd.DataFrame  # `allocation_lines`: money only, adding up to the funds' allocated totals
    by_area: pd.DataFrame  # `allocations_by_area` by place-based area
    pipeline: pd.DataFrame  # `allocation_pipeline`: applications, never added to the money
    phasing: pd.DataFrame  # `quarterly_payments`
    ends: pd.DataFrame  # `funding_ends`

    @property
    def applied(self) -> float:
        """The money applied for and not yet awarded."""
        return float(self.pipeline["amount"].sum())

    def grouped(self, by: str) -> pd.DataFrame:
        """The allocated money by one of `GROUP_BY` (priorities: the "; "-joined names of a line's priorities;
        area: place-based areas, lines over several areas shared by population), largest first: group, amount."""
        if by not in GROUP_BY:
            raise ValueError(f"group by one of {GROUP_BY}, not {by!r}")
        if by == "area":
            out = self.by_area.rename(columns={"name": "group"})[["group", "amount"]]
        else:
            out = self.lines.groupby(by, as_index=False)["amount"].sum().rename(columns={by: "group"})
        return out.sort_values("amount", ascending=False)


def fund_breakdown(data: ReviewData, fund_keys: list[str] | tuple[str, ...],
                   schedules: pd.DataFrame) -> FundBreakdown:
    """Allocation lines, areas, applications, payments by quarter and end dates of the funds `fund_keys`
    (`schedules`: `allocation_schedules`)."""
    keys = list(fund_keys)
    lines = allocation_lines(data, keys)
    return FundBreakdown(fund_keys=tuple(keys), lines=lines, by_area=allocations_by_area(data, keys, "area"),
                         pipeline=allocation_pipeline(data, keys), phasing=quarterly_payments(lines, schedules),
                         ends=funding_ends(data, keys))


# -- fair share: what a needs-based formula would have given each area of a fund ----------------------------------

def allocated_funds(data: ReviewData) -> list[str]:
    """The funds with any allocation line, by key: the funds a fair share can be worked out for."""
    return sorted(set(data.allocations["fund_key"]))


def fair_share_factors(data: ReviewData) -> dict[str, str]:
    """What a fair-share formula can weigh: population and each need indicator (key -> name)."""
    from services_db.review.fair_share import POPULATION

    return {POPULATION: "Population"} | dict(zip(data.indicators["indicator_key"], data.indicators["name"],
                                                 strict=False))


@dataclass(frozen=True)
class FairShareView:
    """A fund's fair share by area under a formula, beside what each area actually got."""

    fund_key: str
    # `services_db.review.fair_share` rows, plus gap (|actual - fair share|) and received ("more" or "less" than
    # its fair share; "more" when equal)
    table: pd.DataFrame
    formula: list[tuple[str, float]]  # (factor name, weight as a fraction adding to 1): the factors weighed
    furthest_below: pd.Series  # the row of the area that got least against its fair share


def fund_fair_share(data: ReviewData, fund_key: str, weights: dict[str, float],
                    level: str = "district") -> FairShareView | None:
    """The fair share of `fund_key` by `level` under `weights` (any scale; factors weighted zero are left out),
    or None when no factor has a weight above zero."""
    from services_db.review.fair_share import fair_share, normalise_weights

    names = fair_share_factors(data)
    order = [*names, *(k for k in weights if k not in names)]  # the factors' order, whatever the caller's
    kept = {k: float(weights[k]) for k in order if weights.get(k, 0) > 0}
    if not kept:
        return None
    frame = fair_share(data, fund_key, weights=kept, level=level)
    frame = frame.assign(gap=frame["difference"].abs(),
                         received=np.where(frame["difference"] >= 0, "more", "less"))
    formula = [(names.get(k, k), v) for k, v in normalise_weights(kept).items()]
    return FairShareView(fund_key=fund_key, table=frame, formula=formula,
                         furthest_below=frame.nsmallest(1, "difference").iloc[0])
