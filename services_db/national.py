"""The national view's overview: one row per force, aggregated in the database (issue 13).

An app configured for every force (`SERVICES_DB_FORCE=all` over a database of several forces) must not read the
nation's snapshot (`queries.review_data`: 2 million need values, ~1.4 GiB, and the review over them) to draw its
first page. `force_summary` asks the database for one row per force instead: a handful of GROUP BY queries
(SQLAlchemy Core, SQLite and PostgreSQL alike) over the area tree, coverage, services and funding lines;
`national_overview` gives it with the nation's own totals (`national_totals`) for one pass over the money. Other
pages still read the national snapshot when they are opened.

The rules are the review's, written in SQL:

- **Current at D** (`services_db.counting`): status not ended, withdrawn or planned (a blank status is active);
  start (or, missing, the date the record became known) on or before D, open if both are missing; end missing or
  on or after D.
- **Known funding** (`services_db.review.shares.funding_known`): the sum of a current service's funding lines whose
  period contains D (an open side is open). A current service with no such line has funding *not recorded*:
  counted as a number of services, never as £0. A force no service with known funding covers has no known
  funding (NaN), not £0.
- **Covering a force** (`queries._Scope`): a service covers a force when any of its coverage codes (an LSOA,
  district, place-based area, division or the force) lies in the force's tree. A service covering several forces
  (a national or regional one) counts in the services of *each*; `multi_force` says how many of a force's
  services do.
- **Money across forces**: a pound is counted in one force only. A service's known funding is shared between the
  forces it covers by the residents it covers in each, as the review apportions money to LSOAs by population
  (`services_db.review.apportion`): its coverage codes (less any under another of its codes, looked for up to
  four levels up, as the snapshot's contract has the tree), each worth the
  residents of its LSOAs; an LSOA of unknown population counts as the mean known one, and where a service's LSOAs
  have no residents at all its money is split by their number. So a force's known funding is what the review of
  that force gives it (to within the review's rounding to whole pence per LSOA), the forces' figures add up to
  the nation's, and a national service's money is never counted whole in each of the 43 forces. Money of a
  service covering no LSOA at all cannot be shared and stays out of every force (`national_totals` counts it).
- **Residents**: the sum of the force's LSOA populations (the review's residents; unknown ones as the mean known
  LSOA), else, for a force with no LSOA in the database, its own recorded population (NaN when none).
- **Place-based areas**: those of the grouping in force at D (`services_db.groupings.grouping_at`: the latest
  saved grouping applying by then, else the `area` table's).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import (
    Date,
    Float,
    String,
    and_,
    case,
    cast,
    except_,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)

from services_db.counting import NOT_CURRENT_STATUSES
from services_db.db import ALL_FORCES, Database
from services_db.models import (
    Area,
    Coverage,
    FundingLine,
    PlaceGrouping,
    PlaceGroupingArea,
    Service,
)
from services_db.queries import read_frame

#: The columns of `force_summary`, in order.
COLUMNS = ["force_code", "force_name", "residents", "residents_is_estimate", "areas", "districts", "services",
           "multi_force", "known_funding", "funding_is_estimate", "funding_not_recorded", "per_1000"]

_MAX_DEPTH = 8  # an LSOA is four levels under its force; a cycle in parent codes stops here


def forces_in(db: Database) -> int:
    """How many forces the database holds."""
    with db.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(Area).where(Area.level == "force")).scalar_one())


def is_national(db: Database) -> bool:
    """Whether the app is in the national view: configured for every force (`Database.force_setting` is
    `ALL_FORCES`) over a database of more than one force. (`all` over a one-force database is that force.)"""
    setting = db.force_setting()
    return setting is not None and setting.strip().lower() == ALL_FORCES and forces_in(db) > 1


class _Parts:
    """The common table expressions both aggregates are built from, for one "as at" date."""

    def __init__(self, as_at: dt.date) -> None:
        area = Area.__table__
        when = literal(as_at, Date)
        # Every area with each of its ancestors, itself included (a recursive walk up parent_code).
        up = select(area.c.code.label("code"), area.c.code.label("anc"), literal(0).label("depth")).cte(
            "up", recursive=True)
        parent = area.alias("up_parent")
        self.up = up = up.union_all(
            select(up.c.code, parent.c.parent_code, up.c.depth + 1)
            .join(parent, parent.c.code == up.c.anc)
            .where(parent.c.parent_code.is_not(None), up.c.depth < _MAX_DEPTH))
        force = area.alias("force")
        self.force_of = (select(up.c.code, up.c.anc.label("force_code"))
                         .join(force, and_(force.c.code == up.c.anc, force.c.level == "force")).cte("force_of"))

        # The residents and LSOAs under every area: an LSOA of unknown population counts as the mean known one.
        lsoa = area.alias("lsoa")
        fill = (select(func.coalesce(func.avg(area.c.population), 1.0))
                .where(area.c.level == "lsoa", area.c.population > 0).scalar_subquery())
        unknown = or_(lsoa.c.population.is_(None), lsoa.c.population < 0)
        self.code_stats = (select(
            up.c.anc.label("code"),
            func.sum(case((unknown, fill), else_=lsoa.c.population)).label("residents"),
            func.count().label("lsoas"),
            func.max(case((or_(unknown, lsoa.c.population_is_estimate), 1), else_=0)).label("estimate"),
        ).join(lsoa, and_(lsoa.c.code == up.c.code, lsoa.c.level == "lsoa")).group_by(up.c.anc).cte("code_stats"))

        # Services current at the date (`services_db.counting.services_current`).
        svc = Service.__table__
        status = func.lower(func.trim(func.coalesce(svc.c.status, "")))
        begins = func.coalesce(svc.c.start_date, svc.c.known_from)
        self.current = select(svc.c.id.label("service_id")).where(
            status.not_in(sorted(NOT_CURRENT_STATUSES)),
            or_(begins.is_(None), begins <= when),
            or_(svc.c.end_date.is_(None), svc.c.end_date >= when)).cte("current_services")

        # Known funding: each current service's lines whose period contains the date.
        fl = FundingLine.__table__
        self.funding = (select(
            fl.c.service_id, func.sum(cast(fl.c.annual_amount, Float)).label("funding"),
            func.max(case((fl.c.is_estimate, 1), else_=0)).label("estimate"),
        ).where(fl.c.annual_amount.is_not(None), or_(fl.c.start_date.is_(None), fl.c.start_date <= when),
                or_(fl.c.end_date.is_(None), fl.c.end_date >= when),
                fl.c.service_id.in_(select(self.current.c.service_id)))
            .group_by(fl.c.service_id).cte("known_funding"))

        # Current services' coverage codes, less those under another code of the same service (no LSOA twice).
        # A code's ancestors come by joins on the area's key, four levels up at most (an LSOA's district, area,
        # division and force, as the snapshot's contract has it): joined to the recursive tree instead, the engine
        # may start from the tree's 176,000 rows and probe coverage for each.
        cov = Coverage.__table__
        c1, c2 = cov.alias("c1"), cov.alias("c2")
        chain, above = c1, []
        for i in range(4):
            a = area.alias(f"a{i + 1}")
            chain = chain.outerjoin(a, a.c.code == (c1.c.area_code if i == 0 else above[-1].c.parent_code))
            above.append(a)
        coverage_pairs = select(c2.c.service_id, c2.c.area_code)
        nested = (select(c1.c.service_id, c1.c.area_code).select_from(chain)
                  .where(c1.c.service_id.in_(select(self.current.c.service_id)),
                         or_(*(tuple_(c1.c.service_id, a.c.parent_code).in_(coverage_pairs) for a in above))))
        live = cov.c.service_id.in_(select(self.current.c.service_id))
        top = except_(select(cov.c.service_id, cov.c.area_code).where(live), nested).cte("top_coverage")

        # Per (current service, force it covers): residents and LSOAs it covers there. Codes in no force keep
        # a row with no force: their residents count in the service's whole, so its share in each force is right.
        self.service_force = (select(
            top.c.service_id, self.force_of.c.force_code,
            func.coalesce(func.sum(self.code_stats.c.residents), 0.0).label("residents"),
            func.coalesce(func.sum(self.code_stats.c.lsoas), 0).label("lsoas"),
        ).select_from(top.outerjoin(self.force_of, self.force_of.c.code == top.c.area_code)
                      .outerjoin(self.code_stats, self.code_stats.c.code == top.c.area_code))
            .group_by(top.c.service_id, self.force_of.c.force_code).cte("service_force"))
        sf = self.service_force
        self.service_whole = select(
            sf.c.service_id, func.sum(sf.c.residents).label("residents"), func.sum(sf.c.lsoas).label("lsoas"),
            func.count(sf.c.force_code).label("forces"),
        ).group_by(sf.c.service_id).cte("service_whole")

    def share(self):
        """A (service, force) row's share of the service's money: by residents, else by LSOAs, else none."""
        sf, sw = self.service_force, self.service_whole
        return case((sw.c.residents > 0, cast(sf.c.residents, Float) / cast(sw.c.residents, Float)),
                    (sw.c.lsoas > 0, cast(sf.c.lsoas, Float) / cast(sw.c.lsoas, Float)), else_=None)


def _number(frame: pd.DataFrame, *cols: str) -> None:
    for col in cols:  # PostgreSQL returns Decimal for sums of NUMERIC, SQLite float or int
        frame[col] = pd.to_numeric(frame[col].map(lambda v: None if v is None else float(v)), errors="coerce")


def _areas_by_force(db: Database, parts: _Parts, as_at: dt.date) -> pd.DataFrame:
    """Per force: its districts and place-based areas (of the grouping in force at `as_at`)."""
    area, fo = Area.__table__, parts.force_of
    base = read_frame(db, select(
        fo.c.force_code,
        func.sum(case((area.c.level == "district", 1), else_=0)).label("districts"),
        func.sum(case((area.c.level == "area", 1), else_=0)).label("areas"),
    ).join(area, area.c.code == fo.c.code).group_by(fo.c.force_code)).set_index("force_code")
    pg, pga = PlaceGrouping.__table__, PlaceGroupingArea.__table__
    latest = (select(pg.c.force_code, func.max(pg.c.applies_from).label("applies_from"))
              .where(pg.c.applies_from <= literal(as_at, Date)).group_by(pg.c.force_code).subquery())
    saved = read_frame(db, select(pg.c.force_code, func.count(pga.c.code).label("areas"))
                   .join(latest, and_(latest.c.force_code == pg.c.force_code,
                                      latest.c.applies_from == pg.c.applies_from))
                   .join(pga, pga.c.grouping_id == pg.c.id).group_by(pg.c.force_code)).set_index("force_code")
    base.loc[base.index.intersection(saved.index), "areas"] = saved["areas"]
    return base


def _money(db: Database, parts: _Parts) -> tuple[pd.DataFrame, pd.Series]:
    """Per force (services, multi_force, funding_not_recorded, funded, known_funding, funding_is_estimate) and the
    nation's row (each service once, with unplaced and unshared), in one statement: the two share the CTEs,
    which the engines then work out once (SQLite and PostgreSQL materialise a CTE read twice)."""
    sf, sw, fu, cur = parts.service_force, parts.service_whole, parts.funding, parts.current
    share = parts.share()
    zero, nothing = literal_column("0"), cast(literal_column("0"), Float)
    per_force = select(
        literal_column("'force'").label("scope"), sf.c.force_code,
        func.count().label("services"),
        func.sum(case((sw.c.forces > 1, 1), else_=0)).label("multi_force"),
        func.sum(case((fu.c.service_id.is_(None), 1), else_=0)).label("funding_not_recorded"),
        func.count(fu.c.service_id).label("funded"),
        func.sum(fu.c.funding * share).label("known_funding"),
        func.max(case((and_(fu.c.estimate == 1, share.is_not(None)), 1), else_=0)).label("funding_is_estimate"),
        zero.label("unplaced"), nothing.label("unshared"),
    ).select_from(sf.join(sw, sw.c.service_id == sf.c.service_id)
                  .outerjoin(fu, fu.c.service_id == sf.c.service_id)
                  ).where(sf.c.force_code.is_not(None)).group_by(sf.c.force_code)
    unshareable = and_(func.coalesce(sw.c.residents, 0) <= 0, func.coalesce(sw.c.lsoas, 0) <= 0)
    nation = select(
        literal_column("'nation'"), cast(literal_column("NULL"), String),
        func.count(),
        func.sum(case((sw.c.forces > 1, 1), else_=0)),
        func.sum(case((fu.c.service_id.is_(None), 1), else_=0)),
        func.count(fu.c.service_id),
        func.sum(fu.c.funding),
        zero,
        func.sum(case((func.coalesce(sw.c.forces, 0) == 0, 1), else_=0)),
        func.sum(case((unshareable, fu.c.funding), else_=nothing)),
    ).select_from(cur.outerjoin(sw, sw.c.service_id == cur.c.service_id)
                  .outerjoin(fu, fu.c.service_id == cur.c.service_id))
    rows = read_frame(db, union_all(per_force, nation))
    _number(rows, "known_funding", "unshared")
    for col in ("services", "multi_force", "funding_not_recorded", "funded", "funding_is_estimate", "unplaced"):
        rows[col] = rows[col].fillna(0).astype(int)
    forces = rows[rows["scope"] == "force"].set_index("force_code")
    return forces, rows[rows["scope"] == "nation"].iloc[0]


def national_overview(db: Database, as_at: dt.date) -> tuple[pd.DataFrame, dict[str, float | int]]:
    """`force_summary` and `national_totals` together, their money counted once (what the overview draws)."""
    parts = _Parts(as_at)
    money, nation = _money(db, parts)
    summary = _summary(db, parts, as_at, money)
    totals = _totals(nation)
    residents = summary["residents"].sum(min_count=1)
    in_forces = summary["known_funding"].sum(min_count=1)
    totals["residents"] = float(residents)
    totals["per_1000"] = float(in_forces / residents * 1000.0) if residents > 0 else float("nan")
    return summary, totals


def force_summary(db: Database, as_at: dt.date) -> pd.DataFrame:
    """One row per force of the database, worked out in SQL (see the module docstring for every rule).

    Columns (`COLUMNS`): force_code, force_name; residents (float; NaN when unknown) and residents_is_estimate;
    areas (place-based, of the grouping in force at `as_at`) and districts; services (current at `as_at` and
    covering any part of the force; a service covering several forces counts in each) and multi_force (how many
    of them cover other forces too); known_funding (£ a year: the force's share of those services' known funding,
    NaN when none of them has known funding) and funding_is_estimate (any line counted is an estimate);
    funding_not_recorded (how many of the services have no current funding line: a count, never £0); per_1000
    (known funding per 1,000 residents, NaN without known funding or residents). Ordered by force name."""
    return national_overview(db, as_at)[0]


def national_totals(db: Database, as_at: dt.date) -> dict[str, float | int]:
    """The nation's own figures at `as_at`, each service once (the per-force rows count a service covering
    several forces in each): services current; multi_force (of them, covering more than one force); unplaced
    (covering no area of any force: in no force's row); funding_not_recorded (current with no current funding
    line); known_funding (£ a year, every current service with known funding; NaN when none has) and unshared
    (of it, the money of services covering no LSOA, which no force's row holds); residents (the forces' sum) and
    per_1000 (the known funding the forces' rows hold per 1,000 of those residents: NaN without either)."""
    return national_overview(db, as_at)[1]


def _summary(db: Database, parts: _Parts, as_at: dt.date, money: pd.DataFrame) -> pd.DataFrame:
    area, cs = Area.__table__, parts.code_stats
    forces = read_frame(db, select(
        area.c.code.label("force_code"), area.c.name.label("force_name"), area.c.population,
        area.c.population_is_estimate, cs.c.residents, cs.c.lsoas, cs.c.estimate.label("lsoa_estimate"),
    ).outerjoin(cs, cs.c.code == area.c.code).where(area.c.level == "force").order_by(area.c.name, area.c.code))
    _number(forces, "population", "residents")
    counts = _areas_by_force(db, parts, as_at)

    out = forces[["force_code", "force_name"]].copy()
    has_lsoas = forces["lsoas"].fillna(0).to_numpy() > 0
    out["residents"] = np.where(has_lsoas, forces["residents"], forces["population"]).astype(float)
    out["residents_is_estimate"] = np.where(has_lsoas, forces["lsoa_estimate"].fillna(0).astype(bool),
                                            forces["population_is_estimate"].fillna(True).astype(bool))
    code = out["force_code"]
    for col in ("areas", "districts"):
        out[col] = code.map(counts[col]).fillna(0).astype(int)
    for col in ("services", "multi_force", "funding_not_recorded"):
        out[col] = code.map(money[col]).fillna(0).astype(int)
    funded = code.map(money["funded"]).fillna(0).astype(int)
    out["known_funding"] = code.map(money["known_funding"]).where(funded > 0).astype(float)
    out["funding_is_estimate"] = code.map(money["funding_is_estimate"]).fillna(0).astype(bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = out["known_funding"] / out["residents"] * 1000.0
    out["per_1000"] = per.where(out["residents"] > 0).astype(float)
    return out[COLUMNS].reset_index(drop=True)


def _totals(nation: pd.Series) -> dict[str, float | int]:
    funded = int(nation["funded"])
    return {
        "services": int(nation["services"]), "multi_force": int(nation["multi_force"]),
        "unplaced": int(nation["unplaced"]), "funding_not_recorded": int(nation["funding_not_recorded"]),
        "known_funding": float(nation["known_funding"]) if funded else float("nan"),
        "unshared": float(nation["unshared"]) if funded and pd.notna(nation["unshared"]) else 0.0,
    }
