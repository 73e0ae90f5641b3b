"""`python -m services_db bench`: every figure the scale issue budgets, on SQLite and PostgreSQL, printed.

Not a test: it prints times, sizes and memory so they can be compared run to run. The parent process makes sure
the national database exists on each backend (generating it with `generate-national` when missing), then runs
each backend's steps in a child process of its own, so that caches start cold and the peak memory printed is that
backend's alone. Steps whose code is not built yet print "skipped: not built yet"; a step that fails prints its
error and the bench goes on.

Beside the review it prints the SQL floor: one aggregate query over the same tables (current funding lines,
coverage expanded through the area hierarchy to every LSOA, apportioned by population) giving the same
per-district totals as the review's apportionment, and the review/floor ratio. A second, district-level floor
(coverage expanded to districts only, which gives the same district totals with far fewer rows) is printed too.
The budget's ratio is against the district-level floor (the fastest correct SQL); the LSOA-expansion query is kept
(`FLOOR_LSOA`, tested) but no longer run by the bench, which only spent a minute and a half on it.

It ends with the budget table: one row per budgeted step and engine (measured, budget, "ok" or "MISS"). `--quick`
prints the same table in under a minute on a smaller national-like dataset (every LSOA, district and force, but
1,000 services and one need period; a 10,000-service import; the national map skipped), so its figures are not
national-size: only the full bench checks the budgets. The demo pages are timed on the demo data on each engine
(`benchmarks/pages_timing.py`, which runs `benchmarks/pages_bench.py`'s measurement in a child process).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from services_db.db import DATA_DIR, PROJECT_ROOT, Database, make_engine, normalise_url
from services_db.review.data import ReviewData

LANCASHIRE = "E23000003"
AREA = "PBA04"  # Preston, one of Lancashire's place-based areas
STEP_TIMEOUT = 300.0
MIB = 1024 * 1024
QUICK = {"scale": 0.01, "periods": 1, "import": 10_000, "page_repeat": 2}  # --quick: see the module docstring
FULL = {"scale": 1.0, "periods": 12, "import": 100_000, "page_repeat": 5}


@dataclass(frozen=True)
class Budget:
    """One row of the budget table: a figure (`Steps.figures[key]`) and its limit per engine (unit s, x or B)."""

    key: str
    label: str
    limit: float | dict[str, float]
    unit: str
    engines: tuple[str, ...] = ("sqlite", "postgresql")

    def limit_for(self, engine: str) -> float:
        return self.limit[engine] if isinstance(self.limit, dict) else self.limit


# The issue "One snapshot, one hierarchy", budgets section (national size, both engines, 2 cores); the directory
# search and map sizes are the earlier scale issue's. Demo pages (one row each) are added from what was measured.
BUDGETS = (
    Budget("national review", "national review (review_force, all 43 forces)", 5.0, "s"),
    Budget("review / floor", "national review / district-level SQL floor", 3.0, "x"),
    Budget("area page cold", "area page on national data, cold", 5.0, "s"),
    Budget("area page warm", "area page on national data, warm", 0.3, "s"),
    Budget("app process memory", "app process peak memory (VmHWM)", 1.5 * 1024 * MIB, "B"),
    Budget("force review", "force review, cold (Lancashire)", 0.3, "s"),
    Budget("briefing", "one briefing (Preston, PDF)", 3.0, "s"),
    Budget("import services", "import services from CSV with validation", {"sqlite": 20.0, "postgresql": 30.0},
           "s"),
    Budget("directory search", "directory search (theme + tier + area)", 0.3, "s"),
    Budget("map force lsoa", "map data, one force at LSOA level", 2 * MIB, "B", ("sqlite",)),
    Budget("map nation district", "map data, the nation at district level", 3 * MIB, "B", ("sqlite",)),
)
PAGE_BUDGET = 0.2  # seconds, each demo page warm


class Skip(Exception):
    """A step whose code is not built yet."""


def _not_built(exc: ImportError) -> Skip:
    return Skip(f"skipped: not built yet ({exc})")


class StepTimeout(Exception):
    """A step ran past --step-timeout; the bench records the miss and goes on."""


def _alarm(signum, frame) -> None:  # noqa: ANN001 - signal handler signature
    raise StepTimeout


def memory_kb() -> dict[str, int]:
    """This process's resident (VmRSS) and peak resident (VmHWM) memory in kB from Linux /proc; {} elsewhere.
    VmHWM is the process's own peak: ru_maxrss of a child started by `subprocess` includes its parent's."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return {}
    return {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines()
            if line.startswith(("VmRSS", "VmHWM"))}


