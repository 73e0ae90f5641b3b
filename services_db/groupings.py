"""The force's own place-based areas: dated groupings of districts (and LSOA sets) into areas (issue 15, point 4).

A force regroups its districts now and then ("Burnley & Pendle" becomes "Burnley" and "Pendle"; a town centre
becomes an area of its own). The facts (services, money, need) do not change when it does; what changes is which
place-based area each LSOA is reviewed in, from a date on. So a grouping is kept beside the data, not written into
it:

- The `area` table holds the grouping loaded from the grouping files (`services_db.boundaries`). It is the first
  grouping (`base_grouping`) and applies from the beginning. It is read from `area`, never copied.
- An administrator saves later groupings (`save_grouping`: role `edit_grouping`, audited, bumps the data version)
  in `place_grouping` with the date from which each applies; `grouping_at(db, date)` is the one in force on a date.
- `regroup(snapshot, grouping)` is a pure function: the same snapshot with the grouping's areas. The review, the
  area pages and the briefings need no change to follow a grouping: they read the regrouped snapshot.

A grouping's area is either a union of whole districts or an LSOA set lying inside one district ("an area smaller
than a district"). The area tree (`services_db.hierarchy.Hierarchy`) gives every area one parent, and a district
must keep all its LSOAs (services, allocations and need figures name districts, and "covers Burnley" must keep
meaning all of Burnley), so an area smaller than a district is placed *inside* its district:

    LSOA (carved out) -> area smaller than a district -> its district -> the area holding the rest -> division
    LSOA (the rest)   ->                                  its district -> the area holding the rest -> division

Each LSOA's area is the nearest area above it (how `Hierarchy` and the review's `Geography` read the tree), so the
carved LSOAs are in the small area and the others in the area holding the district; the district is still above
all its LSOAs; division and force come through the district's area. That is the smallest rule that keeps the tree
valid. Its consequences: an area smaller than a district is in the division of the area holding the rest of its
district; it has no district under it (`descendants(area, "district")` is empty) and its LSOAs' parent_code is the
area, not the district (code asking for an LSOA's district must use `Hierarchy.ancestor_at(code, "district")`, not
parent_code); an area of whole districts may have lost some of a district's LSOAs to such an area.

References keep their LSOAs: a service, allocation, plan or fund naming a place-based area or a division whose
LSOAs the grouping changes (or removes) is re-pointed by `regroup` at the same LSOAs (the whole districts and the
odd LSOAs they were), so regrouping never moves a service. A need figure recorded for such an area describes a
place the grouping no longer has and is left out (district and LSOA figures, where need data are, stay).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import delete, select

from services_db import audit
from services_db.db import Database, bump_data_version
from services_db.hierarchy import Hierarchy, hierarchy_of, normalise_name
from services_db.models import Area, PlaceGrouping, PlaceGroupingArea, PlaceGroupingMember, utcnow
from services_db.permissions import Actor, require
from services_db.snapshot import Snapshot

BASE_NAME = "From the grouping files"
MAX_NAME = 120
SHOWN = 8  # codes named in one message before "and N more"


class GroupingError(ValueError):
    """A grouping that cannot be saved or applied; `problems` says why, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class GroupedArea:
    """A place-based area of a grouping: whole districts, or (an area smaller than a district) LSOAs of one."""

    code: str
    name: str
    division_code: str | None
    districts: tuple[str, ...] = ()
    lsoas: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grouping:
    """One grouping of a force's districts and LSOAs into place-based areas, in force from `applies_from`.

    `base` marks the grouping the `area` table holds (applies from the beginning, `applies_from` None); `id` is the
    stored grouping's id (None for the base and for a draft not yet saved)."""

    force_code: str
    name: str
    applies_from: dt.date | None
    areas: tuple[GroupedArea, ...]
    id: int | None = None
    base: bool = False
    created_by: str = ""
    created_at: dt.datetime | None = None
    note: str = ""
    key: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        raw = repr([(a.code, a.name, a.division_code, a.districts, a.lsoas) for a in self.areas])
        object.__setattr__(self, "key", hashlib.sha256(f"{self.force_code}|{raw}".encode()).hexdigest()[:12])

    @property
    def applies_from_text(self) -> str:
        return "the beginning" if self.applies_from is None else f"{self.applies_from:%-d %B %Y}"

    def area_named(self, name: str) -> GroupedArea | None:
        wanted = normalise_name(name)
        return next((a for a in self.areas if normalise_name(a.name) == wanted), None)

    def district_table(self) -> dict[str, str]:
        """District code -> the name of the area holding it (its whole, or the rest of it)."""
        return {d: a.name for a in self.areas for d in a.districts}

    def lsoa_sets(self) -> dict[str, tuple[str, ...]]:
        """Area name -> LSOA codes, for the areas smaller than a district."""
        return {a.name: a.lsoas for a in self.areas if a.lsoas}


# -- the force's tree, as a grouping needs it ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Force:
    """The force's districts and LSOAs in one snapshot's tree (in the areas frame's order)."""

    code: str
    name: str
    districts: tuple[str, ...]
    district_name: dict[str, str]
    lsoas_of: dict[str, tuple[str, ...]]
    district_of: dict[str, str]
    lsoas: tuple[str, ...]
    names: dict[str, str]  # every code of the force -> its name
    divisions: dict[str, str]
    codes: frozenset[str]  # every code in the tree (any force)
    homeless: tuple[str, ...]  # LSOAs of the force with no district


