"""Reading an uploaded or named file as a table, refusing files that are not what they claim to be.

A PDF renamed `.csv`, an empty file, a file over the size limit or text in the wrong encoding is refused with a
message a person can act on (`FileProblem`), never a stack trace. CSV and the first sheet(s) of `.xlsx` come back
as a header and rows of text, so every importer checks cells the same way.

A workbook is a zip of XML that can unpack to a thousand times its size, so it is refused on the sizes its zip
declares before any XML is read (`MAX_XLSX_UNPACKED`), read streaming, and a sheet's rows are read only when an
importer asks for them: after it has checked the header. CSV and sheets alike stop at `MAX_ROWS` rows.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

MAX_BYTES = 200 * 1024 * 1024
MAX_ROWS = 1_000_000  # rows of one CSV file or sheet
MAX_XLSX_UNPACKED = 50 * 1024 * 1024  # every member of a workbook's zip together, uncompressed
MAX_XLSX_MEMBERS = 10_000


class FileProblem(ValueError):
    """The file as a whole cannot be read; the message names the file and says what to do."""


class Table:
    """One sheet or CSV file: its label for messages, header and rows (row number as a spreadsheet shows it).

    A sheet's rows are read on first use of `rows` (which may raise FileProblem), so an importer that refuses the
    header never reads the rest of the workbook."""

    def __init__(self, label: str, header: list[str], rows: list[tuple[int, dict[str, str]]] | None = None,
                 load: Callable[[], list[tuple[int, dict[str, str]]]] | None = None):
        self.label, self.header = label, header
        self._rows, self._load = rows, load

    @property
    def rows(self) -> list[tuple[int, dict[str, str]]]:
        if self._rows is None:
            self._rows = self._load() if self._load else []
            self._load = None
        return self._rows

    def __repr__(self) -> str:
        return f"Table({self.label!r}, {self.header!r})"


def _too_many_rows(name: str) -> FileProblem:
    return FileProblem(f"{name}: the file has more than {MAX_ROWS:,} rows; split it into smaller files")


def read_bytes(path: str | Path) -> bytes:
    path = Path(path)
    if not path.exists():
        raise FileProblem(f"{path.name}: no such file")
    if path.stat().st_size > MAX_BYTES:
        raise FileProblem(f"{path.name}: the file is {path.stat().st_size / 1e6:,.0f} MB; the limit is "
                          f"{MAX_BYTES // (1024 * 1024)} MB. Split it into smaller files.")
    return path.read_bytes()


def check_size(name: str, data: bytes) -> None:
    if not data or not data.strip():
        raise FileProblem(f"{name}: the file is empty")
    if len(data) > MAX_BYTES:
        raise FileProblem(f"{name}: the file is {len(data) / 1e6:,.0f} MB; the limit is "
                          f"{MAX_BYTES // (1024 * 1024)} MB. Split it into smaller files.")


def sniff(name: str, data: bytes) -> str:
    """What the bytes really are: 'pdf', 'xlsx', 'zip', 'xls', 'json', 'text'."""
    head = data[:8]
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx" if b"xl/" in data[:4096] or name.lower().endswith(".xlsx") else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if data.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "text"


def decode(name: str, data: bytes) -> str:
    """UTF-8 text (a byte-order mark is fine); anything else is refused with the position of the first bad byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(f"{name}: the file is UTF-16 text; save it as 'CSV UTF-8' and try again")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileProblem(f"{name}: the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
                          "save it as 'CSV UTF-8' and try again") from None


def _not_a(name: str, kind: str, wanted: str) -> FileProblem:
    what = {"pdf": "a PDF document", "xls": "an old-style Excel (.xls) workbook", "zip": "a zip archive",
            "xlsx": "an Excel workbook", "json": "JSON", "text": "plain text"}[kind]
    return FileProblem(f"{name}: this is {what}, not {wanted}")


def read_tables(name: str, data: bytes) -> list[Table]:
    """CSV (one table) or .xlsx (one table per non-empty sheet)."""
    check_size(name, data)
    kind = sniff(name, data)
    if kind == "xlsx":
        return _read_xlsx(name, data)
    if kind != "text":
        raise _not_a(name, kind, "a CSV file or Excel (.xlsx) workbook")
    return [read_csv_text(name, decode(name, data))]


