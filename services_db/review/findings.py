"""The review as findings: `review_force` and `review_area`, the API the pages, briefings and command line call.

Each finding is one sentence a Chief Inspector can repeat, with the figures it shows and the table rows it comes
from. Findings are ordered by importance: the money involved (a gap's money to parity, a duplication group's
money potentially duplicated, a fund's money that would have to move to be even per head, the sum at risk at a cliff, a fair
share's shortfall), largest first; findings without money (priorities nothing answers) follow, by kind.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from services_db.hierarchy import UnknownAreaName
from services_db.review import questions, wording
from services_db.review.apportion import _service_funding
from services_db.review.cliffs import MONTHS, _cliffs
from services_db.review.context import Context, objects, prepared_of
from services_db.review.data import LEVELS, ReviewData
from services_db.review.dates import DateLike
from services_db.review.duplication import GROUP_COLUMNS, MIN_OVERLAP, PAIR_COLUMNS, _duplication
from services_db.review.fair_share import _fair_share, formula_labels
from services_db.review.gaps import GAP_COLUMNS, MIN_GAP_INDEX, NEED_RATIO, NOT_RECORDED, _gaps
from services_db.review.geography import check_level
from services_db.review.inequity import PER, Inequity, inequities
from services_db.review.plans import _plan_coverage
from services_db.review.shares import _need_theme_columns, _provision_columns, need_matrix, provision_matrix

EVEN = 0.005  # a fund within half a per cent of even per head gets no inequity finding
KINDS = ("gap", "duplication", "inequity", "cliff", "fair_share", "plan", "unlinked", "data")


@dataclass(frozen=True)
class ReviewParams:
    """Every threshold of the review with review.md's default; shown on screen next to the result."""

    level: str = "area"
    need_ratio: float = NEED_RATIO
    min_gap_index: float = MIN_GAP_INDEX
    min_overlap: float = MIN_OVERLAP
    cliff_months: int = MONTHS
    indicators: tuple[str, ...] | None = None
    inequity_level: str = "district"
    per: float = PER
    fair_share_weights: Mapping[str, float] | None = None
    raised_gaps: pd.DataFrame | None = None

    @classmethod
    def of(cls, **params: Any) -> ReviewParams:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise TypeError(f"unknown review parameter(s) {unknown}; known: {sorted(known)}")
        p = cls(**params)
        check_level(p.level)
        check_level(p.inequity_level)
        return p

    def shown(self) -> dict[str, Any]:
        """The parameters as plain values, for the screen, CSV and JSON."""
        out = {k: v for k, v in asdict(self).items() if k != "raised_gaps"}
        out["indicators"] = list(self.indicators) if self.indicators else None
        out["fair_share_weights"] = dict(self.fair_share_weights) if self.fair_share_weights else None
        return out


class _NoDefault:
    """Marks a deferred field without a default (`_Deferred` then raises AttributeError on class access, which
    tells `dataclasses` the field is required)."""


class _Empty(Mapping):
    """An empty, immutable and hashable mapping: the default of a deferred mapping field (a dataclass default must
    be hashable; a finding's figures and texts are only ever read)."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"


class _Deferred:
    """A dataclass field whose value may be given as a `Later` and is then worked out on first read, once.

    A national review has tens of thousands of findings and a page shows tens: their questions (and the sentences,
    figures and names of duplication groups, most of them) are built when read, not with the review. The field
    behaves as a plain value everywhere else (constructor keyword, `replace`, equality, `asdict`, pickling through
    `Finding.__getstate__`, which works every deferred value out first).
    """

    def __init__(self, default: Any = _NoDefault) -> None:
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.slot = name, f"_{name}_value"

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            if self.default is _NoDefault:
                raise AttributeError(self.slot)  # a required field
            return self.default
        value = obj.__dict__[self.slot]
        if isinstance(value, Later):
            value = value.part(self.name)
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj: object, value: Any) -> None:
        obj.__dict__[self.slot] = value


class Later:
    """A value worked out when first read: `Later(fn, *args)` is `fn(*args)`."""

    __slots__ = ("args", "fn")

    def __init__(self, fn: Any, *args: Any) -> None:
        self.fn, self.args = fn, args

    def __call__(self) -> Any:
        return self.fn(*self.args)

    def part(self, name: str) -> Any:
        """The value of the finding's field `name` this stands for (one `Later` may stand for several)."""
        return self()