def _force_code(tree: Hierarchy, force: str | None) -> str:
    forces = tree.codes_at("force")
    if force is None:
        if len(forces) != 1:
            raise GroupingError([f"Say which force: the data hold {len(forces)} ({', '.join(forces[:SHOWN])})."])
        return forces[0]
    if force not in forces:
        raise GroupingError([f"{force} is not a force in these data."])
    return force


def _force(tree: Hierarchy, force: str | None) -> _Force:
    code = _force_code(tree, force)
    districts = tree.descendants(code, "district")
    lsoas_of = {d: tree.under(d) for d in districts}
    district_of = {lsoa: d for d, ls in lsoas_of.items() for lsoa in ls}
    lsoas = tree.under(code)
    names = {c: str(tree.name_of(c)) for c in (*districts, *lsoas, *tree.descendants(code, "area"))}
    return _Force(code=code, name=str(tree.name_of(code)), districts=districts,
                  district_name={d: names[d] for d in districts}, lsoas_of=lsoas_of, district_of=district_of,
                  lsoas=lsoas, names=names,
                  divisions={d: str(tree.name_of(d)) for d in tree.descendants(code, "division")},
                  codes=frozenset(tree.codes_at(tree.levels)),
                  homeless=tuple(x for x in lsoas if x not in district_of))


def _listed(codes: Iterable[str], names: Mapping[str, str] | None = None) -> str:
    codes = list(codes)
    shown = [f"{names[c]} ({c})" if names and c in names and names[c] != c else c for c in codes[:SHOWN]]
    more = f" and {len(codes) - SHOWN} more" if len(codes) > SHOWN else ""
    return ", ".join(shown) + more


def grouping_of(data: Snapshot | pd.DataFrame | Hierarchy, force: str | None = None, *, name: str = BASE_NAME,
                base: bool = True) -> Grouping:
    """The grouping a tree holds: each district with the area above it, and each LSOA whose area is not its
    district's in an area smaller than a district. Of the `area` table's tree this is the base grouping; of a
    regrouped snapshot it is the grouping applied."""
    tree = data if isinstance(data, Hierarchy) else hierarchy_of(data)
    f = _force(tree, force)
    host = {d: tree.ancestor_at(d, "area") for d in f.districts}
    districts: dict[str, list[str]] = {}
    lsoas: dict[str, list[str]] = {}
    for d in f.districts:
        districts.setdefault(str(host[d]), []).append(d)
    for lsoa in f.lsoas:
        area = tree.ancestor_at(lsoa, "area")
        if area is not None and area != host.get(f.district_of.get(lsoa, "")):
            lsoas.setdefault(area, []).append(lsoa)
    areas = tuple(GroupedArea(code=a, name=str(tree.name_of(a)), division_code=tree.ancestor_at(a, "division"),
                              districts=tuple(districts.get(a, ())), lsoas=tuple(lsoas.get(a, ())))
                  for a in tree.descendants(f.code, "area"))
    return Grouping(force_code=f.code, name=name, applies_from=None, areas=areas, base=base)


# -- validation --------------------------------------------------------------------------------------------------

