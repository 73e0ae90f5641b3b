"""Issue 13: the national view's overview is counted in the database, force by force, and reads no snapshot.

A small generated national database (scale 0.002), changed so that every rule shows: a force none of whose
services has known funding (the national service's lines removed too, so every force has one service of unknown
funding), one Lancashire service with its funding removed, a regional service covering a district of another
force and an LSOA under that district (nested: its residents must count once), and an LSOA of unknown population.
`force_summary` is checked against pandas over the raw tables of that database and against the force review's
apportionment; the app's Overview page is driven with AppTest in the national view and without it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import delete, insert, select, update
from streamlit.testing.v1 import AppTest

from components.chart_data import SOURCE
from components.format import money_text
from services_db import queries
from services_db.counting import period_contains, services_current
from services_db.db import ALL_FORCES, FORCE_ENV, open_database
from services_db.models import Area, Coverage, FundingLine, Service
from services_db.national import COLUMNS, force_summary, is_national, national_overview, national_totals
from services_db.scale.generate import generate
from tests.app.chart_downloads import capture_downloads, downloaded

APP = str(Path(__file__).resolve().parent.parent / "app.py")
AS_AT = dt.date(2024, 1, 31)
LANCASHIRE = "E23000003"


def _read(db, stmt) -> pd.DataFrame:
    with db.engine.connect() as c:
        result = c.execute(stmt)
        return pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))


class Raw:
    """The database's raw tables in pandas, and each rule worked out from them without SQL."""

    def __init__(self, db) -> None:
        self.areas = _read(db, select(Area.code, Area.name, Area.level, Area.parent_code, Area.population))
        self.areas["population"] = pd.to_numeric(self.areas["population"], errors="coerce")
        self.services = _read(db, select(Service.id, Service.status, Service.start_date, Service.end_date,
                                         Service.known_from))
        self.coverage = _read(db, select(Coverage.service_id, Coverage.area_code))
        self.lines = _read(db, select(FundingLine.service_id, FundingLine.annual_amount, FundingLine.start_date,
                                      FundingLine.end_date))
        self.lines["annual_amount"] = self.lines["annual_amount"].astype(float)
        parent = dict(zip(self.areas["code"], self.areas["parent_code"], strict=True))
        level = dict(zip(self.areas["code"], self.areas["level"], strict=True))

        def force_of(code):
            while code is not None and level.get(code) != "force":
                code = parent.get(code)
            return code

        self.force = {c: force_of(c) for c in self.areas["code"]}
        lsoas = self.areas[self.areas["level"] == "lsoa"]
        pop = lsoas["population"]
        fill = pop[pop > 0].mean()
        self.residents = dict(zip(lsoas["code"], pop.where(pop.notna() & (pop >= 0), fill), strict=True))
        self.lsoas_of: dict[str, set[str]] = {}
        for code in lsoas["code"]:
            c = code
            while c is not None:
                self.lsoas_of.setdefault(c, set()).add(code)
                c = parent.get(c)

    def current(self) -> pd.Series:
        s = self.services
        return pd.Series(services_current(s["status"], s["start_date"], s["end_date"], AS_AT, s["known_from"]),
                         index=s["id"])

    def funding(self) -> pd.Series:
        """Known annual funding of each service that has a line current at the date."""
        lines = self.lines[period_contains(self.lines["start_date"], self.lines["end_date"], AS_AT)]
        return lines.groupby("service_id")["annual_amount"].sum()

    def expected(self) -> pd.DataFrame:
        """Per force: services, multi_force, funding_not_recorded, known_funding, residents, per_1000."""
        current, funding = self.current(), self.funding()
        rows: dict[str, dict] = {}
        for sid, codes in self.coverage.groupby("service_id")["area_code"]:
            if not current.get(sid, False):
                continue
            lsoas = set().union(*(self.lsoas_of.get(c, set()) for c in codes))  # a set: nested codes count once
            by_force: dict[str, float] = {}
            for lsoa in lsoas:
                by_force[self.force[lsoa]] = by_force.get(self.force[lsoa], 0.0) + self.residents[lsoa]
            whole = sum(by_force.values())
            for force, res in by_force.items():
                r = rows.setdefault(force, dict(services=0, multi_force=0, funding_not_recorded=0, money=[]))
                r["services"] += 1
                r["multi_force"] += len(by_force) > 1
                if sid in funding.index:
                    r["money"].append(funding[sid] * res / whole)
                else:
                    r["funding_not_recorded"] += 1
        out = pd.DataFrame.from_dict(rows, orient="index")
        out["known_funding"] = out["money"].map(lambda m: sum(m) if m else np.nan)
        res = pd.Series(self.residents)
        out["residents"] = res.groupby(res.index.map(self.force)).sum()
        out["per_1000"] = out["known_funding"] / out["residents"] * 1000
        return out.drop(columns="money")