@dataclass(frozen=True)
class Finding:
    """One sentence and the figures (as shown) and names it contains."""

    kind: str
    sentence: str = _Deferred()  # type: ignore[assignment]  # a str (built when first read for duplication groups)
    importance: float
    area_code: str | None = None
    area_name: str | None = None
    theme_key: str | None = None
    figures: Mapping[str, float] = _Deferred(_Empty())  # type: ignore[assignment]
    texts: Mapping[str, str] = _Deferred(_Empty())  # type: ignore[assignment]
    is_estimate: bool = False
    # Filled in once all findings are built (`services_db.review.questions.attach`): the question for the partners
    # who can act on it (review.md v2), and what it is about: "area" (named areas) or "force" (the whole force:
    # a force-wide duplication group, a fund or theme across the districts, data to check).
    question: str = _Deferred("")  # type: ignore[assignment]  # a str; built when first read (`questions.attach`)
    scope: str = "area"
    # Which table row the finding was built from (a duplication group's `group_id`), so its question and scope are
    # found by identity, never by matching figures. Not part of the record.
    row_key: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (Streamlit's cache, copies) with every deferred value worked out: a `Later` holds the review."""
        for f in fields(self):
            getattr(self, f.name)
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def but(self, **changes: Any) -> Finding:
        """A copy with `changes`, like `dataclasses.replace` but leaving deferred values unread."""
        new = object.__new__(type(self))
        state = new.__dict__
        state.update(self.__dict__)
        if type(self) is not Finding:
            for name, value in changes.items():
                object.__setattr__(new, name, value)
            return new
        for name, value in changes.items():  # what `object.__setattr__` does, a deferred field into its slot
            state[_SLOTS.get(name, name)] = value
        return new

    def row(self) -> dict[str, Any]:
        base = {"kind": self.kind, "area_code": self.area_code, "area_name": self.area_name,
                "theme_key": self.theme_key, "importance": self.importance, "is_estimate": self.is_estimate,
                "sentence": self.sentence, "scope": self.scope, "question": self.question}
        return {**base, **dict(self.texts), **dict(self.figures)}

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "area_code": self.area_code, "area_name": self.area_name,
                "theme_key": self.theme_key, "importance": _plain(self.importance),
                "is_estimate": self.is_estimate, "sentence": self.sentence, "scope": self.scope,
                "question": self.question,
                "figures": {k: _plain(v) for k, v in self.figures.items()}, "texts": dict(self.texts)}


_SLOTS = {name: value.slot for name, value in vars(Finding).items() if isinstance(value, _Deferred)}


def _finding(kind: str, sentence: Any, importance: float, theme_key: str | None, figures: Any, texts: Any,
             row_key: dict) -> Finding:
    """`Finding(kind, sentence, importance, theme_key=theme_key, figures=figures, texts=texts, row_key=row_key)`,
    its state set directly (the same as its constructor's, key for key): a national review builds tens of thousands
    of duplication findings, and the frozen constructor sets each field through `object.__setattr__`."""
    new = object.__new__(Finding)
    put = object.__setattr__
    put(new, "kind", kind)
    put(new, "_sentence_value", sentence)
    put(new, "importance", importance)
    put(new, "area_code", None)
    put(new, "area_name", None)
    put(new, "theme_key", theme_key)
    put(new, "_figures_value", figures)
    put(new, "_texts_value", texts)
    put(new, "is_estimate", False)
    put(new, "_question_value", "")
    put(new, "scope", "area")
    put(new, "row_key", row_key)
    return new


class _Asked(Later):
    """A finding's question, worked out when first read: `Later(asker.question, finding)` as one object."""

    __slots__ = ("asker", "finding")

    def __init__(self, asker: Any, finding: Finding) -> None:
        self.asker, self.finding = asker, finding

    def __call__(self) -> str:
        return self.asker.question(self.finding)


class _Built:
    """One sentence built once, when any of its parts (text, figures, names) is first read.

    `opening(*args)`, when given, is the text the sentence starts with (whatever the rest), worked out without
    building it: what ordering reads first (`opening_text`, `_SentenceKey`)."""

    __slots__ = ("args", "build", "opening", "sentence", "start")

    def __init__(self, build: Any, *args: Any, opening: Any = None) -> None:
        self.build, self.args, self.sentence = build, args, None
        self.opening, self.start = opening, None

    def opening_text(self) -> str:
        """What the sentence is known to start with: all of it once built, else its opening ("" if none given)."""
        if self.sentence is not None:
            return self.sentence.text()
        if self.start is None:
            self.start = self.opening(*self.args) if self.opening is not None else ""
        return self.start

    def get(self) -> wording.Sentence:
        if self.sentence is None:
            self.sentence = self.build(*self.args)
        return self.sentence

    def text(self) -> str:
        return self.get().text()

    def figures(self) -> dict:
        return dict(self.get().figures)

    def texts(self) -> dict:
        return dict(self.get().texts)


class _BuiltText(Later):
    """The text of a `_Built` sentence, worked out when first read; until then its opening can be read alone."""

    __slots__ = ("built",)

    def __init__(self, built: _Built) -> None:
        super().__init__(built.text)
        self.built = built

    def opening_text(self) -> str:
        return self.built.opening_text()


