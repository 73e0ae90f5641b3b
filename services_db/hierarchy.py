"""The area hierarchy of one data snapshot, and the one way an area's name is matched.

The areas frame of a `ReviewData` (code, name, level, parent_code, population) is a tree: LSOAs under districts
under place-based areas under divisions under the force. Everything outside the review engine that asks a
question of that tree asks a `Hierarchy`:

- `resolve(name_or_code, levels)`: an area's code from its code or name as a person types it. One normalisation
  (`normalise_name`): case does not matter, "&" is "and", and extra spaces are ignored, so "Burnley and Pendle",
  "burnley  &  pendle" and "PBA08" are the same area. An unknown name raises `UnknownAreaName` (a KeyError)
  listing the valid names.
- `under(codes)`: the LSOAs under some areas (an LSOA is under itself; the force's code means every LSOA).
- `ancestor_at(code, level)` and `ancestor_map(level)`: the area at `level` containing an area.
- `touching(codes, level)`: the areas at `level` sharing an LSOA with some areas: what "covers" means
  (`touching_map(level)`: the same for every area at once).
- `descendants(code, level)`, `codes_at(levels)`, `names_at(levels)`, `name_of(code)`, `population(code)`.

A `Hierarchy` is immutable and built once per snapshot by `hierarchy_of(data)`. The review's own array
machinery (`services_db.review.geography.Geography`) stays the review's fast path; it resolves names with
`normalise_name` from here. This module imports nothing else from `services_db`, so any module can use it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from services_db.snapshot import Snapshot

LSOA = "lsoa"
T = TypeVar("T")
_MAX_DEPTH = 16  # a hierarchy deeper than this is a cycle in parent_code


def normalise_name(text: object) -> str:
    """An area's code or name as compared when a person gives one: case-insensitive, "&" is "and", runs of spaces
    (and spaces at either end) ignored. "Burnley & Pendle", "burnley  and pendle" -> "burnley and pendle"."""
    return " ".join(str(text).replace("&", " and ").split()).casefold()


def walk_up(parent: np.ndarray, max_depth: int = _MAX_DEPTH) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Walk every node of a forest up to the top at once, a generation a step: yields (nodes, ancestors), first
    every node with itself, then the nodes with a parent and their parents, then those with a grandparent and
    their grandparents, and so on (`parent[i]`: i's parent, -1 at the top). It stops when every walk has reached
    the top, or after `max_depth` steps (a cycle never ends)."""
    who = np.arange(len(parent), dtype=np.int64)
    cur = who.copy()
    for _ in range(max_depth):
        live = cur >= 0
        if not live.any():
            return
        at = cur[live]
        yield who[live], at
        cur[live] = parent[at]


