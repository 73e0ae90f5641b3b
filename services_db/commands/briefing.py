"""`python -m services_db briefing`: build one area's briefing, or every area's, to a folder.

A bad area name lists the valid ones and a bad date says how to write it; both exit non-zero without writing
anything.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from services_db.db import open_database


def add_parsers(subparsers) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = subparsers.add_parser("briefing", help="build a dated PDF or Word briefing for a place-based area",
                              description=__doc__)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--area", help='the place-based area, by name or code (e.g. "Chorley & South Ribble")')
    which.add_argument("--all", action="store_true", help="build a briefing for every place-based area")
    p.add_argument("--format", default="pdf", choices=["pdf", "docx"], help="pdf (default) or docx (Word)")
    p.add_argument("--as-at", dest="as_at", default=None,
                   help="the date the figures are as at, YYYY-MM-DD (default: the database's own 'as at' date)")
    p.add_argument("--out", default=".", help="folder to write to (created if missing; default: here)")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from services_db.documents.build import (
        BriefingError,
        area_names,
        build_briefing,
        gather,
        parse_as_at,
        resolve,
    )
    from services_db.queries import default_as_at

    db = open_database()
    try:
        as_at = parse_as_at(args.as_at) if args.as_at else default_as_at(db)
        t0 = time.perf_counter()
        inputs = gather(db)
        names = area_names(inputs.data) if args.all else [args.area]
        if not args.all:
            resolve(inputs.data, args.area)  # fail before creating the folder
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            t = time.perf_counter()
            built = build_briefing(db, name, as_at, args.format, inputs=inputs)
            path = out / built.filename
            path.write_bytes(built.content)
            print(f"{path}  ({len(built.content):,} bytes, {time.perf_counter() - t:.2f} s)")
        print(f"{len(names)} briefing(s) as at {as_at.isoformat()}, data fingerprint {inputs.fingerprint}, "
              f"{time.perf_counter() - t0:.2f} s")
        return 0
    except BriefingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.valid:
            print("valid areas:", file=sys.stderr)
            for n in exc.valid:
                print(f"  {n}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