def validate(grouping: Grouping, data: Snapshot | pd.DataFrame | Hierarchy) -> list[str]:
    """Why `grouping` cannot apply to the tree of `data` (the `area` table's, or a snapshot of it), one sentence
    each naming the area and the districts or LSOAs at fault; empty when it can.

    Every LSOA of the force is in exactly one area; no area is empty; names are given and unique (as people type
    them: case, spaces and "&"/"and" do not matter); an area is not named like a district unless it is exactly that
    district; an area is whole districts or an LSOA set inside one district; divisions are the force's."""
    tree = data if isinstance(data, Hierarchy) else hierarchy_of(data)
    try:
        f = _force(tree, grouping.force_code)
    except GroupingError as exc:
        return exc.problems
    problems: list[str] = []
    if f.homeless:
        problems.append(f"LSOAs with no district cannot be grouped: {_listed(f.homeless, f.names)}.")
    if not grouping.name.strip():
        problems.append("The grouping needs a name.")
    if not grouping.areas:
        problems.append("The grouping has no areas.")
    by_name: dict[str, list[GroupedArea]] = {}
    codes = Counter(a.code for a in grouping.areas)
    for a in grouping.areas:
        if not a.name.strip():
            problems.append(f"An area has no name (its districts: {_listed(a.districts, f.names) or 'none'}).")
        else:
            by_name.setdefault(normalise_name(a.name), []).append(a)
        if codes[a.code] > 1:
            problems.append(f"The code {a.code} is given to {codes[a.code]} areas.")
        elif a.code in f.codes and a.code not in tree.descendants(f.code, "area"):
            problems.append(f"Area “{a.name}” has the code {a.code}, which is already another place's.")
        if a.division_code is not None and not a.lsoas and a.division_code not in f.divisions:
            problems.append(f"Area “{a.name}”: {a.division_code} is not a division of {f.name}.")
        elif a.division_code is None and not a.lsoas and f.divisions:
            problems.append(f"Area “{a.name}” is in no division: say which of {', '.join(f.divisions.values())}.")
    for same in by_name.values():
        if len(same) > 1:
            problems.append(f"{len(same)} areas are called “{same[0].name}”: each area needs a name of its own.")

    holder: dict[str, str] = {}
    for a in grouping.areas:
        unknown = [d for d in a.districts if d not in f.district_name]
        if unknown:
            problems.append(f"Area “{a.name}”: not districts of {f.name}: {_listed(unknown)}.")
        for d in a.districts:
            if d in holder and d in f.district_name:
                problems.append(f"District {f.district_name[d]} is in both “{holder[d]}” and “{a.name}”.")
            holder.setdefault(d, a.name)
    missing = [d for d in f.districts if d not in holder]
    if missing:
        n = sum(len(f.lsoas_of[d]) for d in missing)
        problems.append(f"Not in any area: {_listed(missing, f.district_name)} (their {n} LSOAs would be in no area).")

    in_set: dict[str, str] = {}
    carved: Counter[str] = Counter()
    for a in grouping.areas:
        if not a.lsoas:
            continue
        if a.districts:
            problems.append(f"Area “{a.name}” has both whole districts and an LSOA set: make it one or the other.")
        unknown = [x for x in a.lsoas if x not in f.district_of]
        if unknown:
            problems.append(f"Area “{a.name}”: not LSOAs of {f.name}: {_listed(unknown)}.")
        twice = [x for x in a.lsoas if x in in_set]
        for other in dict.fromkeys(in_set[x] for x in twice):
            both = [x for x in twice if in_set[x] == other]
            problems.append(f"LSOAs in both “{other}” and “{a.name}”: {_listed(both, f.names)}.")
        dupes = [x for x, n in Counter(a.lsoas).items() if n > 1]
        if dupes:
            problems.append(f"Area “{a.name}” lists LSOAs more than once: {_listed(dupes, f.names)}.")
        for x in a.lsoas:
            in_set.setdefault(x, a.name)
        spans = list(dict.fromkeys(f.district_of[x] for x in a.lsoas if x in f.district_of))
        if len(spans) > 1:
            problems.append(f"Area “{a.name}” has LSOAs in {_listed([f.district_name[d] for d in spans])}: an area "
                            "smaller than a district must lie inside one district (give whole districts instead, or "
                            "make one area per district).")
        carved.update(f.district_of[x] for x in set(a.lsoas) if x in f.district_of)
    for a in grouping.areas:
        if not a.districts and not a.lsoas:
            problems.append(f"Area “{a.name}” is empty: give it districts or LSOAs.")
        elif a.districts and not a.lsoas and all(carved[d] >= len(f.lsoas_of.get(d, ())) for d in a.districts
                                                 if d in f.district_name):
            names = _listed([f.district_name.get(d, d) for d in a.districts])
            problems.append(f"Area “{a.name}” has no LSOA left: every LSOA of {names} is in an area smaller than a "
                            "district.")

    district_names = {normalise_name(n): d for d, n in f.district_name.items()}
    for a in grouping.areas:
        d = district_names.get(normalise_name(a.name))
        if d is None:
            continue
        exactly = a.districts == (d,) and not a.lsoas and not carved[d]
        if not exactly:
            problems.append(f"Area “{a.name}” has the name of the district {f.district_name[d]} but is not exactly "
                            "that district: name it otherwise (one name, one place).")
    return list(dict.fromkeys(problems))


# -- making a grouping from the editor's table -------------------------------------------------------------------

def _code_prefix(codes: Iterable[str]) -> tuple[str, int]:
    """The letters the force's area codes start with ("PBA") and their digits' width, for new codes alike."""
    found = [re.fullmatch(r"([A-Za-z\-_]*)(\d+)", c) for c in codes]
    found = [m for m in found if m]
    if not found:
        return "AREA", 2
    prefix = Counter(m.group(1) for m in found).most_common(1)[0][0]
    return prefix, max(len(m.group(2)) for m in found if m.group(1) == prefix)


def _new_codes(n: int, existing: Iterable[str], taken: Iterable[str]) -> list[str]:
    prefix, width = _code_prefix(existing)
    used = set(taken)
    numbers = [int(c[len(prefix):]) for c in used if c.startswith(prefix) and c[len(prefix):].isdigit()]
    start = max(numbers, default=0) + 1
    out = []
    while len(out) < n:
        code = f"{prefix}{start:0{width}d}"
        if code not in used:
            out.append(code)
        start += 1
    return out


