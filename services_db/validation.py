"""Checks shared by every way data gets in (the demo loader, imports, edit forms).

A refused record is reported with the file, the row (1-based, counting the header as row 1, as a spreadsheet
shows it) and the column, so the person who sent it can find and fix it. Callers collect every problem first and
write nothing unless there are none: an import is one transaction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RecordError:
    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class ImportRefused(ValueError):
    """Raised with every problem found; nothing has been written."""

    def __init__(self, errors: Iterable[RecordError]):
        self.errors = list(errors)
        head = "; ".join(str(e) for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"{len(self.errors)} problem(s), nothing was written: {head}{more}")


NEUTRALISED = ("=", "+", "-", "@", "\t", "\r")  # after the apostrophe a download puts before them (spreadsheet.py)


def _finite_decimal(text: str) -> Decimal:
    amount = Decimal(text)
    if not amount.is_finite():  # NaN and Infinity parse, but are not amounts
        raise ValueError(text)
    return amount


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


class RowChecker:
    """Reads typed values out of one row of text, recording a RecordError for each bad cell."""

    def __init__(self, file: str, row: int, values: dict, errors: list[RecordError]):
        self.file, self.row, self.values, self.errors = file, row, values, errors

    def fail(self, column: str | None, message: str) -> None:
        self.errors.append(RecordError(self.file, self.row, column, message))

    def text(self, column: str, *, required: bool = False, max_len: int | None = None) -> str:
        raw = self.values.get(column)
        value = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw).strip()
        if value[:1] == "'" and value[1:2] in NEUTRALISED:
            value = value[1:]  # our own downloads put it there so a spreadsheet shows text, not a formula
        if required and not value:
            self.fail(column, "is required but empty")
        if max_len and len(value) > max_len:
            self.fail(column, f"is longer than {max_len} characters")
        return value

    def choice(self, column: str, allowed: Iterable[str], *, required: bool = True) -> str | None:
        value = self.text(column, required=required)
        allowed = tuple(allowed)
        if value and value not in allowed:
            same = [a for a in allowed if a.casefold() == value.casefold()]  # "Tertiary", "vcfs": what was meant
            if len(same) == 1:
                return same[0]
            self.fail(column, f"'{value}' is not one of {', '.join(allowed)}")
            return None
        return value or None

    def _parsed(self, column: str, value: str, parse: Callable[[str], T], problem: str) -> T | None:
        """`parse(value)`, or None for an empty cell; a value `parse` refuses is recorded as "'value' problem"."""
        if not value:
            return None
        try:
            return parse(value)
        except (ValueError, ArithmeticError):  # decimal's InvalidOperation is an ArithmeticError
            self.fail(column, f"'{value}' {problem}")
            return None

    def money(self, column: str, *, required: bool = True) -> Decimal | None:
        value = self.text(column, required=required).replace(",", "").removeprefix("£")
        amount = self._parsed(column, value, _finite_decimal, "is not a number")
        if amount is None:
            return None
        if amount < 0:
            self.fail(column, f"amount {value} is negative")
            return None
        return amount.quantize(Decimal("0.01"))

    def number(self, column: str, *, required: bool = False) -> float | None:
        value = self.text(column, required=required).replace(",", "")
        return self._parsed(column, value, _finite_float, "is not a number")

    def date(self, column: str, *, required: bool = False) -> dt.date | None:
        value = self.text(column, required=required)
        return self._parsed(column, value, lambda v: dt.date.fromisoformat(v[:10]), "is not a date (use YYYY-MM-DD)")

    def boolean(self, column: str) -> bool:
        value = self.text(column).lower()
        if value in ("", "false", "no", "0", "n"):
            return False
        if value in ("true", "yes", "1", "y"):
            return True
        self.fail(column, f"'{value}' is not true or false")
        return False

    def _found(self, column: str, value: str, known, what: str) -> str | None:
        """The key `value` names: a `Lookup`/`AreaLookup` (services_db.references) also takes names and says what
        was meant; a plain set or dict takes its keys only."""
        find = getattr(known, "find", None)
        if find is not None:
            key, problem = find(value)
            if problem:
                self.fail(column, problem)
            return key
        if value not in known:
            self.fail(column, f"unknown {what} '{value}'")
            return None
        return value

    def keys(self, column: str, known, *, what: str, required: bool = False) -> list[str]:
        """A `;`-separated list of references, each of which must name a known record; the keys, each once."""
        items = [k.strip() for k in self.text(column, required=required).split(";") if k.strip()]
        found = (self._found(column, k, known, what) for k in items)
        return list(dict.fromkeys(k for k in found if k is not None))

    def key(self, column: str, known, *, what: str, required: bool = True) -> str | None:
        """One reference (a key, or a name when `known` is a Lookup); None when empty or unknown."""
        value = self.text(column, required=required)
        return self._found(column, value, known, what) if value else None

    def period(self, start_column: str, end_column: str) -> tuple[dt.date | None, dt.date | None]:
        start, end = self.date(start_column), self.date(end_column)
        if start and end and end < start:
            self.fail(end_column, f"ends ({end}) before it starts ({start})")
        return start, end


def check_header(file: str, header: Iterable[str], required: Iterable[str],
                 known: Iterable[str] | None = None) -> list[RecordError]:
    """A wrong header is one error for the whole file, naming the missing columns and, when the columns the file
    may have are `known`, the ones it has that are not (often the misspelt or renamed missing ones)."""
    header = [h.strip() for h in header]
    present = set(header)
    missing = [c for c in required if c not in present]
    if not missing:
        return []
    message = f"wrong header: missing column(s) {', '.join(missing)}"
    unknown = unknown_columns(header, known) if known is not None else []
    if unknown:
        message += f"; unknown column(s) {', '.join(unknown)}"
    return [RecordError(file, 1, None, message)]


def unknown_columns(header: Iterable[str], known: Iterable[str]) -> list[str]:
    """The non-empty columns of `header` that are not `known`, in the file's order."""
    known = set(known)
    return list(dict.fromkeys(h.strip() for h in header if h.strip() and h.strip() not in known))


def check_unique(file: str, rows: list[tuple[int, str]], column: str, errors: list[RecordError]) -> None:
    """Each identifier may appear once; later copies are refused by row."""
    seen: dict[str, int] = {}
    for row, key in rows:
        if not key:
            continue
        if key in seen:
            errors.append(RecordError(file, row, column, f"duplicate identifier '{key}' (first on row {seen[key]})"))
        else:
            seen[key] = row