def _changed(db) -> dict[str, object]:
    """Make the database show every rule (see the module docstring); returns what was changed."""
    raw = Raw(db)
    current, funding = raw.current(), raw.funding()
    cov = raw.coverage.assign(force=raw.coverage["area_code"].map(raw.force))
    forces_of = cov.groupby("service_id")["force"].agg(lambda f: frozenset(f))
    live = [s for s in forces_of.index if current.get(s, False)]
    single = {s: next(iter(forces_of[s])) for s in live if len(forces_of[s]) == 1}
    per_force = pd.Series(single).value_counts()
    empty = sorted((n, f) for f, n in per_force.items() if f != LANCASHIRE)[0][1]  # the fewest services
    covering_empty = [s for s in live if empty in forces_of[s]]
    lancs_unknown = min(s for s, f in single.items() if f == LANCASHIRE and s in funding.index)
    regional = min(s for s, f in single.items() if f not in (LANCASHIRE, empty) and s in funding.index)
    home = single[regional]
    lancs_districts = raw.areas[(raw.areas["level"] == "district")
                                & (raw.areas["code"].map(raw.force) == LANCASHIRE)]["code"].sort_values()
    district = lancs_districts.iloc[0]
    lsoa_in_district = sorted(raw.lsoas_of[district])[0]
    home_lsoa = sorted(c for c in raw.lsoas_of[home] if raw.force[c] == home)[0]
    with db.engine.begin() as c:
        c.execute(delete(FundingLine).where(FundingLine.service_id.in_([*covering_empty, lancs_unknown])))
        c.execute(insert(Coverage), [{"service_id": regional, "area_code": district},
                                     {"service_id": regional, "area_code": lsoa_in_district}])
        c.execute(update(Area).where(Area.code == home_lsoa).values(population=None))
    return dict(empty=empty, lancs_unknown=lancs_unknown, regional=regional, home=home)


@pytest.fixture(scope="module")
def _national_dbs(tmp_path_factory, pg_schemas):
    dbs: dict[str, tuple] = {}

    def get(backend: str):
        if backend not in dbs:
            url = (f"sqlite:///{tmp_path_factory.mktemp('national_overview') / 'small.db'}" if backend == "sqlite"
                   else pg_schemas.url())
            db = open_database(url)
            generate(db.engine.url.render_as_string(hide_password=False), seed=7, scale=0.002, periods=1)
            dbs[backend] = (db, _changed(db))
        return dbs[backend]

    yield get
    for db, _ in dbs.values():
        db.dispose()


@pytest.fixture
def national(backend, _national_dbs):
    """(the small national database on this backend, what `_changed` did to it): read it, never write to it."""
    return _national_dbs(backend)


def test_force_summary_is_the_raw_tables_counted_by_the_rules(national):
    db, changed = national
    got = force_summary(db, AS_AT)
    assert list(got.columns) == COLUMNS
    assert len(got) == 43 and got["force_code"].is_unique
    expected = Raw(db).expected()
    got = got.set_index("force_code")
    for col in ("services", "multi_force", "funding_not_recorded"):
        assert got[col].to_dict() == expected[col].reindex(got.index).fillna(0).astype(int).to_dict(), col
    for col in ("known_funding", "residents", "per_1000"):
        assert np.allclose(got[col], expected[col].reindex(got.index), rtol=1e-12, atol=1e-6, equal_nan=True), col

    lancs, empty, home = got.loc[LANCASHIRE], got.loc[changed["empty"]], got.loc[changed["home"]]
    # Lancashire: its service whose lines were removed is unknown, as is the national one; the regional service
    # from another force counts here too, with a share of its money by the residents it covers here.
    assert lancs["funding_not_recorded"] == 2 and lancs["multi_force"] == 2
    assert lancs["known_funding"] > 0 and lancs["areas"] == 9 and lancs["districts"] == 14
    # The force none of whose services has known funding: unknown, never £0, and a count of them.
    assert np.isnan(empty["known_funding"]) and np.isnan(empty["per_1000"])
    assert empty["funding_not_recorded"] == empty["services"] > 0
    assert home["multi_force"] == 2  # the regional service and the national one
    assert got["residents_is_estimate"].all()  # generated populations (and one unknown) are estimates

    # Each pound once: the forces' shares add up to the nation's known funding.
    totals = national_totals(db, AS_AT)
    assert totals["known_funding"] == pytest.approx(got["known_funding"].sum(), abs=0.01)
    assert totals["services"] < got["services"].sum()  # a service covering several forces counts in each row
    assert totals["multi_force"] == 2 and totals["unplaced"] == 0 and totals["unshared"] == 0
    assert totals["residents"] == pytest.approx(expected["residents"].sum())
    assert totals["per_1000"] == pytest.approx(expected["known_funding"].sum() / expected["residents"].sum() * 1000)
    assert totals["funding_not_recorded"] == len(set(Raw(db).current()[lambda s: s].index)
                                                 - set(Raw(db).funding().index))


