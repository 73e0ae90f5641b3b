"""A national-size database, generated deterministically, to measure the product where a region or the country uses it.

`generate(url, seed, scale)` writes into an empty database (schema by `services_db.db.upgrade`, the same Alembic
migrations the app uses):

- **Geography**: all 34,753 LSOAs of England and Wales (real codes and names from the boundaries package),
  their 348 districts, place-based areas, divisions and 43 force areas by the documented rule in
  `services_db.scale.grouping` (stored in `data/national/`; Lancashire is its real 14 districts and 9 areas).
  LSOA populations vary around the 2011 Census mean (1,614 × a log-normal factor, σ 0.15), flagged estimates.
- **Services** (100,000 × scale): 1–3 themes (from `data/demo/themes.csv`, popular ones weighted up), 1–3 target
  groups, tier, status and dates; coverage: 5% a few LSOAs of one district, 58% one district, 18% two to four
  districts of one force, 8% a place-based area, 3% a division, 7.8% a whole force and 0.2% (at least one)
  national (all 43 forces). Providers come from a pool of VCFS, private, health and statutory organisations
  based in each force, so the same provider runs many services there, as in life.
- **Funding** (250,000 lines × scale, every service has at least one) from the OPCC, councils, CSPs, health
  commissioners or national funders; 60% of lines come from one of 500 × scale funds (2023-24 grants owned by
  an OPCC or council), each such line with its allocation to the provider, so fund totals reconcile with what
  was allocated plus an unallocated margin of 0–15%.
- **Need**: 5 indicators × 12 monthly periods (2023-01 … 2023-12) for every LSOA (2.1 million values):
  Poisson counts around a per-1,000-residents rate, scaled by a district and an LSOA deprivation factor and a
  seasonal factor. Plans: a Police and Crime Plan per force and a community safety plan per district.

Every generated row's `source` is `rule:generate-national seed N`, and money, need and populations are flagged
estimates. The same seed and scale give the same rows, on SQLite and on PostgreSQL alike (numpy's PCG64 stream
is consumed in a fixed order; nothing depends on set or hash order). Writing uses `services_db.bulk`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
from sqlalchemy import Engine

from services_db.boundaries import MEAN_LSOA_POPULATION, lsoa_source_path
from services_db.bulk import reset_sequences, write_columns
from services_db.db import DATA_DIR, Database, make_engine, upgrade
from services_db.models import (
    AREA_LEVELS,
    ROLES,
    Allocation,
    Area,
    Coverage,
    Fund,
    FundingLine,
    NeedIndicator,
    NeedValue,
    Organisation,
    Plan,
    Priority,
    Role,
    Service,
    Setting,
    TargetGroup,
    Theme,
    allocation_area,
    indicator_theme,
    plan_area,
    service_priority,
    service_target_group,
    service_theme,
)
from services_db.scale.grouping import NationalGrouping, load_national_grouping

SERVICES = 100_000
FUNDING_LINES = 250_000
FUNDS = 500
PERIODS = tuple(f"2023-{m:02d}" for m in range(1, 13))
AS_AT = "2024-01-31"
FY_START, FY_END = "2023-04-01", "2024-03-31"
STAMP = "2024-01-31 00:00:00.000000"
COVERAGE_MIX = {  # kind → share of services
    "lsoas": 0.05, "district": 0.58, "districts": 0.18, "area": 0.08, "division": 0.03, "force": 0.078,
    "national": 0.002,
}
SECTOR_MIX = {"VCFS": 0.5, "statutory": 0.3, "health": 0.15, "private": 0.05}
TIER_MIX = {"primary": 0.25, "secondary": 0.43, "tertiary": 0.30, "": 0.02}
STATUS_MIX = {"active": 0.85, "planned": 0.05, "ended": 0.10}
# (key, name, unit, themes, monthly rate per 1,000 residents, deprivation elasticity)
INDICATORS = (
    ("police-incidents", "Police incidents recorded", "incidents", ("community-safety", "anti-social-behaviour",
                                                                     "night-time-economy"), 30.0, 0.8),
    ("early-action-incidents", "Early Action incidents", "incidents",
     ("vulnerable-adults", "mental-health", "missing-persons", "families"), 3.6, 1.0),
    ("domestic-abuse-incidents", "Domestic abuse incidents", "incidents", ("domestic-abuse", "victims"), 1.6, 1.1),
    ("drug-offences", "Drug offences", "offences", ("drugs-alcohol", "serious-organised-crime"), 0.45, 1.3),
    ("youth-offences", "Offences by young people (10-17)", "offences",
     ("youth-offending", "child-sexual-exploitation"), 0.3, 1.2),
)
SEASON = np.array([0.92, 0.88, 0.97, 0.99, 1.04, 1.06, 1.10, 1.08, 1.01, 1.00, 0.97, 0.98])
SERVICE_WORDS = ("outreach service", "support service", "advice line", "programme", "project", "helpline",
                 "group work", "early help", "drop-in", "partnership", "navigator", "hub")
PROVIDER_WORDS = {
    "VCFS": ("Women's Aid", "Recovery Trust", "Youth Project", "Mind", "Citizens Advice", "Community Foundation",
             "Victims' Service", "Family Support", "Home-Start", "Carers' Centre", "Homeless Project", "Credit Union",
             "Neighbourhood Trust", "Mentoring Scheme", "Restorative Justice Hub"),
    "private": ("Care Ltd", "Support Services Ltd", "Training Ltd", "Security Ltd", "Consulting LLP"),
    "health": ("Community Health Trust", "Mental Health Trust", "GP Federation", "Hospice"),
    "statutory": ("Youth Offending Team", "Probation Delivery Unit", "Fire and Rescue Service"),
}
HERE = Path(__file__).resolve().parent


def source_of(seed: int) -> str:
    return f"rule:generate-national seed {seed}"


@dataclass
class Geo:
    """The generated hierarchy as arrays (positions into the frames)."""

    lsoas: pd.DataFrame  # code, name, district (position), population
    districts: pd.DataFrame  # code, name, area, force (positions), lsoas
    areas: pd.DataFrame  # area_code, area_name, division_code, division_name, force_code, force_name, force
    forces: pd.DataFrame  # force_code, force_name
    divisions: pd.DataFrame  # division_code, division_name, force_code


@dataclass
class Result:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _choice(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(mix), dtype=object)
    p = np.array(list(mix.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def build_geo(grouping: NationalGrouping, rng: np.random.Generator) -> Geo:
    raw = pyogrio.read_dataframe(lsoa_source_path(), columns=["LSOA11CD", "LSOA11NM"], read_geometry=False)
    lsoas = pd.DataFrame({"code": raw["LSOA11CD"].astype(str), "name": raw["LSOA11NM"].astype(str)})
    lsoas = lsoas.sort_values("code", kind="mergesort").reset_index(drop=True)
    lsoas["district_name"] = lsoas["name"].str.rsplit(" ", n=1).str[0]
    districts = grouping.districts.sort_values("district_code", kind="mergesort").reset_index(drop=True)
    areas = grouping.areas.reset_index(drop=True)
    forces = areas.drop_duplicates("force_code")[["force_code", "force_name"]].reset_index(drop=True)
    divisions = areas.drop_duplicates("division_code")[["division_code", "division_name", "force_code"]]
    divisions = divisions.reset_index(drop=True)
    areas["force"] = pd.Index(forces["force_code"]).get_indexer(areas["force_code"])
    districts["area"] = pd.Index(areas["area_code"]).get_indexer(districts["area_code"])
    districts["force"] = areas["force"].to_numpy()[districts["area"].to_numpy()]
    pos = pd.Index(districts["district_name"]).get_indexer(lsoas["district_name"])
    if (pos < 0).any():
        missing = sorted(set(lsoas.loc[pos < 0, "district_name"]))[:5]
        raise ValueError(f"data/national/districts.csv lacks districts {missing}: rebuild the grouping")
    lsoas["district"] = pos
    lsoas["population"] = np.round(MEAN_LSOA_POPULATION * rng.lognormal(0.0, 0.15, len(lsoas)))
    return Geo(lsoas=lsoas, districts=districts, areas=areas, forces=forces, divisions=divisions)


def _area_columns(geo: Geo, src: str) -> dict[str, list]:
    pop_d = np.bincount(geo.lsoas["district"], weights=geo.lsoas["population"], minlength=len(geo.districts))
    pop_a = np.bincount(geo.districts["area"], weights=pop_d, minlength=len(geo.areas))
    div_pos = pd.Index(geo.divisions["division_code"]).get_indexer(geo.areas["division_code"])
    pop_v = np.bincount(div_pos, weights=pop_a, minlength=len(geo.divisions))
    pop_f = np.bincount(geo.areas["force"], weights=pop_a, minlength=len(geo.forces))
    rule = f"{src} (data/national grouping; populations an estimate)"
    parts = [
        (geo.forces["force_code"], geo.forces["force_name"], "force", [None] * len(geo.forces), pop_f),
        (geo.divisions["division_code"], geo.divisions["division_name"], "division", geo.divisions["force_code"],
         pop_v),
        (geo.areas["area_code"], geo.areas["area_name"], "area", geo.areas["division_code"], pop_a),
        (geo.districts["district_code"], geo.districts["district_name"], "district", geo.districts["area_code"],
         pop_d),
        (geo.lsoas["code"], geo.lsoas["name"], "lsoa",
         geo.districts["district_code"].to_numpy()[geo.lsoas["district"].to_numpy()], geo.lsoas["population"]),
    ]
    cols: dict[str, list] = {k: [] for k in ("code", "name", "level", "parent_code", "population",
                                             "population_is_estimate", "source")}
    for codes, names, level, parents, pop in parts:
        assert level in AREA_LEVELS
        n = len(codes)
        cols["code"] += list(codes)
        cols["name"] += list(names)
        cols["level"] += [level] * n
        cols["parent_code"] += list(parents)
        cols["population"] += [float(p) for p in pop]
        cols["population_is_estimate"] += [True] * n
        cols["source"] += [rule] * n
    return cols


@dataclass
class Orgs:
    names: list[str]
    sectors: list[str]
    keys: list[str]
    opcc: np.ndarray  # org id of each force's OPCC
    constabulary: np.ndarray
    icb: np.ndarray
    council: np.ndarray  # org id of each district's council
    csp: np.ndarray
    national: np.ndarray  # national funders
    national_providers: np.ndarray
    provider_force: np.ndarray  # home force of each pooled provider
    provider_ids: np.ndarray


def build_orgs(geo: Geo, rng: np.random.Generator, scale: float, seed: int) -> Orgs:
    names: list[str] = []
    sectors: list[str] = []

    def add(name: str, sector: str) -> int:
        names.append(name)
        sectors.append(sector)
        return len(names)  # ids start at 1

    national = np.array([add(n, "statutory") for n in ("Home Office", "Ministry of Justice", "NHS England",
                                                        "Department for Education")])
    national_providers = np.array([add(f"National {w} (England and Wales)", "VCFS")
                                   for w in PROVIDER_WORDS["VCFS"][:10]])
    opcc, constabulary, icb = [], [], []
    for f in geo.forces.itertuples():
        opcc.append(add(f"Office of the Police and Crime Commissioner for {f.force_name}", "statutory"))
        constabulary.append(add(f"{f.force_name} Constabulary", "statutory"))
        icb.append(add(f"{f.force_name} Integrated Care Board", "health"))
    council, csp = [], []
    for d in geo.districts.itertuples():
        council.append(add(f"{d.district_name} Council", "statutory"))
        csp.append(add(f"{d.district_name} Community Safety Partnership", "statutory"))

    n_pool = max(len(geo.forces) * 4, round(8_000 * scale))
    weights = geo.districts["lsoas"].to_numpy(dtype=float)
    home = rng.choice(len(geo.districts), size=n_pool, p=weights / weights.sum())
    sector = _choice(rng, SECTOR_MIX, n_pool)
    word_pick = rng.random(n_pool)
    seen: dict[str, int] = {}
    provider_ids = []
    for i in range(n_pool):
        words = PROVIDER_WORDS[sector[i]]
        base = f"{geo.districts['district_name'].iat[home[i]]} {words[int(word_pick[i] * len(words))]}"
        seen[base] = seen.get(base, 0) + 1
        provider_ids.append(add(base if seen[base] == 1 else f"{base} ({seen[base]})", str(sector[i])))
    provider_ids_arr = np.array(provider_ids)
    # statutory services are mostly run by the constabulary or council itself; keep the pool sorted by force
    provider_force = geo.districts["force"].to_numpy()[home]
    keys = [f"nat{seed}-o{i:05d}" for i in range(1, len(names) + 1)]
    return Orgs(names, sectors, keys, np.array(opcc), np.array(constabulary), np.array(icb), np.array(council),
                np.array(csp), national, national_providers, provider_force, provider_ids_arr)


def _dates(days: np.ndarray) -> list[str | None]:
    """Days since 1970-01-01 (NaN for none) as ISO date strings."""
    out: list[str | None] = []
    base = dt.date(1970, 1, 1)
    for d in days.tolist():
        out.append(None if d != d else (base + dt.timedelta(days=int(d))).isoformat())
    return out


def _day(iso: str) -> int:
    return (dt.date.fromisoformat(iso) - dt.date(1970, 1, 1)).days


def generate(url: str, seed: int = 1, scale: float = 1.0, periods: int = 12,
             log=None, need: bool = True) -> Result:  # noqa: ANN001 - log is print-like
    """Write the national dataset into the (empty) database at `url`; returns row counts and timings.
    `need=False` leaves the need values out (the same other rows; the bench's import target needs none)."""
    if not 0 < scale <= 10:
        raise ValueError("scale must be in (0, 10]")
    if not 1 <= periods <= 12:
        raise ValueError("periods must be 1 to 12")
    say = log or (lambda *_: None)
    engine = make_engine(url)
    try:
        upgrade(engine)
        db = Database(engine)
        if not db.is_empty():
            raise ValueError(f"{db.url} already holds data: generate into an empty database")
        return _generate(engine, seed, scale, periods, say, need)
    finally:
        engine.dispose()


def _generate(engine: Engine, seed: int, scale: float, periods: int, say,  # noqa: ANN001
              need: bool = True) -> Result:
    res = Result()
    src = source_of(seed)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    grouping = load_national_grouping()
    geo = build_geo(grouping, rng)
    orgs = build_orgs(geo, rng, scale, seed)
    themes = pd.read_csv(DATA_DIR / "demo" / "themes.csv", dtype=str).fillna("")
    groups = pd.read_csv(DATA_DIR / "demo" / "target_groups.csv", dtype=str).fillna("")
    res.seconds["geography and organisations"] = time.perf_counter() - t0

    n_lsoa, n_dist, n_force = len(geo.lsoas), len(geo.districts), len(geo.forces)
    lsoa_district = geo.lsoas["district"].to_numpy()
    district_area = geo.districts["area"].to_numpy()
    district_force = geo.districts["force"].to_numpy()
    area_division = pd.Index(geo.divisions["division_code"]).get_indexer(geo.areas["division_code"])
    lsoas_of_district = [np.flatnonzero(lsoa_district == d) for d in range(n_dist)]
    districts_of_force = [np.flatnonzero(district_force == f) for f in range(n_force)]

    # -- services -------------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    n_svc = max(1, round(SERVICES * scale))
    kind_counts = {k: round(n_svc * p) for k, p in COVERAGE_MIX.items()}
    kind_counts["national"] = max(1, kind_counts["national"])
    kind_counts["district"] += n_svc - sum(kind_counts.values())
    kinds = rng.permutation(np.concatenate([[k] * c for k, c in kind_counts.items()]).astype(object))
    weights = geo.districts["lsoas"].to_numpy(dtype=float)
    home = rng.choice(n_dist, size=n_svc, p=weights / weights.sum())
    home_force = district_force[home]
    theme_keys = themes["theme_key"].to_numpy(dtype=object)
    theme_names = dict(zip(themes["theme_key"], themes["name"], strict=True))
    theme_w = np.linspace(2.0, 0.6, len(theme_keys))  # earlier (core) themes are more common
    group_keys = groups["group_key"].to_numpy(dtype=object)
    n_themes = rng.choice([1, 2, 3], size=n_svc, p=[0.55, 0.3, 0.15])
    n_groups = rng.choice([1, 2, 3], size=n_svc, p=[0.5, 0.35, 0.15])
    tier = _choice(rng, TIER_MIX, n_svc)
    status = _choice(rng, STATUS_MIX, n_svc)
    word = rng.integers(0, len(SERVICE_WORDS), n_svc)
    as_at = _day(AS_AT)
    start = _day("2015-04-01") + rng.integers(0, _day("2023-10-01") - _day("2015-04-01"), n_svc)
    open_ended = rng.random(n_svc) < 0.4
    end = as_at - 365 + rng.integers(0, 365 * 4, n_svc)
    end = np.where(status == "ended", np.minimum(end, as_at - 1 - rng.integers(0, 400, n_svc)), end)
    end = np.maximum(end, start + 90)
    planned = status == "planned"
    start = np.where(planned, as_at + rng.integers(30, 300, n_svc), start)
    end = np.where(planned, start + 365 * 2, end)
    end_f = np.where(open_ended & (status == "active"), np.nan, end.astype(float))
    end_est = rng.random(n_svc) < 0.15
    sector = _choice(rng, SECTOR_MIX, n_svc)
    pick = rng.random(n_svc)

    svc_themes: list[np.ndarray] = []
    svc_groups: list[np.ndarray] = []
    cov_service: list[int] = []
    cov_code: list[str] = []
    provider = np.zeros(n_svc, dtype=np.int64)
    names: list[str] = []
    district_codes = geo.districts["district_code"].to_numpy(dtype=object)
    district_names = geo.districts["district_name"].to_numpy(dtype=object)
    lsoa_codes = geo.lsoas["code"].to_numpy(dtype=object)
    area_codes = geo.areas["area_code"].to_numpy(dtype=object)
    area_names = geo.areas["area_name"].to_numpy(dtype=object)
    division_codes = geo.divisions["division_code"].to_numpy(dtype=object)
    force_codes = geo.forces["force_code"].to_numpy(dtype=object)
    force_names = geo.forces["force_name"].to_numpy(dtype=object)
    pool_order = np.argsort(orgs.provider_force, kind="stable")
    pool_sorted = orgs.provider_ids[pool_order]
    pool_start = np.searchsorted(orgs.provider_force[pool_order], np.arange(n_force))
    pool_end = np.searchsorted(orgs.provider_force[pool_order], np.arange(n_force), side="right")
    for i in range(n_svc):
        svc_id = i + 1
        t = np.sort(rng.choice(len(theme_keys), size=n_themes[i], replace=False, p=theme_w / theme_w.sum()))
        g = np.sort(rng.choice(len(group_keys), size=n_groups[i], replace=False))
        svc_themes.append(t)
        svc_groups.append(g)
        d, f, kind = int(home[i]), int(home_force[i]), kinds[i]
        if kind == "lsoas":
            members = lsoas_of_district[d]
            chosen = np.sort(rng.choice(members, size=min(len(members), int(rng.integers(1, 6))), replace=False))
            codes, place = list(lsoa_codes[chosen]), f"{district_names[d]} (neighbourhoods)"
        elif kind == "district":
            codes, place = [district_codes[d]], district_names[d]
        elif kind == "districts":
            peers = districts_of_force[f]
            extra = rng.choice(peers, size=min(len(peers), int(rng.integers(2, 5))), replace=False)
            chosen = np.unique(np.concatenate([[d], extra]))
            codes, place = list(district_codes[chosen]), f"{district_names[d]} and neighbouring districts"
        elif kind == "area":
            a = district_area[d]
            codes, place = [area_codes[a]], area_names[a]
        elif kind == "division":
            v = area_division[district_area[d]]
            codes, place = [division_codes[v]], geo.divisions["division_name"].iat[v]
        elif kind == "force":
            codes, place = [force_codes[f]], force_names[f]
        else:
            codes, place = list(force_codes), "England and Wales"
        cov_service += [svc_id] * len(codes)
        cov_code += codes
        if kind == "national":
            provider[i] = orgs.national_providers[i % len(orgs.national_providers)]
        elif sector[i] == "statutory" and pick[i] < 0.5:
            provider[i] = orgs.council[d] if pick[i] < 0.3 else orgs.constabulary[f]
        else:
            lo, hi = pool_start[f], pool_end[f]
            provider[i] = pool_sorted[lo + int(pick[i] * (hi - lo))] if hi > lo else orgs.council[d]
        names.append(f"{theme_names[theme_keys[t[0]]]} {SERVICE_WORDS[word[i]]} – {place}")
    svc_ids = np.arange(1, n_svc + 1)
    res.seconds["services drawn"] = time.perf_counter() - t0

    # -- funds, funding lines, allocations ------------------------------------------------------------------------
    t0 = time.perf_counter()
    n_funds = max(1, round(FUNDS * scale))
    fund_force = np.sort(rng.choice(n_force, size=n_funds, p=np.array([len(x) for x in districts_of_force]) /
                                    n_dist))
    fund_owner_is_council = rng.random(n_funds) < 0.35
    fund_owner = np.where(
        fund_owner_is_council,
        orgs.council[[districts_of_force[f][0] for f in fund_force]],
        orgs.opcc[fund_force])
    funds_of_force = [np.flatnonzero(fund_force == f) for f in range(n_force)]
    n_lines = max(n_svc, round(FUNDING_LINES * scale))
    extra = rng.multinomial(n_lines - n_svc, np.full(n_svc, 1.0 / n_svc)) if n_lines > n_svc else np.zeros(
        n_svc, dtype=np.int64)
    line_svc = np.repeat(np.arange(n_svc), 1 + extra)
    big = np.isin(kinds[line_svc], ["force", "national", "division"])
    amount = np.round(np.clip(rng.lognormal(np.log(18_000), 1.0, n_lines) * np.where(big, 3.0, 1.0),
                              500, 2_500_000), -2)
    funded = rng.random(n_lines) < 0.6
    comm_pick = rng.random(n_lines)
    fund_pick = rng.random(n_lines)
    line_fund = np.full(n_lines, -1, dtype=np.int64)
    commissioner = np.zeros(n_lines, dtype=np.int64)
    l_start = np.empty(n_lines, dtype=float)
    l_end = np.empty(n_lines, dtype=float)
    svc_start = start.astype(float)
    fy_start, fy_end = _day(FY_START), _day(FY_END)
    for j in range(n_lines):
        i = line_svc[j]
        f, d = int(home_force[i]), int(home[i])
        pool = funds_of_force[f]
        if funded[j] and len(pool) and kinds[i] != "national" and status[i] == "active":
            fund = int(pool[int(fund_pick[j] * len(pool))])
            line_fund[j] = fund
            commissioner[j] = fund_owner[fund]
            l_start[j], l_end[j] = fy_start, fy_end
            continue
        c = comm_pick[j]
        if kinds[i] == "national":
            commissioner[j] = orgs.national[int(c * len(orgs.national))]
        elif c < 0.35:
            commissioner[j] = orgs.opcc[f]
        elif c < 0.6:
            commissioner[j] = orgs.council[d]
        elif c < 0.75:
            commissioner[j] = orgs.csp[d]
        elif c < 0.95:
            commissioner[j] = orgs.icb[f]
        else:
            commissioner[j] = orgs.national[int((c - 0.95) * 20 * len(orgs.national)) % len(orgs.national)]
        l_start[j], l_end[j] = svc_start[i], end_f[i]
    fund_lines = np.flatnonzero(line_fund >= 0)
    allocated = np.bincount(line_fund[fund_lines], weights=amount[fund_lines], minlength=n_funds)
    fund_total = np.round(np.maximum(allocated, 10_000) * rng.uniform(1.0, 1.15, n_funds), -3)
    res.seconds["funding drawn"] = time.perf_counter() - t0

    # -- need -----------------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    dep = np.exp(0.35 * rng.normal(0, 1, n_dist)[lsoa_district] + 0.55 * rng.normal(0, 1, n_lsoa))
    pop = geo.lsoas["population"].to_numpy()
    use_periods = PERIODS[-periods:]
    season = SEASON[-periods:]
    need_ind, need_area, need_period, need_value = [], [], [], []
    for key, _name, _unit, _themes, rate, elasticity in INDICATORS:
        mean = pop / 1000.0 * rate * dep ** elasticity / np.mean(dep ** elasticity)
        lam = mean[:, None] * season[None, :]
        counts = rng.poisson(lam).astype(float)
        need_ind.append(np.full(counts.size, key, dtype=object))
        need_area.append(np.repeat(lsoa_codes, len(use_periods)))
        need_period.append(np.tile(np.array(use_periods, dtype=object), n_lsoa))
        need_value.append(counts.ravel())
    res.seconds["need drawn"] = time.perf_counter() - t0

    # -- write ----------------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    counts = res.counts
    with engine.begin() as conn:
        w = lambda table, cols: counts.__setitem__(table.name, write_columns(conn, table, cols))  # noqa: E731
        w(Role.__table__, {"key": list(ROLES), "name": [r.replace("_", " ").title() for r in ROLES],
                           "description": [""] * len(ROLES)})
        w(Theme.__table__, {"key": themes["theme_key"], "name": themes["name"], "description": themes["description"]})
        w(TargetGroup.__table__, {"key": groups["group_key"], "name": groups["name"]})
        w(Area.__table__, _area_columns(geo, src))
        n_org = len(orgs.names)
        versioned = lambda n: {"version": [1] * n, "updated_at": [STAMP] * n,  # noqa: E731
                               "updated_by": ["generate-national"] * n}
        w(Organisation.__table__, {"id": range(1, n_org + 1), "key": orgs.keys, "name": orgs.names,
                                   "sector": orgs.sectors, "org_identifier": [None] * n_org,
                                   "source": [src] * n_org, **versioned(n_org)})
        w(Service.__table__, {
            "id": svc_ids, "key": [f"nat{seed}-s{i:06d}" for i in svc_ids], "name": names,
            "description": [f"Generated {tier[i] or 'untiered'} service ({kinds[i]} coverage)." for i in range(n_svc)],
            "provider_id": provider, "tier": [t or None for t in tier], "eligibility": [""] * n_svc,
            "referral_route": [""] * n_svc, "contact": [""] * n_svc, "capacity": [""] * n_svc, "status": status,
            "start_date": _dates(start.astype(float)), "end_date": _dates(end_f),
            "end_date_is_estimate": end_est & ~np.isnan(end_f), "known_from": _dates(start.astype(float)),
            "last_reviewed": [None] * n_svc,
            "confidential_location": [False] * n_svc, "address": [""] * n_svc, "latitude": [None] * n_svc,
            "longitude": [None] * n_svc, "extra": [None] * n_svc, "source": [src] * n_svc, **versioned(n_svc)})
        t_rows = [(svc_id, theme_keys[k]) for svc_id, t in zip(svc_ids.tolist(), svc_themes, strict=True) for k in t]
        w(service_theme, {"service_id": [r[0] for r in t_rows], "theme_key": [r[1] for r in t_rows]})
        g_rows = [(svc_id, group_keys[k]) for svc_id, g in zip(svc_ids.tolist(), svc_groups, strict=True) for k in g]
        w(service_target_group, {"service_id": [r[0] for r in g_rows], "group_key": [r[1] for r in g_rows]})
        w(Coverage.__table__, {"service_id": cov_service, "area_code": cov_code})
        w(Fund.__table__, {
            "id": range(1, n_funds + 1), "key": [f"nat{seed}-f{i:04d}" for i in range(1, n_funds + 1)],
            "name": [f"{force_names[f]} community safety fund {i:03d} 2023-24" for i, f in enumerate(fund_force, 1)],
            "money_source": ["Home Office Community Safety Grant (generated)"] * n_funds, "owner_id": fund_owner,
            "financial_year": ["2023-24"] * n_funds, "total_amount": fund_total, "start_date": [FY_START] * n_funds,
            "end_date": [FY_END] * n_funds, "source": [src] * n_funds, **versioned(n_funds)})
        w(FundingLine.__table__, {
            "id": range(1, n_lines + 1), "service_id": line_svc + 1, "commissioner_id": commissioner,
            "fund_id": [None if f < 0 else int(f) + 1 for f in line_fund.tolist()], "annual_amount": amount,
            "start_date": _dates(l_start), "end_date": _dates(l_end), "is_estimate": [True] * n_lines,
            "source": [src] * n_lines})
        n_alloc = len(fund_lines)
        alloc_svc = line_svc[fund_lines]
        w(Allocation.__table__, {
            "id": range(1, n_alloc + 1), "key": [f"nat{seed}-a{i:06d}" for i in range(1, n_alloc + 1)],
            "fund_id": line_fund[fund_lines] + 1, "recipient_id": provider[alloc_svc], "service_id": alloc_svc + 1,
            "parent_id": [None] * n_alloc, "amount": amount[fund_lines],
            "purpose": [f"{theme_names[theme_keys[svc_themes[i][0]]]} provision" for i in alloc_svc.tolist()],
            "payment_schedule": ["quarterly"] * n_alloc, "award_date": ["2023-03-01"] * n_alloc,
            "planned_start": [FY_START] * n_alloc, "planned_end": [FY_END] * n_alloc, "is_estimate": [True] * n_alloc,
            "status": ["awarded"] * n_alloc, "areas_are_estimate": [False] * n_alloc,
            "source": [src] * n_alloc, **versioned(n_alloc)})
        cov_frame = pd.DataFrame({"service_id": cov_service, "area_code": cov_code})
        aa = pd.DataFrame({"allocation_id": np.arange(1, n_alloc + 1), "service_id": alloc_svc + 1}).merge(
            cov_frame, on="service_id", how="inner", sort=False)
        w(allocation_area, {"allocation_id": aa["allocation_id"], "area_code": aa["area_code"]})
        _write_plans(w, geo, orgs, rng, seed, src, svc_ids, home, home_force, versioned)
        w(NeedIndicator.__table__, {
            "key": [i[0] for i in INDICATORS], "name": [i[1] for i in INDICATORS], "unit": [i[2] for i in INDICATORS],
            "higher_is": ["worse"] * len(INDICATORS),
            "description": [f"Generated: about {i[4]} a month per 1,000 residents, higher in deprived LSOAs."
                            for i in INDICATORS], "source": [src] * len(INDICATORS)})
        it = [(i[0], t) for i in INDICATORS for t in i[3] if t in theme_names]
        w(indicator_theme, {"indicator_key": [r[0] for r in it], "theme_key": [r[1] for r in it]})
        n_need = sum(len(v) for v in need_value) if need else 0
        w(NeedValue.__table__, {} if not need else {
            "id": range(1, n_need + 1), "indicator_key": np.concatenate(need_ind),
            "area_code": np.concatenate(need_area), "period": np.concatenate(need_period),
            "value": np.concatenate(need_value), "numerator": [None] * n_need, "denominator": [None] * n_need,
            "is_estimate": [True] * n_need, "source": [src] * n_need})
        settings = {"default_as_at": AS_AT, "data_version": "1", "is_demo": "false",
                    "generated_by": f"generate-national seed {seed} scale {scale:g} periods {periods}"
                                    + ("" if need else " without need values"),
                    "data_loaded_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}
        w(Setting.__table__, {"key": list(settings), "value": list(settings.values())})
        reset_sequences(conn, [Organisation.__table__, Service.__table__, Fund.__table__, FundingLine.__table__,
                               Allocation.__table__, Plan.__table__, Priority.__table__, NeedValue.__table__])
    res.seconds["written"] = time.perf_counter() - t0
    if engine.dialect.name == "sqlite":
        t0 = time.perf_counter()
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
        res.seconds["analyze"] = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
        res.seconds["analyze"] = time.perf_counter() - t0
    say(f"generated seed {seed} scale {scale:g}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return res


def _write_plans(w, geo: Geo, orgs: Orgs, rng: np.random.Generator, seed: int, src: str,  # noqa: ANN001
                 svc_ids: np.ndarray, home: np.ndarray, home_force: np.ndarray, versioned) -> None:  # noqa: ANN001
    """A Police and Crime Plan (5 priorities) per force and a community safety plan (3) per district."""
    force_pri = ("Protecting vulnerable people", "Tackling crime and reoffending", "Safer roads and communities",
                 "Supporting victims", "Early action and prevention")
    district_pri = ("Reducing anti-social behaviour", "Domestic abuse", "Substance misuse")
    plans, plan_area_rows, pris = [], [], []
    for f in geo.forces.itertuples():
        plans.append((f"Police and Crime Plan for {f.force_name} 2021-25", int(orgs.opcc[f.Index]), "2021-04-01",
                      "2025-03-31"))
        plan_area_rows.append((len(plans), f.force_code))
        pris += [(len(plans), p) for p in force_pri]
    for d in geo.districts.itertuples():
        plans.append((f"{d.district_name} Community Safety Plan 2023-26", int(orgs.csp[d.Index]), "2023-04-01",
                      "2026-03-31"))
        plan_area_rows.append((len(plans), d.district_code))
        pris += [(len(plans), p) for p in district_pri]
    n_plans, n_pri = len(plans), len(pris)
    w(Plan.__table__, {"id": range(1, n_plans + 1), "key": [f"nat{seed}-pl{i:04d}" for i in range(1, n_plans + 1)],
                       "name": [p[0] for p in plans], "owner_id": [p[1] for p in plans],
                       "start_date": [p[2] for p in plans], "end_date": [p[3] for p in plans],
                       "source": [src] * n_plans, **versioned(n_plans)})
    w(plan_area, {"plan_id": [r[0] for r in plan_area_rows], "area_code": [r[1] for r in plan_area_rows]})
    w(Priority.__table__, {"id": range(1, n_pri + 1), "key": [f"nat{seed}-pr{i:05d}" for i in range(1, n_pri + 1)],
                           "plan_id": [p[0] for p in pris], "name": [p[1] for p in pris],
                           "description": [""] * n_pri, "source": [src] * n_pri, **versioned(n_pri)})
    # half the services serve a priority: of their force's plan (ids 1..5 per force) or their district's plan
    n_force = len(geo.forces)
    linked = rng.random(len(svc_ids)) < 0.5
    use_force = rng.random(len(svc_ids)) < 0.5
    which = rng.integers(0, 5, len(svc_ids))
    force_pid = home_force * 5 + which + 1
    district_pid = n_force * 5 + home * 3 + which % 3 + 1
    pid = np.where(use_force, force_pid, district_pid)
    w(service_priority, {"service_id": svc_ids[linked], "priority_id": pid[linked]})
