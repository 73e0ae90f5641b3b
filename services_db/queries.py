"""The query API: every read the pages, documents and command line make goes through these functions.

Reads return plain DataFrames or dicts so that callers need no SQLAlchemy. `review_data` reads everything the
review needs in a handful of queries and is memoised per data version, so a page redraw costs nothing until
somebody changes the data. An app is for one force (`review_scope`): on a national database its snapshot and
front-page counts are that force's, filtered in SQL, and only the national view (`ALL_FORCES`) reads every force.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import func, literal_column, select, text, union
from sqlalchemy.sql.expression import CompoundSelect

from services_db.counting import MONEY_STATUSES
from services_db.db import ALL_FORCES, Database
from services_db.models import (
    Allocation,
    Area,
    Coverage,
    Fund,
    FundingLine,
    GapReport,
    NeedIndicator,
    NeedValue,
    Organisation,
    Plan,
    Priority,
    Service,
    TargetGroup,
    Theme,
    allocation_area,
    allocation_priority,
    fund_eligible_area,
    indicator_theme,
    plan_area,
    service_priority,
    service_target_group,
    service_theme,
)
from services_db.review.data import COLUMNS, ReviewData

_CACHE: dict[tuple[str, str | None], ReviewData] = {}  # (data version, force) -> its snapshot, least recent first
_VERSIONS_KEPT = 2  # a snapshot at national size holds hundreds of MB of derived arrays: keep the last two
_LOCK = threading.Lock()
_SCOPES: dict[tuple[str, str | None], str | None] = {}  # (data version, force asked for) -> force read, or None
_MAX_IDS = 20_000  # ids bound as parameters at most (SQLite allows 32,766 in one statement, psycopg 65,535)


def read_frame(db: Database, stmt) -> pd.DataFrame:
    """A statement's rows as a DataFrame (the snapshot's reads and the national view's aggregates)."""
    with db.engine.connect() as c:
        result = c.execute(stmt)
        # plain tuples: pandas converts SQLAlchemy Row objects one by one (17 s for 2.1M need values; 2 s so)
        return pd.DataFrame.from_records([tuple(r) for r in result.fetchall()], columns=list(result.keys()))


