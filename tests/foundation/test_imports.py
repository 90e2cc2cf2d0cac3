"""Importing members and their yearly figures: good files (CSV and XLSX, French and English
headers), every kind of bad file (refused whole, row and column named, nothing written), and
the same file twice (nothing changes, and the result says so)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.audit import AuditEvent
from accounting.org import Member, MemberFigures
from app.cli import cli
from app.demo.synthetic import fake_siret
from imports.errors import ImportRefused
from imports.figures import import_figures
from imports.members import ImportResult, import_members
from imports.tabular import read_table

SIRET_1, SIRET_2, SIRET_3 = fake_siret(101), fake_siret(102), fake_siret(103)

MEMBERS_FR = (
    "Code;Nom;Forme juridique;SIRET;N° TVA;Adresse;Email de facturation;Date d'adhésion;"
    "Date de sortie\r\n"
    f"aidvs;A.I.D.V.S.;Entreprise d'insertion;{SIRET_1};;8 chemin des Jardins;"
    "compta@aidvs.example;01/01/2024;\r\n"
    f"SVP;Saône Vallée Proximité;SCOP;{SIRET_2};FR18352862528;;;2024-01-01;31/12/2025\r\n"
)


def _table(text: str, name: str = "adherents.csv"):
    return read_table(text.encode("utf-8"), name)


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def _events(db: Session, object_type: str, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.object_type == object_type)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.scalars(query.order_by(AuditEvent.id)))


def test_a_members_file_with_french_headers_creates_the_members_and_audits_them(db) -> None:
    result = import_members(db, _table(MEMBERS_FR))
    assert result == ImportResult(created=2, updated=0, unchanged=0)
    aidvs = db.scalars(select(Member).where(Member.code == "AIDVS")).one()
    assert aidvs.name == "A.I.D.V.S."
    assert aidvs.siret == SIRET_1
    assert aidvs.siren == SIRET_1[:9]
    assert aidvs.joined_on == date(2024, 1, 1)
    assert aidvs.left_on is None
    assert aidvs.vat_number is None
    svp = db.scalars(select(Member).where(Member.code == "SVP")).one()
    assert svp.left_on == date(2025, 12, 31)
    assert svp.vat_number == "FR18352862528"
    assert [e.object_id for e in _events(db, "members", "create")] == [str(aidvs.id), str(svp.id)]
    (summary,) = _events(db, "members", "import")
    assert summary.after == {"file": "adherents.csv", "created": 2, "updated": 0, "unchanged": 0}


def test_the_same_members_file_twice_changes_nothing_and_says_so(db) -> None:
    import_members(db, _table(MEMBERS_FR))
    events = _count(db, AuditEvent)
    result = import_members(db, _table(MEMBERS_FR))
    assert result == ImportResult(created=0, updated=0, unchanged=2)
    assert not result.changed
    assert result.summary_fr("adhérent") == (
        "Rien à modifier : les 2 adhérents du fichier sont déjà à jour."
    )
    assert _count(db, Member) == 2
    assert _count(db, AuditEvent) == events


def test_a_changed_row_updates_only_that_member_and_records_before_and_after(db) -> None:
    import_members(db, _table(MEMBERS_FR))
    result = import_members(db, _table(MEMBERS_FR.replace("Saône Vallée Proximité", "SVP Scop")))
    assert result == ImportResult(created=0, updated=1, unchanged=1)
    (update,) = _events(db, "members", "update")
    assert update.before == {"name": "Saône Vallée Proximité"}
    assert update.after == {"name": "SVP Scop"}


def test_an_absent_column_leaves_the_field_alone_and_an_empty_cell_clears_it(db) -> None:
    import_members(db, _table(MEMBERS_FR))
    import_members(db, _table("code,name,joined_on\nSVP,Saône Vallée Proximité,2024-01-01\n"))
    svp = db.scalars(select(Member).where(Member.code == "SVP")).one()
    assert svp.siret == SIRET_2  # no siret column: untouched
    import_members(
        db, _table("code,name,joined_on,left_on\nSVP,Saône Vallée Proximité,2024-01-01,\n")
    )
    db.refresh(svp)
    assert svp.left_on is None  # empty cell: cleared


def test_an_xlsx_file_with_english_headers_and_date_cells_is_read(db) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["code", "name", "legal_form", "siret", "joined_on"])
    sheet.append(["TREMPLIN", "Tremplin", "Association", SIRET_3, date(2024, 1, 1)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_members(db, read_table(buffer.getvalue(), "members.xlsx"))
    assert result.created == 1
    member = db.scalars(select(Member).where(Member.code == "TREMPLIN")).one()
    assert (member.siret, member.joined_on) == (SIRET_3, date(2024, 1, 1))


BAD_MEMBER_FILES = [
    pytest.param(
        "Nom;Date d'adhésion\r\nX;2024-01-01\r\n",
        [(1, "code", "Colonne obligatoire absente")],
        id="missing column",
    ),
    pytest.param(
        "code;name;joined_on;couleur\r\nA;X;2024-01-01;bleu\r\n",
        [(1, "couleur", "Colonne inconnue.")],
        id="unknown column",
    ),
    pytest.param(
        "code;name;siret;joined_on\r\nA;X;12345678901234;2024-01-01\r\n",
        [(2, "siret", "SIRET invalide : « 12345678901234 »")],
        id="bad siret",
    ),
    pytest.param(
        f"code;name;siret;joined_on\r\nA;X;{SIRET_1};2024-01-01\r\na;Y;{SIRET_2};2024-01-01\r\n",
        [(3, "code", "Code « A » en double (déjà ligne 2).")],
        id="duplicate codes",
    ),
    pytest.param(
        "code;name;joined_on;left_on\r\nA;X;2024-05-01;2024-04-30\r\nB!;;31/02/2024;\r\n",
        [
            (2, "left_on", "La date de sortie (30/04/2024) précède la date d'adhésion"),
            (3, "code", "Code « B! » invalide"),
            (3, "joined_on", "Date inexistante « 31/02/2024 »."),
            (3, "name", "Nom manquant."),
        ],
        id="dates and names",
    ),
    pytest.param(
        "code;name;billing_email;joined_on\r\nA;X;pas-une-adresse;2024-01-01\r\n",
        [(2, "billing_email", "Adresse e-mail invalide")],
        id="bad e-mail",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_MEMBER_FILES)
def test_a_bad_members_file_is_refused_whole_with_row_and_column(db, text, expected) -> None:
    with pytest.raises(ImportRefused) as refused:
        import_members(db, _table(text))
    found = [(e.row, e.column, e.message) for e in refused.value.errors]
    assert len(found) == len(expected), found
    for (row, column, message), (want_row, want_column, want_message) in zip(
        found, expected, strict=True
    ):
        assert (row, column) == (want_row, want_column)
        assert message.startswith(want_message), message
    assert _count(db, Member) == 0


def test_a_refused_file_writes_none_of_its_good_rows(db) -> None:
    text = (
        f"code;name;siret;joined_on\r\nBON;Bon;{SIRET_1};2024-01-01\r\nMAUVAIS;X;123;2024-01-01\r\n"
    )
    with pytest.raises(ImportRefused):
        import_members(db, _table(text))
    assert _count(db, Member) == 0
    assert _count(db, AuditEvent) == 0


def test_a_siret_held_by_another_member_is_refused(db, make_member) -> None:
    make_member("AUTRE", siret=SIRET_1)
    with pytest.raises(ImportRefused) as refused:
        import_members(db, _table(f"code;name;siret;joined_on\r\nNEW;X;{SIRET_1};2024-01-01\r\n"))
    assert refused.value.errors[0].message == f"SIRET {SIRET_1} déjà utilisé par l'adhérent AUTRE."


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "vide.csv", "Le fichier « vide.csv » est vide."),
        (b"code;name;joined_on\r\n", "entete.csv", "ne contient aucune ligne de données"),
        (bytes(range(256)) * 4, "binaire.csv", "n'est pas un fichier texte"),
        (b"PK\x03\x04not really a zip", "faux.csv", "n'est pas un vrai fichier Excel"),
    ],
    ids=["empty", "header only", "binary named .csv", "damaged zip named .csv"],
)
def test_files_that_are_not_tables_are_refused_with_a_french_message(data, name, message) -> None:
    with pytest.raises(ImportRefused) as refused:
        read_table(data, name)
    assert message in str(refused.value)


# ------------------------------------------------------------------------------ figures

FIGURES_FR = (
    "Adhérent;Année;Chiffre d'affaires;Effectif;Salariés en insertion;Bénévoles\r\n"
    "AIDVS;2025;170 000;6;;7\r\n"
    "SVP;2025;150000,50;14;;\r\n"
)


def test_figures_are_imported_and_a_blank_cell_stays_missing_never_zero(db) -> None:
    import_members(db, _table(MEMBERS_FR))
    result = import_figures(db, _table(FIGURES_FR, "chiffres.csv"))
    assert result == ImportResult(created=2, updated=0, unchanged=0)
    rows = {
        f.member.code: f
        for f in db.scalars(select(MemberFigures).order_by(MemberFigures.member_id))
    }
    assert rows["AIDVS"].revenue == Decimal("170000.00")
    assert rows["AIDVS"].headcount == Decimal("6.000")
    assert rows["AIDVS"].insertion_workers is None
    assert rows["AIDVS"].volunteers == 7
    assert rows["SVP"].revenue == Decimal("150000.50")
    assert rows["SVP"].volunteers is None
    assert len(_events(db, "member_figures", "create")) == 2


def test_the_same_figures_twice_change_nothing_and_a_new_value_updates_one_row(db) -> None:
    import_members(db, _table(MEMBERS_FR))
    import_figures(db, _table(FIGURES_FR))
    assert import_figures(db, _table(FIGURES_FR)) == ImportResult(unchanged=2)
    changed = FIGURES_FR.replace("SVP;2025;150000,50;14", "SVP;2025;150000,50;15")
    assert import_figures(db, _table(changed)) == ImportResult(updated=1, unchanged=1)
    (update,) = _events(db, "member_figures", "update")
    assert (update.before, update.after) == ({"headcount": "14.000"}, {"headcount": "15.000"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "member;year;revenue\r\nINCONNU;2025;1000\r\n",
            [(2, "member", "Adhérent « INCONNU » inconnu.")],
        ),
        ("member;year;revenue\r\nSVP;25;1000\r\n", [(2, "year", "Nombre trop petit")]),
        ("member;year;revenue\r\nSVP;2025;-3\r\n", [(2, "revenue", "Nombre négatif refusé")]),
        ("member;year;revenue\r\nSVP;2025;12,345\r\n", [(2, "revenue", "Trop de décimales")]),
        (
            "member;year;volunteers\r\nSVP;2025;2,5\r\n",
            [(2, "volunteers", "Nombre entier attendu")],
        ),
        (
            "member;year\r\nSVP;2025\r\nsvp;2025\r\n",
            [(3, "year", "Chiffres 2025 de SVP en double (déjà ligne 2).")],
        ),
        ("year;revenue\r\n2025;3\r\n", [(1, "member", "Colonne obligatoire absente")]),
    ],
    ids=[
        "unknown member",
        "bad year",
        "negative",
        "too many places",
        "not whole",
        "duplicate",
        "missing column",
    ],
)
def test_a_bad_figures_file_is_refused_whole(db, text, expected) -> None:
    import_members(db, _table(MEMBERS_FR))
    with pytest.raises(ImportRefused) as refused:
        import_figures(db, _table(text))
    found = [(e.row, e.column, e.message) for e in refused.value.errors]
    assert [(r, c) for r, c, _ in found] == [(r, c) for r, c, _ in expected]
    for (_, _, message), (_, _, want) in zip(found, expected, strict=True):
        assert message.startswith(want), message
    assert _count(db, MemberFigures) == 0


# ------------------------------------------------------------------------------ CLI


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_cli_imports_members_then_says_nothing_changed(runner, db, tmp_path) -> None:
    path = _write(tmp_path, "adherents.csv", MEMBERS_FR)
    first = runner.invoke(cli, ["import", "members", path])
    assert first.exit_code == 0, first.output
    assert "2 created, 0 updated, 0 unchanged (2 members)." in first.output
    second = runner.invoke(cli, ["import", "members", path])
    assert second.exit_code == 0
    assert "Nothing to change: the 2 members of the file are already up to date." in second.output
    figures = _write(tmp_path, "chiffres.csv", FIGURES_FR)
    assert runner.invoke(cli, ["import", "figures", figures]).exit_code == 0
    again = runner.invoke(cli, ["import", "figures", figures])
    assert "Nothing to change" in again.output
    assert _count(db, MemberFigures) == 2


def test_cli_refuses_a_bad_file_with_numbered_errors_on_stderr_and_exit_1(runner, db, tmp_path):
    path = _write(tmp_path, "adherents.csv", MEMBERS_FR.replace(SIRET_2, "12345678901234"))
    result = runner.invoke(cli, ["import", "members", path])
    assert result.exit_code == 1
    assert "Ligne 3, colonne « SIRET » : SIRET invalide : « 12345678901234 »" in result.stderr
    assert _count(db, Member) == 0


def test_cli_refuses_a_missing_or_binary_file(runner, db, tmp_path) -> None:
    missing = runner.invoke(cli, ["import", "figures", str(tmp_path / "absent.csv")])
    assert missing.exit_code == 1
    assert "Impossible d'ouvrir" in missing.stderr
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    result = runner.invoke(cli, ["import", "members", str(binary)])
    assert result.exit_code == 1
    assert "n'est pas un fichier texte" in result.stderr
