"""The review's working state: the data as arrays (once per `ReviewData`) and what depends on the date.

A whole-force review asks for coverage, current funding and apportionment several times (gaps, duplication,
cliffs, plans). Pandas calls cost a few hundred microseconds each, so the frames are turned once into NumPy
arrays and integer positions (`Prepared`, kept on the snapshot as `data.prepared`: `services_db.queries.review_data`
hands out the same snapshot until the data change), and every measure then works with `searchsorted`, `bincount`
and fancy indexing. `Context` adds the "as at" date: which services and funding lines are current, each
service's annual funding and its apportionment to LSOAs, computed once and shared by every measure.
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from services_db.counting import services_current
from services_db.review.data import ReviewData
from services_db.review.dates import DateLike, as_datetimes, as_timestamp
from services_db.review.geography import Geography, geography_of, group_blocks


def tuples(values: pd.Series | list) -> list[tuple]:
    """A column of tuples (or lists, or a `;`-separated string, or missing) as a list of tuples of str."""
    out: list[tuple] = []
    for v in values.tolist() if isinstance(values, pd.Series) else values:
        if type(v) is tuple and all(type(x) is str for x in v):  # what review_data gives: kept as it is
            out.append(v)
        elif isinstance(v, tuple | list | np.ndarray | set | frozenset):
            out.append(tuple(str(x) for x in v if x is not None and x == x))
        elif isinstance(v, str) and v.strip():
            out.append(tuple(p.strip() for p in v.split(";") if p.strip()))
        else:
            out.append(())
    return out


def ids(values: pd.Series) -> np.ndarray:
    """An id column as int64 (-1 where missing), whatever numeric dtype the database layer gave it."""
    return pd.to_numeric(values, errors="coerce").fillna(-1).to_numpy(dtype=np.int64)


def dates(values: pd.Series) -> np.ndarray:
    """A date column as datetime64[ns] (NaT where missing)."""
    return as_datetimes(values).to_numpy(dtype="datetime64[ns]")


def texts(values: pd.Series, default: str = "") -> np.ndarray:
    """A text column as an object array of str (missing -> default)."""
    return np.array([v if isinstance(v, str) else default for v in values.tolist()], dtype=object)


def objects(values) -> np.ndarray:
    """An object array holding each value whole (NumPy would otherwise unpack a list of tuples into 2-D)."""
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return arr


def flags(values: pd.Series) -> np.ndarray:
    return np.array([bool(v) if v is not None and v == v else False for v in values.tolist()], dtype=bool)


def contains(start: np.ndarray, end: np.ndarray, when: np.datetime64) -> np.ndarray:
    """Whether each [start, end] contains `when`; NaT leaves that side open."""
    return (np.isnat(start) | (start <= when)) & (np.isnat(end) | (end >= when))


def lookup(vocabulary: dict[str, int], values) -> np.ndarray:
    """Positions of values in a {value: position} dict (-1 when absent)."""
    get = vocabulary.get
    return np.fromiter((get(v, -1) if isinstance(v, str) else -1 for v in values), dtype=np.int64)


def explode(lists: list[tuple], vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(row, item) positions for list-valued cells; items outside the vocabulary are dropped."""
    lengths = np.fromiter((len(t) for t in lists), dtype=np.int64, count=len(lists))
    rows = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    items = lookup(vocabulary, [x for t in lists for x in t])
    ok = items >= 0
    return rows[ok], items[ok]


# NumPy 2's hash-based np.unique is slow on millions of integers (seconds where a sort takes tens of
# milliseconds), so integer keys are made unique by sorting.

def unique(x: np.ndarray) -> np.ndarray:
    """Sorted unique values of an integer array."""
    s = np.sort(np.asarray(x))
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def unique_inverse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique values, index of each element's value) of an integer array."""
    x = np.asarray(x)
    order = np.argsort(x, kind="stable")
    s = x[order]
    new = np.r_[True, s[1:] != s[:-1]] if len(s) else np.empty(0, dtype=bool)
    inverse = np.empty(len(x), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return s[new], inverse


def unique_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique values, how many times each occurs) of an integer array."""
    s = np.sort(np.asarray(x))
    if len(s) == 0:
        return s, np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    return s[starts], np.diff(np.r_[starts, len(s)])


def unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the first occurrence of each distinct row, row number of each row) of a 2-D array."""
    order = np.lexsort(rows.T[::-1])
    s = rows[order]
    new = np.r_[True, (s[1:] != s[:-1]).any(axis=1)] if len(s) else np.empty(0, dtype=bool)
    inverse = np.empty(len(rows), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


def csr(keys: np.ndarray, n: int) -> np.ndarray:
    """Pointer array for rows sorted by key: rows of key k are ptr[k]:ptr[k+1]."""
    return np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=n))]).astype(np.int64)


