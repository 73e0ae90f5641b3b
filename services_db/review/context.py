"""The review's working state: the data as arrays (once per `ReviewData`) and what depends on the date.

A whole-force review asks for coverage, current funding and apportionment several times (gaps, duplication,
cliffs, plans). Pandas calls cost a few hundred microseconds each, so the frames are turned once into NumPy
arrays and integer positions (`Prepared`, kept on the snapshot as `data.prepared`: `services_db.queries.review_data`
hands out the same snapshot until the data change), and every measure then works with `searchsorted`, `bincount`
and fancy indexing. `Context` adds the "as at" date: which services and funding lines are current, each
service's annual funding and its apportionment, computed once and shared by every measure. Text and tuple
columns are converted once per distinct value, not per row (`text_codes`, `tuple_codes`): pandas would make a
Python string of every row of a national snapshot's arrow-backed text.

Coverage is held as atoms (`Atoms`: a district, or the part of one that LSOA-level coverage splits off), not
LSOAs: every coverage code is a union of atoms, so provision, overlaps and cliffs come out the same, from a
fraction of the rows; the pence per atom are exactly the LSOAs' pence added up (`apportioned_atoms`), and per
district-or-coarser "cell" (`apportioned_cells`) for the measures that add up to units.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from itertools import chain

import numpy as np
import pandas as pd

from services_db.counting import services_current
from services_db.review.data import LEVELS, ReviewData
from services_db.review.dates import DateLike, as_datetimes, as_timestamp
from services_db.review.geography import Geography, frame_geography

_LEVEL_ID = {name: i for i, name in enumerate(LEVELS)}


# Below this many rows, converting each value costs less than hashing them to find the distinct ones.
DISTINCT_MIN = 1000
# (service, atom) keys below this are worked in 32-bit integers (`Prepared.coverage_atoms`).
KEYS_32 = 2**31


def tuple_codes(values: pd.Series | list) -> tuple[np.ndarray, np.ndarray]:
    """`tuples(values)` as (code of each row, object array of tuples): `table[codes]` is `tuples(values)`.

    A column of what review_data gives (tuples of str, or `;`-separated text) is converted once per distinct value:
    100,000 services have 833 distinct theme tuples. Values equal to a tuple of str or a str convert alike, so only
    such columns are coded; any other (numbers, lists, arrays) is converted row by row."""
    if isinstance(values, pd.Series) and len(values) >= DISTINCT_MIN:
        try:
            codes, distinct = pd.factorize(values.to_numpy(dtype=object))  # missing -> -1
        except TypeError:  # an unhashable value (a list, an array)
            distinct = None
        if distinct is not None and set(map(type, distinct)) <= {tuple, str} \
                and set(map(type, chain.from_iterable(v for v in distinct if type(v) is tuple))) <= {str}:
            table = objects([*_tuples(distinct.tolist(), plain=True), ()])
            return np.where(codes < 0, len(table) - 1, codes).astype(np.int64), table
    table = objects(_tuples(values.tolist() if isinstance(values, pd.Series) else values))
    return np.arange(len(table), dtype=np.int64), table


def tuples(values: pd.Series | list) -> list[tuple]:
    """A column of tuples (or lists, or a `;`-separated string, or missing) as a list of tuples of str."""
    codes, table = tuple_codes(values)
    return table[codes].tolist()


def _tuples(values: list, plain: bool = False) -> list[tuple]:
    """`tuples`, value by value; `plain`: every tuple is known to hold only str."""
    out: list[tuple] = []
    for v in values:
        if type(v) is tuple and (plain or all(type(x) is str for x in v)):  # what review_data gives: kept as it is
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


def text_codes(values: pd.Series, default: str = "") -> tuple[np.ndarray, np.ndarray]:
    """`texts(values, default)` as (code of each row, object array of texts): `table[codes]` is `texts(values)`.

    Arrow-backed text is coded once per distinct value (pandas would otherwise make a Python string of every row:
    250,000 funding lines name 786 commissioners)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype) and len(values) >= DISTINCT_MIN:
        codes, distinct = pd.factorize(values)  # missing -> -1
        table = np.array([*(v if isinstance(v, str) else default for v in distinct.tolist()), default], dtype=object)
        return np.where(codes < 0, len(table) - 1, codes).astype(np.int64), table
    table = np.array([v if isinstance(v, str) else default for v in values.tolist()], dtype=object)
    return np.arange(len(table), dtype=np.int64), table


