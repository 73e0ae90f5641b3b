"""Questions for partners (review.md v2): each finding ends in one question to the partners who can act on it.

The question is built from the finding itself (its figures as shown and its names) and from the data: the
partners are named from the funding lines, services, funds and plans, never made up. Who is asked:

- a gap: the commissioners of that theme (those funding current services of the theme, largest first), whether
  provision can reach the area; where the area's services have no recorded funding, whether they will record it;
- a duplication group: its own commissioners (or its providers, when one commissioner funds them all), whether
  they can align or pool;
- a funding cliff: the commissioners of the lines that end, who will decide what replaces the money, and by when
  (the first end date);
- an inequity: the fund's owner (for a theme: its commissioners), why the areas that received nothing did
  (applications made? eligible?);
- a plan priority nothing answers: the plan's owner; services linked to no priority, money with no coverage:
  the services' commissioners.

When the first choice names nobody (no recorded funding anywhere for a theme), the next is asked: the providers of
current services of the theme, then anyone who ever commissioned or ran one, then the owners of the plans and
funds. Every number in a question is one of its finding's figures, formatted by the same function
(`services_db.review.wording`), so a question never shows a figure the finding does not.

`attach` also marks each finding's scope: "area" when it is about named areas, "force" when it is about the
whole force (a duplication group whose members all cover the force, a fund or theme across the districts, data
to check, a theme with no funding anywhere), so a briefing can keep the two apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from services_db.review import wording
from services_db.review.context import Context, csr, explode, gather, lookup

if TYPE_CHECKING:
    from services_db.review.findings import Finding

NAME_LIMIT = 3  # partners named in a question; more read "A, B, C and others"
FORCE_KINDS = ("inequity", "data")  # always about the force as a whole
# a gap sentence saying services cover the area but their funding is not recorded (wording.unknown_funding_sentence)
UNRECORDED = re.compile(r"funding of .{0,120}?is not recorded|funding is not recorded|none of their funding is recorded")


def attach(ctx: Context, findings: list[Finding], tables: Mapping | None = None,
           area_code: str | None = None) -> list[Finding]:
    """The findings with their question and scope filled in (`area_code`: the reviewed area, None for the force).

    The scope is set now; the question is built when first read (`findings.Later`), from the finding as it is here:
    a national review has tens of thousands of findings, and a page or a briefing reads the questions of a few."""
    return Asker(ctx, tables, area_code).attach(findings)


def question_for(ctx: Context, finding: Finding, tables: Mapping | None = None, area_code: str | None = None) -> str:
    """The question for partners of one finding (see the module docstring)."""
    return Asker(ctx, tables, area_code).question(finding)


def join_names(names: Iterable[str], limit: int = NAME_LIMIT) -> str:
    """"A", "A and B", "A, B and C", or "A, B, C and others" (no count: a question shows no figure of its own)."""
    items = [str(n) for n in dict.fromkeys(n for n in names if isinstance(n, str) and n.strip())]
    if not items:
        return ""
    if len(items) > limit:
        return ", ".join(items[:limit]) + " and others"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _records(table: Any) -> list[dict]:
    """Rows of a table given as a dict of arrays or a DataFrame."""
    if table is None:
        return []
    if isinstance(table, pd.DataFrame):
        return table.to_dict("records")
    if not table:
        return []
    keys = list(table)
    n = len(table[keys[0]])
    return [{k: table[k][i] for k in keys} for i in range(n)]


class _Rows:
    """A table's rows as `_records` gives them, read by position without building the others: a row (`row(i)`)
    or one column's values (`column(name, default)`: each row's `row.get(name, default)`, numpy booleans and
    integers as Python's, which hash, compare and convert alike)."""

    def __init__(self, table: Any) -> None:
        self._columns: Mapping | None = None
        self._records: list[dict] = []
        self._built: dict[int, dict] = {}
        if isinstance(table, pd.DataFrame) or not table:
            self._records = _records(table)
            self.keys = list(table.columns) if isinstance(table, pd.DataFrame) else []
            self.n = len(self._records)
        else:
            self._columns = table
            self.keys = list(table)
            self.n = len(table[self.keys[0]])

    def row(self, i: int) -> dict:
        if self._columns is None:
            return self._records[i]
        if i not in self._built:
            self._built[i] = {k: self._columns[k][i] for k in self.keys}
        return self._built[i]

    def column(self, name: str, default: Any = None) -> list:
        if name not in self.keys:
            return [default] * self.n
        if self._columns is None:
            return [r[name] for r in self._records]
        values = self._columns[name]
        if isinstance(values, np.ndarray) and values.dtype.kind in "bOiu":
            return values.tolist()  # objects as they are; numpy booleans and integers as Python's
        return list(values)


