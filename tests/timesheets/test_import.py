"""Importing timesheets: our template and Kimai exports, all-or-nothing, idempotent, and every
bad input of the issue."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from accounting.audit import AuditEvent
from accounting.periods import close_period, get_or_create_period
from imports import timesheets as ts_import
from imports.errors import ImportRefused
from timesheets import services
from timesheets.models import MappingKind, WorkEntry
from timesheets.services import EntryData

FR_HEADER = "Date;Intervenant;Adhérent;Service;Durée;Activité;Unité;Quantité;Commentaire"


def _csv(*lines, header=FR_HEADER, encoding="utf-8"):
    return ("\r\n".join([header, *lines]) + "\r\n").encode(encoding)


def _count(db):
    return db.scalar(select(func.count()).select_from(WorkEntry))


def _errors(db, user, data, filename="saisies.csv"):
    with pytest.raises(ImportRefused) as caught:
        ts_import.import_file(db, user, data, filename)
    assert _count(db) == 0, "a refused import wrote something"
    return [(e.row, e.column, e.message) for e in caught.value.errors]


def test_the_french_template_in_windows_1252_imports_every_line(db, cluster):
    data = _csv(
        "05/03/2026;compta@test.fr;A;COMPTA;1,5;Tenue comptable;;;Clôture",
        "2026-03-05;COMPTA@test.fr;;compta;1h30;;;;Travail commun",
        "06/03/2026;compta@test.fr;b;COMPTA;;paie;Bulletin de paie;12;",
        encoding="cp1252",
    )
    report = ts_import.import_file(db, cluster.admin, data, "saisies.csv")
    assert report.summary() == "3 saisies ajoutées."
    rows = db.execute(
        select(
            WorkEntry.day,
            WorkEntry.staff_id,
            WorkEntry.member_id,
            WorkEntry.minutes,
            WorkEntry.activity_id,
            WorkEntry.unit_type_id,
            WorkEntry.quantity,
            WorkEntry.note,
            WorkEntry.status,
        ).order_by(WorkEntry.id)
    ).all()
    assert rows == [
        (
            date(2026, 3, 5),
            cluster.accountant.id,
            cluster.a.id,
            90,
            cluster.bookkeeping.id,
            None,
            None,
            "Clôture",
            "draft",
        ),
        (
            date(2026, 3, 5),
            cluster.accountant.id,
            None,
            90,
            None,
            None,
            None,
            "Travail commun",
            "draft",
        ),
        (
            date(2026, 3, 6),
            cluster.accountant.id,
            cluster.b.id,
            0,
            cluster.payroll.id,
            cluster.payslip.id,
            Decimal("12.000"),
            "",
            "draft",
        ),
    ]
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert event.after == {
        "file": "saisies.csv",
        "format": "template",
        "added": 3,
        "already_imported": 0,
        "minutes": 180,
    }


def test_importing_the_same_file_twice_adds_nothing_and_says_so(db, cluster):
    data = _csv(
        "05/03/2026;compta@test.fr;A;COMPTA;1,5;;;;", "05/03/2026;compta@test.fr;A;COMPTA;1,5;;;;"
    )  # two identical lines are two entries
    assert ts_import.import_file(db, cluster.admin, data, "a.csv").added == 2
    again = ts_import.import_file(db, cluster.admin, data, "a.csv")
    assert again.added == 0
    assert again.summary() == (
        "Ce fichier a déjà été importé : ses 2 saisies sont déjà enregistrées, rien n'a été "
        "ajouté."
    )
    assert _count(db) == 2
    longer = _csv(
        "05/03/2026;compta@test.fr;A;COMPTA;1,5;;;;",
        "05/03/2026;compta@test.fr;A;COMPTA;1,5;;;;",
        "06/03/2026;compta@test.fr;A;COMPTA;2;;;;",
    )
    report = ts_import.import_file(db, cluster.admin, longer, "b.csv")
    assert (report.added, report.already) == (1, 2)
    assert report.summary() == "1 saisie ajoutée ; 2 déjà importées, ignorées."


def test_english_headers_in_an_xlsx_with_typed_cells(db, cluster):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        ["date", "staff", "member", "service", "duration", "activity", "unit type", "units", "note"]
    )
    sheet.append(
        [
            date(2026, 3, 5),
            "dev@test.fr",
            "A",
            "DEV",
            timedelta(hours=2, minutes=15),
            "Prospection",
            None,
            None,
            '=HYPERLINK("x")',
        ]
    )
    sheet["E2"].number_format = "[hh]:mm"
    sheet.append([date(2026, 3, 6), "dev@test.fr", None, "DEV", 1.25, None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = ts_import.import_file(db, cluster.admin, buffer.getvalue(), "saisies.xlsx")
    assert report.added == 2
    assert db.execute(
        select(WorkEntry.minutes, WorkEntry.member_id).order_by(WorkEntry.day)
    ).all() == [(135, cluster.a.id), (75, None)]


def test_a_dry_run_writes_nothing(db, cluster):
    report = ts_import.import_file(
        db,
        cluster.admin,
        _csv("05/03/2026;compta@test.fr;A;COMPTA;1,5;;;;"),
        "a.csv",
        dry_run=True,
    )
    assert report.summary() == "1 saisie sera ajoutée."
    assert _count(db) == 0


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("05/03/2026;compta@test.fr;A;COMPTA;0;;;;", "Durée", "supérieure à zéro"),
        ("05/03/2026;compta@test.fr;A;COMPTA;-1;;;;", "Durée", "négative"),
        ("05/03/2026;compta@test.fr;A;COMPTA;abc;;;;", "Durée", "Durée illisible « abc »"),
        ("05/03/2026;compta@test.fr;A;COMPTA;1e9;;;;", "Durée", "Durée illisible « 1e9 »"),
        ("05/03/2026;compta@test.fr;A;COMPTA;--;;;;", "Durée", "Durée illisible « -- »"),
        ("05/03/2026;compta@test.fr;A;COMPTA;25;;;;", "Durée", "plus de 24h"),
        ("05/03/2026;compta@test.fr;A;COMPTA;;;;;", "Durée", "Durée manquante"),
        ("31/02/2026;compta@test.fr;A;COMPTA;1;;;;", "Date", "Date inexistante"),
        ("05/03/2026;personne@test.fr;A;COMPTA;1;;;;", "Intervenant", "Intervenant inconnu"),
        ("05/03/2026;compta@test.fr;ZZ;COMPTA;1;;;;", "Adhérent", "Adhérent inconnu « ZZ »"),
        ("05/03/2026;compta@test.fr;A;XX;1;;;;", "Service", "Service inconnu « XX »"),
        (
            "05/03/2026;compta@test.fr;A;COMPTA;1;Danse;;;",
            "Activité",
            "Activité inconnue « Danse »",
        ),
        ("05/03/2026;compta@test.fr;A;COMPTA;1;Prospection;;;", "Activité", "Activité inconnue"),
        (
            "05/03/2026;compta@test.fr;A;COMPTA;1;;Pizza;3;",
            "Unité",
            "Unité d'œuvre inconnue « Pizza »",
        ),
        ("05/03/2026;compta@test.fr;A;COMPTA;1;;Écriture;;", "Quantité", "sans quantité"),
        ("05/03/2026;compta@test.fr;A;COMPTA;1;;;3;", "Unité", "sans unité"),
        ("05/03/2026;compta@test.fr;A;COMPTA;1;;Écriture;-2;", "Quantité", "négatif"),
        (
            "05/03/2026;compta@test.fr;L;COMPTA;1;;;;",
            "Adhérent",
            "n'était plus adhérent le 05/03/2026",
        ),
    ],
)
def test_each_bad_line_is_refused_with_its_line_column_and_reason(
    db, cluster, line, column, message
):
    good = "04/03/2026;compta@test.fr;A;COMPTA;1;;;;"
    errors = _errors(db, cluster.admin, _csv(good, line))
    assert len(errors) == 1, errors
    row, col, text = errors[0]
    assert (row, col) == (3, column)
    assert message in text


def test_every_bad_line_is_reported_not_only_the_first(db, cluster):
    errors = _errors(
        db,
        cluster.admin,
        _csv(
            "05/03/2026;compta@test.fr;A;COMPTA;abc;;;;",
            "05/03/2026;compta@test.fr;A;COMPTA;1;;;;",
            "xx;compta@test.fr;ZZ;COMPTA;1;;;;",
        ),
    )
    assert [(row, col) for row, col, _ in errors] == [(2, "Durée"), (4, "Adhérent"), (4, "Date")]


def test_a_date_in_a_closed_period_is_refused(db, cluster):
    close_period(db, get_or_create_period(db, "2026-03"))
    errors = _errors(db, cluster.admin, _csv("05/03/2026;compta@test.fr;A;COMPTA;1;;;;"))
    assert errors == [(2, "Date", "Le 05/03/2026 est dans une période clôturée : lecture seule.")]


def test_more_than_24_hours_a_day_counts_what_is_already_stored(db, cluster):
    services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, 600, cluster.a.id)
    )
    errors = _errors_after(
        db,
        cluster,
        _csv(
            "05/03/2026;compta@test.fr;A;COMPTA;8;;;;",
            "05/03/2026;compta@test.fr;B;COMPTA;6h30;;;;",
        ),
    )
    assert errors == [
        (
            2,
            "Durée",
            "Plus de 24 h le 05/03/2026 pour Utilisateur de test (24 h 30 au "
            "total avec ce qui est déjà saisi ; lignes 2, 3) : refusé.",
        )
    ]


def _errors_after(db, cluster, data):
    before = _count(db)
    with pytest.raises(ImportRefused) as caught:
        ts_import.import_file(db, cluster.admin, data, "x.csv")
    assert _count(db) == before
    return [(e.row, e.column, e.message) for e in caught.value.errors]


def test_more_than_12_hours_a_day_is_warned_but_imported(db, cluster):
    report = ts_import.import_file(
        db,
        cluster.admin,
        _csv(
            "05/03/2026;compta@test.fr;A;COMPTA;8;;;;", "05/03/2026;compta@test.fr;B;COMPTA;5;;;;"
        ),
        "x.csv",
    )
    assert report.added == 2
    assert [(w.row, w.message) for w in report.warnings] == [
        (2, "Attention : 13 h le 05/03/2026 pour Utilisateur de test (plus de 12 h ; lignes 2, 3).")
    ]


def test_a_member_accountant_imports_only_their_own_work_for_their_member(db, cluster):
    errors = _errors(
        db,
        cluster.member_accountant,
        _csv(
            "05/03/2026;ca@test.fr;A;COMPTA;1;;;;",
            "05/03/2026;ca@test.fr;B;COMPTA;1;;;;",
            "05/03/2026;ca@test.fr;;COMPTA;1;;;;",
            "05/03/2026;compta@test.fr;A;COMPTA;1;;;;",
        ),
    )
    assert [(row, col) for row, col, _ in errors] == [
        (3, "Adhérent"),
        (4, "Adhérent"),
        (5, "Intervenant"),
    ]
    assert "n'importe que le travail fait pour son adhérent" in errors[0][2]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "vide.csv", "est vide"),
        (b"Date;Intervenant\n", "entete.csv", "aucune ligne de données"),
        (b"pas un classeur", "faux.xlsx", "n'est pas un vrai fichier Excel"),
        (bytes(range(256)) * 4, "binaire.csv", "contenu binaire"),
        (b"Date;Qui\n05/03/2026;x\n", "colonnes.csv", "Format non pris en charge"),
    ],
)
def test_bad_files_are_refused_with_a_french_message(db, cluster, data, filename, message):
    errors = _errors(db, cluster.admin, data, filename)
    assert any(message in text for _, _, text in errors), errors


def test_a_file_above_the_size_limit_is_refused_before_reading(db, cluster):
    with pytest.raises(ImportRefused, match="trop volumineux"):
        ts_import.import_file(db, cluster.admin, b"x" * 2000, "gros.csv", max_bytes=1000)


def test_the_downloadable_templates_import_once_their_examples_are_real(db, cluster):
    for data, name in (
        (ts_import.template_csv(), "modele.csv"),
        (ts_import.template_xlsx(), "modele.xlsx"),
    ):
        report = ts_import.analyse(db, cluster.admin, data, name)
        assert report.format == "template"
        assert report.rows == 3
        # The example staff, member codes and activities do not exist here: refused, not crashed.
        assert report.errors


# ---------------------------------------------------------------- Kimai

KIMAI_HEADER = (
    'Date,From,To,Duration,Currency,Price,"Internal price","Hourly price",'
    '"Fixed price",Name,User,E-mail,"Staff number",Customer,Project,Activity,'
    'Description,Billable,Tags,Type,category,Account,"Project number",VAT-ID,'
    '"Order number"'
)


def _kimai_line(
    day="2026-03-05",
    duration="1:30",
    email="compta@test.fr",
    customer="Alpha",
    project="COMPTA",
    activity="Tenue comptable",
    description="Saisie",
):
    return (
        f'{day},09:00,10:30,{duration},EUR,0,0,0,0,Léa,lea,{email},,"{customer}",'
        f'"{project}","{activity}","{description}",1,,timesheet,work,,,,'
    )


def test_a_kimai_csv_matching_our_names_imports_directly(db, cluster):
    data = "\n".join(
        [
            KIMAI_HEADER,
            _kimai_line(),
            _kimai_line(duration="0:06", description="' =SUM(A1)"),
            _kimai_line(duration="0:06:40", customer="B"),
        ]
    ).encode()
    report = ts_import.import_file(db, cluster.admin, data, "20260331-kimai-export.csv")
    assert report.format == "kimai"
    assert report.added == 3
    rows = db.execute(
        select(
            WorkEntry.minutes,
            WorkEntry.member_id,
            WorkEntry.service_id,
            WorkEntry.activity_id,
            WorkEntry.note,
        ).order_by(WorkEntry.id)
    ).all()
    assert rows == [
        (90, cluster.a.id, cluster.compta.id, cluster.bookkeeping.id, "Saisie"),
        (6, cluster.a.id, cluster.compta.id, cluster.bookkeeping.id, "=SUM(A1)"),
        (7, cluster.b.id, cluster.compta.id, cluster.bookkeeping.id, "Saisie"),
    ]


def test_kimai_names_without_a_mapping_are_listed_once_each_then_mapped_and_saved(db, cluster):
    data = "\n".join(
        [
            KIMAI_HEADER,
            _kimai_line(
                customer="Val Horizon (asso)", project="Compta mutualisée", activity="Bilan"
            ),
            _kimai_line(
                customer="Val Horizon (asso)", project="Compta mutualisée", activity="Bilan"
            ),
            _kimai_line(customer="Interne", project="Développement", activity="Étude crèche"),
        ]
    ).encode()
    report = ts_import.analyse(db, cluster.admin, data, "k.csv")
    assert {(u.kind, u.shown, tuple(u.lines)) for u in report.unmapped} == {
        (MappingKind.CUSTOMER, "Val Horizon (asso)", (2, 3)),
        (MappingKind.CUSTOMER, "Interne", (4,)),
        (MappingKind.PROJECT, "Compta mutualisée", (2, 3)),
        (MappingKind.PROJECT, "Développement", (4,)),
    }
    assert any(
        "Client Kimai « Val Horizon (asso) » non associé à un adhérent ou au travail "
        "commun (lignes 2, 3)" in e.message
        for e in report.errors
    )
    ts_import.save_mapping(db, MappingKind.CUSTOMER, "Val Horizon (asso)", cluster.a.id)
    ts_import.save_mapping(db, MappingKind.CUSTOMER, "Interne", None)  # common work
    ts_import.save_mapping(db, MappingKind.PROJECT, "Compta mutualisée", cluster.compta.id)
    ts_import.save_mapping(db, MappingKind.PROJECT, "Développement", cluster.dev.id)
    report = ts_import.analyse(db, cluster.admin, data, "k.csv")
    assert {u.shown for u in report.unmapped} == {
        "Compta mutualisée › Bilan",
        "Développement › Étude crèche",
    }
    ts_import.save_mapping(
        db, MappingKind.ACTIVITY, "Compta mutualisée\x1fBilan", cluster.bookkeeping.id
    )
    ts_import.save_mapping(
        db, MappingKind.ACTIVITY, "Développement\x1fÉtude crèche", cluster.prospecting.id
    )
    with pytest.raises(ImportRefused, match="n'appartient pas"):
        ts_import.save_mapping(
            db, MappingKind.ACTIVITY, "Développement\x1fÉtude crèche", cluster.payroll.id
        )
    report = ts_import.import_file(db, cluster.admin, data, "k.csv")
    assert report.added == 3
    assert db.execute(
        select(WorkEntry.member_id, WorkEntry.service_id).order_by(WorkEntry.id)
    ).all() == [
        (cluster.a.id, cluster.compta.id),
        (cluster.a.id, cluster.compta.id),
        (None, cluster.dev.id),
    ]


def test_a_legacy_kimai_csv_with_seconds_and_a_totals_row(db, cluster):
    data = "\n".join(
        [
            '"Date","From","To","Duration","Rate","Internal rate","User","Name","Customer",'
            '"Project","Activity","Description","Exported","Tags","Hourly rate","Fixed rate"',
            '"2026-03-03","09:00","09:45","2700"," EUR 84.00 ","0","compta","Léa","A","COMPTA",'
            '"Paie","","Open","","",""',
            '"","","","2700","84","0","","","","","","","","","",""',
        ]
    ).encode()
    report = ts_import.import_file(db, cluster.admin, data, "export.csv")
    assert (report.format, report.rows, report.added) == ("kimai", 2, 1)
    assert db.execute(
        select(WorkEntry.minutes, WorkEntry.staff_id, WorkEntry.activity_id)
    ).one() == (45, cluster.accountant.id, cluster.payroll.id)


def test_a_kimai_xlsx_with_excel_dates_and_hour_durations(db, cluster):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "Date",
            "From",
            "To",
            "Duration",
            "Name",
            "User",
            "E-mail",
            "Customer",
            "Project",
            "Activity",
            "Description",
            "Billable",
        ]
    )
    sheet.append(
        [
            date(2026, 3, 5),
            "09:00",
            "11:00",
            timedelta(hours=2),
            "Léa",
            "lea",
            "dev@test.fr",
            "A",
            "DEV",
            "Prospection",
            "RDV",
            True,
        ]
    )
    sheet["D2"].number_format = "[hh]:mm"
    sheet.append([None, None, None, "=SUBTOTAL(9,D2:D2)"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = ts_import.import_file(db, cluster.admin, buffer.getvalue(), "export.xlsx")
    assert report.added == 1
    assert db.execute(select(WorkEntry.day, WorkEntry.minutes, WorkEntry.staff_id)).one() == (
        date(2026, 3, 5),
        120,
        cluster.developer.id,
    )


def test_a_kimai_export_with_an_unknown_email_and_a_bad_duration(db, cluster):
    data = "\n".join(
        [KIMAI_HEADER, _kimai_line(email="x@y.fr"), _kimai_line(duration="-0:06")]
    ).encode()
    errors = _errors(db, cluster.admin, data, "k.csv")
    assert [(row, col) for row, col, _ in errors] == [(2, "E-mail"), (3, "Duration")]


def _kimai_times(day, begin, end, duration=""):
    return (
        f"{day},{begin},{end},{duration},EUR,0,0,0,0,Léa,lea,compta@test.fr,,Alpha,COMPTA,"
        "Paie,,1,,timesheet,work,,,,"
    )


def test_kimai_lines_without_a_duration_take_it_from_their_start_and_end(db, cluster):
    data = "\n".join(
        [
            KIMAI_HEADER,
            _kimai_times("2026-03-02", "09:00", "10:30"),
            # Kimai has no end date: a To before the From ends the next morning.
            _kimai_times("2026-03-03", "22:09", "06:09"),
            _kimai_times("2026-03-04", "14:00:00", "14:06:40"),
            # A duration, when there is one, is what counts.
            _kimai_times("2026-03-05", "09:00", "10:30", duration="0:45"),
        ]
    ).encode()
    report = ts_import.import_file(db, cluster.admin, data, "kimai.csv")
    assert report.added == 4
    assert db.execute(select(WorkEntry.day, WorkEntry.minutes).order_by(WorkEntry.day)).all() == [
        (date(2026, 3, 2), 90),
        (date(2026, 3, 3), 480),
        (date(2026, 3, 4), 7),
        (date(2026, 3, 5), 45),
    ]


def test_kimai_lines_without_a_duration_and_bad_times_are_refused_with_their_column(db, cluster):
    data = "\n".join(
        [
            KIMAI_HEADER,
            _kimai_times("2026-03-02", "", "10:30"),
            _kimai_times("2026-03-03", "9h", "10:30"),
            _kimai_times("2026-03-04", "09:00", "25:00"),
            _kimai_times("2026-03-05", "09:00", "09:00"),
        ]
    ).encode()
    assert _errors(db, cluster.admin, data, "kimai.csv") == [
        (2, "Duration", "Durée manquante, et pas d'heures de début et de fin pour la calculer."),
        (3, "From", "Heure illisible « 9h » (format attendu 09:30)."),
        (4, "To", "Heure illisible « 25:00 » (format attendu 09:30)."),
        (5, "To", "La durée doit être supérieure à zéro (de 09:00 à 09:00)."),
    ]


def test_a_kimai_export_with_start_and_end_but_no_duration_column(db, cluster):
    data = (
        b"Date,From,To,User,E-mail,Customer,Project,Activity\n"
        b"2026-03-02,08:15,12:00,lea,compta@test.fr,A,COMPTA,Paie\n"
    )
    report = ts_import.import_file(db, cluster.admin, data, "kimai.csv")
    assert db.scalar(select(WorkEntry.minutes)) == 225
    assert report.format == "kimai"


def test_a_kimai_export_with_neither_duration_nor_times_is_refused(db, cluster):
    data = b"Date,User,E-mail,Customer,Project\n2026-03-02,lea,compta@test.fr,A,COMPTA\n"
    assert _errors(db, cluster.admin, data, "kimai.csv") == [
        (
            1,
            None,
            "Export Kimai sans colonne de durée (Duration) ni d'heures de début et de fin "
            "(From, To).",
        )
    ]
