"""The whole database to one file and back: a gzipped JSON document with every row of every table.

Restore replaces everything in one transaction (a bad file changes nothing) and is refused if the backup was made
by another schema version. Values are written as text where a database could round them (money, dates), so a
round trip loses nothing. The file holds password hashes: only an administrator may make or restore one.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal

from sqlalchemy import Date, DateTime, Numeric, delete, func, insert, select, text
from sqlalchemy.orm import Session

from services_db.db import Database
from services_db.models import Base
from services_db.permissions import Actor, require
from services_db.transfer.files import FileProblem, check_size
from services_db.transfer.import_plan import ImportPlan

FORMAT = "services-db-backup"


def _schema_revision(db_or_session) -> str | None:
    try:
        if isinstance(db_or_session, Session):
            return db_or_session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        with db_or_session.engine.connect() as c:
            return c.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - a database without Alembic's table has no revision
        return None


def _encode(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def dump(db: Database) -> dict:
    """Every table as lists of rows, in primary-key order."""
    tables = {}
    with db.engine.connect() as c:
        for table in Base.metadata.sorted_tables:
            stmt = select(table).order_by(*table.primary_key.columns)
            tables[table.name] = [{k: _encode(v) for k, v in row.items()} for row in c.execute(stmt).mappings()]
    return {"format": FORMAT, "schema_revision": _schema_revision(db),
            "made_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "tables": tables}


def backup_bytes(db: Database, actor: Actor | None) -> bytes:
    require(actor, "export_backup")
    return gzip.compress(json.dumps(dump(db), ensure_ascii=False).encode("utf-8"), compresslevel=6)


def read_backup(name: str, data: bytes) -> dict:
    check_size(name, data)
    if not data.startswith(b"\x1f\x8b"):
        raise FileProblem(f"{name}: not a backup made by this app (expected a .json.gz file)")
    try:
        doc = json.loads(gzip.decompress(data).decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileProblem(f"{name}: the backup file is damaged ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("tables"), dict):
        raise FileProblem(f"{name}: not a backup made by this app")
    return doc


def _decode(table, row: dict) -> dict:
    out = {}
    for col in table.columns:
        if col.name not in row:
            continue
        v = row[col.name]
        if v is not None:
            if isinstance(col.type, DateTime):
                v = dt.datetime.fromisoformat(v)
            elif isinstance(col.type, Date):
                v = dt.date.fromisoformat(v)
            elif isinstance(col.type, Numeric) and col.type.asdecimal:
                v = Decimal(v)
        out[col.name] = v
    return out


def _parents_first(table, rows: list[dict]) -> list[dict]:
    """Rows of a table that refers to itself (area → parent area, allocation → parent), parents before children."""
    self_fks = [fk for fk in table.foreign_keys if fk.column.table is table]
    if not self_fks:
        return rows
    col, target = self_fks[0].parent.name, self_fks[0].column.name
    done: set = set()
    ordered: list[dict] = []
    pending = rows
    while pending:
        ready = [r for r in pending if r.get(col) is None or r[col] in done]
        if not ready:
            ordered.extend(pending)  # a cycle: let the database report it
            break
        ordered.extend(ready)
        done.update(r[target] for r in ready)
        ready_ids = {id(r) for r in ready}
        pending = [r for r in pending if id(r) not in ready_ids]
    return ordered


def plan_restore(s: Session, name: str, doc: dict) -> ImportPlan:
    plan = ImportPlan("backup", [name])
    here = _schema_revision(s)
    if doc.get("schema_revision") != here:
        raise FileProblem(f"{name}: the backup was made with schema version {doc.get('schema_revision')}, this "
                          f"database is at {here}; upgrade or use a matching version of the app")
    known = {t.name for t in Base.metadata.sorted_tables}
    unknown = sorted(set(doc["tables"]) - known)
    if unknown:
        raise FileProblem(f"{name}: the backup has tables this app does not know: {', '.join(unknown)}")
    for table in Base.metadata.sorted_tables:
        rows = doc["tables"].get(table.name, [])
        plan.rows_read += len(rows)
        current = s.scalar(select(func.count()).select_from(table))
        if rows:
            plan.count("added", table.name, len(rows))
        if current:
            plan.count("changed", f"{table.name} (replaced)", current)

    def writer(session: Session, username: str) -> None:
        restore_into(session, doc)
    plan.writer = writer
    return plan


def restore_into(session: Session, doc: dict) -> None:
    """Replace every table's rows by the backup's, in one transaction."""
    tables = Base.metadata.sorted_tables
    for table in reversed(tables):
        session.execute(delete(table))
    for table in tables:
        rows = [_decode(table, r) for r in doc["tables"].get(table.name, [])]
        rows = _parents_first(table, rows)
        for i in range(0, len(rows), 5000):
            session.execute(insert(table), rows[i:i + 5000])
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            pk = list(table.primary_key.columns)
            if len(pk) == 1 and pk[0].autoincrement is not False and isinstance(pk[0].type.python_type, type) \
                    and pk[0].type.python_type is int:
                session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "  # noqa: S608
                    f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"))
