"""Seconds to build one briefing and all of them, in each format, on the demo database (prints figures).

    .venv/bin/python benchmarks/briefing_bench.py [--render]

Uses DATABASE_URL (default: the embedded demo file; the demo is loaded into an empty database). `--render` also writes the first page of one PDF briefing
as PNG into test-artifacts/ with pdftoppm (poppler-utils), to look at.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from services_db.db import open_database  # noqa: E402
from services_db.demo import seeded  # noqa: E402
from services_db.documents.build import area_names, build_all, build_briefing, gather  # noqa: E402
from services_db.queries import default_as_at  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--area", default="Preston")
    parser.add_argument("--render", action="store_true")
    args = parser.parse_args()
    db = seeded(open_database())
    as_at = default_as_at(db)
    t = time.perf_counter()
    inputs = gather(db)
    print(f"read data, fingerprint and boundaries: {time.perf_counter() - t:.2f} s (fingerprint {inputs.fingerprint})")
    n = len(area_names(inputs.data))
    for fmt in ("pdf", "docx"):
        t = time.perf_counter()
        built = build_briefing(db, args.area, as_at, fmt, inputs=inputs)
        one = time.perf_counter() - t
        t = time.perf_counter()
        blob = build_all(db, as_at, fmt)
        every = time.perf_counter() - t
        print(f"{fmt:<5} one briefing ({args.area}): {one:.2f} s, {len(built.content):,} bytes; "
              f"all {n}: {every:.2f} s, zip {len(blob):,} bytes")
        if fmt == "pdf" and args.render:
            ARTIFACTS.mkdir(exist_ok=True)
            pdf = ARTIFACTS / built.filename
            pdf.write_bytes(built.content)
            if shutil.which("pdftoppm"):
                for page in (1, 2, 3):
                    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", str(page), "-l", str(page), "-singlefile",
                                    str(pdf), str(ARTIFACTS / f"{pdf.stem}-page{page}")], check=True)
                print(f"rendered pages 1-3 to {ARTIFACTS}/{pdf.stem}-page*.png")
            else:
                print("pdftoppm not found (apt-get install -y poppler-utils); PDF written only")


if __name__ == "__main__":
    main()
