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
from services_db.models import Allocation
from services_db.review.apportion import split_pence
from services_db.review.data import ReviewData
from services_db.review.geography import geography_of

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


def lsoas_under(areas: pd.DataFrame) -> dict[str, list[str]]:
    """Every area code → the LSOA codes under it (an LSOA maps to itself)."""
    parent = dict(zip(areas["code"], areas["parent_code"], strict=False))
    under: dict[str, list[str]] = {}
    for code in areas.loc[areas["level"] == "lsoa", "code"]:
        node = code
        while isinstance(node, str):
            under.setdefault(node, []).append(code)
            node = parent.get(node)
    return under


def codes_touching(areas: pd.DataFrame, code: str) -> frozenset[str]:
    """Every area code sharing an LSOA with `code`: the area itself, what lies under it and what lies above it.
    A service "covers" an area when any of its coverage codes is one of these, so a filter is a set lookup per
    service instead of intersecting LSOA sets (a national service has 34,753)."""
    geo = geography_of(areas)
    pos = geo.code_pos.get(code)
    if pos is None:
        return frozenset()
    under = geo.under(code)
    if len(under):  # read off the hierarchy arrays kept per areas frame: what lies under it, and what above
        above = [geo.codes[a] for a in geo.area_ancestor[:, pos].tolist() if a >= 0]
        return frozenset(geo.codes[under].tolist() + above)
    parent = dict(zip(areas["code"], areas["parent_code"], strict=False))
    children: dict[str, list[str]] = {}
    for child, up in parent.items():
        if isinstance(up, str):
            children.setdefault(up, []).append(child)
    out, frontier = {code}, [code]
    while frontier:  # down the tree
        frontier = [c for p in frontier for c in children.get(p, ())]
        out.update(frontier)
    node = parent.get(code)
    while isinstance(node, str) and node not in out:  # and up it
        out.add(node)
        node = parent.get(node)
    return frozenset(out)


def units_touched(areas: pd.DataFrame, level: str) -> dict[str, tuple[str, ...]]:
    """Every area code → the codes at `level` sharing an LSOA with it (the units under it, or the one above)."""
    up = ancestor_at(areas, level) if level != "lsoa" else None
    out: dict[str, tuple[str, ...]] = {}
    for code, lsoas in lsoas_under(areas).items():
        out[code] = tuple(lsoas) if up is None else tuple(dict.fromkeys(up[c] for c in lsoas if c in up))
    return out


def ancestor_at(areas: pd.DataFrame, level: str) -> dict[str, str]:
    """LSOA code → its ancestor's code at `level`."""
    parent = dict(zip(areas["code"], areas["parent_code"], strict=False))
    level_of = dict(zip(areas["code"], areas["level"], strict=False))
    out = {}
    for code in areas.loc[areas["level"] == "lsoa", "code"]:
        node = code
        while isinstance(node, str) and level_of.get(node) != level:
            node = parent.get(node)
        if isinstance(node, str):
            out[code] = node
    return out


def allocations_by_area(data: ReviewData, fund_keys: list[str] | None = None, level: str = "area") -> pd.DataFrame:
    """Allocated money per area of `level`: each leaf's amount split over the LSOAs of its areas by population
    (to the penny, so the areas add back to the allocated total). An allocation naming no area covers the force.

    Columns: code, name, population, population_is_estimate, amount, per_head, per_1000.
    """
    areas = data.areas
    lines = allocation_lines(data, fund_keys)
    under = lsoas_under(areas)
    force = areas.loc[areas["level"] == "force", "code"].tolist()
    pop = dict(zip(areas["code"], areas["population"].fillna(0.0), strict=False))
    groups, lsoas, totals = [], [], []
    for i, line in enumerate(lines.itertuples(index=False)):
        codes = list(line.area_codes) if isinstance(line.area_codes, tuple) and line.area_codes else force
        covered = sorted({lsoa for c in codes for lsoa in under.get(c, [])})
        if not covered:
            continue
        groups += [len(totals)] * len(covered)
        lsoas += covered
        totals.append(int(round(float(line.amount) * 100)))
        del i
    target = areas[areas["level"] == level][["code", "name", "population", "population_is_estimate"]].copy()
    if totals:
        pence = split_pence(np.array(groups), np.array([pop.get(c, 0.0) for c in lsoas]), np.array(totals))
        up = ancestor_at(areas, level)
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
