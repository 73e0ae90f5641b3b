"""A short fingerprint of the data a briefing was built from, so a printed snapshot can be traced and reproduced.

The hash is over a canonical text form of the review's frames (and the raised-gap log the briefing also shows):
columns in a fixed order, rows sorted, floats written with `repr`, dates as ISO text, tuples sorted and joined.
So the fingerprint does not depend on the order a database returns rows in, nor on the process or the day, and
it changes whenever any figure, name, link or date the review reads changes.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import fields

import numpy as np
import pandas as pd

from services_db.review.data import ReviewData

SHORT = 12  # hex digits shown on the document: 48 bits, plenty to tell snapshots apart


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple | list | set | frozenset | np.ndarray):
        return ";".join(sorted(_cell(v) for v in value))
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        return repr(float(value)) if value != int(value) or abs(value) >= 1e15 else str(int(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.isoformat()
    if value is pd.NaT:
        return ""
    try:
        if pd.isna(value):  # type: ignore[arg-type]
            return ""
    except (TypeError, ValueError):
        pass
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def canonical_frame(frame: pd.DataFrame) -> str:
    """A frame as tab-separated text with sorted columns and rows: equal content gives equal text."""
    cols = sorted(str(c) for c in frame.columns)
    lines = sorted("\t".join(_cell(v) for v in row) for row in frame[cols].itertuples(index=False, name=None))
    return "\t".join(cols) + "\n" + "\n".join(lines)


def fingerprint(data: ReviewData, extra: dict[str, pd.DataFrame] | None = None, short: bool = True) -> str:
    """sha256 over every frame of `data` (and `extra` frames, e.g. raised gaps), hex; 12 digits when `short`."""
    h = hashlib.sha256()
    parts = [(f.name, getattr(data, f.name)) for f in fields(data)]
    parts += sorted((extra or {}).items())
    for name, frame in parts:
        body = canonical_frame(frame).encode()
        h.update(f"{name}\n{len(body)}\n".encode())
        h.update(body)
    digest = h.hexdigest()
    return digest[:SHORT] if short else digest
