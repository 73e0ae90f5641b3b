"""Findings in words: every sentence of the review is built here, from the figures of its table row.

review.md asks that every number in a sentence equals the number in the table beside it. So a sentence is
assembled from named pieces: plain words (which may not contain a digit: a stray number in the wording would be
a number nobody can check), names (areas, themes, plans: kept as `texts`), and figures, each rounded for
reading and recorded in `figures` exactly as shown. The finding's table row carries those figures, so a reader,
or a test, can find every number of the sentence in the row.

Rounding for reading: money under £1,000 to the pound, under £10,000 to £10, under £1m to £1,000, then three
significant figures in millions ("£1.28m"); amounts per 1,000 residents to the penny under £100; shares to one
decimal place of a per cent; counts under ten in words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import pandas as pd

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def rounded(x: float, decimals: int = 0) -> float:
    """x rounded half away from zero, as a reader expects (1.275 -> 1.28), not to the nearest even binary value."""
    if not math.isfinite(x):
        return float(x)
    return float(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _three_figures(x: float) -> tuple[float, int]:
    """x rounded to three significant figures (for x >= 1) and the decimals to print it with."""
    decimals = 2 if x < 10 else 1 if x < 100 else 0
    r = rounded(x, decimals)
    if r >= 10 and decimals == 2 or r >= 100 and decimals == 1:
        return _three_figures(r)
    return r, decimals


def money(value: float) -> tuple[str, float]:
    """(text, value shown) for an amount of money, rounded for reading: "£750", "£1,450", "£41,000", "£1.28m"."""
    v = float(value)
    a, sign, prefix = abs(v), (-1.0 if v < 0 else 1.0), ("-" if v < 0 else "")
    shown = rounded(a) if a < 1_000 else rounded(a, -1) if a < 10_000 else rounded(a, -3)
    if shown < 1_000_000:
        return f"{prefix}£{shown:,.0f}", sign * shown
    r, decimals = _three_figures(a / 1e6)
    if r < 1000:
        return f"{prefix}£{r:.{decimals}f}m", sign * r * 1e6
    r, decimals = _three_figures(a / 1e9)
    return f"{prefix}£{r:,.{decimals}f}bn", sign * r * 1e9


def money_rate(value: float) -> tuple[str, float]:
    """(text, value shown) for money per head or per 1,000: pence under £100, whole pounds above."""
    v = float(value)
    if abs(v) < 100:
        shown = rounded(v, 2)
        return f"£{shown:,.2f}", shown
    shown = rounded(v)
    return f"£{shown:,.0f}", shown


def percent(share: float, decimals: int = 1) -> tuple[str, float]:
    """(text, value shown) for a share given as a fraction: 0.1094 -> ("10.9%", 10.9)."""
    shown = rounded(float(share) * 100.0, decimals)
    return f"{shown:.{decimals}f}%", shown


def count(n: int, capital: bool = False) -> tuple[str, float]:
    """(text, value shown) for a count: words under ten, digits from ten."""
    n = int(n)
    text = WORDS[n] if 0 < n < 10 else f"{n:,}"
    return (text[:1].upper() + text[1:] if capital else text), float(n)


def number(value: float, decimals: int = 1) -> tuple[str, float]:
    shown = rounded(float(value), decimals)
    return f"{shown:,.{decimals}f}", shown


def date_text(value: object) -> str:
    stamp = pd.Timestamp(value)
    return f"{stamp.day} {stamp:%B %Y}"


def common(name: str) -> str:
    """A name inside a sentence: "Missing persons" -> "missing persons", but "BME communities" stays."""
    name = str(name)
    return name if len(name) > 1 and name[:2].isupper() else name[:1].lower() + name[1:]


def hyphenated(name: str) -> str:
    """A theme name used as an adjective: "mental health" -> "mental-health" (two plain words only)."""
    words = common(name).split()
    return "-".join(words) if len(words) == 2 and "-" not in name else common(name)


def plural(word: str, n: int) -> str:
    if n == 1:
        return word
    if word.endswith("y") and not word.endswith(("ay", "ey", "oy")):
        return word[:-1] + "ies"
    return word + "s"


LEVEL_NOUN = {"lsoa": "LSOA", "district": "district", "area": "area", "division": "division", "force": "force"}


#: A digit in plain words (ASCII text, nearly every call): one compiled search instead of a generator per character.
_ASCII_DIGIT = re.compile(r"[0-9]")


def _has_digit(text: str) -> bool:
    """Whether `text` holds a digit as `str.isdigit` sees one. ASCII text (nearly all) goes through one compiled
    regex; other text keeps the per-character test, so superscripts and non-Latin digits are still caught."""
    if text.isascii():
        return _ASCII_DIGIT.search(text) is not None
    return any(ch.isdigit() for ch in text)


@dataclass
class Sentence:
    """A sentence under construction, remembering every figure and name it shows."""

    parts: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def words(self, text: str) -> Sentence:
        if _has_digit(text):
            raise ValueError(f"plain words may not hold a number: {text!r}")
        self.parts.append(text)
        return self

    def name(self, key: str, text: str) -> Sentence:
        self.texts[key] = str(text)
        self.parts.append(str(text))
        return self

    def _figure(self, key: str, pair: tuple[str, float]) -> Sentence:
        text, shown = pair
        self.figures[key] = shown
        self.parts.append(text)
        return self

    def money(self, key: str, value: float) -> Sentence:
        return self._figure(key, money(value))

    def rate(self, key: str, value: float) -> Sentence:
        return self._figure(key, money_rate(value))

    def pct(self, key: str, share: float, decimals: int = 1) -> Sentence:
        return self._figure(key, percent(share, decimals))

    def count(self, key: str, n: int, capital: bool = False) -> Sentence:
        return self._figure(key, count(n, capital))

    def number(self, key: str, value: float, decimals: int = 1) -> Sentence:
        return self._figure(key, number(value, decimals))

    def names(self, key: str, names: Iterable[str], limit: int = 3, other: str = "other area") -> Sentence:
        """"A", "A and B", "A, B and C", or "A, B, C and two other areas" (the count is a figure)."""
        items = [str(n) for n in names]
        if len(items) <= limit:
            text = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""
            return self.name(key, text)
        self.name(key, ", ".join(items[:limit]))
        self.words(" and ")
        rest = len(items) - limit
        self.count(f"{key}_others", rest)
        return self.words(f" {plural(other, rest)}")

    def text(self) -> str:
        return "".join(self.parts)


# -- one builder per kind of finding ------------------------------------------------------------------------------


def _need_part(s: Sentence, row: Mapping, area_noun: str) -> bool:
    """"Burnley has 10.9% of Early Action incidents among the 12 districts with a figure"; True when the shares
    are taken over only some of the areas (the "among" clause was said)."""
    s.name("area_name", row["area_name"]).words(" has ").pct("need_share", row["need_share"]).words(" of ")
    s.name("need_label", row["need_label"])
    if row["n_indicators"] > 1:
        s.words(" (mean share of ").count("n_indicators", row["n_indicators"]).words(" indicators)")
    n_with, n_units = int(row.get("n_with_figure", 0) or 0), int(row.get("n_units", 0) or 0)
    if not 0 < n_with < n_units:
        return False
    if n_with == 1:
        s.words(f" (the only {area_noun} with a figure)")
    else:
        s.words(" among the ").count("n_with_figure", n_with).words(f" {plural(area_noun, n_with)} with a figure")
    return True


def _known(value: object) -> float:
    """A figure from a table row as a float (missing -> 0)."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


