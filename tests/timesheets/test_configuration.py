"""Activities and unit types in the configuration file (services[].activities/unit_types)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.configuration import (
    ConfigRefused,
    apply_configuration,
    dump_configuration,
    export_configuration,
)
from timesheets.models import Activity, UnitType

YAML = """
version: 1
services:
  - code: COMPTA
    name: Comptabilité / gestion
    activities: [Tenue comptable, Paie, Déclaration de TVA]
    unit_types:
      - {name: Écriture, weight: 1}
      - {name: Bulletin de paie, weight: 5}
      - {name: Clôture annuelle, weight: 50}
"""


def test_the_file_creates_then_updates_and_deactivates_never_deletes(db):
    apply_configuration(db, YAML)
    assert sorted(db.scalars(select(Activity.name))) == [
        "Déclaration de TVA",
        "Paie",
        "Tenue comptable",
    ]
    assert db.scalar(select(UnitType.weight).where(UnitType.name == "Clôture annuelle")) == Decimal(
        50
    )
    apply_configuration(
        db, YAML.replace(", Déclaration de TVA", "").replace("weight: 5", "weight: 4.5")
    )
    rows = dict(db.execute(select(Activity.name, Activity.active)).all())
    assert rows == {"Déclaration de TVA": False, "Paie": True, "Tenue comptable": True}
    assert db.scalar(select(UnitType.weight).where(UnitType.name == "Bulletin de paie")) == Decimal(
        "4.5"
    )
    exported = next(s for s in export_configuration(db)["services"] if s["code"] == "COMPTA")
    assert exported["activities"] == ["Tenue comptable", "Paie"]
    assert exported["unit_types"][1] == {"name": "Bulletin de paie", "weight": "4.5"}


def test_the_export_writes_weights_as_plain_decimals(db):
    apply_configuration(db, YAML.replace("weight: 50", "weight: 40").replace("weight: 5}",
                                                                           "weight: 2.50}"))
    text = dump_configuration(export_configuration(db))
    # 40 stored as 40.000 would be "4E+1" once normalised: the file says 40, 2.5 and 1.
    assert "E+" not in text
    assert "- name: Écriture\n    weight: '1'\n" in text
    assert "- name: Bulletin de paie\n    weight: '2.5'\n" in text
    assert "- name: Clôture annuelle\n    weight: '40'\n" in text
    apply_configuration(db, text)  # and it reads back to the same weights
    weights = dict(db.execute(select(UnitType.name, UnitType.weight)).tuples().all())
    assert weights == {"Écriture": 1, "Bulletin de paie": Decimal("2.5"),
                       "Clôture annuelle": 40}


@pytest.mark.parametrize(
    ("replace", "path"),
    [
        ("weight: 5", "weight: -1"),
        ("[Tenue comptable, Paie,", "[Paie, Paie,"),
        ("{name: Écriture, weight: 1}", "{weight: 1}"),
    ],
)
def test_bad_entries_are_refused_with_their_path(db, replace, path):
    with pytest.raises(ConfigRefused) as caught:
        apply_configuration(
            db,
            YAML.replace(*replace) if isinstance(replace, tuple) else YAML.replace(replace, path),
        )
    assert "services[0]" in str(caught.value)


def test_service_config_gives_weights_without_exponent(db, make_service):
    """Stored with three places, 40 normalises to 4E+1 and 100 to 1E+2: the strings handed to
    the export must read as people wrote them."""
    from timesheets.settings import apply_service_config, service_config

    service = make_service("TEST")
    weights = ["40", "100", "0.5", "1.25"]
    apply_service_config(
        db, service.id, {"unit_types": [{"name": f"U{w}", "weight": w} for w in weights]}
    )
    assert [u["weight"] for u in service_config(db, service.id)["unit_types"]] == weights
