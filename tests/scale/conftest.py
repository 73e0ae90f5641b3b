"""A small national database (scale 0.002, one need period), generated once per backend for the package."""

from __future__ import annotations

import pytest

from services_db.db import open_database
from services_db.scale.generate import generate

SCALE = 0.002
SEED = 7


def _url(db) -> str:
    return db.engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="package")
def _generated_dbs(tmp_path_factory, pg_schemas):
    """One generated database per backend for the module (generating takes a few seconds), built on first use."""
    dbs: dict[str, object] = {}

    def get(backend: str):
        if backend not in dbs:
            url = (f"sqlite:///{tmp_path_factory.mktemp('national') / 'small.db'}" if backend == "sqlite"
                   else pg_schemas.url())
            db = open_database(url)  # an empty migrated database, as the empty_db fixture makes
            generate(_url(db), seed=SEED, scale=SCALE, periods=1)
            dbs[backend] = db
        return dbs[backend]

    yield get
    for db in dbs.values():
        db.dispose()


@pytest.fixture
def generated(backend, _generated_dbs):
    """The small national database on this backend: read it, never write to it."""
    return _generated_dbs(backend)


