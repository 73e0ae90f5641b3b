"""The command line: the same core the app uses, for scheduled jobs, imports and checks without a browser.

Every command honours `DATABASE_URL` (default: the embedded SQLite file under data/).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable

from services_db.db import open_database
from services_db.validation import ImportRefused

# Commands that live beside their subject: module name → function adding the sub-parser.
PLUGINS = {
    "services_db.review.cli": "add_review_parser",
    "services_db.documents.cli": "add_briefing_parser",
    "services_db.transfer.cli": "add_transfer_parsers",
    "services_db.auth": "add_user_parser",
    "services_db.scale.cli": "add_scale_parsers",
}


def _cmd_init(args: argparse.Namespace) -> int:
    """Create or upgrade the schema, load the demo data into an empty database and build the map cache."""
    from services_db import geography
    from services_db.queries import table_counts

    t0 = time.perf_counter()
    db = open_database(seed_demo=not args.empty)
    t1 = time.perf_counter()
    geography.build_geometry_cache()
    t2 = time.perf_counter()
    print(f"database: {db.url}")
    print(f"schema and demo data: {t1 - t0:.2f} s; geometry cache: {t2 - t1:.2f} s")
    for table, n in table_counts(db).items():
        print(f"  {table:<24}{n:>8}")
    return 0


def _cmd_seed(args: argparse.Namespace) -> int:
    """Load (or reload) the demo data; loading twice leaves the database as loading once did."""
    from services_db.demo import load_demo

    db = open_database(seed_demo=False)
    counts = load_demo(db)
    print(f"loaded into {db.url}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from services_db.queries import headline_figures, table_counts

    db = open_database(seed_demo=False)
    print(f"database: {db.url}")
    for k, v in headline_figures(db).items():
        print(f"  {k:<24}{v:>14,.2f}" if isinstance(v, float) else f"  {k:<24}{v:>14,}")
    for table, n in table_counts(db).items():
        print(f"  {table:<24}{n:>14,}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services_db", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init", help="create/upgrade the database, load demo data if empty, build the map cache")
    p.add_argument("--empty", action="store_true", help="do not load the demo data")
    p.set_defaults(func=_cmd_init)
    sub.add_parser("seed", help="load the demo data (idempotent)").set_defaults(func=_cmd_seed)
    sub.add_parser("status", help="print headline figures and row counts").set_defaults(func=_cmd_status)
    for module, adder in PLUGINS.items():
        try:
            add: Callable = getattr(importlib.import_module(module), adder)
        except (ImportError, AttributeError):
            continue
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ImportRefused as exc:
        print(f"refused: {len(exc.errors)} problem(s); nothing was written", file=sys.stderr)
        for e in exc.errors:
            print(f"  {e}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
