"""Plans coverage: strategic priorities that nothing on the ground answers, and services answering no priority.

review.md: priorities of the strategic plans that apply to an area and have no current service linked to them;
services linked to no priority. Read per area, a priority counts as answered in an area only by a current service
linked to it that covers some part of that area: a county-wide priority answered only in Preston is unanswered in
Burnley. A plan applies while current at the date (open ends allowed) to the areas it names (none: the whole
force). "Linked to no priority" means no priority of a plan current at the date (and is not reported when no plan
with priorities is current, when it would list every service).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from services_db.counting import period_contains
from services_db.review.context import (
    Context,
    csr,
    dates,
    gather,
    lookup,
    objects,
    texts,
    tuples,
    unique,
)
from services_db.review.data import ReviewData
from services_db.review.dates import DateLike
from services_db.review.geography import check_level, frame_property
from services_db.review.shares import funding_unknown

PRIORITY_COLUMNS = ["area_code", "area_name", "plan_key", "plan_name", "priority_key", "priority_name",
                    "linked_services", "linked_services_force", "unanswered"]
UNLINKED_COLUMNS = ["service_id", "name", "annual_funding", "area_codes"]


@dataclass(frozen=True)
class PlanCoverage:
    """`priorities`: one row per (area, priority of a current plan applying to it); `unlinked`: services."""

    priority_columns: dict = field(repr=False)
    unlinked_columns: dict = field(repr=False)

    priorities = frame_property("priority_columns", PRIORITY_COLUMNS)
    unlinked = frame_property("unlinked_columns", UNLINKED_COLUMNS)


def plan_coverage(data: ReviewData, as_at: DateLike, *, level: str = "area") -> PlanCoverage:
    return _plan_coverage(Context(data, as_at), check_level(level))


def _parsed(ctx: Context) -> dict:
    """Plans, priorities and links as arrays, once per prepared data."""
    cache = ctx.prep.cache
    if "plans" not in cache:
        d = ctx.data
        plan_keys = texts(d.plans["plan_key"])
        plan_index = {k: i for i, k in reversed(list(enumerate(plan_keys.tolist())))}
        pri_keys = texts(d.priorities["priority_key"])
        cache["plans"] = {
            "plan_key": plan_keys, "plan_name": texts(d.plans["name"]), "start": dates(d.plans["start_date"]),
            "end": dates(d.plans["end_date"]), "codes": tuples(d.plans["area_codes"]),
            "priority_key": pri_keys, "priority_name": texts(d.priorities["name"]),
            "priority_plan": lookup(plan_index, texts(d.priorities["plan_key"]).tolist()),
            "priority_index": {k: i for i, k in reversed(list(enumerate(pri_keys.tolist())))},
            "link_svc": ctx.prep.service_pos(d.service_priorities["service_id"]),
            "link_priority_key": texts(d.service_priorities["priority_key"]).tolist(),
        }
    return cache["plans"]


def _plan_coverage(ctx: Context, level: str) -> PlanCoverage:
    p = _parsed(ctx)
    units = ctx.geo.units(level)
    n_units, n_svc = max(len(units), 1), max(len(ctx.service_ids), 1)
    plan_on = period_contains(p["start"], p["end"], ctx.as_at)  # the one period rule (services_db.counting)
    pri = np.flatnonzero((p["priority_plan"] >= 0) & plan_on[np.maximum(p["priority_plan"], 0)])
    pri_plan = p["priority_plan"][pri]
    local = np.full(len(p["priority_key"]), -1, dtype=np.int64)
    local[pri] = np.arange(len(pri))

    # Links from current services to priorities of current plans.
    li = lookup(p["priority_index"], p["link_priority_key"])
    l_pri = np.full(len(li), -1, dtype=np.int64)
    l_pri[li >= 0] = local[li[li >= 0]]
    l_svc = p["link_svc"]
    ok = np.flatnonzero((l_svc >= 0) & (l_pri >= 0))
    linked_to_current = np.zeros(len(ctx.service_ids), dtype=bool)
    linked_to_current[l_svc[ok]] = True
    ok = ok[ctx.current[l_svc[ok]]]  # only services current by services_db.counting (not planned, not ended)
    pair = unique(l_pri[ok] * n_svc + l_svc[ok])
    l_pri, l_svc = pair // n_svc, pair % n_svc
    force_count = np.bincount(l_pri, minlength=len(pri))

    su_svc, su_unit = ctx.prep.service_units(level)
    which, at = gather(csr(su_svc, len(ctx.service_ids)), l_svc)
    area_count = np.bincount(l_pri[which] * n_units + su_unit[at], minlength=len(pri) * n_units)

    # Units each current plan applies to (no areas: all of them).
    plans = np.flatnonzero(plan_on)
    codes = [p["codes"][i] for i in plans.tolist()]
    lens = np.array([len(c) for c in codes], dtype=np.int64)
    key, lsoa = ctx.geo.expand(np.repeat(plans, lens), ctx.geo.positions([c for t in codes for c in t]))
    unit = units.of_lsoa[lsoa]
    applies = unique(key[unit >= 0] * n_units + unit[unit >= 0])
    whole = plans[lens == 0]
    applies = unique(np.r_[applies, (whole[:, None] * n_units + np.arange(len(units))[None, :]).ravel()])
    a_plan, a_unit = applies // n_units, applies % n_units

    # Rows: every priority of an applying plan, in every unit it applies to.
    by_plan = np.argsort(pri_plan, kind="stable")
    which, at = gather(csr(pri_plan, len(p["plan_key"])), a_plan)
    rp, ru = by_plan[at], a_unit[which]
    linked = area_count[rp * n_units + ru]
    g = pri[rp]
    cols = {
        "area_code": units.codes[ru], "area_name": units.names[ru], "plan_key": p["plan_key"][pri_plan[rp]],
        "plan_name": p["plan_name"][pri_plan[rp]], "priority_key": p["priority_key"][g],
        "priority_name": p["priority_name"][g], "linked_services": linked,
        "linked_services_force": force_count[rp], "unanswered": linked == 0,
    }
    order = np.lexsort((cols["priority_key"].astype(str), cols["plan_key"].astype(str), ru, ~cols["unanswered"]))
    cols = {k: v[order] for k, v in cols.items()}

    # Current services linked to no priority of a current plan (only said when such priorities exist).
    unlinked = np.flatnonzero(ctx.current & ~linked_to_current) if len(pri) else np.empty(0, dtype=np.int64)
    unlinked = unlinked[np.argsort(-ctx.funding_pence[unlinked], kind="stable")]
    which, at = gather(csr(su_svc, len(ctx.service_ids)), unlinked)
    per = np.split(units.codes[su_unit[at]], np.cumsum(np.bincount(which, minlength=len(unlinked)))[:-1])
    unlinked_cols = {
        "service_id": ctx.service_ids[unlinked], "name": ctx.prep.svc_name[unlinked],
        # unknown funding (no current funding line) is NaN, never £0 (review.md v2)
        "annual_funding": np.where(funding_unknown(ctx)[unlinked], np.nan, ctx.funding_pence[unlinked] / 100.0),
        "area_codes": objects([tuple(part.tolist()) for part in per]) if len(unlinked) else objects([]),
    }
    return PlanCoverage(cols, unlinked_cols)