def gather(ptr: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each requested key, the positions of its rows in a CSR layout: (request index, row position)."""
    keys = np.asarray(keys, dtype=np.int64)
    lens = ptr[keys + 1] - ptr[keys]
    total = int(lens.sum())
    which = np.repeat(np.arange(len(keys), dtype=np.int64), lens)
    rows = np.repeat(ptr[keys] - (np.cumsum(lens) - lens), lens) + np.arange(total, dtype=np.int64)
    return which, rows


@dataclass(frozen=True, eq=False)
class Themes:
    keys: np.ndarray
    names: np.ndarray
    index: dict[str, int]

    def name(self, key: str) -> str:
        pos = self.index.get(key, -1)
        return str(self.names[pos]) if pos >= 0 else str(key).replace("_", " ")


class Prepared:
    """A ReviewData as arrays; every property is computed on first use and kept."""

    def __init__(self, data: ReviewData) -> None:
        # weak: the snapshot holds its Prepared (`data.prepared`); a strong reference back would be a cycle that
        # only the garbage collector frees, keeping an old version's arrays alive after the snapshot is dropped
        self._data = weakref.ref(data)
        self.geo: Geography = geography_of(data.areas)
        self.cache: dict = {}  # results that do not depend on the date (need, fund placements)
        self.money_cache: dict[tuple, dict] = {}  # results that depend on the funding at a date (Context.shared)

    @property
    def data(self) -> ReviewData:
        data = self._data()
        if data is None:  # only reachable by holding a Prepared past its data: a programming error
            raise RuntimeError("the ReviewData these arrays were made from no longer exists")
        return data

    # -- services --------------------------------------------------------------------------------------------------

    @cached_property
    def service_ids(self) -> np.ndarray:
        """Every service id the data mention (services, funding lines, coverage), sorted."""
        d = self.data
        every = np.concatenate([ids(d.services["service_id"]), ids(d.funding_lines["service_id"]),
                                ids(d.coverage["service_id"])])
        return unique(every[every >= 0])

    def service_pos(self, values) -> np.ndarray:
        """Positions of service ids in `service_ids` (-1 when unknown)."""
        arr = np.asarray(values, dtype=np.int64) if not isinstance(values, pd.Series) else ids(values)
        sid = self.service_ids
        if len(sid) == 0:
            return np.full(len(arr), -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(sid, arr), 0, len(sid) - 1)
        return np.where(sid[pos] == arr, pos, -1).astype(np.int64)

    @cached_property
    def _services(self) -> dict[str, object]:
        s = self.data.services
        n = len(self.service_ids)
        pos = self.service_pos(s["service_id"])
        keep = pos >= 0
        first = np.zeros(len(pos), dtype=bool)
        kept = np.flatnonzero(keep)
        order = kept[np.argsort(pos[kept], kind="stable")]
        first[order[np.r_[True, pos[order][1:] != pos[order][:-1]]] if len(order) else order] = True
        rows, at = np.flatnonzero(first), pos[first]

        def column(values: np.ndarray, fill, dtype=object) -> np.ndarray:
            out = np.full(n, fill, dtype=dtype)
            out[at] = values[rows]
            return out

        name = column(texts(s["name"]), "")
        name = np.array([nm or f"Service {sid}" for nm, sid in zip(name, self.service_ids, strict=True)], dtype=object)
        themes, groups, comm = [()] * n, [()] * n, [()] * n
        all_themes, all_groups = tuples(s["themes"]), tuples(s["target_groups"])
        all_comm = tuples(s["commissioners"])
        for r, p in zip(rows.tolist(), at.tolist(), strict=True):
            themes[p], groups[p], comm[p] = all_themes[r], all_groups[r], all_comm[r]
        lines = self.lines
        extra: dict[int, set] = {}
        for p, c in zip(lines["pos"].tolist(), lines["commissioner"].tolist(), strict=True):
            if p >= 0 and c:
                extra.setdefault(p, set()).add(c)
        comm = [tuple(sorted(set(c) | extra.get(i, set()))) for i, c in enumerate(comm)]
        return {
            "name": name, "provider": column(texts(s["provider"]), ""),
            "start": column(dates(s["start_date"]), np.datetime64("NaT"), "datetime64[ns]"),
            "end": column(dates(s["end_date"]), np.datetime64("NaT"), "datetime64[ns]"),
            "end_is_estimate": column(flags(s["end_date_is_estimate"]), False, bool),
            "known_from": column(dates(s["known_from"]), np.datetime64("NaT"), "datetime64[ns]"),
            "status": column(texts(s["status"], "active"), "active"),
            "listed": column(np.ones(len(s), dtype=bool), False, bool),
            "themes": themes, "groups": groups, "commissioners": comm,
        }

    @property
    def svc_name(self) -> np.ndarray:
        return self._services["name"]

    @property
    def svc_provider(self) -> np.ndarray:
        return self._services["provider"]

    @property
    def svc_themes(self) -> list[tuple]:
        return self._services["themes"]

    @property
    def svc_groups(self) -> list[tuple]:
        return self._services["groups"]

    @property
    def svc_commissioners(self) -> list[tuple]:
        return self._services["commissioners"]

    @cached_property
    def themes(self) -> Themes:
        """Theme keys in the themes table's order, then any key used but not listed (named after its key)."""
        d = self.data
        keys = [str(k) for k in d.themes["theme_key"].tolist()]
        names = dict(zip(keys, d.themes["name"].tolist(), strict=True))
        seen = set(keys)
        for t in self.svc_themes + self.indicator_themes:
            for k in t:
                if k not in seen:
                    seen.add(k)
                    keys.append(k)
        nm = [names.get(k) if isinstance(names.get(k), str) else k.replace("_", " ") for k in keys]
        return Themes(np.array(keys, dtype=object), np.array(nm, dtype=object), {k: i for i, k in enumerate(keys)})

    @cached_property
    def service_themes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(service position, theme index) pairs sorted by service, and a pointer array by service."""
        svc, theme = explode(self.svc_themes, self.themes.index)
        order = np.lexsort((theme, svc))
        svc, theme = svc[order], theme[order]
        return svc, theme, csr(svc, len(self.service_ids))

    def by_theme(self, svc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For rows keyed by service position: (row number, theme index) for every theme of the row's service."""
        _, theme, ptr = self.service_themes
        rows, at = gather(ptr, svc)
        return rows, theme[at]

    @cached_property
    def coverage(self) -> tuple[np.ndarray, np.ndarray]:
        """Unique (service position, LSOA) pairs, sorted: every service's coverage expanded to LSOAs."""
        cov = self.data.coverage
        return self.geo.expand(self.service_pos(cov["service_id"]), self.geo.positions(cov["area_code"]))

    @cached_property
    def coverage_ptr(self) -> np.ndarray:
        return csr(self.coverage[0], len(self.service_ids))

    @cached_property
    def covered(self) -> np.ndarray:
        """Whether each service position covers at least one LSOA."""
        return np.diff(self.coverage_ptr) > 0

    def service_units(self, level: str) -> tuple[np.ndarray, np.ndarray]:
        """Unique (service position, unit) pairs sorted by service: the units each service covers any part of."""
        svc, unit, _ = self.service_unit_weights(level)
        return svc, unit

    def service_unit_weights(self, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(service position, unit, residents of the service's LSOAs in that unit), sorted by service: enough to
        share a service's money between units by population without going through its LSOAs again."""
        key = ("service_units", level)
        if key not in self.cache:
            units = self.geo.units(level)
            svc_all, lsoa_all = self.coverage
            n = max(len(units), 1)
            parts = []
            for block in group_blocks(svc_all):  # pairs of different blocks never coincide: blocks cut no service
                svc, lsoa = svc_all[block], lsoa_all[block]
                unit = units.of_lsoa[lsoa]
                ok = unit >= 0
                pairs, inverse = unique_inverse(svc[ok] * n + unit[ok])
                parts.append((pairs, np.bincount(inverse, weights=self.geo.population[lsoa[ok]],
                                                 minlength=len(pairs))))
            pairs = np.concatenate([p for p, _ in parts])
            weight = np.concatenate([w for _, w in parts])
            self.cache[key] = (pairs // n, pairs % n, weight)
        return self.cache[key]

    # -- funding lines ---------------------------------------------------------------------------------------------

    @cached_property
    def lines(self) -> dict[str, np.ndarray]:
        fl = self.data.funding_lines
        return {
            "pos": self.service_pos(fl["service_id"]), "commissioner": texts(fl["commissioner"]),
            "fund_key": texts(fl["fund_key"]),
            "amount": pd.to_numeric(fl["annual_amount"], errors="coerce").fillna(0.0).to_numpy(dtype=float),
            "start": dates(fl["start_date"]), "end": dates(fl["end_date"]), "is_estimate": flags(fl["is_estimate"]),
        }

    # -- indicators --------------------------------------------------------------------------------------------------

    @cached_property
    def indicator_themes(self) -> list[tuple]:
        return tuples(self.data.indicators["themes"])

    @cached_property
    def indicator_meta(self) -> dict[str, tuple[str, str, tuple]]:
        """indicator key -> (name, unit, themes)."""
        ind = self.data.indicators
        out = {}
        for k, nm, unit, th in zip(ind["indicator_key"].tolist(), ind["name"].tolist(), ind["unit"].tolist(),
                                   self.indicator_themes, strict=True):
            if isinstance(k, str) and k not in out:
                out[k] = (nm if isinstance(nm, str) and nm else k.replace("_", " "),
                          unit if isinstance(unit, str) else "", th)
        return out

    @cached_property
    def fund_names(self) -> dict[str, str]:
        f = self.data.funds
        out = {}
        for k, nm in zip(f["fund_key"].tolist(), f["name"].tolist(), strict=True):
            if isinstance(k, str) and k not in out:
                out[k] = nm if isinstance(nm, str) and nm else k
        return out

    @cached_property
    def fund_keys(self) -> list[str]:
        """Funds in the funds table's order, then any fund key only allocations name."""
        keys = list(self.fund_names)
        seen = set(keys)
        for k in self.data.allocations["fund_key"].tolist():
            if isinstance(k, str) and k not in seen:
                seen.add(k)
                keys.append(k)
        return keys


MONEY_STATES = 2  # apportionment at national scale is hundreds of MB: keep the current and the previous state


def prepared_of(data: ReviewData) -> Prepared:
    """The arrays of a snapshot: `data.prepared`, built on first use and kept on the snapshot itself (one memo per
    data version; it goes when the snapshot goes)."""
    return data.prepared


class Context:
    """The prepared data at one date: what is current, each service's annual funding and its apportionment."""

    def __init__(self, data: ReviewData, as_at: DateLike) -> None:
        self.data = data
        self.prep = prepared_of(data)
        self.geo = self.prep.geo
        self.as_at = as_timestamp(as_at)
        self._when = np.datetime64(self.as_at.to_datetime64(), "ns")
        self.cache: dict = {}

    # Pass-throughs to the prepared arrays, so measures read one object.
    @property
    def service_ids(self) -> np.ndarray:
        return self.prep.service_ids

    def service_pos(self, values) -> np.ndarray:
        return self.prep.service_pos(values)

    @property
    def themes(self) -> Themes:
        return self.prep.themes

    @property
    def coverage(self) -> tuple[np.ndarray, np.ndarray]:
        return self.prep.coverage

    @property
    def covered(self) -> np.ndarray:
        return self.prep.covered

    def by_theme(self, svc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.prep.by_theme(svc)

    @cached_property
    def current(self) -> np.ndarray:
        """Services listed in the services table and current at the date by the one rule (`services_db.counting`)."""
        s = self.prep._services
        return s["listed"] & services_current(s["status"], s["start"], s["end"], self.as_at, s["known_from"])

    @cached_property
    def line_current(self) -> np.ndarray:
        """Funding lines current at the date (start <= as at <= end, open ends allowed) of a known service."""
        lines = self.prep.lines
        return contains(lines["start"], lines["end"], self._when) & (lines["pos"] >= 0)

    @cached_property
    def funding(self) -> np.ndarray:
        """Annual funding of each service position: the sum of its current lines (already £ a year)."""
        lines, cur = self.prep.lines, self.line_current
        return np.bincount(lines["pos"][cur], weights=lines["amount"][cur], minlength=len(self.service_ids))

    @cached_property
    def funding_pence(self) -> np.ndarray:
        return np.round(self.funding * 100.0).astype(np.int64)

    @cached_property
    def money_key(self) -> tuple:
        """What money-derived results depend on: the funding of every service and which are current. Two dates
        with the same funding (most dates within a financial year) share the results kept under this key."""
        digest = hashlib.blake2b(self.funding_pence.tobytes(), digest_size=16)
        digest.update(self.current.tobytes())
        return ("money", digest.hexdigest())

    def shared(self, name: object, compute):
        """A result kept with the prepared data under the money key, so a second review at any date with the same
        funding reuses it; `compute()` makes it the first time. The last few funding states are kept."""
        store = self.prep.money_cache
        results = store.pop(self.money_key, None) or {}
        store[self.money_key] = results  # most recently used last
        while len(store) > MONEY_STATES:
            store.pop(next(iter(store)))
        if name not in results:
            results[name] = compute()
        return results[name]

    @cached_property
    def apportioned(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(service position, LSOA, pence) rows: each service's money split over its LSOAs to the penny, row for
        row with `coverage` (a service with no funding at the date has 0 pence on each of its rows)."""
        return self.shared("apportioned", self._apportion)

    def _apportion(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from services_db.review.apportion import split_pence

        svc, lsoa = self.coverage  # the coverage arrays themselves, not filtered copies: 400 MB at national size
        return svc, lsoa, split_pence(svc, self.geo.population[lsoa], self.funding_pence)