def _tail(s: Sentence, row: Mapping) -> Sentence:
    """Whether the need is significantly above the force's (when it could be tested), then raised gaps."""
    significant = row.get("significant")
    if significant is True or significant is False:
        s.words(" Its need rate is " + ("" if significant else "not ") + "significantly above the force rate.")
    raised = int(row.get("raised", 0) or 0)
    if raised:
        s.words(" Early Action Teams have raised ").count("raised", raised)
        s.words(f" {plural('gap', raised)} for this area and theme.")
    return s


def gap_sentence(row: Mapping, force_name: str, area_noun: str = "area") -> Sentence:
    """"Burnley has 10.9% of Early Action incidents among the 12 districts with a figure but 3.2% of their known
    mental-health funding (£41,000 of £1.28m); parity would need about £98,000 more. The funding of three of the 40
    current mental health services in those districts is not recorded. Its need rate is significantly above the
    force rate." Shares, totals and parity are over the areas with a figure; "known" and the count of services
    with unknown funding appear only when some funding is not recorded."""
    s = Sentence()
    among = _need_part(s, row, area_noun)
    theme = hyphenated(row["theme_name"])
    n_theme, k_theme = int(row.get("theme_services", 0) or 0), int(row.get("theme_unknown_funding", 0) or 0)
    if _known(row["provision_total"]) <= 0:
        if _known(row.get("force_provision_total", 0.0)) <= 0 and n_theme == 0:
            s.words(" but there is no current ").name("theme_adjective", theme).words(" funding in ")
            s.name("force_name", force_name).words(".")
        elif int(row.get("services", 0) or 0) == 0:
            s.words(" but no current ").name("theme_noun", common(row["theme_name"])).words(" service covers it.")
        else:
            s.words(" but the current ").name("theme_noun", common(row["theme_name"]))
            s.words(" services covering it have no ").name("theme_adjective", theme).words(" funding.")
    else:
        s.words(" but ").pct("provision_share", row["provision_share"]).words(" of ")
        s.words(("their " if among else "") + ("known " if k_theme else ""))
        s.name("theme_adjective", theme).words(" funding (").money("provision", row["provision"]).words(" of ")
        s.money("provision_total", row["provision_total"]).words("); parity would need about ")
        s.money("money_to_parity", max(_known(row["money_to_parity"]), 0.0)).words(" more.")
        if k_theme:
            s.words(" The funding of ").count("theme_unknown_funding", k_theme).words(" of the ")
            s.count("theme_services", n_theme).words(" current ").name("theme_noun", common(row["theme_name"]))
            s.words(f" {plural('service', n_theme)} in ")
            if among:
                s.words(f"those {plural(area_noun, 2)}")
            else:
                s.name("force_name", force_name)
            s.words(" is not recorded.")
    return _tail(s, row)


