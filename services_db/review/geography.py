"""The area hierarchy as arrays: coverage at any level expanded to LSOAs, and LSOAs grouped into districts or areas.

Every measure in the review works on LSOAs (the finest level) and then adds up to the level asked for, so that a
service covering "Preston" and one covering three Preston LSOAs are compared on the same footing. The hierarchy
is turned once into integer arrays (a compressed "area -> LSOAs under it" table and an "LSOA -> ancestor at each
level" table) so that expanding coverage is a gather, not a loop, at 941 LSOAs or at 34,753.

A `Geography` is kept once per snapshot (`geography_of`: on the snapshot's prepared arrays, which
`services_db.queries.review_data` hands out until the data change), so a page redraw or a second measure does not
rebuild it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from services_db.hierarchy import IdentityMemo, ancestor_table, normalise_name
from services_db.review.data import LEVELS

if TYPE_CHECKING:
    from services_db.snapshot import Snapshot


def unique(x: np.ndarray) -> np.ndarray:
    """Sorted unique values of an integer array (by sorting: see `context.unique`)."""
    s = np.sort(np.asarray(x))
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


#: The levels a review can be summarised at ("area" is the force's place-based policing area).
REVIEW_LEVELS = ("lsoa", "district", "area")
#: What a review over several forces with no common root calls the whole: the national database's 43 forces are
#: those of England and Wales (`services_db.scale.grouping`; its national services cover "England and Wales").
NATION = "England and Wales"
_LEVEL_ID = {name: i for i, name in enumerate(LEVELS)}
_MAX_DEPTH = 16  # a hierarchy deeper than this is a cycle in parent_code
#: Rows per block when expanding or splitting national-size coverage (tens of millions of rows): big enough that
#: NumPy's per-call cost vanishes, small enough that a block's temporaries are tens of MB, not gigabytes.
CHUNK = 1 << 21


def chunk_size() -> int:
    """`CHUNK`, read when called (tests shrink it to run the block paths on small data)."""
    return CHUNK


def blocks(n: int, size: int | None = None) -> list[slice]:
    """Slices covering range(n) in blocks of `size`: national-size row sets are worked through a block at a time
    so that their temporaries stay tens of MB."""
    size = size or chunk_size()
    return [slice(i, min(i + size, n)) for i in range(0, n, size)] or [slice(0, 0)]


def group_blocks(keys: np.ndarray, size: int | None = None, lengths: np.ndarray | None = None) -> list[slice]:
    """Like `blocks` for rows sorted by key, but never cutting a key's rows in two (a key larger than a block
    gets a block of its own), so per-key results of the blocks can be concatenated. With `lengths`, a block
    holds at most `size` of their sum (rows that each stand for that many output rows) rather than `size` rows."""
    size = size or chunk_size()
    n = len(keys)
    ends = np.cumsum(lengths) if lengths is not None else np.arange(1, n + 1)
    out, start = [], 0
    while start < n:
        done = int(ends[start - 1]) if start else 0
        stop = max(int(np.searchsorted(ends, done + size, side="right")), start + 1)
        if stop < n:
            cut = int(np.searchsorted(keys, keys[stop], side="left"))  # back to the start of the key cut in two
            stop = cut if cut > start else int(np.searchsorted(keys, keys[start], side="right"))
        out.append(slice(start, stop))
        start = stop
    return out or [slice(0, 0)]


def frame_property(attr: str, columns: list[str]) -> property:
    """A read-only property showing the columns held in attribute `attr` (a dict of arrays) as a frame, with
    `columns` in that order: results keep their columns as arrays and make a frame only when one is asked for."""
    return property(lambda self: pd.DataFrame(getattr(self, attr), columns=columns),
                    doc=f"`{attr}` as a frame: {', '.join(columns)}.")


@dataclass(frozen=True, eq=False)
class Units:
    """The areas of one level: which unit each LSOA belongs to and how many residents each unit has."""

    level: str
    positions: np.ndarray  # positions of the units in the areas frame
    codes: np.ndarray
    names: np.ndarray
    of_lsoa: np.ndarray  # unit index of each LSOA, -1 when it has no ancestor at this level
    population: np.ndarray  # residents (effective, see Geography) of each unit

    def __len__(self) -> int:
        return len(self.codes)


class Geography:
    """Arrays built from the `areas` frame (see `services_db.review.data`).

    Population: an LSOA with an unknown (NaN or negative) population counts as an average LSOA (the mean of the
    known non-zero ones, or 1 when none is known). So where no population is known anywhere, money and need are split
    equally between LSOAs, as review.md asks, and one missing figure does not zero an LSOA out.
    """

    def __init__(self, areas: pd.DataFrame) -> None:
        frame = areas.reset_index(drop=True)
        self.codes = frame["code"].astype(str).to_numpy(dtype=object)
        self.code_pos = {c: i for i, c in enumerate(self.codes)}
        self._code_index = pd.Index(np.asarray(self.codes, dtype=object))
        if len(self.code_pos) != len(self.codes):
            dupes = sorted({c for c in self.codes if list(self.codes).count(c) > 1})[:5]
            raise ValueError(f"areas.code is not unique: {dupes}")
        self.names = frame["name"].astype(object).where(frame["name"].notna(), frame["code"]).to_numpy(dtype=object)
        self.levels = frame["level"].astype(str).to_numpy(dtype=object)
        level_id = np.array([_LEVEL_ID.get(v, -1) for v in self.levels], dtype=np.int64)
        self.level_id = level_id
        self.parent = self.positions(frame["parent_code"].tolist())

        self.lsoa = np.flatnonzero(level_id == _LEVEL_ID["lsoa"])
        self.n_lsoa = len(self.lsoa)
        self.lsoa_codes = self.codes[self.lsoa]

        raw = pd.to_numeric(frame["population"], errors="coerce").to_numpy(dtype=float)[self.lsoa]
        known = np.isfinite(raw) & (raw >= 0)
        positive = known & (raw > 0)
        fill = float(raw[positive].mean()) if positive.any() else 1.0
        self.population_known = known
        self.population = np.where(known, raw, fill)
        if "population_is_estimate" in frame:
            flag = frame["population_is_estimate"].fillna(False).astype(bool).to_numpy()[self.lsoa]
        else:
            flag = np.zeros(self.n_lsoa, dtype=bool)
        self.population_is_estimate = flag | ~known

        self._build_hierarchy()
        self._units: dict[str, Units] = {}

    def _build_hierarchy(self) -> None:
        """Walk every area up to the top once: the ancestors of each area and the LSOAs under each area."""
        n_areas = len(self.codes)
        # ancestor[level, area] = position of the area's ancestor (or itself) at that level, -1 when none; and
        # every (area, itself or an ancestor) pair of the walk, of which those from an LSOA give the LSOAs under.
        ancestor, node, above = ancestor_table(self.parent, self.level_id, len(LEVELS), _MAX_DEPTH)
        lsoa_number = np.full(n_areas, -1, dtype=np.int64)
        lsoa_number[self.lsoa] = np.arange(self.n_lsoa)
        from_lsoa = lsoa_number[node] >= 0
        areas_of, lsoas_of = above[from_lsoa], lsoa_number[node[from_lsoa]]
        self.area_ancestor = ancestor
        self.lsoa_ancestor = ancestor[:, self.lsoa]

        key = unique(areas_of * max(self.n_lsoa, 1) + lsoas_of)
        member_area = key // max(self.n_lsoa, 1)
        self.members = (key % max(self.n_lsoa, 1)).astype(np.int64)
        counts = np.bincount(member_area, minlength=n_areas)
        self.ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.area_population = np.bincount(member_area, weights=self.population[self.members], minlength=n_areas)
        self.area_population_is_estimate = np.bincount(
            member_area, weights=self.population_is_estimate[self.members].astype(float), minlength=n_areas) > 0

    # -- lookups ---------------------------------------------------------------------------------------------------

    def positions(self, codes: object) -> np.ndarray:
        """Positions of area codes in the areas frame (-1 for a code the hierarchy does not know)."""
        if not isinstance(codes, pd.Series | np.ndarray):
            codes = list(codes)
        if len(codes) < 1000:  # a dict lookup beats building a hash table for a handful
            get = self.code_pos.get
            return np.fromiter((get(c, -1) if isinstance(c, str) else -1 for c in codes), dtype=np.int64,
                               count=len(codes))
        if isinstance(codes, pd.Series) and isinstance(codes.dtype, pd.StringDtype):
            # arrow-backed text: look each distinct code up once rather than making a Python string of every row
            row, distinct = pd.factorize(codes, use_na_sentinel=False)
            found = self._code_index.get_indexer(np.asarray(distinct, dtype=object)).astype(np.int64)
            return found[np.asarray(row, dtype=np.int64)]
        return self._code_index.get_indexer(np.asarray(codes, dtype=object)).astype(np.int64)

    def expand(self, keys: np.ndarray, area_positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(key, area) rows -> unique (key, LSOA) rows, sorted by key then LSOA.

        `keys` are small non-negative integers (a service's or allocation's position). Rows with an unknown area
        (-1) are dropped. This is the one place coverage at any level becomes LSOAs. At national size that is
        tens of millions of rows, so the work goes in blocks of whole keys (`CHUNK` rows at most, unless one key
        alone has more): the temporaries stay small, and a block where every key has one area row is already
        sorted and unique (the LSOAs under an area are stored sorted), so only blocks with repeated keys sort.
        """
        keys = np.asarray(keys, dtype=np.int64)
        pos = np.asarray(area_positions, dtype=np.int64)
        ok = pos >= 0
        keys, pos = keys[ok], pos[ok]
        order = np.argsort(keys, kind="stable")
        keys, pos = keys[order], pos[order]
        lens = self.ptr[pos + 1] - self.ptr[pos]
        if len(keys) == 0 or lens.sum() == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        parts = [self._expand_block(keys[b], pos[b], lens[b]) for b in group_blocks(keys, lengths=lens)]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([k for k, _ in parts]), np.concatenate([lsoa for _, lsoa in parts])

    def _expand_block(self, keys: np.ndarray, pos: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`expand` for rows sorted by key."""
        total = int(lens.sum())
        rep_keys = np.repeat(keys, lens)
        offsets = np.repeat(self.ptr[pos] - (np.cumsum(lens) - lens), lens) + np.arange(total, dtype=np.int64)
        lsoas = self.members[offsets]
        if len(keys) < 2 or bool((keys[1:] != keys[:-1]).all()):
            return rep_keys, lsoas
        n = max(self.n_lsoa, 1)
        combined = unique(rep_keys * n + lsoas)
        return combined // n, combined % n

    def under(self, code: str) -> np.ndarray:
        """Positions (in the areas frame's order) of the areas at or below `code`; empty when the code is unknown
        or has no level."""
        pos = self.code_pos.get(code)
        if pos is None or self.level_id[pos] < 0:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(self.area_ancestor[self.level_id[pos]] == pos)

    def lsoas_under(self, codes: object) -> np.ndarray:
        """The LSOAs under any of the given codes (unique, sorted)."""
        pos = self.positions(codes)
        return self.expand(np.zeros(len(pos), dtype=np.int64), pos)[1]

    def units(self, level: str) -> Units:
        """The units of a level (lsoa, district, area, division or force) and the unit of each LSOA."""
        if level not in _LEVEL_ID:
            raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
        cached = self._units.get(level)
        if cached is not None:
            return cached
        if level == "lsoa":
            positions = self.lsoa
            of_lsoa = np.arange(self.n_lsoa, dtype=np.int64)
        else:
            positions = np.flatnonzero(self.level_id == _LEVEL_ID[level])
            unit_of_area = np.full(len(self.codes), -1, dtype=np.int64)
            unit_of_area[positions] = np.arange(len(positions))
            anc = self.lsoa_ancestor[_LEVEL_ID[level]]
            of_lsoa = np.where(anc >= 0, unit_of_area[np.maximum(anc, 0)], -1)
        population = np.bincount(of_lsoa[of_lsoa >= 0], weights=self.population[of_lsoa >= 0],
                                 minlength=len(positions))
        units = Units(level, positions, self.codes[positions], self.names[positions], of_lsoa, population)
        self._units[level] = units
        return units

    def unit_of_areas(self, level: str, area_positions: np.ndarray) -> np.ndarray:
        """The unit (at `level`) containing each area, -1 when the area is above that level or unknown."""
        units = self.units(level)
        pos = np.asarray(area_positions, dtype=np.int64)
        unit_of_area = np.full(len(self.codes), -1, dtype=np.int64)
        unit_of_area[units.positions] = np.arange(len(units))
        anc = np.where(pos >= 0, self.area_ancestor[_LEVEL_ID[level], np.maximum(pos, 0)], -1)
        return np.where(anc >= 0, unit_of_area[np.maximum(anc, 0)], -1)

    @cached_property
    def force_name(self) -> str:
        """The name of the whole the review covers ("Across Lancashire, ..."): the force's; over several forces,
        their common parent's (a root above them in the areas frame), or else the nation's (`NATION`: the
        national database's 43 forces have no root), never one of the forces standing for all of them."""
        force = np.flatnonzero(self.level_id == _LEVEL_ID["force"])
        if len(force) == 0:
            return "the force"
        if len(force) == 1:
            return str(self.names[force[0]])
        roots = unique(self.parent[force])
        return str(self.names[roots[0]]) if len(roots) == 1 and roots[0] >= 0 else NATION

    def lookup(self) -> pd.DataFrame:
        """One row per LSOA: its district and area (codes and names) and its population used by the review."""
        out = {"lsoa_code": self.lsoa_codes, "lsoa_name": self.names[self.lsoa]}
        for level in ("district", "area"):
            anc = self.lsoa_ancestor[_LEVEL_ID[level]]
            out[f"{level}_code"] = np.where(anc >= 0, self.codes[np.maximum(anc, 0)], None)
            out[f"{level}_name"] = np.where(anc >= 0, self.names[np.maximum(anc, 0)], None)
        out["population"] = self.population
        out["population_is_estimate"] = self.population_is_estimate
        return pd.DataFrame(out)

    def resolve(self, code_or_name: str, levels: tuple[str, ...] = ("area", "district")) -> int:
        """The position of an area given by code or name, matched as `services_db.hierarchy.normalise_name`
        matches (the one normalisation: case, spacing and "and"/"&" do not matter).

        Raises KeyError listing nothing; callers show `names_at(levels)` so the user can pick a valid one.
        """
        wanted = normalise_name(code_or_name)
        for level in levels:
            units = self.units(level)
            for pos, code, name in zip(units.positions, units.codes, units.names, strict=True):
                if wanted in (normalise_name(code), normalise_name(name)):
                    return int(pos)
        raise KeyError(code_or_name)

    def names_at(self, levels: tuple[str, ...] = ("area", "district")) -> list[str]:
        """The names a user may give to `resolve`, level by level (a district named like its area once)."""
        return list(dict.fromkeys(str(n) for level in levels for n in self.units(level).names))


_FRAMES: IdentityMemo[Geography] = IdentityMemo(8)  # areas frame -> its Geography


def geography_of(data: Snapshot | pd.DataFrame) -> Geography:
    """The Geography of a snapshot, or of a bare `areas` frame, built once.

    A snapshot keeps its Geography on itself (`snapshot.prepared.geo`: one per data version, gone with the
    snapshot). A bare frame (`services_db.need` passes one) is looked up by identity through a weak reference
    among the last few frames seen, which include every snapshot's own areas frame, so the two share one.
    """
    if not isinstance(data, pd.DataFrame):
        return data.prepared.geo
    return frame_geography(data)


def frame_geography(areas: pd.DataFrame) -> Geography:
    """The Geography of an areas frame (treated as immutable), from the small identity memo or built and kept."""
    return _FRAMES.get(areas, Geography)


def check_level(level: str) -> str:
    if level not in REVIEW_LEVELS:
        raise ValueError(f"level must be one of {REVIEW_LEVELS}, not {level!r}")
    return level
