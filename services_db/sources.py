"""Where a figure came from, in the words a reader knows: the report's title, not the seed file's name.

Every fact row carries `source`: a seed file and section ("001_9943c6bfa26ccb8b.txt §Financial"), an import file
name, or `rule:<name>` for an estimate. People asked where a figure came from want the report ("Lancashire County
Council Cabinet, Early Action Response, 9 January 2014"), so screens and briefings show the title from
`data/demo/sources.csv` and keep the section.
"""

from __future__ import annotations

import csv
import functools
import re

from services_db.db import DATA_DIR

_SEED_FILE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b")


@functools.lru_cache(maxsize=1)
def source_titles() -> dict[str, str]:
    """Seed file name -> the report's title (data/demo/sources.csv); empty when the file is not there."""
    path = DATA_DIR / "demo" / "sources.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {row["file"]: row["title"] for row in csv.DictReader(f) if row.get("file") and row.get("title")}


def readable_source(text: object) -> str:
    """`text` with every seed file name replaced by its report's title (a name it does not know is kept)."""
    if not isinstance(text, str) or not text:
        return "" if text is None else str(text)
    titles = source_titles()
    return _SEED_FILE.sub(lambda m: titles.get(m.group(0), m.group(0)), text)