def _dates(frame: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for col in cols:
        frame[col] = pd.to_datetime(frame[col], errors="coerce").astype("datetime64[ns]")
    return frame


def _money(frame: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for col in cols:
        frame[col] = pd.to_numeric(frame[col].map(lambda v: float(v) if isinstance(v, Decimal) else v),
                                   errors="coerce").astype(float)
    return frame


def _tuples(links: pd.DataFrame, key: str, value: str, sort: bool = True) -> pd.Series:
    """Per `key`, the tuple of its `value`s (sorted, or in row order with `sort=False`), indexed by the sorted keys:
    what `links.sort_values(value).groupby(key)[value].agg(tuple)` gives, without a Python call per group.

    One sort of integer codes (keys, then values) and a cut at each change of key: `agg(tuple)` took 13 s for the
    themes and target groups of 100,000 services and 4 s for their commissioners."""
    if links.empty:
        return pd.Series(dtype=object)
    key_codes, keys = pd.factorize(links[key], sort=True)  # NaN keys get -1: dropped, as groupby drops them
    if sort:
        value_codes, _ = pd.factorize(links[value], sort=True)
        order = np.lexsort((value_codes, key_codes))
    else:
        order = np.argsort(key_codes, kind="stable")
    order = order[key_codes[order] >= 0]
    k = key_codes[order]
    values = links[value].to_numpy(dtype=object)[order].tolist()
    cuts = np.flatnonzero(k[1:] != k[:-1]) + 1
    starts, ends = np.r_[0, cuts].tolist(), np.r_[cuts, len(k)].tolist()
    present = keys[k[starts]] if len(k) else keys[:0]
    return pd.Series([tuple(values[a:b]) for a, b in zip(starts, ends, strict=True)],
                     index=pd.Index(present, name=key), name=value, dtype=object)


def _attach(frame: pd.DataFrame, key: str, column: str, series: pd.Series) -> pd.DataFrame:
    frame[column] = frame[key].map(series)
    frame[column] = frame[column].map(lambda v: v if isinstance(v, tuple) else ())
    return frame


def review_scope(db: Database, force: str | None = None, version: str | None = None) -> str | None:
    """The force code a snapshot is limited to, or None for the whole database.

    `force` is a force's code, `ALL_FORCES` for the national view, or None for what the database is configured for
    (`Database.force_setting`). Unconfigured, an app is for one force: the database's only force (then nothing
    needs filtering: None), else the demo's force (the grouping files' force) when the database has it, else the
    first force by code. A database with several forces is the national dataset; reading all of it for one force's
    pages is what made the area page take 45 s and the app 3 GiB. Resolved once per data version and setting
    (`version`: the data version, when the caller has just read it)."""
    wanted = force if force is not None else db.force_setting()
    key = (version or db.data_version(), wanted)
    with _LOCK:
        if key in _SCOPES:
            return _SCOPES[key]
    scope = _resolve_scope(db, wanted)
    with _LOCK:
        _SCOPES[key] = scope
        while len(_SCOPES) > 8:
            _SCOPES.pop(next(iter(_SCOPES)))
    return scope


def _resolve_scope(db: Database, wanted: str | None) -> str | None:
    if wanted is not None and wanted.strip().lower() == ALL_FORCES:
        return None
    with db.engine.connect() as c:
        forces = [r[0] for r in c.execute(select(Area.code).where(Area.level == "force").order_by(Area.code))]
    if wanted is not None:
        if wanted not in forces:
            raise ValueError(f"no force {wanted!r} in the database (forces: {', '.join(forces[:10])}"
                             f"{', …' if len(forces) > 10 else ''}; or {ALL_FORCES!r} for all of them)")
        return wanted if len(forces) > 1 else None
    if len(forces) <= 1:
        return None
    try:
        from services_db.boundaries import load_grouping

        demo_force = load_grouping().force_code
    except Exception:  # noqa: BLE001 - no grouping files: fall back to the first force
        demo_force = None
    return demo_force if demo_force in forces else forces[0]


def review_data(db: Database, force: str | None = None) -> ReviewData:
    """The snapshot of the data at the database's current data version, for one force or all of them (`force`:
    see `review_scope`; None is what the database is configured for): read once per version and scope and kept
    (with what is derived from it: `hierarchy`, `prepared`) for the last `_VERSIONS_KEPT` read."""
    version = db.data_version()
    key = (version, review_scope(db, force, version))
    with _LOCK:
        cached = _CACHE.pop(key, None)
        if cached is not None:
            _CACHE[key] = cached  # most recently read last
            return cached
    data = _read_review_data(db, version, key[1])
    with _LOCK:
        data = _CACHE.pop(key, data)  # another thread read the same version meanwhile: hand out one snapshot
        _CACHE[key] = data
        while len(_CACHE) > _VERSIONS_KEPT:
            _CACHE.pop(next(iter(_CACHE)))
    return data


class _Scope:
    """The WHERE clauses that limit the snapshot's reads to one force (all of them no-ops for the whole database).

    In the force: its areas (the force and everything under it, by a recursive query on parent_code), their need
    values and the coverage rows on them; the services covering any of them or covering nothing at all (a service
    placed nowhere is in no force: every force's review lists it as data to check), with their whole funding lines,
    themes and groups; allocations placed in the force or paying one of its services, or placed nowhere and paying
    no service; the plans placed in the force or nowhere (the whole force); the funds any of those use, those open
    to one of its areas, and those nothing refers to yet. National and regional services come with their whole
    funding and, in `services.outside_population`, the residents they cover outside the force, so the review's
    apportionment gives the force the share of their money the national review gives it (to within a penny an
    LSOA: the largest-remainder pence are ranked against one row for all those residents, not one per LSOA)."""

    def __init__(self, db: Database, force: str | None) -> None:
        self.force = force
        self.dialect = db.engine.dialect.name
        if force is None:
            return
        child = Area.__table__.alias("child")
        tree = select(Area.code.label("code")).where(Area.code == force).cte("force_tree", recursive=True)
        self.tree = tree.union_all(select(child.c.code).where(child.c.parent_code == tree.c.code))
        in_tree = select(self.tree.c.code)
        cov, svc = Coverage.__table__.alias("cov"), Service.__table__.alias("svc")
        aa, alloc = allocation_area.alias("aa"), Allocation.__table__.alias("alloc")
        pa, plan = plan_area.alias("pa"), Plan.__table__.alias("pl")
        fe, fl, fund = fund_eligible_area.alias("fe"), FundingLine.__table__.alias("fl"), Fund.__table__.alias("fd")
        line_funds = select(fl.c.fund_id).where(fl.c.fund_id.is_not(None))
        # Each set of ids is worked out once, by uncorrelated subqueries (a correlated EXISTS per row, or NOT
        # EXISTS over an unindexed column, cost seconds at national size), and the reads below filter on the ids.
        with db.engine.connect() as c:
            self.service_ids = self._ids(c, union(select(cov.c.service_id).where(cov.c.area_code.in_(in_tree)),
                                                  select(svc.c.id).where(svc.c.id.not_in(select(cov.c.service_id)))))
            self.allocation_ids = self._ids(c, union(
                select(aa.c.allocation_id).where(aa.c.area_code.in_(in_tree)),
                select(alloc.c.id).where(alloc.c.service_id.in_(self.service_ids)),
                select(alloc.c.id).where(alloc.c.service_id.is_(None), alloc.c.id.not_in(select(aa.c.allocation_id)))))
            self.plan_ids = self._ids(c, union(select(pa.c.plan_id).where(pa.c.area_code.in_(in_tree)),
                                               select(plan.c.id).where(plan.c.id.not_in(select(pa.c.plan_id)))))
            self.fund_ids = self._ids(c, union(
                select(alloc.c.fund_id).where(alloc.c.id.in_(self.allocation_ids)),
                line_funds.where(fl.c.service_id.in_(self.service_ids)),
                select(fe.c.fund_id).where(fe.c.area_code.in_(in_tree)),
                select(fund.c.id).where(fund.c.id.not_in(select(alloc.c.fund_id)), fund.c.id.not_in(line_funds),
                                        fund.c.id.not_in(select(fe.c.fund_id)))))
        self.services = Service.id.in_(self.service_ids)
        self.allocations = Allocation.id.in_(self.allocation_ids)
        self.plans = Plan.id.in_(self.plan_ids)
        self.funds = Fund.id.in_(self.fund_ids)

    @staticmethod
    def _ids(c, stmt):
        """The ids `stmt` selects, as a list of bound values; as the subquery itself past `_MAX_IDS` (a force of
        tens of thousands of services), where the engines' limits on bound parameters come near."""
        ids = sorted(int(r[0]) for r in c.execute(stmt))
        return ids if len(ids) <= _MAX_IDS else stmt

    def limit(self, stmt, clause: Callable[[], object], table: str | None = None):
        """`stmt` limited by `clause()` in a force; unchanged (and `clause` not built) for the whole database.

        With `table`, a read the whole-database query leaves unordered (so in the table's stored order) is ordered
        by where its rows are stored (SQLite's rowid, PostgreSQL's ctid): a WHERE may make the engine walk an index
        instead, and the force's rows must come in the same order as in the national snapshot (row order decides
        ties in the review's rounding and the order of its tables)."""
        if self.force is None:
            return stmt
        stmt = stmt.where(clause())
        if table is not None:
            stmt = stmt.order_by(literal_column(f"{table}.{'ctid' if self.dialect == 'postgresql' else 'rowid'}"))
        return stmt

    def in_tree(self, column):
        return column.in_(select(self.tree.c.code))


# Residents each service of the force covers outside it: its coverage codes outside the force, less any code under
# another of its codes (so no LSOA counts twice), each the sum of its LSOAs' residents (LSOA, district, area,
# division, force: four levels above an LSOA at most, as the snapshot's contract has it); an LSOA of unknown (NULL or
# negative) population counts as the mean known non-zero one, as the review's Geography counts it.
_OUTSIDE_POPULATION = """
WITH RECURSIVE force_tree(code) AS (
  SELECT code FROM area WHERE code = :force
  UNION ALL SELECT a.code FROM area a JOIN force_tree t ON a.parent_code = t.code
),
scoped AS (
  SELECT c.service_id FROM coverage c WHERE c.area_code IN (SELECT code FROM force_tree) GROUP BY c.service_id
),
outside AS (
  SELECT c.service_id, c.area_code FROM coverage c JOIN scoped s ON s.service_id = c.service_id
   WHERE c.area_code NOT IN (SELECT code FROM force_tree)
),
fill AS (SELECT COALESCE(AVG(population), 1.0) AS pop FROM area WHERE level = 'lsoa' AND population > 0),
lsoa AS (
  SELECT l.code, l.parent_code, CASE WHEN l.population IS NULL OR l.population < 0 THEN f.pop ELSE l.population END AS pop
    FROM area l CROSS JOIN fill f WHERE l.level = 'lsoa'
),
chain(anc, pop) AS (
  SELECT l.code, l.pop FROM lsoa l
  UNION ALL SELECT l.parent_code, l.pop FROM lsoa l
  UNION ALL SELECT d.parent_code, l.pop FROM lsoa l JOIN area d ON d.code = l.parent_code
  UNION ALL SELECT a.parent_code, l.pop FROM lsoa l JOIN area d ON d.code = l.parent_code
    JOIN area a ON a.code = d.parent_code
  UNION ALL SELECT v.parent_code, l.pop FROM lsoa l JOIN area d ON d.code = l.parent_code
    JOIN area a ON a.code = d.parent_code JOIN area v ON v.code = a.parent_code
),
rootpop AS (
  SELECT anc AS root, SUM(pop) AS pop FROM chain WHERE anc IN (SELECT area_code FROM outside) GROUP BY anc
)
SELECT o.service_id, SUM(r.pop) AS outside_population
  FROM outside o JOIN rootpop r ON r.root = o.area_code
  JOIN area a1 ON a1.code = o.area_code LEFT JOIN area a2 ON a2.code = a1.parent_code
  LEFT JOIN area a3 ON a3.code = a2.parent_code LEFT JOIN area a4 ON a4.code = a3.parent_code
 WHERE NOT EXISTS (SELECT 1 FROM coverage c2 WHERE c2.service_id = o.service_id
                      AND c2.area_code IN (a1.parent_code, a2.parent_code, a3.parent_code, a4.parent_code))
 GROUP BY o.service_id
"""


def _read_review_data(db: Database, version: str = "", force: str | None = None) -> ReviewData:
    scope = _Scope(db, force)
    only = scope.limit
    areas = read_frame(db, only(select(Area.code, Area.name, Area.level, Area.parent_code, Area.population,
                                   Area.population_is_estimate), lambda: scope.in_tree(Area.code), "area"))
    areas["population"] = areas["population"].astype(float)

    provider = Organisation.__table__.alias("provider")
    services = read_frame(db, only(select(
        Service.id.label("service_id"), Service.name, provider.c.name.label("provider"),
        provider.c.sector.label("provider_sector"), Service.tier, Service.status, Service.start_date,
        Service.end_date, Service.end_date_is_estimate, Service.known_from,
    ).outerjoin(provider, provider.c.id == Service.provider_id).order_by(Service.id), lambda: scope.services))
    _dates(services, "start_date", "end_date", "known_from")
    _attach(services, "service_id", "themes", _tuples(read_frame(db, only(
        select(service_theme.c.service_id, service_theme.c.theme_key),
        lambda: service_theme.c.service_id.in_(scope.service_ids))), "service_id", "theme_key"))
    _attach(services, "service_id", "target_groups", _tuples(read_frame(db, only(
        select(service_target_group.c.service_id, service_target_group.c.group_key),
        lambda: service_target_group.c.service_id.in_(scope.service_ids))), "service_id", "group_key"))
    if force is not None:
        with db.engine.connect() as c:
            outside = dict(c.execute(text(_OUTSIDE_POPULATION), {"force": force}).fetchall())
        services["outside_population"] = services["service_id"].map(outside).fillna(0.0).astype(float)

    funding = read_frame(db, only(select(
        FundingLine.service_id, Organisation.name.label("commissioner"), Fund.key.label("fund_key"),
        FundingLine.annual_amount, FundingLine.start_date, FundingLine.end_date, FundingLine.is_estimate,
    ).join(Organisation, Organisation.id == FundingLine.commissioner_id)
     .outerjoin(Fund, Fund.id == FundingLine.fund_id).order_by(FundingLine.id),
        lambda: FundingLine.service_id.in_(scope.service_ids)))
    _money(_dates(funding, "start_date", "end_date"), "annual_amount")
    commissioners = _tuples(funding.drop_duplicates(["service_id", "commissioner"]), "service_id", "commissioner",
                            sort=False)  # in the order of their first line
    _attach(services, "service_id", "commissioners", commissioners)

    coverage = read_frame(db, only(select(Coverage.service_id, Coverage.area_code),
                               lambda: scope.in_tree(Coverage.area_code), "coverage"))

    indicators = read_frame(db, select(NeedIndicator.key.label("indicator_key"), NeedIndicator.name, NeedIndicator.unit,
                                   NeedIndicator.higher_is))
    _attach(indicators, "indicator_key", "themes",
            _tuples(read_frame(db, select(indicator_theme.c.indicator_key, indicator_theme.c.theme_key)),
                    "indicator_key", "theme_key"))
    need = read_frame(db, only(select(NeedValue.indicator_key, NeedValue.area_code, NeedValue.period, NeedValue.value,
                                  NeedValue.numerator, NeedValue.denominator, NeedValue.is_estimate),
                           lambda: scope.in_tree(NeedValue.area_code), "need_value"))
    for col in ("value", "numerator", "denominator"):
        need[col] = need[col].astype(float)

    owner = Organisation.__table__.alias("owner")
    funds = read_frame(db, only(select(Fund.id, Fund.key.label("fund_key"), Fund.name, Fund.money_source,
                                   Fund.financial_year, Fund.total_amount, owner.c.name.label("owner"),
                                   Fund.start_date, Fund.end_date)
                            .outerjoin(owner, owner.c.id == Fund.owner_id).order_by(Fund.id), lambda: scope.funds))
    _money(_dates(funds, "start_date", "end_date"), "total_amount")
    _attach(funds, "id", "eligible_area_codes", _tuples(read_frame(db, only(
        select(fund_eligible_area.c.fund_id.label("id"), fund_eligible_area.c.area_code),
        lambda: fund_eligible_area.c.fund_id.in_(scope.fund_ids))), "id", "area_code"))
    funds = funds.drop(columns=["id"])

    allocations = read_frame(db, only(select(
        Allocation.id.label("allocation_id"), Fund.key.label("fund_key"), Organisation.name.label("recipient"),
        Allocation.service_id, Allocation.amount, Allocation.purpose, Allocation.planned_start,
        Allocation.planned_end, Allocation.is_estimate, Allocation.parent_id.label("parent_allocation_id"),
        Allocation.status, Allocation.areas_are_estimate,
    ).join(Fund, Fund.id == Allocation.fund_id).outerjoin(Organisation, Organisation.id == Allocation.recipient_id)
     .order_by(Allocation.id), lambda: scope.allocations))
    _money(_dates(allocations, "planned_start", "planned_end"), "amount")
    allocations["service_id"] = allocations["service_id"].astype(float)
    allocations["parent_allocation_id"] = allocations["parent_allocation_id"].astype(float)
    _attach(allocations, "allocation_id", "area_codes", _tuples(read_frame(db, only(
        select(allocation_area.c.allocation_id, allocation_area.c.area_code),
        lambda: allocation_area.c.allocation_id.in_(scope.allocation_ids))), "allocation_id", "area_code"))
    _attach(allocations, "allocation_id", "priorities", _tuples(read_frame(db, only(
        select(allocation_priority.c.allocation_id, Priority.key.label("priority_key"))
        .join(Priority, Priority.id == allocation_priority.c.priority_id),
        lambda: allocation_priority.c.allocation_id.in_(scope.allocation_ids))), "allocation_id", "priority_key"))

    plans = read_frame(db, only(select(Plan.id, Plan.key.label("plan_key"), Plan.name, owner.c.name.label("owner"),
                                   Plan.start_date, Plan.end_date).outerjoin(owner, owner.c.id == Plan.owner_id),
                            lambda: scope.plans, "plan"))
    _dates(plans, "start_date", "end_date")
    _attach(plans, "id", "area_codes", _tuples(read_frame(db, only(
        select(plan_area.c.plan_id.label("id"), plan_area.c.area_code),
        lambda: plan_area.c.plan_id.in_(scope.plan_ids))), "id", "area_code"))
    priorities = read_frame(db, only(select(Priority.key.label("priority_key"), Plan.key.label("plan_key"), Priority.name)
                                 .join(Plan, Plan.id == Priority.plan_id).order_by(Priority.id), lambda: scope.plans))
    service_priorities = read_frame(db, only(
        select(service_priority.c.service_id, Priority.key.label("priority_key"))
        .join(Priority, Priority.id == service_priority.c.priority_id),
        lambda: service_priority.c.service_id.in_(scope.service_ids) & Priority.plan_id.in_(scope.plan_ids),
        "service_priority"))
    themes = read_frame(db, select(Theme.key.label("theme_key"), Theme.name).order_by(Theme.name))

    frames = dict(areas=areas, services=services, funding_lines=funding, coverage=coverage, indicators=indicators,
                  need=need, funds=funds, allocations=allocations, plans=plans, priorities=priorities,
                  service_priorities=service_priorities, themes=themes)
    return ReviewData(**{name: _shape(name, frame) for name, frame in frames.items()}, version=version)


def _shape(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    extra = [c for c in frame.columns if c not in COLUMNS[name]]
    return frame[COLUMNS[name] + extra].reset_index(drop=True)


def headline_figures(db: Database) -> dict[str, float | int]:
    """The counts on the front page: services, organisations, funds and money allocated.

    Money allocated counts each pound once (top-level allocations only: a breakdown line, such as a district CSP
    grant inside the Community Safety Grant's allocation to CSPs, is part of its parent) and only money: awarded
    or paid, never an application or a withdrawn award (review.md v2, `services_db.counting.MONEY_STATUSES`).

    In an app for one force of a national database (`review_scope`), the counts are that force's, as its pages
    show: its services, funds, allocations and raised gaps, and the organisations that run, fund, own or receive
    any of them; the same SQL filters as its snapshot.
    """
    scope = _Scope(db, review_scope(db))
    only = scope.limit
    if scope.force is None:
        organisations = select(func.count(Organisation.id))
    else:
        used = union(select(Service.provider_id.label("id")).where(scope.services),
                     select(FundingLine.commissioner_id).where(FundingLine.service_id.in_(scope.service_ids)),
                     select(Allocation.recipient_id).where(scope.allocations),
                     select(Fund.owner_id).where(scope.funds), select(Plan.owner_id).where(scope.plans)).subquery()
        organisations = select(func.count(Organisation.id)).where(Organisation.id.in_(select(used.c.id)))
    with db.sessions() as s:
        allocated = s.scalar(only(select(func.coalesce(func.sum(Allocation.amount), 0))
                                  .where(Allocation.parent_id.is_(None), Allocation.status.in_(sorted(MONEY_STATUSES))),
                                  lambda: scope.allocations))
        return {
            "services": s.scalar(only(select(func.count(Service.id)), lambda: scope.services)),
            "organisations": s.scalar(organisations),
            "funds": s.scalar(only(select(func.count(Fund.id)), lambda: scope.funds)),
            "allocated": float(allocated or 0),
            "gaps_raised": s.scalar(only(select(func.count(GapReport.id)), lambda: scope.in_tree(GapReport.area_code))),
        }


def table_counts(db: Database) -> dict[str, int]:
    """Rows per table, for the closing notes and the `status` command."""
    from services_db.models import Base

    with db.engine.connect() as c:
        return {t.name: c.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}


def default_as_at(db: Database) -> dt.date:
    """The database's own "as at" date (the demo's is its seed's date), else today."""
    value = db.setting("default_as_at")
    return dt.date.fromisoformat(value) if value else dt.date.today()


def areas(db: Database, level: str = "area") -> pd.DataFrame:
    """Areas of one level with their parent's name: code, name, parent_code, population, population_is_estimate."""
    frame = review_data(db).areas
    return frame[frame["level"] == level].reset_index(drop=True)


def theme_names(db: Database) -> dict[str, str]:
    return dict(review_data(db).themes[["theme_key", "name"]].itertuples(index=False, name=None))


def target_group_names(db: Database) -> dict[str, str]:
    return dict(read_frame(db, select(TargetGroup.key, TargetGroup.name).order_by(TargetGroup.name))
                .itertuples(index=False, name=None))


def scoped_service_ids(db: Database, force: str | None = None) -> list[int] | CompoundSelect | None:
    """The ids of the services the snapshot of `force` holds (`review_scope`; None: what the database is configured
    for), or None when that snapshot is the whole database (the demo's one force, the national view).

    For the reads that add columns to the snapshot's services (the directory's descriptions and contacts): without
    it they read all 100,000 services of a national database for one force's 3,000. The same rule as the
    snapshot's (`_Scope.service_ids`): the services covering any area of the force, and those covering nothing.
    A list of ids, or past `_MAX_IDS` the subquery itself, for `Service.id.in_(...)`."""
    scope = review_scope(db, force)
    if scope is None:
        return None
    child = Area.__table__.alias("child")
    tree = select(Area.code.label("code")).where(Area.code == scope).cte("force_tree", recursive=True)
    tree = tree.union_all(select(child.c.code).where(child.c.parent_code == tree.c.code))
    cov, svc = Coverage.__table__.alias("cov"), Service.__table__.alias("svc")
    with db.engine.connect() as c:
        return _Scope._ids(c, union(select(cov.c.service_id).where(cov.c.area_code.in_(select(tree.c.code))),
                                    select(svc.c.id).where(svc.c.id.not_in(select(cov.c.service_id)))))
