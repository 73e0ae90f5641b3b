"""Opening the database: one embedded SQLite file by default, any SQLAlchemy URL through `DATABASE_URL`.

The app and the command line both call `open_database()`, which upgrades the schema with Alembic and loads
nothing. Data arrives through `services_db.demo` (`python -m services_db init`, the app's first start) or an import;
this module imports neither, so everything else may import it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Integer, String, cast, create_engine, event, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from services_db.models import Base, Setting

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SERVICES_DB_DATA_DIR", PROJECT_ROOT / "data"))
DEFAULT_SQLITE = DATA_DIR / "services.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FORCE_ENV = "SERVICES_DB_FORCE"  # a force's code, or "all": which force the app reads (`Database.force_setting`)
FORCE_SETTING = "force"  # the same, kept in the database's settings table
ALL_FORCES = "all"


def _psycopg(url: str) -> str:
    """postgresql:// means psycopg 3 everywhere (SQLAlchemy's own default would be psycopg2)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def database_url() -> str:
    """`DATABASE_URL` if set, else the embedded demo file under data/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return _psycopg(url)
    DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE}"


def normalise_url(out: str) -> str:
    """A SQLAlchemy URL, or a file path for SQLite (as `generate-national --out` and `bench --sqlite` take)."""
    if "://" not in out:
        return f"sqlite:///{Path(out).expanduser().resolve()}"
    return _psycopg(out)


def make_engine(url: str) -> Engine:
    engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; a no-op when it is already there."""
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


@dataclass
class Database:
    """An engine and its session factory; the handle every query function takes."""

    engine: Engine
    sessions: sessionmaker = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error."""
        with self.sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def is_empty(self) -> bool:
        from services_db.models import Area

        with self.sessions() as s:
            return s.scalar(select(Area.code).limit(1)) is None

    def setting(self, key: str, default: str | None = None) -> str | None:
        with self.sessions() as s:
            row = s.get(Setting, key)
            return row.value if row else default

    def force_setting(self) -> str | None:
        """Which force this app is for: `SERVICES_DB_FORCE` if set, else the database's `force` setting, else None
        (the default: the database's only force, or the demo's force in a database of many; `services_db.queries.
        review_scope` resolves it). `ALL_FORCES` ("all") asks for the national view. Read on every snapshot, so an
        operator can change it without a restart of anything but the cache."""
        value = os.environ.get(FORCE_ENV, "").strip() or (self.setting(FORCE_SETTING) or "").strip()
        return value or None

    def data_version(self) -> str:
        """Changes whenever any write path commits; the key for caching reads."""
        return f"{self.url}#{self.setting('data_version', '0')}"

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str | None = None) -> Database:
    """Open the database and bring its schema to the newest migration; it never loads data (an empty database
    stays empty: `services_db.demo.seeded(db)` loads the demo into one)."""
    engine = make_engine(url or database_url())
    upgrade(engine)
    return Database(engine)


def bump_data_version(session: Session) -> None:
    """Every write path calls this inside its transaction, so cached reads know the data changed. One UPDATE that
    adds one where the row is (not a read then a write), so two saves committing at once each move it on."""
    bumped = session.execute(update(Setting).where(Setting.key == "data_version")
                             .values(value=cast(cast(Setting.value, Integer) + 1, String))
                             .execution_options(synchronize_session=False))
    if bumped.rowcount == 0:
        session.add(Setting(key="data_version", value="1"))


def drop_all(engine: Engine) -> None:
    """Remove every table, including Alembic's own (tests use it to start from nothing)."""
    Base.metadata.drop_all(engine)
    with engine.begin() as c:
        if inspect(c).has_table("alembic_version"):
            c.exec_driver_sql("DROP TABLE alembic_version")
