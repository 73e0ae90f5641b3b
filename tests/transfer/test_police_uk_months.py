"""police.uk street-level crime: a revised month replaces the month (issue: old counts left behind), and an LSOA
code that does not exist is refused while a real LSOA of another force is skipped and counted (issue: both were
"outside this force area")."""

from __future__ import annotations

import csv
import io
import random

from sqlalchemy import func, select

from services_db.models import Area, AuditEvent, NeedValue
from services_db.permissions import Actor
from services_db.transfer.import_need import POLICE_UK_HEADER, crime_type_map
from services_db.transfer.imports import apply_plan, plan_import

ADMIN = Actor("test-admin", "admin")
FORCE = "Lancashire Constabulary"


def _lsoas(db, prefix: str = "Burnley ") -> list[tuple[str, str]]:
    with db.sessions() as s:
        return [tuple(r) for r in s.execute(select(Area.code, Area.name).where(
            Area.level == "lsoa", Area.name.like(prefix + "%")).order_by(Area.code))]


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=POLICE_UK_HEADER, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") for k in POLICE_UK_HEADER})
    return buf.getvalue().encode()


def _crime(month: str, lsoa: tuple[str, str], crime: str, n: int, falls: str = FORCE) -> dict:
    return {"Crime ID": "" if crime == "Anti-social behaviour" else f"id{n:06d}", "Month": month,
            "Reported by": falls, "Falls within": falls, "Longitude": "-2.24", "Latitude": "53.79",
            "Location": "On or near High Street", "LSOA code": lsoa[0], "LSOA name": lsoa[1], "Crime type": crime,
            "Last outcome category": "", "Context": ""}


def _month(month: str, n: int, lsoas: list[tuple[str, str]], seed: int) -> list[dict]:
    rnd = random.Random(seed)
    types = sorted(crime_type_map())
    return [_crime(month, rnd.choice(lsoas), rnd.choice(types), i) for i in range(n)]


def _april_total(db) -> float:
    with db.sessions() as s:
        return s.scalar(select(func.sum(NeedValue.value)).where(NeedValue.period == "2016-04",
                                                                NeedValue.indicator_key.like("policeuk-%")))


def test_a_revised_month_replaces_the_month_and_the_preview_says_so(fresh_demo_db):
    db = fresh_demo_db
    lsoas = _lsoas(db)
    first = _csv(_month("2016-04", 3000, lsoas, seed=1))
    # The revised file: half the rows, and only the first 20 of Burnley's LSOAs, so many earlier values vanish.
    revised = _csv(_month("2016-04", 1500, lsoas[:20], seed=2))
    march = _csv(_month("2016-03", 200, lsoas, seed=3))

    plan = plan_import(db, "police-uk", [("2016-04-lancashire-street.csv", first)])
    assert plan.refused == [] and plan.notes == []
    apply_plan(db, plan, ADMIN)
    apply_plan(db, plan_import(db, "police-uk", [("2016-03-lancashire-street.csv", march)]), ADMIN)
    assert _april_total(db) == 3000

    again = plan_import(db, "police-uk", [("2016-04-lancashire-street-revised.csv", revised)])
    assert again.refused == []
    kept = _keys(revised)
    dropped = len(_db_keys(db, "2016-04") - kept)
    apply_plan(db, again, ADMIN)
    assert _april_total(db) == 1500  # the file's figure: not 3,000, not 4,500, not a mixture
    assert _db_keys(db, "2016-04") == kept
    assert again.notes == [f"replaces 3,000 crimes of April 2016 with 1,500: the month's earlier values are "
                           f"replaced, not added to ({dropped:,} earlier value(s) not in the new file will be "
                           "deleted, counted as changes)"]
    assert any(line.strip().startswith("replaces 3,000 crimes of April 2016 with 1,500")
               for line in again.summary_lines())
    with db.sessions() as s:  # March is another period: untouched
        march_total = s.scalar(select(func.sum(NeedValue.value)).where(NeedValue.period == "2016-03"))
    assert march_total == 200


def _keys(data: bytes) -> set[tuple[str, str]]:
    types = crime_type_map()
    return {(types[r["Crime type"]]["indicator_key"], r["LSOA code"])
            for r in csv.DictReader(io.StringIO(data.decode()))}


def _db_keys(db, period: str) -> set[tuple[str, str]]:
    with db.sessions() as s:
        return {tuple(r) for r in s.execute(select(NeedValue.indicator_key, NeedValue.area_code).where(
            NeedValue.period == period, NeedValue.indicator_key.like("policeuk-%")))}


def test_a_revised_month_that_only_drops_values_still_writes(fresh_demo_db):
    """The revised file keeps some LSOAs' counts exactly and drops the rest: nothing to add or update, yet the
    dropped values must go."""
    db = fresh_demo_db
    a, b = _lsoas(db)[:2]
    apply_plan(db, plan_import(db, "police-uk", [("apr.csv", _csv(
        [_crime("2016-04", a, "Burglary", 1), _crime("2016-04", b, "Burglary", 2)]))]), ADMIN)
    plan = plan_import(db, "police-uk", [("apr-revised.csv", _csv([_crime("2016-04", a, "Burglary", 1)]))])
    apply_plan(db, plan, ADMIN)
    assert _db_keys(db, "2016-04") == {("policeuk-burglary", a[0])}
    assert plan.notes == ["replaces 2 crimes of April 2016 with 1: the month's earlier values are replaced, not "
                          "added to (1 earlier value(s) not in the new file will be deleted, counted as changes)"]


def test_an_lsoa_code_that_does_not_exist_is_refused_and_another_forces_lsoa_is_skipped(fresh_demo_db):
    db = fresh_demo_db
    burnley = _lsoas(db)[0]
    rows = [
        _crime("2024-01", burnley, "Burglary", 1),
        _crime("2024-01", ("E01999999", "Nowhere 001A"), "Burglary", 2),  # the pattern, but no LSOA has it
        _crime("2024-01", ("E0102485", "Burnley 001A"), "Burglary", 3),  # not an LSOA code at all
        _crime("2024-01", ("E01006512", "Liverpool 001A"), "Burglary", 4, falls="Merseyside Police"),
        _crime("2024-01", ("E01006513", "Liverpool 001B"), "Robbery", 5, falls="Merseyside Police"),
        _crime("2024-01", ("", ""), "Anti-social behaviour", 6),
    ]
    with db.sessions() as s:
        audits = s.scalar(select(func.count()).select_from(AuditEvent))
    plan = plan_import(db, "police-uk", [("crime.csv", _csv(rows))])
    assert [str(e) for e in plan.refused] == [
        "crime.csv, row 3, column 'LSOA code': unknown LSOA code 'E01999999'",
        "crime.csv, row 4, column 'LSOA code': 'E0102485' is not an LSOA code (E01 or W01 and six digits)"]
    assert plan.skipped == {"outside this force area (Falls within Merseyside Police)": 2,
                            "no location (empty LSOA code)": 1}
    assert "  skipped 2: outside this force area (Falls within Merseyside Police)" in plan.summary_lines()

    # Without the bad rows the file imports: the other force's rows are counted as skipped, not written.
    good = _csv([r for r in rows if r["LSOA code"] not in ("E01999999", "E0102485")])
    plan = plan_import(db, "police-uk", [("crime.csv", good)])
    assert plan.refused == [] and plan.added == {"need_indicator": 1, "need_value": 1}
    apply_plan(db, plan, ADMIN)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == audits + 1
        assert s.scalar(select(func.count()).select_from(NeedValue).where(
            NeedValue.area_code.like("E0100651%"))) == 0
