"""The findings record: the demo's findings for every area and the force at the seed dates are exactly the
committed JSON in tests/golden/. A deliberate change regenerates them (the command is in the failure message) and
the diff is read before committing."""

from pathlib import Path

import pytest

from services_db.queries import review_data
from services_db.review.golden import DATES, golden_files

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
REGENERATE = ".venv/bin/python -m services_db review --write-golden tests/golden"


@pytest.fixture(scope="module")
def produced(_demo_dbs) -> dict[str, str]:
    return golden_files(review_data(_demo_dbs["sqlite"]))


def test_the_record_covers_the_force_and_nine_areas_at_both_dates(produced):
    assert sorted({p.split("/")[0] for p in produced}) == list(DATES)
    assert len(produced) == 2 * (1 + 9)
    assert sorted(str(p.relative_to(GOLDEN)) for p in GOLDEN.glob("*/*.json")) == sorted(produced)


def test_findings_equal_the_committed_record(produced):
    changed = [rel for rel, text in produced.items()
               if not (GOLDEN / rel).exists() or (GOLDEN / rel).read_text(encoding="utf-8") != text]
    assert not changed, f"findings changed in {changed}; if deliberate, run `{REGENERATE}` and read the diff"
