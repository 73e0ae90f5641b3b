"""The prepared arrays (`services_db.review.context.Prepared`) are built in codes, not row by row; they must not differ.

Text and tuple columns are converted once per distinct value (`text_codes`, `tuple_codes`), the services'
commissioners are merged with their funding lines' in integer codes, the theme keys are read from the distinct
theme tuples, and the (service, atom) coverage is sorted by a merge of runs with a mask for repeats. Each is held
here to the straightforward computation, value for value, on random data full of the awkward cases: missing and
blank values, `;`-separated text, repeated and unsorted names, services listed twice or not at all, unknown areas,
coverage rows out of order and overlapping.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from services_db.review import context as context_module
from services_db.review.context import Prepared, flags, text_codes, texts, tuple_codes, tuples
from services_db.review.data import ReviewData


def _row_by_row_tuples(values: list) -> list[tuple]:
    """The rule, value by value (what `tuples` did before it coded distinct values)."""
    out: list[tuple] = []
    for v in values:
        if type(v) is tuple and all(type(x) is str for x in v):
            out.append(v)
        elif isinstance(v, tuple | list | np.ndarray | set | frozenset):
            out.append(tuple(str(x) for x in v if x is not None and x == x))
        elif isinstance(v, str) and v.strip():
            out.append(tuple(p.strip() for p in v.split(";") if p.strip()))
        else:
            out.append(())
    return out


def _assert_same_list(got: list, want: list) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert type(g) is type(w) and g == w, (g, w)
        if isinstance(w, tuple):
            assert all(type(x) is type(y) for x, y in zip(g, w, strict=True))


PLAIN = [("a",), ("a", "b"), ("b", "a"), (), ("a", "a"), ("", "c"), "a; b", "  ", "", " c ;; d ", None, np.nan,
         pd.NA, ("x y",), "single"]


@pytest.mark.parametrize("seed", range(4))
def test_tuples_coded_per_distinct_value_match_row_by_row(seed):
    rng = np.random.default_rng(seed)
    values = [PLAIN[i] for i in rng.integers(0, len(PLAIN), 3000)]
    series = pd.Series(values, dtype=object)
    codes, table = tuple_codes(series)
    assert len(table) < 20  # the coded path: one conversion per distinct value
    _assert_same_list(table[codes].tolist(), _row_by_row_tuples(values))
    _assert_same_list(tuples(series), _row_by_row_tuples(values))
    _assert_same_list(tuples(values), _row_by_row_tuples(values))  # a plain list: row by row


@pytest.mark.parametrize("odd", [(1,), (1.0,), (True,), ["a", "b"], np.array(["a"]), ("a", 2), ("a", None),
                                 {"a"}, 7])
def test_tuples_with_values_that_do_not_code_alike_go_row_by_row(odd):
    # (1,), (1.0,) and (True,) are equal and hash alike but read "1", "1.0" and "True"; lists and arrays cannot
    # be hashed at all
    values = [("a",), "b;c", None] * 500 + [odd, (1,), (1.0,), (True,)]
    got = tuples(pd.Series(values, dtype=object))
    _assert_same_list(got, _row_by_row_tuples(values))


@pytest.mark.parametrize("dtype", ["str", object])
def test_texts_coded_per_distinct_value_match_row_by_row(dtype):
    rng = np.random.default_rng(3)
    pool = ["Alpha", "", "  ", "Beta", None, "alpha", "Gamma delta"]
    values = [pool[i] for i in rng.integers(0, len(pool), 2500)]
    series = pd.Series(values, dtype=dtype)
    for default in ("", "active"):
        want = [v if isinstance(v, str) else default for v in series.tolist()]
        got = texts(series, default)
        assert got.dtype == object and got.tolist() == want
        assert all(type(v) is str for v in got.tolist())
        codes, table = text_codes(series, default)
        assert table[codes].tolist() == want
    assert len(text_codes(pd.Series(values, dtype="str"))[1]) <= len(pool)  # arrow text: coded


def test_flags_of_a_bool_column_and_of_one_with_missing_values():
    rng = np.random.default_rng(5)
    plain = pd.Series(rng.random(2000) < 0.3)
    got = flags(plain)
    assert got.dtype == bool and (got == plain.to_numpy()).all()
    got[:] = True
    assert not plain.all()  # a copy, not the frame's own memory
    mixed = pd.Series([True, None, np.nan, False, 1, 0], dtype=object)
    assert flags(mixed).tolist() == [True, False, False, False, True, False]


# -- the prepared services and coverage, against the straightforward computation -------------------------------

THEMES = [("mh",), ("da", "mh"), ("mh", "da"), ("zz_new",), (), "yo; mh", None, ("yo", "new_key", "da"), "  ",
          ("mh", "mh")]
GROUPS = [("adults",), ("children", "adults"), (), None, "women;men", ("x",)]
NAMED = [("OPCC",), ("B council", "OPCC", "B council"), (), None, "Zed; Alpha", ("", "OPCC"), ("alpha", "Alpha")]
LINE_COMMISSIONERS = ["OPCC", "B council", "", None, "New one", "Alpha", "alpha", "Zed"]


def _random_data(make, seed: int) -> ReviewData:
    """A force of 6 districts and 60 LSOAs; 150 services in random order, some listed twice (the first row
    counts) and some only named by funding lines or coverage; coverage rows shuffled, overlapping, some unknown."""
    rng = np.random.default_rng(seed)
    areas = [("F", "Randomshire", "force", None, 6000.0), ("V", "Division", "division", "F", np.nan)]
    areas += [(f"A{a}", f"Area {a}", "area", "V", np.nan) for a in range(3)]
    areas += [(f"D{d}", f"District {d}", "district", f"A{d % 3}", np.nan) for d in range(6)]
    areas += [(f"L{i:02d}", f"LSOA {i}", "lsoa", f"D{i % 6}", 100.0) for i in range(60)]
    base = make(areas).service(1).build()
    lsoas = [f"L{i:02d}" for i in range(60) if i % 6 < 3]  # districts D3 to D5 stay whole: atoms of 10 LSOAs
    codes = ["F", "A0", "A1", "A2", "D0", "D1", "D2", "D3", "D4", "D5", "NOWHERE"]
    ids = rng.permutation(np.arange(1, 151))
    rows = []
    for sid in ids.tolist() + rng.choice(ids, 20).tolist():  # 20 services listed twice
        rows.append(dict(
            service_id=sid, name=[f"Service name {sid % 40}", "", None, "Shared name"][rng.integers(0, 4)],
            provider=["P1", "P2", None, ""][rng.integers(0, 4)], provider_sector="VCFS", tier=None,
            status=["active", "ended", None, "planned", ""][rng.integers(0, 5)],
            start_date=pd.Timestamp("2014-01-01") + pd.Timedelta(days=int(rng.integers(0, 900))),
            end_date=pd.NaT if rng.random() < 0.5 else pd.Timestamp("2017-06-30"),
            end_date_is_estimate=bool(rng.random() < 0.3),
            themes=THEMES[rng.integers(0, len(THEMES))], target_groups=GROUPS[rng.integers(0, len(GROUPS))],
            commissioners=NAMED[rng.integers(0, len(NAMED))]))
    services = pd.DataFrame(rows, columns=list(base.services.columns))
    services["start_date"] = services["start_date"].astype("datetime64[ns]")
    services["end_date"] = services["end_date"].astype("datetime64[ns]")
    unlisted = [900, 901, 902]  # only in funding lines or coverage
    cover = []
    for sid in ids.tolist() + unlisted:
        kind = rng.integers(0, 4)
        if kind == 0:
            chosen = [codes[rng.integers(0, len(codes))]]
        elif kind == 1:
            chosen = rng.choice(codes, size=int(rng.integers(1, 4))).tolist()  # may repeat a code
        elif kind == 2:
            chosen = rng.choice(lsoas, size=int(rng.integers(1, 8))).tolist()
        else:
            chosen = rng.choice(codes[4:], size=2).tolist() + rng.choice(lsoas, size=3).tolist()
        cover += [dict(service_id=sid, area_code=c) for c in chosen]
    coverage = pd.DataFrame(cover, columns=list(base.coverage.columns)).sample(frac=1.0, random_state=seed)
    lines = [dict(service_id=int(sid), commissioner=LINE_COMMISSIONERS[rng.integers(0, len(LINE_COMMISSIONERS))],
                  fund_key=None, annual_amount=1000.0, start_date=pd.NaT, end_date=pd.NaT, is_estimate=False)
             for sid in rng.choice(np.r_[ids, unlisted], 300).tolist()]
    funding_lines = pd.DataFrame(lines, columns=list(base.funding_lines.columns))
    for c in ("start_date", "end_date"):
        funding_lines[c] = funding_lines[c].astype("datetime64[ns]")
    frames = {f.name: getattr(base, f.name) for f in fields(base)}
    frames.update(services=services, coverage=coverage.reset_index(drop=True), funding_lines=funding_lines)
    return ReviewData(**frames)


def _straightforward(prep: Prepared) -> dict:
    """Every column worked out service by service from the frames."""
    d = prep.data
    sid = prep.service_ids.tolist()
    first: dict[int, dict] = {}
    for row in d.services.to_dict("records"):
        first.setdefault(int(row["service_id"]), row)
    rows = [first.get(s) for s in sid]
    line_comm: dict[int, set] = {}
    for s, c in zip(d.funding_lines["service_id"].tolist(), d.funding_lines["commissioner"].tolist(), strict=True):
        if isinstance(c, str) and c:
            line_comm.setdefault(int(s), set()).add(c)
    themes = [_row_by_row_tuples([r["themes"]])[0] if r else () for r in rows]
    keys = [str(k) for k in d.themes["theme_key"].tolist()]
    for t in themes + _row_by_row_tuples(d.indicators["themes"].tolist()):
        keys += [k for k in t if k not in keys]
    index = {k: i for i, k in enumerate(keys)}
    svc_theme = sorted((p, index[k]) for p, t in enumerate(themes) for k in t)
    text = {k: [r[k] if r and isinstance(r[k], str) else "" for r in rows] for k in ("name", "provider")}
    return {
        "name": [nm or f"Service {s}" for nm, s in zip(text["name"], sid, strict=True)],
        "provider": text["provider"],
        "status": [r["status"] if r and isinstance(r["status"], str) else "active" for r in rows],
        "end_is_estimate": [bool(r["end_date_is_estimate"]) if r else False for r in rows],
        "listed": [r is not None for r in rows],
        "themes": themes,
        "groups": [_row_by_row_tuples([r["target_groups"]])[0] if r else () for r in rows],
        "commissioners": [tuple(sorted(set(_row_by_row_tuples([r["commissioners"]])[0] if r else ())
                                       | line_comm.get(s, set()))) for r, s in zip(rows, sid, strict=True)],
        "theme_keys": keys,
        "service_themes": svc_theme,
    }


def _coverage_by_lsoa(prep: Prepared) -> tuple[list, np.ndarray, list]:
    """(service, atom) pairs, LSOAs per service and (service, cell) runs, from the LSOA-level coverage."""
    svc, lsoa = prep.coverage
    atoms = prep.atoms
    pairs = sorted(set(zip(svc.tolist(), atoms.of_lsoa[lsoa].tolist(), strict=True)))
    count = np.bincount(svc, minlength=len(prep.service_ids))
    runs: list = []
    for i, (s, a) in enumerate(pairs):
        cell = int(atoms.cell[a])
        if not runs or runs[-1][:2] != (s, cell):
            runs.append((s, cell, i))
    return pairs, count, runs


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("distinct_min", "keys_32"), [(1, 2**31), (10**9, 0)])  # coded and 32-bit; neither
def test_prepared_columns_and_coverage_match_the_straightforward_computation(make, monkeypatch, seed,
                                                                              distinct_min, keys_32):
    monkeypatch.setattr(context_module, "DISTINCT_MIN", distinct_min)
    monkeypatch.setattr(context_module, "KEYS_32", keys_32)
    data = _random_data(make, seed)
    prep = Prepared(data)
    assert prep.atoms.size.max() == 10
    want = _straightforward(prep)
    assert 900 in prep.service_ids.tolist() and not want["listed"][prep.service_ids.tolist().index(900)]
    for key in ("name", "provider", "status"):
        got = prep._services[key]
        assert got.dtype == object and got.tolist() == want[key], key
    for key in ("end_is_estimate", "listed"):
        assert prep._services[key].dtype == bool and prep._services[key].tolist() == want[key], key
    for key in ("themes", "groups", "commissioners"):
        _assert_same_list(prep._services[key], want[key])
    assert prep.svc_name is prep._services["name"] and prep.svc_commissioners is prep._services["commissioners"]
    assert prep.themes.keys.tolist() == want["theme_keys"]
    svc, theme, ptr = prep.service_themes
    assert list(zip(svc.tolist(), theme.tolist(), strict=True)) == want["service_themes"]
    np.testing.assert_array_equal(ptr, np.r_[0, np.cumsum(np.bincount(svc, minlength=len(prep.service_ids)))])
    # lines: the commissioner of each line as text, "" when missing
    assert prep.lines["commissioner"].tolist() == [c if isinstance(c, str) else ""
                                                   for c in data.funding_lines["commissioner"].tolist()]

    pairs, count, runs = _coverage_by_lsoa(prep)
    got_svc, got_atom = prep.coverage_atoms
    assert got_svc.dtype == np.int64 and got_atom.dtype == np.int64
    assert list(zip(got_svc.tolist(), got_atom.tolist(), strict=True)) == pairs
    assert prep.lsoa_count.dtype == np.int64 and prep.lsoa_count.tolist() == count.tolist()
    cells = prep.service_cells
    assert all(c.dtype == np.int64 for c in cells)
    assert list(zip(*(c.tolist() for c in cells), strict=True)) == runs


def test_a_one_force_app_reading_names_builds_no_other_column(make):
    data = _random_data(make, 0)
    prep = Prepared(data)
    assert len(prep.svc_name) == len(prep.service_ids)
    assert set(prep._columns) == {"name"}
    assert "zz_new" in prep.themes.index
    assert set(prep._columns) == {"name"}  # the theme keys come from the coded themes, not the tuples per service
    assert set(dict(prep._services)) == set(prep._columns) == set(context_module.ServiceColumns.KEYS)


def test_flags_read_missing_as_false_in_any_dtype() -> None:
    """A nullable boolean column (what a PostgreSQL read or an import can give) has pd.NA, whose truth raises: a
    missing flag is read as not set, as None and NaN are."""
    assert flags(pd.Series([True, pd.NA, False], dtype="boolean")).tolist() == [True, False, False]
    assert flags(pd.Series([True, None, float("nan"), 0, 1], dtype=object)).tolist() == [True, False, False, False,
                                                                                          True]
    assert flags(pd.Series([False, True])).tolist() == [False, True]
