"""`python -m services_db import KIND FILE… [--dry-run]` and `python -m services_db export KIND --out FILE`.

Both honour DATABASE_URL. An import prints its preview (counts and every refused row); without --dry-run it then
applies it in one transaction, as the administrator account named by --user (default: the CLI's own "cli" admin).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services_db.db import open_database
from services_db.permissions import Actor
from services_db.transfer.files import FileProblem, read_bytes
from services_db.transfer.import_plan import KIND_ACTION
from services_db.validation import ImportRefused

EXPORTS = ("openreferral", "360giving", "360giving-xlsx", "backup")


def _cmd_import(args: argparse.Namespace) -> int:
    from services_db.transfer.imports import apply_plan, plan_import

    db = open_database()
    try:
        files = [(Path(f).name, read_bytes(f)) for f in args.files]
        plan = plan_import(db, args.kind, files)
    except FileProblem as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    for line in plan.summary_lines():
        print(line)
    for e in plan.refused:
        print(f"  refused: {e}")
    if args.dry_run:
        print("dry run: nothing was written")
        return 1 if plan.refused else 0
    if plan.refused:
        raise ImportRefused(plan.refused)
    if not plan.writes_anything:
        print("nothing to change: the database already holds this; nothing written")
        return 0
    apply_plan(db, plan, Actor(args.user, "admin", "command line"))
    print("applied in one transaction")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from services_db.transfer import backup, giving, openreferral
    from services_db.transfer.spreadsheet import to_excel_bytes

    db = open_database()
    out = Path(args.out)
    if args.kind == "openreferral":
        doc = openreferral.export_services(db)
        out.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
        n = doc["total_items"]
    elif args.kind == "360giving":
        doc = giving.package(db)
        out.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
        n = len(doc["grants"])
    elif args.kind == "360giving-xlsx":
        frame = giving.flat_frame(giving.grants(db))
        out.write_bytes(to_excel_bytes(frame, "grants"))
        n = len(frame)
    else:
        out.write_bytes(backup.backup_bytes(db, Actor(args.user, "admin", "command line")))
        n = 1
    print(f"wrote {out} ({n:,} record(s), {out.stat().st_size:,} bytes)")
    return 0


def add_parsers(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("import", help="import a file: preview, then apply in one transaction")
    p.add_argument("kind", choices=list(KIND_ACTION))
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--dry-run", action="store_true", help="print the preview and refused rows; write nothing")
    p.add_argument("--user", default="cli", help="name recorded in the audit log (default: cli)")
    p.set_defaults(func=_cmd_import)
    p = sub.add_parser("export", help="export the directory, allocations or a backup")
    p.add_argument("kind", choices=EXPORTS)
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--user", default="cli", help="name recorded in the audit log (default: cli)")
    p.set_defaults(func=_cmd_export)