def draft(source: Grouping, districts: Mapping[str, str], lsoa_sets: Mapping[str, Iterable[str]],
          data: Snapshot | pd.DataFrame | Hierarchy, *, name: str = "", applies_from: dt.date | None = None,
          divisions: Mapping[str, str] | None = None, taken_codes: Iterable[str] = (), note: str = "") -> Grouping:
    """A new grouping from the editor's table: `districts` (district code -> area name) and `lsoa_sets` (area name
    -> LSOA codes, for areas smaller than a district), edited from `source` (the grouping in force).

    An area keeps the code of the `source` area of the same name (as people type it), so a renamed or regrouped
    area is told apart from one kept; any other area gets a new code after every code in `taken_codes`. Divisions:
    `divisions` (area name -> division code) where given, else the source area's, else the division most of its
    LSOAs were in. An LSOA set that is exactly some whole districts becomes those districts. Nothing is checked
    here: `validate` says what is wrong with the result."""
    tree = data if isinstance(data, Hierarchy) else hierarchy_of(data)
    f = _force(tree, source.force_code)
    divisions = {normalise_name(k): v for k, v in (divisions or {}).items()}
    sets = {str(k).strip(): tuple(dict.fromkeys(str(x).strip() for x in v if str(x).strip()))
            for k, v in lsoa_sets.items() if str(k).strip()}
    table = {d: str(a or "").strip() for d, a in districts.items()}
    for area_name, lsoas in list(sets.items()):  # an LSOA set of whole districts is those districts
        spans = list(dict.fromkeys(f.district_of.get(x) for x in lsoas))
        if lsoas and None not in spans and sum(len(f.lsoas_of[d]) for d in spans) == len(set(lsoas)):
            for d in spans:
                table[d] = area_name
            sets[area_name] = ()
    # Areas in the source's order; a new area where the first source area its LSOAs come from was.
    source_order = {normalise_name(a.name): i for i, a in enumerate(source.areas)}
    source_of = {x: i for i, a in enumerate(source.areas)
                 for x in (*a.lsoas, *(y for d in a.districts for y in f.lsoas_of.get(d, ())))}
    place: dict[str, float] = {}
    for d, a in table.items():
        here = min((source_of.get(x, len(source_order)) for x in f.lsoas_of.get(d, ())), default=len(source_order))
        place[normalise_name(a)] = min(place.get(normalise_name(a), len(source_order)), here)
    for a, ls in sets.items():
        here = min((source_of.get(x, len(source_order)) for x in ls), default=len(source_order))
        place[normalise_name(a)] = min(place.get(normalise_name(a), len(source_order)), here)
    wanted = list(dict.fromkeys([a for a in table.values() if a] + [a for a, ls in sets.items() if ls]))
    position = {a: (source_order.get(normalise_name(a), place.get(normalise_name(a), len(source_order)) + 0.5), i)
                for i, a in enumerate(wanted)}
    order: list[str] = []
    seen: set[str] = set()
    for a in sorted(wanted, key=position.__getitem__):
        if normalise_name(a) not in seen:
            seen.add(normalise_name(a))
            order.append(a)
    by_name = {normalise_name(a.name): a for a in source.areas}
    kept = {normalise_name(a): by_name[normalise_name(a)].code for a in order if normalise_name(a) in by_name}
    fresh = iter(_new_codes(len(order) - len(kept), [a.code for a in source.areas],
                            [*taken_codes, *f.codes, *(a.code for a in source.areas)]))
    source_division = {a.code: a.division_code for a in source.areas}
    area_of_lsoa_before = {x: tree.ancestor_at(x, "area") for x in f.lsoas}
    areas = []
    for a in order:
        key = normalise_name(a)
        members = tuple(d for d in f.districts if normalise_name(table.get(d, "")) == key)
        members += tuple(d for d, n in table.items() if normalise_name(n) == key and d not in f.district_name)
        lsoas = next((ls for n, ls in sets.items() if normalise_name(n) == key), ())
        code = kept.get(key) or next(fresh)
        division = divisions.get(key) or source_division.get(kept.get(key, ""))
        if division is None:
            votes = Counter(tree.ancestor_at(str(area_of_lsoa_before.get(x)), "division")
                            for d in members for x in f.lsoas_of.get(d, ()))
            votes.update(tree.ancestor_at(str(area_of_lsoa_before.get(x)), "division") for x in lsoas)
            votes.pop(None, None)
            division = votes.most_common(1)[0][0] if votes else None
        areas.append(GroupedArea(code=code, name=a, division_code=division, districts=members, lsoas=lsoas))
    return Grouping(force_code=f.code, name=name.strip(), applies_from=applies_from, areas=tuple(areas), note=note)


# -- regrouping a snapshot ----------------------------------------------------------------------------------------

_MEMO: weakref.WeakKeyDictionary[Snapshot, dict[str, Snapshot]] = weakref.WeakKeyDictionary()
_MEMO_LOCK = threading.Lock()
_MEMO_PER_SNAPSHOT = 4


def regroup(snapshot: Snapshot, grouping: Grouping) -> Snapshot:
    """`snapshot` with `grouping`'s place-based areas: a new Snapshot whose `areas` frame has the grouping's areas
    (level "area", population summed from their members, an estimate if any member's is) with districts and LSOAs
    re-parented as the module docstring says, and references to areas or divisions whose LSOAs changed re-pointed
    at the same LSOAs. Its version is the snapshot's plus "+grouping-<id>" ("+grouping-draft-<key>" unsaved).

    The base grouping (the `area` table's own) returns `snapshot` itself. The result is remembered per snapshot
    and grouping (a few per snapshot, held no longer than the snapshot), so a page redraw reuses the regrouped
    snapshot and its review arrays. Raises `GroupingError` when the grouping cannot apply to these data."""
    if grouping.base:
        return snapshot
    memo_key = f"{grouping.id}:{grouping.key}"
    with _MEMO_LOCK:
        done = _MEMO.get(snapshot, {}).get(memo_key)
    if done is not None:
        return done
    result = _regroup(snapshot, grouping)
    with _MEMO_LOCK:
        kept = _MEMO.setdefault(snapshot, {})
        result = kept.setdefault(memo_key, result)
        while len(kept) > _MEMO_PER_SNAPSHOT:
            kept.pop(next(iter(kept)))
    return result


