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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

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


@dataclass
class Sentence:
    """A sentence under construction, remembering every figure and name it shows."""

    parts: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def words(self, text: str) -> Sentence:
        if any(ch.isdigit() for ch in text):
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


def gap_sentence(row: Mapping, force_name: str) -> Sentence:
    """"Burnley has 10.9% of Early Action incidents but 3.2% of mental-health funding (£41,000 of £1.28m);
    parity would need about £98,000 more." """
    s = Sentence()
    s.name("area_name", row["area_name"]).words(" has ").pct("need_share", row["need_share"]).words(" of ")
    s.name("need_label", row["need_label"])
    if row["n_indicators"] > 1:
        s.words(" (mean share of ").count("n_indicators", row["n_indicators"]).words(" indicators)")
    theme = hyphenated(row["theme_name"])
    if row["provision_total"] <= 0:
        s.words(" but there is no current ").name("theme_adjective", theme).words(" funding in ")
        s.name("force_name", force_name).words(".")
    else:
        s.words(" but ").pct("provision_share", row["provision_share"]).words(" of ")
        s.name("theme_adjective", theme).words(" funding (").money("provision", row["provision"]).words(" of ")
        s.money("provision_total", row["provision_total"]).words("); parity would need about ")
        s.money("money_to_parity", max(row["money_to_parity"], 0.0)).words(" more.")
    raised = int(row.get("raised", 0) or 0)
    if raised:
        s.words(" Early Action Teams have raised ").count("raised", raised)
        s.words(f" {plural('gap', raised)} for this area and theme.")
    return s


def no_funding_sentence(row: Mapping, n_areas: int, force_name: str, area_noun: str) -> Sentence:
    """"There is no current mental-health funding in Lancashire, though need is recorded in nine areas; the most
    is in Burnley & Pendle (17.4% of Early Action incidents)." (`row`: the area with the largest need share)"""
    s = Sentence().words("There is no current ").name("theme_adjective", hyphenated(row["theme_name"]))
    s.words(" funding in ").name("force_name", force_name).words(", though need is recorded in ")
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


def duplication_sentence(row: Mapping, area_noun: str = "area") -> Sentence:
    """"Three domestic abuse services funded by two commissioners overlap 80% in Chorley & South Ribble
    (£46,000 a year)." """
    s = Sentence()
    s.count("n_services", row["n_services"], capital=True).words(" ")
    s.name("theme_name", common(row["theme_name"])).words(" services ")
    if row["n_commissioners"] > 1:
        s.words("funded by ").count("n_commissioners", row["n_commissioners"]).words(" commissioners")
    else:
        s.words("run by ").count("n_providers", row["n_providers"]).words(" providers")
    s.words(" overlap ").pct("overlap_pct", row["overlap"], decimals=0)
    areas = list(row["shared_areas"])
    if areas:
        s.words(" in ").names("shared_areas", areas, other=f"other {area_noun}")
    else:
        s.words(" across the force")
    s.words(" (").money("combined_funding", row["combined_funding"]).words(" a year).")
    return s


def inequity_sentence(summary: Mapping, unit_noun: str) -> Sentence:
    """"Community Action Fund: Pendle and Rossendale received nothing; the other 12 districts received £1.20
    to £4.10 per 1,000 residents." """
    s = Sentence()
    s.name("label", summary["label"]).words(": ")
    zero = list(summary["zero_areas"])
    funded = int(summary["n_funded"])
    if zero:
        s.names("zero_areas", zero, limit=len(zero)).words(" received nothing; ")
        if funded == 1:
            s.words(f"the other {unit_noun} received ")
        else:
            s.words("the other ").count("n_funded", funded).words(f" {plural(unit_noun, funded)} received ")
    else:
        s.words("the ").count("n_funded", funded).words(f" {plural(unit_noun, funded)} received ")
    if int(summary.get("n_rated", funded)) == 0:  # no residents recorded where the money went
        return s.money("total", summary["total"]).words(" between them.")
    if money_rate(summary["min_per"])[0] == money_rate(summary["max_per"])[0]:  # the same once rounded
        s.rate("min_per", summary["min_per"])
    else:
        s.rate("min_per", summary["min_per"])
        if not zero:
            _which(s, "min", summary, unit_noun)
        s.words(" to ").rate("max_per", summary["max_per"])
        if not zero:
            _which(s, "max", summary, unit_noun)
    s.words(" per ").number("per", summary["per"], decimals=0).words(" residents")
    if not zero and funded > 1 and math.isfinite(summary["ratio"]):
        s.words("; the highest is ").number("ratio", summary["ratio"], decimals=1).words(" times the lowest (Gini ")
        s.number("gini", summary["gini"], decimals=2).words(")")
    return s.words(".")


