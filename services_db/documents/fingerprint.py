"""A short fingerprint of the data a briefing was built from, so a printed snapshot can be traced and reproduced.

The hash is over a canonical form of the review's frames (and the raised-gap log the briefing also shows): columns
in name order; numbers (whatever type the database returned) as float64; text, dates and tuples as canonical text
(tuples sorted and joined); each row hashed (`pandas.util.hash_pandas_object`, vectorised) and the row hashes
sorted. So the fingerprint does not depend on the order a database returns rows in, nor on the process or the
day, and it changes whenever any figure, name, link or date the review reads changes. Row hashing rather than a
text dump keeps it well under a second for the 2 million need values of a national database.
"""

from __future__ import annotations

import decimal
import hashlib
import math
import weakref
from dataclasses import fields

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

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


def _canonical_column(values: pd.Series) -> pd.Series:
    """Numbers as float64; anything else as its canonical text, computed once per distinct value."""
    if ptypes.is_bool_dtype(values) or (ptypes.is_numeric_dtype(values) and not ptypes.is_object_dtype(values)):
        return pd.to_numeric(values, errors="coerce").astype("float64").reset_index(drop=True)
    sample = values.dropna()
    first = sample.iloc[0] if len(sample) else None
    if isinstance(first, int | float | decimal.Decimal | np.number) and not isinstance(first, bool):
        return pd.to_numeric(values, errors="coerce").astype("float64").reset_index(drop=True)
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists): canonicalise each one
        return pd.Series([_cell(v) for v in values.tolist()], dtype=object)
    texts = np.array([_cell(u) for u in uniques] + [""], dtype=object)
    return pd.Series(texts[codes], dtype=object)


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of the canonical frame, sorted: equal content gives equal arrays."""
    cols = sorted(str(c) for c in frame.columns)
    if not len(frame) or not cols:
        return np.zeros(0, dtype=np.uint64)
    canonical = pd.DataFrame({c: _canonical_column(frame[c]) for c in cols})
    return np.sort(pd.util.hash_pandas_object(canonical, index=False).to_numpy(dtype=np.uint64))


def _digest(parts: list[tuple[str, pd.DataFrame]]) -> bytes:
    h = hashlib.sha256()
    for name, frame in parts:
        cols = "\t".join(sorted(str(c) for c in frame.columns))
        h.update(f"{name}\n{cols}\n{len(frame)}\n".encode())
        h.update(row_hashes(frame).tobytes())
    return h.digest()


_MEMO: dict[int, tuple[weakref.ref, bytes]] = {}


def data_digest(data: ReviewData) -> bytes:
    """The digest of the review frames, once per `ReviewData` object (the query layer hands out one object per
    data version and never changes it), so building nine briefings hashes the data once."""
    hit = _MEMO.get(id(data))
    if hit is not None and hit[0]() is data:
        return hit[1]
    digest = _digest([(f.name, getattr(data, f.name)) for f in fields(data)])
    for stale in [k for k, (ref, _) in _MEMO.items() if ref() is None]:
        del _MEMO[stale]
    _MEMO[id(data)] = (weakref.ref(data), digest)
    return digest


def fingerprint(data: ReviewData, extra: dict[str, pd.DataFrame] | None = None, short: bool = True) -> str:
    """sha256 over every frame of `data` (and `extra` frames, e.g. raised gaps), hex; 12 digits when `short`."""
    h = hashlib.sha256(data_digest(data))
    h.update(_digest(sorted((extra or {}).items())))
    digest = h.hexdigest()
    return digest[:SHORT] if short else digest
