"""`python -m services_db briefing`: build one area's briefing, or every area's, to a folder; or a what-if
scenario's briefing (`--scenario NAME`), of the force or one area, to a file or a folder.

A bad area name lists the valid ones, a bad scenario name the scenarios there are, and a bad date says how to
write it; each exits non-zero without writing anything. A scenario's briefing never changes the records.
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
    which = p.add_mutually_exclusive_group()
    which.add_argument("--area", help='the place-based area, by name or code (e.g. "Chorley & South Ribble")')
    which.add_argument("--all", action="store_true", help="build a briefing for every place-based area")
    p.add_argument("--scenario", default=None,
                   help="a what-if scenario's name: its briefing, watermarked on every page, of the force (no "
                        "--area), one area (--area) or every area (--all)")
    p.add_argument("--format", default=None, choices=["pdf", "docx"],
                   help="pdf (default, or as --out FILE ends) or docx (Word)")
    p.add_argument("--as-at", dest="as_at", default=None,
                   help="the date the figures are as at, YYYY-MM-DD (default: the database's own 'as at' date)")
    p.add_argument("--out", default=".",
                   help="folder to write to (created if missing; default: here), or, for one briefing, a file "
                        "ending .pdf or .docx")
    p.set_defaults(func=handler)


def _target(out: str, n: int, fmt: str | None) -> tuple[Path | None, str]:
    """(the file to write, when --out names one; the format): a file for one briefing, its ending giving the
    format unless --format says otherwise (then they must agree)."""
    from services_db.documents.build import FORMATS, BriefingError

    path = Path(out)
    ending = path.suffix.lower().lstrip(".")
    if ending not in FORMATS:
        return None, fmt or "pdf"
    if n != 1:
        raise BriefingError(f"--out {out!r} names one file, but {n} briefings are asked for: give a folder")
    if fmt and fmt != ending:
        raise BriefingError(f"--out {out!r} ends .{ending} but --format is {fmt}")
    return path, ending


def handler(args: argparse.Namespace) -> int:
    from services_db.documents.build import (
        BriefingError,
        area_names,
        build_briefing,
        build_scenario_briefing,
        gather,
        gather_scenario,
        parse_as_at,
        resolve,
    )
    from services_db.queries import default_as_at

    if not args.scenario and not args.area and not args.all:
        print("error: give --area NAME or --all (or --scenario NAME for a scenario's briefing)", file=sys.stderr)
        return 2
    db = open_database()
    try:
        as_at = parse_as_at(args.as_at) if args.as_at else default_as_at(db)
        t0 = time.perf_counter()
        inputs = gather(db, as_at=as_at)
        names: list[str | None] = list(area_names(inputs.data)) if args.all else [args.area]
        if args.area:
            resolve(inputs.data, args.area)  # fail before creating the folder
        file, fmt = _target(args.out, len(names), args.format)
        scenario = gather_scenario(db, args.scenario, as_at, inputs) if args.scenario else None
        if file is None:
            Path(args.out).mkdir(parents=True, exist_ok=True)
        else:
            file.parent.mkdir(parents=True, exist_ok=True)
        for name in names:
            t = time.perf_counter()
            if scenario is not None:
                built = build_scenario_briefing(db, args.scenario, name, as_at, fmt, inputs=inputs,
                                                scenario_inputs=scenario)
            else:
                built = build_briefing(db, str(name), as_at, fmt, inputs=inputs)
            path = file or Path(args.out) / built.filename
            path.write_bytes(built.content)
            print(f"{path}  ({len(built.content):,} bytes, {time.perf_counter() - t:.2f} s)")
        what = f" of scenario {args.scenario!r} (not actual allocations)" if scenario is not None else ""
        fingerprint = scenario.mark.fingerprint(inputs.fingerprint) if scenario is not None else \
            f"data {inputs.fingerprint}"
        print(f"{len(names)} briefing(s){what} as at {as_at.isoformat()}, fingerprint {fingerprint}, "
              f"{time.perf_counter() - t0:.2f} s")
        return 0
    except BriefingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.valid:
            print(f"valid {exc.what}:", file=sys.stderr)
            for n in exc.valid:
                print(f"  {n}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
