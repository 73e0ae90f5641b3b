"""One entry point for every import, used by the Data page and the command line alike.

`plan_import` reads and checks files (name and bytes) and returns an ImportPlan to preview; `apply_plan` (from
services_db.transfer.import_plan) writes it. A file that is not what it claims raises FileProblem with a plain message.
"""

from __future__ import annotations

from collections.abc import Callable

from services_db.db import Database
from services_db.transfer import backup, giving_import, import_need, import_templates, openreferral
from services_db.transfer.files import FileProblem, read_json, read_tables
from services_db.transfer.import_plan import KIND_ACTION, ImportPlan, apply_plan

KINDS = tuple(KIND_ACTION)
Progress = Callable[[float, str], None] | None

__all__ = ["KINDS", "FileProblem", "ImportPlan", "apply_plan", "plan_import"]


def plan_import(db: Database, kind: str, files: list[tuple[str, bytes]], progress: Progress = None) -> ImportPlan:
    if kind not in KIND_ACTION:
        raise ValueError(f"unknown import kind '{kind}' (one of {', '.join(KINDS)})")
    if not files:
        raise FileProblem("no file given")
    names = [n for n, _ in files]
    with db.sessions() as s:
        if kind == "backup":
            if len(files) != 1:
                raise FileProblem("restore takes exactly one backup file")
            return backup.plan_restore(s, names[0], backup.read_backup(*files[0]))
        if kind in ("openreferral", "360giving"):
            docs = [(n, read_json(n, data)) for n, data in files]
            if kind == "openreferral":
                return openreferral.plan_openreferral(s, docs, names)
            return giving_import.plan_360giving(s, docs, names)
        tables = []
        for i, (n, data) in enumerate(files):
            if progress:
                progress(i / len(files) * 0.3, f"reading {n}")
            tables.extend(read_tables(n, data))
        if kind == "services":
            return import_templates.plan_directory(s, tables, names)
        planner = {"police-uk": import_need.plan_police_uk, "imd": import_need.plan_imd,
                   "indicators": import_need.plan_indicators}[kind]
        return planner(s, tables, names, progress)
