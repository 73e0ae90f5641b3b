"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL, and 0002 (what counts
at a date: service known-from, allocation status and estimated areas, fund eligibility) and 0003 (sign-in
sessions) go down and up again."""

import datetime as dt

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from services_db.db import alembic_config
from services_db.models import Base


def _diff(engine) -> list:
    with engine.connect() as c:
        return compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)


def _migrate(engine, target: str, up: bool) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as c:
        cfg.attributes["connection"] = c
        (command.upgrade if up else command.downgrade)(cfg, target)


def test_the_migrated_schema_is_the_models(empty_db):
    assert _diff(empty_db.engine) == []
    insp = inspect(empty_db.engine)
    assert "known_from" in {c["name"] for c in insp.get_columns("service")}
    assert {"status", "areas_are_estimate"} <= {c["name"] for c in insp.get_columns("allocation")}
    assert {c["name"] for c in insp.get_columns("fund_eligible_area")} == {"fund_id", "area_code"}


def test_0002_fills_old_rows_with_awarded_and_goes_down_and_up(empty_db):
    engine = empty_db.engine
    _migrate(engine, "0001", up=False)
    now = dt.datetime(2014, 1, 27)
    with engine.begin() as c:  # a 0001 database with one fund and one allocation
        c.execute(text("INSERT INTO fund (id, key, name, money_source, financial_year, total_amount, source, version, "
                       "updated_at, updated_by) VALUES (1, 'f', 'Fund', '', '2013-14', 100, 's', 1, :t, 'x')"),
                  {"t": now})
        c.execute(text("INSERT INTO allocation (id, key, fund_id, amount, purpose, payment_schedule, is_estimate, "
                       "source, version, updated_at, updated_by) VALUES (1, 'a', 1, 100, '', 'single', :f, 's', 1, "
                       ":t, 'x')"), {"t": now, "f": False})
    _migrate(engine, "head", up=True)
    with engine.connect() as c:
        status, estimate = c.execute(text("SELECT status, areas_are_estimate FROM allocation")).one()
    assert status == "awarded" and not estimate
    assert _diff(engine) == []


def test_0003_sign_in_sessions_go_down_and_up(empty_db):
    """Issue 14: the sign-in session table (token hashes, never tokens) comes and goes with its revision."""
    engine = empty_db.engine
    cols = {c["name"] for c in inspect(engine).get_columns("sign_in_session")}
    assert cols == {"id", "token_hash", "user_id", "created_at", "expires_at", "revoked_at"}
    _migrate(engine, "0002", up=False)
    assert "sign_in_session" not in inspect(engine).get_table_names()
    _migrate(engine, "head", up=True)
    assert "sign_in_session" in inspect(engine).get_table_names()
    assert _diff(engine) == []
