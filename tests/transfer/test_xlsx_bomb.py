"""Issue: a 0.36 MB workbook holding 123 MB of XML took 49 s and 1.77 GB to be refused for its header.

A workbook is refused on the sizes its zip declares before any XML is read, its header is checked before its rows
are read, and a sheet stops at MAX_ROWS rows. The bomb's time and peak memory are measured in a fresh process and
printed (run with -s to see them).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from services_db.transfer import files
from services_db.transfer.files import FileProblem, read_tables
from services_db.transfer.imports import plan_import

ROOT = Path(__file__).resolve().parents[2]

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>')
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="services" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>')


def _cell(col: str, row: int, text: str) -> str:
    return f'<c r="{col}{row}" t="inlineStr"><is><t>{text}</t></is></c>'


def write_workbook(path: Path, header: list[str], rows: int, cell_text: str, dimension: str | None = None,
                   shared: bool = False) -> int:
    """A valid .xlsx of one sheet, streamed into the zip so neither side holds the XML whole; its dimension is the
    true one unless given. Cells are inline strings, or (`shared`) each row's a distinct entry of the shared-strings
    table, as Excel writes them (openpyxl reads that whole table on opening a workbook). Returns the XML's size."""
    cols = [chr(ord("A") + i) for i in range(len(header))]
    dimension = dimension or f"A1:{cols[-1]}{rows + 1}"
    size = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            n = rows * len(cols) if shared else 0
            head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxml'
                    f'formats.org/spreadsheetml/2006/main" count="{n}" uniqueCount="{n}">').encode()
            f.write(head)
            size += len(head)
            for start in range(0, n, 2000):
                chunk = "".join(f"<si><t>{cell_text}{i}</t></si>" for i in range(start, min(n, start + 2000)))
                f.write(chunk.encode())
                size += len(chunk)
            f.write(b"</sst>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            def put(text: str) -> None:
                nonlocal size
                data = text.encode()
                size += len(data)
                f.write(data)
            put('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f'<dimension ref="{dimension}"/><sheetData>')
            put('<row r="1">' + "".join(_cell(c, 1, h) for c, h in zip(cols, header, strict=True)) + "</row>")
            batch = []
            for r in range(2, rows + 2):
                if shared:
                    first = (r - 2) * len(cols)
                    cells = "".join(f'<c r="{c}{r}" t="s"><v>{first + i}</v></c>' for i, c in enumerate(cols))
                else:
                    cells = "".join(_cell(c, r, cell_text) for c in cols)
                batch.append(f'<row r="{r}">{cells}</row>')
                if len(batch) == 2000:
                    put("".join(batch))
                    batch = []
            put("".join(batch) + "</sheetData></worksheet>")
    return size


@pytest.fixture(scope="module", params=["inline strings", "shared strings"])
def bomb(tmp_path_factory, request) -> tuple[Path, int]:
    """A wrong header and over 100 MB of rows of long strings, under 2 MB zipped."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    size = write_workbook(path, ["Service", "Provider", "Notes"], 40_000, "x" * 1000,
                          shared=request.param == "shared strings")
    return path, size


# Peak memory in a fresh process: the kernel's high-water mark of resident memory (VmHWM), reset just before the
# read (a child's ru_maxrss starts at its parent's, a large pytest process), and tracemalloc's peak of Python's own.
MEASURE = """
import json, re, sys, time, tracemalloc
from pathlib import Path
from services_db.transfer.files import FileProblem, read_tables
def hwm():
    return int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024
path = Path(sys.argv[1])
data = path.read_bytes()
try:
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark to what is resident now
except OSError:
    pass
before = hwm()
tracemalloc.start()
t0 = time.perf_counter()
try:
    read_tables(path.name, data)
    message = None
except FileProblem as exc:
    message = str(exc)
seconds = time.perf_counter() - t0
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"message": message, "seconds": seconds, "traced_peak_mb": peak / 2**20,
                  "rss_before_mb": before, "rss_peak_mb": hwm()}))
