"""Dates for the review: the "as at" date, date columns of any dtype, and the order of need periods.

Every measure is "as at" a date so that a briefing printed today can be reproduced next year from the same data.
Need periods come in three spellings (financial year `2013-14`, month `2013-10`, span `2012-10/2013-09`); the
review needs their order to pick "the latest period" of an indicator, so each is reduced to its last day.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

DateLike = str | dt.date | dt.datetime | pd.Timestamp | np.datetime64 | None


def as_timestamp(value: DateLike) -> pd.Timestamp:
    """The "as at" date as a midnight Timestamp (None means today), so comparisons never depend on a time of day."""
    if value is None:
        return pd.Timestamp(dt.date.today())
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        raise ValueError(f"not a date: {value!r}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def as_datetimes(values: pd.Series) -> pd.Series:
    """A date column as datetime64 whatever it arrived as (hand-built test frames often hold strings or dates)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    return pd.to_datetime(values, errors="coerce")


_FY = re.compile(r"^(\d{4})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


def period_end(period: object) -> pd.Timestamp:
    """The last day of a need period, or NaT when it cannot be read.

    `YYYY-YY` where YY is the next year is a financial year ending 31 March (so "2011-12" reads as the financial
    year, not December 2011: the seeds and the demo data use financial years far more than months); any other
    `YYYY-MM` is a month; `A/B` is a span ending with B; `YYYY` a calendar year; `YYYY-MM-DD` that day.
    """
    if not isinstance(period, str) or not period.strip():
        return pd.NaT
    text = period.strip()
    if "/" in text:
        return period_end(text.rsplit("/", 1)[1])
    m = _FY.match(text)
    if m and int(m.group(2)) == (int(m.group(1)) + 1) % 100:
        return pd.Timestamp(int(m.group(1)) + 1, 3, 31)
    m = _MONTH.match(text)
    if m and 1 <= int(m.group(2)) <= 12:
        return pd.Timestamp(int(m.group(1)), int(m.group(2)), 1) + pd.offsets.MonthEnd(0)
    m = _YEAR.match(text)
    if m:
        return pd.Timestamp(int(m.group(1)), 12, 31)
    try:
        return pd.Timestamp(text).normalize()
    except (ValueError, TypeError):
        return pd.NaT


def latest_periods(indicator: pd.Series, period: pd.Series) -> pd.Series:
    """The latest period of each indicator (by last day; ties and unreadable periods by the text itself)."""
    frame = pd.DataFrame({"indicator": indicator.to_numpy(), "period": period.astype(str).to_numpy()})
    frame = frame.drop_duplicates()
    frame["end"] = frame["period"].map(period_end)
    frame = frame.sort_values(["indicator", "end", "period"], na_position="first")
    return frame.groupby("indicator", sort=False)["period"].last()
