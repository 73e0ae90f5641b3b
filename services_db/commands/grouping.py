"""`python -m services_db grouping list|show [--as-at DATE] [--format json]`: the force's place-based areas.

`list` prints every grouping with the date it applies from (the grouping files' first, from the beginning); `show`
prints the grouping in force on a date (default: the data's own "as at" date), one area a line with its division,
districts and LSOAs. Read only: groupings are made and saved by an administrator in the app (Place-based areas).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from services_db.commands.review import _date
from services_db.db import open_database
from services_db.groupings import grouping_at, grouping_view, list_groupings


def listing_group(subparsers, name: str, help_text: str, description: str | None,  # noqa: ANN001
                  listing: tuple[str, Callable[[argparse.Namespace], int]]) -> argparse._SubParsersAction:
    """A command `name` whose sub-commands start with `list` (its help, its function); the caller adds the rest.
    The read-only groups (`grouping`, `scenario`) are laid out alike, so they are made alike."""
    p = subparsers.add_parser(name, help=help_text, description=description)
    sub = p.add_subparsers(dest=f"{name}_command", required=True)
    sub.add_parser("list", help=listing[0]).set_defaults(func=listing[1])
    return sub


def add_parsers(subparsers) -> None:  # noqa: ANN001
    sub = listing_group(subparsers, "grouping", "the force's place-based areas: list, show the one in force",
                        __doc__, ("every grouping and the date it applies from", _list))
    show = sub.add_parser("show", help="the grouping in force on a date")
    show.add_argument("--as-at", dest="as_at", type=_date, help="date YYYY-MM-DD (default: the data's own)")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.set_defaults(func=_show)


def _list(args: argparse.Namespace) -> int:
    for g in list_groupings(open_database()):
        made = f"\tby {g.created_by} on {g.created_at:%-d %B %Y}" if g.created_at else ""
        print(f"{g.name}\tfrom {g.applies_from_text}\t{len(g.areas)} areas{made}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from services_db import queries

    db = open_database()
    when = args.as_at or queries.default_as_at(db)
    g = grouping_at(db, when)
    table = grouping_view(db, g).areas
    if args.format == "json":
        json.dump({"name": g.name, "force_code": g.force_code, "applies_from": g.applies_from, "as_at": when,
                   "areas": [{"code": a.code, "name": a.name, "division_code": a.division_code,
                              "districts": list(a.districts), "lsoas": list(a.lsoas)} for a in g.areas]},
                  sys.stdout, indent=2, default=str)
        print()
        return 0
    print(f"{g.name} (applies from {g.applies_from_text}; in force on {when:%-d %B %Y})")
    for row in table.itertuples(index=False):
        print(f"{row.Code}\t{row.Area}\t{row.Division}\t{row.LSOAs} LSOAs\t{row.Districts}")
    return 0