def _regroup(snapshot: Snapshot, grouping: Grouping) -> Snapshot:
    tree = snapshot.hierarchy
    problems = validate(grouping, tree)
    if problems:
        raise GroupingError(problems)
    f = _force(tree, grouping.force_code)
    areas = snapshot.areas.reset_index(drop=True)
    codes = areas["code"].astype(str)
    pop = dict(zip(codes, pd.to_numeric(areas["population"], errors="coerce").astype(float), strict=True))
    estimate = dict(zip(codes, areas["population_is_estimate"].fillna(False).astype(bool), strict=True))

    carved = {x: a.code for a in grouping.areas for x in a.lsoas}
    parent: dict[str, str] = {d: a.code for a in grouping.areas for d in a.districts}
    for x in f.lsoas:
        parent[x] = carved.get(x) or f.district_of[x]
    rows = []
    for a in grouping.areas:
        out: list[str] = []  # LSOAs of its districts carved out into areas smaller than a district
        if a.lsoas:  # inside its district (see the module docstring)
            up, members = f.district_of[a.lsoas[0]], list(a.lsoas)
        else:
            up, members = a.division_code, list(a.districts)
            out = [x for d in a.districts for x in f.lsoas_of[d] if x in carved]
        values = [pop.get(m, float("nan")) for m in members]
        flags = [estimate.get(m, True) for m in members]
        total = float(sum(values))
        if out:
            total -= float(sum(pop.get(x, float("nan")) for x in out))
            flags += [estimate.get(x, True) for x in out]
        rows.append({"code": a.code, "name": a.name, "level": "area", "parent_code": up, "population": total,
                     "population_is_estimate": bool(any(flags))})
    new_rows = pd.DataFrame(rows, columns=list(areas.columns))

    old_areas = set(tree.descendants(f.code, "area"))
    is_old_area = codes.isin(old_areas).to_numpy()
    moved = codes.map(parent)
    parents = areas["parent_code"].where(moved.isna(), moved)
    kept = areas.assign(parent_code=parents)
    first = int(is_old_area.argmax()) if is_old_area.any() else int((codes.isin(f.districts)).to_numpy().argmax())
    before, after = kept.iloc[:first], kept.iloc[first:]
    frame = pd.concat([before[~is_old_area[:first]], new_rows, after[~is_old_area[first:]]], ignore_index=True)
    for column, dtype in areas.dtypes.items():
        if frame[column].dtype != dtype:
            frame[column] = frame[column].astype(dtype)
    new_tree = hierarchy_of(frame)

    rewrite: dict[str, tuple[str, ...]] = {}
    new_codes = set(frame["code"].astype(str))
    changed_divisions = []
    for level in ("area", "division"):
        for c in tree.descendants(f.code, level):
            same = c in new_codes and new_tree.level_of(c) == level and set(new_tree.under(c)) == set(tree.under(c))
            if not same:
                rewrite[c] = _cover(tree, c)
                if level == "division" and c in new_codes:
                    changed_divisions.append(c)
    if changed_divisions:
        frame = _division_populations(frame, new_tree, changed_divisions)
    frames = {fl.name: getattr(snapshot, fl.name) for fl in dataclasses.fields(snapshot)}
    frames["areas"] = frame
    if rewrite:
        frames.update(_repoint(frames, rewrite))
    suffix = f"grouping-{grouping.id}" if grouping.id is not None else f"grouping-draft-{grouping.key}"
    return Snapshot(**frames, version=f"{snapshot.version}+{suffix}")


def _cover(tree: Hierarchy, code: str) -> tuple[str, ...]:
    """The LSOAs under `code` as whole districts and odd LSOAs (in the frame's order): what a reference to an area
    whose LSOAs a grouping changes is re-pointed at."""
    inside = set(tree.under(code))
    out: list[str] = []
    touched = tree.touching(code, "district")
    for d in tree.codes_at("district"):
        if d not in touched:
            continue
        lsoas = tree.under(d)
        out.extend([d] if set(lsoas) <= inside else [x for x in lsoas if x in inside])
    return tuple(out)


def _division_populations(frame: pd.DataFrame, tree: Hierarchy, divisions: list[str]) -> pd.DataFrame:
    """A division whose areas changed: its residents are its areas' (estimates if any of theirs is). Areas smaller
    than a district are among them, and the areas they were carved from no longer count those LSOAs."""
    frame = frame.copy()
    for div in divisions:
        rows = frame["code"].isin(tree.descendants(div, "area"))
        at = frame.index[frame["code"] == div]
        frame.loc[at, "population"] = float(frame.loc[rows, "population"].sum(min_count=1))
        frame.loc[at, "population_is_estimate"] = bool(frame.loc[rows, "population_is_estimate"].any())
    return frame


