"""Test databases: every database test runs on SQLite and, when TEST_DATABASE_URL is set, again on PostgreSQL.

PostgreSQL tests get a schema of their own (search_path), so they can run side by side in the one `test` database
and leave nothing behind.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from services_db.db import Database, open_database
from services_db.demo import load_demo

PG_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite", "postgresql"]


def _pg_base() -> str:
    url = PG_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class SchemaFactory:
    """Creates throwaway PostgreSQL schemas and drops them at the end."""

    def __init__(self) -> None:
        self.engine = create_engine(_pg_base(), isolation_level="AUTOCOMMIT")
        self.schemas: list[str] = []

    def url(self) -> str:
        schema = f"t_{uuid.uuid4().hex[:10]}"
        with self.engine.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.schemas.append(schema)
        sep = "&" if "?" in _pg_base() else "?"
        return f"{_pg_base()}{sep}options=-csearch_path%3D{schema}"

    def close(self) -> None:
        with self.engine.connect() as c:
            for schema in self.schemas:
                c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self.engine.dispose()


@pytest.fixture(scope="session")
def pg_schemas() -> Iterator[SchemaFactory | None]:
    if not PG_URL:
        yield None
        return
    factory = SchemaFactory()
    yield factory
    factory.close()


def _skip_without_pg(backend: str) -> None:
    if backend == "postgresql" and not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL run skipped")


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    _skip_without_pg(request.param)
    return request.param


def _new_url(backend: str, tmp: Path, pg: SchemaFactory | None) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'{uuid.uuid4().hex[:8]}.db'}"
    assert pg is not None
    return pg.url()


@pytest.fixture
def empty_db(backend, tmp_path, pg_schemas) -> Iterator[Database]:
    """A migrated database with no data at all."""
    db = open_database(_new_url(backend, tmp_path, pg_schemas))
    yield db
    db.dispose()


def _demo(url: str) -> Database:
    """A new database at `url` with the demo loaded (opening a database never loads anything by itself)."""
    db = open_database(url)
    load_demo(db)
    return db


@pytest.fixture(scope="session")
def _seeded_sqlite(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    _demo(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def _demo_dbs(_seeded_sqlite, pg_schemas) -> Iterator[dict[str, Database]]:
    dbs = {"sqlite": open_database(f"sqlite:///{_seeded_sqlite}")}
    if pg_schemas is not None:
        dbs["postgresql"] = _demo(pg_schemas.url())
    yield dbs
    for db in dbs.values():
        db.dispose()


@pytest.fixture
def demo_db(backend, _demo_dbs) -> Database:
    """The seeded demo database, shared by the session: read it, never write to it (use fresh_demo_db)."""
    return _demo_dbs[backend]


@pytest.fixture
def fresh_demo_db(backend, tmp_path, pg_schemas, _seeded_sqlite) -> Iterator[Database]:
    """A seeded demo database of this test's own, to write to."""
    if backend == "sqlite":
        path = tmp_path / "demo.db"
        shutil.copy(_seeded_sqlite, path)
        db = open_database(f"sqlite:///{path}")
    else:
        db = _demo(pg_schemas.url())
    yield db
    db.dispose()


@pytest.fixture
def sqlite_demo_url(tmp_path, _seeded_sqlite) -> str:
    """A private copy of the seeded SQLite demo database, as a URL (for app and command-line tests)."""
    path = tmp_path / "app.db"
    shutil.copy(_seeded_sqlite, path)
    return f"sqlite:///{path}"
