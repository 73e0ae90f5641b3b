"""A factory for tiny ReviewData cases whose every figure can be worked out by hand.

The default geography (populations in brackets):

    force F "Testshire" (1,000)
      division V
        area A1 "North" (600)           area A2 "South" (400)
          district D1 "Alpha" (400)       district D3 "Gamma" (400)
            L1 (100), L2 (300)              L4 (250), L5 (150)
          district D2 "Beta" (200)
            L3 (200)
"""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from services_db.review.data import COLUMNS, OPTIONAL, ReviewData

DEFAULT_AREAS = [
    ("F", "Testshire", "force", None, 1000.0),
    ("V", "Division", "division", "F", 1000.0),
    ("A1", "North", "area", "V", 600.0),
    ("A2", "South", "area", "V", 400.0),
    ("D1", "Alpha", "district", "A1", 400.0),
    ("D2", "Beta", "district", "A1", 200.0),
    ("D3", "Gamma", "district", "A2", 400.0),
    ("L1", "Alpha 001A", "lsoa", "D1", 100.0),
    ("L2", "Alpha 001B", "lsoa", "D1", 300.0),
    ("L3", "Beta 001A", "lsoa", "D2", 200.0),
    ("L4", "Gamma 001A", "lsoa", "D3", 250.0),
    ("L5", "Gamma 001B", "lsoa", "D3", 150.0),
]

AS_AT = "2016-07-21"


def _d(value):
    return pd.NaT if value is None else pd.Timestamp(value)


