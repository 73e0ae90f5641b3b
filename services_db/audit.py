"""The record of every change: who, when, what before and what after.

Write paths call `record` inside the same transaction as the change, so a change and its audit entry land or fail
together, and `history` reads it back per record for the history view.

Where a confidential service is (a refuge, say) is never written to the log: `record` replaces the address and
coordinates of a service that is, or becomes, confidential with "[confidential]". Entries written before that rule,
or before a service was made confidential, are redacted when read, for everyone but administrators.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from services_db.db import Database
from services_db.models import AuditEvent, Service

HIDDEN = "[confidential]"
# Per audited table: the flag that makes a record confidential, and the fields that would locate it.
CONFIDENTIAL = {"service": ("confidential_location", ("address", "latitude", "longitude"))}


def snapshot(obj) -> dict:
    """A JSON-safe copy of a row's columns (dates as ISO text, money as text so pence survive)."""
    out = {}
    for attr in inspect(obj).mapper.column_attrs:
        value = getattr(obj, attr.key)
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[attr.key] = value
    return out


def _hide(values: dict | None, fields: tuple[str, ...]) -> dict | None:
    if not isinstance(values, dict):
        return values
    return {k: HIDDEN if k in fields and v not in (None, "") else v for k, v in values.items()}


def redact(table: str, before: dict | None, after: dict | None, *, confidential: bool = False
           ) -> tuple[dict | None, dict | None]:
    """`before` and `after` without the locating fields if the record is (either side) or is known to be confidential.

    A field that changed still shows as changed where one side was empty (an address removed reads
    "[confidential] → "), but no value of it survives.
    """
    if table not in CONFIDENTIAL:
        return before, after
    flag, fields = CONFIDENTIAL[table]
    if confidential or any(isinstance(d, dict) and d.get(flag) for d in (before, after)):
        return _hide(before, fields), _hide(after, fields)
    return before, after


def record(session: Session, username: str, action: str, table: str, key: str,
           before: dict | None, after: dict | None) -> None:
    before, after = redact(table, before, after)
    session.add(AuditEvent(username=username, action=action, table_name=table, record_key=str(key),
                           before=before, after=after))


def history(db: Database, table: str | None = None, key: str | None = None, limit: int = 500, *,
            admin: bool = False) -> pd.DataFrame:
    """Audit events, newest first, optionally for one record.

    Unless `admin`, the address and coordinates of a confidential service are redacted in every entry, including
    entries written before it was made confidential (or before `record` redacted them).
    """
    stmt = select(AuditEvent.at, AuditEvent.username, AuditEvent.action, AuditEvent.table_name,
                  AuditEvent.record_key, AuditEvent.before, AuditEvent.after).order_by(AuditEvent.id.desc())
    if table:
        stmt = stmt.where(AuditEvent.table_name == table)
    if key is not None:
        stmt = stmt.where(AuditEvent.record_key == str(key))
    with db.engine.connect() as c:
        rows = c.execute(stmt.limit(limit)).fetchall()
        secret = set() if admin else set(c.scalars(select(Service.key).where(
            Service.confidential_location.is_(True))))
    if not admin:
        rows = [(at, user, action, tbl, rec, *redact(tbl, before, after, confidential=(
            tbl == "service" and rec in secret))) for at, user, action, tbl, rec, before, after in rows]
    frame = pd.DataFrame(rows, columns=["at", "username", "action", "table", "record", "before", "after"])
    frame["changed"] = [_changed(b, a) for b, a in zip(frame["before"], frame["after"], strict=True)]
    return frame


def _changed(before: dict | None, after: dict | None) -> str:
    """'status: raised → acknowledged' style summary of the fields that differ."""
    before, after = before or {}, after or {}
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)
            and k not in ("version", "updated_at")]
    return "; ".join(f"{k}: {before.get(k, '')} → {after.get(k, '')}" for k in keys)
