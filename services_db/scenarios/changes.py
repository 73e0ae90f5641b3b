"""The changes a what-if scenario is made of, each a pure function from one snapshot to another.

A scenario never touches the records: `apply` copies the frames it changes and returns a new `Snapshot` whose
version names the base version and the changes, so every cache keyed on the data version keeps the actual review
and the scenario's apart. Services and allocations a change adds get ids above every id in the snapshot (the
review's arrays take only non-negative ids) and say "Scenario" in their names, so a scenario's figure can never be
mistaken for a real one; they exist only in the scenario's snapshot, never in the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import ClassVar

import numpy as np
import pandas as pd

from services_db.counting import allocations_are_money, period_contains
from services_db.hierarchy import Hierarchy, UnknownAreaName
from services_db.review.allocations import counted, fund_rows
from services_db.review.apportion import split_pence, spread
from services_db.review.context import Context, ids, tuples
from services_db.review.fair_share import POPULATION, fair_share
from services_db.snapshot import Snapshot


class ScenarioError(ValueError):
    """A change that cannot be applied to this data (unknown fund, area, service; more money than there is)."""


def _when(value: object) -> pd.Timestamp:
    return pd.Timestamp(value) if value not in (None, "") else pd.NaT


def _code(tree: Hierarchy, name: str, what: str) -> str:
    try:
        return tree.resolve(name, ("area", "district"))
    except UnknownAreaName:
        raise ScenarioError(f"{what}: there is no area or district called “{name}”") from None


def _districts(tree: Hierarchy, code: str) -> tuple[str, ...]:
    return tree.descendants(code, "district") or (code,)


def _inside(tree: Hierarchy, codes: object, area: str) -> bool:
    """Whether every code of `codes` (districts or LSOAs) lies in `area`: money there is money of that area."""
    codes = tuple(codes) if isinstance(codes, (tuple, list, np.ndarray)) else ()
    return bool(codes) and all(area in (c, tree.ancestor_at(c, "area"), tree.ancestor_at(c, "district"))
                               for c in codes)


def _next_id(*columns: pd.Series) -> int:
    """A new id above every id the columns hold."""
    return max([0, *(int(pd.to_numeric(c, errors="coerce").max()) for c in columns if c.notna().any())]) + 1


def _share_out(amounts: pd.Series, cut: float) -> pd.Series:
    """`amounts` less `cut` in all, in proportion, to the penny (the last penny on the largest)."""
    total = float(amounts.sum())
    pence = np.round(amounts.to_numpy(dtype=float) * 100).astype(np.int64)
    take = np.floor(pence * (round(cut * 100) / round(total * 100))).astype(np.int64)
    if len(take):
        take[int(np.argmax(pence))] += int(round(cut * 100)) - int(take.sum())
    return pd.Series((pence - take) / 100.0, index=amounts.index)


@dataclass(frozen=True)
class Change:
    """One change of a scenario; `kind` names it in the stored JSON."""

    kind: ClassVar[str] = ""

    def to_dict(self) -> dict:
        return {"kind": self.kind, **{k: (v.isoformat() if isinstance(v, dt.date) else v)
                                      for k, v in asdict(self).items()}}

    def describe(self, snap: Snapshot) -> str:  # pragma: no cover - each change says what it is
        raise NotImplementedError

    def apply(self, frames: dict[str, pd.DataFrame], snap: Snapshot) -> None:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class MoveMoney(Change):
    """Move `amount` a year of a fund from one area to another, for a theme: the fund's allocations and funding
    lines in `from_area` shrink in proportion, and a scenario service in `to_area` (the theme, the fund's period)
    receives the money as a funding line and an allocation."""

    kind: ClassVar[str] = "move_money"
    fund_key: str
    from_area: str
    to_area: str
    amount: float
    theme_key: str

    def describe(self, snap: Snapshot) -> str:
        fund = snap.funds.set_index("fund_key")["name"].get(self.fund_key, self.fund_key)
        theme = snap.themes.set_index("theme_key")["name"].get(self.theme_key, self.theme_key)
        return (f"Move £{self.amount:,.0f} a year of {fund} from {self.from_area} to {self.to_area} "
                f"({theme.lower()})")

    def apply(self, frames: dict[str, pd.DataFrame], snap: Snapshot) -> None:
        tree = snap.hierarchy
        if self.amount <= 0:
            raise ScenarioError("Move money: the amount must be more than £0")
        funds = snap.funds.set_index("fund_key")
        if self.fund_key not in funds.index:
            raise ScenarioError(f"Move money: there is no fund “{self.fund_key}”")
        if self.theme_key not in set(snap.themes["theme_key"]):
            raise ScenarioError(f"Move money: there is no theme “{self.theme_key}”")
        src, dst = _code(tree, self.from_area, "Move money (from)"), _code(tree, self.to_area, "Move money (to)")
        alloc = frames["allocations"]
        mine = ((alloc["fund_key"] == self.fund_key) & allocations_are_money(alloc["status"])
                & alloc["area_codes"].map(lambda c: _inside(tree, c, src)))
        held = float(alloc.loc[mine, "amount"].sum())
        if held < self.amount:
            raise ScenarioError(f"Move money: only £{held:,.0f} of {funds.at[self.fund_key, 'name']} is allocated "
                                f"in {tree.name_of(src)}; £{self.amount:,.0f} cannot be moved")
        share = self.amount / held
        alloc = alloc.copy()
        alloc.loc[mine, "amount"] = _share_out(alloc.loc[mine, "amount"], self.amount)
        lines = frames["funding_lines"].copy()
        cover = frames["coverage"].groupby("service_id")["area_code"].agg(tuple)
        theirs = (lines["fund_key"] == self.fund_key) & lines["service_id"].map(
            lambda s: _inside(tree, cover.get(s, ()), src))
        if theirs.any():
            cut = float(lines.loc[theirs, "annual_amount"].sum()) * share
            lines.loc[theirs, "annual_amount"] = _share_out(lines.loc[theirs, "annual_amount"], cut)
        start, end = funds.at[self.fund_key, "start_date"], funds.at[self.fund_key, "end_date"]
        owner = str(funds.at[self.fund_key, "owner"])
        theme = snap.themes.set_index("theme_key")["name"].get(self.theme_key, self.theme_key)
        sid = _next_id(frames["services"]["service_id"])
        name = f"Scenario: {theme.lower()} in {tree.name_of(dst)} (moved from {tree.name_of(src)})"
        _add_service(frames, sid, name, (self.theme_key,), _districts(tree, dst), start, end, owner)
        frames["funding_lines"] = pd.concat([lines, pd.DataFrame([{
            "service_id": sid, "commissioner": owner, "fund_key": self.fund_key, "annual_amount": self.amount,
            "start_date": start, "end_date": end, "is_estimate": False}])], ignore_index=True)
        frames["allocations"] = pd.concat([alloc, pd.DataFrame([{
            "allocation_id": _next_id(alloc["allocation_id"]), "fund_key": self.fund_key,
            "recipient": f"Scenario: {tree.name_of(dst)}", "service_id": float(sid), "amount": self.amount,
            "purpose": f"Scenario: moved from {tree.name_of(src)}", "priorities": (),
            "area_codes": _districts(tree, dst), "planned_start": start, "planned_end": end, "is_estimate": False,
            "parent_allocation_id": np.nan, "status": "awarded", "areas_are_estimate": False}])],
            ignore_index=True)


def _add_service(frames: dict[str, pd.DataFrame], sid: int, name: str, themes: tuple[str, ...],
                 codes: tuple[str, ...], start: object, end: object, commissioner: str) -> None:
    row = {c: None for c in frames["services"].columns}
    row.update(service_id=sid, name=name, provider="Scenario: to be commissioned", provider_sector="",
               tier="", status="active", start_date=_when(start), end_date=_when(end), end_date_is_estimate=False,
               themes=themes, target_groups=(), commissioners=(commissioner,) if commissioner else (),
               known_from=pd.NaT, outside_population=0.0)
    frames["services"] = pd.concat([frames["services"], pd.DataFrame([row])], ignore_index=True)
    frames["coverage"] = pd.concat([frames["coverage"], pd.DataFrame({"service_id": sid, "area_code": codes})],
                                   ignore_index=True)


def _service_name(snap: Snapshot, service_id: int) -> str:
    return str(snap.services.set_index("service_id")["name"].get(service_id, f"service {service_id}"))


def _service_row(frames: dict[str, pd.DataFrame], service_id: int, what: str) -> int:
    hit = np.flatnonzero(frames["services"]["service_id"].to_numpy() == int(service_id))
    if not len(hit):
        raise ScenarioError(f"{what}: there is no service {service_id}")
    return int(hit[0])


@dataclass(frozen=True)
class _NewEndDate(Change):
    """A change to when one service ends (EndService, ExtendFunding): the same two fields, said, looked up and
    written back the same way; each says in `_move` what it does with the date."""

    says: ClassVar[str] = ""  # `describe`'s sentence, with {name} and {date}
    what: ClassVar[str] = ""  # how an error names the change
    service_id: int
    end_date: dt.date

    def describe(self, snap: Snapshot) -> str:
        return self.says.format(name=_service_name(snap, self.service_id),
                                date=f"{pd.Timestamp(self.end_date):%-d %B %Y}")

    def apply(self, frames: dict[str, pd.DataFrame], snap: Snapshot) -> None:
        row, end = _service_row(frames, self.service_id, self.what), _when(self.end_date)
        services, lines = frames["services"].copy(), frames["funding_lines"].copy()
        self._move(services, lines, row, end)
        frames["services"], frames["funding_lines"] = services, lines

    def _move(self, services: pd.DataFrame, lines: pd.DataFrame, row: int,
              end: pd.Timestamp) -> None:  # pragma: no cover - each change moves the date its own way
        raise NotImplementedError


@dataclass(frozen=True)
class EndService(_NewEndDate):
    """End a service (and its funding lines) early, on `end_date`."""

    kind: ClassVar[str] = "end_service"
    says: ClassVar[str] = "End {name} on {date}"
    what: ClassVar[str] = "End a service"

    def _move(self, services: pd.DataFrame, lines: pd.DataFrame, row: int, end: pd.Timestamp) -> None:
        old = services.at[row, "end_date"]
        services.loc[row, "end_date"] = end if pd.isna(old) else min(old, end)
        services.loc[row, "end_date_is_estimate"] = False
        mine = lines["service_id"] == self.service_id
        lines.loc[mine, "end_date"] = lines.loc[mine, "end_date"].map(lambda e: end if pd.isna(e) else min(e, end))


@dataclass(frozen=True)
class ExtendFunding(_NewEndDate):
    """Extend a service's funding to `end_date`: the funding lines that end last, and the service's own end
    date when it is earlier. Nothing is shortened; a service with no dated funding line cannot be extended."""

    kind: ClassVar[str] = "extend_funding"
    says: ClassVar[str] = "Extend the funding of {name} to {date}"
    what: ClassVar[str] = "Extend funding"

    def _move(self, services: pd.DataFrame, lines: pd.DataFrame, row: int, end: pd.Timestamp) -> None:
        mine = (lines["service_id"] == self.service_id) & lines["end_date"].notna()
        if not mine.any():
            raise ScenarioError(f"{self.what}: service {self.service_id} has no funding line with an end date")
        last = lines.loc[mine, "end_date"].max()
        lines.loc[mine & (lines["end_date"] == last) & (last < end), "end_date"] = end
        old = services.at[row, "end_date"]
        if pd.notna(old) and old < end:
            services.loc[row, "end_date"] = end
            services.loc[row, "end_date_is_estimate"] = False


@dataclass(frozen=True)
class ChangeCoverage(Change):
    """Extend or shrink where a service works: areas, districts or LSOAs added or taken away."""

    kind: ClassVar[str] = "change_coverage"
    service_id: int
    add: tuple[str, ...] = field(default_factory=tuple)
    remove: tuple[str, ...] = field(default_factory=tuple)

    def describe(self, snap: Snapshot) -> str:
        name = _service_name(snap, self.service_id)
        parts = ([f"add {', '.join(self.add)}"] if self.add else []) + (
            [f"take away {', '.join(self.remove)}"] if self.remove else [])
        return f"Change where {name} works: " + "; ".join(parts)

    def apply(self, frames: dict[str, pd.DataFrame], snap: Snapshot) -> None:
        _service_row(frames, self.service_id, "Change coverage")
        tree = snap.hierarchy
        add = tuple(c for a in self.add for c in _districts(tree, _code(tree, a, "Change coverage")))
        drop = {c for a in self.remove for c in _districts(tree, _code(tree, a, "Change coverage"))}
        cov = frames["coverage"]
        keep = ~((cov["service_id"] == self.service_id) & (cov["area_code"].isin(drop)
                                                           | cov["area_code"].map(
                                                               lambda c: tree.ancestor_at(c, "district") in drop)))
        new = pd.DataFrame({"service_id": self.service_id, "area_code": add})
        frames["coverage"] = pd.concat([cov[keep], new], ignore_index=True).drop_duplicates()


@dataclass(frozen=True)
class AddService(Change):
    """A planned service with its funding, theme and areas."""

    kind: ClassVar[str] = "add_service"
    name: str
    theme_key: str
    areas: tuple[str, ...]
    annual_amount: float
    start_date: dt.date
    end_date: dt.date
    fund_key: str = ""

    def describe(self, snap: Snapshot) -> str:
        return (f"Add “{self.name}” in {', '.join(self.areas)} (£{self.annual_amount:,.0f} a year, "
                f"{pd.Timestamp(self.start_date):%B %Y} to {pd.Timestamp(self.end_date):%B %Y})")

    def apply(self, frames: dict[str, pd.DataFrame], snap: Snapshot) -> None:
        tree = snap.hierarchy
        if self.theme_key not in set(snap.themes["theme_key"]):
            raise ScenarioError(f"Add a service: there is no theme “{self.theme_key}”")
        codes = tuple(c for a in self.areas for c in _districts(tree, _code(tree, a, "Add a service")))
        sid = _next_id(frames["services"]["service_id"])
        owner = ""
        if self.fund_key:
            funds = snap.funds.set_index("fund_key")
            if self.fund_key not in funds.index:
                raise ScenarioError(f"Add a service: there is no fund “{self.fund_key}”")
            owner = str(funds.at[self.fund_key, "owner"])
        _add_service(frames, sid, f"Scenario: {self.name}", (self.theme_key,), codes, self.start_date,
                     self.end_date, owner)
        frames["funding_lines"] = pd.concat([frames["funding_lines"], pd.DataFrame([{
            "service_id": sid, "commissioner": owner or "Scenario", "fund_key": self.fund_key or None,
            "annual_amount": float(self.annual_amount), "start_date": _when(self.start_date),
            "end_date": _when(self.end_date), "is_estimate": False}])], ignore_index=True)


def _weights(raw: object) -> tuple[tuple[str, float], ...]:
    """A formula's weights ({"population": 0.5, key: 0.5}, or its (key, weight) pairs) as hashable pairs."""
    try:
        items = raw.items() if isinstance(raw, Mapping) else tuple(raw or ())
        return tuple((str(k), float(v)) for k, v in items)
    except (TypeError, ValueError):
        raise ScenarioError(f"Fair share: the weights must be factor: weight pairs, not {raw!r}") from None


def _percent(weight: float) -> str:
    return f"{round(weight * 100, 1):g}%"


def _now(frames: dict[str, pd.DataFrame], snap: Snapshot) -> Snapshot:
    """The snapshot as the changes before this one left it (`snap` itself when they changed nothing)."""
    if all(frames[f.name] is getattr(snap, f.name) for f in fields(snap)):
        return snap
    return Snapshot(**frames)


def _placed_rows(ctx: Context, rows: np.ndarray, live: np.ndarray, n_units: int) -> tuple[np.ndarray, ...]:
    """Each of the fund's allocation rows: its own piece of money at the date (what stays with it once its
    breakdowns have theirs, each pound once) and that piece's pounds per district, as the review places them
    (`services_db.review.allocations`: the tree's amounts passed down, a breakdown with no areas inheriting its
    parent's, spread by population). Returns (piece, per-district matrix, placed anywhere, codes)."""
    frame = ctx.data.allocations.iloc[rows]
    n = len(rows)
    own, up = ids(frame["allocation_id"]), ids(frame["parent_allocation_id"])
    where = {int(x): i for i, x in enumerate(own.tolist())}
    parent = np.array([where.get(int(p), -1) for p in up.tolist()], dtype=np.int64)
    parent[parent == np.arange(n)] = -1
    amount = np.where(live, pd.to_numeric(frame["amount"], errors="coerce").fillna(0.0).to_numpy(float), 0.0)
    depth, cur = np.zeros(n, dtype=np.int64), parent.copy()
    for _ in range(16):
        going = cur >= 0
        if not going.any():
            break
        depth[going] += 1
        cur = np.where(going, parent[np.maximum(cur, 0)], -1)
    parent[depth >= 16], depth[depth >= 16] = -1, 0  # a cycle: top level, as the review treats it
    top = parent < 0
    codes = tuples(frame["area_codes"])
    value = np.where(top, amount, 0.0)
    children = np.bincount(parent[~top], weights=amount[~top], minlength=n)
    for d in range(1, int(depth.max(initial=0)) + 1):
        at = np.flatnonzero(depth == d)
        p = parent[at]
        value[at] = amount[at] * np.where(children[p] > value[p], value[p] / np.where(children[p] > 0,
                                                                                       children[p], 1), 1)
        for i, pi in zip(at.tolist(), p.tolist(), strict=True):
            codes[i] = codes[i] or codes[pi]
    piece = np.maximum(value - np.bincount(parent[~top], weights=value[~top], minlength=n), 0.0)
    geo = ctx.geo
    lens = np.array([len(c) for c in codes], dtype=np.int64)
    k1, l1 = geo.expand(np.repeat(np.arange(n), lens), geo.positions([c for t in codes for c in t]))
    whole = np.flatnonzero(lens == 0)
    k = np.concatenate([k1, np.repeat(whole, geo.n_lsoa)])
    lsoa = np.concatenate([l1, np.tile(np.arange(geo.n_lsoa), len(whole))])
    order = np.argsort(k, kind="stable")
    k, lsoa = k[order], lsoa[order]
    money = spread(k, geo.population[lsoa], piece)
    unit = geo.units("district").of_lsoa[lsoa]
    inside = unit >= 0
    matrix = np.zeros((n, n_units))
    np.add.at(matrix, (k[inside], unit[inside]), money[inside])
    return piece, matrix, np.bincount(k[inside], minlength=n) > 0, codes


def _codes_in(tree: Hierarchy, codes: tuple[str, ...], district: str) -> tuple[str, ...]:
    """The part of `codes` (any level; none is the whole force) that lies in `district`."""
    out = []
    for c in codes:
        up = tree.ancestor_at(c, "district")
        if up == district:
            out.append(c)
        elif up is None and district in tree.descendants(c, "district"):
            out.append(district)
    return tuple(dict.fromkeys(out)) or (district,)


def _service_districts(tree: Hierarchy, codes: tuple[str, ...]) -> frozenset[str]:
    out: set[str] = set()
    for c in codes:
        up = tree.ancestor_at(c, "district")
        out.update((up,) if up else tree.descendants(c, "district"))
    return frozenset(out)


@dataclass(frozen=True)
class FairShareReallocation(Change):
    """Share a fund's money out again by a fair-share formula (review.md "Fair share"; the weights the review's
    calculator takes: "population" and need indicator keys, adding up to 1).

    The money is the fund's awarded or paid allocations at the fair-share calculator's date (the start of the
    fund's period; for a fund paid year by year, its first year's allocations: later years' are left as they
    are), each pound once; the total is unchanged to the penny. Every district (or every area the fund
    is open to) gets its fair share: the money its existing allocations placed there is scaled to it (an
    allocation reaching several districts is split into one part per district, each scaled to that district's
    share; breakdowns become allocations of their own so no pound counts twice), and a district no allocation
    reached gets a scenario allocation ("Scenario: fair share") paying a scenario service there (with the fund's
    themes). The fund's funding lines follow: a service in one district is scaled as that district's money is; a
    service covering several, by the new money of its districts over their old.
    """

    kind: ClassVar[str] = "fair_share"
    fund_key: str
    weights: tuple[tuple[str, float], ...] | Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _weights(self.weights))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "fund_key": self.fund_key, "weights": dict(self.weights)}

    def describe(self, snap: Snapshot) -> str:
        fund = snap.funds.set_index("fund_key")["name"].get(self.fund_key, self.fund_key)
        names = dict(zip(snap.indicators["indicator_key"], snap.indicators["name"], strict=True))
        formula = ", ".join(f"{_percent(w)} {'population' if k == POPULATION else names.get(k, k)}"
                            for k, w in self.weights)
        return f"Reallocate {fund} by fair share ({formula})"

    def _check(self, snap: Snapshot) -> None:
        what = "Fair share"
        if self.fund_key not in set(snap.funds["fund_key"]):
            raise ScenarioError(f"{what}: there is no fund “{self.fund_key}”")
        known = set(snap.indicators["indicator_key"])
        unknown = [k for k, _ in self.weights if k != POPULATION and k not in known]
        if unknown:
            some = sorted(known)[:8]
            raise ScenarioError(f"{what}: there is no need indicator “{unknown[0]}” (a formula weighs “population” "
                                f"and indicators such as {', '.join(f'“{k}”' for k in some)})")
        total = sum(w for _, w in self.weights)
        if not self.weights or any(w < 0 for _, w in self.weights) or abs(total - 1.0) > 1e-6:
            raise ScenarioError(f"{what}: the weights must be 0 or more and add up to 1 (100%); these add up to "
                                f"{_percent(total)}")

    def apply(self, frames: dict[str, pd.DataFrame], snap: Snapshot) -> None:
        self._check(snap)
        now = _now(frames, snap)
        tree = now.hierarchy
        funds = now.funds.set_index("fund_key")
        fund, start, end = funds.at[self.fund_key, "name"], funds.at[self.fund_key, "start_date"], \
            funds.at[self.fund_key, "end_date"]
        owner = str(funds.at[self.fund_key, "owner"])
        ctx = Context(now, None if pd.isna(_when(start)) else start)  # the fair-share calculator's date
        rows = fund_rows(ctx, self.fund_key)
        live = counted(ctx)[rows]
        units = ctx.geo.units("district")
        piece, matrix, placed, codes = _placed_rows(ctx, rows, live, len(units))
        held = matrix.sum(axis=0)  # the fund's money per district now
        if not live.any() or held.sum() <= 0:
            raise ScenarioError(f"Fair share: {fund} has no awarded or paid money at {ctx.as_at:%-d %B %Y}; "
                                f"there is nothing to reallocate")
        try:
            fair = fair_share(now, self.fund_key, weights=dict(self.weights), level="district", as_at=ctx.as_at)
        except ValueError as exc:
            raise ScenarioError(f"Fair share: {exc}") from None
        mix = fair.set_index("area_code")["fair_share_share"].reindex(units.codes).fillna(0.0).to_numpy(float)
        top = live & np.isnan(pd.to_numeric(now.allocations["parent_allocation_id"].iloc[rows],
                                            errors="coerce").to_numpy(float))
        amounts = pd.to_numeric(now.allocations["amount"].iloc[rows], errors="coerce").fillna(0.0).to_numpy(float)
        pence = int(round(amounts[top].sum() * 100)) - int(np.round(piece[live & ~placed] * 100).sum())
        target = split_pence(np.zeros(len(units), dtype=np.int64), mix, np.array([pence]))  # per district
        d_of, r_of = np.nonzero(matrix.T > 1e-9)  # (district, row) parts, by district
        part_pence = split_pence(d_of, matrix[r_of, d_of], target)

        alloc = frames["allocations"].copy()
        parts: dict[int, list[tuple[int, int]]] = {}
        for r, d, p in zip(r_of.tolist(), d_of.tolist(), part_pence.tolist(), strict=True):
            parts.setdefault(r, []).append((d, p))
        referenced = set(ids(alloc["parent_allocation_id"].iloc[rows[~live]]).tolist())
        next_id, drop, added = _next_id(alloc["allocation_id"]), [], []
        for i, pos in enumerate(rows.tolist()):
            if not live[i]:
                continue
            label = alloc.index[pos]
            alloc.at[label, "parent_allocation_id"] = np.nan  # each pound is now in exactly one row
            if not placed[i]:  # its areas are unknown: not placed before, not placed now, kept as it is
                alloc.at[label, "amount"] = round(float(piece[i]), 2)
                continue
            mine = parts.get(i, [])
            if not mine:  # wholly broken down: its money is in its breakdowns' rows now
                if int(alloc.at[label, "allocation_id"]) not in referenced:
                    drop.append(label)
                else:
                    alloc.at[label, "amount"] = 0.0
                continue
            alloc.at[label, "area_codes"] = codes[i] if len(mine) == 1 else _codes_in(tree, codes[i],
                                                                                       units.codes[mine[0][0]])
            alloc.at[label, "amount"] = mine[0][1] / 100
            for d, p in mine[1:]:
                row = alloc.loc[label].to_dict()
                purpose = row.get("purpose") if isinstance(row.get("purpose"), str) else ""
                row.update(allocation_id=next_id, amount=p / 100,
                           area_codes=_codes_in(tree, codes[i], units.codes[d]),
                           purpose=f"{purpose} (Scenario: fair share, {units.names[d]} part)".strip())
                added.append(row)
                next_id += 1

        lines = frames["funding_lines"].copy()
        theirs = ((lines["fund_key"] == self.fund_key)
                  & period_contains(lines["start_date"], lines["end_date"], ctx.as_at))
        pays = float(lines.loc[theirs, "annual_amount"].sum())  # the fund's funding lines at the date, a year
        cover = frames["coverage"].groupby("service_id")["area_code"].agg(tuple)
        index = {str(c): j for j, c in enumerate(units.codes)}
        single: set[int] = set()
        for sid in lines.loc[theirs, "service_id"].unique().tolist():
            where = [index[c] for c in _service_districts(tree, cover.get(sid, ())) if c in index]
            if len(where) == 1:
                single.add(where[0])
            old = held[where].sum()
            new = sum(target[j] / 100 for j in where if held[j] > 1e-9)
            if old > 0:
                mask = theirs & (lines["service_id"] == sid)
                lines.loc[mask, "annual_amount"] = (lines.loc[mask, "annual_amount"] * (new / old)).round(2)
        funded = set(lines.loc[lines["fund_key"] == self.fund_key, "service_id"]) | set(
            alloc.loc[alloc["fund_key"] == self.fund_key, "service_id"].dropna().astype(int))
        themes = tuple(sorted({t for ts in frames["services"].loc[frames["services"]["service_id"].isin(funded),
                                                                   "themes"] for t in (ts or ())}))
        new_lines = []
        for d in np.flatnonzero((held <= 1e-9) & (target > 0)).tolist():
            sid = np.nan
            if d not in single and pays > 0:
                sid = _next_id(frames["services"]["service_id"])
                _add_service(frames, sid, f"Scenario: fair share of {fund} in {units.names[d]}", themes,
                             (str(units.codes[d]),), start, end, owner)
                new_lines.append({"service_id": sid, "commissioner": owner, "fund_key": self.fund_key,
                                  "annual_amount": target[d] / 100, "start_date": _when(start),
                                  "end_date": _when(end), "is_estimate": False})
            added.append({"allocation_id": next_id, "fund_key": self.fund_key, "recipient": "Scenario: fair share",
                          "service_id": float(sid), "amount": target[d] / 100,
                          "purpose": f"Scenario: fair share for {units.names[d]}", "priorities": (),
                          "area_codes": (str(units.codes[d]),), "planned_start": _when(start),
                          "planned_end": _when(end), "is_estimate": False, "parent_allocation_id": np.nan,
                          "status": "awarded", "areas_are_estimate": False})
            next_id += 1
        alloc = alloc.drop(index=drop)
        frames["allocations"] = pd.concat([alloc, pd.DataFrame(added, columns=alloc.columns)], ignore_index=True) \
            if added else alloc.reset_index(drop=True)
        lines = pd.concat([lines, pd.DataFrame(new_lines)], ignore_index=True) if new_lines else lines
        theirs = theirs.reindex(lines.index, fill_value=True)
        if pays > 0:  # the lines' total is unchanged too, to the penny: only where the money goes moves
            lines.loc[theirs, "annual_amount"] = split_pence(
                np.zeros(int(theirs.sum()), dtype=np.int64), lines.loc[theirs, "annual_amount"].to_numpy(float),
                np.array([int(round(pays * 100))])) / 100
        frames["funding_lines"] = lines