def texts(values: pd.Series, default: str = "") -> np.ndarray:
    """A text column as an object array of str (missing -> default)."""
    codes, table = text_codes(values, default)
    return table[codes]


def objects(values) -> np.ndarray:
    """An object array holding each value whole (NumPy would otherwise unpack a list of tuples into 2-D)."""
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return arr


def flags(values: pd.Series) -> np.ndarray:
    if isinstance(values, pd.Series) and values.dtype == np.bool_:  # no missing values to read as False
        return values.to_numpy(dtype=bool, copy=True)
    return np.array([bool(v) if not _missing(v) else False for v in values.tolist()], dtype=bool)


def _missing(v: object) -> bool:
    """None, NaN or pandas' NA (whose truth, and whose `v == v`, raise)."""
    return v is None or v is pd.NA or v != v


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

def _dense(x: np.ndarray) -> bool:
    """Whether an integer array's values are non-negative and small enough (below about eight times its length)
    to be marked in a table rather than sorted: a pass over the table costs far less than a sort of the rows."""
    return bool(len(x)) and x.dtype.kind == "i" and int(x.min()) >= 0 and int(x.max()) < 8 * len(x) + 4096


def _present(x: np.ndarray) -> np.ndarray:
    """Sorted unique values of a `_dense` array, by marking them in a table."""
    mark = np.zeros(int(x.max()) + 1, dtype=bool)
    mark[x] = True
    return np.flatnonzero(mark).astype(x.dtype, copy=False)