def _rss_mib() -> str:
    """Resident and peak resident memory now, to see which step raises the peak."""
    kb = memory_kb()
    if not kb:
        return "n/a"
    return f"{kb.get('VmRSS', 0) / 1024:,.0f} MiB, peak {kb.get('VmHWM', 0) / 1024:,.0f} MiB"


class Steps:
    """Runs and prints timed steps; keeps the figures for the budget table.

    Each step is stopped after `timeout` seconds (SIGALRM), so one pathological step cannot hold the whole
    bench: its figure is then recorded as "more than the timeout".
    """

    def __init__(self, backend: str, timeout: float = STEP_TIMEOUT) -> None:
        self.backend = backend
        self.timeout = timeout
        self.figures: dict[str, float] = {}

    def run(self, label: str, fn: Callable[[], object], key: str | None = None, note: Callable | None = None):
        t0 = time.perf_counter()
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(max(1, int(self.timeout)))
        try:
            out = fn()
        except StepTimeout:
            print(f"  {label:<46}> {self.timeout:.0f} s: stopped (--step-timeout)", flush=True)
            if key:
                self.figures[key] = float(self.timeout)
                self.figures[f"{key} timed out"] = 1.0
            return None
        except Skip as exc:
            print(f"  {label:<46}{exc}", flush=True)
            if key:
                self.figures[f"{key} failed"] = 1.0
            return None
        except Exception as exc:  # noqa: BLE001 - the bench reports a broken step and goes on
            where = traceback.extract_tb(exc.__traceback__)[-1]
            print(f"  {label:<46}FAILED: {type(exc).__name__}: {' '.join(str(exc).split())[:240]} "
                  f"(raised at {Path(where.filename).name}:{where.lineno})", flush=True)
            if key:
                self.figures[f"{key} failed"] = 1.0
            return None
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        seconds = time.perf_counter() - t0
        extra = f"  ({note(out)})" if note else ""
        print(f"  {label:<46}{seconds:>9.3f} s{extra}  [rss {_rss_mib()}]", flush=True)
        if key:
            self.figures[key] = seconds
        return out

    def value(self, label: str, key: str, value: float, unit: str, extra: str = "") -> None:
        shown = f"{value / 1024 / 1024:>9.2f} MiB" if unit == "B" else f"{value:>9.2f} {unit}"
        print(f"  {label:<46}{shown}{extra}", flush=True)
        self.figures[key] = value


# -- the SQL floor ------------------------------------------------------------------------------------------------

_CURRENT = ("SELECT service_id, SUM(annual_amount) AS amount FROM funding_line "
            "WHERE (start_date IS NULL OR start_date <= :as_at) AND (end_date IS NULL OR end_date >= :as_at) "
            "GROUP BY service_id")

FLOOR_LSOA = f"""
WITH cur AS ({_CURRENT}),
anc AS (
  SELECT l.code AS lsoa, l.parent_code AS district, l.population AS pop, l.code AS code
    FROM area l WHERE l.level = 'lsoa'
  UNION ALL SELECT l.code, l.parent_code, l.population, l.parent_code FROM area l WHERE l.level = 'lsoa'
  UNION ALL SELECT l.code, l.parent_code, l.population, d.parent_code
    FROM area l JOIN area d ON d.code = l.parent_code WHERE l.level = 'lsoa'
  UNION ALL SELECT l.code, l.parent_code, l.population, a.parent_code
    FROM area l JOIN area d ON d.code = l.parent_code JOIN area a ON a.code = d.parent_code WHERE l.level = 'lsoa'
  UNION ALL SELECT l.code, l.parent_code, l.population, v.parent_code
    FROM area l JOIN area d ON d.code = l.parent_code JOIN area a ON a.code = d.parent_code
    JOIN area v ON v.code = a.parent_code WHERE l.level = 'lsoa'
),
cov AS (SELECT c.service_id, anc.district, anc.pop FROM coverage c JOIN anc ON anc.code = c.area_code
        JOIN cur ON cur.service_id = c.service_id),
tot AS (SELECT service_id, SUM(pop) AS pop FROM cov GROUP BY service_id)
SELECT cov.district AS district, SUM(cur.amount * cov.pop / tot.pop) AS amount
  FROM cov JOIN tot ON tot.service_id = cov.service_id JOIN cur ON cur.service_id = cov.service_id
 GROUP BY cov.district
"""  # noqa: S608 - constant SQL

