"""The findings record: the full findings of every place-based area and the force at the seed reports' dates.

`tests/golden/` holds them as JSON, committed, so that any change to a finding (a figure, a sentence, the order)
shows up in review as a diff a person reads, not only as a failing assertion. After a deliberate change,
regenerate them with one command and read the diff before committing:

    .venv/bin/python -m services_db review --write-golden tests/golden
"""

from __future__ import annotations

import re
from pathlib import Path

from services_db.review.data import ReviewData
from services_db.review.findings import area_names, review_area, review_force

# The dates of the two seed reports whose figures the demo holds: the Police and Crime Panel update (seed 002) and
# the Early Action progress report (seed 000).
DATES = ("2014-01-27", "2016-07-21")


def slug(name: str) -> str:
    """A file name for an area: "Burnley & Pendle" -> "burnley-pendle"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def golden_files(data: ReviewData) -> dict[str, str]:
    """{relative path: findings JSON} for the force and every place-based area at each of `DATES`."""
    areas = [n for n in area_names(data) if _level(data, n) == "area"]
    out: dict[str, str] = {}
    for day in DATES:
        out[f"{day}/force.json"] = review_force(data, day).to_json() + "\n"
        for name in areas:
            out[f"{day}/{slug(name)}.json"] = review_area(data, name, day).to_json() + "\n"
    return out


def _level(data: ReviewData, name: str) -> str:
    areas = data.areas
    return str(areas.loc[areas["name"] == name, "level"].iloc[0])


def write_golden(data: ReviewData, folder: Path) -> list[Path]:
    """Write every golden file under `folder` (removing stale ones) and return the paths written."""
    folder = Path(folder)
    files = golden_files(data)
    for old in folder.glob("*/*.json"):
        if str(old.relative_to(folder)) not in files:
            old.unlink()
    written = []
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
