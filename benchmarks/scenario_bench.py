"""How long a scenario's review takes after one change (issue "Plan the next year": < 1 s for the demo force,
< 3 s for one force of the national dataset).

    .venv/bin/python benchmarks/scenario_bench.py                       # the demo (a fresh temporary database)
    .venv/bin/python benchmarks/scenario_bench.py --url sqlite:///…    # any database, e.g. the national one
        [--fund KEY --from AREA --to AREA --theme KEY --amount 20000]

"After one change" is what a user waits for: the actual review is already warm (the app keeps it per data
version), the scenario's snapshot is new, so its review is cold. Each figure is the median of --repeat runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services_db import queries  # noqa: E402
from services_db.db import open_database  # noqa: E402
from services_db.demo import seeded  # noqa: E402
from services_db.review import review_force  # noqa: E402
from services_db.scenarios import MoveMoney, apply, review_scenario  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--url", help="database URL (default: the demo in a temporary SQLite file)")
    p.add_argument("--fund", default="csg-2013-14")
    p.add_argument("--from", dest="src", default="Blackpool")
    p.add_argument("--to", dest="dst", default="Burnley & Pendle")
    p.add_argument("--theme", default="vulnerable-adults")
    p.add_argument("--amount", type=float, default=20_000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(args.url) if args.url else seeded(open_database(f"sqlite:///{tmp}/demo.db"))
        t = time.perf_counter()
        data = queries.review_data(db)
        load = time.perf_counter() - t
        as_at = queries.default_as_at(db)
        review_force(data, as_at)  # the actual review, warm as in the app
        change = [MoveMoney(args.fund, args.src, args.dst, args.amount, args.theme)]
        applying, whole = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            apply(data, change)
            applying.append(time.perf_counter() - t)
            t = time.perf_counter()
            r = review_scenario(data, change, as_at)
            whole.append(time.perf_counter() - t)
        print(f"data: {db.url} ({len(data.services):,} services, {len(data.areas):,} areas); load {load:.2f} s")
        print(f"change: {r.changes[0]}")
        print(f"  apply the change (new snapshot)          {statistics.median(applying) * 1000:8.1f} ms")
        print(f"  scenario review beside the actual one    {statistics.median(whole) * 1000:8.1f} ms   "
              f"(budget {'1' if not args.url else '3'} s)")
        print(f"  gaps moved {len(r.gaps)}, inequity rows moved {len(r.inequity)}, duplication groups "
              f"{len(r.duplication)}, findings changed {len(r.changed)} / new {len(r.new_sentences)} / gone "
              f"{len(r.gone_sentences)}")
        db.dispose()


if __name__ == "__main__":
    main()
