"""Funds and their allocations, for OPCC staff: totals, what is unallocated, where the money went and when.

The one rule that matters: an allocation with a parent is a breakdown line of that parent (seed 002's £581,476
to the Lancashire Community Safety Strategy Group is itself split nine ways). Totals count top-level
allocations only; breakdowns show the leaves, plus whatever of a parent its lines do not account for, so no
pound is counted twice and every breakdown adds back to the fund's allocated total.

Pure pandas over `ReviewData`, except `allocation_schedules`, which reads the payment schedule the review frames
do not carry.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import select

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


def fund_summary(data: ReviewData, year: str | None = None) -> pd.DataFrame:
    """fund_key, name, financial_year, owner, total, allocated (top-level lines only), unallocated, share allocated,
    allocations (count of top-level lines), has_estimates."""
    funds = funds_in_year(data, year)
    top = _top_level(data.allocations)
    allocated = top.groupby("fund_key")["amount"].sum()
    count = top.groupby("fund_key").size()
    estimates = data.allocations.groupby("fund_key")["is_estimate"].any()
    out = funds[["fund_key", "name", "financial_year", "owner", "total_amount"]].rename(columns={"total_amount": "total"})
    out = out.copy()
    out["allocated"] = out["fund_key"].map(allocated).fillna(0.0).round(2)
    out["unallocated"] = (out["total"] - out["allocated"]).round(2)
    out["share_allocated"] = np.where(out["total"] > 0, out["allocated"] / out["total"], np.nan)
    out["allocations"] = out["fund_key"].map(count).fillna(0).astype(int)
    out["has_estimates"] = out["fund_key"].map(estimates).fillna(False).astype(bool)
    return out.reset_index(drop=True)


def allocation_lines(data: ReviewData, fund_keys: list[str] | None = None) -> pd.DataFrame:
    """The leaves of the allocation tree for some funds (all when None), with a line for each parent's remainder.

    Columns: allocation_id, fund_key, fund, recipient, purpose, priorities (names, "; "-joined), area_codes,
    amount, planned_start, planned_end, is_estimate. The amounts add up to the funds' allocated totals.
    """
    alloc = data.allocations
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
