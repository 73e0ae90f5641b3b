"""Bad demo rows are refused with the file, row and column named, and nothing is written."""

import csv
import shutil
from pathlib import Path

import pytest

from services_db import boundaries, queries
from services_db.demo import DEMO_DIR, load_demo
from services_db.validation import ImportRefused


def _copy_with(tmp_path: Path, file: str, row: int, column: str, value: str) -> Path:
    """A copy of the demo files with one cell changed (row counts as a spreadsheet does: header is row 1)."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, target)
    path = target / file
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    rows[row - 2][column] = value
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return target


CASES = [
    ("allocations.csv", 3, "amount", "-500", "demo/allocations.csv, row 3, column 'amount': amount -500 is negative"),
    ("allocations.csv", 2, "amount", "lots", "demo/allocations.csv, row 2, column 'amount': 'lots' is not a number"),
    ("services.csv", 2, "end_date", "2001-01-01", "demo/services.csv, row 2, column 'end_date': ends (2001-01-01) before"),
    ("services.csv", 4, "coverage", "E07999999", "demo/services.csv, row 4, column 'coverage': unknown area 'E07999999'"),
    ("services.csv", 3, "themes", "knitting", "demo/services.csv, row 3, column 'themes': unknown theme 'knitting'"),
    ("funds.csv", 2, "start_date", "31/03/2014", "demo/funds.csv, row 2, column 'start_date': '31/03/2014' is not a date"),
]


@pytest.mark.parametrize("file,row,column,value,message", CASES, ids=[c[2] + ":" + c[3] for c in CASES])
def test_bad_cell_refuses_the_whole_load(empty_db, tmp_path, file, row, column, value, message):
    directory = _copy_with(tmp_path, file, row, column, value)
    with pytest.raises(ImportRefused) as err:
        load_demo(empty_db, directory)
    assert any(str(e).startswith(message) for e in err.value.errors), [str(e) for e in err.value.errors]
    assert sum(queries.table_counts(empty_db).values()) == 0



def test_duplicate_identifier_is_refused(empty_db, tmp_path):
    with (DEMO_DIR / "services.csv").open(newline="", encoding="utf-8") as f:
        first_key = next(csv.DictReader(f))["service_key"]
    directory = _copy_with(tmp_path, "services.csv", 3, "service_key", first_key)
    with pytest.raises(ImportRefused) as err:
        load_demo(empty_db, directory)
    assert f"demo/services.csv, row 3, column 'service_key': duplicate identifier '{first_key}' (first on row 2)" in [
        str(e) for e in err.value.errors]
    assert sum(queries.table_counts(empty_db).values()) == 0


def test_wrong_header_names_the_missing_column(empty_db, tmp_path):
    target = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, target)
    text = (target / "funds.csv").read_text(encoding="utf-8").replace("total_amount", "total", 1)
    (target / "funds.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ImportRefused, match=r"demo/funds.csv, row 1: wrong header: missing column\(s\) total_amount"):
        load_demo(empty_db, target)
    assert sum(queries.table_counts(empty_db).values()) == 0


def test_good_files_load(empty_db):
    counts = load_demo(empty_db, DEMO_DIR, boundaries.GEOGRAPHY_DIR)
    assert counts["area"] == 968
    assert queries.table_counts(empty_db)["service"] == counts["services.csv"]