def unknown_funding_sentence(row: Mapping, force_name: str, area_noun: str = "area") -> Sentence:
    """Services of the theme cover the area but their funding is not recorded, so no gap can be measured:
    "Preston has 15.5% of Early Action incidents among the seven areas with a figure and 0.0% of their known
    families funding (£0 of £10,000), but eight families services cover Preston and the funding of seven is not
    recorded." (review.md v2: unknown funding is not £0)"""
    s = Sentence()
    among = _need_part(s, row, area_noun)
    theme = hyphenated(row["theme_name"])
    known_share = _known(row["provision_total"]) > 0
    if known_share:
        s.words(" and ").pct("provision_share", row["provision_share"]).words(" of ")
        s.words(("their " if among else "") + "known ").name("theme_adjective", theme).words(" funding (")
        s.money("provision", row["provision"]).words(" of ").money("provision_total", row["provision_total"])
        s.words("), but ")
    else:
        s.words("; ")
    n, k = int(row["services"]), int(row["unknown_funding"])
    s.count("services", n).words(" ").name("theme_noun", common(row["theme_name"]))
    s.words(f" {plural('service', n)} {'covers' if n == 1 else 'cover'} ").name("area_name", row["area_name"])
    if k >= n:
        s.words(" and " if known_share else " but ")
        s.words("its funding is not recorded." if n == 1 else "none of their funding is recorded.")
    else:
        s.words(" and the funding of ").count("unknown_funding", k).words(" is not recorded.")
    return _tail(s, row)


def _listed(items: list[str], last: str = "and") -> str:
    """"a", "a and b", "a, b and c" (every item named: no count a reader could not check)."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {last} " + items[-1] if items else ""


def no_figure_sentence(areas: list[str], indicators: list[str], themes: list[str]) -> Sentence:
    """"Blackburn with Darwen has no figure for Early Action incidents, so no gap in its families, mental-health or
    vulnerable-adults provision can be measured." (review.md v2: missing need is listed as no figure, never 0)"""
    s = Sentence().name("area_name" if len(areas) == 1 else "areas", _listed(areas))
    s.words(" has no figure for " if len(areas) == 1 else " have no figure for ")
    s.name("need_label", _listed(indicators))
    s.words(", so no gap in " + ("its " if len(areas) == 1 else "their "))
    s.name("themes", _listed([hyphenated(t) for t in themes], "or"))
    return s.words(" provision can be measured.")


