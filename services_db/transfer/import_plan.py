"""An import, read and checked but not yet written: what it would add, change, refuse and skip.

The preview is the plan's counts, notes and refused rows. `apply_plan` writes it in one transaction, with an audit
entry and a data-version bump, and only when nothing was refused and the person's role allows that kind of import;
a plan with nothing to add or change writes nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services_db.audit import record
from services_db.db import Database, bump_data_version
from services_db.permissions import Actor, require
from services_db.validation import ImportRefused, RecordError

# Which permission each import kind needs (see services_db.permissions.ACTIONS).
KIND_ACTION = {
    "services": "import_directory",
    "openreferral": "import_directory",
    "360giving": "import_funding",
    "police-uk": "import",
    "imd": "import",
    "indicators": "import",
    "backup": "restore",
}


@dataclass
class ImportPlan:
    kind: str
    files: list[str]
    rows_read: int = 0
    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    refused: list[RecordError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # preview lines: what an import does beyond its counts
    writer: Callable[[Session, str], None] | None = None  # (session, username)

    @property
    def refused_rows(self) -> int:
        return len({(e.file, e.row) for e in self.refused})

    @property
    def writes_anything(self) -> bool:
        """Whether applying the plan would add or change anything (a re-import of what is there does not)."""
        return any(self.added.values()) or any(self.changed.values())

    def count(self, bucket: str, table: str, n: int = 1) -> None:
        d = getattr(self, bucket)
        d[table] = d.get(table, 0) + n

    def summary_lines(self) -> list[str]:
        lines = [f"{self.kind}: {self.rows_read:,} row(s) read from {', '.join(self.files)}"]
        tables = list(dict.fromkeys([*self.added, *self.changed]))
        for t in tables:
            lines.append(f"  {t}: {self.added.get(t, 0):,} to add, {self.changed.get(t, 0):,} to change")
        for reason, n in self.skipped.items():
            lines.append(f"  skipped {n:,}: {reason}")
        lines.extend(f"  {note}" for note in self.notes)
        lines.append(f"  refused: {self.refused_rows:,} row(s), {len(self.refused):,} problem(s)")
        return lines

    def refused_table(self) -> list[dict]:
        return [{"file": e.file, "row": e.row, "column": e.column or "", "reason": e.message} for e in self.refused]


def apply_plan(db: Database, plan: ImportPlan, actor: Actor | None) -> None:
    """Write the plan in one transaction; refuse (writing nothing) if any row was refused."""
    require(actor, KIND_ACTION[plan.kind], db)  # re-reads the account: a deactivated or demoted one is refused
    if plan.refused:
        raise ImportRefused(plan.refused)
    if plan.writer is None or not plan.writes_anything:
        return  # nothing to add or change: no write, no audit entry, no new data version
    with db.session() as s:
        plan.writer(s, actor.username)
        record(s, actor.username, "import", plan.kind, ", ".join(plan.files)[:120], None,
               {"files": plan.files, "rows_read": plan.rows_read, "added": plan.added, "changed": plan.changed,
                "skipped": plan.skipped})
        bump_data_version(s)
