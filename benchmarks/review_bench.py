"""Warm timings of every review measure on a force-sized synthetic ReviewData (and on the demo data if available).

    .venv/bin/python benchmarks/review_bench.py                  # 941 LSOAs, 60 services (Lancashire's size)
    .venv/bin/python benchmarks/review_bench.py --lsoas 34753 --services 100000 --repeat 3   # national scale

The synthetic force is built deterministically in code (no files, no database): Lancashire's 14 districts in its
9 place-based areas and 3 divisions, LSOAs shared among districts, services covering an LSOA, a district, an area
or the whole force, funding lines current or ending, need at district and LSOA level, funds with allocations and
breakdowns, and plans with priorities. "Warm" means the second and later calls on the same ReviewData object (the
arrays the review derives from the frames are kept per object, as the app keeps one ReviewData per data version);
each figure is the median of several runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services_db.review import (  # noqa: E402
    apportion,
    duplication,
    fair_share,
    funding_cliffs,
    gaps,
    inequity,
    need_shares,
    plan_coverage,
    provision_shares,
    review_area,
    review_force,
)
from services_db.review.data import COLUMNS, ReviewData  # noqa: E402

AREAS = [  # place-based area, its districts (code, name); the default grouping of domain.md
    ("PBA01", "Blackpool", [("E06000009", "Blackpool")]),
    ("PBA02", "Fylde & Wyre", [("E07000119", "Fylde"), ("E07000128", "Wyre")]),
    ("PBA03", "Lancaster", [("E07000121", "Lancaster")]),
    ("PBA04", "Preston", [("E07000123", "Preston")]),
    ("PBA05", "Chorley & South Ribble", [("E07000118", "Chorley"), ("E07000126", "South Ribble")]),
    ("PBA06", "West Lancashire", [("E07000127", "West Lancashire")]),
    ("PBA07", "Blackburn with Darwen", [("E06000008", "Blackburn with Darwen")]),
    ("PBA08", "Burnley & Pendle", [("E07000117", "Burnley"), ("E07000122", "Pendle")]),
    ("PBA09", "Hyndburn, Ribble Valley & Rossendale",
     [("E07000120", "Hyndburn"), ("E07000124", "Ribble Valley"), ("E07000125", "Rossendale")]),
]
DIVISION_OF = {"PBA01": "DIV-W", "PBA02": "DIV-W", "PBA03": "DIV-W", "PBA04": "DIV-S", "PBA05": "DIV-S",
               "PBA06": "DIV-S", "PBA07": "DIV-E", "PBA08": "DIV-E", "PBA09": "DIV-E"}
THEMES = ["mental_health", "domestic_abuse", "sexual_violence", "cse", "drugs_alcohol", "youth_offending",
          "reoffending", "asb", "victims", "vulnerable_adults", "families", "missing_persons"]
GROUPS = ["children", "young_people", "young_adults", "adults", "older_adults", "families", "women", "victims",
          "offenders"]
COMMISSIONERS = ["OPCC", "Lancashire County Council", "Blackpool Council", "Blackburn with Darwen Council",
                 "Lancashire CCGs", "Community Safety Partnership"]
FORCE = "E23000003"


def synthetic(n_lsoas: int = 941, n_services: int = 60, seed: int = 20160721) -> ReviewData:
    """A force-shaped ReviewData, the same for the same arguments (any size: LSOAs and districts scale up)."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[dict]] = {name: [] for name in COLUMNS}
    area = rows["areas"]
    # At national scale there are many forces of Lancashire's shape (copy c of its 3 divisions, 9 areas and 14
    # districts), so a "force-wide" service covers one force's LSOAs, as it would in England and Wales.
    copies = max(1, round(n_lsoas / 941))
    districts, forces, area_codes = [], [], []
    for c in range(copies):
        force = FORCE if c == 0 else f"E23X{c:05d}"
        forces.append(force)
        suffix = "" if c == 0 else f"-{c}"
        area.append(dict(code=force, name="Lancashire" if c == 0 else f"Force {c}", level="force", parent_code=None,
                         population=np.nan, population_is_estimate=True))
        for div, name in [("DIV-W", "West"), ("DIV-S", "South"), ("DIV-E", "East")]:
            area.append(dict(code=div + suffix, name=name + suffix, level="division", parent_code=force,
                             population=np.nan, population_is_estimate=True))
        for code, name, members in AREAS:
            acode = code + suffix
            area_codes.append(acode)
            area.append(dict(code=acode, name=name if c == 0 else f"{name} {c}", level="area",
                             parent_code=DIVISION_OF[code] + suffix, population=np.nan, population_is_estimate=True))
            for dcode, dname in members:
                districts.append((dcode + suffix, dname if c == 0 else f"{dname} {c}", acode))
    weights = rng.uniform(0.6, 1.4, len(districts))
    per = np.maximum(1, np.round(weights / weights.sum() * n_lsoas)).astype(int)
    per[-1] += n_lsoas - per.sum()
    lsoa_codes = []
    for (dcode, dname, acode), k in zip(districts, per, strict=True):
        area.append(dict(code=dcode, name=dname, level="district", parent_code=acode, population=np.nan,
                         population_is_estimate=True))
        for i in range(k):
            code = f"E01{len(lsoa_codes):06d}"
            lsoa_codes.append(code)
            area.append(dict(code=code, name=f"{dname} {i + 1:03d}A", level="lsoa", parent_code=dcode,
                             population=float(rng.integers(1000, 3000)), population_is_estimate=False))
    lsoa_arr = np.array(lsoa_codes, dtype=object)
    district_codes = [d[0] for d in districts]
    district_arr = np.array(district_codes, dtype=object)
    # LSOA-level services pick LSOAs near each other (one district), as a local project would.
    district_start = np.r_[0, np.cumsum(per)[:-1]]

    for t in THEMES:
        rows["themes"].append(dict(theme_key=t, name=t.replace("_", " ")))
    as_at = pd.Timestamp("2016-07-21")
    for sid in range(1, n_services + 1):
        kind = rng.choice(["lsoa", "district", "area", "force"], p=[0.2, 0.4, 0.3, 0.1])
        if kind == "lsoa":
            d = int(rng.integers(0, len(district_codes)))
            k = min(int(rng.integers(3, 30)), int(per[d]))
            cover = list(lsoa_arr[district_start[d] + rng.choice(int(per[d]), size=k, replace=False)])
        elif kind == "district":
            d = int(rng.integers(0, len(district_codes)))
            near = district_arr[(d // 14) * 14:(d // 14) * 14 + 14]  # districts of the same force
            cover = list(rng.choice(near, size=int(rng.integers(1, 3)), replace=False))
        elif kind == "area":
            cover = [area_codes[int(rng.integers(0, len(area_codes)))]]
        else:
            cover = [forces[int(rng.integers(0, len(forces)))]]
        comm = list(rng.choice(COMMISSIONERS, size=int(rng.integers(1, 3)), replace=False))
        end = as_at + pd.Timedelta(days=int(rng.integers(-200, 900)))
        rows["services"].append(dict(
            service_id=sid, name=f"Service {sid}", provider=f"Provider {rng.integers(1, n_services // 2 + 2)}",
            provider_sector="VCFS", tier="secondary", status="active", start_date=pd.Timestamp("2014-04-01"),
            end_date=end if rng.random() < 0.5 else pd.NaT, end_date_is_estimate=False,
            themes=tuple(rng.choice(THEMES, size=int(rng.integers(1, 3)), replace=False)),
            target_groups=tuple(rng.choice(GROUPS, size=int(rng.integers(1, 3)), replace=False)),
            commissioners=tuple(sorted(comm))))
        for code in cover:
            rows["coverage"].append(dict(service_id=sid, area_code=code))
        for c in comm:
            rows["funding_lines"].append(dict(
                service_id=sid, commissioner=c, fund_key="csf" if rng.random() < 0.3 else None,
                annual_amount=float(rng.integers(5_000, 400_000)), start_date=pd.Timestamp("2015-04-01"),
                end_date=pd.Timestamp("2017-03-31") if rng.random() < 0.4 else pd.NaT, is_estimate=False))
        if sid % 3 == 0:
            rows["service_priorities"].append(dict(service_id=sid, priority_key=f"pr{sid % 7}"))

    for key, name, themes in [("ea", "Early Action incidents", ("mental_health", "vulnerable_adults",
                                                                 "missing_persons")),
                              ("dai", "domestic abuse incidents", ("domestic_abuse",)),
                              ("asbi", "anti-social behaviour incidents", ("asb",)),
                              ("cin", "children in need per 1,000 children", ("families", "cse"))]:
        rows["indicators"].append(dict(indicator_key=key, name=name, unit="count", higher_is="worse", themes=themes))
    for code in district_codes:
        rows["need"].append(dict(indicator_key="ea", area_code=code, period="2012-10/2013-09",
                                 value=float(rng.integers(1000, 6000)), numerator=np.nan, denominator=np.nan,
                                 is_estimate=False))
        rows["need"].append(dict(indicator_key="cin", area_code=code, period="2013-14", value=0.0,
                                 numerator=float(rng.integers(100, 900)), denominator=float(rng.integers(2e4, 6e4)),
                                 is_estimate=False))
    for code in lsoa_codes:
        rows["need"].append(dict(indicator_key="dai", area_code=code, period="2015-16",
                                 value=float(rng.integers(0, 60)), numerator=np.nan, denominator=np.nan,
                                 is_estimate=True))
    rows["need"].append(dict(indicator_key="asbi", area_code=FORCE, period="2015-16", value=50_000.0,
                             numerator=np.nan, denominator=np.nan, is_estimate=False))

    aid = 0
    for key, name, n in [("csf", "Community Safety Fund", 40), ("caf", "Community Action Fund", 24),
                         ("pif", "Police Innovation Fund", 12)]:
        rows["funds"].append(dict(fund_key=key, name=name, money_source="Home Office", financial_year="2013-14",
                                  total_amount=1_794_000.0, owner="OPCC"))
        for i in range(n):
            aid += 1
            codes = () if i % 10 == 0 else (str(rng.choice(district_codes[:-2] if key == "caf" else district_codes)),)
            rows["allocations"].append(dict(
                allocation_id=aid, fund_key=key, recipient=f"Recipient {aid}", service_id=np.nan,
                amount=float(rng.integers(1_000, 100_000)), purpose="", priorities=(), area_codes=codes,
                planned_start=pd.NaT, planned_end=pd.NaT, is_estimate=False, parent_allocation_id=np.nan))
            if key == "csf" and i % 8 == 0:
                parent = aid
                for _ in range(3):
                    aid += 1
                    rows["allocations"].append(dict(
                        allocation_id=aid, fund_key=key, recipient=None, service_id=np.nan,
                        amount=float(rng.integers(100, 1_000)), purpose="breakdown", priorities=(), area_codes=(),
                        planned_start=pd.NaT, planned_end=pd.NaT, is_estimate=False,
                        parent_allocation_id=float(parent)))
    rows["plans"].append(dict(plan_key="pcp", name="Police and Crime Plan", owner="OPCC",
                              start_date=pd.Timestamp("2013-04-01"), end_date=pd.Timestamp("2017-03-31"),
                              area_codes=()))
    rows["plans"].append(dict(plan_key="east", name="East CSP plan", owner="CSP", start_date=pd.NaT,
                              end_date=pd.NaT, area_codes=tuple(area_codes[6:9])))
    for i in range(7):
        rows["priorities"].append(dict(priority_key=f"pr{i}", plan_key="pcp" if i < 5 else "east",
                                       name=f"Priority {i}"))
    frames = {}
    for name, cols in COLUMNS.items():
        frame = pd.DataFrame(rows[name], columns=cols)
        for c in cols:
            if c.endswith("_date") or c.startswith("planned_"):
                frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
        frames[name] = frame
    return ReviewData(**frames)


def demo_data() -> tuple[ReviewData, object] | None:
    """The demo database's ReviewData and "as at" date (from a temporary SQLite file)."""
    from services_db.db import open_database
    from services_db.demo import load_demo
    from services_db.queries import default_as_at, review_data

    try:
        tmp = tempfile.mkdtemp(prefix="review-bench-")
        db = open_database(f"sqlite:///{tmp}/demo.db")
        load_demo(db)
        return review_data(db), default_as_at(db)
    except Exception as exc:  # the demo is optional: say why it was skipped and carry on
        print(f"(demo data skipped: {type(exc).__name__}: {exc})")
        return None


def warm_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm: caches filled, code paths imported
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def measures(data: ReviewData, as_at) -> dict[str, Callable[[], object]]:
    funds = data.funds["fund_key"].tolist()
    themes = data.themes["theme_key"].tolist()
    fund = funds[0] if funds else None
    area_level = data.areas[data.areas["level"] == "area"]
    first_area = area_level["name"].iloc[0] if len(area_level) else None
    out = {
        "apportion": lambda: apportion(data, as_at),
        "provision_shares (area)": lambda: provision_shares(data, as_at, level="area"),
        "provision_shares (lsoa)": lambda: provision_shares(data, as_at, level="lsoa"),
        "need_shares (area)": lambda: need_shares(data, level="area"),
        "gaps (area)": lambda: gaps(data, as_at),
        "gaps (district)": lambda: gaps(data, as_at, level="district"),
        "duplication": lambda: duplication(data, as_at),
        "funding_cliffs": lambda: funding_cliffs(data, as_at).by_area,
        "plan_coverage": lambda: plan_coverage(data, as_at).priorities,
    }
    if fund:
        out["inequity (fund)"] = lambda: inequity(data, as_at, fund_key=fund).table
        out["fair_share (fund)"] = lambda: fair_share(data, fund)
    if themes:
        out["inequity (theme)"] = lambda: inequity(data, as_at, theme=themes[0]).table
    out["review_force"] = lambda: review_force(data, as_at)
    if first_area:
        out["review_area"] = lambda: review_area(data, first_area, as_at)
    return out


def report(title: str, data: ReviewData, as_at, repeat: int) -> None:
    n = (data.areas["level"] == "lsoa").sum()
    print(f"\n{title}: {n:,} LSOAs, {len(data.services):,} services, {len(data.funding_lines):,} funding lines, "
          f"{len(data.allocations):,} allocations, as at {pd.Timestamp(as_at).date()}")
    t0 = time.perf_counter()
    review_force(data, as_at)
    print(f"  {'review_force, cold (first call on this data)':<46}{(time.perf_counter() - t0) * 1000:>9.1f} ms")
    for name, fn in measures(data, as_at).items():
        print(f"  {name + ', warm':<46}{warm_ms(fn, repeat):>9.1f} ms")
    found = review_force(data, as_at)
    print(f"  ({len(found)} findings; first: {found.sentences()[0] if len(found) else '-'})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lsoas", type=int, default=941)
    parser.add_argument("--services", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per measure (median shown)")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo database")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    data = synthetic(args.lsoas, args.services)
    print(f"synthetic data built in {(time.perf_counter() - t0):.1f} s")
    report("Synthetic force", data, "2016-07-21", args.repeat)
    if not args.no_demo:
        demo = demo_data()
        if demo is not None:  # else demo_data said why it was skipped
            report("Demo database", demo[0], demo[1], args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