def no_funding_sentence(row: Mapping, n_areas: int, force_name: str, area_noun: str, n_services: int = 0,
                        n_unknown: int = 0) -> Sentence:
    """"There is no current mental-health funding in Lancashire, though need is recorded in nine areas; the most
    is in Burnley & Pendle (17.4% of Early Action incidents)." (`row`: the area with the largest need share).
    Where current services of the theme exist but their funding is not recorded: "No current mental-health
    funding is recorded in Lancashire: the funding of its two current mental health services is not recorded,
    though need is recorded in seven areas; ..." """
    theme = hyphenated(row["theme_name"])
    if n_services <= 0:
        s = Sentence().words("There is no current ").name("theme_adjective", theme)
        s.words(" funding in ").name("force_name", force_name).words(", though need is recorded in ")
    else:
        s = Sentence().words("No current ").name("theme_adjective", theme).words(" funding is recorded in ")
        s.name("force_name", force_name).words(": ")
        if n_unknown >= n_services:
            s.words("the funding of its ").count("theme_services", n_services)
        else:
            s.words("the funding of ").count("theme_unknown_funding", n_unknown).words(" of its ")
            s.count("theme_services", n_services)
        s.words(" current ").name("theme_noun", common(row["theme_name"]))
        s.words(f" {plural('service', n_services)} is not recorded")
        s.words(", though need is recorded in ")
    s.count("areas_with_need", n_areas).words(f" {plural(area_noun, n_areas)}")
    if n_areas > 1:
        s.words("; the most is in ")
    else:
        s.words(": ")
    s.name("most_area", row["area_name"]).words(" (").pct("need_share", row["need_share"]).words(" of ")
    s.name("need_label", row["need_label"])
    if row["n_indicators"] > 1:
        s.words(", mean share of ").count("n_indicators", row["n_indicators"]).words(" indicators")
    return s.words(").")


OPENING_COLUMNS = ("n_services", "theme_name", "target_group_name", "target_group")  # all `_opening_of` reads


def _opening_of(row: Mapping) -> tuple[int, str, str]:
    """What a duplication sentence's opening words are made of: its count of services, theme and target group (a
    row's `OPENING_COLUMNS`)."""
    target = row.get("target_group_name") or row.get("target_group", "")
    return int(row["n_services"]), str(row["theme_name"]), str(target)


def _duplication_opening(s: Sentence, n: int, theme_name: str, target: str) -> Sentence:
    """The words every duplication sentence starts with: "Three domestic abuse services for adults, "."""
    s.count("n_services", n, capital=True).words(" ")
    s.name("theme_name", common(theme_name)).words(f" {plural('service', n)} for ")
    return s.name("target_group_name", target).words(", ")


@lru_cache(maxsize=8192)
def _opening_text(n: int, theme_name: str, target: str) -> str:
    return _duplication_opening(Sentence(), n, theme_name, target).text()


def duplication_opening(row: Mapping, area_noun: str = "area", force_name: str | None = None) -> str:
    """The text `duplication_sentence(row, area_noun, force_name)` starts with, worked out without the rest of the
    sentence (its figures, areas and money; the other arguments play no part), from the same parts by the same
    words: findings tied on importance are ordered by their sentences, and most of them already differ here (see
    `findings._SentenceKey`). Kept per count, theme and target group: a national review's 48,000 groups have some
    2,000 openings."""
    return _opening_text(*_opening_of(row))