def _plain(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def _make(kind: str, s: wording.Sentence, importance: float, *, area_code: str | None = None,
          area_name: str | None = None, theme_key: str | None = None, is_estimate: bool = False,
          row_key: Mapping[str, Any] | None = None) -> Finding:
    return Finding(kind, s.text(), float(importance) if importance is not None else float("nan"), area_code,
                   area_name, theme_key, dict(s.figures), dict(s.texts), bool(is_estimate),
                   row_key=dict(row_key or {}))


class Tables(Mapping):
    """The tables behind a review, built into DataFrames only when first read (most callers read a few)."""

    def __init__(self, columns: dict[str, dict | pd.DataFrame]) -> None:
        self._columns = columns
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            value = self._columns[name]
            self._frames[name] = value if isinstance(value, pd.DataFrame) else pd.DataFrame(value)
        return self._frames[name]

    def __iter__(self):
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def raw(self, name: str) -> dict | pd.DataFrame:
        """A table as it was built (a dict of arrays, or a DataFrame), without building a DataFrame."""
        return self._columns.get(name, {})


@dataclass
class Findings:
    """A review's findings (ordered by importance) and the tables they come from (`tables[name]`: a DataFrame).

    Tables: gaps, duplication, duplication_pairs, inequity (per area, all funds and themes), inequity_summary,
    cliffs (per area and theme), cliffs_by_theme (the scope's breakdown by theme), cliff_total (the scope's one
    row: at risk, provision, services, first end), cliff_totals (per area, force reviews), cliff_lines (an area
    review's lines with the area's share beside the whole amount), plan_priorities, unlinked_services, fair_share (when weights are given), provision, need, service_funding.
    """

    scope_code: str | None
    scope_name: str
    level: str
    as_at: pd.Timestamp
    params: dict[str, Any]
    findings: list[Finding]
    tables: Tables
    # An area review only: findings about the whole force that bear on the area but are not its own (force-wide
    # duplication groups overlapping it: reported once, in the force review), with their questions; a briefing
    # shows them in its "Across the force" section. Not counted in len() or listed by iteration.
    across: list[Finding] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self):
        return iter(self.findings)

    def sentences(self) -> list[str]:
        return [f.sentence for f in self.findings]

    def of_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def table(self) -> pd.DataFrame:
        """One row per finding: rank, kind, area, theme, importance, sentence, then its names and figures."""
        rows = [{"rank": i + 1, **f.row()} for i, f in enumerate(self.findings)]
        base = ["rank", "kind", "area_code", "area_name", "theme_key", "importance", "is_estimate", "sentence"]
        frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=base)
        return frame[base + [c for c in frame.columns if c not in base]]

    def to_json(self) -> str:
        return json.dumps({
            "scope_code": self.scope_code, "scope": self.scope_name, "level": self.level,
            "as_at": self.as_at.date().isoformat(), "params": self.params,
            "findings": [dict(rank=i + 1, **f.record()) for i, f in enumerate(self.findings)],
        }, indent=2, default=str)


def _known_start(finding: Finding) -> str:
    """Text the finding's sentence is known to start with, without building it: the sentence itself once built
    (or given), a lazy sentence's opening (`_BuiltText`), else "" (known to start with nothing)."""
    value = getattr(finding, "_sentence_value", None)  # the deferred field's slot (`_Deferred`), left unread
    if isinstance(value, str):
        return value
    opening = getattr(value, "opening_text", None)
    return opening() if opening is not None else ""


class _SentenceKey:
    """A finding's sentence as the last part of its sort key, read only when the parts before it tie.

    Two sentences are first told apart by what each is known to start with (`_known_start`: for a duplication
    group, "Three domestic abuse services for adults, "), which most tied findings already differ in: if neither
    start is a prefix of the other, the sentences first differ where the starts do, so they compare as the starts
    do and neither is built. Otherwise (one start is a prefix of the other, or they are equal) the whole sentences
    are read and compared."""

    __slots__ = ("finding", "start")

    def __init__(self, finding: Finding) -> None:
        self.finding, self.start = finding, None

    def _start(self) -> str:
        if self.start is None:
            self.start = _known_start(self.finding)
        return self.start

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _SentenceKey):
            return False
        a, b = self._start(), other._start()
        if not (a.startswith(b) or b.startswith(a)):
            return False
        return self.finding.sentence == other.finding.sentence

    def __lt__(self, other: _SentenceKey) -> bool:
        a, b = self._start(), other._start()
        if not (a.startswith(b) or b.startswith(a)):
            return a < b
        return self.finding.sentence < other.finding.sentence

    __hash__ = None  # type: ignore[assignment]


