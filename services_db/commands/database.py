"""`python -m services_db init|seed|status`: create or upgrade the database, load the demo, count what is there.

Opening a database only migrates it; `init` (unless --empty) and `seed` are the commands that load the demo.
"""

from __future__ import annotations

import argparse
import time

from services_db.db import open_database


def _cmd_init(args: argparse.Namespace) -> int:
    """Create or upgrade the schema, load the demo data into an empty database and build the map cache."""
    from services_db import boundaries
    from services_db.demo import seeded
    from services_db.queries import table_counts

    t0 = time.perf_counter()
    db = open_database()
    if not args.empty:
        seeded(db)
    t1 = time.perf_counter()
    boundaries.build_geometry_cache()
    t2 = time.perf_counter()
    print(f"database: {db.url}")
    print(f"schema and demo data: {t1 - t0:.2f} s; geometry cache: {t2 - t1:.2f} s")
    for table, n in table_counts(db).items():
        print(f"  {table:<24}{n:>8}")
    return 0


def _cmd_seed(args: argparse.Namespace) -> int:
    """Load (or reload) the demo data; loading twice leaves the database as loading once did."""
    from services_db.demo import load_demo

    db = open_database()
    counts = load_demo(db)
    print(f"loaded into {db.url}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from services_db.queries import headline_figures, table_counts

    db = open_database()
    print(f"database: {db.url}")
    for k, v in headline_figures(db).items():
        print(f"  {k:<24}{v:>14,.2f}" if isinstance(v, float) else f"  {k:<24}{v:>14,}")
    for table, n in table_counts(db).items():
        print(f"  {table:<24}{n:>14,}")
    return 0


def add_parsers(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("init", help="create/upgrade the database, load demo data if empty, build the map cache")
    p.add_argument("--empty", action="store_true", help="do not load the demo data")
    p.set_defaults(func=_cmd_init)
    sub.add_parser("seed", help="load the demo data (idempotent)").set_defaults(func=_cmd_seed)
    sub.add_parser("status", help="print headline figures and row counts").set_defaults(func=_cmd_status)