def duplication_openings(columns: Mapping[str, Sequence]) -> list[str]:
    """`duplication_opening(row)` of each row of a table given as columns (lists, each row's value by position):
    worked out once per distinct count, theme and target group (a national review's 48,000 groups have some 2,000
    openings), from the columns it reads (`OPENING_COLUMNS`)."""
    present = [k for k in OPENING_COLUMNS if k in columns]
    if not present:
        return []
    seen: dict[tuple, str] = {}
    out = []
    for values in zip(*(columns[k] for k in present), strict=True):
        try:
            text = seen.get(values)
        except TypeError:  # an unhashable value: worked out on its own
            text = duplication_opening(dict(zip(present, values, strict=True)))
        if text is None:
            text = seen[values] = duplication_opening(dict(zip(present, values, strict=True)))
        out.append(text)
    return out


def duplication_sentence(row: Mapping, area_noun: str = "area", force_name: str | None = None) -> Sentence:
    """"Three domestic abuse services for adults, funded by two commissioners, overlap at least 80% in Chorley &
    South Ribble (£46,000 a year; up to £21,000 of it may be duplicated)." (one theme and one target group; the
    overlap is the smallest pairwise one, shown rounded down so "at least" stays true; a force-wide group is said
    to overlap across the force.)"""
    n, theme_name, target = _opening_of(row)
    s = _duplication_opening(Sentence(), n, theme_name, target)
    if row["n_commissioners"] > 1:
        s.words("funded by ").count("n_commissioners", row["n_commissioners"]).words(" commissioners, ")
    else:
        s.words("run by ").count("n_providers", row["n_providers"]).words(" providers, ")
    overlap = float(row["overlap"])
    if overlap >= 1 - 1e-9:
        s.words("overlap ").pct("overlap_pct", 1.0, decimals=0)
    else:
        s.words("overlap at least ").pct("overlap_pct", math.floor(overlap * 100 + 1e-9) / 100, decimals=0)
    areas = list(row["shared_areas"])
    if row.get("force_wide") or not areas:
        s.words(" across ").name("force_name", force_name or "the force")
    else:
        s.words(" in ").names("shared_areas", areas, other=f"other {area_noun}")
    known = n - int(row.get("n_unknown_funding", 0) or 0)
    s.words(" (")
    if known > 0:
        s.money("combined_funding", row["combined_funding"]).words(" a year")
        duplicated = float(row.get("money_duplicated", 0.0) or 0.0)
        if duplicated > 0:
            s.words("; up to ").money("money_duplicated", duplicated).words(" of it may be duplicated")
        if known < n:
            s.words("; the funding of ").count("n_unknown_funding", n - known).words(" is not recorded")
    else:
        s.words("the funding of none of them is recorded")
    return s.words(").")


def inequity_sentence(summary: Mapping, unit_noun: str) -> Sentence:
    """"Community Action Fund: Pendle and Rossendale received nothing; the other 12 districts received £1.20
    to £4.10 per 1,000 residents." Up to three compared areas are named ("Gamma received nothing; Alpha and Beta
    received ..."); money whose split the source does not give is said apart ("£216,000 for Preston and Burnley
    is not broken down by district"); areas a fund is not open to are never among those that received nothing."""
    s = Sentence()
    s.name("label", summary["label"]).words(": ")
    zero = list(summary["zero_areas"])
    split = list(summary.get("not_broken_down", ()) or ())
    funded = int(summary["n_funded"])
    names = list(summary.get("funded_areas", ()) or ())
    if zero:
        s.names("zero_areas", zero, limit=len(zero)).words(" received nothing")
    if split and not zero:
        _not_broken_down(s, summary, split, unit_noun)
    if funded > 0:
        if zero or split:
            s.words("; ")
        if (zero or split) and 0 < len(names) == funded <= NAMED:
            s.names("funded_areas", names).words(" received ")
        elif zero and split:
            s.count("n_funded", funded).words(f" other {plural(unit_noun, funded)} received ")
        elif zero or split:
            if funded == 1:
                s.words(f"the other {unit_noun} received ")
            else:
                s.words("the other ").count("n_funded", funded).words(f" {plural(unit_noun, funded)} received ")
        else:
            s.words("the ").count("n_funded", funded).words(f" {plural(unit_noun, funded)} received ")
        _rates(s, summary, unit_noun, compare=not zero and not split)
    if split and zero:
        s.words("; ")
        _not_broken_down(s, summary, split, unit_noun)
    unrecorded = list(summary.get("not_recorded", ()) or ())
    if unrecorded:
        s.words("; some of the funding reaching ").names("not_recorded", unrecorded, other=f"other {unit_noun}")
        s.words(" is not recorded, so ").words("it is" if len(unrecorded) == 1 else "they are").words(" not compared")
    return s.words(".")


