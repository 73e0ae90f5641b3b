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
from dataclasses import asdict, dataclass, field, fields
from typing import ClassVar

import numpy as np
import pandas as pd

from services_db.counting import allocations_are_money
from services_db.hierarchy import Hierarchy, UnknownAreaName
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
class EndService(Change):
    """End a service (and its funding lines) early, on `end_date`."""

    kind: ClassVar[str] = "end_service"
    service_id: int
    end_date: dt.date

    def describe(self, snap: Snapshot) -> str:
        name = _service_name(snap, self.service_id)
        return f"End {name} on {pd.Timestamp(self.end_date):%d %B %Y}"

    def apply(self, frames: dict[str, pd.DataFrame], snap: Snapshot) -> None:
        row = _service_row(frames, self.service_id, "End a service")
        end = _when(self.end_date)
        services = frames["services"].copy()
        old = services.at[row, "end_date"]
        services.loc[row, "end_date"] = end if pd.isna(old) else min(old, end)
        services.loc[row, "end_date_is_estimate"] = False
        lines = frames["funding_lines"].copy()
        mine = lines["service_id"] == self.service_id
        lines.loc[mine, "end_date"] = lines.loc[mine, "end_date"].map(lambda e: end if pd.isna(e) else min(e, end))
        frames["services"], frames["funding_lines"] = services, lines


@dataclass(frozen=True)
class ExtendFunding(Change):
    """Extend a service's funding (its latest funding lines, and the service) to `end_date`."""

    kind: ClassVar[str] = "extend_funding"
    service_id: int
    end_date: dt.date

    def describe(self, snap: Snapshot) -> str:
        name = _service_name(snap, self.service_id)
        return f"Extend the funding of {name} to {pd.Timestamp(self.end_date):%d %B %Y}"

    def apply(self, frames: dict[str, pd.DataFrame], snap: Snapshot) -> None:
        row = _service_row(frames, self.service_id, "Extend funding")
        end = _when(self.end_date)
        lines = frames["funding_lines"].copy()
        mine = (lines["service_id"] == self.service_id) & lines["end_date"].notna()
        if not mine.any():
            raise ScenarioError(f"Extend funding: service {self.service_id} has no funding line with an end date")
        last = lines.loc[mine, "end_date"].max()
        lines.loc[mine & (lines["end_date"] == last) & (last < end), "end_date"] = end
        services = frames["services"].copy()
        old = services.at[row, "end_date"]
        if pd.notna(old) and old < end:
            services.loc[row, "end_date"] = end
            services.loc[row, "end_date_is_estimate"] = False
        frames["services"], frames["funding_lines"] = services, lines


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


KINDS: dict[str, type[Change]] = {c.kind: c for c in (MoveMoney, EndService, ExtendFunding, ChangeCoverage,
                                                       AddService)}


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
