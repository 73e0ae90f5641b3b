"""`python -m services_db review`: an area's (or the force's) findings as sentences, CSV or JSON.

`run_review(args, data)` is given the `ReviewData`, so it can be tested with hand-built frames and reused by a
scheduled job; `add_parsers` wires a loader (default: the database named by DATABASE_URL).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from services_db.db import open_database
from services_db.review.data import ReviewData
from services_db.review.findings import Findings, UnknownArea, review_area, review_force


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _load_from_database(args: argparse.Namespace) -> ReviewData:
    """Default loader: the database named by DATABASE_URL, read through the query API; its own "as at" date."""
    from services_db import queries
    from services_db.groupings import snapshot_at

    db = open_database()
    if db.is_empty():
        raise ValueError(f"{db.url} holds no data: load the demo with `python -m services_db init`, or import some")
    args.default_as_at = queries.default_as_at(db)
    return snapshot_at(db, args.as_at or args.default_as_at)  # with the place-based areas in force that day


def add_parsers(subparsers, *, load: Callable[[argparse.Namespace], ReviewData] | None = None):  # noqa: ANN001
    """Add the `review` sub-command; `load(args)` supplies the data (default: the database)."""
    p = subparsers.add_parser(
        "review", help="gaps, duplication and inequity for an area (or the whole force)",
        description="Print the review's findings for a place-based area or district, or the whole force.")
    p.add_argument("--area", help='area or district name or code, e.g. "Burnley & Pendle" (default: whole force)')
    p.add_argument("--format", choices=("text", "csv", "json"), default="text",
                   help="text: the findings as sentences; csv/json: the findings table")
    p.add_argument("--as-at", dest="as_at", type=_date, help="review date YYYY-MM-DD (default: the data's own)")
    p.add_argument("--write-golden", dest="write_golden", metavar="DIR",
                   help="write the findings record (every area and the force at the seed dates, from a freshly "
                        "loaded demo database) as JSON under DIR, e.g. tests/golden, and exit")
    loader = load or _load_from_database
    p.set_defaults(func=lambda args: _write_golden(args.write_golden) if args.write_golden
                   else run_review(args, loader(args)))
    return p


def _write_golden(folder: str) -> int:
    """The findings record from the demo data alone (a fresh temporary database, whatever DATABASE_URL holds)."""
    from services_db.demo import load_demo
    from services_db.queries import review_data
    from services_db.review.golden import write_golden

    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'demo.db'}")
        try:
            load_demo(db)
            written = write_golden(review_data(db), Path(folder))
        finally:
            db.dispose()
    print(f"wrote {len(written)} findings files under {folder}")
    return 0


def run_review(args: argparse.Namespace, data: ReviewData, *, out: TextIO | None = None,
               err: TextIO | None = None) -> int:
    """Print the findings; 2 (and the valid names on stderr) for an unknown area, else 0."""
    out = out or sys.stdout
    err = err or sys.stderr
    as_at = getattr(args, "as_at", None) or getattr(args, "default_as_at", None) or dt.date.today()
    area = getattr(args, "area", None)
    try:
        findings = review_area(data, area, as_at) if area else review_force(data, as_at)
    except UnknownArea as exc:
        print(f"unknown area {exc.given!r}. Valid names:", file=err)
        for name in exc.valid:
            print(f"  {name}", file=err)
        return 2
    fmt = getattr(args, "format", "text") or "text"
    if fmt == "csv":
        findings.table().to_csv(out, index=False)
    elif fmt == "json":
        print(findings.to_json(), file=out)
    else:
        print(render_text(findings), file=out)
    return 0


def render_text(findings: Findings) -> str:
    """The findings as numbered sentences under a heading that states the date and the thresholds."""
    p = findings.params
    lines = [
        f"Review of {findings.scope_name} as at {findings.as_at.date().isoformat()}: "
        f"{len(findings)} finding{'s' if len(findings) != 1 else ''}",
        f"(gap: need share >= {p['need_ratio']:g} x population share and gap index >= {p['min_gap_index']:g}, "
        f"or need with no provision; duplication: overlap >= {p['min_overlap']:.0%}; "
        f"cliffs: within {p['cliff_months']} months)",
        "",
    ]
    if not findings.findings:
        lines.append("No findings.")
    for i, f in enumerate(findings.findings, start=1):
        lines += _finding_lines(i, f)
    if findings.across:
        lines += ["", f"Across the force (reported once for the force; bearing on {findings.scope_name}):", ""]
        for i, f in enumerate(findings.across, start=1):
            lines += _finding_lines(i, f)
    return "\n".join(lines)


def _finding_lines(i: int, f) -> list[str]:
    """A numbered finding and, under it, the question for partners it ends in (review.md v2)."""
    mark = " (estimate)" if f.is_estimate else ""
    out = [f"{i:>3}. {f.sentence}{mark}"]
    if f.question:
        out.append(f"     Question: {f.question}")
    return out
