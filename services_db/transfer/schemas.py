"""The JSON schemas (Open Referral UK, 360Giving) copied into data/schemas/ with their licences, with their web `$ref`s
resolved to the local copies: validation needs no network and nothing outside the repository."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from services_db.db import PROJECT_ROOT

SCHEMA_DIR = Path(os.environ.get("SERVICES_DB_SCHEMA_DIR", PROJECT_ROOT / "data" / "schemas"))


@cache
def _registry() -> Registry:
    resources = []
    for path in SCHEMA_DIR.glob("*/*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        res = Resource.from_contents(doc, default_specification=DRAFT7)
        names = {doc.get("$id"), doc.get("id")}
        if path.parent.name == "openreferral-uk":
            names.add(f"https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/compiled/{path.name}")
            names.add(f"https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/{path.name}")
        else:
            for v in ("1.4.0", "1.4.1", "1.4.2", "1.4.3"):
                names.add(f"https://raw.githubusercontent.com/ThreeSixtyGiving/standard/{v}/schema/{path.name}")
        resources.extend((n, res) for n in names if n)
    return Registry().with_resources(resources)


def schema(folder: str, name: str) -> dict:
    return json.loads((SCHEMA_DIR / folder / name).read_text(encoding="utf-8"))


def validator(folder: str, name: str) -> Draft7Validator:
    """A validator with format checking on (360Giving's awardDate oneOf needs it)."""
    return Draft7Validator(schema(folder, name), registry=_registry(), format_checker=FormatChecker())


def errors(folder: str, name: str, document) -> list[str]:
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator(folder, name).iter_errors(document)]