def _order(findings: list[Finding]) -> list[Finding]:
    """The findings sorted by (-importance (-1 when not finite), kind in `KINDS`, area name, sentence), ties in
    their given order; what `sorted` gives with `_order_key`. The first three parts are sorted as arrays; only the
    findings tied on all three (runs of tens in a national review) are sorted by their sentences (`_by_sentence`)."""
    n = len(findings)
    if n < 2:
        return list(findings)
    importance = np.fromiter((f.importance for f in findings), dtype=float, count=n)
    importance = np.where(np.isfinite(importance), importance, -1.0)
    kind = np.fromiter((KINDS.index(f.kind) for f in findings), dtype=np.int64, count=n)
    names = [f.area_name or "" for f in findings]
    rank = {name: i for i, name in enumerate(sorted(set(names)))}
    area = np.fromiter((rank[name] for name in names), dtype=np.int64, count=n)
    at = np.lexsort((np.arange(n), area, kind, -importance))  # ties in their given order
    neg, kind, area = -importance[at], kind[at], area[at]
    new_run = np.ones(n + 1, dtype=bool)
    new_run[1:-1] = (neg[1:] != neg[:-1]) | (kind[1:] != kind[:-1]) | (area[1:] != area[:-1])
    starts = np.flatnonzero(new_run)
    ordered = [findings[i] for i in at.tolist()]
    for a, b in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
        if b - a > 1:
            ordered[a:b] = _by_sentence(ordered[a:b])
    return ordered


def _order_key(f: Finding) -> tuple:
    """The sort key `_order` sorts by (the straightforward way)."""
    imp = f.importance if math.isfinite(f.importance) else -1.0
    return (-imp, KINDS.index(f.kind), f.area_name or "", _SentenceKey(f))


def _by_sentence(tied: list[Finding]) -> list[Finding]:
    """Findings sorted by their sentences (ties in their given order), what `sorted(tied, key=_SentenceKey)` gives.

    When no finding's known start (`_known_start`) is a prefix of another's, the sentences compare as their starts
    do, and only findings with the same start are told apart by their whole sentences (built then). Otherwise,
    `_SentenceKey` compares them pair by pair."""
    starts = [_known_start(f) for f in tied]
    distinct = sorted(set(starts))
    if any(b.startswith(a) for a, b in zip(distinct[:-1], distinct[1:], strict=True)):  # "" or one starting another
        return sorted(tied, key=_SentenceKey)
    shared = {s for s, k in Counter(starts).items() if k > 1}
    keys = [(s, f.sentence if s in shared else "") for s, f in zip(starts, tied, strict=True)]
    return [tied[i] for i in sorted(range(len(tied)), key=keys.__getitem__)]


# -- building the findings ----------------------------------------------------------------------------------------


