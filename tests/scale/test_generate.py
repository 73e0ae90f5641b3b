"""The national generator at a small scale (--scale 0.002, one need period): complete geography, integrity,
determinism, and the review's reader on both backends."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from sqlalchemy import text

from services_db.db import ALL_FORCES, open_database
from services_db.queries import review_data
from services_db.scale.generate import INDICATORS, generate, source_of
from services_db.scale.grouping import bisect, load_national_grouping

SCALE = 0.002  # as in conftest.py
SEED = 7


def _url(db) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _scalar(db, sql: str):
    with db.engine.connect() as c:
        return c.execute(text(sql)).scalar_one()


def _digest(db) -> dict[str, str]:
    """A hash of each generated table's rows in key order, comparable across backends."""
    queries = {
        "area": "SELECT code, name, level, parent_code FROM area ORDER BY code",
        "population": "SELECT code, population FROM area ORDER BY code",
        "organisation": "SELECT id, key, name, sector FROM organisation ORDER BY id",
        "service": "SELECT id, key, name, provider_id, tier, status, start_date, end_date FROM service ORDER BY id",
        "service_theme": "SELECT service_id, theme_key FROM service_theme ORDER BY service_id, theme_key",
        "coverage": "SELECT service_id, area_code FROM coverage ORDER BY service_id, area_code",
        "funding_line": "SELECT id, service_id, commissioner_id, fund_id, annual_amount, start_date, end_date "
                        "FROM funding_line ORDER BY id",
        "fund": "SELECT id, key, owner_id, total_amount FROM fund ORDER BY id",
        "allocation": "SELECT id, fund_id, recipient_id, service_id, amount FROM allocation ORDER BY id",
        "need_value": "SELECT indicator_key, area_code, period, value FROM need_value "
                      "ORDER BY indicator_key, area_code, period",
    }
    out = {}
    with db.engine.connect() as c:
        for table, sql in queries.items():
            h = hashlib.sha256()
            for row in c.execute(text(sql)):
                h.update(repr(tuple(
                    f"{float(v):.2f}" if isinstance(v, int | float) and not isinstance(v, bool) else str(v)
                    for v in row)).encode())
            out[table] = h.hexdigest()
    return out


def test_every_lsoa_and_the_43_forces_are_present(generated):
    data = review_data(generated, ALL_FORCES)
    levels = data.areas["level"].value_counts().to_dict()
    assert levels == {"lsoa": 34_753, "district": 348, "area": 220, "division": 128, "force": 43}
    areas = data.areas.set_index("code")
    lancs_districts = areas.index[(areas["level"] == "district")
                                  & areas["parent_code"].isin(areas.index[areas["parent_code"].isin(
                                      ["DIV-W", "DIV-S", "DIV-E"])])]
    assert len(lancs_districts) == 14
    assert {"E07000123", "E06000009", "E07000128"} <= set(lancs_districts)
    assert (areas.loc[["DIV-W", "DIV-S", "DIV-E"], "parent_code"] == "E23000003").all()
    lsoas = areas[areas["level"] == "lsoa"]
    assert (areas.loc[lsoas["parent_code"], "level"] == "district").all()
    assert sum(lsoas["parent_code"].isin(lancs_districts)) == 941


def test_counts_scale_and_review_data_reads_it(generated):
    data = review_data(generated, ALL_FORCES)
    assert len(data.services) == 200
    assert len(data.funding_lines) == 500
    assert _scalar(generated, "SELECT COUNT(*) FROM fund") == 1
    assert len(data.need) == 34_753 * len(INDICATORS)  # one period
    assert set(data.need["indicator_key"]) == {i[0] for i in INDICATORS}
    assert data.need["value"].ge(0).all() and data.need["value"].sum() > 0
    assert data.services["themes"].map(len).between(1, 3).all()
    assert data.services["commissioners"].map(len).ge(1).all()
    assert set(data.coverage["service_id"]) == set(data.services["service_id"])
    national = data.coverage.groupby("service_id")["area_code"].size()
    assert national.max() == 43  # at least one national service covers all 43 forces
    assert generated.setting("default_as_at") == "2024-01-31"


