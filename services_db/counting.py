"""What counts at a date: the one "current at D" rule and the one money rule (review.md v2, "What counts").

Every view, count, list, table, sentence and briefing asks these functions, never its own copy, so that moving
the "as at" date past a service's end removes it from everything at once, and a pound is money in one place
only. They work on plain arrays or Series so the review (NumPy), the pages' lists (pandas) and a single record
(an ORM row, via `service_state_of`) all share them.

Services
    Current at D when its status is not ended, withdrawn or planned, its start <= D, and its end is missing or
    >= D. A missing start counts from the date the record first became known (`known_from`, e.g. its source
    report's date), never from the beginning of time. (Every record in the database has a known-from date, set
    when it is created or imported; only a hand-built frame can lack both, and such a row is open at the start.)
    "Planned" services are shown as planned, never as current.
Funding lines
    Count at D when D falls in their period (an open side is open).
Allocations
    Money only when awarded or paid. An application ("applied") is pipeline; "withdrawn" is nothing. A fund
    whose period starts after D is future money; one whose period (or the allocation's own planned period) ended
    before D is past money: history, not money reaching areas at D.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

SERVICE_STATUSES = ("active", "planned", "ended", "withdrawn")
NOT_CURRENT_STATUSES = frozenset({"ended", "withdrawn", "planned"})
ALLOCATION_STATUSES = ("applied", "awarded", "paid", "withdrawn")
MONEY_STATUSES = frozenset({"awarded", "paid"})

# What a service is at a date, as the pages and briefings label it.
CURRENT, PLANNED, NOT_STARTED, ENDED, WITHDRAWN = "current", "planned", "not yet started", "ended", "withdrawn"


def _stamp(as_at: object) -> np.datetime64:
    stamp = pd.Timestamp(dt.date.today() if as_at is None else as_at)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return np.datetime64(stamp.normalize().to_datetime64(), "ns")


def _dates(values: object, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":  # already dates: no pandas round trip
        return values.astype("datetime64[ns]")
    series = values if isinstance(values, pd.Series) else pd.Series(list(values) if not np.isscalar(values)
                                                                        else [values] * n)
    if not pd.api.types.is_datetime64_any_dtype(series):
        series = pd.to_datetime(series, errors="coerce")
    return series.to_numpy(dtype="datetime64[ns]")


def _status(v: object, default: str) -> str:
    return str(v).strip().lower() if isinstance(v, str) and v.strip() else default


def _status_codes(values: object, n: int, default: str) -> tuple[np.ndarray, np.ndarray]:
    """(code of each row, the statuses they stand for): each status trimmed and lower-cased (`default` where
    missing or blank), each distinct value read once (a national table has a hundred thousand rows and a handful
    of statuses)."""
    if values is None:
        return np.zeros(n, dtype=np.int64), np.array([default], dtype=object)
    if not isinstance(values, pd.Series | np.ndarray):
        values = list(values)
        values = np.fromiter(values, dtype=object, count=len(values))
    codes, distinct = pd.factorize(values)  # a missing value (never a str) -> -1, the last entry
    table = np.array([*(_status(v, default) for v in np.asarray(distinct, dtype=object).tolist()), default],
                     dtype=object)
    return np.asarray(codes, dtype=np.int64), table


def _statuses(values: object, n: int, default: str) -> np.ndarray:
    """Each status trimmed and lower-cased (`default` where missing or blank)."""
    codes, table = _status_codes(values, n, default)
    return table[codes]


def _status_in(values: object, n: int, default: str, wanted: frozenset[str]) -> np.ndarray:
    """Whether each status (as `_statuses` reads it) is one of `wanted`: asked once per distinct status."""
    codes, table = _status_codes(values, n, default)
    return np.array([t in wanted for t in table.tolist()], dtype=bool)[codes]


def _length(*columns: object) -> int:
    for c in columns:
        if c is not None and not np.isscalar(c):
            return len(c)
    return 1


def service_effective_start(start: object, known_from: object) -> np.ndarray:
    """The start a service counts from: its own start, else the date the record first became known (NaT if none)."""
    n = _length(start, known_from)
    s, k = _dates(start, n), _dates(known_from, n)
    return np.where(np.isnat(s), k, s)


def services_current(status: object, start: object, end: object, as_at: object,
                     known_from: object = None) -> np.ndarray:
    """Whether each service is current at `as_at` (see the module docstring). Arrays or Series, row for row."""
    n = _length(status, start, end, known_from)
    when = _stamp(as_at)
    live = ~_status_in(status, n, "active", NOT_CURRENT_STATUSES)
    begins = service_effective_start(start, known_from)
    ends = _dates(end, n)
    return live & (np.isnat(begins) | (begins <= when)) & (np.isnat(ends) | (ends >= when))


def service_states(status: object, start: object, end: object, as_at: object, known_from: object = None) -> np.ndarray:
    """What each service is at `as_at`: current, planned, not yet started, ended or withdrawn."""
    n = _length(status, start, end, known_from)
    when = _stamp(as_at)
    state = _statuses(status, n, "active")
    begins = service_effective_start(start, known_from)
    ends = _dates(end, n)
    current = services_current(status, start, end, as_at, known_from)
    out = np.full(n, CURRENT, dtype=object)
    out[~current & ~np.isnat(begins) & (begins > when)] = NOT_STARTED
    out[~current & ~np.isnat(ends) & (ends < when)] = ENDED
    out[state == "planned"] = PLANNED
    out[state == "ended"] = ENDED
    out[state == "withdrawn"] = WITHDRAWN
    return out


def period_contains(start: object, end: object, as_at: object) -> np.ndarray:
    """Whether each [start, end] contains `as_at` (NaT leaves that side open): funding lines, plans, funds."""
    n = _length(start, end)
    when = _stamp(as_at)
    s, e = _dates(start, n), _dates(end, n)
    return (np.isnat(s) | (s <= when)) & (np.isnat(e) | (e >= when))


def allocations_are_money(status: object) -> np.ndarray:
    """Whether each allocation is money (awarded or paid); a missing status means awarded (older records)."""
    n = _length(status)
    return _status_in(status, n, "awarded", MONEY_STATUSES)


def allocation_tree_is_money(allocation_id: object, parent_id: object, status: object) -> np.ndarray:
    """Whether each allocation is money counting its tree: it and every allocation above it are awarded or paid.

    A breakdown line is part of its parent's money, so a line under an application (or a withdrawn award) is not
    money either, whatever its own status says. A parent that is not among the rows counts as absent.
    """
    own = allocations_are_money(status)
    ids = pd.to_numeric(pd.Series(list(allocation_id) if not isinstance(allocation_id, pd.Series)
                                  else allocation_id), errors="coerce").to_numpy(dtype=float)
    parents = pd.to_numeric(pd.Series(list(parent_id) if not isinstance(parent_id, pd.Series) else parent_id),
                            errors="coerce").to_numpy(dtype=float)
    up = _parent_rows(ids, parents)
    out = own.copy()
    cur = up.copy()
    for _ in range(32):  # deeper trees (or cycles) stop here
        live = cur >= 0
        if not live.any():
            break
        out[live] &= own[cur[live]]
        cur = np.where(live, up[np.maximum(cur, 0)], -1)
    return out


def _parent_rows(ids: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """The row of each parent id among `ids` (-1 for a missing parent or one not among them); of rows with the same
    id, the last. One sort of the ids, not a dictionary of them."""
    valid = np.flatnonzero(~np.isnan(ids))
    order = valid[np.argsort(ids[valid], kind="stable")]  # equal ids in row order: the last row of each run wins
    keys = ids[order]
    last = np.r_[keys[1:] != keys[:-1], True] if len(keys) else np.empty(0, dtype=bool)
    keys, rows = keys[last], order[last]
    if not len(keys):
        return np.full(len(parents), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, parents), len(keys) - 1)
    return np.where(keys[pos] == parents, rows[pos], -1).astype(np.int64)  # NaN equals nothing


def fund_is_future(start: object, as_at: object) -> np.ndarray:
    """Whether each fund's period starts after `as_at`: future money, not money received."""
    n = _length(start)
    s = _dates(start, n)
    return ~np.isnat(s) & (s > _stamp(as_at))


def fund_is_past(end: object, as_at: object) -> np.ndarray:
    """Whether each fund's (or allocation's) period ended before `as_at`: past money, not money reaching areas now."""
    n = _length(end)
    e = _dates(end, n)
    return ~np.isnat(e) & (e < _stamp(as_at))