def records(cols: dict[str, np.ndarray], rows: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Rows of a column dict as dicts (only the rows asked for)."""
    keys = list(cols)
    if not keys:
        return []
    idx = np.arange(len(cols[keys[0]])) if rows is None else np.asarray(rows, dtype=np.int64)
    picked = [cols[k][idx].tolist() for k in keys]
    return [dict(zip(keys, vals, strict=True)) for vals in zip(*picked, strict=True)]


def subset(cols: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[mask] for k, v in cols.items()}


def _gap_findings(ctx: Context, gaps: dict, level: str, force: bool) -> list[Finding]:
    """One finding per gap, and one per area where services of the theme cover it but their funding is not
    recorded (no importance: no money can be put on it); in the force review a theme with need but no recorded
    funding anywhere is one finding. Areas with no need figure get none (review.md v2)."""
    out = []
    noun = wording.LEVEL_NOUN[level]
    flagged = gaps["is_gap"].astype(bool)
    unrecorded = np.asarray(gaps["reason"] == NOT_RECORDED, dtype=bool)
    if force and len(flagged):
        nowhere = (flagged | unrecorded) & (gaps["force_provision_total"] <= 0)
        flagged &= ~nowhere
        unrecorded &= ~nowhere
        for theme in dict.fromkeys(gaps["theme_key"][nowhere].tolist()):
            rows = np.flatnonzero(nowhere & (gaps["theme_key"] == theme))
            top = rows[np.argmax(gaps["need_share"][rows])]
            row = records(gaps, [top])[0]
            s = wording.no_funding_sentence(row, len(rows), ctx.geo.force_name, noun, int(row["theme_services"]),
                                            int(row["theme_unknown_funding"]))
            out.append(_make("gap", s, float("nan"), theme_key=theme, is_estimate=row["need_is_estimate"]))
    for row in records(gaps, np.flatnonzero(flagged)):
        s = wording.gap_sentence(row, ctx.geo.force_name, noun)
        out.append(_make("gap", s, max(row["money_to_parity"], 0.0), area_code=row["area_code"],
                         area_name=row["area_name"], theme_key=row["theme_key"], is_estimate=row["need_is_estimate"]))
    for row in records(gaps, np.flatnonzero(unrecorded)):
        s = wording.unknown_funding_sentence(row, ctx.geo.force_name, noun)
        out.append(_make("gap", s, float("nan"), area_code=row["area_code"], area_name=row["area_name"],
                         theme_key=row["theme_key"], is_estimate=row["need_is_estimate"]))
    return out + _no_figure_findings(ctx, gaps, level, force)


def _no_figure_findings(ctx: Context, gaps: dict, level: str, force: bool) -> list[Finding]:
    """Areas with no need figure are listed as such, not left silent (review.md v2): one finding per area (in the
    force review, one per set of missing indicators, naming the areas), with the themes no gap is measured for."""
    if not len(gaps["is_gap"]):
        return []
    missing = ~gaps["has_need_figure"].astype(bool)
    if not missing.any():
        return []
    n = need_matrix(ctx, level)
    ind = {str(k): j for j, k in enumerate(n.keys)}
    unit = {str(c): i for i, c in enumerate(n.units.codes)}
    per_area: dict[str, tuple[str, list[str], list[str]]] = {}
    for row in records(gaps, np.flatnonzero(missing)):
        u = unit.get(str(row["area_code"]), -1)
        lacking = [str(ctx.prep.indicator_meta.get(k, (k,))[0]) for k in row["indicator_keys"]
                   if k in ind and u >= 0 and not n.has[u, ind[k]]]
        name, names, themes = per_area.setdefault(str(row["area_code"]), (str(row["area_name"]), [], []))
        names += [x for x in lacking if x not in names]
        if row["theme_name"] not in themes:
            themes.append(str(row["theme_name"]))
    groups: dict[tuple, tuple[list[str], list[str], list[str]]] = {}
    for code, (name, names, themes) in per_area.items():
        key = (tuple(names), tuple(themes)) if force else (code,)
        areas, _, _ = groups.setdefault(key, ([], names, themes))
        areas.append(name)
    out = []
    for key, (areas, names, themes) in groups.items():
        s = wording.no_figure_sentence(areas, names, themes)
        code = None if force else key[0]
        out.append(_make("gap", s, float("nan"), area_code=code, area_name=areas[0] if code else None))
    return out


def _duplication_findings(groups: dict, level: str, force_name: str, *, area: bool = False,
                          asker: questions.Asker | None = None) -> list[Finding]:
    """One finding per duplication group, by the money potentially duplicated. An area's review leaves out the
    wide groups (force-wide, or over most of the force's areas: reported once, in the force review and each
    briefing's force section), though its table keeps them, flagged `wide`.

    Built from the table's columns in one pass; a group's sentence, figures and names (and its row, a dict as
    `records` gives it) are made when first read (`_GroupParts`). With `asker`, each finding comes with its scope
    and question (built when first read), as `asker.attach` would give them."""
    rows = _GroupRows(groups)
    if not rows.n:
        return []
    noun = wording.LEVEL_NOUN[level]
    money, theme, gid = (rows.columns[k] for k in ("money_duplicated", "theme_key", "group_id"))
    wide = rows.columns["wide"] if area else None
    nan = float("nan")
    out = []
    for i in range(rows.n):
        if wide is not None and wide[i]:
            continue
        m = money[i]
        parts = _GroupParts(rows, i, noun, force_name)
        f = _finding("duplication", parts, float(m) if m is not None else nan, theme[i], parts, parts,
                     {"group_id": int(gid[i])})
        if asker is not None:
            parts.asker, parts.finding = asker, f
            object.__setattr__(f, "_question_value", parts)
            object.__setattr__(f, "scope", asker.scope(f))
        out.append(f)
    return out


class _GroupRows:
    """A column dict's rows, each made when asked for: `row(i)` is `records(cols)[i]` (the same values: `columns`
    holds each column as `tolist` gives it)."""

    __slots__ = ("columns", "keys", "n", "openings")

    def __init__(self, cols: dict[str, np.ndarray]) -> None:
        self.keys = list(cols)
        self.n = len(cols[self.keys[0]]) if self.keys else 0
        self.columns: dict[str, list] = {k: cols[k].tolist() for k in self.keys} if self.n else {}
        self.openings: list[str] | None = None

    def row(self, i: int) -> dict[str, Any]:
        return {k: self.columns[k][i] for k in self.keys}

    def opening(self, i: int) -> str:
        """`wording.duplication_opening(self.row(i))`, worked out for every row at once when first asked for."""
        if self.openings is None:
            self.openings = wording.duplication_openings(self.columns)
        return self.openings[i]


class _GroupParts(Later):
    """What a duplication group's finding works out when first read, in one object that each of its deferred fields
    holds (`part`): a national review has tens of thousands of them, and every object kept adds to the garbage
    collector's work. Its sentence is `wording.duplication_sentence` of the group's row (built once, with its
    figures and names); its question, `asker.question(finding)`. Until the sentence is built its opening can be read
    alone (`opening_text`, as `_BuiltText`'s): `wording.duplication_opening` of the row."""

    __slots__ = ("asker", "finding", "force_name", "i", "noun", "rows", "sentence", "start")

    def __init__(self, rows: _GroupRows, i: int, noun: str, force_name: str) -> None:
        self.rows, self.i, self.noun, self.force_name = rows, i, noun, force_name
        self.sentence = self.start = self.asker = self.finding = None

    def get(self) -> wording.Sentence:
        if self.sentence is None:
            self.sentence = wording.duplication_sentence(self.rows.row(self.i), self.noun, self.force_name)
        return self.sentence

    def part(self, name: str) -> Any:
        if name == "sentence":
            return self.get().text()
        if name == "figures":
            return dict(self.get().figures)
        if name == "texts":
            return dict(self.get().texts)
        if name == "question" and self.asker is not None:
            return self.asker.question(self.finding)
        raise AttributeError(name)

    def __call__(self) -> str:
        return self.part("sentence")

    def opening_text(self) -> str:
        """What the sentence is known to start with: all of it once built, else its opening (`_Built`'s)."""
        if self.sentence is not None:
            return self.sentence.text()
        if self.start is None:
            self.start = self.rows.opening(self.i)  # its other arguments play no part in the opening
        return self.start


def _inequity_finding(result: Inequity) -> Finding | None:
    summary = result.summary
    if summary["total"] <= 0:
        return None
    if not summary["zero_areas"] and summary["misallocated"] < EVEN * summary["total"]:
        return None  # even per head (a whole-force grant shared by population): nothing to say
    s = wording.inequity_sentence(summary, wording.LEVEL_NOUN[result.level])
    return _make("inequity", s, summary["misallocated"], theme_key=result.key if result.basis == "theme" else None,
                 is_estimate=bool(summary.get("is_estimate", False)))


def _inequities(ctx: Context, level: str, per: float) -> tuple[list[Inequity], list[Inequity]]:
    """Every fund with money placed, and every theme with current funding, by `level`."""
    money = provision_matrix(ctx, level).money
    themes = [str(ctx.themes.keys[ti]) for ti in np.flatnonzero(money.sum(axis=0) > 0)]
    results = inequities(ctx, level, per, ctx.prep.fund_keys, themes)
    funds = [r for r in results if r.basis == "fund" and r.summary["total"] > 0]
    return funds, [r for r in results if r.basis == "theme"]


def _inequity_columns(results: list[Inequity], keep: set[str] | None = None) -> tuple[dict, dict]:
    """One long per-area table for all funds and themes, and one summary row per fund or theme."""
    if not results:
        return {}, {}
    names = ["basis", "key", "label", *results[0].columns]
    parts: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for r in results:
        n = len(r.columns["area_code"])
        mask = np.ones(n, dtype=bool) if keep is None else np.isin(r.columns["area_code"], list(keep))
        extra = {"basis": r.basis, "key": r.key, "label": r.label}
        for k in names:
            value = np.full(n, extra[k], dtype=object) if k in extra else np.asarray(r.columns[k])
            parts[k].append(value[mask])
    summary = [{"basis": r.basis, "key": r.key, **r.summary} for r in results]
    return ({k: np.concatenate(v) for k, v in parts.items()},
            {k: objects([row.get(k) for row in summary]) for k in summary[0]})


def _cliff_findings(total: dict, by_theme: dict, months: int, place: str, area_name: str | None,
                    area_code: str | None) -> list[Finding]:
    """One finding per area (or for the force): its total at risk, each pound once, naming its largest themes.
    Its table: `cliff_total` (the one row) and `cliffs_by_theme` (the breakdown, adding up to the total)."""
    rows = records(total)
    if not rows or rows[0]["at_risk"] <= 0:
        return []
    s = wording.cliff_sentence(rows[0], records(by_theme), months, place, area=area_code is not None)
    return [_make("cliff", s, rows[0]["at_risk"], area_code=area_code, area_name=area_name)]


def _plan_findings(priorities: dict, area_name: str | None, area_code: str | None) -> list[Finding]:
    return [_make("plan", wording.plan_sentence(row, area_name), float("nan"), area_code=area_code,
                  area_name=area_name) for row in records(priorities)]


def _unlinked_finding(unlinked: dict, area_name: str | None, area_code: str | None) -> list[Finding]:
    n = len(unlinked["service_id"])
    if n == 0:
        return []
    funding = np.asarray(unlinked["annual_funding"], dtype=float)
    s = wording.unlinked_sentence(n, float(np.nansum(funding)), area_name, int(np.isnan(funding).sum()))
    return [_make("unlinked", s, float("nan"), area_code=area_code, area_name=area_name)]


def _fair_share_findings(ctx: Context, p: ReviewParams, level: str,
                         scope_codes: set[str] | None) -> tuple[list[Finding], dict]:
    if not p.fair_share_weights:
        return [], {}
    formula = formula_labels(ctx, p.fair_share_weights)
    out, parts = [], []
    for key in ctx.prep.fund_keys:
        cols = _fair_share(ctx, key, p.fair_share_weights, level, None)
        if cols["actual"].sum() <= 0:
            continue
        name = ctx.prep.fund_names.get(key, key)
        n = len(cols["area_code"])
        parts.append({"fund_key": np.full(n, key, dtype=object), "fund_name": np.full(n, name, dtype=object), **cols})
        missing = None
        if scope_codes is None:  # the force: the area furthest below its fair share, naming those with no figure
            rows = np.argsort(cols["difference"], kind="stable")[:1]
            missing = {label: [str(a) for a, m in zip(cols["area_name"], cols["no_figure"], strict=True)
                               if label in str(m).split("; ")] for label, _ in formula}
        else:
            rows = np.flatnonzero(np.isin(cols["area_code"], list(scope_codes)))
        for row in records(cols, rows):
            s = wording.fair_share_sentence(row, name, formula, missing, wording.LEVEL_NOUN[level])
            out.append(_make("fair_share", s, abs(row["difference"]), area_code=row["area_code"],
                             area_name=row["area_name"]))
    table = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]} if parts else {}
    if table and scope_codes is not None:
        table = subset(table, np.isin(table["area_code"], list(scope_codes)))
    return out, table