class DataBuilder:
    """Builds a ReviewData row by row; every method returns the builder so cases read as one expression."""

    def __init__(self, areas: list[tuple] | None = None) -> None:
        self.rows: dict[str, list[dict]] = {name: [] for name in COLUMNS}
        for code, name, level, parent, pop in areas if areas is not None else DEFAULT_AREAS:
            self.area(code, name, level, parent, pop)
        for key, name in [("mh", "mental health"), ("da", "domestic abuse"), ("yo", "youth offending")]:
            self.theme(key, name)
        self._explicit_commissioners: dict[int, tuple] = {}

    def area(self, code, name, level, parent=None, population=math.nan, estimate=False):
        self.rows["areas"].append(dict(code=code, name=name, level=level, parent_code=parent,
                                       population=population, population_is_estimate=estimate))
        return self

    def theme(self, key, name):
        self.rows["themes"].append(dict(theme_key=key, name=name))
        return self

    def service(self, sid, name=None, *, themes=("mh",), groups=("adults",), coverage=("F",), provider="P1",
                amount=None, commissioner="OPCC", commissioners=None, start=None, end=None, line_start=None,
                line_end=None, fund_key=None, status="active", end_is_estimate=False):
        self.rows["services"].append(dict(
            service_id=sid, name=name or f"Service {sid}", provider=provider, provider_sector="VCFS", tier=None,
            status=status, start_date=_d(start), end_date=_d(end), end_date_is_estimate=end_is_estimate,
            themes=tuple(themes), target_groups=tuple(groups), commissioners=()))
        for code in coverage:
            self.rows["coverage"].append(dict(service_id=sid, area_code=code))
        self._explicit_commissioners[sid] = tuple(commissioners) if commissioners is not None else (commissioner,)
        if amount is not None:
            self.line(sid, amount, commissioner=commissioner, start=line_start, end=line_end, fund_key=fund_key)
        return self

    def line(self, sid, amount, *, commissioner="OPCC", start=None, end=None, fund_key=None, is_estimate=False):
        self.rows["funding_lines"].append(dict(service_id=sid, commissioner=commissioner, fund_key=fund_key,
                                               annual_amount=float(amount), start_date=_d(start),
                                               end_date=_d(end), is_estimate=is_estimate))
        return self

    def indicator(self, key, name, themes, unit="count", higher_is="worse"):
        self.rows["indicators"].append(dict(indicator_key=key, name=name, unit=unit, higher_is=higher_is,
                                            themes=tuple(themes)))
        return self

    def need(self, key, area, value, period="2015-16", numerator=math.nan, denominator=math.nan,
             is_estimate=False):
        self.rows["need"].append(dict(indicator_key=key, area_code=area, period=period, value=float(value),
                                      numerator=numerator, denominator=denominator, is_estimate=is_estimate))
        return self

    def fund(self, key, name, total=0.0, *, start=None, end=None, eligible=()):
        self.rows["funds"].append(dict(fund_key=key, name=name, money_source="Home Office",
                                       financial_year="2013-14", total_amount=float(total), owner="OPCC",
                                       start_date=_d(start), end_date=_d(end), eligible_area_codes=tuple(eligible)))
        return self

    def allocation(self, aid, fund_key, amount, area_codes=(), parent=None, recipient=None, service_id=None,
                   is_estimate=False, status="awarded", areas_are_estimate=False, start=None):
        self.rows["allocations"].append(dict(
            allocation_id=aid, fund_key=fund_key, recipient=recipient, service_id=math.nan if service_id is None
            else float(service_id), amount=float(amount), purpose="", priorities=(), area_codes=tuple(area_codes),
            planned_start=_d(start), planned_end=pd.NaT, is_estimate=is_estimate,
            parent_allocation_id=math.nan if parent is None else float(parent), status=status,
            areas_are_estimate=areas_are_estimate))
        return self

    def plan(self, key, name, area_codes=(), start=None, end=None):
        self.rows["plans"].append(dict(plan_key=key, name=name, owner="OPCC", start_date=_d(start),
                                       end_date=_d(end), area_codes=tuple(area_codes)))
        return self

    def priority(self, key, plan_key, name):
        self.rows["priorities"].append(dict(priority_key=key, plan_key=plan_key, name=name))
        return self

    def link(self, sid, priority_key):
        self.rows["service_priorities"].append(dict(service_id=sid, priority_key=priority_key))
        return self

    def build(self) -> ReviewData:
        comm: dict[int, set] = {}
        for line in self.rows["funding_lines"]:
            comm.setdefault(line["service_id"], set()).add(line["commissioner"])
        for s in self.rows["services"]:
            s["commissioners"] = tuple(sorted(set(self._explicit_commissioners.get(s["service_id"], ()))
                                              | comm.get(s["service_id"], set())))
        frames = {}
        for name, cols in COLUMNS.items():
            rows = self.rows[name]
            cols = cols + [c for c in OPTIONAL.get(name, {}) if rows and all(c in r for r in rows)]
            frame = pd.DataFrame(rows, columns=cols)
            for c in cols:
                if c.endswith("_date") or c.startswith("planned_"):
                    frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
            frames[name] = frame
        return ReviewData(**frames)


@pytest.fixture(scope="session")
def make():
    """The DataBuilder class: `make().service(1, amount=1000).build()`."""
    return DataBuilder


_NUMBER = re.compile(r"(-?)£?(\d[\d,]*(?:\.\d+)?)(bn|m)?(?![\w])")
_WORD = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine)\b", re.IGNORECASE)
_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def numbers_in(sentence: str, texts: dict[str, str]) -> list[float]:
    """Every number a reader sees in a sentence (names removed first, as names may hold digits)."""
    for t in sorted((t for t in texts.values() if t), key=len, reverse=True):
        sentence = sentence.replace(t, " ")
    values = []
    for m in _NUMBER.finditer(sentence):
        v = float(m.group(2).replace(",", ""))
        v *= {"bn": 1e9, "m": 1e6}.get(m.group(3) or "", 1.0)
        values.append(-v if m.group(1) else v)
    values += [float(_WORDS.index(w.lower())) for w in _WORD.findall(sentence)]
    return values


@pytest.fixture(scope="session")
def numbers():
    """`numbers(sentence, texts)`: the numbers shown in a sentence."""
    return numbers_in