def test_referential_integrity_and_marking(generated):
    checks = {
        "coverage without area": "SELECT COUNT(*) FROM coverage c LEFT JOIN area a ON a.code = c.area_code "
                                 "WHERE a.code IS NULL",
        "line without service": "SELECT COUNT(*) FROM funding_line f LEFT JOIN service s ON s.id = f.service_id "
                                "WHERE s.id IS NULL",
        "line without commissioner": "SELECT COUNT(*) FROM funding_line f LEFT JOIN organisation o "
                                     "ON o.id = f.commissioner_id WHERE o.id IS NULL",
        "service without provider": "SELECT COUNT(*) FROM service s LEFT JOIN organisation o "
                                    "ON o.id = s.provider_id WHERE o.id IS NULL",
        "need without area": "SELECT COUNT(*) FROM need_value n LEFT JOIN area a ON a.code = n.area_code "
                             "WHERE a.code IS NULL",
        "area with unknown parent": "SELECT COUNT(*) FROM area a LEFT JOIN area p ON p.code = a.parent_code "
                                    "WHERE a.parent_code IS NOT NULL AND p.code IS NULL",
        "service without funding": "SELECT COUNT(*) FROM service s WHERE NOT EXISTS "
                                   "(SELECT 1 FROM funding_line f WHERE f.service_id = s.id)",
        "allocation not matching its line": "SELECT COUNT(*) FROM allocation a WHERE NOT EXISTS (SELECT 1 FROM "
                                            "funding_line f WHERE f.service_id = a.service_id "
                                            "AND f.fund_id = a.fund_id)",
        "fund over-allocated": "SELECT COUNT(*) FROM fund f WHERE f.total_amount < "
                               "(SELECT COALESCE(SUM(amount), 0) FROM allocation a WHERE a.fund_id = f.id)",
    }
    assert {name: _scalar(generated, sql) for name, sql in checks.items()} == dict.fromkeys(checks, 0)
    src = source_of(SEED)
    for table in ("service", "funding_line", "need_value", "allocation", "organisation"):
        assert _scalar(generated, f"SELECT COUNT(*) FROM {table} WHERE source <> '{src}'") == 0  # noqa: S608
    for table in ("funding_line", "need_value", "allocation"):
        assert _scalar(generated, f"SELECT COUNT(*) FROM {table} WHERE NOT is_estimate") == 0  # noqa: S608


def test_same_seed_same_rows_on_every_backend(generated, backend, tmp_path):
    """This backend's rows equal a fresh SQLite run's with the same seed; another seed differs."""
    again = open_database(f"sqlite:///{tmp_path / 'again.db'}")
    try:
        generate(_url(again), seed=SEED, scale=SCALE, periods=1)
        first = _digest(generated)
        assert _digest(again) == first
    finally:
        again.dispose()
    if backend != "sqlite":
        return  # the seed's effect does not depend on the backend
    other = open_database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        generate(_url(other), seed=SEED + 1, scale=SCALE, periods=1)
        different = _digest(other)
    finally:
        other.dispose()
    assert different["area"] == first["area"]  # the same geography whatever the seed
    assert different["population"] != first["population"]
    assert different["service"] != first["service"]
    assert different["need_value"] != first["need_value"]


def test_refuses_a_database_that_holds_data(generated):
    with pytest.raises(ValueError, match="already holds data"):
        generate(_url(generated), seed=SEED, scale=SCALE, periods=1)


def test_national_grouping_file_is_complete():
    g = load_national_grouping()
    assert len(g.districts) == 348 and g.districts["district_code"].is_unique
    assert g.areas["force_code"].nunique() == 43
    assert set(g.districts["area_code"]) == set(g.areas["area_code"])
    assert g.districts["lsoas"].sum() == 34_753
    lancs = g.districts.merge(g.areas, on="area_code").query("force_code == 'E23000003'")
    assert len(lancs) == 14 and lancs["area_code"].nunique() == 9
    per_force = g.districts.merge(g.areas, on="area_code").groupby("force_code")["lsoas"].sum()
    assert per_force.between(400, 1_200).all()


def test_bisect_balances_weight_along_the_wider_axis():
    frame = pd.DataFrame({"name": list("abcdefgh"), "x": [0, 1, 2, 3, 4, 5, 6, 7], "y": [0] * 8,
                          "weight": [1, 1, 1, 1, 1, 1, 1, 5]})
    groups = bisect(frame, 2)
    assert [g["name"].tolist() for g in groups] == [list("abcdef"), list("gh")]
    assert [len(g) for g in bisect(frame, 8)] == [1] * 8