def read_csv_text(name: str, text: str) -> Table:
    if "\x00" in text[:10000]:
        raise FileProblem(f"{name}: the file has binary content; it is not a CSV file")
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [h.strip() for h in next(reader, [])]
        rows = []
        width = len(header)
        for i, cells in enumerate(reader, start=2):
            if i > MAX_ROWS + 1:
                raise _too_many_rows(name)
            if not cells or not any(c.strip() for c in cells):
                continue
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            rows.append((i, dict(zip(header, cells, strict=False))))
    except csv.Error as exc:
        raise FileProblem(f"{name}: not a readable CSV file ({exc})") from None
    if not any(header):
        raise FileProblem(f"{name}: the file has no header row")
    return Table(name, header, rows)


def _check_unpacked_size(name: str, data: bytes) -> None:
    """Refuse a workbook whose zip would unpack to more than MAX_XLSX_UNPACKED, reading only its directory (the
    sizes it declares bind: Python's zipfile never inflates a member past its declared size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise FileProblem(f"{name}: not a readable Excel workbook ({type(exc).__name__})") from None
    if len(members) > MAX_XLSX_MEMBERS:
        raise FileProblem(f"{name}: the workbook has {len(members):,} parts; an Excel workbook has a few dozen. "
                          "Save it again from Excel, or as CSV UTF-8.")
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_UNPACKED:
        biggest = max(members, key=lambda m: m.file_size)
        raise FileProblem(f"{name}: the workbook unpacks to {total / 1e6:,.0f} MB ({biggest.filename} alone is "
                          f"{biggest.file_size / 1e6:,.0f} MB); the limit is {MAX_XLSX_UNPACKED // (1024 * 1024)} MB. "
                          "Save it as CSV UTF-8 (up to "
                          f"{MAX_BYTES // (1024 * 1024)} MB) or split it into smaller workbooks.")


def _read_xlsx(name: str, data: bytes) -> list[Table]:
    """Each non-empty sheet's header, read streaming; its rows are read when the importer asks for them."""
    _check_unpacked_size(name, data)
    import openpyxl  # after the check: importing it alone takes longer than refusing a bomb

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        tables = []
        for sheet in book.worksheets:
            if not hasattr(sheet, "reset_dimensions"):
                continue  # a chartsheet has no cells
            sheet.reset_dimensions()  # a declared size of A1:XFD1048576 must not pad every row to 16,384 cells
            first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), None)
            if not first or not any(v is not None and str(v).strip() for v in first):
                continue
            header = ["" if h is None else str(h).strip() for h in first]
            label = f"{name} [{sheet.title}]"
            tables.append(Table(label, header, load=_sheet_rows(label, sheet, header)))
    except FileProblem:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileProblem(f"{name}: not a readable Excel workbook ({type(exc).__name__})") from None
    if not tables:
        raise FileProblem(f"{name}: the workbook has no sheet with a header row")
    return tables


def _sheet_rows(label: str, sheet, header: list[str]):
    """Reads the rows below the header of one (read-only) sheet, streaming, cells beyond the header's width
    ignored. The workbook stays open (in memory) until then."""

    def load() -> list[tuple[int, dict[str, str]]]:
        try:
            rows = []
            for i, values in enumerate(sheet.iter_rows(min_row=2, max_col=len(header), values_only=True), start=2):
                if i > MAX_ROWS + 1:
                    raise _too_many_rows(label)
                if not values or all(v is None or str(v).strip() == "" for v in values):
                    continue
                rows.append((i, {h: _cell(v) for h, v in zip(header, values, strict=False) if h}))
        except FileProblem:
            raise
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise FileProblem(f"{label}: not a readable Excel sheet ({type(exc).__name__})") from None
        return rows

    return load


def _cell(value) -> str:
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_json(name: str, data: bytes):
    check_size(name, data)
    kind = sniff(name, data)
    if kind != "json":
        raise _not_a(name, kind, "a JSON document")
    try:
        return json.loads(decode(name, data))
    except json.JSONDecodeError as exc:
        raise FileProblem(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
