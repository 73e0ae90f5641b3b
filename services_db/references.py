"""How a person names a record in a row they type or upload: by its key or by its name, as they would say it.

A row that refers to a theme, an organisation or an area may give the internal key ("mental-health",
"lancashire-care-ft", "E07000117") or the name people use ("Mental health", "Lancashire Care NHS Foundation
Trust", "Burnley"). Imports, the demo loader and the edit form all resolve such references here, so they accept
the same things and refuse the same things with the same words:

- A key is always accepted as it is (the fast path: a 100,000-row export re-imported never reaches the rest).
- Otherwise names are compared through `hierarchy.normalise_name` (case, "&" as "and", extra spaces), the one
  normaliser the app has. For organisations (`loose=True`) punctuation and small words such as "NHS", "The" or
  "Ltd" are ignored too, since partners' lists spell the same body many ways.
- A name that fits two or more records is refused, listing them: guessing would attach money or coverage to the
  wrong record silently.
- An unknown value is refused with the closest keys and names offered ("did you mean …?", difflib).

Areas resolve through the snapshot's `Hierarchy` (names and GSS codes at every level). A name used at two levels
for the same LSOAs (the Blackpool area and its one district) is the area, as `Hierarchy.resolve` rules; a name
used for areas with different LSOAs is ambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from difflib import get_close_matches

import pandas as pd

from services_db.hierarchy import Hierarchy, UnknownAreaName, normalise_name

# Words an organisation's name is often given with or without; ignored only when the match is unique.
SMALL_WORDS = frozenset({"nhs", "the", "ltd", "limited", "cic", "plc", "uk"})
# Levels tried for an area's name, widest first: an area before a district of the same name (Hierarchy.resolve).
AREA_LEVELS_WIDEST_FIRST = ("force", "division", "area", "district", "lsoa")
SUGGESTIONS = 3  # "did you mean" offers at most this many


def loose_name(text: object) -> str:
    """`normalise_name`, then apostrophes dropped, other punctuation as spaces and SMALL_WORDS left out:
    "Lancashire Care NHS Foundation Trust." and "lancashire care foundation trust" are the same."""
    folded = re.sub(r"[^\w\s]", " ", re.sub(r"['’`]", "", normalise_name(text)))
    return " ".join(w for w in folded.split() if w not in SMALL_WORDS)


def _listed(items: list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


class _Finds:
    """What `Lookup` and `AreaLookup` share: `find` is `match`, with a value that names nothing refused in the
    same words and "did you mean" added."""

    what: str

    def match(self, value: str) -> tuple[str | None, str | None]:  # pragma: no cover - each lookup matches
        raise NotImplementedError

    def did_you_mean(self, value: str) -> str:  # pragma: no cover - each lookup suggests
        raise NotImplementedError

    def find(self, value: str) -> tuple[str | None, str | None]:
        """(key, None) for a value that names one record; (None, the problem in words) otherwise."""
        key, problem = self.match(value)
        if key is None and problem is None:
            return None, f"unknown {self.what} '{value}'" + self.did_you_mean(value)
        return key, problem


class Lookup(_Finds):
    """The records of one kind a row may refer to: key -> name, found by key or by name."""

    def __init__(self, what: str, names: Mapping[str, str | None] | Iterable[str], *, loose: bool = False) -> None:
        self.what = what
        self.loose = loose
        self.names: dict[str, str] = ({k: (v or k) for k, v in names.items()} if isinstance(names, Mapping)
                                      else {k: k for k in names})
        self._index: dict[str, dict[str, set[str]]] | None = None

    def __contains__(self, key: object) -> bool:
        return key in self.names

    def __len__(self) -> int:
        return len(self.names)

    def add(self, key: str, name: str | None = None) -> None:
        """A record an earlier table of the same import adds: it may be referred to from here on."""
        self.names[key] = name or self.names.get(key) or key
        self._index = None

    def label(self, key: str) -> str:
        """'Name (key)', or the key alone when it is its own name."""
        name = self.names.get(key, key)
        return key if normalise_name(name) == normalise_name(key) else f"{name} ({key})"

    def _indexes(self) -> dict[str, dict[str, set[str]]]:
        if self._index is None:
            index: dict[str, dict[str, set[str]]] = {"key": {}, "name": {}, "loose": {}}
            for key, name in self.names.items():
                index["key"].setdefault(normalise_name(key), set()).add(key)
                index["name"].setdefault(normalise_name(name), set()).add(key)
                if self.loose:
                    index["loose"].setdefault(loose_name(name), set()).add(key)
            self._index = index
        return self._index

    def match(self, value: str) -> tuple[str | None, str | None]:
        """As `find`, but (None, None) for a value that names nothing: for a feed that may name records this
        directory does not have (Open Referral UK terms and organisations), which is not a mistake there, so no
        "did you mean" is worked out for it. An ambiguous name is still a problem."""
        if value in self.names:
            return value, None
        index = self._indexes()
        steps = [("key", normalise_name(value)), ("name", normalise_name(value))]
        if self.loose:
            steps.append(("loose", loose_name(value)))
        for step, folded in steps:
            hits = index[step].get(folded)
            if hits and len(hits) == 1:
                return next(iter(hits)), None
            if hits:
                candidates = [self.label(k) for k in sorted(hits)]
                return None, (f"'{value}' could be any of {len(hits)} {self.what}s: {'; '.join(candidates)}. "
                              f"Give the key of the one you mean")
        return None, None

    def did_you_mean(self, value: str) -> str:
        """'; did you mean A (a) or B (b)?' from the closest keys and names, or '' when nothing is close."""
        fold = loose_name if self.loose else normalise_name
        spelled: dict[str, str] = {}
        for key, name in self.names.items():
            spelled.setdefault(fold(key), key)
            spelled.setdefault(fold(name), key)
        close = get_close_matches(fold(value), list(spelled), n=SUGGESTIONS * 2, cutoff=0.6)
        keys = list(dict.fromkeys(spelled[c] for c in close))[:SUGGESTIONS]
        return f"; did you mean {_listed([self.label(k) for k in keys])}?" if keys else ""


class AreaLookup(_Finds):
    """Areas a row may refer to by GSS code (or the force's own codes) or by name, at any level."""

    what = "area"

    def __init__(self, codes: Iterable[str], tree: Callable[[], Hierarchy]) -> None:
        self.codes = set(codes)
        self._tree_of = tree
        self._tree: Hierarchy | None = None
        self._shared: dict[str, dict[str, list[str]]] = {}  # level -> name used by 2+ areas there -> codes
        self._found: dict[str, tuple[str | None, str | None]] = {}  # a name typed on many rows is resolved once
        self._matched: dict[str, tuple[str | None, str | None]] = {}  # the same, before "did you mean"

    @classmethod
    def from_rows(cls, rows: Iterable[tuple]) -> AreaLookup:
        """From (code, name, level, parent_code, population) rows, e.g. the area table or geography.area_rows."""
        frame = pd.DataFrame(list(rows), columns=["code", "name", "level", "parent_code", "population"])
        return cls(frame["code"].tolist(), lambda: Hierarchy(frame))

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    @property
    def tree(self) -> Hierarchy:
        if self._tree is None:
            self._tree = self._tree_of()
        return self._tree

    def _same_name(self, level: str) -> dict[str, list[str]]:
        """The names two or more areas at `level` share (Hierarchy.resolve returns the first of them)."""
        shared = self._shared.get(level)
        if shared is None:
            by_name: dict[str, list[str]] = {}
            for code in self.tree.codes_at(level):
                by_name.setdefault(normalise_name(self.tree.name_of(code)), []).append(code)
            shared = self._shared[level] = {n: codes for n, codes in by_name.items() if len(codes) > 1}
        return shared

    def find(self, value: str) -> tuple[str | None, str | None]:
        if value in self.codes:
            return value, None
        if value not in self._found:
            self._found[value] = super().find(value)
        return self._found[value]

    def match(self, value: str) -> tuple[str | None, str | None]:
        """As `find`, but (None, None) for a value that names no area here (a feed's area in another force is not
        a mistake there, so no "did you mean" is worked out); an ambiguous name is still a problem."""
        if value in self.codes:
            return value, None
        if value not in self._matched:
            self._matched[value] = self._match(value)
        return self._matched[value]

    def _match(self, value: str) -> tuple[str | None, str | None]:
        tree = self.tree
        found: list[str] = []
        for level in AREA_LEVELS_WIDEST_FIRST:
            try:
                code = tree.resolve(value, level)
            except UnknownAreaName:
                continue
            found.extend(self._same_name(level).get(normalise_name(value), [code]))
        if found:
            places = {tree.under(code) for code in found}
            if len(places) == 1:  # one place named at several levels: the widest, as Hierarchy.resolve rules
                return found[0], None
            candidates = [f"{tree.name_of(c)} ({tree.level_of(c)} {c})" for c in found]
            return None, (f"'{value}' could be any of {len(found)} areas: {'; '.join(candidates)}. "
                          "Give the GSS code of the one you mean")
        return None, None

    def did_you_mean(self, value: str) -> str:
        """The closest names and codes above LSOA level (an LSOA's near-miss code is rarely what was meant)."""
        tree = self.tree
        spelled: dict[str, str] = {}
        for code in tree.codes_at([lv for lv in AREA_LEVELS_WIDEST_FIRST if lv != "lsoa"]):
            spelled.setdefault(normalise_name(code), code)
            spelled.setdefault(normalise_name(tree.name_of(code)), code)
        close = get_close_matches(normalise_name(value), list(spelled), n=SUGGESTIONS * 2, cutoff=0.6)
        codes = list(dict.fromkeys(spelled[c] for c in close))[:SUGGESTIONS]
        return f"; did you mean {_listed([f'{tree.name_of(c)} ({c})' for c in codes])}?" if codes else ""
