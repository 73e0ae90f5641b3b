"""The bench's budget table: one row per budget and engine benched, "ok" only when measured within budget; and the
generator's `need=False` (the bench's import target) writes the same rows without need values."""

from __future__ import annotations

from sqlalchemy import text

from services_db.db import make_engine
from services_db.scale.bench import BUDGETS, PAGE_BUDGET, budget_rows
from services_db.scale.generate import generate


def _row(rows, step_start: str, engine: str):
    return next(r for r in rows if r[0].startswith(step_start) and r[1] == engine)


def test_budget_rows_mark_each_engine_ok_or_miss():
    results = {
        "sqlite": {"national review": 4.2, "force review": 0.31, "import services": 19.0, "briefing failed": 1.0,
                   "map nation district skipped": 1.0, "page overview": PAGE_BUDGET / 2, "page gaps failed": 1.0,
                   "review / floor": 3.0},
        "postgresql": {"national review": 300.0, "national review timed out": 1.0, "import services": 25.0},
    }
    rows = budget_rows(results)
    assert all(len(r) == 5 for r in rows)
    assert _row(rows, "national review (", "sqlite")[2:] == ("4.20 s", "< 5 s", "ok")
    assert _row(rows, "force review", "sqlite")[2] == "0.310 s"
    assert _row(rows, "national review (", "postgresql")[2:] == ("> 300 s", "< 5 s", "MISS")
    assert _row(rows, "national review /", "sqlite")[4] == "ok"  # "at most 3x" includes 3x
    assert _row(rows, "force review", "sqlite")[4] == "MISS"
    assert _row(rows, "import", "sqlite")[3:] == ("< 20 s", "ok")  # each engine has its own import budget
    assert _row(rows, "import", "postgresql")[3:] == ("< 30 s", "ok")
    assert _row(rows, "one briefing", "sqlite")[2:] == ("failed", "< 3 s", "MISS")
    assert _row(rows, "area page on national data, cold", "postgresql")[2] == "not run"
    assert _row(rows, "map data, the nation", "sqlite")[2::2] == ("skipped", "skip")
    assert not any(r[0].startswith("map data") and r[1] == "postgresql" for r in rows)  # engine-independent
    assert _row(rows, "demo page overview", "sqlite")[4] == "ok"
    assert _row(rows, "demo page gaps", "sqlite")[2] == "failed"
    assert len({b.key for b in BUDGETS}) == len(BUDGETS)


def test_generate_without_need_writes_the_same_other_rows(tmp_path):
    counts = []
    for need in (True, False):
        url = f"sqlite:///{tmp_path / f'n{need}.db'}"
        generate(url, seed=3, scale=0.001, periods=1, need=need)
        engine = make_engine(url)
        with engine.connect() as c:
            counts.append({t: c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()  # noqa: S608
                           for t in ("area", "service", "coverage", "funding_line", "need_value")})
            services = c.execute(text("SELECT key, name, provider_id FROM service ORDER BY id")).fetchall()
            counts[-1]["services"] = services
        engine.dispose()
    with_need, without = counts
    assert with_need["need_value"] > 0 and without["need_value"] == 0
    assert {k: v for k, v in with_need.items() if k != "need_value"} == \
        {k: v for k, v in without.items() if k != "need_value"}
