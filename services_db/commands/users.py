"""`python -m services_db user add|list`: local accounts from the command line, as the CLI's own "cli" admin."""

from __future__ import annotations

import argparse
import getpass
import sys

from services_db.auth import AccountError, create_user, list_users
from services_db.db import open_database
from services_db.models import ROLES
from services_db.permissions import Actor


def _cmd_user_add(args: argparse.Namespace) -> int:
    db = open_database()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 2
    else:
        password = None
    try:
        create_user(db, Actor("cli", "admin", "command line"), username=args.username, role=args.role,
                    password=password, display_name=args.name or "", email=args.email)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"created {args.username.strip().lower()} ({args.role})")
    return 0


def _cmd_user_list(args: argparse.Namespace) -> int:
    for u in list_users(open_database()):
        print(f"{u['username']:<24}{u['role']:<14}{'active' if u['active'] else 'inactive':<10}{u['email']}")
    return 0


def add_parsers(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = sub.add_parser("user", help="manage local accounts (administrator)")
    usub = p.add_subparsers(dest="user_command", required=True)
    a = usub.add_parser("add", help="create an account")
    a.add_argument("--username", required=True)
    a.add_argument("--role", required=True, choices=list(ROLES))
    a.add_argument("--name", help="display name")
    a.add_argument("--email", help="e-mail used to match a single sign-on identity")
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    a.set_defaults(func=_cmd_user_add)
    usub.add_parser("list", help="list accounts").set_defaults(func=_cmd_user_list)