def _which(s: Sentence, end: str, summary: Mapping, unit_noun: str) -> None:
    """" (Burnley)" after the lowest or highest rate, or " (12 districts)" when several share it."""
    n = int(summary.get(f"n_{end}", 1) or 1)
    s.words(" (")
    if n > 1:
        s.count(f"n_{end}", n).words(f" {plural(unit_noun, n)}")
    else:
        s.name(f"{end}_area", summary[f"{end}_area"])
    s.words(")")


def cliff_sentence(row: Mapping, months: int, area_name: str | None) -> Sentence:
    """"In Preston, £187,000 a year of mental-health funding ends within 12 months (two services; the first
    on 31 March 2017)." """
    s = Sentence()
    if area_name:
        s.words("In ").name("area_name", area_name).words(", ").money("at_risk", row["at_risk"])
    else:
        s.money("at_risk", row["at_risk"])
    s.words(" a year of ").name("theme_adjective", hyphenated(row["theme_name"]))
    s.words(" funding ends within ").count("months", months).words(f" {plural('month', months)} (")
    n = int(row["services"])
    s.count("services", n)
    if n == 1:
        s.words(" service, on ")
    else:
        s.words(" services; the first on ")
    return s.name("first_end", date_text(row["first_end"])).words(").")


def plan_sentence(row: Mapping, area_name: str | None) -> Sentence:
    """"No current service in Preston is linked to the Police and Crime Plan priority "Protecting vulnerable
    people"." """
    s = Sentence().words("No current service ")
    if area_name:
        s.words("in ").name("area_name", area_name).words(" ")
    s.words("is linked to the ").name("plan_name", row["plan_name"]).words(" priority \u201c")
    return s.name("priority_name", row["priority_name"]).words("\u201d.")


def unlinked_sentence(n: int, funding: float, area_name: str | None) -> Sentence:
    """"Four current services in Preston (£120,000 a year) are linked to no priority of a current plan." """
    s = Sentence().count("services", n, capital=True).words(f" current {plural('service', n)} ")
    if area_name:
        s.words("in ").name("area_name", area_name).words(" ")
    s.words("(").money("annual_funding", funding).words(" a year) ")
    return s.words(("is" if n == 1 else "are") + " linked to no priority of a current plan.")


def fair_share_sentence(row: Mapping, fund_name: str, formula: list[tuple[str, float]]) -> Sentence:
    """"Community Safety Fund: Blackpool received £96,000 against a fair share of £120,000 (population 50%,
    domestic abuse incidents 50%), £24,000 less." """
    s = Sentence().name("fund_name", fund_name).words(": ").name("area_name", row["area_name"])
    s.words(" received ").money("actual", row["actual"]).words(" against a fair share of ")
    s.money("fair_share", row["fair_share"]).words(" (")
    for i, (label, weight) in enumerate(formula):
        if i:
            s.words(", ")
        s.name(f"factor_{i + 1}", label).words(" ").pct(f"weight_{i + 1}", weight, decimals=0)
    s.words("), ").money("difference", abs(row["difference"]))
    return s.words(" more." if row["difference"] >= 0 else " less.")


def unplaced_sentence(n: int, funding: float) -> Sentence:
    s = Sentence().count("services", n, capital=True).words(f" {plural('service', n)} with ")
    s.money("annual_funding", funding).words(" a year of current funding ")
    s.words("has" if n == 1 else "have").words(" no recorded coverage, so ")
    return s.words("its money is" if n == 1 else "their money is").words(" left out of the shares.")