"""


def test_bomb_is_refused_quickly_naming_the_file(bomb):
    path, size = bomb
    assert size > 100 * 10**6 and path.stat().st_size < 2 * 10**6  # >100 MB of XML in a small file
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, cwd=ROOT,
                         timeout=300, check=True)
    got = json.loads(out.stdout)
    print(f"\nxlsx bomb: {path.stat().st_size / 1e6:.2f} MB file, {size / 1e6:.0f} MB of XML: refused in "
          f"{got['seconds']:.3f} s, traced peak {got['traced_peak_mb']:.1f} MB, process peak RSS "
          f"{got['rss_peak_mb']:.0f} MB (RSS {got['rss_before_mb']:.0f} MB before reading)")
    assert got["message"] is not None and got["message"].startswith("bomb.xlsx: the workbook unpacks to ")
    assert "the limit is 50 MB" in got["message"] and " alone is " in got["message"]
    assert got["seconds"] < 2
    assert got["rss_peak_mb"] < 300 and got["traced_peak_mb"] < 300


def test_bomb_through_plan_import(bomb, demo_db):
    path, _ = bomb
    t0 = time.perf_counter()
    with pytest.raises(FileProblem, match=r"^bomb\.xlsx: the workbook unpacks to \d+ MB"):
        plan_import(demo_db, "services", [(path.name, path.read_bytes())])
    assert time.perf_counter() - t0 < 2


def test_wrong_header_is_refused_before_the_rows_are_read(tmp_path, demo_db, monkeypatch):
    """Under the size cap, a workbook's rows are read only after its header passes: a wrong header on a sheet of
    40 MB is refused in well under the time reading its rows takes."""
    path = tmp_path / "partner.xlsx"
    write_workbook(path, ["service_key", "title"], 9_000, "y" * 2000)
    read = []
    real = files._sheet_rows

    def spy(label, sheet, header):
        load = real(label, sheet, header)
        return lambda: read.append(label) or load()
    monkeypatch.setattr(files, "_sheet_rows", spy)
    t0 = time.perf_counter()
    plan = plan_import(demo_db, "services", [(path.name, path.read_bytes())])
    seconds = time.perf_counter() - t0
    print(f"\nwrong header on a {path.stat().st_size / 1e6:.2f} MB workbook: refused in {seconds:.3f} s")
    assert [str(e) for e in plan.refused] == [
        "partner.xlsx [services], row 1: wrong header: missing column(s) name, provider_key, themes, coverage; "
        "unknown column(s) title"]
    assert read == [] and plan.rows_read == 0
    assert seconds < 2


def test_declared_dimension_does_not_pad_rows(tmp_path):
    """A sheet declaring A1:XFD1048576 is read at the width of its header, not 16,384 cells a row."""
    path = tmp_path / "wide.xlsx"
    write_workbook(path, ["service_key", "name"], 3, "z", dimension="A1:XFD1048576")
    (table,) = read_tables(path.name, path.read_bytes())
    assert table.header == ["service_key", "name"]
    assert table.rows == [(i, {"service_key": "z", "name": "z"}) for i in (2, 3, 4)]


def test_the_test_workbooks_are_real_workbooks(tmp_path):
    for shared in (False, True):
        path = tmp_path / f"small{shared}.xlsx"
        write_workbook(path, ["service_key", "name"], 2, "w", shared=shared)
        (table,) = read_tables(path.name, path.read_bytes())
        want = ["w0", "w1", "w2", "w3"] if shared else ["w"] * 4
        assert table.label == f"{path.name} [services]" and table.header == ["service_key", "name"]
        assert table.rows == [(2, {"service_key": want[0], "name": want[1]}),
                              (3, {"service_key": want[2], "name": want[3]})]


def test_rows_are_capped_for_csv_and_xlsx(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_ROWS", 5)
    csv = "service_key,name\n" + "".join(f"k{i},n\n" for i in range(6))
    with pytest.raises(FileProblem, match=r"^big\.csv: the file has more than 5 rows; split it into smaller files"):
        read_tables("big.csv", csv.encode())
    assert len(read_tables("ok.csv", ("service_key,name\n" + "k,n\n" * 5).encode())[0].rows) == 5
    path = tmp_path / "big.xlsx"
    write_workbook(path, ["service_key", "name"], 6, "v")
    (table,) = read_tables(path.name, path.read_bytes())  # the header alone is read here
    with pytest.raises(FileProblem, match=r"^big\.xlsx \[services\]: the file has more than 5 rows"):
        table.rows  # noqa: B018


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(files.MAX_XLSX_MEMBERS + 1):
            z.writestr(f"xl/p{i}.xml", "")
    with pytest.raises(FileProblem, match=r"^parts\.xlsx: the workbook has 10,001 parts"):
        read_tables(path.name, path.read_bytes())
