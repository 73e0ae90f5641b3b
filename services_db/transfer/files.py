"""Reading an uploaded or named file as a table, refusing files that are not what they claim to be.

A PDF renamed `.csv`, an empty file, a file over the size limit or text in the wrong encoding is refused with a
message a person can act on (`FileProblem`), never a stack trace. CSV and the first sheet(s) of `.xlsx` come back
as a header and rows of text, so every importer checks cells the same way.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 200 * 1024 * 1024


class FileProblem(ValueError):
    """The file as a whole cannot be read; the message names the file and says what to do."""


@dataclass
class Table:
    """One sheet or CSV file: its label for messages, header and rows (row number as a spreadsheet shows it)."""

    label: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]


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


def _read_xlsx(name: str, data: bytes) -> list[Table]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileProblem(f"{name}: not a readable Excel workbook ({type(exc).__name__})") from None
    tables = []
    for sheet in book.worksheets:
        it = sheet.iter_rows(values_only=True)
        first = next(it, None)
        if not first or not any(first):
            continue
        header = ["" if h is None else str(h).strip() for h in first]
        rows = []
        for i, values in enumerate(it, start=2):
            if not values or all(v is None or str(v).strip() == "" for v in values):
                continue
            rows.append((i, {h: _cell(v) for h, v in zip(header, values, strict=False) if h}))
        tables.append(Table(f"{name} [{sheet.title}]", header, rows))
    book.close()
    if not tables:
        raise FileProblem(f"{name}: the workbook has no sheet with a header row")
    return tables


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
