"""Keys in the configuration file: services[].keys and services[].overheads_by."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from accounting.allocation.models import AllocationKey
from accounting.org import Service
from accounting.periods import close_period, get_or_create_period
from app.configuration import (
    ConfigRefused,
    apply_configuration,
    export_configuration,
    load_extensions,
)

YAML = """
services:
  - code: COMPTA
    name: Comptabilité / gestion
    keys:
      - {from: 2026-01-01, key: "25 % equal + 75% hours", agreed_on: 2025-12-12,
         agreed_by: Réunion mensuelle}
      - {from: 2026-07-01, key: "hours, common_by=equal"}
  - code: FRAIS
    name: Frais de structure
    overheads_by: hours
"""


@pytest.fixture(autouse=True)
def _extensions():
    load_extensions()


def versions(db, code):
    service = db.scalars(select(Service).where(Service.code == code)).one()
    return [
        (k.valid_from, k.text, k.agreed_on, k.agreed_by)
        for k in db.scalars(select(AllocationKey).where(AllocationKey.service_id == service.id)
                            .order_by(AllocationKey.valid_from))
    ]


def test_keys_from_the_file_are_stored_in_canonical_text_and_applying_twice_changes_nothing(db):
    apply_configuration(db, YAML)
    assert versions(db, "COMPTA") == [
        (date(2026, 1, 1), "25% equal + 75% hours", date(2025, 12, 12), "Réunion mensuelle"),
        (date(2026, 7, 1), "hours, common_by=equal", None, ""),
    ]
    assert db.scalars(select(Service.overheads_by).where(Service.code == "FRAIS")).one() == "hours"
    assert apply_configuration(db, YAML).changes == 0


def test_a_bad_key_in_the_file_names_its_path_line_and_character(db):
    bad = YAML.replace('"hours, common_by=equal"', '"hours, common_by=turnover"')
    with pytest.raises(ConfigRefused) as caught:
        apply_configuration(db, bad)
    (error,) = caught.value.errors
    assert error.path == "services[0].keys[1].key"
    assert error.line == 8
    assert "Base inconnue « turnover »" in error.message and "caractère 18" in error.message


def test_the_file_cannot_rewrite_a_closed_period(db):
    apply_configuration(db, YAML)
    close_period(db, get_or_create_period(db, "2026-01"))
    changed = YAML.replace('"25 % equal + 75% hours"', '"equal"')
    with pytest.raises(ConfigRefused, match="ne réécrit pas le passé"):
        apply_configuration(db, changed)
    assert versions(db, "COMPTA")[0][1] == "25% equal + 75% hours"


def test_keys_are_exported_as_they_are_written(db):
    apply_configuration(db, YAML)
    services = {s["code"]: s for s in export_configuration(db)["services"]}
    assert services["COMPTA"]["keys"] == [
        {"from": date(2026, 1, 1), "key": "25% equal + 75% hours",
         "agreed_on": date(2025, 12, 12), "agreed_by": "Réunion mensuelle"},
        {"from": date(2026, 7, 1), "key": "hours, common_by=equal"},
    ]
    assert "keys" not in services["FRAIS"]