def _shown(kind: str, value: float) -> float:
    """The value a sentence shows for `value` (to match a table row against a finding's figure)."""
    if value is None or not isinstance(value, int | float | np.integer | np.floating) or not math.isfinite(value):
        return float("nan")
    if kind == "money":
        return wording.money(float(value))[1]
    if kind == "count":
        return float(int(value))
    return float(value)


class Asker:
    """Builds the questions of one review: the data's partners are looked up once and shared by every finding."""

    def __init__(self, ctx: Context, tables: Mapping | None, area_code: str | None) -> None:
        self.ctx = ctx
        self.prep = ctx.prep
        self.tables = tables
        self.area_code = area_code
        self._theme_cache: dict[str, tuple[list[str], str]] = {}

    def attach(self, findings: list[Finding]) -> list[Finding]:
        """The findings with their question (built when first read) and scope filled in (see `attach`)."""
        from services_db.review.findings import _Asked

        return [f.but(question=_Asked(self, f), scope=self.scope(f)) for f in findings]

    # -- tables -------------------------------------------------------------------------------------------------

    def _table(self, name: str) -> list[dict]:
        if self.tables is None:
            return []
        raw = getattr(self.tables, "raw", None)
        table = raw(name) if raw is not None else self.tables.get(name)
        return _records(table)

    @cached_property
    def _groups(self) -> dict[str | None, list[dict]]:
        """Duplication group rows by theme (a national review has thousands: never scanned whole per finding)."""
        out: dict[str | None, list[dict]] = {}
        for row in self._table("duplication"):
            out.setdefault(row.get("theme_key"), []).append(row)
        return out

    @cached_property
    def _group_rows(self) -> _Rows:
        """The duplication table's rows, read by position (a national review has tens of thousands)."""
        if self.tables is None:
            return _Rows(None)
        raw = getattr(self.tables, "raw", None)
        return _Rows(raw("duplication") if raw is not None else self.tables.get("duplication"))

    @cached_property
    def _group_index(self) -> tuple[dict[str | None, dict[int, int]], dict[int, int]]:
        """The position of the first duplication row of each group id per theme (`by_theme[theme][group_id]`), and
        of each group id in any theme (themes in the order `_groups` takes them), from the table's columns: a
        national review has tens of thousands of groups and findings (a scan per finding took minutes; a row dict
        per group, seconds; a (theme, group id) key per group, a tuple for the garbage collector to count)."""
        rows = self._group_rows
        themes, gids = rows.column("theme_key", None), rows.column("group_id", -1)
        per_theme: dict[str | None, list[int]] = {}
        for i, theme in enumerate(themes):
            at = per_theme.get(theme)
            if at is None:
                per_theme[theme] = [i]
            else:
                at.append(i)
        by_theme: dict[str | None, dict[int, int]] = {}
        anywhere: dict[int, int] = {}
        for theme, at in per_theme.items():
            first = by_theme[theme] = {}
            for i in at:
                try:
                    gid = int(gids[i])
                except (TypeError, ValueError):  # no usable id: such a row is matched by its figures only
                    continue
                first.setdefault(gid, i)
                anywhere.setdefault(gid, i)
        return by_theme, anywhere

    @cached_property
    def _group_wide(self) -> list[bool]:
        """`is_force_wide` of each duplication row, read from its `wide` (else `force_wide`) column; a row whose
        flag is missing is looked at whole."""
        rows = self._group_rows
        flags = rows.column("wide" if "wide" in rows.keys else "force_wide", None)
        out = []
        for i, flag in enumerate(flags):
            if flag is not None and not (isinstance(flag, float) and math.isnan(flag)):
                out.append(bool(flag))
            else:
                out.append(self.is_force_wide(rows.row(i)))
        return out

    @cached_property
    def _cliff_lines(self) -> list[dict]:
        return self._table("cliff_lines")

    @cached_property
    def _inequity_summary(self) -> dict[str, dict]:
        """Fund and theme summaries by label."""
        out: dict[str, dict] = {}
        for row in self._table("inequity_summary"):
            out.setdefault(str(row.get("label")), row)
        return out

    @cached_property
    def _unlinked(self) -> list[dict]:
        return self._table("unlinked_services")

    # -- partners named in the data ---------------------------------------------------------------------------

    def _svc(self, service_ids: Iterable) -> np.ndarray:
        ids = np.array([int(x) for x in service_ids if x is not None and x == x], dtype=np.int64)
        pos = self.prep.service_pos(ids) if len(ids) else np.empty(0, dtype=np.int64)
        return pos[pos >= 0]

    def _commissioners_of(self, svc: np.ndarray) -> list[str]:
        """Commissioners of services (positions), those with the most current funding first (ties by name): every
        commissioner of the services at any date, with the sum of its current lines among them."""
        names, line_ptr, line_code, line_amount, svc_ptr, svc_code = self._money_lines
        svc = np.asarray(svc, dtype=np.int64)
        _, at = gather(line_ptr, svc)  # the services' current lines, service by service in the given order
        codes = line_code[at]
        # bincount adds each line in turn in that order, as a loop over the services and their lines would, so the
        # totals (and the order they give) are the same to the last bit
        money = np.bincount(codes, weights=line_amount[at], minlength=len(names))
        named = np.zeros(len(names), dtype=bool)
        named[codes] = True
        named[svc_code[gather(svc_ptr, svc)[1]]] = True
        which = np.flatnonzero(named).tolist()
        return [names[i] for i in sorted(which, key=lambda i: (-money[i], names[i]))]

    def _providers_of(self, svc: np.ndarray) -> list[str]:
        funding = self.ctx.funding
        order = sorted(svc.tolist(), key=lambda p: (-funding[p], self.prep.svc_provider[p]))
        return [self.prep.svc_provider[p] for p in order if self.prep.svc_provider[p]]

    @cached_property
    def _money_lines(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(commissioner names; the current lines naming a commissioner, grouped by service position in line order:
        pointer, commissioner code, annual amount; each service's commissioners at any date: pointer, code)."""
        lines, n = self.prep.lines, len(self.prep.service_ids)
        comm = self.prep.svc_commissioners
        vocab: dict[str, int] = {}
        for names in comm:
            for c in names:
                vocab.setdefault(c, len(vocab))
        ok = np.flatnonzero(self.ctx.line_current & (lines["commissioner"] != ""))
        ok = ok[np.argsort(lines["pos"][ok], kind="stable")]
        for c in lines["commissioner"][ok].tolist():
            vocab.setdefault(c, len(vocab))
        svc_rows, svc_code = explode(comm, vocab)
        return (list(vocab), csr(lines["pos"][ok], n), lookup(vocab, lines["commissioner"][ok]),
                lines["amount"][ok], csr(svc_rows, n), svc_code)

    @cached_property
    def _theme_services(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.prep.service_themes

    def theme_partners(self, theme_key: str | None) -> tuple[list[str], str]:
        """(names, role) of the partners to ask about a theme: its current commissioners, else its providers, else
        anyone who ever commissioned or ran a service of it, else the owners of the plans and funds."""
        key = theme_key or ""
        if key in self._theme_cache:
            return self._theme_cache[key]
        theme = self.ctx.themes.name(key) if key else ""
        noun = f"{wording.hyphenated(theme)} services" if key else "services"
        svc, th, _ = self._theme_services
        ti = self.ctx.themes.index.get(key, -1)
        members = svc[th == ti] if ti >= 0 else np.empty(0, dtype=np.int64)
        current = members[self.ctx.current[members]] if len(members) else members
        tiers = [
            (lambda: self._commissioners_of(current), f"who commission {noun}"),
            (lambda: self._providers_of(current), f"who run {noun}"),
            (lambda: self._commissioners_of(members), f"who have commissioned {noun}"),
            (lambda: self._providers_of(members), f"who have run {noun}"),
            (lambda: self._plan_owners, "who own the plans that apply"),
            (lambda: self._fund_owners, "who hold the funds"),
        ]
        found: tuple[list[str], str] = ([], "")
        for names, role in tiers:
            got = [n for n in names() if n]
            if got:
                found = (got, role)
                break
        self._theme_cache[key] = found
        return found

    @cached_property
    def _plan_owners(self) -> list[str]:
        plans = self.ctx.data.plans
        return [str(o) for o in dict.fromkeys(plans["owner"].tolist()) if isinstance(o, str) and o.strip()]

    @cached_property
    def _fund_owners(self) -> list[str]:
        funds = self.ctx.data.funds
        return [str(o) for o in dict.fromkeys(funds["owner"].tolist()) if isinstance(o, str) and o.strip()]

    @cached_property
    def _owners(self) -> dict[tuple[str, str], str]:
        """("fund", key or name) and ("plan", name) -> owner."""
        out: dict[tuple[str, str], str] = {}
        funds, plans = self.ctx.data.funds, self.ctx.data.plans
        for k, name, owner in zip(funds["fund_key"].tolist(), funds["name"].tolist(), funds["owner"].tolist(),
                                  strict=True):
            if isinstance(owner, str) and owner.strip():
                out.setdefault(("fund", str(k)), owner)
                out.setdefault(("fund", str(name)), owner)
        for name, owner in zip(plans["name"].tolist(), plans["owner"].tolist(), strict=True):
            if isinstance(owner, str) and owner.strip():
                out.setdefault(("plan", str(name)), owner)
        return out

    def fund_owner(self, fund_key: str | None = None, label: str | None = None) -> str:
        return self._owners.get(("fund", str(fund_key)), "") or self._owners.get(("fund", str(label)), "")

    def plan_owner(self, plan_name: str | None) -> str:
        return self._owners.get(("plan", str(plan_name)), "")

    # -- what a finding is about ------------------------------------------------------------------------------

    def group_of(self, f: Finding) -> dict | None:
        """The duplication group row a finding was built from: by its `group_id` (older callers' findings without
        one: the row with the same theme, size and money as shown)."""
        wanted = f.row_key.get("group_id") if f.row_key else None
        if wanted is not None:
            at = self._group_at(f.theme_key, wanted)
            return None if at is None else self._group_rows.row(at)
        best = None
        rows = self._groups.get(f.theme_key, []) if f.theme_key else [r for v in self._groups.values() for r in v]
        for row in rows:
            if "n_services" in f.figures and _shown("count", row.get("n_services")) != f.figures["n_services"]:
                continue
            if "combined_funding" in f.figures and \
                    _shown("money", row.get("combined_funding")) != f.figures["combined_funding"]:
                continue
            if "target_group_name" in f.texts and "target_group_name" in row and \
                    row["target_group_name"] != f.texts["target_group_name"]:
                continue
            if self.area_code and "shared_area_codes" in row and self.area_code not in tuple(row["shared_area_codes"]):
                continue
            best = row
            break
        return best

    @cached_property
    def _whole_force(self) -> np.ndarray:
        """Whether each service position covers every LSOA of the force."""
        return self.prep.lsoa_count >= max(self.ctx.geo.n_lsoa, 1)

    def _group_at(self, theme_key: str | None, group_id: Any) -> int | None:
        """The position of the duplication row of a finding's theme and group id (any theme's when it has none)."""
        by_theme, anywhere = self._group_index
        gid = int(group_id)
        if not theme_key:
            return anywhere.get(gid)
        first = by_theme.get(theme_key)
        return None if first is None else first.get(gid)

    def is_force_wide(self, row: Mapping) -> bool:
        """A group for the force's section: force-wide, or over most of its areas (`wide`)."""
        flag = row.get("wide", row.get("force_wide"))
        if flag is not None and not (isinstance(flag, float) and math.isnan(flag)):
            return bool(flag)
        svc = self._svc(row.get("service_ids", ()))
        return bool(len(svc)) and bool(self._whole_force[svc].all())

    def scope(self, f: Finding) -> str:
        if f.kind in FORCE_KINDS:
            return "force"
        if f.kind == "duplication":
            wanted = f.row_key.get("group_id") if f.row_key else None
            if wanted is not None:  # `group_of`'s row, its flag read from the column (`_group_wide`)
                at = self._group_at(f.theme_key, wanted)
                return "force" if at is not None and self._group_wide[at] else "area"
            row = self.group_of(f)
            return "force" if row is not None and self.is_force_wide(row) else "area"
        if f.kind == "fair_share":
            return "area"
        return "area" if f.area_code else "force"

    def _area_name(self, f: Finding) -> str:
        if f.area_name:
            return f.area_name
        if self.area_code:
            pos = self.ctx.geo.code_pos.get(self.area_code)
            if pos is not None:
                return str(self.ctx.geo.names[pos])
        return self.ctx.geo.force_name

    # -- the questions ----------------------------------------------------------------------------------------

    def question(self, f: Finding) -> str:
        build = getattr(self, f"_ask_{f.kind}", None)
        s = build(f) if build is not None else None
        if s is None:
            names, role = self.theme_partners(f.theme_key)
            s = _addressed(names, role).words("what will partners do about this, and by when?")
        return s.text()

    def _theme_words(self, f: Finding) -> str:
        if "theme_adjective" in f.texts:
            return f.texts["theme_adjective"]
        if f.theme_key:
            return wording.hyphenated(self.ctx.themes.name(f.theme_key))
        return ""

    def _ask_gap(self, f: Finding) -> wording.Sentence:
        """The gap's variant is read from the finding itself (review.md v2): a measured gap (money to parity), need
        beside services whose funding is not recorded, need with no funding anywhere, or no figure for the need."""
        theme = self._theme_words(f)
        area = self._area_name(f)
        text = f.sentence.lower()
        names, role = self.theme_partners(f.theme_key)
        if "no figure" in text:
            s = _addressed(names, role).words("can the figures for ")
            s.name("need_label", f.texts.get("need_label", "this need")).words(" in ").name("area_name", area)
            return s.words(" be recorded, so that need there can be weighed against provision?")
        if "money_to_parity" not in f.figures and UNRECORDED.search(text):
            return self._ask_record_funding(f, theme, area)
        s = _addressed(names, role)
        if not f.area_code:  # the force review: need recorded, no funding anywhere
            s.words(f"who will fund {theme} services in ").name("force_name", f.texts.get("force_name", area))
            if "areas_with_need" in f.figures:
                n = int(f.figures["areas_with_need"])
                s.words(", where need is recorded in ").count("areas_with_need", n)
                s.words(f" {wording.plural('area', n)}")
            return s.words("?")
        if "money_to_parity" not in f.figures and ("funding in" in text or "have no" in text):
            s.words(f"who will fund {theme} services for ").name("area_name", area)
            if "need_share" in f.figures:
                s.words(", which has ").pct("need_share", f.figures["need_share"] / 100.0).words(" of ")
                s.name("need_label", f.texts.get("need_label", "the need"))
            return s.words("?")
        s.words(f"can {theme} provision reach ").name("area_name", area)
        if f.figures.get("money_to_parity", 0) > 0 and "need_share" in f.figures:
            s.words(", where about ").money("money_to_parity", f.figures["money_to_parity"])
            s.words(" more a year would bring its funding in line with its ")
            s.pct("need_share", f.figures["need_share"] / 100.0).words(" share of need")
        elif "need_share" in f.figures:
            s.words(", which has ").pct("need_share", f.figures["need_share"] / 100.0).words(" of ")
            s.name("need_label", f.texts.get("need_label", "the need"))
        return s.words("?")

    def _ask_record_funding(self, f: Finding, theme: str, area: str) -> wording.Sentence:
        """Services of the theme cover the area (or, in the force review, exist) but their funding is not recorded:
        ask their commissioners (else their providers) to record it."""
        where = f.area_code or self.area_code
        svc = self._unfunded(f.theme_key, where)
        there = " there" if where else ""
        names, role = self._commissioners_of(svc), f"who commission the {theme} services{there}"
        if not names:
            names, role = self._providers_of(svc), f"who run the {theme} services{there}"
        if not names:
            names, role = self.theme_partners(f.theme_key)
        s = _addressed(names, role).words(f"will you record the funding of the {theme} services ")
        if where:
            s.words("covering ").name("area_name", area)
        else:
            s.words("in ").name("force_name", f.texts.get("force_name", area))
        return s.words(", so that provision can be weighed against need?")

    def _unfunded(self, theme_key: str | None, area_code: str | None) -> np.ndarray:
        """Current services of the theme (covering the area, when one is given) with no current funding line."""
        if not theme_key:
            return np.empty(0, dtype=np.int64)
        svc, th, _ = self._theme_services
        ti = self.ctx.themes.index.get(theme_key, -1)
        cand = np.unique(svc[th == ti])
        if area_code:
            geo = self.ctx.geo
            pos = geo.code_pos.get(area_code)
            if pos is None:
                return np.empty(0, dtype=np.int64)
            level = str(geo.levels[pos])
            svc_u, unit = self.prep.service_units(level)
            target = np.flatnonzero(geo.units(level).positions == pos)
            cand = np.intersect1d(np.unique(svc_u[np.isin(unit, target)]), cand)
        cand = cand[self.ctx.current[cand]]
        return cand[self.ctx.funding[cand] == 0]

    def _ask_duplication(self, f: Finding) -> wording.Sentence:
        row = self.group_of(f) or {}
        comms = [str(c) for c in row.get("commissioners", ())]
        provs = [str(p) for p in row.get("providers", ())]
        pool = len(comms) > 1
        if pool:
            s = _addressed(comms, "who fund them").words("can you align or pool ")
        elif comms or provs:
            s = _addressed([*comms, *provs], "who fund and run them" if comms else "who run them").words("can ")
        else:
            names, role = self.theme_partners(f.theme_key)
            pool = True
            s = _addressed(names, role).words("can you align or pool ")
        n = int(f.figures.get("n_services", len(row.get("service_ids", ())) or 2))
        s.words("the ")
        if "n_services" in f.figures:
            s.count("n_services", n).words(" ")
        s.name("theme_name", f.texts.get("theme_name") or self._theme_words(f))
        s.words(f" {wording.plural('service', n)}")
        if f.texts.get("target_group_name"):
            s.words(" for ").name("target_group_name", f.texts["target_group_name"])
        s.words(" that overlap")
        if self.scope(f) == "force":
            s.words(" across the force")
        elif self.area_code:
            s.words(" in ").name("area_name", self._area_name(f))
        elif f.texts.get("shared_areas"):  # the force review: where the finding says they overlap
            s.words(" in ").name("shared_areas", f.texts["shared_areas"])
            if "shared_areas_others" in f.figures:
                others = int(f.figures["shared_areas_others"])
                s.words(" and ").count("shared_areas_others", others).words(f" other {wording.plural('area', others)}")
        if "combined_funding" in f.figures:
            s.words(" (").money("combined_funding", f.figures["combined_funding"]).words(" a year")
            dup = next((k for k in f.figures if "duplicated" in k), None)
            if dup is not None and f.figures[dup] > 0:
                s.words("; up to ").money(dup, f.figures[dup]).words(" may be duplicated")
            s.words(")")
        if not pool:
            s.words(" be aligned or merged")
        unknown = next((k for k in f.figures if "unknown" in k), None)
        if unknown is not None and f.figures[unknown] > 0:
            s.words(", and will the funding of each be recorded")
        return s.words("?")

    def _ask_cliff(self, f: Finding) -> wording.Sentence:
        lines = [r for r in self._cliff_lines
                 if not f.theme_key or f.theme_key in tuple(r.get("themes") or ())]
        lines.sort(key=lambda r: -float(r.get("annual_amount") or 0.0))
        names = [str(r.get("commissioner") or "") for r in lines]
        role = "who fund it"
        if not any(names):
            names = [self.fund_owner(r.get("fund_key")) for r in lines]
        if not any(names):
            names, role = self._providers_of(self._svc(r.get("service_id") for r in lines)), "who run the services"
        if not any(names):
            names, role = self.theme_partners(f.theme_key)
        s = _addressed(names, role).words("who will decide what replaces the ")
        if "at_risk" in f.figures:
            s.money("at_risk", f.figures["at_risk"]).words(" a year of ")
        theme = self._theme_words(f)
        s.words(f"{theme} funding" if theme else "funding")
        if f.area_name:
            s.words(" in ").name("area_name", f.area_name)
        if "first_end" in f.texts:
            several = int(f.figures.get("services", 1)) > 1
            s.words(", and will it be decided before " + ("the first of it ends" if several else "it ends") + " on ")
            return s.name("first_end", f.texts["first_end"]).words("?")
        months = int(f.figures.get("months", 12))
        s.words(" that ends within ").count("months", months).words(f" {wording.plural('month', months)}")
        return s.words(", and by when?")

    def _summary_of(self, f: Finding) -> dict:
        return self._inequity_summary.get(str(f.texts.get("label")), {})

    def _ask_inequity(self, f: Finding) -> wording.Sentence:
        row = self._summary_of(f)
        zero = [str(x) for x in row.get("zero_areas", ())]
        codes = [str(x) for x in row.get("zero_codes", ())]
        if self.area_code and codes:
            under = set(self.ctx.geo.codes[self.ctx.geo.under(self.area_code)].tolist())
            here = [n for n, c in zip(zero, codes, strict=False) if c in under]
            zero = here or zero
        label = f.texts.get("label", "this fund")
        if row.get("basis") == "theme" or (not row and f.theme_key):
            names, role = self.theme_partners(row.get("key") or f.theme_key)
            if not zero:
                return _addressed(names, role).words("is this funding shared between districts by need?")
            s = _addressed(names, role).words("why did ").name("zero_areas", join_names(zero, limit=len(zero) or 1))
            theme = self._theme_words(f)
            s.words(f" receive no {theme} funding" if theme else " receive nothing")
            return s.words(" while other districts did? Were services offered there?")
        owner = self.fund_owner(row.get("key"), label)
        s = _addressed([owner], "which holds the fund") if owner else _addressed(*self.theme_partners(None))
        if not zero:  # shared unevenly, nobody left out
            s.words("was the split between districts decided by need")
            if "ratio" in f.figures:
                s.words(", when the highest received ").number("ratio", f.figures["ratio"], decimals=1)
                s.words(" times the lowest per head")
            return s.words("?")
        s.words("why did ").name("zero_areas", join_names(zero, limit=len(zero) or 1))
        s.words(" receive nothing? Were applications made, and ")
        return s.words("was it eligible?" if len(zero) == 1 else "were they eligible?")

    def _ask_plan(self, f: Finding) -> wording.Sentence:
        plan = f.texts.get("plan_name", "")
        owner = self.plan_owner(plan)
        s = _addressed([owner], "which owns the plan") if owner else _addressed(*self.theme_partners(None))
        s.words("which service answers the priority \u201c").name("priority_name", f.texts.get("priority_name", ""))
        s.words("\u201d")
        if f.area_name:
            s.words(" in ").name("area_name", f.area_name)
        return s.words(", and if none does, who will commission a service for it?")

    def _ask_unlinked(self, f: Finding) -> wording.Sentence:
        svc = self._svc(r.get("service_id") for r in self._unlinked)
        names, role = self._commissioners_of(svc), "who commission them"
        if not names:
            names, role = self._providers_of(svc), "who run them"
        if not names:
            names, role = self.theme_partners(None)
        n = int(f.figures.get("services", len(svc)))
        s = _addressed(names, role).words("which priority of the current plans does ")
        s.words("each of these " if n != 1 else "this ").count("services", n).words(f" {wording.plural('service', n)}")
        if f.area_name:
            s.words(" in ").name("area_name", f.area_name)
        return s.words(" serve?")

    def _ask_fair_share(self, f: Finding) -> wording.Sentence:
        fund = f.texts.get("fund_name", "")
        owner = self.fund_owner(None, fund)
        s = _addressed([owner], "which holds the fund") if owner else _addressed(*self.theme_partners(None))
        s.words("should the allocation to ").name("area_name", f.area_name or self._area_name(f))
        s.words(" move towards its fair share")
        if "fair_share" in f.figures:
            s.words(" of ").money("fair_share", f.figures["fair_share"])
        return s.words("?")

    def _ask_data(self, f: Finding) -> wording.Sentence:
        ctx = self.ctx
        svc = np.flatnonzero((ctx.funding_pence != 0) & ~ctx.covered)
        names, role = self._commissioners_of(svc), "who fund them"
        if not names:
            names, role = self._providers_of(svc), "who run them"
        if not names:
            names, role = self.theme_partners(None)
        s = _addressed(names, role).words("which areas do ")
        n = int(f.figures.get("services", len(svc)))
        s.words("these " if n != 1 else "this ").count("services", n)
        s.words(f" {wording.plural('service', n)} cover? Until it is recorded their money ")
        return s.words("is left out of every area's share.")


def _addressed(names: Iterable[str], role: str) -> wording.Sentence:
    """"A and B, who commission families services: " (or "Partners: " when the data name nobody)."""
    who = join_names(names)
    s = wording.Sentence()
    if not who:
        return s.words("Partners: ")
    s.name("partners", who)
    if role:
        s.words(", ").name("role", role)
    return s.words(": ")