def _repoint(frames: dict[str, pd.DataFrame], rewrite: Mapping[str, tuple[str, ...]]) -> dict[str, pd.DataFrame]:
    """Frames naming a rewritten code, with the code replaced by its cover (need figures at it left out)."""
    out: dict[str, pd.DataFrame] = {}
    cov = frames["coverage"]
    hit = cov["area_code"].isin(list(rewrite))
    if hit.any():
        exploded = cov.assign(area_code=[rewrite.get(c, (c,)) for c in cov["area_code"]]).explode("area_code")
        out["coverage"] = exploded.drop_duplicates(["service_id", "area_code"]).reset_index(drop=True)
    need = frames["need"]
    gone = need["area_code"].isin(list(rewrite))
    if gone.any():
        out["need"] = need[~gone].reset_index(drop=True)

    def retuple(codes: object) -> object:
        if not isinstance(codes, tuple | list) or not any(c in rewrite for c in codes):
            return codes
        return tuple(dict.fromkeys(x for c in codes for x in rewrite.get(c, (c,))))

    for name, column in (("allocations", "area_codes"), ("plans", "area_codes"), ("funds", "eligible_area_codes")):
        frame = frames[name]
        if column in frame and len(frame):
            values = [retuple(v) for v in frame[column]]
            if any(v is not o for v, o in zip(values, frame[column], strict=True)):
                out[name] = frame.assign(**{column: values})
    return out


# -- stored groupings -------------------------------------------------------------------------------------------

def _tree_of(db: Database) -> Hierarchy:
    """The `area` table as a tree (the base grouping's), read once per data version."""
    version = db.data_version()
    with _STORE_LOCK:
        hit = _TREES.get(version)
    if hit is not None:
        return hit
    with db.sessions() as s:
        rows = s.execute(select(Area.code, Area.name, Area.level, Area.parent_code, Area.population,
                                Area.population_is_estimate)).all()
    frame = pd.DataFrame(rows, columns=["code", "name", "level", "parent_code", "population",
                                        "population_is_estimate"])
    tree = Hierarchy(frame)
    with _STORE_LOCK:
        _TREES.clear()
        _TREES[version] = tree
    return tree


_TREES: dict[str, Hierarchy] = {}
_STORED: dict[tuple[str, str], list[Grouping]] = {}
_STORE_LOCK = threading.Lock()


def base_grouping(db: Database, force: str | None = None) -> Grouping:
    """The grouping the `area` table holds (the grouping files'): the first one, from the beginning."""
    return grouping_of(_tree_of(db), force)


def _stored(db: Database, force: str) -> list[Grouping]:
    """The force's saved groupings, by date (read once per data version: saving one bumps it)."""
    key = (db.data_version(), force)
    with _STORE_LOCK:
        hit = _STORED.get(key)
    if hit is not None:
        return hit
    with db.sessions() as s:
        heads = s.scalars(select(PlaceGrouping).where(PlaceGrouping.force_code == force)
                          .order_by(PlaceGrouping.applies_from)).all()
        ids = [h.id for h in heads]
        areas = s.scalars(select(PlaceGroupingArea).where(PlaceGroupingArea.grouping_id.in_(ids))
                          .order_by(PlaceGroupingArea.grouping_id, PlaceGroupingArea.position)).all()
        members = s.execute(select(PlaceGroupingMember.grouping_id, PlaceGroupingMember.area_code,
                                   PlaceGroupingMember.member_code, PlaceGroupingMember.kind)
                            .where(PlaceGroupingMember.grouping_id.in_(ids))).all()
    tree = _tree_of(db)
    order = {c: i for i, c in enumerate(tree.codes_at(("district", "lsoa")))}
    held: dict[tuple[int, str, str], list[str]] = {}
    for m in members:
        held.setdefault((m.grouping_id, m.area_code, m.kind), []).append(m.member_code)
    for v in held.values():
        v.sort(key=lambda c: (order.get(c, len(order)), c))
    out = []
    for h in heads:
        grouped = tuple(GroupedArea(code=a.code, name=a.name, division_code=a.division_code,
                                    districts=tuple(held.get((h.id, a.code, "district"), ())),
                                    lsoas=tuple(held.get((h.id, a.code, "lsoa"), ())))
                        for a in areas if a.grouping_id == h.id)
        out.append(Grouping(force_code=h.force_code, name=h.name, applies_from=h.applies_from, areas=grouped,
                            id=h.id, created_by=h.created_by, created_at=h.created_at, note=h.note or ""))
    with _STORE_LOCK:
        if len(_STORED) > 16:
            _STORED.clear()
        _STORED[key] = out
    return out


def list_groupings(db: Database, force: str | None = None) -> list[Grouping]:
    """The base grouping, then the saved ones by the date they apply from."""
    base = base_grouping(db, force)
    return [base, *_stored(db, base.force_code)]


