"""Bulk writes: millions of rows through the real schema in seconds (the national generator, large imports).

The ORM (one object per row) would take many minutes for 2.1 million need values, so the generator and the
imports hand whole columns to `write_columns`, which uses the fastest path each backend offers for the same
`services_db.models` tables: PostgreSQL's COPY through psycopg (one stream, no per-row round trip), and on SQLite the DB-API
`executemany` of the statement SQLAlchemy Core compiles for the table, in large batches inside one transaction.
Values are passed in forms both backends parse identically (ISO date strings, floats rounded to pence, bools).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, insert, text

BATCH = 50_000


def write_columns(conn: Connection, table: Table, columns: dict[str, Sequence]) -> int:
    """Insert rows given column-wise (equal-length sequences) into `table`; returns the row count."""
    names = list(columns)
    lists = [list(v.tolist() if hasattr(v, "tolist") else v) for v in columns.values()]
    n = len(lists[0]) if lists else 0
    if any(len(col) != n for col in lists):
        raise ValueError(f"{table.name}: columns of unequal length")
    if n == 0:
        return 0
    rows = zip(*lists, strict=True)
    if conn.dialect.name == "postgresql":
        cols = ", ".join(f'"{c}"' for c in names)
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    else:
        sql = str(insert(table).compile(dialect=conn.dialect, column_keys=names))
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                conn.exec_driver_sql(sql, batch)
                batch = []
        if batch:
            conn.exec_driver_sql(sql, batch)
    return n


def reset_sequences(conn: Connection, tables: Sequence[Table]) -> None:
    """After inserting explicit ids on PostgreSQL, move each id sequence past the largest id (later inserts work)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608 - table names from models
            f"COALESCE((SELECT MAX(id) FROM \"{table.name}\"), 0) + 1, false)"))
