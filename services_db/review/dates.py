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


def period_texts(period: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each row's period as text (what `period.astype(str)` gives), as codes into the distinct texts: one
    conversion per distinct value, not per row (a national need table has millions of rows and a dozen periods).
    The code is -1 where the text is missing (a missing period stays missing)."""
    period = pd.Series(period).reset_index(drop=True)
    raw, distinct = pd.factorize(period)  # missing -> -1
    text = pd.Series(distinct, dtype=period.dtype).astype(str).to_numpy(dtype=object)
    missing = np.flatnonzero(raw < 0)
    if len(missing):  # a missing value spelt out as text (it is not in every version of pandas)
        extra = period.iloc[missing].astype(str).to_numpy(dtype=object)
        spelt = np.array([isinstance(t, str) for t in extra], dtype=bool)
        text = np.concatenate([text, extra[spelt]])
        raw = raw.copy()
        raw[missing[spelt]] = len(distinct) + np.arange(int(spelt.sum()))
    raw = np.asarray(raw, dtype=np.int64)
    known = np.array([isinstance(t, str) for t in text], dtype=bool)
    codes, texts = pd.factorize(pd.Series(np.where(known, text, None), dtype=object))  # 2013 and "2013" are one
    codes = np.asarray(codes, dtype=np.int64)
    texts = np.asarray(texts, dtype=object)
    if np.array_equal(codes, np.arange(len(text))):  # the usual case: distinct texts, none missing
        return raw, texts
    return np.where(raw >= 0, codes[np.maximum(raw, 0)] if len(codes) else -1, -1), texts


def period_ranks(texts: np.ndarray) -> np.ndarray:
    """The order of distinct period texts: by last day (unreadable periods first), then by the text itself."""
    ends = [period_end(t) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: (not pd.isna(ends[i]), ends[i] if not pd.isna(ends[i]) else 0,
                                                     texts[i]))
    rank = np.empty(len(texts), dtype=np.int64)
    rank[np.array(order, dtype=np.int64)] = np.arange(len(texts))
    return rank


def latest_period_codes(indicator: np.ndarray, n_indicators: int, period: np.ndarray,
                        texts: np.ndarray) -> np.ndarray:
    """For integer-coded rows (indicator codes in range(n_indicators), -1 for none; period codes into `texts`,
    -1 for a missing period): the code of each indicator's latest period, -1 where it has none. One pass over
    the rows, whatever their number."""
    latest = np.full(n_indicators, -1, dtype=np.int64)
    n_texts = len(texts)
    if (n_indicators + 1) * (n_texts + 1) <= 1 << 22 and len(indicator) and min(indicator.min(), period.min()) >= -1:
        # Which (indicator, period) pairs occur, as a small table counted over every row (no row picked out):
        # row 0 and column 0 are the rows with no indicator or no period.
        key = np.asarray(indicator, dtype=np.int64) * (n_texts + 1)
        key += period
        key += n_texts + 2
        seen = np.bincount(key, minlength=(n_indicators + 1) * (n_texts + 1)).reshape(n_indicators + 1,
                                                                                      n_texts + 1)[1:, 1:] > 0
        if not seen.any():
            return latest
        by_rank = np.empty(n_texts, dtype=np.int64)
        by_rank[period_ranks(texts)] = np.arange(n_texts)
        seen = seen[:, by_rank]  # columns by rank
        some = seen.any(axis=1)
        latest[some] = by_rank[n_texts - 1 - np.argmax(seen[some, ::-1], axis=1)]
        return latest
    ok = (indicator >= 0) & (period >= 0)
    if not ok.any():
        return latest
    rank = period_ranks(texts)
    best_rank = np.full(n_indicators, -1, dtype=np.int64)
    if n_indicators * n_texts <= 1 << 22:  # which (indicator, period) pairs occur, as a small table
        seen = np.bincount(indicator[ok] * n_texts + rank[period[ok]],
                           minlength=n_indicators * n_texts).reshape(n_indicators, n_texts) > 0
        some = seen.any(axis=1)
        best_rank[some] = n_texts - 1 - np.argmax(seen[some, ::-1], axis=1)
    else:
        np.maximum.at(best_rank, indicator[ok], rank[period[ok]])
    by_rank = np.empty(n_texts, dtype=np.int64)
    by_rank[rank] = np.arange(n_texts)
    has = best_rank >= 0
    latest[has] = by_rank[best_rank[has]]
    return latest


def latest_periods(indicator: pd.Series, period: pd.Series) -> pd.Series:
    """The latest period of each indicator (by last day; ties and unreadable periods by the text itself), indexed
    by indicator in sorted order; an indicator with no period but missing ones has NaN."""
    codes, keys = pd.factorize(pd.Series(indicator).reset_index(drop=True))  # a missing indicator has none
    p_codes, texts = period_texts(period)
    latest = latest_period_codes(np.asarray(codes, dtype=np.int64), len(keys), p_codes, texts)
    keys = np.asarray(keys, dtype=object)
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    value = np.array([texts[latest[i]] if latest[i] >= 0 else np.nan for i in order], dtype=object)
    index = pd.Index(np.array([keys[i] for i in order], dtype=object), name="indicator")
    return pd.Series(value, index=index, name="period")
