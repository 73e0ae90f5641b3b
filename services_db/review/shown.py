"""The review's tables as they are shown beside its sentences: on the area page, the review page, the overview and
in the briefings.

review.md v2: "Every number in a sentence equals the number in the table beside it, formatted by one function."
Each table here is built from a review table's rows with the very functions the sentences use
(`services_db.review.wording`: `money`, `percent`, `count`, `money_rate`, `number`, `date_text`), so a cell shows
a figure exactly as a sentence does ("£7,620", never "£7,617" beside it). Cells are text; the exact figures stay
in `Findings.tables` and the CSV and JSON exports. Counts are digits in a table ("9") and words in a sentence
("nine"): the same number, by the same `wording.count`.

Which row backs which finding (`cells_for`):

- gap: the row of its area and theme (a force finding of need with no funding anywhere: the row of the area it
  names as having the most need, whose "Areas with need, no funding" cell counts the areas);
- duplication: the row of its group (its theme and target group, over the areas it names);
- inequity: the row of the fund or theme it names;
- cliff: the "All themes" row (the total at risk, the provision it is part of, the services, the first end, the
  months looked ahead) and, for the i-th theme it names, the i-th theme row below it (largest first);
- fair_share: the row of its fund and area; plan: the row of its priority (no figures);
- unlinked and data: the "All services" row above the services.

Each kind's first table backs its sentences; a second one may give detail (a cliff's funding lines, with the
area's share beside the whole line).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from services_db.review import wording

if TYPE_CHECKING:
    from services_db.review.findings import Finding, Findings

MISSING = "\u2013"
ALL_THEMES = "All themes"
ALL_SERVICES = "All services"


# -- one formatting function per kind of number ---------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def at_least(share: float) -> float:
    """An overlap shown as "at least": rounded down to a whole per cent (100% only when it is whole)."""
    share = float(share)
    return 1.0 if share >= 1 - 1e-9 else math.floor(share * 100 + 1e-9) / 100


def cell(kind: str, value: Any) -> str:
    """A value as a table cell, by the sentences' own function for its kind of number.

    Kinds: money, percent (one decimal), percent0 (whole per cent), at_least (an overlap, rounded down), count
    (digits), rate (money per head or per 1,000), number0/number1/number2, date, names (a list), text."""
    if kind == "names":
        items = [str(v) for v in (value if isinstance(value, list | tuple | np.ndarray) else ()) if str(v)]
        return "; ".join(items) if items else MISSING
    if _missing(value):
        return MISSING
    if kind == "money":
        return wording.money(float(value))[0]
    if kind == "percent":
        return wording.percent(float(value))[0]
    if kind == "percent0":
        return wording.percent(float(value), 0)[0]
    if kind == "at_least":
        return wording.percent(at_least(value), 0)[0]
    if kind == "count":
        return f"{int(value):,}"
    if kind == "rate":
        return wording.money_rate(float(value))[0]
    if kind.startswith("number"):
        return wording.number(float(value), int(kind[-1]))[0]
    if kind == "date":
        return wording.date_text(value)
    return str(value)


NUMBER_KINDS = ("money", "percent", "percent0", "at_least", "count", "rate", "number0", "number1", "number2")


@dataclass(frozen=True)
class Column:
    label: str
    value: str | Callable[[Mapping], Any]  # a column of the review table, or a function of its row
    kind: str = "text"
    figure: str | None = None  # the finding figure this column shows, where the row backs a finding
    align: str = ""

    def get(self, row: Mapping) -> Any:
        return self.value(row) if callable(self.value) else row.get(self.value)


@dataclass(frozen=True)
class ShownTable:
    """A table as shown: column labels, rows of text cells, and per row what identifies it (never shown)."""

    kind: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    keys: tuple[Mapping, ...] = ()
    kinds: tuple[str, ...] = ()  # the kind of number of each column ("text" for names and dates)
    figures: Mapping[str, str] = field(default_factory=dict)  # figure key -> column label
    caption: str = ""

    @property
    def align(self) -> tuple[str, ...]:
        return tuple("r" if k in NUMBER_KINDS else "l" for k in self.kinds)

    def kept(self) -> list[int]:
        """The columns with something in them: a column that is empty in every row is not shown."""
        return [j for j in range(len(self.columns)) if any(row[j] not in ("", MISSING) for row in self.rows)]

    def frame(self, compact: bool = False) -> pd.DataFrame:
        """The cells as a DataFrame of text (`compact`: without the empty columns)."""
        frame = pd.DataFrame(list(self.rows), columns=list(self.columns))
        return frame.iloc[:, self.kept()] if compact else frame

    def __len__(self) -> int:
        return len(self.rows)

    def text(self, row: int, column: str) -> str:
        return self.rows[row][self.columns.index(column)]


def _records(table: Any) -> list[dict]:
    if table is None:
        return []
    if isinstance(table, pd.DataFrame):
        return table.to_dict("records")
    if not len(table):
        return []
    keys = list(table)
    n = len(table[keys[0]])
    return [{k: table[k][i] for k in keys} for i in range(n)]


def _table(kind: str, title: str, columns: list[Column], rows: Iterable[Mapping],
           key: Callable[[Mapping], Mapping] | list[Mapping], caption: str = "") -> ShownTable:
    """A shown table: each row's cells by its columns' kinds; `key`: what identifies each row (a function of the
    row, or one mapping per row)."""
    rows = list(rows)
    return ShownTable(
        kind=kind, title=title, columns=tuple(c.label for c in columns),
        rows=tuple(tuple(cell(c.kind, c.get(r)) for c in columns) for r in rows),
        keys=tuple(key(r) for r in rows) if callable(key) else tuple(key), kinds=tuple(c.kind for c in columns),
        figures={c.figure: c.label for c in columns if c.figure}, caption=caption)


def _raw(findings: Findings, name: str) -> list[dict]:
    raw = getattr(findings.tables, "raw", None)
    return _records(raw(name) if raw is not None else findings.tables.get(name))


def _scope_noun(findings: Findings) -> str:
    return "area" if findings.scope_code else "force"


# -- the tables of each kind ----------------------------------------------------------------------------------


def _gap_tables(findings: Findings) -> list[ShownTable]:
    """The rows behind the gap findings (their area and theme; for a force finding of need with no funding
    anywhere, the area it names as having the most need)."""
    wanted = {(f.area_code, f.theme_key) for f in findings.of_kind("gap") if f.area_code}
    most = {(f.texts.get("most_area"), f.theme_key) for f in findings.of_kind("gap") if not f.area_code}
    every = _raw(findings, "gaps")
    rows = [r for r in every if (r["area_code"], r["theme_key"]) in wanted or (r["area_name"], r["theme_key"]) in most]
    nowhere: dict[str, int] = {}
    for f in findings.of_kind("gap"):
        if not f.area_code and "areas_with_need" in f.figures:
            nowhere[f.theme_key] = sum(1 for r in every if r["theme_key"] == f.theme_key and _counts_as_need(r))
    columns = [
        Column("Area", "area_name"), Column("Theme", "theme_name"), Column("Need", "need_label"),
        Column("Need share", "need_share", "percent", "need_share"),
        Column("Indicators", "n_indicators", "count", "n_indicators"),
        Column("Areas with a figure", lambda r: r.get("n_with_figure"), "count", "n_with_figure"),
        Column("Provision share", "provision_share", "percent", "provision_share"),
        Column("Area's provision (£ a year)", "provision", "money", "provision"),
        Column("Force's known provision for the theme (£ a year)", "provision_total", "money", "provision_total"),
        Column("Money to parity (£ a year)", lambda r: max(float(r["money_to_parity"]), 0.0)
               if r.get("is_gap") and _finite(r["money_to_parity"]) else None, "money", "money_to_parity"),
        Column("Services of the theme here", lambda r: r.get("services"), "count", "services"),
        Column("Funding not recorded here", lambda r: r.get("unknown_funding"), "count", "unknown_funding"),
        Column("Current services of the theme", lambda r: r.get("theme_services"), "count", "theme_services"),
        Column("Funding not recorded", lambda r: r.get("theme_unknown_funding"), "count", "theme_unknown_funding"),
        Column("Gaps raised by Early Action Teams", lambda r: int(r.get("raised", 0) or 0) or None, "count", "raised"),
        Column("Areas with need, no funding", lambda r: None if (r["area_code"], r["theme_key"]) in wanted
               else nowhere.get(r["theme_key"]), "count", "areas_with_need"),
        Column("Need is an estimate", lambda r: "estimate" if r.get("need_is_estimate") else ""),
        Column("Why", "reason"),
    ]
    return [_table("gap", "Gaps", columns, rows,
                   lambda r: {"area_code": r["area_code"], "area_name": r["area_name"], "theme_key": r["theme_key"]},
                   "Shares and money as the sentences show them; provision is each service's known funding shared "
                   "over its LSOAs by population.")]


def _finite(value: Any) -> bool:
    return not _missing(value) and math.isfinite(float(value))


def _counts_as_need(row: Mapping) -> bool:
    """A gap row of a theme with need and no funding anywhere, as the force finding counts its areas."""
    from services_db.review.gaps import NOT_RECORDED

    return bool(row.get("is_gap")) or row.get("reason") == NOT_RECORDED


def _shared_areas(r: Mapping) -> list[str]:
    return [] if r.get("force_wide") else [str(a) for a in r.get("shared_areas", ())]


def _duplication_tables(findings: Findings) -> list[ShownTable]:
    columns = [
        Column("Theme", "theme_name"), Column("Target group", lambda r: r.get("target_group_name") or ""),
        Column("Services", "services", "names"), Column("Number of services", "n_services", "count", "n_services"),
        Column("Commissioners", "commissioners", "names"),
        Column("Number of commissioners", "n_commissioners", "count", "n_commissioners"),
        Column("Number of providers", "n_providers", "count", "n_providers"),
        Column("Overlap (at least)", "overlap", "at_least", "overlap_pct"),
        Column("Shared areas", lambda r: _shared_areas(r) or ["the whole force"], "names", "shared_areas_others"),
        Column("Combined funding (£ a year)", "combined_funding", "money", "combined_funding"),
        Column("Money potentially duplicated (£ a year)", lambda r: r.get("money_duplicated"), "money",
               "money_duplicated"),
        Column("Services with funding not recorded", lambda r: int(r.get("n_unknown_funding", 0) or 0), "count",
               "n_unknown_funding"),
    ]
    return [_table("duplication", "Duplication groups", columns, _raw(findings, "duplication"),
                   lambda r: {"theme_key": r["theme_key"], "target_group_name": r.get("target_group_name"),
                              "shared_areas": _shared_areas(r), "force_wide": bool(r.get("force_wide", False)),
                              "wide": bool(r.get("wide", r.get("force_wide", False)))})]


def _inequity_tables(findings: Findings) -> list[ShownTable]:
    labels = {f.texts.get("label") for f in findings.of_kind("inequity")}
    rows = [r for r in _raw(findings, "inequity_summary") if r.get("label") in labels]
    nbd = "not_broken_down_amount"
    columns = [
        Column("Fund or theme", "label"), Column("Total (£)", "total", "money"),
        Column("Placed in areas (£)", lambda r: r["total"] - float(r.get(nbd, 0.0) or 0.0), "money", "total"),
        Column("Not broken down by area (£)", lambda r: r.get(nbd) if r.get(nbd) else None, "money", nbd),
        Column("Received nothing", lambda r: list(r.get("zero_areas", ())), "names"),
        Column("Not broken down for", lambda r: list(r.get("not_broken_down", ()) or ()), "names",
               "not_broken_down_others"),
        Column("Funding not recorded in", lambda r: list(r.get("not_recorded", ()) or ()), "names",
               "not_recorded_others"),
        Column("Areas funded", "n_funded", "count", "n_funded"),
        Column("Lowest", "min_per", "rate", "min_per"), Column("Lowest in", lambda r: r.get("min_area")),
        Column("Areas at the lowest", "n_min", "count", "n_min"),
        Column("Highest", "max_per", "rate", "max_per"), Column("Highest in", lambda r: r.get("max_area")),
        Column("Areas at the highest", "n_max", "count", "n_max"),
        Column("Per residents", "per", "number0", "per"),
        Column("Highest ÷ lowest", "ratio", "number1", "ratio"), Column("Gini", "gini", "number2", "gini"),
    ]
    return [_table("inequity", "Inequity", columns, rows, lambda r: {"label": r.get("label")},
                   "Money per the given number of residents in each area of the fund (or theme); the lowest and "
                   "highest among the areas funded.")]


def _cliff_tables(findings: Findings) -> list[ShownTable]:
    area = _scope_noun(findings) == "area"
    total = _raw(findings, "cliff_total")
    themes = _raw(findings, "cliffs_by_theme")
    months = findings.params.get("cliff_months")
    share = "Area's share at risk (£ a year)" if area else "At risk (£ a year)"
    provision = "Current funding reaching the area (£ a year)" if area else "Current funding (£ a year)"
    for r in total:
        r["theme_name"] = ALL_THEMES
        r["months"] = months
    columns = [
        Column("Theme", "theme_name"), Column(share, "at_risk", "money", "at_risk"),
        Column(provision, lambda r: r.get("provision"), "money", "provision"),
        Column("Services", "services", "count", "services"), Column("First ends", "first_end", "date"),
        Column("Within (months)", lambda r: r.get("months"), "count", "months"),
        Column("Whole services at risk (£ a year)", "whole_services", "money"),
    ]
    keys = [{"row": "total"} for _ in total] + [{"row": "theme", "rank": i, "theme_key": r.get("theme_key")}
                                                for i, r in enumerate(themes, start=1)]
    breakdown = _table("cliff", "Funding cliffs", columns, total + themes, keys, (
        f"Funding that ends within {months} months of the date. The area's share is each service's money at risk "
        "shared over its areas as its funding is (by population); a service with several themes has its share "
        "split equally between them, so the themes add up to the total. The whole services' annual amounts at "
        "risk are shown apart." if area else
        f"Funding that ends within {months} months of the date, each pound once; a service with several themes "
        "has its money split equally between them, so the themes add up to the total."))
    line_columns = [Column("Service", "service"), Column("Commissioner", "commissioner")]
    if area:
        line_columns.append(Column("Area's share (£ a year)", "area_share", "money"))
    line_columns += [Column("Whole line (£ a year)", "annual_amount", "money"),
                     Column("Ends", lambda r: wording.date_text(r["end_date"]) + (
                         " (estimate)" if r.get("end_is_estimate") else ""))]
    lines = _table("cliff", "Funding lines at risk", line_columns, _raw(findings, "cliff_lines"),
                   lambda r: {"service_id": r.get("service_id")})
    return [breakdown, lines]


def _fair_share_tables(findings: Findings) -> list[ShownTable]:
    weights = findings.params.get("fair_share_weights") or {}
    total = sum(float(v) for v in weights.values()) or 1.0
    columns = [
        Column("Fund", "fund_name"), Column("Area", "area_name"), Column("Actual (£)", "actual", "money", "actual"),
        Column("Fair share (£)", "fair_share", "money", "fair_share"),
        Column("Difference (£)", lambda r: abs(float(r["difference"])), "money", "difference"),
        Column("Received", lambda r: "more" if r["difference"] >= 0 else "less"),
    ]
    for i, (key, weight) in enumerate(weights.items(), start=1):
        columns.append(Column(f"Weight: {key}", lambda r, w=float(weight) / total: w, "percent0", f"weight_{i}"))
    return [_table("fair_share", "Fair share", columns, _raw(findings, "fair_share"),
                   lambda r: {"fund_name": r.get("fund_name"), "area_name": r.get("area_name")})]


def _plan_tables(findings: Findings) -> list[ShownTable]:
    rows = [r for r in _raw(findings, "plan_priorities")
            if bool(r.get("unanswered", r.get("linked_services_force", 1) == 0))]
    columns = [Column("Plan", "plan_name"), Column("Priority", "priority_name"),
               Column("Services linked", "linked_services", "count")]
    return [_table("plan", "Priorities nothing answers", columns, rows,
                   lambda r: {"plan_name": r.get("plan_name"), "priority_name": r.get("priority_name")})]


def _service_list(kind: str, title: str, rows: list[dict]) -> ShownTable:
    known = [float(r["annual_funding"]) for r in rows if not _missing(r.get("annual_funding"))]
    top = {"name": ALL_SERVICES, "services": len(rows), "annual_funding": float(sum(known)) if known else None,
           "n_unknown_funding": len(rows) - len(known)}
    columns = [Column("Service", "name"), Column("Services", lambda r: r.get("services"), "count", "services"),
               Column("Annual funding (£ a year)", "annual_funding", "money", "annual_funding"),
               Column("Funding not recorded", lambda r: r.get("n_unknown_funding"), "count", "n_unknown_funding")]
    keys = [{"row": "total"}] + [{"row": "service", "service_id": r.get("service_id")} for r in rows]
    return _table(kind, title, columns, [top, *rows], keys)


def _unlinked_tables(findings: Findings) -> list[ShownTable]:
    return [_service_list("unlinked", "Services linked to no priority", _raw(findings, "unlinked_services"))]


def _data_tables(findings: Findings) -> list[ShownTable]:
    rows = [r for r in _raw(findings, "service_funding")
            if not bool(r.get("placed", True)) and float(r.get("annual_funding") or 0.0) != 0.0]
    return [_service_list("data", "Funding with no recorded coverage", rows)]


BUILDERS: dict[str, Callable[[Findings], list[ShownTable]]] = {
    "gap": _gap_tables, "duplication": _duplication_tables, "inequity": _inequity_tables, "cliff": _cliff_tables,
    "fair_share": _fair_share_tables, "plan": _plan_tables, "unlinked": _unlinked_tables, "data": _data_tables,
}


def finding_tables(findings: Findings, kind: str) -> list[ShownTable]:
    """The tables shown beside a review's findings of one kind: the first backs the sentences (see the module
    docstring for which row backs which finding); any further one gives detail."""
    return BUILDERS[kind](findings) if kind in BUILDERS else []


# -- which cell shows which figure ----------------------------------------------------------------------------


def _named(items: list[str]) -> str:
    """The names as a sentence names them (`wording.Sentence.names`: the first three, the rest counted)."""
    return wording.Sentence().names("names", items).texts.get("names", "")


def _row_of(table: ShownTable, f: Finding) -> int | None:
    """The row of `table` (a kind's first table) that backs finding `f`, by the rule of the module docstring."""
    keys = table.keys
    if f.kind == "gap":
        area = f.area_code
        for i, k in enumerate(keys):
            if k["theme_key"] != f.theme_key:
                continue
            if (area and k["area_code"] == area) or (not area and k["area_name"] == f.texts.get("most_area")):
                return i
    elif f.kind == "duplication":
        for i, k in enumerate(keys):
            if k["theme_key"] != f.theme_key:
                continue
            if "target_group_name" in f.texts and k["target_group_name"] != f.texts["target_group_name"]:
                continue
            if "shared_areas" in f.texts and (k["force_wide"] or _named(k["shared_areas"]) != f.texts["shared_areas"]):
                continue
            if "shared_areas" not in f.texts and not k["force_wide"] and k["shared_areas"]:
                continue
            return i
    elif f.kind == "inequity":
        return next((i for i, k in enumerate(keys) if k["label"] == f.texts.get("label")), None)
    elif f.kind == "fair_share":
        return next((i for i, k in enumerate(keys) if k["fund_name"] == f.texts.get("fund_name")
                     and k["area_name"] == f.texts.get("area_name")), None)
    elif f.kind == "plan":
        return next((i for i, k in enumerate(keys) if k["priority_name"] == f.texts.get("priority_name")
                     and k["plan_name"] == f.texts.get("plan_name")), None)
    elif f.kind in ("cliff", "unlinked", "data"):
        return next((i for i, k in enumerate(keys) if k.get("row") == "total"), None)
    return None


@dataclass(frozen=True)
class Cell:
    table: ShownTable
    row: int
    column: str

    @property
    def text(self) -> str:
        return self.table.text(self.row, self.column)

    @property
    def kind(self) -> str:
        return self.table.kinds[self.table.columns.index(self.column)]


def cells_for(findings: Findings, f: Finding, tables: list[ShownTable] | None = None) -> dict[str, Cell]:
    """For each figure of finding `f`, the cell of the shown table that holds it (figures with no cell are left
    out: a test can list them). A cliff's i-th theme figure is in the i-th theme row."""
    tables = finding_tables(findings, f.kind) if tables is None else tables
    if not tables:
        return {}
    table = tables[0]
    row = _row_of(table, f)
    if row is None:
        return {}
    out: dict[str, Cell] = {}
    for key in f.figures:
        if f.kind == "cliff" and key.startswith("theme_") and key.endswith("_at_risk"):
            rank = int(key.split("_")[1])
            at = next((i for i, k in enumerate(table.keys) if k.get("rank") == rank), None)
            if at is not None:
                out[key] = Cell(table, at, table.columns[1])
        elif key in table.figures:
            out[key] = Cell(table, row, table.figures[key])
    return out
