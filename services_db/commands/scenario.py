"""`python -m services_db scenario list|show|review NAME [--format json]`: what-if scenarios from the command line.

`review` prints, for the force, what the scenario's changes do beside the actual data: gaps opened, closed or
moved, duplication groups formed or dissolved, each fund's and theme's inequity, and money at risk, then the
findings that come and go. Nothing is written; the actual records are never changed by a scenario.
"""

from __future__ import annotations

import argparse
import json
import sys

from services_db.commands.grouping import listing_group
from services_db.commands.review import _date
from services_db.db import open_database
from services_db.groupings import snapshot_at
from services_db.scenarios.effects import review_scenario
from services_db.scenarios.store import get_scenario, list_scenarios


def add_parsers(subparsers) -> None:  # noqa: ANN001
    sub = listing_group(subparsers, "scenario", "what-if scenarios: list, show, review beside the actual data",
                        __doc__, ("every scenario, most recently changed first", _list))
    show = sub.add_parser("show", help="a scenario's changes")
    show.add_argument("name")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.set_defaults(func=_show)
    rev = sub.add_parser("review", help="the force review with the scenario's changes beside the actual one")
    rev.add_argument("name")
    rev.add_argument("--format", choices=("text", "json"), default="text")
    rev.add_argument("--as-at", dest="as_at", type=_date, help="review date YYYY-MM-DD (default: the data's own)")
    rev.set_defaults(func=_review)


def _list(args: argparse.Namespace) -> int:
    for s in list_scenarios(open_database()):
        print(f"{s.name}\t{len(s.changes)} change(s)\tby {s.updated_by} on {s.updated_at:%-d %B %Y %H:%M}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from services_db import queries

    db = open_database()
    s = get_scenario(db, args.name)
    if args.format == "json":
        json.dump({"name": s.name, "description": s.description, "base_version": s.base_version,
                   "created_by": s.created_by, "created_at": s.created_at.isoformat(),
                   "changes": [c.to_dict() for c in s.changes]}, sys.stdout, indent=2, default=str)
        print()
        return 0
    data = queries.review_data(db)
    print(f"Scenario: {s.name} (not actual allocations; made by {s.created_by} on {s.created_at:%-d %B %Y})")
    for c in s.changes:
        print(f"- {c.describe(data)}")
    return 0


def _review(args: argparse.Namespace) -> int:
    from services_db import queries

    db = open_database()
    s = get_scenario(db, args.name)
    when = args.as_at or queries.default_as_at(db)
    r = review_scenario(snapshot_at(db, when), s.changes, when)
    if args.format == "json":
        out = {"scenario": s.name, "changes": r.changes,
               **{k: json.loads(getattr(r, k).to_json(orient="records", date_format="iso"))
                  for k in ("gaps", "duplication", "inequity", "cliffs")},
               "changed_findings": [{"actual": a, "scenario": b} for a, b in r.changed],
               "new_findings": r.new_sentences, "gone_findings": r.gone_sentences}
        json.dump(out, sys.stdout, indent=2, default=str)
        print()
        return 0
    print(f"Scenario: {s.name} — not actual allocations")
    for c in r.changes:
        print(f"  change: {c}")
    for row in r.gaps.itertuples():
        print(f"  gap {row.change}: {row.area_name}, {row.theme_name}: money to parity "
              f"£{row.money_to_parity_before:,.0f} -> £{row.money_to_parity_after:,.0f}")
    for row in r.duplication.itertuples():
        print(f"  duplication group {row.change}: {row.services}")
    for row in r.inequity.itertuples():
        print(f"  inequity {row.label}: Gini {row.gini_before:.2f} -> {row.gini_after:.2f}, ratio "
              f"{row.ratio_before:.1f} -> {row.ratio_after:.1f}, areas with nothing {row.nothing_before:.0f} -> "
              f"{row.nothing_after:.0f}")
    for row in r.cliffs.itertuples():
        print(f"  money at risk in {row.area_name}: £{row.at_risk_before:,.0f} -> £{row.at_risk_after:,.0f}")
    for was, now in r.changed:
        print(f"  was: {was}\n  now: {now}")
    for line in r.gone_sentences:
        print(f"  - {line}")
    for line in r.new_sentences:
        print(f"  + {line}")
    return 0
