"""The query API: every read the pages, documents and command line make goes through these functions.

Reads return plain DataFrames or dicts so that callers need no SQLAlchemy. `review_data` reads everything the
review needs in a handful of queries and is memoised per data version, so a page redraw costs nothing until
somebody changes the data.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pandas as pd
from sqlalchemy import func, select

from services_db.counting import MONEY_STATUSES
from services_db.db import Database
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

_CACHE: dict[str, ReviewData] = {}  # data version -> its snapshot, least recently read first: the one memo
_VERSIONS_KEPT = 2  # a snapshot at national size holds hundreds of MB of derived arrays: keep the last two
_LOCK = threading.Lock()


def _frame(db: Database, stmt) -> pd.DataFrame:
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


def _tuples(links: pd.DataFrame, key: str, value: str) -> pd.Series:
    if links.empty:
        return pd.Series(dtype=object)
    return links.sort_values(value).groupby(key)[value].agg(tuple)


def _attach(frame: pd.DataFrame, key: str, column: str, series: pd.Series) -> pd.DataFrame:
    frame[column] = frame[key].map(series)
    frame[column] = frame[column].map(lambda v: v if isinstance(v, tuple) else ())
    return frame


def review_data(db: Database) -> ReviewData:
    """The snapshot of the data at the database's current data version: read once per version and kept (with what
    is derived from it: `hierarchy`, `prepared`) for the last `_VERSIONS_KEPT` versions read."""
    version = db.data_version()
    with _LOCK:
        cached = _CACHE.pop(version, None)
        if cached is not None:
            _CACHE[version] = cached  # most recently read last
            return cached
    data = _read_review_data(db, version)
    with _LOCK:
        data = _CACHE.pop(version, data)  # another thread read the same version meanwhile: hand out one snapshot
        _CACHE[version] = data
        while len(_CACHE) > _VERSIONS_KEPT:
            _CACHE.pop(next(iter(_CACHE)))
    return data


def _read_review_data(db: Database, version: str = "") -> ReviewData:
    areas = _frame(db, select(Area.code, Area.name, Area.level, Area.parent_code, Area.population,
                              Area.population_is_estimate))
    areas["population"] = areas["population"].astype(float)

    provider = Organisation.__table__.alias("provider")
    services = _frame(db, select(
        Service.id.label("service_id"), Service.name, provider.c.name.label("provider"),
        provider.c.sector.label("provider_sector"), Service.tier, Service.status, Service.start_date,
        Service.end_date, Service.end_date_is_estimate, Service.known_from,
    ).outerjoin(provider, provider.c.id == Service.provider_id).order_by(Service.id))
    _dates(services, "start_date", "end_date", "known_from")
    _attach(services, "service_id", "themes",
            _tuples(_frame(db, select(service_theme.c.service_id, service_theme.c.theme_key)),
                    "service_id", "theme_key"))
    _attach(services, "service_id", "target_groups",
            _tuples(_frame(db, select(service_target_group.c.service_id, service_target_group.c.group_key)),
                    "service_id", "group_key"))

    funding = _frame(db, select(
        FundingLine.service_id, Organisation.name.label("commissioner"), Fund.key.label("fund_key"),
        FundingLine.annual_amount, FundingLine.start_date, FundingLine.end_date, FundingLine.is_estimate,
    ).join(Organisation, Organisation.id == FundingLine.commissioner_id)
     .outerjoin(Fund, Fund.id == FundingLine.fund_id).order_by(FundingLine.id))
    _money(_dates(funding, "start_date", "end_date"), "annual_amount")
    commissioners = (funding.drop_duplicates(["service_id", "commissioner"])
                     .groupby("service_id")["commissioner"].agg(tuple) if not funding.empty else pd.Series(dtype=object))
    _attach(services, "service_id", "commissioners", commissioners)

    coverage = _frame(db, select(Coverage.service_id, Coverage.area_code))

    indicators = _frame(db, select(NeedIndicator.key.label("indicator_key"), NeedIndicator.name, NeedIndicator.unit,
                                   NeedIndicator.higher_is))
    _attach(indicators, "indicator_key", "themes",
            _tuples(_frame(db, select(indicator_theme.c.indicator_key, indicator_theme.c.theme_key)),
                    "indicator_key", "theme_key"))
    need = _frame(db, select(NeedValue.indicator_key, NeedValue.area_code, NeedValue.period, NeedValue.value,
                             NeedValue.numerator, NeedValue.denominator, NeedValue.is_estimate))
    for col in ("value", "numerator", "denominator"):
        need[col] = need[col].astype(float)

    owner = Organisation.__table__.alias("owner")
    funds = _frame(db, select(Fund.id, Fund.key.label("fund_key"), Fund.name, Fund.money_source,
                              Fund.financial_year, Fund.total_amount, owner.c.name.label("owner"), Fund.start_date,
                              Fund.end_date)
                   .outerjoin(owner, owner.c.id == Fund.owner_id).order_by(Fund.id))
    _money(_dates(funds, "start_date", "end_date"), "total_amount")
    _attach(funds, "id", "eligible_area_codes",
            _tuples(_frame(db, select(fund_eligible_area.c.fund_id.label("id"), fund_eligible_area.c.area_code)),
                    "id", "area_code"))
    funds = funds.drop(columns=["id"])

    allocations = _frame(db, select(
        Allocation.id.label("allocation_id"), Fund.key.label("fund_key"), Organisation.name.label("recipient"),
        Allocation.service_id, Allocation.amount, Allocation.purpose, Allocation.planned_start,
        Allocation.planned_end, Allocation.is_estimate, Allocation.parent_id.label("parent_allocation_id"),
        Allocation.status, Allocation.areas_are_estimate,
    ).join(Fund, Fund.id == Allocation.fund_id).outerjoin(Organisation, Organisation.id == Allocation.recipient_id)
     .order_by(Allocation.id))
    _money(_dates(allocations, "planned_start", "planned_end"), "amount")
    allocations["service_id"] = allocations["service_id"].astype(float)
    allocations["parent_allocation_id"] = allocations["parent_allocation_id"].astype(float)
    _attach(allocations, "allocation_id", "area_codes",
            _tuples(_frame(db, select(allocation_area.c.allocation_id, allocation_area.c.area_code)),
                    "allocation_id", "area_code"))
    _attach(allocations, "allocation_id", "priorities",
            _tuples(_frame(db, select(allocation_priority.c.allocation_id, Priority.key.label("priority_key"))
                           .join(Priority, Priority.id == allocation_priority.c.priority_id)),
                    "allocation_id", "priority_key"))

    plans = _frame(db, select(Plan.id, Plan.key.label("plan_key"), Plan.name, owner.c.name.label("owner"),
                              Plan.start_date, Plan.end_date).outerjoin(owner, owner.c.id == Plan.owner_id))
    _dates(plans, "start_date", "end_date")
    _attach(plans, "id", "area_codes", _tuples(_frame(db, select(plan_area.c.plan_id.label("id"),
                                                                   plan_area.c.area_code)), "id", "area_code"))
    priorities = _frame(db, select(Priority.key.label("priority_key"), Plan.key.label("plan_key"), Priority.name)
                        .join(Plan, Plan.id == Priority.plan_id).order_by(Priority.id))
    service_priorities = _frame(db, select(service_priority.c.service_id, Priority.key.label("priority_key"))
                                .join(Priority, Priority.id == service_priority.c.priority_id))
    themes = _frame(db, select(Theme.key.label("theme_key"), Theme.name).order_by(Theme.name))

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
    """
    with db.sessions() as s:
        allocated = s.scalar(select(func.coalesce(func.sum(Allocation.amount), 0))
                             .where(Allocation.parent_id.is_(None), Allocation.status.in_(sorted(MONEY_STATUSES))))
        return {
            "services": s.scalar(select(func.count(Service.id))),
            "organisations": s.scalar(select(func.count(Organisation.id))),
            "funds": s.scalar(select(func.count(Fund.id))),
            "allocated": float(allocated or 0),
            "gaps_raised": s.scalar(select(func.count(GapReport.id))),
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
    return dict(_frame(db, select(TargetGroup.key, TargetGroup.name).order_by(TargetGroup.name))
                .itertuples(index=False, name=None))
