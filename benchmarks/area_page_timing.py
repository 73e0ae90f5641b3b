"""Server-side script time of the area page, cold and warm, with Streamlit's AppTest; prints one JSON line.

Run by `python -m services_db bench` in a child process, because services_db itself never imports Streamlit.
That child is the app process (app.py and the area page on the national data), so its peak resident memory is the
figure the "app process under 2 GiB" budget is about; the bench's own process also generates, imports and
builds briefings, and its peak is printed beside it for information.
Usage: python benchmarks/area_page_timing.py DATABASE_URL AREA TIMEOUT_SECONDS [WARM_RUNS]
WARM_RUNS (default 1, what the bench runs): reruns after the cold run; "warm" is their median and "warm_runs" each
one, since on a shared machine one rerun can be twice another. Cold is one run per process by its nature: run the
script several times for its spread.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_resident_bytes() -> int:
    """This process's own peak resident memory (VmHWM; see `services_db.scale.bench.memory_kb`)."""
    from services_db.scale.bench import memory_kb

    peak_kb = memory_kb().get("VmHWM")
    return peak_kb * 1024 if peak_kb else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(url: str, area: str, timeout: float, warm_runs: int = 1) -> dict:
    os.environ["DATABASE_URL"] = url
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.switch_page("pages/area.py")
    at.query_params["area"] = area
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    if at.exception:
        return {"error": at.exception[0].message}
    runs = []
    for _ in range(max(1, warm_runs)):
        t0 = time.perf_counter()
        at.run()
        runs.append(time.perf_counter() - t0)
    peak = peak_resident_bytes()
    return {"cold": cold, "warm": statistics.median(runs), "warm_runs": runs, "peak": peak,
            "error": at.exception[0].message if at.exception else None}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1)))