def _data_findings(ctx: Context) -> list[Finding]:
    unplaced = (ctx.funding_pence != 0) & ~ctx.covered
    if not unplaced.any():
        return []
    money = float(ctx.funding_pence[unplaced].sum() / 100.0)
    return [_make("data", wording.unplaced_sentence(int(unplaced.sum()), money), money)]


def review_force(data: ReviewData, as_at: DateLike, **params: Any) -> Findings:
    """The whole force's review at `as_at`: gaps, duplication, inequity, cliffs, plans (and fair shares when
    `fair_share_weights` is given). Parameters: see `ReviewParams` (defaults from review.md)."""
    p = ReviewParams.of(**params)
    ctx = Context(data, as_at)
    level = p.level
    gaps = _gaps(ctx, level, p.need_ratio, p.min_gap_index, p.indicators, p.raised_gaps)
    groups, pairs = _duplication(ctx, p.min_overlap, level)
    funds, themes = _inequities(ctx, p.inequity_level, p.per)
    cliffs = _cliffs(ctx, p.cliff_months, level)
    plans = _plan_coverage(ctx, level)
    pri = plans.priority_columns
    first = np.zeros(len(pri["priority_key"]), dtype=bool)
    first[np.unique(pri["priority_key"].astype(str), return_index=True)[1]] = True
    unanswered = subset(pri, first & (pri["linked_services_force"] == 0))
    fair, fair_table = _fair_share_findings(ctx, p, p.inequity_level, None)

    head = _gap_findings(ctx, gaps, level, True)
    findings = [f for f in map(_inequity_finding, funds) if f is not None]
    findings += [f for r in themes if r.summary["zero_areas"] for f in [_inequity_finding(r)] if f is not None]
    findings += _cliff_findings(cliffs.force_total_columns, cliffs.force_theme_columns, p.cliff_months,
                                ctx.geo.force_name, None, None)
    findings += fair + _plan_findings(unanswered, None, None)
    findings += _unlinked_finding(plans.unlinked_columns, None, None) + _data_findings(ctx)

    ineq, ineq_summary = _inequity_columns(funds + themes)
    tables = Tables({
        "gaps": _frame(gaps, GAP_COLUMNS), "duplication": _frame(groups, GROUP_COLUMNS),
        "duplication_pairs": _frame(pairs, PAIR_COLUMNS), "inequity": ineq, "inequity_summary": ineq_summary,
        "cliffs": cliffs.area_columns, "cliffs_by_theme": cliffs.force_theme_columns,
        "cliff_total": cliffs.force_total_columns, "cliff_totals": cliffs.total_columns,
        "cliff_lines": cliffs.line_columns,
        "plan_priorities": pri, "unlinked_services": plans.unlinked_columns, "fair_share": fair_table,
        "provision": _provision_columns(ctx, level), "need": _need_theme_columns(ctx, level, p.indicators),
        "service_funding": _service_funding(ctx),
    })
    asker = questions.Asker(ctx, tables, None)  # the duplication findings come with their questions
    findings = asker.attach(head) + _duplication_findings(groups, level, ctx.geo.force_name, asker=asker) + \
        asker.attach(findings)
    return Findings(None, ctx.geo.force_name, level, ctx.as_at, p.shown(), _order(findings), tables)