def test_a_force_s_known_funding_is_what_its_review_apportions_to_it(national):
    """The money rule is the review's: Lancashire's known funding is its review's apportioned provision (to the
    penny of the review's rounding per LSOA), the regional service's share included."""
    from services_db.review import apportion

    db, changed = national
    got = force_summary(db, AS_AT).set_index("force_code")
    data = queries.review_data(db, LANCASHIRE)
    assert changed["regional"] in set(data.services["service_id"])
    assert got.loc[LANCASHIRE, "known_funding"] == pytest.approx(apportion(data, AS_AT)["amount"].sum(), abs=1.0)


def test_the_national_view_is_all_over_several_forces(national, demo_db, monkeypatch):
    db, _ = national
    monkeypatch.delenv(FORCE_ENV, raising=False)
    assert not is_national(db)
    monkeypatch.setenv(FORCE_ENV, LANCASHIRE)
    assert not is_national(db)
    monkeypatch.setenv(FORCE_ENV, " ALL ")
    assert is_national(db)
    assert not is_national(demo_db)  # "all" over a one-force database is that force


def _displayed(element) -> pd.DataFrame:
    """A styled table's cells as shown (the Styler's display values), not the numbers underneath."""
    return pa.ipc.open_stream(element.proto.arrow_data.styler.display_values).read_all().to_pandas()


@pytest.fixture
def national_url(_national_dbs):
    db, changed = _national_dbs("sqlite")
    return db.engine.url.render_as_string(hide_password=False), db, changed


def test_the_overview_in_the_national_view_is_counted_in_the_database(national_url, monkeypatch):
    url, db, changed = national_url
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv(FORCE_ENV, ALL_FORCES)

    def no_snapshot(*args, **kwargs):
        raise AssertionError("the national overview read the national snapshot")

    monkeypatch.setattr(queries, "_read_review_data", no_snapshot)
    store = capture_downloads(monkeypatch)
    before = set(queries._CACHE)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert set(queries._CACHE) == before and (db.data_version(), None) not in before  # no snapshot read

    summary, totals = national_overview(db, AS_AT)
    expected = Raw(db).expected()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Forces"] == "43"
    assert metrics["Services"] == f"{totals['services']:,}"
    assert "Organisations" not in metrics  # not the one-force overview

    element = next(df for df in at.dataframe if "Known funding (£ a year)" in df.value.columns)
    table = element.value
    row = table.set_index("Code").loc[LANCASHIRE]
    assert row["Force"] == "Lancashire"
    assert row["Services"] == expected.loc[LANCASHIRE, "services"]
    assert row["Funding not recorded (services)"] == 2
    assert row["Services also covering other forces"] == 2
    assert row["Known funding (£ a year)"] == pytest.approx(expected.loc[LANCASHIRE, "known_funding"], abs=1e-6)
    assert row["Place-based areas"] == 9 and row["Districts"] == 14
    assert np.isnan(table.set_index("Code").loc[changed["empty"], "Known funding (£ a year)"])  # not £0
    on_screen = _displayed(element).set_index(table["Code"])  # what the reader sees in each cell
    assert on_screen.loc[changed["empty"], "Known funding (£ a year)"] == "not recorded"
    assert on_screen.loc[changed["empty"], "Known funding per 1,000 residents"] == "not recorded"
    assert on_screen.loc[LANCASHIRE, "Known funding (£ a year)"] == money_text(row["Known funding (£ a year)"])

    shown = "\n".join(str(c.value) for c in at.caption).replace("\\", "")
    names = summary.set_index("force_code")["force_name"]
    empty_name = names[changed["empty"]]
    # the emptied force and any the national service alone covers
    unknown = sorted(names[expected.index[expected["known_funding"].isna()]])
    assert empty_name in unknown
    assert f"No known funding (not drawn; not £0): {', '.join(unknown)}." in shown
    assert "other pages read the whole national snapshot when opened" in shown
    assert "shared between those forces by the residents" in shown
    csv = downloaded(at, "national_per_1000_csv", store).decode("utf-8-sig").rstrip("\n").split("\n")
    assert csv[0].startswith("Force code,Force,Residents,Known funding")
    assert csv[-3:] == [f'"Source: {SOURCE}: Known funding per 1,000 residents, by force"', '"As at: 31 January 2024"',
                        '"Data version: 1"']  # no fingerprint: it would hash the national snapshot
    chart = at.get("plotly_chart")[0].proto.spec
    assert empty_name not in chart and "Lancashire" in chart  # drawn only where known


def test_without_the_setting_a_national_database_shows_its_one_force_overview(national_url, monkeypatch):
    url, db, _ = national_url
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv(FORCE_ENV, raising=False)
    assert not is_national(db)
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"Services", "Organisations", "Funds", "Money allocated"}
    assert at.title[0].value == "Commissioned services in Lancashire"
    assert [k for k in queries._CACHE if k == (db.data_version(), LANCASHIRE)]  # Lancashire's own snapshot