FLOOR_DISTRICT = f"""
WITH cur AS ({_CURRENT}),
dpop AS (SELECT parent_code AS district, SUM(population) AS pop FROM area WHERE level = 'lsoa' GROUP BY parent_code),
anc AS (
  SELECT p.district, p.pop, p.district AS code FROM dpop p
  UNION ALL SELECT p.district, p.pop, d.parent_code FROM dpop p JOIN area d ON d.code = p.district
  UNION ALL SELECT p.district, p.pop, a.parent_code
    FROM dpop p JOIN area d ON d.code = p.district JOIN area a ON a.code = d.parent_code
  UNION ALL SELECT p.district, p.pop, v.parent_code FROM dpop p JOIN area d ON d.code = p.district
    JOIN area a ON a.code = d.parent_code JOIN area v ON v.code = a.parent_code
),
cov AS (
  SELECT c.service_id, anc.district, anc.pop FROM coverage c JOIN anc ON anc.code = c.area_code
  UNION ALL SELECT c.service_id, l.parent_code, l.population FROM coverage c
    JOIN area l ON l.code = c.area_code AND l.level = 'lsoa'
),
fcov AS (SELECT cov.* FROM cov JOIN cur ON cur.service_id = cov.service_id),
tot AS (SELECT service_id, SUM(pop) AS pop FROM fcov GROUP BY service_id)
SELECT fcov.district AS district, SUM(cur.amount * fcov.pop / tot.pop) AS amount
  FROM fcov JOIN tot ON tot.service_id = fcov.service_id JOIN cur ON cur.service_id = fcov.service_id
 GROUP BY fcov.district
"""  # noqa: S608 - constant SQL


def sql_floor(db: Database, as_at: dt.date, sql: str = FLOOR_LSOA) -> pd.Series:
    """Apportioned current funding per district, in one SQL statement (see the module docstring)."""
    with db.engine.connect() as c:
        rows = c.execute(text(sql), {"as_at": as_at}).fetchall()
    return pd.Series({r[0]: float(r[1]) for r in rows}, name="amount").sort_index()


def review_by_district(data: ReviewData, as_at: dt.date) -> pd.Series:
    """The review's own apportionment, added up per district (to check the floor gives the same totals)."""
    from services_db.review import apportion

    rows = apportion(data, as_at)
    parent = data.areas.set_index("code")["parent_code"]
    return rows.groupby(rows["lsoa_code"].map(parent))["amount"].sum().sort_index()


# -- one force's data ---------------------------------------------------------------------------------------------

def force_data(data: ReviewData, force_code: str) -> ReviewData:
    """The frames restricted to one force: its areas, the services covering any of them (with only that coverage),
    their lines, allocations and priorities, its need, its plans. A national service keeps all its money here,
    so the slice is for timing and per-force review, not for adding forces up."""
    areas = data.areas
    keep = {force_code}
    frontier = {force_code}
    children = areas.groupby("parent_code")["code"].agg(list).to_dict()
    while frontier:
        frontier = {c for p in frontier for c in children.get(p, [])}
        keep |= frontier
    a = areas[areas["code"].isin(keep)]
    cov = data.coverage[data.coverage["area_code"].isin(keep)]
    ids = set(cov["service_id"])
    svc = data.services[data.services["service_id"].isin(ids)]
    lines = data.funding_lines[data.funding_lines["service_id"].isin(ids)]
    alloc = data.allocations[data.allocations["service_id"].isin(ids)
                             | data.allocations["area_codes"].map(lambda t: bool(keep.intersection(t)))]
    funds = data.funds[data.funds["fund_key"].isin(set(alloc["fund_key"]) | set(lines["fund_key"].dropna()))]
    plans = data.plans[data.plans["area_codes"].map(lambda t: not t or bool(keep.intersection(t)))]
    pri = data.priorities[data.priorities["plan_key"].isin(set(plans["plan_key"]))]
    sp = data.service_priorities[data.service_priorities["service_id"].isin(ids)
                                 & data.service_priorities["priority_key"].isin(set(pri["priority_key"]))]
    need = data.need[data.need["area_code"].isin(keep)]
    frames = dict(areas=a, services=svc, funding_lines=lines, coverage=cov, indicators=data.indicators, need=need,
                  funds=funds, allocations=alloc, plans=plans, priorities=pri, service_priorities=sp,
                  themes=data.themes)
    return ReviewData(**{k: v.reset_index(drop=True) for k, v in frames.items()})