KINDS: dict[str, type[Change]] = {c.kind: c for c in (MoveMoney, EndService, ExtendFunding, ChangeCoverage,
                                                       AddService, FairShareReallocation)}


def change_from_dict(raw: dict) -> Change:
    """A stored change back as its dataclass; a clear error for an unknown kind or missing field."""
    cls = KINDS.get(str(raw.get("kind")))
    if cls is None:
        raise ScenarioError(f"Unknown change “{raw.get('kind')}” (known: {', '.join(KINDS)})")
    args = {}
    for f in fields(cls):
        if f.name in raw:
            value = raw[f.name]
            args[f.name] = tuple(value) if isinstance(value, list) else value
    try:
        change = cls(**args)
    except TypeError as exc:
        raise ScenarioError(f"{cls.kind}: {exc}") from None
    for name in ("end_date", "start_date"):
        if isinstance(getattr(change, name, None), str):
            object.__setattr__(change, name, dt.date.fromisoformat(getattr(change, name)))
    return change


def changes_key(changes: list[Change]) -> str:
    """A short digest of the changes, part of the scenario snapshot's version."""
    text = json.dumps([c.to_dict() for c in changes], sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


def apply(snap: Snapshot, changes: list[Change]) -> Snapshot:
    """The snapshot as it would be with `changes`, in order; `snap` itself is never changed."""
    frames = {f.name: getattr(snap, f.name) for f in fields(snap)}
    for change in changes:
        change.apply(frames, snap)
    return Snapshot(**frames, version=f"{snap.version}+scenario-{changes_key(changes)}")
