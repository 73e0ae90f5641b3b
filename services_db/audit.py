"""The record of every change: who, when, what before and what after.

Write paths call `record` inside the same transaction as the change, so a change and its audit entry land or fail
together, and `history` reads it back per record for the history view.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from services_db.db import Database
from services_db.models import AuditEvent


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


def record(session: Session, username: str, action: str, table: str, key: str,
           before: dict | None, after: dict | None) -> None:
    session.add(AuditEvent(username=username, action=action, table_name=table, record_key=str(key),
                           before=before, after=after))


def history(db: Database, table: str | None = None, key: str | None = None, limit: int = 500) -> pd.DataFrame:
    """Audit events, newest first, optionally for one record."""
    stmt = select(AuditEvent.at, AuditEvent.username, AuditEvent.action, AuditEvent.table_name,
                  AuditEvent.record_key, AuditEvent.before, AuditEvent.after).order_by(AuditEvent.id.desc())
    if table:
        stmt = stmt.where(AuditEvent.table_name == table)
    if key is not None:
        stmt = stmt.where(AuditEvent.record_key == str(key))
    with db.engine.connect() as c:
        rows = c.execute(stmt.limit(limit)).fetchall()
    frame = pd.DataFrame(rows, columns=["at", "username", "action", "table", "record", "before", "after"])
    frame["changed"] = [_changed(b, a) for b, a in zip(frame["before"], frame["after"], strict=True)]
    return frame


def _changed(before: dict | None, after: dict | None) -> str:
    """'status: raised → acknowledged' style summary of the fields that differ."""
    before, after = before or {}, after or {}
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)
            and k not in ("version", "updated_at")]
    return "; ".join(f"{k}: {before.get(k, '')} → {after.get(k, '')}" for k in keys)