# -- map sizes ----------------------------------------------------------------------------------------------------

def force_lsoa_map_bytes() -> int:
    """Bytes of the LSOA GeoJSON the area pages send for Lancashire (the app's own simplified cache)."""
    from services_db import boundaries

    gj = boundaries.map_geojson("lsoa", boundaries.load_grouping())
    return len(json.dumps(gj, separators=(",", ":")).encode())


def nation_district_map_bytes() -> int:
    """Bytes of a national district-level GeoJSON built the way the app builds its district layer: LSOAs
    dissolved by district, simplified by `boundaries.SIMPLIFY_DEGREES['district']`, coordinates to 1e-5°."""
    from services_db import boundaries

    lsoas = boundaries.read_lsoas()
    districts = lsoas.dissolve(by="district_name").reset_index()[["district_name", "geometry"]]
    districts["geometry"] = districts.geometry.simplify(boundaries.SIMPLIFY_DEGREES["district"],
                                                        preserve_topology=True).set_precision(1e-5)
    gj = json.loads(districts.rename(columns={"district_name": "name"}).to_json(drop_id=True))
    return len(json.dumps(gj, separators=(",", ":")).encode())


# -- import -------------------------------------------------------------------------------------------------------

def services_csv(db: Database, n: int) -> bytes:
    """A services import file of `n` rows in the app's template, drawn from the generated services (new keys)."""
    from services_db.transfer.import_templates import TEMPLATES

    q = text("""SELECT s.key, s.name, s.description, o.key AS provider_key, s.tier, s.status, s.start_date,
                       s.end_date, s.source, s.id FROM service s JOIN organisation o ON o.id = s.provider_id
                ORDER BY s.id""")
    with db.engine.connect() as c:
        svc = pd.DataFrame(c.execute(q).fetchall(), columns=["key", "name", "description", "provider_key", "tier",
                                                            "status", "start_date", "end_date", "source", "id"])
        themes = pd.DataFrame(c.execute(text("SELECT service_id, theme_key FROM service_theme")).fetchall(),
                              columns=["id", "k"]).groupby("id")["k"].agg(";".join)
        groups = pd.DataFrame(c.execute(text("SELECT service_id, group_key FROM service_target_group")).fetchall(),
                              columns=["id", "k"]).groupby("id")["k"].agg(";".join)
        cov = pd.DataFrame(c.execute(text("SELECT service_id, area_code FROM coverage")).fetchall(),
                           columns=["id", "k"]).groupby("id")["k"].agg(";".join)
    svc = pd.concat([svc] * (n // max(len(svc), 1) + 1), ignore_index=True).iloc[:n]
    out = pd.DataFrame({col: "" for col in TEMPLATES["services"]}, index=svc.index)
    out["service_key"] = [f"import-{i:06d}" for i in range(1, n + 1)]
    for col in ("name", "description", "provider_key", "tier", "status", "start_date", "end_date"):
        out[col] = svc[col].astype(object).where(svc[col].notna(), "").astype(str)
    out["themes"] = svc["id"].map(themes).fillna("")
    out["target_groups"] = svc["id"].map(groups).fillna("")
    out["coverage"] = svc["id"].map(cov).fillna("")
    out["end_date_is_estimate"] = "false"
    out["confidential_location"] = "false"
    out["source"] = "bench import"
    buf = io.StringIO()
    out.to_csv(buf, index=False)
    return buf.getvalue().encode()


def import_services(url: str, n: int) -> str:
    """Import `n` services from CSV, with validation, into a small national database at `url` (empty first)."""
    try:
        from services_db.permissions import Actor
        from services_db.transfer.imports import apply_plan, plan_import
    except ImportError as exc:
        raise _not_built(exc) from exc
    from services_db.scale.generate import generate

    generate(url, seed=99, scale=0.001, periods=1, need=False)  # the geography and organisations the rows refer to
    engine = make_engine(url)
    db = Database(engine)
    try:
        data = services_csv(db, n)
        t0 = time.perf_counter()
        plan = plan_import(db, "services", [("services.csv", data)])
        t1 = time.perf_counter()
        if plan.refused:
            raise RuntimeError(f"{len(plan.refused)} rows refused, e.g. {plan.refused[:2]}")
        apply_plan(db, plan, Actor("bench", "admin", "bench"))
        t2 = time.perf_counter()
        with engine.connect() as c:
            count = c.execute(text("SELECT COUNT(*) FROM service WHERE key LIKE 'import-%'")).scalar_one()
        return (f"{count:,} services, {len(data) / 1e6:.1f} MB CSV: check {t1 - t0:.1f} s, "
                f"write {t2 - t1:.1f} s")
    finally:
        engine.dispose()


# -- the steps of one backend -------------------------------------------------------------------------------------

def bench_backend(backend: str, url: str, size: dict, import_url: str | None, with_maps: bool,
                  timeout: float = STEP_TIMEOUT, demo_url: str | None = None) -> dict:
    from services_db import queries
    from services_db.db import ALL_FORCES
    from services_db.queries import default_as_at, review_data

    print(f"\n== {backend}: {url.split('@')[-1]} (scale {size['scale']:g}) ==", flush=True)
    steps = Steps(backend, timeout)
    db = Database(make_engine(url))
    as_at = default_as_at(db)
    queries._CACHE.clear()
    counts = (lambda d: f"{len(d.services):,} services, {len(d.coverage):,} coverage rows, "  # noqa: E731
                        f"{len(d.funding_lines):,} lines, {len(d.need):,} need values")
    force = steps.run("load one force's review data (cold, Lancashire)", lambda: review_data(db, LANCASHIRE),
                      "load force", note=counts)  # what an app configured for one force (the default) reads
    data = steps.run("load review data, all forces (cold)", lambda: review_data(db, ALL_FORCES), "load",
                     note=counts)
    if data is None:
        return steps.figures
    try:
        from services_db.review import review_area, review_force
    except ImportError as exc:
        review_force = review_area = None
        print(f"  {'review':<46}skipped: not built yet ({exc})")
    if review_force is not None:
        steps.run("national review (review_force, all 43 forces)", lambda: review_force(data, as_at),
                  "national review", note=lambda f: f"{len(f.findings):,} findings")
    floor = steps.run("SQL floor, district-level expansion", lambda: sql_floor(db, as_at, FLOOR_DISTRICT),
                      "floor district", note=lambda s: f"{len(s)} districts, £{s.sum():,.0f}")
    if floor is not None and review_force is not None:
        try:
            mine = review_by_district(data, as_at)
            diff = (mine - floor.reindex(mine.index).fillna(0)).abs().max()
            print(f"  {'floor vs review apportionment per district':<46}max difference £{diff:,.2f} "
                  f"(review total £{mine.sum():,.0f})", flush=True)
            del mine
        except Exception as exc:  # noqa: BLE001
            print(f"  floor check failed: {exc}")
        if "national review" in steps.figures:
            late = bool(steps.figures.get("national review timed out"))
            if late:
                steps.figures["review / floor timed out"] = 1.0
            steps.value("review / district-level floor" + (" (at least)" if late else ""), "review / floor",
                        steps.figures["national review"] / max(steps.figures["floor district"], 1e-9), "x")
    if review_force is not None:
        if force is not None:  # the force as the app reads it (SQL), national services with their share only
            steps.run("one force's review (Lancashire), cold", lambda: review_force(force, as_at), "force review",
                      note=lambda f: f"{len(f.findings):,} findings")
            steps.run("  the same again (warm: arrays kept per data version)", lambda: review_force(force, as_at),
                      "force review warm", note=lambda f: f"{len(f.findings):,} findings")
        steps.run("one area's review on national data (Preston)", lambda: review_area(data, AREA, as_at),
                  "area review", note=lambda f: f"{len(f.findings):,} findings")

    _area_page(steps, url, timeout)
    _directory(steps, db, data, as_at)
    _briefing(steps, db, as_at)
    if import_url:
        n = size["import"]
        steps.run(f"import {n:,} services from CSV with validation", lambda: import_services(import_url, n),
                  "import services", note=lambda s: s)
    if with_maps:
        size_b = steps.run("map: Lancashire at LSOA level", force_lsoa_map_bytes)
        if size_b is not None:
            steps.value("  map data for one force, LSOA level", "map force lsoa", size_b, "B")
        if size["scale"] >= 1:
            size_b = steps.run("map: England and Wales at district level", nation_district_map_bytes)
            if size_b is not None:
                steps.value("  map data for the nation, district level", "map nation district", size_b, "B")
        else:
            print(f"  {'map: England and Wales at district level':<46}skipped in --quick (6 s; size-independent)")
            steps.figures["map nation district skipped"] = 1.0
    if demo_url:
        _demo_pages(steps, demo_url, size["page_repeat"], timeout)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    steps.value("peak memory of the bench process (ru_maxrss)", "bench memory", peak, "B",
                "  (review, floor check, import and briefing in one process; for information)")
    db.dispose()
    return steps.figures


def _area_page(steps: Steps, url: str, timeout: float) -> None:
    """Cold and warm script time of the area page, measured by AppTest in a child process (no Streamlit here)."""
    script = PROJECT_ROOT / "benchmarks" / "area_page_timing.py"
    if not (PROJECT_ROOT / "pages" / "area.py").exists() or not script.exists():
        print(f"  {'area page':<46}skipped: not built yet")
        return

    def measure() -> dict:
        out = subprocess.run([sys.executable, str(script), url, AREA, str(timeout)], capture_output=True, text=True,
                             timeout=timeout * 3, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if result.get("error"):
            raise RuntimeError(result["error"])
        return result

    result = steps.run("area page script (AppTest, Preston, child process)", measure, "area page")
    if result is None:
        for key in ("area page cold", "area page warm", "app process memory"):
            steps.figures[f"{key} failed"] = 1.0
        return
    steps.value("  area page script, cold", "area page cold", result["cold"], "s")
    steps.value("  area page script, warm (rerun)", "area page warm", result["warm"], "s")
    if result.get("peak"):
        steps.value("  peak memory of the app process (VmHWM)", "app process memory", result["peak"], "B")


def _directory(steps: Steps, db: Database, data: ReviewData, as_at: dt.date) -> None:
    try:
        from services_db.db import ALL_FORCES
        from services_db.directory import DirectoryFilter, directory_frame, search, service_extras
    except ImportError as exc:
        print(f"  {'directory':<46}skipped: not built yet ({exc})")
        return
    frame = steps.run("directory frame (built once per data version)",
                      lambda: directory_frame(data, service_extras(db, ALL_FORCES), as_at), "directory frame",
                      note=lambda f: f"{len(f):,} rows")
    if frame is None:
        steps.figures["directory search failed"] = 1.0
        return
    f = DirectoryFilter(themes=["domestic-abuse"], tiers=["secondary"], covers=AREA)
    steps.run("directory search: theme + tier + covers Preston", lambda: search(frame, f, data.areas),
              "directory search", note=lambda r: f"{len(r):,} services")


def _briefing(steps: Steps, db: Database, as_at: dt.date) -> None:
    try:
        from services_db.documents.build import build_briefing
    except ImportError as exc:
        print(f"  {'briefing':<46}skipped: not built yet ({exc})")
        steps.figures["briefing failed"] = 1.0
        return
    steps.run("one briefing (Preston, PDF)", lambda: build_briefing(db, AREA, as_at, "pdf"), "briefing",
              note=lambda b: f"{len(getattr(b, 'content', b'') or b''):,} bytes")


def _demo_pages(steps: Steps, url: str, repeat: int, timeout: float) -> None:
    """Each demo page's warm (and cold) script time on the demo data (`benchmarks/pages_timing.py`, a child)."""
    script = PROJECT_ROOT / "benchmarks" / "pages_timing.py"

    def measure() -> dict:
        out = subprocess.run([sys.executable, str(script), url, str(repeat)], capture_output=True, text=True,
                             timeout=timeout * 3, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    pages = steps.run(f"demo pages (AppTest, cold + {repeat} warm runs each)", measure, "demo pages")
    for label, got in (pages or {}).items():
        if got.get("error"):
            print(f"  {'  page ' + label:<46}FAILED: {got['error'][:200]}")
            steps.figures[f"page {label} failed"] = 1.0
            continue
        steps.value(f"  page {label}, warm", f"page {label}", got["warm"], "s",
                    f"  (cold {got['cold']:.2f} s, charts and maps {got['size'] / 1024:,.0f} KB)")


def demo_database(url: str) -> None:
    """Load the demo data into the (empty or demo) database at `url`, for the page timings."""
    from services_db.db import open_database
    from services_db.demo import load_demo

    db = open_database(url)
    try:
        load_demo(db)
    finally:
        db.dispose()


# -- orchestration ------------------------------------------------------------------------------------------------

def _generated_by(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            row = c.execute(text("SELECT value FROM setting WHERE key = 'generated_by'")).first()
            return row[0] if row else None
    except Exception:  # noqa: BLE001 - no schema yet
        return None
    finally:
        engine.dispose()


def _ensure_generated(url: str, seed: int, size: dict, regenerate: bool) -> None:
    scale, periods = size["scale"], size["periods"]
    want = f"generate-national seed {seed} scale {scale:g} periods {periods}"
    if not regenerate and _generated_by(url) == want:
        print(f"reusing {url.split('@')[-1]} ({want})", flush=True)
        return
    cmd = [sys.executable, "-m", "services_db", "generate-national", "--seed", str(seed), "--scale", f"{scale:g}",
           "--periods", str(periods), "--out", normalise_url(url), "--replace"]
    print("$ " + " ".join(cmd[1:]), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)
    print(f"  generated in {time.perf_counter() - t0:.1f} s", flush=True)


def _shown(value: float, unit: str) -> str:
    if unit == "B":
        return f"{value / MIB:,.0f} MiB" if value >= 10 * MIB else f"{value / MIB:.2f} MiB"
    if unit == "x":
        return f"{value:.1f} x"
    return f"{value:.3f} s" if value < 1 else f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def _limit(value: float, unit: str) -> str:
    return f"{value / MIB:,.0f} MiB" if unit == "B" else f"{value:g} {unit}"


def budget_rows(results: dict[str, dict]) -> list[tuple[str, str, str, str, str]]:
    """(step, engine, measured, budget, "ok" | "MISS") for every budget and engine that was benched: "MISS" when
    over budget, stopped at the step timeout or failed; "skip" for a step --quick leaves out."""
    rows = []
    budgets = list(BUDGETS)
    labels = dict.fromkeys(k.removeprefix("page ").removesuffix(" failed") for fig in results.values() for k in fig
                           if k.startswith("page "))
    budgets += [Budget(f"page {label}", f"demo page {label}, warm", PAGE_BUDGET, "s") for label in labels]
    for b in budgets:
        for engine, figures in results.items():
            if engine not in b.engines:
                continue
            limit = b.limit_for(engine)
            budget = ("<= " if b.unit == "x" else "< ") + _limit(limit, b.unit)
            v = figures.get(b.key)
            if v is None:
                if figures.get(f"{b.key} skipped"):
                    rows.append((b.label, engine, "skipped", budget, "skip"))
                else:
                    failed = figures.get(f"{b.key} failed") or not figures
                    rows.append((b.label, engine, "failed" if failed else "not run", budget, "MISS"))
                continue
            late = bool(figures.get(f"{b.key} timed out"))
            ok = not late and (v <= limit if b.unit == "x" else v < limit)
            rows.append((b.label, engine, ("> " if late else "") + _shown(v, b.unit), budget, "ok" if ok else "MISS"))
    return rows


def _budget_table(results: dict[str, dict], header: str) -> None:
    rows = budget_rows(results)
    width = max([len("step"), *(len(r[0]) for r in rows)]) + 2
    print(f"\n== budgets ({header}) ==")
    print(f"  {'step':<{width}}{'engine':<12}{'measured':>11}{'budget':>13}  result")
    for step, engine, measured, budget, result in rows:
        print(f"  {step:<{width}}{engine:<12}{measured:>11}{budget:>13}  {result}")
    missed = sum(r[4] == "MISS" for r in rows)
    print(f"  {len(rows) - missed} of {len(rows)} rows within budget" + (f", {missed} MISS" if missed else ""))


def run_bench(quick: bool = False, postgres: str | None = None, sqlite_path: str | None = None, seed: int = 1,
              regenerate: bool = False, only: str | None = None, step_timeout: float = STEP_TIMEOUT) -> int:
    size = QUICK if quick else FULL
    scale = size["scale"]
    sqlite_file = Path(sqlite_path) if sqlite_path else DATA_DIR / "cache" / (
        f"national-quick-{scale:g}.db" if quick else f"national-{scale:g}.db")
    sqlite_url = normalise_url(str(sqlite_file))
    pg_url = normalise_url(postgres) if postgres else None
    if only:  # a child: bench one backend in this process
        url = sqlite_url if only == "sqlite" else pg_url
        if url is None:
            raise ValueError("--only postgresql needs --postgres URL")
        if only == "postgresql":
            _ensure_database(url)
        _ensure_generated(url, seed, size, regenerate)  # a person may run --only first; the parent's call is a no-op
        with tempfile.TemporaryDirectory() as tmp:
            if only == "sqlite":
                import_url, demo_url = f"sqlite:///{tmp}/import.db", f"sqlite:///{tmp}/demo.db"
            else:
                import_url = _pg_schema_url(url, create=True)
                demo_url = _pg_schema_url(url, create=True, schema="bench_demo")
            try:
                demo_database(demo_url)
            except Exception as exc:  # noqa: BLE001 - the pages are then reported as failed
                print(f"  demo database for the page timings failed: {type(exc).__name__}: {exc}")
                demo_url = None
            try:
                figures = bench_backend(only, url, size, import_url, with_maps=only == "sqlite",
                                        timeout=step_timeout, demo_url=demo_url)
            finally:
                if only == "postgresql":
                    _pg_schema_url(url, create=False)
                    _pg_schema_url(url, create=False, schema="bench_demo")
        out = os.environ.get("SERVICES_DB_BENCH_JSON")
        if out:
            Path(out).write_text(json.dumps(figures))
        return 0

    t0 = time.perf_counter()
    if quick:
        header = (f"--quick: a smaller national-like dataset (every LSOA, district and force; scale {scale:g}: "
                  f"{round(100_000 * scale):,} services, {size['periods']} need period, {size['import']:,}-service "
                  f"import, national map skipped): NOT national-size figures, the budgets are for national size")
    else:
        header = (f"national size: scale {scale:g}, {round(100_000 * scale):,} services, {size['periods']} need "
                  f"periods, {size['import']:,}-service import")
    print(f"bench {header}; seed {seed}, {os.cpu_count()} cores, python {sys.version.split()[0]}", flush=True)
    sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    _ensure_generated(sqlite_url, seed, size, regenerate)
    backends = {"sqlite": sqlite_url}
    if pg_url:
        _ensure_database(pg_url)
        _ensure_generated(pg_url, seed, size, regenerate)
        backends["postgresql"] = pg_url
    else:
        print("postgresql: skipped (no --postgres URL given)")
    results: dict[str, dict] = {}
    for backend in backends:
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            cmd = [sys.executable, "-m", "services_db", "bench", "--only", backend, "--seed", str(seed),
                   "--sqlite", str(sqlite_file), "--step-timeout", f"{step_timeout:g}"] + (
                ["--quick"] if quick else []) + (["--postgres", pg_url] if pg_url else [])
            env = dict(os.environ, SERVICES_DB_BENCH_JSON=tmp.name)
            subprocess.run(cmd, check=False, cwd=PROJECT_ROOT, env=env)
            try:
                results[backend] = json.loads(Path(tmp.name).read_text() or "{}")
            except json.JSONDecodeError:
                results[backend] = {}
    _budget_table(results, ("quick, " if quick else "") + f"{os.cpu_count()} cores")
    print(f"\nbench finished in {time.perf_counter() - t0:.0f} s")
    return 0


def _ensure_database(url: str) -> None:
    """Create the PostgreSQL database the URL names when the server does not have it yet (a fresh server has only
    `postgres`), so `--postgres …/bench` works first time."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if not target.database:
        return
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            exists = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                               {"name": target.database}).first()
            if not exists:
                c.exec_driver_sql(f'CREATE DATABASE "{target.database.replace(chr(34), "")}"')
                print(f"created PostgreSQL database {target.database}", flush=True)
    finally:
        engine.dispose()


def _pg_schema_url(url: str, create: bool, schema: str = "bench_import") -> str:
    """A scratch schema (`bench_import`, `bench_demo`) in the PostgreSQL database (created empty, or dropped)."""
    from sqlalchemy import create_engine

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        if create:
            c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


__all__ = ["BUDGETS", "budget_rows", "force_data", "run_bench", "sql_floor"]
