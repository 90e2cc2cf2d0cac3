"""Structured addresses: splitting the free text, on every way in (form, file, import), the
migration that splits existing addresses and reports those it cannot, and the report later."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from accounting.addresses import Address, electronic_address, split_address
from accounting.org import Member, Role
from app.cli import cli
from app.configuration import apply_configuration, dump_configuration, export_configuration
from app.migrate import upgrade
from imports.members import import_members
from imports.tabular import read_table


@pytest.mark.parametrize(
    ("text_", "expected"),
    [
        ("1 place du Pôle\n01600 Trévoux",
         Address(("1 place du Pôle",), "01600", "Trévoux", "FR")),
        ("Bâtiment B\n 12 rue Neuve \n\nF-69002 Lyon Cedex 02\nFrance",
         Address(("Bâtiment B", "12 rue Neuve"), "69002", "Lyon Cedex 02", "FR")),
        ("3 rue Haute\n1000 Bruxelles\nBelgique", None),  # a Belgian postcode has 4 digits
        ("Rue du Marché 5\n01000 Bruxelles\nBelgique",
         Address(("Rue du Marché 5",), "01000", "Bruxelles", "BE")),
        ("01600 Trévoux", None),  # no street line
        ("Mairie de Trévoux", None),
        ("a\nb\nc\nd\n01600 Trévoux", None),  # four street lines: CII has three
        ("", None),
    ],
)
def test_split_address(text_: str, expected: Address | None) -> None:
    assert split_address(text_) == expected


def test_electronic_address_defaults_to_0225_siren() -> None:
    assert electronic_address(None, "681036190") == ("0225", "681036190")
    assert electronic_address("0009:68103619000053", "681036190") == ("0009", "68103619000053")
    assert electronic_address(None, None) is None


def test_an_import_accepts_structured_columns_and_the_same_file_twice_changes_nothing(db) -> None:
    csv = (
        "Code;Nom;Date d'adhésion;Adresse;Code postal;Ville;Pays\n"
        "SCOP;SCOP du Port;2025-01-01;1 rue du Port;01600;Trévoux;FR\n"
        "ASSO;Asso du Val;2025-01-01;\"2 chemin Vert\n01090 Montmerle-sur-Saône\";;;\n"
    )
    first = import_members(db, read_table(csv.encode(), "adherents.csv"))
    assert first.created == 2
    members = {m.code: m for m in db.scalars(select(Member))}
    assert (members["SCOP"].address, members["SCOP"].postcode, members["SCOP"].city) == (
        "1 rue du Port", "01600", "Trévoux")
    # One text with the postcode line: split, and not « changed » when imported again.
    assert (members["ASSO"].address, members["ASSO"].postcode, members["ASSO"].city) == (
        "2 chemin Vert", "01090", "Montmerle-sur-Saône")
    again = import_members(db, read_table(csv.encode(), "adherents.csv"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_a_bad_country_code_is_refused_with_row_and_column(db) -> None:
    from imports.errors import ImportRefused

    csv = "Code;Nom;Date d'adhésion;Pays\nSCOP;SCOP du Port;2025-01-01;Frankreich\n"
    with pytest.raises(ImportRefused) as refused:
        import_members(db, read_table(csv.encode(), "adherents.csv"))
    assert "Ligne 2, colonne « Pays » : code pays « Frankreich » invalide" in str(refused.value)
    csv = "Code;Nom;Date d'adhésion;Pays\nSCOP;SCOP du Port;2025-01-01;Belgique\n"
    import_members(db, read_table(csv.encode(), "adherents.csv"))
    assert db.scalars(select(Member)).one().country_code == "BE"


CONFIG = """
version: 1
carrier:
  code: VH
  name: Association Val Horizon
  address: |
    1 place du Pôle
    01600 Trévoux
members:
  - code: SCOP
    name: SCOP du Port
    joined_on: 2025-01-01
    address: 1 rue du Port
    postcode: "01600"
    city: Trévoux
    country_code: FR
    electronic_address: "0225:681036190"
"""


def test_the_configuration_file_takes_both_forms_and_round_trips(db) -> None:
    apply_configuration(db, CONFIG)
    text_ = dump_configuration(export_configuration(db))
    assert "postcode: '01600'" in text_ or 'postcode: "01600"' in text_
    member = db.scalars(select(Member)).one()
    assert member.electronic_address == "0225:681036190"
    assert apply_configuration(db, text_).changes == 0
    assert apply_configuration(db, CONFIG).changes == 0


def test_the_migration_splits_addresses_and_reports_those_it_cannot(
    fresh_db_url: str, capsys, runner, tmp_path: Path
) -> None:
    upgrade(fresh_db_url, revision="0007_fiscal_year")
    engine = create_engine(fresh_db_url)
    with engine.begin() as conn:
        for code, address in (("OK", "8 chemin des Jardins\n01600 Trévoux"),
                              ("FLOU", "Maison des associations, Trévoux")):
            conn.execute(text(
                "INSERT INTO members (code, name, legal_form, address, joined_on) "
                "VALUES (:c, :n, '', :a, '2025-01-01')"), {"c": code, "n": code, "a": address})
    upgrade(fresh_db_url)
    printed = capsys.readouterr().out
    assert "Addresses not split" in printed
    assert "members FLOU: 'Maison des associations, Trévoux'" in printed
    assert "members OK" not in printed
    with engine.connect() as conn:
        rows = dict(conn.execute(text(
            "SELECT code, address || '|' || COALESCE(postcode, '') || '|' || COALESCE(city, '')"
            " || '|' || country_code FROM members")).all())
    engine.dispose()
    assert rows == {"OK": "8 chemin des Jardins|01600|Trévoux|FR",
                    "FLOU": "Maison des associations, Trévoux|||FR"}


def test_the_addresses_command_and_page_list_what_lacks_a_postcode(
    db, make_member, runner, client, login_as
) -> None:
    make_member("FLOU", address="Maison des associations")
    make_member("NET", address="1 rue Nette\n01600 Trévoux")
    result = runner.invoke(cli, ["addresses"])
    assert result.exit_code == 1
    assert "adhérent\tFLOU" in result.output and "NET" not in result.output
    login_as(Role.ADMIN)
    page = client.get("/admin/adresses").get_data(as_text=True)
    assert "FLOU" in page and "NET" not in page
