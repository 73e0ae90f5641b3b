"""The command line: the same core the app uses, for scheduled jobs, imports and checks without a browser.

Every command honours `DATABASE_URL` (default: the embedded SQLite file under data/).
"""

from __future__ import annotations

import argparse
import sys

from services_db.commands import briefing, database, grouping, review, scale, scenario, transfer, users
from services_db.validation import ImportRefused

# One module per command group, in the order `--help` lists them; each adds its sub-parsers with `add_parsers`.
GROUPS = (database, review, scenario, grouping, briefing, transfer, users, scale)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services_db", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parsers(sub)
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