def _saved_at(db: Database, when: dt.date | dt.datetime | str, force: str | None) -> Grouping | None:
    """The saved grouping with the latest `applies_from` on or before `when`, or None (the base applies)."""
    day = pd.Timestamp(when).date()
    code = _force_code(_tree_of(db), force)
    applying = [g for g in _stored(db, code) if g.applies_from is not None and g.applies_from <= day]
    return applying[-1] if applying else None


def grouping_at(db: Database, when: dt.date | dt.datetime | str, force: str | None = None) -> Grouping:
    """The grouping in force on `when`: the saved grouping with the latest `applies_from` on or before it, else
    the base. Reads are kept per data version, so after the first call this costs one settings read."""
    return _saved_at(db, when, force) or base_grouping(db, _force_code(_tree_of(db), force))


def taken_codes(db: Database) -> set[str]:
    """Every area code any saved grouping uses (a new area never takes an old area's code)."""
    with db.sessions() as s:
        return set(s.scalars(select(PlaceGroupingArea.code).distinct()))


@dataclass(frozen=True)
class Proposal:
    """What a page shows of a grouping: the grouping, what is wrong with it (empty for a saved one), each LSOA's
    area (for the map) and one row per area (the map's table alternative)."""

    grouping: Grouping
    problems: list[str]
    lsoa_areas: pd.DataFrame  # code, name (LSOA), district, area (name; "" when in none)
    areas: pd.DataFrame  # Area, Code, Division, Districts, LSOAs


LSOA_CODE = re.compile(r"\b[EW]01\d{6}\b", re.IGNORECASE)


def lsoa_codes(text: str) -> tuple[str, ...]:
    """The LSOA codes (E01…/W01…) in pasted text or an uploaded file, once each in the order given: any
    separators, headers or names around them are ignored."""
    return tuple(dict.fromkeys(m.group(0).upper() for m in LSOA_CODE.finditer(text or "")))


def areas_table(grouping: Grouping, data: Snapshot | pd.DataFrame | Hierarchy) -> pd.DataFrame:
    """One row per area of `grouping`: its name, code, division, districts (those it holds only part of marked
    "part of") and how many LSOAs it has."""
    tree = data if isinstance(data, Hierarchy) else hierarchy_of(data)
    f = _force(tree, grouping.force_code)
    per_area = lsoa_areas(grouping, tree)
    counts = per_area["area"].value_counts()
    carved = {f.district_of.get(x) for a in grouping.areas for x in a.lsoas}
    rows = []
    for a in grouping.areas:
        if a.lsoas:
            districts = [f"part of {f.district_name.get(d, d)}" for d in dict.fromkeys(
                f.district_of.get(x, "") for x in a.lsoas)]
        else:
            districts = [f"{f.district_name.get(d, d)}{' (part)' if d in carved else ''}" for d in a.districts]
        division = a.division_code
        if a.lsoas:
            home = next((b for b in grouping.areas if f.district_of.get(a.lsoas[0]) in b.districts), None)
            division = home.division_code if home else division
        rows.append({"Area": a.name, "Code": a.code, "Division": f.divisions.get(division or "", division or ""),
                     "Districts": ", ".join(districts), "LSOAs": int(counts.get(a.name, 0))})
    return pd.DataFrame(rows, columns=["Area", "Code", "Division", "Districts", "LSOAs"])


def editor_table(db: Database, grouping: Grouping) -> pd.DataFrame:
    """The editor's starting table: one row per district of the force (District, Code, Area: the name of the area
    holding it in `grouping`), in the `area` table's order."""
    f = _force(_tree_of(db), grouping.force_code)
    holder = grouping.district_table()
    return pd.DataFrame({"District": [f.district_name[d] for d in f.districts], "Code": list(f.districts),
                         "Area": [holder.get(d, "") for d in f.districts]})


def grouping_view(db: Database, grouping: Grouping) -> Proposal:
    """A saved (or the base) grouping as a page shows it: its LSOAs' areas and its table of areas."""
    tree = _tree_of(db)
    return Proposal(grouping, [], lsoa_areas(grouping, tree), areas_table(grouping, tree))


def propose(db: Database, source: Grouping, districts: Mapping[str, str],
            lsoa_sets: Mapping[str, Iterable[str]], *, name: str = "", applies_from: dt.date | None = None,
            divisions: Mapping[str, str] | None = None) -> Proposal:
    """`draft` from the editor's table, checked (`validate`, and the date against the saved groupings), with each
    LSOA's area for the map preview: the one call the editor makes."""
    tree = _tree_of(db)
    grouping = draft(source, districts, lsoa_sets, tree, name=name, applies_from=applies_from,
                     divisions=divisions, taken_codes=taken_codes(db))
    problems = validate(grouping, tree) + _date_problems(db, grouping)
    return Proposal(grouping, problems, lsoa_areas(grouping, tree), areas_table(grouping, tree))


def _date_problems(db: Database, grouping: Grouping) -> list[str]:
    if grouping.applies_from is None:
        return ["Say from which date the grouping applies."]
    same = [g for g in _stored(db, grouping.force_code) if g.applies_from == grouping.applies_from]
    if same:
        return [f"“{same[0].name}” already applies from {grouping.applies_from:%-d %B %Y}: pick another date."]
    return []


