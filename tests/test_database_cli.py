"""Opening a database never loads data; `init` (unless --empty) and the app's first start load the demo, once."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services_db import boundaries, demo, queries
from services_db.commands import main
from services_db.db import open_database
from services_db.demo import seeded


def test_opening_migrates_and_loads_nothing(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'new.db'}")
    assert db.is_empty() and queries.table_counts(db)["service"] == 0
    db.dispose()


def test_the_database_layer_imports_no_loader():
    """db sits under everything: it imports neither the demo nor the accounts and audit code that import it."""
    code = ("import sys, services_db.db; "
            "print(sorted(m for m in ('services_db.demo', 'services_db.auth', 'services_db.audit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_init_loads_the_demo_once_and_init_empty_does_not(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(boundaries, "build_geometry_cache", lambda: {})  # the map cache is not this test's subject
    assert main(["init", "--empty"]) == 0
    assert open_database(url).is_empty()
    assert main(["review"]) == 2
    assert "python -m services_db init" in capsys.readouterr().err
    assert main(["init"]) == 0
    db = open_database(url)
    counts = queries.table_counts(db)
    assert counts["service"] >= 40 and counts["app_user"] == 5
    monkeypatch.setattr(demo, "load_demo", lambda *a, **k: pytest.fail("the demo was loaded a second time"))
    assert main(["init"]) == 0
    assert seeded(db) is db and queries.table_counts(db) == counts
    db.dispose()
