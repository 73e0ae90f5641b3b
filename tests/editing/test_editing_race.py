"""Two OS processes save the same record at the same version at the same instant: exactly one may win.

Each trial: both processes read the record (so both hold the same version), wait at a barrier, then save at once.
The winner's value must be what is stored, the version must have gone up by exactly one, and the other process
must get StaleEdit (nothing of its transaction, audit entry included, is kept). Runs on SQLite and PostgreSQL.
The tallies are printed (run with -s to see them).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections import Counter

from services_db import editing, raised_gaps
from services_db.audit import history
from services_db.permissions import Actor

TRIALS = 100
KIND_TRIALS = 10
PROCESSES = 2
WAIT = 60  # seconds a barrier waits before the test fails rather than hangs
# A real account of the demo database, so the account re-check (a shared row lock on PostgreSQL) is in the race.
RACER = Actor("demo-admin", "admin", "Demo administrator", signed_in=True)
FIELD = {"service": "capacity", "organisation": "name", "fund": "money_source", "allocation": "purpose",
         "plan": "name", "priority": "description"}


def _url(db) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _race_records(url: str, me: int, tasks: list[tuple[str, str, int]], barrier, out) -> None:
    """One racer: for each (kind, key, trials), read, wait for the other, save; report what happened and after."""
    from services_db.db import Database, make_engine

    db = Database(make_engine(url))
    results = []
    try:
        for kind, key, trials in tasks:
            for t in range(trials):
                barrier.wait(WAIT)  # the previous trial is over in every process
                rec = editing.load(db, kind, key)
                barrier.wait(WAIT)  # everybody holds the same version: go
                value = f"p{me} t{t}"
                try:
                    editing.save(db, RACER, kind, rec | {FIELD[kind]: value}, key=key, version=rec["version"])
                    outcome = "won"
                except editing.StaleEdit:
                    outcome = "stale"
                except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
                    outcome = f"error {exc!r}"
                barrier.wait(WAIT)  # everybody has saved or been refused
                now = editing.load(db, kind, key)
                results.append((kind, t, rec["version"], outcome, value, now[FIELD[kind]], now["version"]))
    finally:
        out.put((me, results))
        db.dispose()


def _race_gaps(url: str, me: int, gap_ids: list[int], barrier, out) -> None:
    """One racer moving the same just-raised gap (version 1) to acknowledged, per trial."""
    from services_db.db import Database, make_engine

    db = Database(make_engine(url))
    results = []
    try:
        for t, gap_id in enumerate(gap_ids):
            barrier.wait(WAIT)
            try:
                raised_gaps.change_status(db, RACER, gap_id, "acknowledged", f"p{me} t{t}", expected_version=1)
                outcome = "won"
            except raised_gaps.StaleEdit:
                outcome = "stale"
            except Exception as exc:  # noqa: BLE001
                outcome = f"error {exc!r}"
            results.append(("gap_report", t, 1, outcome, f"p{me} t{t}", None, None))
    finally:
        out.put((me, results))
        db.dispose()


def _run(target, url: str, work: list) -> dict[int, list]:
    """Start the racers as separate OS processes (spawned: nothing shared but the database) and collect."""
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=target, args=(url, me, work, barrier, out)) for me in range(PROCESSES)]
    for p in procs:
        p.start()
    got = dict(out.get(timeout=300) for _ in procs)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    return got


def _check(backend: str, got: dict[int, list]) -> Counter:
    """Per trial: exactly one winner, the loser refused as stale, the winner's value stored at version start + 1."""
    tally: Counter = Counter()
    by_trial: dict[tuple[str, int], list] = {}
    for me in sorted(got):
        for kind, t, start, outcome, value, stored, version in got[me]:
            by_trial.setdefault((kind, t), []).append((start, outcome, value, stored, version))
    for (kind, t), runs in by_trial.items():
        outcomes = sorted(o for _, o, _, _, _ in runs)
        winners = [r for r in runs if r[1] == "won"]
        tally[(kind, len(winners))] += 1
        assert outcomes == ["stale", "won"], f"{backend} {kind} trial {t}: {outcomes}"
        start, _, value, _, _ = winners[0]
        assert {r[0] for r in runs} == {start}, f"{kind} trial {t}: the racers read different versions"
        if kind != "gap_report":
            assert {(r[3], r[4]) for r in runs} == {(value, start + 1)}, f"{kind} trial {t}: {runs}"
    return tally


def test_two_processes_saving_one_service_at_once_exactly_one_wins(fresh_demo_db, backend):
    db = fresh_demo_db
    key = editing.keys_of(db, "service")[0][0]
    first = editing.load(db, "service", key)["version"]
    events = len(history(db, "service", key, admin=True))
    t0 = time.perf_counter()
    got = _run(_race_records, _url(db), [("service", key, TRIALS)])
    seconds = time.perf_counter() - t0
    per_process = {me: sum(r[3] == "won" for r in runs) for me, runs in sorted(got.items())}
    winners = Counter(sum(r[3] == "won" for r in runs) for runs in zip(*got.values(), strict=True))
    print(f"\n[race {backend}] service '{key}', {TRIALS} trials: trials by number of winners "
          f"{dict(sorted(winners.items()))}; wins by process {per_process}; {seconds:.1f} s")
    tally = _check(backend, got)
    assert tally == Counter({("service", 1): TRIALS})
    after = editing.load(db, "service", key)
    assert after["version"] == first + TRIALS
    # One audit entry per winning save, none from a refused one.
    assert len(history(db, "service", key, admin=True)) == events + TRIALS


def test_two_processes_saving_every_kind_at_once_exactly_one_wins(fresh_demo_db, backend):
    db = fresh_demo_db
    tasks = [(kind, editing.keys_of(db, kind)[0][0], KIND_TRIALS) for kind in FIELD]
    tally = _check(backend, _run(_race_records, _url(db), tasks))
    area = editing.options(db)["area"][0][0]
    theme = editing.options(db)["theme"][0][0]
    gap_ids = [raised_gaps.raise_gap(db, RACER, area_code=area, theme_key=theme, affected="", description=f"race {i}")
               for i in range(KIND_TRIALS)]
    tally += _check(backend, _run(_race_gaps, _url(db), gap_ids))
    print(f"\n[race {backend}] per kind, (kind, winners): count {dict(sorted(tally.items()))}")
    assert tally == Counter({(kind, 1): KIND_TRIALS for kind in [*FIELD, "gap_report"]})
    for gap_id in gap_ids:  # the loser's status change (and its history line) was rolled back
        moves = raised_gaps.gap_history(db, gap_id)
        assert moves["to_status"].tolist() == ["raised", "acknowledged"]
