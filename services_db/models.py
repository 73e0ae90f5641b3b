"""The schema: typed SQLAlchemy models for need, plans, activity, funds and the record of who changed what.

Money is `Numeric(14, 2)` so pounds and pence survive a round trip through any database. Every fact row carries
`source` (seed file and section, an import file name, or `rule:<name>` for an estimate) so a figure on screen can
always be traced. Editable records carry `version` for optimistic locking: a save names the version it read, and a
stale one is refused instead of overwriting somebody else's change.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

Money = Numeric(14, 2)

SECTORS = ("statutory", "VCFS", "health", "private")
TIERS = ("primary", "secondary", "tertiary")
SERVICE_STATUSES = ("active", "planned", "ended")
AREA_LEVELS = ("lsoa", "district", "area", "division", "force")
GAP_STATUSES = ("raised", "acknowledged", "referred", "resolved", "closed")
ROLES = ("viewer", "early_action", "commissioner", "opcc", "admin")
# applied: a bid or application (pipeline, not money); awarded and paid: money; withdrawn: nothing
ALLOCATION_STATUSES = ("applied", "awarded", "paid", "withdrawn")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


def link_table(name: str, owner: tuple[str, str], other: tuple[str, str], *, other_cascades: bool = False,
               other_indexed: bool = False) -> Table:
    """A many-to-many table of two (column, "table.column") pairs that together are its key. Deleting the owner
    deletes its links; deleting the other side does too when `other_cascades`."""
    other_delete = "CASCADE" if other_cascades else None
    return Table(
        name,
        Base.metadata,
        Column(owner[0], ForeignKey(owner[1], ondelete="CASCADE"), primary_key=True),
        Column(other[0], ForeignKey(other[1], ondelete=other_delete), primary_key=True, index=other_indexed or None),
    )


class Versioned:
    """Optimistic locking and last-change stamp for records users edit."""

    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(80), default="system", nullable=False)


class Described:
    """A short key, a display name and a description (themes, roles): the three columns written once, each
    table giving its own lengths so the schema stays as migrated."""

    key_length: ClassVar[int]
    name_length: ClassVar[int]

    @declared_attr
    def key(cls) -> Mapped[str]:
        return mapped_column(String(cls.key_length), primary_key=True)

    @declared_attr
    def name(cls) -> Mapped[str]:
        return mapped_column(String(cls.name_length), nullable=False)

    @declared_attr
    def description(cls) -> Mapped[str]:  # declared like the two above, so the columns keep this order
        return mapped_column(Text, default="", nullable=False)


class Area(Base):
    """One node of the geography: LSOA → district → place-based area → division → force."""

    __tablename__ = "area"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    level: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)
    population: Mapped[float | None] = mapped_column(Float)
    population_is_estimate: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    source: Mapped[str] = mapped_column(String(300), nullable=False)


class Theme(Described, Base):
    __tablename__ = "theme"
    key_length, name_length = 60, 120


class TargetGroup(Base):
    __tablename__ = "target_group"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)


class Organisation(Versioned, Base):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    sector: Mapped[str] = mapped_column(String(20), nullable=False)
    org_identifier: Mapped[str | None] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(300), nullable=False)


service_theme = link_table("service_theme", ("service_id", "service.id"), ("theme_key", "theme.key"),
                           other_indexed=True)

service_target_group = link_table("service_target_group", ("service_id", "service.id"),
                                  ("group_key", "target_group.key"))

service_priority = link_table("service_priority", ("service_id", "service.id"),
                              ("priority_id", "priority.id"), other_cascades=True, other_indexed=True)


class Service(Versioned, Base):
    """A commissioned service: what is delivered, by whom, for whom, where and until when."""

    __tablename__ = "service"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    tier: Mapped[str | None] = mapped_column(String(10))
    eligibility: Mapped[str] = mapped_column(Text, default="", nullable=False)
    referral_route: Mapped[str] = mapped_column(Text, default="", nullable=False)
    contact: Mapped[str] = mapped_column(Text, default="", nullable=False)
    capacity: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    status: Mapped[str] = mapped_column(String(10), default="active", nullable=False)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    end_date_is_estimate: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # The date the record first became known (its source report's, or the day it was entered): a missing start
    # counts from here, never from the beginning of time (services_db.counting).
    known_from: Mapped[dt.date | None] = mapped_column(Date, default=dt.date.today)
    last_reviewed: Mapped[dt.date | None] = mapped_column(Date)
    confidential_location: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    address: Mapped[str] = mapped_column(Text, default="", nullable=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    extra: Mapped[dict | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(300), nullable=False)

    provider: Mapped[Organisation | None] = relationship()
    themes: Mapped[list[Theme]] = relationship(secondary=service_theme)
    target_groups: Mapped[list[TargetGroup]] = relationship(secondary=service_target_group)
    coverage: Mapped[list[Coverage]] = relationship(cascade="all, delete-orphan", back_populates="service")
    funding_lines: Mapped[list[FundingLine]] = relationship(cascade="all, delete-orphan", back_populates="service")


class Coverage(Base):
    """A service covers an area at any level; coverage of a district means every LSOA in it."""

    __tablename__ = "coverage"
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("area.code"), primary_key=True, index=True)
    service: Mapped[Service] = relationship(back_populates="coverage")


class Fund(Versioned, Base):
    __tablename__ = "fund"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    money_source: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    financial_year: Mapped[str] = mapped_column(String(9), nullable=False, index=True)
    total_amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(300), nullable=False)
    owner: Mapped[Organisation | None] = relationship()
    # The areas the fund is open to (any level); none means the whole force.
    eligible_areas: Mapped[list[Area]] = relationship(secondary=lambda: fund_eligible_area)


fund_eligible_area = link_table("fund_eligible_area", ("fund_id", "fund.id"), ("area_code", "area.code"))


class FundingLine(Base):
    """Money a commissioner puts into a service each year, optionally from a named fund."""

    __tablename__ = "funding_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), index=True)
    commissioner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("fund.id"))
    annual_amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    is_estimate: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    source: Mapped[str] = mapped_column(String(300), nullable=False)
    service: Mapped[Service] = relationship(back_populates="funding_lines")
    commissioner: Mapped[Organisation] = relationship()
    fund: Mapped[Fund | None] = relationship()


allocation_area = link_table("allocation_area", ("allocation_id", "allocation.id"),
                             ("area_code", "area.code"))

allocation_priority = link_table("allocation_priority", ("allocation_id", "allocation.id"),
                                 ("priority_id", "priority.id"), other_cascades=True)


class Allocation(Versioned, Base):
    """Money from a fund to a recipient, service and/or area; a `parent` makes it a breakdown line (a part of the
    parent's money, counted once). Only `awarded` and `paid` allocations are money; `applied` is pipeline.
    `areas_are_estimate`: the areas were placed by a rule, the source does not break the money down by them."""

    __tablename__ = "allocation"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("allocation.id"))
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    purpose: Mapped[str] = mapped_column(Text, default="", nullable=False)
    payment_schedule: Mapped[str] = mapped_column(String(40), default="single", nullable=False)
    award_date: Mapped[dt.date | None] = mapped_column(Date)
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    planned_end: Mapped[dt.date | None] = mapped_column(Date)
    is_estimate: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(10), default="awarded", server_default="awarded", nullable=False)
    areas_are_estimate: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                                     nullable=False)
    source: Mapped[str] = mapped_column(String(300), nullable=False)
    fund: Mapped[Fund] = relationship()
    recipient: Mapped[Organisation | None] = relationship()
    service: Mapped[Service | None] = relationship()
    areas: Mapped[list[Area]] = relationship(secondary=allocation_area)
    priorities: Mapped[list[Priority]] = relationship(secondary=allocation_priority)


plan_area = link_table("plan_area", ("plan_id", "plan.id"), ("area_code", "area.code"))


class Plan(Versioned, Base):
    __tablename__ = "plan"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(300), nullable=False)
    owner: Mapped[Organisation | None] = relationship()
    areas: Mapped[list[Area]] = relationship(secondary=plan_area)
    priorities: Mapped[list[Priority]] = relationship(back_populates="plan", cascade="all, delete-orphan")


class Priority(Versioned, Base):
    __tablename__ = "priority"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    source: Mapped[str] = mapped_column(String(300), nullable=False)
    plan: Mapped[Plan] = relationship(back_populates="priorities")
    services: Mapped[list[Service]] = relationship(secondary=service_priority)


indicator_theme = link_table("indicator_theme", ("indicator_key", "need_indicator.key"),
                             ("theme_key", "theme.key"))


class NeedIndicator(Base):
    __tablename__ = "need_indicator"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    unit: Mapped[str] = mapped_column(String(60), default="count", nullable=False)
    higher_is: Mapped[str] = mapped_column(String(10), default="neutral", nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    source: Mapped[str] = mapped_column(String(300), nullable=False)
    themes: Mapped[list[Theme]] = relationship(secondary=indicator_theme)


class NeedValue(Base):
    __tablename__ = "need_value"
    __table_args__ = (UniqueConstraint("indicator_key", "area_code", "period", name="uq_need_value"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_key: Mapped[str] = mapped_column(ForeignKey("need_indicator.key", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("area.code"), index=True)
    period: Mapped[str] = mapped_column(String(30), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    is_estimate: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    source: Mapped[str] = mapped_column(String(300), nullable=False)


class GapReport(Versioned, Base):
    """A gap in service raised by an Early Action Team member, followed through its statuses."""

    __tablename__ = "gap_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    raised_by: Mapped[str] = mapped_column(String(80), nullable=False)
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    area_code: Mapped[str] = mapped_column(ForeignKey("area.code"), index=True)
    theme_key: Mapped[str] = mapped_column(ForeignKey("theme.key"))
    affected: Mapped[str] = mapped_column(Text, default="", nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[str] = mapped_column(Text, default="", nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="raised", nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(300), default="app", nullable=False)
    history: Mapped[list[GapStatusChange]] = relationship(
        cascade="all, delete-orphan", order_by="GapStatusChange.id", back_populates="gap"
    )


class GapStatusChange(Base):
    __tablename__ = "gap_status_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    gap_id: Mapped[int] = mapped_column(ForeignKey("gap_report.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    changed_by: Mapped[str] = mapped_column(String(80), nullable=False)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    gap: Mapped[GapReport] = relationship(back_populates="history")


class AuditEvent(Base):
    """Who changed what and when, with the record before and after."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    username: Mapped[str] = mapped_column(String(80), nullable=False)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    table_name: Mapped[str] = mapped_column(String(40), nullable=False)
    record_key: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class Role(Described, Base):
    __tablename__ = "role"
    key_length, name_length = 20, 80


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(120), nullable=False)
    email: Mapped[str | None] = mapped_column(String(200), unique=True)
    role_key: Mapped[str] = mapped_column(ForeignKey("role.key"), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class SignInSession(Base):
    """One browser's sign-in, so a reload or a new tab stays signed in: the SHA-256 of its random token (the token
    itself lives only in that browser's cookie, so a leaked table or backup signs nobody in), whose account, and
    until when it holds. Signing out, deactivating the account or changing its password sets `revoked_at`; rows are
    kept for a while as the record of who signed in when."""

    __tablename__ = "sign_in_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Setting(Base):
    """Key-value settings of this database (the demo's default "as at" date, when data were last loaded)."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class Scenario(Base):
    """A what-if scenario: a named draft of changes (`services_db.scenarios.changes`, as JSON) reviewed beside the
    actual data and never applied to it. `base_version` is the data version it was started from, so a reader can
    see that the data has moved on since."""

    __tablename__ = "scenario"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    changes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    base_version: Mapped[str] = mapped_column(String(200), nullable=False)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(80), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class PlaceGrouping(Base):
    """One grouping of a force's districts (and LSOA sets) into place-based areas, in force from `applies_from`
    until the next grouping's date (issue 15, "The force's own areas"). The grouping the `area` table holds (loaded
    from the grouping files) is not stored here: it applies from the beginning, so the first row here is the first
    change to it. Its areas and members are `PlaceGroupingArea` and `PlaceGroupingMember`."""

    __tablename__ = "place_grouping"
    __table_args__ = (UniqueConstraint("force_code", "applies_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    force_code: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    applies_from: Mapped[dt.date] = mapped_column(Date, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class PlaceGroupingArea(Base):
    """A place-based area of a grouping: its code (kept from the grouping it was edited from when the name is the
    same, else new), name, division and place in the list."""

    __tablename__ = "place_grouping_area"
    grouping_id: Mapped[int] = mapped_column(ForeignKey("place_grouping.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    division_code: Mapped[str | None] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, nullable=False)


class PlaceGroupingMember(Base):
    """A member of a grouping's area: a whole district, or an LSOA of an area smaller than a district. The key
    makes a district (or an LSOA) a member of at most one area per grouping."""

    __tablename__ = "place_grouping_member"
    grouping_id: Mapped[int] = mapped_column(ForeignKey("place_grouping.id", ondelete="CASCADE"), primary_key=True)
    member_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(20), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # "district" | "lsoa"
