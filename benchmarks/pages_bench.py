"""Server-side time of each page script, cold and warm, and the map/chart data each page sends (prints figures).

    .venv/bin/python benchmarks/pages_bench.py [--repeat 5]

Runs app.py with Streamlit's AppTest on a copy of the demo database (DATABASE_URL if set, else a fresh SQLite
file in a temporary folder). "Cold" is the page's first run after every st.cache_data entry and the review's
memo were cleared (the database is already open, as on a running server); "warm" is the median of the next runs
of the same session, which is what a user changing a widget waits for. Sizes are the bytes of plotly figure JSON
(GeoJSON included) the page sends to the browser.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = [("overview", {}), ("area", {"area": "Burnley & Pendle"}), ("directory", {}),
         ("directory", {"service": "avert-womens-diversion"}), ("funds", {}), ("review", {}), ("gaps", {}),
         ("compare", {"places": "Lancashire,Preston,Burnley & Pendle"}), ("scenarios", {}), ("groupings", {})]


def _run(page: str, query: dict, repeat: int) -> tuple[float, float, int]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from services_db import queries

    st.cache_data.clear()
    queries._CACHE.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page(f"pages/{page}.py")  # the first run is this page's: cold includes app.py and the sidebar
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].value}")
    warm = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t0)
    size = sum(len(el.proto.spec.encode()) for el in at.get("plotly_chart"))
    return cold, statistics.median(warm), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = None
    if not os.environ.get("DATABASE_URL"):
        from services_db.db import open_database
        from services_db.demo import load_demo

        tmp = Path(tempfile.mkdtemp())
        url = f"sqlite:///{tmp / 'bench.db'}"
        t0 = time.perf_counter()
        db = open_database(url)
        load_demo(db)
        db.dispose()
        print(f"demo database built in {time.perf_counter() - t0:.1f} s")
        os.environ["DATABASE_URL"] = url
    print(f"{'page':<42}{'cold (s)':>10}{'warm (ms)':>11}{'charts+maps (KB)':>18}")
    try:
        for page, query in PAGES:
            cold, warm, size = _run(page, query, args.repeat)
            label = page + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
            print(f"{label:<42}{cold:>10.2f}{warm * 1000:>11.0f}{size / 1024:>18.1f}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
