"""The review's input: a `services_db.snapshot.Snapshot` (the column contract is documented there).

`ReviewData` is the review's name for a `Snapshot`: the same class, kept so existing imports work.
"""

from __future__ import annotations

from services_db.snapshot import COLUMNS, LEVELS, OPTIONAL, Snapshot, empty_frame

ReviewData = Snapshot

__all__ = ["COLUMNS", "LEVELS", "OPTIONAL", "ReviewData", "Snapshot", "empty_frame"]