def _not_broken_down(s: Sentence, summary: Mapping, split: list[str], unit_noun: str) -> None:
    """"£216,000 for Preston and Burnley is not broken down by district" (the source gives no split)."""
    s.money("not_broken_down_amount", summary["not_broken_down_amount"]).words(" for ")
    s.names("not_broken_down", split, other=f"other {unit_noun}").words(f" is not broken down by {unit_noun}")


NAMED = 3  # compared areas up to this many are named rather than counted ("the other two districts")


def _rates(s: Sentence, summary: Mapping, unit_noun: str, compare: bool) -> None:
    """The funded areas' rates: "£1.20 to £4.10 per 1,000 residents", with the extremes named and the ratio and
    Gini when every compared area received something (`compare`)."""
    funded = int(summary["n_funded"])
    if int(summary.get("n_rated", funded)) == 0:  # no residents recorded where the money went
        s.money("total", summary["total"] - float(summary.get("not_broken_down_amount", 0.0) or 0.0))
        s.words(" between them")
        return
    if money_rate(summary["min_per"])[0] == money_rate(summary["max_per"])[0]:  # the same once rounded
        s.rate("min_per", summary["min_per"])
    else:
        s.rate("min_per", summary["min_per"])
        if compare:
            _which(s, "min", summary, unit_noun)
        s.words(" to ").rate("max_per", summary["max_per"])
        if compare:
            _which(s, "max", summary, unit_noun)
    s.words(" per ").number("per", summary["per"], decimals=0).words(" residents")
    if compare and funded > 1 and math.isfinite(summary["ratio"]):
        s.words("; the highest is ").number("ratio", summary["ratio"], decimals=1).words(" times the lowest (Gini ")
        s.number("gini", summary["gini"], decimals=2).words(")")


def _which(s: Sentence, end: str, summary: Mapping, unit_noun: str) -> None:
    """" (Burnley)" after the lowest or highest rate, or " (12 districts)" when several share it."""
    n = int(summary.get(f"n_{end}", 1) or 1)
    s.words(" (")
    if n > 1:
        s.count(f"n_{end}", n).words(f" {plural(unit_noun, n)}")
    else:
        s.name(f"{end}_area", summary[f"{end}_area"])
    s.words(")")


def cliff_sentence(total: Mapping, themes: list[Mapping], months: int, place: str, *, area: bool = True,
                   limit: int = 3) -> Sentence:
    """"In Preston, £57,000 of the £156,000 a year of current funding reaching the area ends within 12 months
    (nine services; the first on 31 March 2014); the largest parts by theme are drugs and alcohol (£20,000),
    reoffending (£15,000) and domestic abuse (£12,000)." (review.md v2: one total per area, each pound once, the
    area's share; `themes`: its breakdown, largest first, adding up to the total. For the force, `area=False`:
    "Across Lancashire, ...")"""
    s = Sentence()
    if area:
        s.words("In ").name("area_name", place).words(", ")
    else:
        s.words("Across ").name("force_name", place).words(", ")
    if money(total["at_risk"])[0] == money(total["provision"])[0]:  # "all" only when it is so to the penny
        exact = abs(float(total["at_risk"]) - float(total["provision"])) < 0.005
        s.words("all " if exact else "almost all ").money("at_risk", total["at_risk"])
    else:
        s.money("at_risk", total["at_risk"]).words(" of the ").money("provision", total["provision"])
    s.words(" a year of current funding ").words("reaching the area " if area else "")
    s.words("ends within ").count("months", months).words(f" {plural('month', months)} (")
    n = int(total["services"])
    s.count("services", n)
    s.words(" service, on " if n == 1 else " services; the first on ")
    s.name("first_end", date_text(total["first_end"])).words(")")
    parts = [t for t in themes if t["at_risk"] > 0]
    if len(parts) == 1:
        return s.words("; all of it for ").name("theme_1", common(parts[0]["theme_name"])).words(".")
    s.words("; the largest parts by theme are " if len(parts) > limit else "; by theme: ")
    shown = parts[:limit]
    for i, t in enumerate(shown, start=1):
        if i > 1:
            s.words(" and " if i == len(shown) else ", ")
        s.name(f"theme_{i}", common(t["theme_name"])).words(" (").money(f"theme_{i}_at_risk", t["at_risk"])
        s.words(")")
    return s.words(".")