def _frame(cols: dict, columns: list[str]) -> pd.DataFrame | dict:
    """Columns in a fixed order (a table with no rows still has its columns)."""
    if cols and len(next(iter(cols.values()))):
        return {c: cols[c] for c in columns}
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


class UnknownArea(UnknownAreaName):
    """An area name or code the review does not know (the hierarchy's own error: `given`, `valid`)."""


def area_names(data: ReviewData) -> list[str]:
    """The names `review_area` accepts: place-based areas, then districts."""
    return prepared_of(data).geo.names_at(("area", "district"))


def review_area(data: ReviewData, area_code_or_name: str, as_at: DateLike, **params: Any) -> Findings:
    """One place-based area's (or district's) review at `as_at`, as its Chief Inspector reads it.

    The area's own gaps, duplication groups overlapping in it, funds (and themes) where one of its districts
    received nothing, cliffs and unanswered priorities in it, unlinked services covering it (and its fair shares
    when `fair_share_weights` is given). The summary level is the area's own (place-based area or district);
    the `level` parameter is ignored here. Raises `UnknownArea` (a KeyError) for a name it does not know.
    """
    p = ReviewParams.of(**params)
    ctx = Context(data, as_at)
    geo = ctx.geo
    try:
        pos = geo.resolve(area_code_or_name, ("area", "district"))
    except KeyError:
        raise UnknownArea(area_code_or_name, geo.names_at(("area", "district"))) from None
    level = str(geo.levels[pos])
    code, name = str(geo.codes[pos]), str(geo.names[pos])
    ilevel = p.inequity_level if LEVELS.index(p.inequity_level) <= LEVELS.index(level) else level
    in_units = geo.units(ilevel)
    target = int(np.flatnonzero(geo.units(level).positions == pos)[0])
    scope_codes = set(in_units.codes[geo.unit_of_areas(level, in_units.positions) == target].tolist())

    gaps = _gaps(ctx, level, p.need_ratio, p.min_gap_index, p.indicators, p.raised_gaps)
    gaps = subset(gaps, gaps["area_code"] == code) if len(gaps["area_code"]) else gaps
    groups, pairs = _duplication(ctx, p.min_overlap, level)
    if len(groups["group_id"]):
        groups = subset(groups, np.array([code in c for c in groups["shared_area_codes"]], dtype=bool))
        pairs = subset(pairs, np.isin(pairs["group_id"], groups["group_id"]))
    funds, themes = _inequities(ctx, ilevel, p.per)
    cliffs = _cliffs(ctx, p.cliff_months, level)
    here = subset(cliffs.area_columns, cliffs.area_columns["area_code"] == code)
    cliff_total = subset(cliffs.total_columns, cliffs.total_columns["area_code"] == code)
    plans = _plan_coverage(ctx, level)
    pri = subset(plans.priority_columns, plans.priority_columns["area_code"] == code)
    unlinked = plans.unlinked_columns
    unlinked = subset(unlinked, np.array([code in c for c in unlinked["area_codes"]], dtype=bool))
    fair, fair_table = _fair_share_findings(ctx, p, ilevel, scope_codes)

    # The area's table keeps every group overlapping in it (wide ones too, for a briefing's force section); its
    # findings are the groups that are not wide.
    head = _gap_findings(ctx, gaps, level, False)
    findings = []
    for r in funds + themes:
        if set(r.summary["zero_codes"]) & scope_codes:
            f = _inequity_finding(r)
            if f is not None:
                findings.append(f)
    findings += _cliff_findings(cliff_total, here, p.cliff_months, name, name, code)
    findings += fair + _plan_findings(subset(pri, pri["unanswered"].astype(bool)), name, code)
    findings += _unlinked_finding(unlinked, name, code) + _data_findings(ctx)

    ineq, ineq_summary = _inequity_columns(funds + themes, scope_codes)
    provision = _provision_columns(ctx, level)
    need = _need_theme_columns(ctx, level, p.indicators)
    lines = subset(cliffs.area_line_columns, cliffs.area_line_columns["area_code"] == code)
    tables = Tables({
        "gaps": _frame(gaps, GAP_COLUMNS), "duplication": _frame(groups, GROUP_COLUMNS),
        "duplication_pairs": _frame(pairs, PAIR_COLUMNS), "inequity": ineq, "inequity_summary": ineq_summary,
        "cliffs": here, "cliffs_by_theme": here, "cliff_total": cliff_total, "cliff_lines": lines,
        "plan_priorities": pri, "unlinked_services": unlinked,
        "fair_share": fair_table, "provision": subset(provision, provision["area_code"] == code),
        "need": subset(need, need["area_code"] == code), "service_funding": _service_funding(ctx),
    })
    params_shown = {**p.shown(), "level": level, "inequity_level": ilevel}
    asker = questions.Asker(ctx, tables, code)  # the duplication findings come with their questions
    findings = asker.attach(head) + \
        _duplication_findings(groups, level, ctx.geo.force_name, area=True, asker=asker) + asker.attach(findings)
    own = {f.sentence for f in findings}
    across = [f for f in _duplication_findings(groups, level, ctx.geo.force_name, asker=asker)
              if f.sentence not in own]
    return Findings(code, name, level, ctx.as_at, params_shown, _order(findings), tables, _order(across))
