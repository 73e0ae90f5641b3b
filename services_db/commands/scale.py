"""`python -m services_db generate-national` builds the national dataset; `bench` measures the product on it."""

from __future__ import annotations

import argparse
import time

from services_db.db import drop_all, make_engine, normalise_url


def _cmd_generate(args: argparse.Namespace) -> int:
    from services_db.scale.generate import generate

    url = normalise_url(args.out)
    if args.replace:
        engine = make_engine(url)
        drop_all(engine)
        engine.dispose()
    t0 = time.perf_counter()
    result = generate(url, seed=args.seed, scale=args.scale, periods=args.periods, log=print)
    for step, seconds in result.seconds.items():
        print(f"  {step:<30}{seconds:>8.1f} s")
    print(f"total {time.perf_counter() - t0:.1f} s into {url.split('@')[-1]}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from services_db.scale.bench import run_bench

    return run_bench(quick=args.quick, postgres=args.postgres, sqlite_path=args.sqlite, seed=args.seed,
                     regenerate=args.regenerate, only=args.only, step_timeout=args.step_timeout)


def add_parsers(subparsers) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = subparsers.add_parser("generate-national", help="build a national-size database deterministically")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, help="a SQLAlchemy URL (postgresql://…) or a path for a SQLite file")
    p.add_argument("--scale", type=float, default=1.0,
                   help="fraction of services, funding lines and funds (LSOAs stay complete); default 1.0")
    p.add_argument("--periods", type=int, default=12, help="monthly need periods per LSOA (1-12, default 12)")
    p.add_argument("--replace", action="store_true", help="drop every table in the target first")
    p.set_defaults(func=_cmd_generate)

    b = subparsers.add_parser("bench", help="time every step the scale issue budgets, on SQLite and PostgreSQL")
    b.add_argument("--quick", action="store_true", help="a small national-like dataset (scale 0.01, one need period; not national-size figures), under a minute on SQLite")
    b.add_argument("--postgres", default=None,
                   help="PostgreSQL URL of an empty database to generate into and bench (omit to skip PostgreSQL)")
    b.add_argument("--sqlite", default=None, help="SQLite file to use (default data/cache/national-<scale>.db, national-quick-0.01.db with --quick)")
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--regenerate", action="store_true", help="rebuild the SQLite file even if it exists")
    b.add_argument("--only", choices=["sqlite", "postgresql"], default=None, help="bench one backend only")
    b.add_argument("--step-timeout", type=float, default=300.0,
                   help="stop any one step after this many seconds and record it as a miss (default 300)")
    b.set_defaults(func=_cmd_bench)
