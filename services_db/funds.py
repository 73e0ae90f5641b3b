"""Funds and their allocations, for OPCC staff: totals, what is unallocated, where the money went and when.

The one rule that matters: an allocation with a parent is a breakdown line of that parent (seed 002's £581,476
to the Lancashire Community Safety Strategy Group is itself split nine ways). Totals count top-level
allocations only; breakdowns show the leaves, plus whatever of a parent its lines do not account for, so no
pound is counted twice and every breakdown adds back to the fund's allocated total.

What is money follows `services_db.counting`: only awarded and paid allocations are money (an application,
status "applied", is pipeline, shown apart by `allocation_pipeline`, never as money received; a withdrawn one is
nothing), and a fund whose period starts after the "as at" date is future money (`fund_periods`, `fund_summary`).

Missing is not zero: an award or application with no amount recorded is counted (`fund_summary`'s unknown_amounts)
and makes what is unallocated unknown, never £0; flows and timelines draw only the money that is recorded.

The Funds page's "at a glance" views: `fund_year` (each fund's allocated / applied for / unallocated),
`allocation_flows` (fund -> recipient -> area), `funding_end_timeline` (when each fund's money ends, every grant
counted) and `year_asked` (what a link's ?year= means when no fund has that year exactly).

Pure pandas over `ReviewData`, except `allocation_schedules`, which reads the payment schedule the review frames
do not carry.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

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


def year_asked(years: list[str], asked: object) -> str | None:
    """The option of `years` (the funds' financial years, some spanning several: "2015-17") a link's `year` means:
    itself when it is one; else, for a single financial year such as "2015-16", the fund year starting in it, or
    the latest-starting one covering it; None when it names no year any fund covers. So ?year=2015-16 opens the
    funds running that year, not an empty page."""
    if not isinstance(asked, str) or not asked.strip():
        return None
    asked = asked.strip()
    if asked in years:
        return asked
    start, end = _financial_year_span(asked)
    if pd.isna(start):
        return None
    spans = {y: _financial_year_span(y) for y in years}
    starting = [y for y, (s, _) in spans.items() if s == start]
    covering = [y for y, (s, e) in spans.items() if pd.notna(s) and s <= start and e >= end]
    if starting:
        return min(starting, key=lambda y: spans[y][1])
    return max(covering, key=lambda y: spans[y][0]) if covering else None


def year_of_fund(data: ReviewData, fund_key: object) -> str | None:
    """The financial year of a fund (for a link naming a fund and no year), None for an unknown fund."""
    hit = data.funds.loc[data.funds["fund_key"] == fund_key, "financial_year"]
    return None if hit.empty or pd.isna(hit.iloc[0]) else str(hit.iloc[0])


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
    (neither awarded nor applied for; NaN, not known, when the total or any amount is not recorded: negative when
    more was allocated than the fund holds), share allocated, allocations (count of those lines), has_estimates,
    applied (top-level applications: pipeline, not in allocated), unknown_amounts (top-level awards and
    applications with no amount recorded: counted, never summed as £0), starts, ends (the fund's period:
    `fund_periods`), is_future (starts after `as_at`; never when no date is given)."""
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
    unknown = every_top[every_top["amount"].isna() & (_statuses(every_top).isin(["applied"])
                                                       | every_top.index.isin(top.index))]
    out["unknown_amounts"] = out["fund_key"].map(unknown.groupby("fund_key").size()).fillna(0).astype(int)
    # unknown is not zero: with the total or any amount not recorded, what is left is not known either
    out["unallocated"] = (out["total"] - out["allocated"] - out["applied"]).round(2).where(
        out["total"].notna() & (out["unknown_amounts"] == 0))
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


def _area_shares(data: ReviewData, lines: pd.DataFrame, level: str) -> pd.DataFrame:
    """Each line's amount split over the areas of `level` it covers, by population, to the penny (a line's parts
    add back to it). A line naming no area covers the force; a line with no amount recorded is left out (its money
    is unknown, not £0). Columns: line (the position of the line in `lines`), code, amount."""
    tree = hierarchy_of(data)
    force = tree.codes_at("force")
    groups, lsoas, totals, which = [], [], [], []
    for i, line in enumerate(lines.itertuples(index=False)):
        if pd.isna(line.amount):
            continue
        codes = line.area_codes if isinstance(line.area_codes, tuple) and line.area_codes else force
        covered = sorted(tree.under(codes))
        if not covered:
            continue
        groups += [len(totals)] * len(covered)
        lsoas += covered
        totals.append(int(round(float(line.amount) * 100)))
        which.append(i)
    if not totals:
        return pd.DataFrame({"line": pd.Series(dtype=int), "code": pd.Series(dtype=object),
                             "amount": pd.Series(dtype=float)})
    weights = np.nan_to_num(np.array([tree.population(c) for c in lsoas]), nan=0.0)
    pence = split_pence(np.array(groups), weights, np.array(totals))
    up = tree.ancestor_map(level)
    parts = pd.DataFrame({"line": np.array(which)[np.array(groups)], "code": [up.get(c) for c in lsoas],
                          "pence": pence})
    out = parts.groupby(["line", "code"], as_index=False, sort=False)["pence"].sum()
    return out.assign(amount=out.pop("pence") / 100)


def allocations_by_area(data: ReviewData, fund_keys: list[str] | None = None, level: str = "area") -> pd.DataFrame:
    """Allocated money per area of `level`: each leaf's amount split over the LSOAs of its areas by population
    (to the penny, so the areas add back to the allocated total). An allocation naming no area covers the force.

    Columns: code, name, population, population_is_estimate, amount, per_head, per_1000.
    """
    shares = _area_shares(data, allocation_lines(data, fund_keys), level)
    per = shares.groupby("code")["amount"].sum()
    target = data.areas[data.areas["level"] == level][["code", "name", "population", "population_is_estimate"]].copy()
    target["amount"] = target["code"].map(per).fillna(0.0).round(2)
    target["per_head"] = np.where(target["population"] > 0, target["amount"] / target["population"], np.nan)
    target["per_1000"] = target["per_head"] * 1000
    return target.reset_index(drop=True)


def allocation_flows(data: ReviewData, fund_keys: list[str] | None = None, level: str = "area") -> pd.DataFrame:
    """Where each fund's money went: fund -> recipient -> area of `level`, for a flow chart. Money only (awarded
    or paid leaves, `allocation_lines`); a line over several areas is shared over them by population, as
    `allocations_by_area` shares it, so the flows into the areas add up to the same figures. Lines with no amount
    recorded carry no flow (they are counted by `fund_summary`'s unknown_amounts).

    Columns: fund_key, fund, recipient, area_code, area, amount, lines (how many allocation lines make the flow).
    """
    lines = allocation_lines(data, fund_keys)
    shares = _area_shares(data, lines, level)
    names = dict(zip(data.areas["code"], data.areas["name"], strict=False))
    picked = lines.iloc[shares["line"].to_numpy()].reset_index(drop=True)
    flows = pd.DataFrame({"fund_key": picked["fund_key"], "fund": picked["fund"], "recipient": picked["recipient"],
                          "area_code": shares["code"].to_numpy(), "amount": shares["amount"].to_numpy(),
                          "line": shares["line"].to_numpy()})
    flows["area"] = flows["area_code"].map(names)
    out = flows.groupby(["fund_key", "fund", "recipient", "area_code", "area"], as_index=False, sort=False).agg(
        amount=("amount", "sum"), lines=("line", "nunique"))
    out["amount"] = out["amount"].round(2)
    return out.sort_values(["fund_key", "amount"], ascending=[True, False]).reset_index(drop=True)


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


def financial_quarter(day: pd.Timestamp) -> str:
    """'2013-14 Q4' for any date from 1 January to 31 March 2014 (Q1 is April to June)."""
    return f"{financial_year_of(day)} Q{(day.month - 4) % 12 // 3 + 1}"


def funding_end_timeline(data: ReviewData) -> pd.DataFrame:
    """When each fund's money ends, across all funds: one row per fund and end date, counting every allocation
    line (24 Community Action Fund grants ending on 31 March 2014 are one row with grants = 24, not one line
    standing for all). Money only (awarded or paid leaves, `allocation_lines`). A line with no end date of its
    own ends with its fund (`fund_periods`; counted in from_fund_end); a line with no amount recorded is counted
    in grants and unknown_amounts, never summed as £0.

    Columns: fund_key, fund, financial_year (the fund's), fund_start, fund_end, ends, quarter, grants, amount (NaN
    when no line of the row has an amount), unknown_amounts, from_fund_end. Ordered by fund end, then end date.
    """
    cols = ["fund_key", "fund", "financial_year", "fund_start", "fund_end", "ends", "quarter", "grants", "amount",
            "unknown_amounts", "from_fund_end"]
    lines = allocation_lines(data)
    if lines.empty:
        return pd.DataFrame(columns=cols)
    periods = fund_periods(data.funds).set_index("fund_key")
    year = dict(zip(data.funds["fund_key"], data.funds["financial_year"], strict=False))
    own_end = pd.to_datetime(lines["planned_end"])
    lines = lines.assign(ends=own_end.fillna(lines["fund_key"].map(periods["end"])), from_fund=own_end.isna(),
                         unknown=lines["amount"].isna())
    lines = lines[lines["ends"].notna()]
    out = lines.groupby(["fund_key", "fund", "ends"], as_index=False, sort=False).agg(
        grants=("amount", "size"), amount=("amount", lambda a: a.sum(min_count=1)),
        unknown_amounts=("unknown", "sum"), from_fund_end=("from_fund", "sum"))
    out["financial_year"] = out["fund_key"].map(year)
    out["fund_start"] = out["fund_key"].map(periods["start"])
    out["fund_end"] = out["fund_key"].map(periods["end"])
    out["quarter"] = out["ends"].map(financial_quarter)
    out[["grants", "unknown_amounts", "from_fund_end"]] = out[["grants", "unknown_amounts", "from_fund_end"]].astype(int)
    out = out.sort_values(["fund_end", "fund_key", "ends"]).reset_index(drop=True)
    return out[cols]


# -- the Funds page's views, each one call returning what it draws ------------------------------------------------


@dataclass(frozen=True)
class FundYear:
    """The funds of one financial year at a date, and the totals the Funds page heads them with."""

    year: str
    funds: pd.DataFrame  # `fund_summary` rows
    total: float
    allocated: float  # awarded or paid (money)
    applied: float  # applied for: pipeline, not money
    unallocated: float  # NaN when any fund's unallocated money is not known
    future: int  # how many of the funds start after the date (their allocations are future money)
    has_estimates: bool
    unknown_amounts: int = 0  # awards and applications with no amount recorded (not drawn, named in text)
    total_unknown: int = 0  # funds with no total recorded


def fund_year(data: ReviewData, year: str, as_at: dt.date | pd.Timestamp) -> FundYear:
    """`fund_summary` of the year's funds at `as_at`, with its totals."""
    summary = fund_summary(data, year, as_at)
    return FundYear(year=year, funds=summary, total=float(summary["total"].sum(min_count=len(summary))),
                    allocated=float(summary["allocated"].sum()), applied=float(summary["applied"].sum()),
                    unallocated=float(summary["unallocated"].sum(min_count=len(summary))),
                    future=int(summary["is_future"].sum()), has_estimates=bool(summary["has_estimates"].any()),
                    unknown_amounts=int(summary["unknown_amounts"].sum()),
                    total_unknown=int(summary["total"].isna().sum()))


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
    flows: pd.DataFrame  # `allocation_flows` by place-based area: fund -> recipient -> area

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
                         ends=funding_ends(data, keys), flows=allocation_flows(data, keys, "area"))


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