def plan_sentence(row: Mapping, area_name: str | None) -> Sentence:
    """"No current service in Preston is linked to "Protecting vulnerable people", a priority of the Police and
    Crime Plan." """
    s = Sentence().words("No current service ")
    if area_name:
        s.words("in ").name("area_name", area_name).words(" ")
    s.words("is linked to \u201c").name("priority_name", row["priority_name"]).words("\u201d, a priority of the ")
    return s.name("plan_name", row["plan_name"]).words(".")


def unlinked_sentence(n: int, funding: float, area_name: str | None, n_unknown: int = 0) -> Sentence:
    """"Four current services in Preston (£120,000 a year; the funding of one is not recorded) are linked to no
    priority of a current plan." Unknown funding is said, never shown as £0."""
    s = Sentence().count("services", n, capital=True).words(f" current {plural('service', n)} ")
    if area_name:
        s.words("in ").name("area_name", area_name).words(" ")
    if n_unknown >= n:
        s.words("(funding not recorded) ")
    else:
        s.words("(").money("annual_funding", funding).words(" a year")
        if n_unknown:
            s.words("; the funding of ").count("n_unknown_funding", n_unknown).words(" is not recorded")
        s.words(") ")
    return s.words(("is" if n == 1 else "are") + " linked to no priority of a current plan.")


def fair_share_sentence(row: Mapping, fund_name: str, formula: list[tuple[str, float]],
                        no_figure: Mapping[str, list[str]] | None = None, area_noun: str = "area") -> Sentence:
    """"Community Safety Fund: Blackpool received £96,000 against a fair share of £120,000 (population 50%,
    domestic abuse incidents 50%), £24,000 less." Areas with no figure for an indicator of the formula are named
    ("; Blackpool has no Early Action incidents figure, so its share is weighted by the rest"): `no_figure` maps
    an indicator's name to the areas to name (default: the row's own area, from its `no_figure` column)."""
    s = Sentence().name("fund_name", fund_name).words(": ").name("area_name", row["area_name"])
    s.words(" received ").money("actual", row["actual"]).words(" against a fair share of ")
    s.money("fair_share", row["fair_share"]).words(" (")
    for i, (label, weight) in enumerate(formula):
        if i:
            s.words(", ")
        s.name(f"factor_{i + 1}", label).words(" ").pct(f"weight_{i + 1}", weight, decimals=0)
    if no_figure is None:  # the area's own missing figures (review.md v2: named, weights re-normalised)
        own = [t for t in str(row.get("no_figure", "") or "").split("; ") if t]
        no_figure = {label: [row["area_name"]] for label in own}
    for i, (label, names) in enumerate((k, list(v)) for k, v in no_figure.items() if v):
        rest = [f for f, _ in formula if f != label and f not in no_figure]
        s.words("; ").names(f"no_figure_areas_{i + 1}", names, other=area_noun)
        s.words(" has no " if len(names) == 1 else " have no ").name(f"no_figure_factor_{i + 1}", label)
        s.words(" figure, so " + ("its share goes" if len(names) == 1 else "their shares go")
                + (" by population alone" if rest in ([], ["population"]) else " by the other factors"))
    s.words("), ").money("difference", abs(row["difference"]))
    return s.words(" more." if row["difference"] >= 0 else " less.")


def unplaced_sentence(n: int, funding: float) -> Sentence:
    s = Sentence().count("services", n, capital=True).words(f" {plural('service', n)} with ")
    s.money("annual_funding", funding).words(" a year of current funding ")
    s.words("has" if n == 1 else "have").words(" no recorded coverage, so ")
    return s.words("its money is" if n == 1 else "their money is").words(" left out of the shares.")