def lsoa_areas(grouping: Grouping, data: Snapshot | pd.DataFrame | Hierarchy) -> pd.DataFrame:
    """Each LSOA of the force with its district and its area in `grouping` (for a map or a table of it)."""
    tree = data if isinstance(data, Hierarchy) else hierarchy_of(data)
    f = _force(tree, grouping.force_code)
    area = {x: a.name for a in grouping.areas for d in a.districts for x in f.lsoas_of.get(d, ())}
    area.update({x: a.name for a in grouping.areas for x in a.lsoas})
    return pd.DataFrame({"code": list(f.lsoas), "name": [f.names[x] for x in f.lsoas],
                         "district": [f.district_name.get(f.district_of.get(x, ""), "") for x in f.lsoas],
                         "area": [area.get(x, "") for x in f.lsoas]})


def save_grouping(db: Database, actor: Actor, grouping: Grouping) -> Grouping:
    """Save a new grouping (administrators only): checked against the `area` table and the saved groupings'
    dates, written with its areas and members, audited and the data version bumped in one transaction. Returns
    it as stored (with its id). Raises `GroupingError` listing every problem, and saves nothing, when it cannot
    apply."""
    if len(grouping.name.strip()) > MAX_NAME:
        raise GroupingError([f"A grouping's name has at most {MAX_NAME} characters."])
    problems = validate(grouping, _tree_of(db)) + _date_problems(db, grouping)
    if problems:
        raise GroupingError(problems)
    with db.sessions() as s, s.begin():
        who = require(actor, "edit_grouping", s)
        clash = s.scalars(select(PlaceGrouping.name).where(PlaceGrouping.force_code == grouping.force_code,
                                                           PlaceGrouping.applies_from == grouping.applies_from)).first()
        if clash is not None:  # saved by someone else since the check
            raise GroupingError([f"“{clash}” already applies from {grouping.applies_from:%-d %B %Y}."])
        row = PlaceGrouping(force_code=grouping.force_code, name=grouping.name.strip(),
                            applies_from=grouping.applies_from, note=grouping.note, created_by=who.username,
                            created_at=utcnow())
        s.add(row)
        s.flush()
        for i, a in enumerate(grouping.areas):
            s.add(PlaceGroupingArea(grouping_id=row.id, code=a.code, name=a.name.strip(),
                                    division_code=a.division_code, position=i))
            s.add_all([PlaceGroupingMember(grouping_id=row.id, member_code=d, area_code=a.code, kind="district")
                       for d in a.districts])
            s.add_all([PlaceGroupingMember(grouping_id=row.id, member_code=x, area_code=a.code, kind="lsoa")
                       for x in a.lsoas])
        audit.record(s, who.username, "create", "place_grouping", f"{row.id}", None, _audited(grouping))
        bump_data_version(s)
        stored = dataclasses.replace(grouping, id=row.id, created_by=who.username, created_at=row.created_at,
                                     name=row.name)
    return stored


def delete_grouping(db: Database, actor: Actor, grouping_id: int) -> None:
    """Remove a saved grouping (administrators only; audited; bumps the data version): from its date on, the
    grouping before it applies again. The base grouping is the `area` table's and cannot be removed here."""
    with db.sessions() as s, s.begin():
        who = require(actor, "edit_grouping", s)
        row = s.get(PlaceGrouping, grouping_id)
        if row is None:
            raise GroupingError([f"There is no saved grouping {grouping_id}."])
        before = next((g for g in _stored(db, row.force_code) if g.id == grouping_id), None)
        s.execute(delete(PlaceGroupingMember).where(PlaceGroupingMember.grouping_id == grouping_id))
        s.execute(delete(PlaceGroupingArea).where(PlaceGroupingArea.grouping_id == grouping_id))
        s.execute(delete(PlaceGrouping).where(PlaceGrouping.id == grouping_id))
        audit.record(s, who.username, "delete", "place_grouping", f"{grouping_id}",
                     _audited(before) if before else {"name": row.name}, None)
        bump_data_version(s)


def _audited(g: Grouping) -> dict:
    return {"name": g.name, "force_code": g.force_code,
            "applies_from": g.applies_from.isoformat() if g.applies_from else None, "note": g.note,
            "areas": [{"code": a.code, "name": a.name, "division_code": a.division_code,
                       "districts": list(a.districts), "lsoas": list(a.lsoas)} for a in g.areas]}


def snapshot_at(db: Database, when: dt.date | dt.datetime | str, data: Snapshot | None = None) -> Snapshot:
    """The snapshot a review as at `when` reads: the database's (`queries.review_data`, one force unless the app is
    configured for all) with the place-based grouping in force on that date (`grouping_at`). With no saved
    grouping, or a snapshot of several forces (the national view keeps the grouping files' areas), it is the
    snapshot itself. Raises `GroupingError` when a saved grouping cannot apply to the data (a district it names is
    gone): the caller says so rather than showing areas that no longer add up."""
    from services_db.queries import review_data

    data = review_data(db) if data is None else data
    forces = data.areas.loc[data.areas["level"] == "force", "code"].tolist()
    if len(forces) != 1:
        return data
    saved = _saved_at(db, when, forces[0])  # every page run asks: no base grouping is built when none is saved
    return data if saved is None else regroup(data, saved)
