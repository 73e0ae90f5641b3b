"""Each demo page's cold and warm server-side script time as one JSON line (run by `python -m services_db bench`).

The measurement is `benchmarks/pages_bench.py`'s (`_run`: AppTest, caches cleared, cold = first run, warm = the
median of the next `repeat` runs); this script only points it at a database that already holds the demo data and
prints the figures as JSON, so the bench can put each page in its budget table ("demo pages < 200 ms warm").

Usage: python benchmarks/pages_timing.py DATABASE_URL [REPEAT]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def main(url: str, repeat: int) -> dict[str, dict]:
    os.environ["DATABASE_URL"] = url
    import pages_bench

    out: dict[str, dict] = {}
    for page, query in pages_bench.PAGES:
        label = page + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        try:
            cold, warm, size = pages_bench._run(page, query, repeat)
        except Exception as exc:  # noqa: BLE001 - reported per page, the others still run
            out[label] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        out[label] = {"cold": cold, "warm": warm, "size": size}
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)))