def unique(x: np.ndarray, grouped: bool = False) -> np.ndarray:
    """Sorted unique values of an integer array. Values few enough are marked in a table (see
    `_dense`); rows `grouped` by a leading part of the key (runs of ascending keys) are sorted by NumPy's stable
    sort, which merges runs (a few times faster than its default sort on such rows; slower on others)."""
    x = np.asarray(x)
    if _dense(x):
        return _present(x)
    s = np.sort(x, kind="stable" if grouped else None)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def unique_inverse(x: np.ndarray, grouped: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique values, index of each element's value) of an integer array, by
    NumPy's default sort: equal values may come in any order, which changes nothing here, and it is
    several times faster than a stable sort on a few hundred thousand random keys. Values few enough are marked
    in a table instead (see `_dense`), and `grouped` rows (see `unique`) are sorted by the stable sort."""
    x = np.asarray(x)
    if _dense(x):
        values = _present(x)
        rank = np.empty(int(values[-1]) + 1, dtype=np.int64)
        rank[values] = np.arange(len(values))
        return values, rank[x]
    order = np.argsort(x, kind="stable" if grouped else None)
    s = x[order]
    new = np.r_[True, s[1:] != s[:-1]] if len(s) else np.empty(0, dtype=bool)
    inverse = np.empty(len(x), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return s[new], inverse


def stable_order(keys: np.ndarray) -> np.ndarray:
    """`np.argsort(keys, kind="stable")`: the same order, by NumPy's radix sort when the keys fit in 16 bits."""
    keys = np.asarray(keys)
    if len(keys) and keys.dtype.kind in "iu" and int(keys.min()) >= 0 and int(keys.max()) < 2**16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    return np.argsort(keys, kind="stable")


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


@dataclass(frozen=True, eq=False)
class Atoms:
    """LSOAs grouped so that every coverage code is a union of groups ("atoms"): what the review apportions to.

    A service's money, its provision per unit, overlaps and cliffs only ever need to know how much falls in each
    atom (review.md, "Apportioning provision to areas"): 14 atoms for the demo's 941 LSOAs, 7,137 for the national
    data's 34,753 LSOAs (its 14,869 LSOA-level coverage rows split many districts), so 6.5 million (service, atom)
    rows instead of 31.7 million (service, LSOA) rows. Atoms never straddle a district, so each has one unit at
    every level, and the atoms of a district (a "cell") are numbered in a run.
    """

    of_lsoa: np.ndarray  # the atom of each LSOA
    ptr: np.ndarray  # the LSOAs of atom a are members[ptr[a]:ptr[a + 1]]
    members: np.ndarray  # LSOA numbers sorted by atom, then LSOA
    first: np.ndarray  # the first LSOA of each atom (its units are that LSOA's)
    size: np.ndarray  # how many LSOAs each atom has
    population: np.ndarray  # residents of each atom: its LSOAs' effective populations added up
    cell: np.ndarray  # the cell of each atom (its district, or what stands for one), never decreasing with the atom

    def __len__(self) -> int:
        return len(self.size)

    @cached_property
    def cell_first(self) -> np.ndarray:
        """The first atom of each cell (cells are runs of atoms)."""
        n = int(self.cell.max()) + 1 if len(self.cell) else 0
        return np.searchsorted(self.cell, np.arange(n, dtype=np.int64))

    @classmethod
    def from_labels(cls, of_lsoa: np.ndarray, population: np.ndarray, cell_of_lsoa: np.ndarray) -> Atoms:
        of_lsoa = np.asarray(of_lsoa, dtype=np.int64)
        n = int(of_lsoa.max()) + 1 if len(of_lsoa) else 0
        members = np.argsort(of_lsoa, kind="stable").astype(np.int64)
        ptr = csr(of_lsoa, n)
        first = members[ptr[:-1]]
        return cls(of_lsoa, ptr, members, first, np.diff(ptr), np.bincount(of_lsoa, weights=population, minlength=n),
                   np.asarray(cell_of_lsoa, dtype=np.int64)[first])


class ServiceColumns(Mapping):
    """`Prepared._services`: a mapping of the services' columns by service position that builds each column when
    it is first read (a one-force app reading names does not pay for the commissioners)."""

    KEYS = ("name", "provider", "start", "end", "end_is_estimate", "known_from", "status", "listed", "themes",
            "groups", "commissioners")

    def __init__(self, prep: Prepared) -> None:
        self._prep = prep

    def __getitem__(self, key: str):
        if key not in self.KEYS:
            raise KeyError(key)
        return self._prep.service_column(key)

    def __iter__(self):
        return iter(self.KEYS)

    def __len__(self) -> int:
        return len(self.KEYS)


class Prepared:
    """A ReviewData as arrays; every property is computed on first use and kept."""

    def __init__(self, data: ReviewData) -> None:
        # weak: the snapshot holds its Prepared (`data.prepared`); a strong reference back would be a cycle that
        # only the garbage collector frees, keeping an old version's arrays alive after the snapshot is dropped
        self._data = weakref.ref(data)
        self.geo: Geography = frame_geography(data.areas)  # shared with `geography_of(data.areas)`
        self.cache: dict = {}  # results that do not depend on the date (need, fund placements)
        self.money_cache: dict[tuple, dict] = {}  # results that depend on the funding at a date (Context.shared)
        self._columns: dict[str, object] = {}  # the services' columns by position (`_services`), as first read

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
    def _service_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(row in the services table, service position) of each listed service: its first row."""
        pos = self.service_pos(self.data.services["service_id"])
        first = np.zeros(len(pos), dtype=bool)
        kept = np.flatnonzero(pos >= 0)
        order = kept[np.argsort(pos[kept], kind="stable")]
        first[order[np.r_[True, pos[order][1:] != pos[order][:-1]]] if len(order) else order] = True
        rows = np.flatnonzero(first)
        return rows, pos[rows]

    def _service_column(self, values: np.ndarray, fill, dtype=object) -> np.ndarray:
        """One value per service position from a column of the services table (`fill` for a service not listed)."""
        rows, at = self._service_rows
        out = np.full(len(self.service_ids), fill, dtype=dtype)
        out[at] = values[rows]
        return out

    def _service_tuples(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """A tuple column per service position as (code of each service, object array of distinct tuples)."""
        codes, table = tuple_codes(self.data.services[column])
        table = objects([*table.tolist(), ()])  # () for a service not listed
        return self._service_column(codes, len(table) - 1, np.int64), table

    @property
    def _services(self) -> ServiceColumns:
        """The services' columns by service position (name, provider, start, end, end_is_estimate, known_from,
        status, listed, themes, groups, commissioners), each built when first read."""
        return ServiceColumns(self)

    def service_column(self, key: str):
        """One of the services' columns by service position (see `_services`), built on first use and kept."""
        if key not in self._columns:
            self._columns[key] = self._build_service_column(key)
        return self._columns[key]

    def _build_service_column(self, key: str):
        s = self.data.services
        if key == "name":
            name = self._service_column(texts(s["name"]), "")
            for p in np.flatnonzero(name == "").tolist():  # texts only: "" is the one false value
                name[p] = f"Service {self.service_ids[p]}"
            return name
        if key == "provider":
            return self._service_column(texts(s["provider"]), "")
        if key in ("start", "end", "known_from"):
            column = {"start": "start_date", "end": "end_date", "known_from": "known_from"}[key]
            return self._service_column(dates(s[column]), np.datetime64("NaT"), "datetime64[ns]")
        if key == "end_is_estimate":
            return self._service_column(flags(s["end_date_is_estimate"]), False, bool)
        if key == "status":
            return self._service_column(texts(s["status"], "active"), "active")
        if key == "listed":
            return self._service_column(np.ones(len(s), dtype=bool), False, bool)
        if key in ("themes", "groups"):
            codes, table = self._service_theme_codes if key == "themes" else self._service_tuples("target_groups")
            return table[codes].tolist()
        if key == "commissioners":
            return self._commissioners()
        raise KeyError(key)

    def _commissioners(self) -> list[tuple]:
        """Per service position: the commissioners the services table names and those of its funding lines,
        sorted and once each (`tuple(sorted(set(named) | {line commissioners}))`), worked out in codes."""
        n = len(self.service_ids)
        codes, table = self._service_tuples("commissioners")
        line_codes, line_table = self._line_commissioners
        named = table.tolist()
        vocab = sorted({x for t in named for x in t} | {c for c in line_table.tolist() if c})
        index = {v: i for i, v in enumerate(vocab)}
        # each distinct tuple's names as codes (CSR), gathered per service
        lengths = np.fromiter((len(t) for t in named), dtype=np.int64, count=len(named))
        items = lookup(index, [x for t in named for x in t])
        which, at = gather(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64), codes)
        line_item = np.array([index.get(c, -1) if c else -1 for c in line_table.tolist()], dtype=np.int64)[line_codes]
        line_pos = self.lines["pos"]
        ok = (line_pos >= 0) & (line_item >= 0)
        width = max(len(vocab), 1)
        pairs = unique(np.concatenate([which * width + items[at], line_pos[ok] * width + line_item[ok]]))
        words = objects(vocab)[pairs % width].tolist() if len(vocab) else []
        ptr = csr(pairs // width, n).tolist()
        return [tuple(words[a:b]) for a, b in zip(ptr[:-1], ptr[1:], strict=True)]

    @cached_property
    def svc_name(self) -> np.ndarray:
        return self.service_column("name")

    @cached_property
    def svc_provider(self) -> np.ndarray:
        return self.service_column("provider")

    @cached_property
    def svc_themes(self) -> list[tuple]:
        return self.service_column("themes")

    @cached_property
    def svc_groups(self) -> list[tuple]:
        return self.service_column("groups")

    @cached_property
    def svc_commissioners(self) -> list[tuple]:
        return self.service_column("commissioners")

    @cached_property
    def _service_theme_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """`svc_themes` as (code of each service position, object array of distinct theme tuples)."""
        return self._service_tuples("themes")

    @cached_property
    def themes(self) -> Themes:
        """Theme keys in the themes table's order, then any key used but not listed (named after its key)."""
        d = self.data
        keys = [str(k) for k in d.themes["theme_key"].tolist()]
        names = dict(zip(keys, d.themes["name"].tolist(), strict=True))
        seen = set(keys)
        # services' theme tuples in the order of each one's first service: the keys come first in the same order
        # as going through every service
        codes, table = self._service_theme_codes
        order = np.argsort(codes, kind="stable")
        new = np.r_[True, codes[order][1:] != codes[order][:-1]] if len(order) else np.empty(0, dtype=bool)
        firsts = np.sort(order[new])
        for t in table[codes[firsts]].tolist() + self.indicator_themes:
            for k in t:
                if k not in seen:
                    seen.add(k)
                    keys.append(k)
        nm = [names.get(k) if isinstance(names.get(k), str) else k.replace("_", " ") for k in keys]
        return Themes(np.array(keys, dtype=object), np.array(nm, dtype=object), {k: i for i, k in enumerate(keys)})

    @cached_property
    def service_themes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(service position, theme index) pairs sorted by service, and a pointer array by service."""
        codes, table = self._service_theme_codes
        tuples_ = table.tolist()
        lengths = np.fromiter((len(t) for t in tuples_), dtype=np.int64, count=len(tuples_))
        items = lookup(self.themes.index, [x for t in tuples_ for x in t])
        svc, at = gather(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64), codes)
        theme = items[at]  # `explode(self.svc_themes, self.themes.index)`, one lookup per distinct tuple
        svc, theme = svc[theme >= 0], theme[theme >= 0]
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
        """Unique (service position, LSOA) pairs, sorted: every service's coverage expanded to LSOAs.

        Tens of millions of rows at national size: the measures work on `coverage_atoms` instead; this is for
        what must be told LSOA by LSOA (`services_db.review.apportion.apportion`)."""
        cov = self.data.coverage
        return self.geo.expand(self.service_pos(cov["service_id"]), self.geo.positions(cov["area_code"]))

    @cached_property
    def coverage_ptr(self) -> np.ndarray:
        return csr(self.coverage[0], len(self.service_ids))

    # -- atoms: LSOAs every coverage code treats alike ----------------------------------------------------------

    @cached_property
    def atoms(self) -> Atoms:
        """The LSOAs grouped into atoms (see `Atoms`): a district, or a district's LSOAs named one by one by some
        coverage row split off as atoms of their own."""
        geo = self.geo
        svc, pos = self._coverage_rows
        # A code at district level or above is a union of whole districts. Any other (an LSOA, or an area with no
        # level) splits its district: the district's LSOAs are then told apart by which services cover them that
        # way (two 64-bit sums of a random key per service: LSOAs with the same services share an atom).
        ok = ~np.isin(geo.level_id[pos], [_LEVEL_ID[v] for v in LEVELS if v != "lsoa"])
        key, lsoa = geo.expand(svc[ok], pos[ok])  # unique (service, LSOA) rows of the splitting codes only
        rng = np.random.default_rng(20261204)
        sums = []
        for _ in range(2):
            draw = rng.integers(0, 2**63, size=max(len(self.service_ids), 1), dtype=np.uint64)
            acc = np.zeros(geo.n_lsoa, dtype=np.uint64)
            with np.errstate(over="ignore"):
                np.add.at(acc, lsoa, draw[key])
            sums.append(acc.view(np.int64))
        # Atoms are numbered in the order of (district, area, division, force, the services' sums), so the atoms
        # of one district (one "cell": LSOAs with the same ancestors) are a run, and runs follow the cells' order.
        ancestors = geo.lsoa_ancestor[1:].T
        none = np.empty(0, dtype=np.int64)
        return Atoms.from_labels(unique_rows(np.column_stack([ancestors, *sums]))[1] if geo.n_lsoa else none,
                                 geo.population, unique_rows(ancestors)[1] if geo.n_lsoa else none)

    @cached_property
    def _coverage_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(service position, area position) of the coverage rows naming a known service and a known area, in
        the order of the service (and the table's within one)."""
        cov = self.data.coverage
        svc, pos = self.service_pos(cov["service_id"]), self.geo.positions(cov["area_code"])
        ok = (svc >= 0) & (pos >= 0)
        svc, pos = svc[ok], pos[ok]
        if len(svc) > 1 and bool((svc[1:] < svc[:-1]).any()):
            order = np.argsort(svc, kind="stable")
            svc, pos = svc[order], pos[order]
        return svc, pos

    @cached_property
    def coverage_atoms(self) -> tuple[np.ndarray, np.ndarray]:
        """Unique (service position, atom) pairs, sorted: every service's coverage as atoms (a fifth of
        `coverage`'s rows at national size, and the same LSOAs: each coverage code is a union of atoms)."""
        geo, atoms = self.geo, self.atoms
        svc, pos = self._coverage_rows
        codes, code_of_row = unique_inverse(pos)
        key, lsoa = geo.expand(np.arange(len(codes), dtype=np.int64), codes)  # each code's LSOAs, once per code
        n = max(len(atoms), 1)
        code_atom = unique(key * n + atoms.of_lsoa[lsoa])
        ptr = csr(code_atom // n, len(codes))
        lens = ptr[code_of_row + 1] - ptr[code_of_row]
        total = int(lens.sum())
        # 32-bit integers when every (service, atom) key fits (6.5 million rows at national size): half the memory
        # for every pass below to go through
        small = np.int32 if max(len(self.service_ids), 1) * n < KEYS_32 and total < KEYS_32 else np.int64
        atom_of = (code_atom % n).astype(small)  # the atoms of code c, ascending: atom_of[ptr[c]:ptr[c + 1]]
        at = np.repeat((ptr[code_of_row] - (np.cumsum(lens) - lens)).astype(small), lens)
        at += np.arange(total, dtype=small)
        svc_rows = np.repeat(svc.astype(small), lens)
        pairs = atom_of[at]
        del at
        pairs += svc_rows * small(n)
        # Rows by service, each coverage row's atoms ascending: already sorted runs (the whole of a service named
        # by one row), which a merge sort (NumPy's stable sort: timsort) takes whole, where a quicksort would not.
        # The sort moves rows only within their service, so `svc_rows` still tells each row's service.
        pairs.sort(kind="stable")
        new = np.empty(total, dtype=bool)
        new[:1] = True
        np.not_equal(pairs[1:], pairs[:-1], out=new[1:])
        if not new.all():  # an atom two of a service's coverage rows share
            pairs, svc_rows = pairs[new], svc_rows[new]
        pairs -= svc_rows * small(n)
        return svc_rows.astype(np.int64), pairs.astype(np.int64)

    @cached_property
    def atom_ptr(self) -> np.ndarray:
        """Pointer array of `coverage_atoms` by service position."""
        return csr(self.coverage_atoms[0], len(self.service_ids))

    @cached_property
    def lsoa_count(self) -> np.ndarray:
        """Per service position: how many LSOAs it covers (its atoms' LSOAs)."""
        atom, ptr = self.coverage_atoms[1], self.atom_ptr
        out = np.zeros(len(self.service_ids), dtype=np.int64)
        full = np.flatnonzero(ptr[1:] > ptr[:-1])
        if len(full):
            out[full] = np.add.reduceat(np.asarray(self.atoms.size, dtype=np.int64)[atom], ptr[full])
        return out

    @cached_property
    def service_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(service position, cell, first row in `coverage_atoms`) of each run of a service's atoms in one cell:
        what adding up to districts or coarser needs, a twentieth of the atom rows at national size (a force-wide
        service has a few hundred atoms but a dozen districts)."""
        svc, atom = self.coverage_atoms
        if not len(svc):
            return svc, self.atoms.cell[atom], svc
        cell = self.atoms.cell.astype(np.int32)[atom]  # fewer than 2**31 cells: half the memory to go through
        change = svc[1:] != svc[:-1]
        change |= cell[1:] != cell[:-1]
        starts = np.concatenate([[0], np.flatnonzero(change) + 1])
        return svc[starts], cell[starts].astype(np.int64), starts

    @cached_property
    def cell_population(self) -> np.ndarray:
        """Residents of each run of `service_cells` (its atoms' populations added up): the same for every level."""
        starts = self.service_cells[2]
        return np.add.reduceat(self.atoms.population[self.coverage_atoms[1]], starts) if len(starts) \
            else np.empty(0)

    @cached_property
    def cell_ptr(self) -> np.ndarray:
        """Pointer array of `service_cells` by service position."""
        return csr(self.service_cells[0], len(self.service_ids))

    def cell_units(self, level: str) -> np.ndarray:
        """The unit (at `level`, district or coarser) of each cell, -1 where its LSOAs have none."""
        return self.atom_units(level)[self.atoms.cell_first]

    def atom_units(self, level: str) -> np.ndarray:
        """The unit (at `level`, district or coarser) of each atom, -1 where its LSOAs have none: an atom never
        straddles a district. LSOA-level units split atoms: they are worked out from `coverage`."""
        if level == "lsoa":
            raise ValueError("atoms hold several LSOAs: LSOA-level units come from the LSOA rows")
        return self.geo.units(level).of_lsoa[self.atoms.first]

    @cached_property
    def covered(self) -> np.ndarray:
        """Whether each service position covers at least one LSOA."""
        return self.lsoa_count > 0

    def service_units(self, level: str) -> tuple[np.ndarray, np.ndarray]:
        """Unique (service position, unit) pairs sorted by service: the units each service covers any part of."""
        svc, unit, _ = self.service_unit_weights(level)
        return svc, unit

    def service_unit_weights(self, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(service position, unit, residents of the service's LSOAs in that unit), sorted by service: enough to
        share a service's money between units by population without going through its LSOAs again."""
        key = ("service_units", level)
        if key not in self.cache and level == "lsoa":
            self.cache[key] = self._service_lsoas()
        if key not in self.cache:
            n = max(len(self.geo.units(level)), 1)
            svc, cell, _ = self.service_cells
            population = self.cell_population
            unit = self.cell_units(level)[cell]
            ok = unit >= 0
            pairs, inverse = unique_inverse(svc[ok] * n + unit[ok])
            weight = np.bincount(inverse, weights=population[ok], minlength=len(pairs))
            self.cache[key] = (pairs // n, pairs % n, weight)
        return self.cache[key]

    def _service_lsoas(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`service_unit_weights("lsoa")`: the coverage rows themselves, each with its LSOA's residents."""
        svc, lsoa = self.coverage
        units = self.geo.units("lsoa")
        unit = units.of_lsoa[lsoa]
        ok = unit >= 0
        return svc[ok], unit[ok], self.geo.population[lsoa[ok]]

    @cached_property
    def outside_population(self) -> np.ndarray:
        """Per service position: the residents it covers beyond the snapshot's areas (`services.outside_population`
        of a one-force snapshot; 0 when the column is absent), split with its LSOAs and then dropped."""
        services = self.data.services
        outside = np.zeros(len(self.service_ids))
        if "outside_population" in services:
            pos = self.service_pos(services["service_id"])
            outside[pos[pos >= 0]] = services["outside_population"].to_numpy(dtype=float)[pos >= 0]
        return outside

    # -- funding lines ---------------------------------------------------------------------------------------------

    @cached_property
    def _line_commissioners(self) -> tuple[np.ndarray, np.ndarray]:
        """Each funding line's commissioner as (code of each line, object array of distinct texts; "" if missing)."""
        return text_codes(self.data.funding_lines["commissioner"])

    @cached_property
    def lines(self) -> dict[str, np.ndarray]:
        fl = self.data.funding_lines
        codes, commissioners = self._line_commissioners
        return {
            "pos": self.service_pos(fl["service_id"]), "commissioner": commissioners[codes],
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
        named = self.data.allocations["fund_key"]
        if isinstance(named.dtype, pd.StringDtype):  # each distinct key once, in the order they first come
            named = pd.factorize(named)[1]
        for k in named.tolist():
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
        services = self.prep.data.services
        outside = np.zeros(len(self.service_ids))
        if "outside_population" in services:  # a one-force snapshot: residents a service covers beyond the force
            pos = self.prep.service_pos(services["service_id"])
            outside[pos[pos >= 0]] = services["outside_population"].to_numpy(dtype=float)[pos >= 0]
        if not (outside > 0).any():
            return svc, lsoa, split_pence(svc, self.geo.population[lsoa], self.funding_pence)
        # One more row per such service (its residents outside, last in its group), split with the rest and then
        # dropped: the force keeps the share of the money the national review gives it, not all of it.
        extra = np.flatnonzero(outside > 0)
        order = np.argsort(np.concatenate([svc, extra]), kind="stable")
        weights = np.concatenate([self.geo.population[lsoa], outside[extra]])[order]
        pence = split_pence(np.concatenate([svc, extra])[order], weights, self.funding_pence)
        return svc, lsoa, pence[order < len(svc)]

    def money_rows(self, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(service position, unit at `level` or -1, pence) rows sorted by service, and their pointer array by
        service: the apportioned money as the measures add it up to units. Per cell (`apportioned_cells`) for a
        district or coarser; per LSOA (`apportioned`) for an LSOA-level review, whose units split atoms."""
        if level == "lsoa":
            svc, lsoa, pence = self.apportioned
            return svc, self.geo.units(level).of_lsoa[lsoa], pence, self.prep.coverage_ptr
        svc, cell, pence = self.apportioned_cells
        return svc, self.prep.cell_units(level)[cell], pence, self.prep.cell_ptr

    @cached_property
    def apportioned_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(service position, cell, pence) rows, row for row with `prep.service_cells`: the atoms' pence added up
        per cell (whole pence, exact), for provision and cliffs at district level or coarser."""
        def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            svc, cell, starts = self.prep.service_cells
            pence = self.apportioned_atoms[2]
            return svc, cell, np.add.reduceat(pence, starts) if len(starts) else pence[:0]

        return self.shared("apportioned_cells", compute)

    @cached_property
    def apportioned_atoms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(service position, atom, pence) rows, row for row with `coverage_atoms`: for each atom, the sum of the
        pence `apportioned` puts on its LSOAs (the same split to the penny, without the LSOA rows)."""
        return self.shared("apportioned_atoms", self._apportion_atoms)

    def _apportion_atoms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from services_db.review.apportion import split_pence_atoms

        prep = self.prep
        svc, atom = prep.coverage_atoms
        return svc, atom, split_pence_atoms(svc, atom, prep.atoms, self.geo.population, self.funding_pence,
                                            prep.outside_population, ptr=prep.atom_ptr, lsoas=prep.lsoa_count)
