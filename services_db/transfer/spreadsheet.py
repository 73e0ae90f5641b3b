"""CSV and Excel downloads of any table, safe to open: a cell that begins with = + - @ (or a tab or carriage
return) is prefixed with an apostrophe so a spreadsheet shows it as text instead of running it as a formula.

Every download button in the app should go through `to_csv_bytes` / `to_excel_bytes`.
"""

from __future__ import annotations

import io

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Text that a spreadsheet would treat as a formula, made inert; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark so Excel reads accents and £ correctly."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8-sig")


def to_excel_bytes(frames: pd.DataFrame | dict[str, pd.DataFrame], sheet_name: str = "data") -> bytes:
    """One sheet per frame, each column as wide as its heading (10 to 60 characters); strings are written as
    strings (never as formulas)."""
    if isinstance(frames, pd.DataFrame):
        frames = {sheet_name: frames}
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter",
                        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}}) as xw:
        for name, frame in frames.items():
            safe_frame(frame).to_excel(xw, sheet_name=name[:31], index=False)
            for i, col in enumerate(frame.columns):
                xw.sheets[name[:31]].set_column(i, i, min(60, max(10, len(str(col)) + 2)))
    return buf.getvalue()
