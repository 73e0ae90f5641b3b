"""A short fingerprint of the data a briefing was built from, so a printed snapshot can be traced and reproduced.

The hash is over a canonical form of the review's frames (and the raised-gap log the briefing also shows): columns
in name order; numbers (whatever type the database returned) as float64; text, dates and tuples as canonical text
(tuples sorted and joined), then replaced by its rank among the column's sorted distinct texts, which are hashed
once; each row hashed (`pandas.util.hash_pandas_object`, vectorised) and the row hashes sorted. So the fingerprint does not depend on the order a database returns rows in, nor on the process or the
day, and it changes whenever any figure, name, link or date the review reads changes. Row hashing rather than a
text dump keeps it well under a second for the 2 million need values of a national database.
"""

from __future__ import annotations

import decimal
import hashlib
import math
import threading
import weakref
from dataclasses import fields

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from services_db.review.data import ReviewData

SHORT = 12  # hex digits shown on the document: 48 bits, plenty to tell snapshots apart


def _text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return value


def _cell(value: object) -> str:
    if type(value) is str:  # by far the commonest cell: no isinstance chain
        return _text(value)
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
    return _text(str(value))


def _canonical_column(values: pd.Series) -> tuple[pd.Series, list[str] | None]:
    """Numbers as float64; anything else as the rank of its canonical text among the column's distinct texts,
    with those texts (sorted) returned to be hashed once. Hashing small integers instead of millions of Python
    strings is what keeps a national database's fingerprint fast; ranks of sorted texts do not depend on row
    order, and any changed text changes the list of texts."""
    if ptypes.is_bool_dtype(values) or (ptypes.is_numeric_dtype(values) and not ptypes.is_object_dtype(values)):
        return pd.to_numeric(values, errors="coerce").astype("float64").reset_index(drop=True), None
    sample = values.dropna()
    first = sample.iloc[0] if len(sample) else None
    if isinstance(first, int | float | decimal.Decimal | np.number) and not isinstance(first, bool):
        return pd.to_numeric(values, errors="coerce").astype("float64").reset_index(drop=True), None
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        texts = [_cell(u) for u in uniques.tolist()] + [""]
    except TypeError:  # unhashable cells (lists): canonicalise each one, then factorize the texts
        codes, uniques = pd.factorize(pd.Series([_cell(v) for v in values.tolist()], dtype=object))
        texts = [str(u) for u in uniques] + [""]
    distinct = sorted(set(texts))
    rank = {t: i for i, t in enumerate(distinct)}
    ranks = np.array([rank[t] for t in texts], dtype=np.int64)
    return pd.Series(ranks[codes], dtype=np.int64), distinct


def row_hashes(frame: pd.DataFrame) -> tuple[np.ndarray, bytes]:
    """One 64-bit hash per row of the canonical frame, sorted, and a digest of each text column's distinct texts:
    equal content gives equal results."""
    cols = sorted(str(c) for c in frame.columns)
    if not len(frame) or not cols:
        return np.zeros(0, dtype=np.uint64), b""
    canonical, vocab = {}, hashlib.sha256()
    for c in cols:
        canonical[c], distinct = _canonical_column(frame[c])
        if distinct is not None:
            vocab.update(f"{c}\n".encode())
            vocab.update("\n".join(distinct).encode("utf-8", "surrogatepass"))
            vocab.update(b"\x00")
    hashes = pd.util.hash_pandas_object(pd.DataFrame(canonical), index=False).to_numpy(dtype=np.uint64)
    return np.sort(hashes), vocab.digest()


def _digest(parts: list[tuple[str, pd.DataFrame]]) -> bytes:
    h = hashlib.sha256()
    for name, frame in parts:
        cols = "\t".join(sorted(str(c) for c in frame.columns))
        h.update(f"{name}\n{cols}\n{len(frame)}\n".encode())
        hashes, vocab = row_hashes(frame)
        h.update(vocab)
        h.update(hashes.tobytes())
    return h.digest()


# The digest of each snapshot's frames, held for as long as the snapshot itself lives (a weak reference to the
# snapshot object, never its id(): an id is reused once an object is gone). Not keyed on `Snapshot.version`: one
# data version has several snapshots (one force's and all forces', `services_db.queries.review_data`), and a
# hand-built or `dataclasses.replace`d snapshot has the version "" whatever its frames hold.
_DIGESTS: weakref.WeakKeyDictionary[ReviewData, bytes] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def data_digest(data: ReviewData) -> bytes:
    """The digest of the review frames, once per snapshot (the query layer hands out one snapshot per data version
    and scope, and a snapshot never changes), so building nine briefings hashes the data once."""
    with _LOCK:
        digest = _DIGESTS.get(data)
    if digest is None:
        digest = _digest([(f.name, getattr(data, f.name)) for f in fields(data)])
        with _LOCK:
            _DIGESTS[data] = digest
    return digest


def fingerprint(data: ReviewData, extra: dict[str, pd.DataFrame] | None = None, short: bool = True) -> str:
    """sha256 over every frame of `data` (and `extra` frames, e.g. raised gaps), hex; 12 digits when `short`."""
    h = hashlib.sha256(data_digest(data))
    h.update(_digest(sorted((extra or {}).items())))
    digest = h.hexdigest()
    return digest[:SHORT] if short else digest