def ancestor_table(parent: np.ndarray, level: np.ndarray, n_levels: int,
                   max_depth: int = _MAX_DEPTH) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ancestor, node, above) of a forest whose node i is at level `level[i]` (0..n_levels-1; < 0: none), from one
    `walk_up`: `ancestor[k, i]` is the nearest of i and its ancestors at level k (-1 when none), and (node[j],
    above[j]) every (node, itself or an ancestor) pair of the walk, step by step."""
    n = len(parent)
    ancestor = np.full((max(n_levels, 1), n), -1, dtype=np.int64)
    nodes, aboves = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    for who, at in walk_up(parent, max_depth):
        nodes.append(who)
        aboves.append(at)
        k = level[at]
        ok = k >= 0
        w, a, k = who[ok], at[ok], k[ok]
        first = ancestor[k, w] < 0  # the nearest ancestor at a level wins (a cycle never overwrites it)
        ancestor[k[first], w[first]] = a[first]
    return ancestor, np.concatenate(nodes), np.concatenate(aboves)


class UnknownAreaName(KeyError):
    """An area code or name the hierarchy does not know at the levels asked; `valid` lists the names that work."""

    def __init__(self, given: object, valid: list[str]) -> None:
        super().__init__(given)
        self.given = given
        self.valid = valid

    def __str__(self) -> str:
        return f"unknown area {self.given!r}; valid names: {', '.join(self.valid)}"


def _as_list(codes: str | Iterable[str]) -> list[str]:
    return [codes] if isinstance(codes, str) else [c for c in codes if isinstance(c, str)]


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class Hierarchy:
    """The area tree of one areas frame, turned into position arrays once.

    Positions are rows of the areas frame; `_ancestor[k, p]` is the position of area p's ancestor (or p itself)
    at the k-th level, -1 when it has none; the LSOAs under each area are held as one sorted array with offsets
    (`_ptr`, `_members`), so `under` is a slice and `touching` a gather. Nothing is changed after `__init__`
    except the lazily built name indexes, ancestor maps and touching maps: memos of pure functions of the tree (a
    race builds one twice, harmlessly).
    """

    def __init__(self, areas: pd.DataFrame) -> None:
        frame = areas.reset_index(drop=True)
        codes = frame["code"].astype(str).to_numpy(dtype=object)
        self._pos = {c: i for i, c in enumerate(codes)}
        if len(self._pos) != len(codes):
            dupes = sorted(set(codes[pd.Series(codes).duplicated().to_numpy()]))[:5]
            raise ValueError(f"areas.code is not unique: {dupes}")
        self._codes = _readonly(codes)
        self._names = _readonly(frame["name"].astype(object).where(frame["name"].notna(), frame["code"])
                                .astype(str).to_numpy(dtype=object))
        level = frame["level"].astype(object).where(frame["level"].notna(), "").astype(str).to_numpy(dtype=object)
        self._levels = tuple(v for v in pd.unique(level) if v)
        self._level_index = {name: k for k, name in enumerate(self._levels)}
        self._level = _readonly(pd.Index(self._levels, dtype=object).get_indexer(level).astype(np.int64))
        self._population = _readonly(pd.to_numeric(frame["population"], errors="coerce").to_numpy(dtype=float))
        parent_codes = frame["parent_code"].astype(object).where(frame["parent_code"].notna(), None)
        parent = pd.Index(codes, dtype=object).get_indexer(parent_codes.to_numpy(dtype=object)).astype(np.int64)
        self._ancestor = _readonly(self._ancestors(parent))
        lsoa_k = self._level_index.get(LSOA)
        self._lsoa = _readonly(np.flatnonzero(self._level == lsoa_k) if lsoa_k is not None
                               else np.empty(0, dtype=np.int64))
        self._ptr, self._members = self._lsoas_under()
        self._starts = self._ptr.tolist()  # plain ints: a slice per call without NumPy scalar overhead
        self._by_name: dict[str, dict[str, str]] = {}
        self._up: dict[str, Mapping[str, str]] = {}
        self._touch: dict[str, Mapping[str, tuple[str, ...]]] = {}

    def _ancestors(self, parent: np.ndarray) -> np.ndarray:
        """Walk every area up to the top at once: the ancestor (or itself) of each area at each level."""
        return ancestor_table(parent, self._level, len(self._levels))[0]

    def _lsoas_under(self) -> tuple[np.ndarray, np.ndarray]:
        """(ptr, members): the LSOAs under area p are members[ptr[p]:ptr[p + 1]], as positions in frame order."""
        n = len(self._codes)
        if not len(self._lsoa):
            return _readonly(np.zeros(n + 1, dtype=np.int64)), _readonly(np.empty(0, dtype=np.int64))
        above = self._ancestor[:, self._lsoa]  # levels x LSOAs
        area = above.ravel()
        lsoa = np.tile(self._lsoa, above.shape[0])
        keep = area >= 0
        area, lsoa = area[keep], lsoa[keep]
        order = np.lexsort((lsoa, area))
        counts = np.bincount(area, minlength=n)
        return _readonly(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)), _readonly(lsoa[order])

    # -- what is where ----------------------------------------------------------------------------------------------

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._pos

    def __len__(self) -> int:
        return len(self._codes)

    @property
    def levels(self) -> tuple[str, ...]:
        """The levels the areas frame uses, in the order first seen."""
        return self._levels

    def level_of(self, code: str) -> str | None:
        p = self._pos.get(code)
        return None if p is None or self._level[p] < 0 else self._levels[self._level[p]]

    def name_of(self, code: str | None, default: str | None = None) -> str | None:
        """The area's name (its code when the frame has no name for it); `default` for an unknown code."""
        p = self._pos.get(code) if isinstance(code, str) else None
        return default if p is None else str(self._names[p])

    def population(self, code: str) -> float:
        """The area's residents as the areas frame records them (NaN when not recorded or the code is unknown)."""
        p = self._pos.get(code)
        return float("nan") if p is None else float(self._population[p])

    def codes_at(self, levels: str | Iterable[str]) -> tuple[str, ...]:
        """The codes at the given level(s), level by level, each in the areas frame's order."""
        return tuple(c for k in self._wanted_levels(levels) for c in self._codes[self._level == k].tolist())

    def names_at(self, levels: str | Iterable[str] = ("area", "district")) -> list[str]:
        """The names `resolve` accepts at those levels, level by level in frame order (a name shared by a district
        and its area listed once)."""
        return list(dict.fromkeys(str(n) for k in self._wanted_levels(levels)
                                  for n in self._names[self._level == k].tolist()))

    def _wanted_levels(self, levels: str | Iterable[str] | None) -> list[int]:
        if levels is None:
            return list(range(len(self._levels)))
        return [self._level_index[lv] for lv in _as_list(levels) if lv in self._level_index]

    # -- names ------------------------------------------------------------------------------------------------------

    def resolve(self, name_or_code: object, levels: str | Iterable[str] = ("area", "district")) -> str:
        """The code of the area called `name_or_code` (or with that code), looked for level by level: an area
        before a district of the same name. Matching is `normalise_name`'s. Raises `UnknownAreaName` (a KeyError
        listing `names_at(levels)`) when no area at those levels has that name or code."""
        wanted = normalise_name(name_or_code) if name_or_code is not None else ""
        for lv in _as_list(levels):
            code = self._name_index(lv).get(wanted) if wanted else None
            if code is not None:
                return code
        raise UnknownAreaName(name_or_code, self.names_at(levels))

    def _name_index(self, level: str) -> dict[str, str]:
        index = self._by_name.get(level)
        if index is None:
            index = {}
            k = self._level_index.get(level, -2)
            for p in np.flatnonzero(self._level == k).tolist():
                index.setdefault(normalise_name(self._codes[p]), str(self._codes[p]))
            for p in np.flatnonzero(self._level == k).tolist():
                index.setdefault(normalise_name(self._names[p]), str(self._codes[p]))
            self._by_name[level] = index
        return index

    # -- the tree ---------------------------------------------------------------------------------------------------

    def _lsoa_positions(self, codes: str | Iterable[str]) -> np.ndarray:
        pos = [p for p in (self._pos.get(c) for c in _as_list(codes)) if p is not None]
        parts = [self._members[self._starts[p]:self._starts[p + 1]] for p in pos]
        if len(parts) == 1:
            return parts[0]
        return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    def under(self, codes: str | Iterable[str]) -> tuple[str, ...]:
        """The LSOA codes under any of `codes` (an LSOA is under itself; the force's code gives every LSOA), in
        the areas frame's order. Unknown codes add nothing."""
        return tuple(self._codes[self._lsoa_positions(codes)].tolist())

    def descendants(self, code: str, level: str) -> tuple[str, ...]:
        """The codes at `level` at or under `code`, in the areas frame's order (empty when `code` is unknown or
        lies below `level`)."""
        p = self._pos.get(code)
        k = self._level_index.get(level)
        if p is None or k is None or self._level[p] < 0:
            return ()
        at = np.flatnonzero(self._level == k)
        return tuple(self._codes[at[self._ancestor[self._level[p], at] == p]].tolist())

    def ancestor_at(self, code: str, level: str) -> str | None:
        """The code of the area at `level` containing `code` (`code` itself when it is at that level); None when
        there is none (the code is unknown or above that level)."""
        p = self._pos.get(code)
        k = self._level_index.get(level)
        if p is None or k is None:
            return None
        a = int(self._ancestor[k, p])
        return str(self._codes[a]) if a >= 0 else None

    def ancestor_map(self, level: str) -> Mapping[str, str]:
        """Every area code at or below `level` -> `ancestor_at(code, level)`, for mapping a column of codes."""
        up = self._up.get(level)
        if up is None:
            k = self._level_index.get(level)
            if k is None:
                up = MappingProxyType({})
            else:
                has = np.flatnonzero(self._ancestor[k] >= 0)
                up = MappingProxyType(dict(zip(self._codes[has].tolist(),
                                               self._codes[self._ancestor[k, has]].tolist(), strict=True)))
            self._up[level] = up
        return up

    def touching(self, codes: str | Iterable[str], level: str | None = None) -> frozenset[str]:
        """The codes at `level` (at every level when None) that share an LSOA with any of `codes`: the areas under
        them and the areas above them. An area touches itself, even one with no LSOA under it. This is what
        "covers" means: a county-wide service covers every district, a district service each of its LSOAs."""
        ks = self._wanted_levels(level)
        given = _as_list(codes)
        lsoas = self._lsoa_positions(given)
        found = (self._ancestor[ks[0], lsoas] if len(ks) == 1 else self._ancestor[ks][:, lsoas].ravel())
        out = {self._codes[p] for p in set(found[found >= 0].tolist())}
        out.update(c for c in given if c in self._pos and self._level[self._pos[c]] in ks)
        return frozenset(out)


    def touching_map(self, level: str) -> Mapping[str, tuple[str, ...]]:
        """Every area code -> `touching(code, level)` in the areas frame's order (codes touching nothing left
        out): for mapping a column of coverage codes at once."""
        table = self._touch.get(level)
        if table is None:
            k = self._level_index.get(level)
            n = len(self._codes)
            if k is None or not n:
                table = MappingProxyType({})
            else:
                area = np.repeat(np.arange(n, dtype=np.int64), np.diff(self._ptr))
                unit = self._ancestor[k, self._members]
                own = np.flatnonzero(self._level == k)  # an area touches itself, LSOAs or none
                key = np.unique(np.concatenate([area[unit >= 0] * n + unit[unit >= 0], own * n + own]))
                first = np.flatnonzero(np.r_[True, key[1:] // n != key[:-1] // n]).tolist()
                units = self._codes[key % n].tolist()
                table = MappingProxyType({
                    code: tuple(units[a:b]) for code, a, b in
                    zip(self._codes[key[first] // n].tolist(), first, [*first[1:], len(units)], strict=True)})
            self._touch[level] = table
        return table


class IdentityMemo(Generic[T]):
    """A small memo of what was built from an object (a frame treated as immutable), looked up by the object's
    identity through a weak reference, so it goes with the object: the last `size` objects are remembered. When a
    race builds a value twice, the first one kept is returned to both."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: list[tuple[weakref.ref, T]] = []  # (object, what was built from it), most recent last
        self._lock = threading.Lock()

    def _find(self, key: object) -> tuple[bool, T | None]:
        for ref, value in self.items:
            if ref() is key:
                return True, value
        return False, None

    def get(self, key: Any, build: Callable[[Any], T]) -> T:
        """The value built from `key`: remembered, or `build(key)` (outside the lock) and remembered."""
        with self._lock:
            found, value = self._find(key)
        if found:
            return value
        value = build(key)
        with self._lock:
            found, kept = self._find(key)
            if found:
                return kept
            live = [(ref, v) for ref, v in self.items if ref() is not None]
            self.items[:] = [*live[-(self.size - 1):], (weakref.ref(key), value)]
        return value


_CACHE_SIZE = 8
_MEMO: IdentityMemo[Hierarchy] = IdentityMemo(_CACHE_SIZE)
_CACHE = _MEMO.items


def hierarchy_of(data: Snapshot | pd.DataFrame) -> Hierarchy:
    """The `Hierarchy` of a snapshot (a `Snapshot`, alias `ReviewData`, or its `areas` frame), built once.

    A snapshot keeps its Hierarchy as `snapshot.hierarchy`, which is returned. A bare areas frame is looked up in a
    small memo keyed on the frame object through a weak reference (frames are treated as immutable;
    `services_db.queries.review_data` hands out the same frames until the data change); `snapshot.hierarchy` is
    built through it, so a snapshot and its areas frame share one Hierarchy, and it goes with them. At most
    `_CACHE_SIZE` frames are remembered.
    """
    if not isinstance(data, pd.DataFrame):
        tree = getattr(data, "hierarchy", None)
        if isinstance(tree, Hierarchy):
            return tree
    return _MEMO.get(data if isinstance(data, pd.DataFrame) else data.areas, Hierarchy)
