"""Importing other time trackers' detailed exports (Toggl Track, Clockify, Harvest) from the
real sample files, an unknown layout, physical line numbers, and ``--map`` on the CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cli import cli
from imports import timesheets as ts_import
from imports.errors import ImportRefused
from imports.timesheets import ACTIVITY_SEPARATOR, save_mapping
from timesheets.models import MappingKind, WorkEntry

SAMPLES = Path(__file__).parent.parent / "data" / "samples" / "timesheets"

HARVEST_HEADER = (
    "Date,Client,Project,Project Code,Task,Notes,Hours,Hours Rounded,Billable?,Invoiced?,"
    "Approved?,First Name,Last Name,Roles,Employee?,Billable Rate,Billable Amount,Cost Rate,"
    "Cost Amount,Currency,External Reference URL"
)


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _entries(db):
    return db.execute(
        select(
            WorkEntry.day,
            WorkEntry.minutes,
            WorkEntry.member_id,
            WorkEntry.service_id,
            WorkEntry.activity_id,
            WorkEntry.note,
            WorkEntry.staff_id,
        ).order_by(WorkEntry.id)
    ).all()


def _map(db, customer, member, project, service, tasks=(), activity=None):
    save_mapping(db, MappingKind.CUSTOMER, customer, member.id if member else None)
    save_mapping(db, MappingKind.PROJECT, project, service.id)
    for task in tasks:
        save_mapping(db, MappingKind.ACTIVITY, f"{project}{ACTIVITY_SEPARATOR}{task}", activity.id)


def test_a_toggl_export_with_a_bom_and_a_zero_duration_line(db, cluster, make_user):
    peter = make_user(email="peter.test@email.test")
    _map(
        db,
        "Big Company",
        cluster.a,
        "Project for Big Company",
        cluster.compta,
        ["Task 1"],
        cluster.bookkeeping,
    )
    data = _sample("toggl/solidtime__toggl_time_entries_import_test_1.csv")
    report = ts_import.import_file(db, cluster.admin, data, "toggl.csv")
    assert (report.format, report.format_label, report.added) == ("toggl", "export Toggl Track", 1)
    # Line 2 is a timer stopped at once (00:00:00): set aside, said in a warning.
    assert [(w.row, w.column) for w in report.warnings] == [(2, "Duration")]
    assert "Durée nulle" in report.warnings[0].message
    # 01:00:01 is 60 minutes (seconds rounded half-up).
    assert _entries(db) == [
        (
            date(2024, 3, 4),
            60,
            cluster.a.id,
            cluster.compta.id,
            cluster.bookkeeping.id,
            "Working hard",
            peter.id,
        )
    ]


def test_toggl_durations_written_as_12_hour_clock_times(db, cluster, make_user):
    make_user(email="harry@tuttle.com")
    save_mapping(db, MappingKind.CUSTOMER, "Sam Lowry", cluster.b.id)
    save_mapping(db, MappingKind.PROJECT, "#HeatingRepair", cluster.compta.id)
    save_mapping(db, MappingKind.PROJECT, "orga", cluster.dev.id)
    data = _sample("toggl/tuttle__test_time_tracking_toggl.csv")
    report = ts_import.import_file(db, cluster.admin, data, "toggl.csv")
    assert (report.format, report.added, report.warnings) == ("toggl", 29, [])
    rows = _entries(db)
    # « 02:00:00 AM » is 2 h; « 12:20:00 AM » is 20 min (line 12 of the file).
    assert rows[0][:2] == (date(2022, 1, 6), 120)
    assert rows[10][:2] == (date(2022, 1, 19), 20)
    by_service = dict(
        db.execute(
            select(WorkEntry.service_id, func.sum(WorkEntry.minutes)).group_by(WorkEntry.service_id)
        ).all()
    )
    # Summed by hand from the file: 20 #HeatingRepair lines, 9 orga lines.
    assert by_service == {cluster.compta.id: 1695, cluster.dev.id: 845}


def test_a_quoted_toggl_export_lists_its_unmapped_names(db, cluster, make_user):
    make_user(email="peter.test@email.test")
    data = _sample("toggl/solidtime__toggl_time_entries_import_test_2.csv")
    report = ts_import.analyse(db, cluster.admin, data, "toggl.csv")
    assert report.format == "toggl"
    # 00:00:02 rounds to no minute: the only line is set aside.
    assert [(w.row, w.column) for w in report.warnings] == [(2, "Duration")]
    assert report.candidates == []


def test_a_clockify_export_with_ambiguous_dates_is_read_month_first_and_says_so(
    db, cluster, make_user
):
    make_user(email="peter.test@email.test")
    _map(
        db,
        "Big Company",
        cluster.a,
        "Project for Big Company",
        cluster.compta,
        ["Task 1"],
        cluster.payroll,
    )
    data = _sample("clockify/solidtime__clockify_time_entries_import_test_1.csv")
    report = ts_import.import_file(db, cluster.admin, data, "clockify.csv")
    assert (report.format, report.format_label, report.added) == ("clockify", "export Clockify", 1)
    assert [(w.row, w.column) for w in report.warnings] == [
        (1, "Start Date"),
        (2, "Duration (h)"),
    ]
    assert "mois d'abord" in report.warnings[0].message
    assert _entries(db)[0][:5] == (
        date(2024, 3, 4),
        60,
        cluster.a.id,
        cluster.compta.id,
        cluster.payroll.id,
    )


def test_a_newer_clockify_export_whose_dates_say_month_first(db, cluster, make_user):
    make_user(email="peter.test@email.test")
    _map(
        db,
        "Real World Client",
        None,
        "Real World Project",
        cluster.compta,
        ["A giant task"],
        cluster.bookkeeping,
    )
    data = _sample("clockify/solidtime__clockify_time_entries_import_test_2.csv")
    report = ts_import.import_file(db, cluster.admin, data, "clockify.csv")
    assert (report.format, report.added, report.warnings) == ("clockify", 1, [])
    day, minutes, member_id, _, _, note, _ = _entries(db)[0]
    # 10/15/2024: 15 is no month, so the file is month first; the client is common work.
    assert (day, minutes, member_id) == (date(2024, 10, 15), 30, None)
    assert note.startswith("\\\\ 🔥 Special characters")


def test_a_clockify_export_with_day_first_dates(db, cluster, make_user):
    make_user(email="lea@test.fr")
    _map(db, "Alpha", cluster.a, "Compta", cluster.compta)
    header = (
        '"Project","Client","Description","Task","User","Group","Email","Tags","Billable",'
        '"Start Date","Start Time","End Date","End Time","Duration (h)","Duration (decimal)",'
        '"Billable Rate (EUR)","Billable Amount (EUR)"'
    )
    line = (
        '"Compta","Alpha","Saisie","","Léa","","lea@test.fr","","Yes","{day}","14:00:00",'
        '"{day}","15:02:00","01:02:00","1.03","0.00","0.00"'
    )
    data = "\n".join([header, line.format(day="05/03/2026"), line.format(day="13/03/2026")])
    report = ts_import.import_file(db, cluster.admin, data.encode(), "clockify.csv")
    assert report.warnings == []
    assert [row[:2] for row in _entries(db)] == [(date(2026, 3, 5), 62), (date(2026, 3, 13), 62)]


def _harvest(*lines: str) -> bytes:
    return ("\r\n".join([HARVEST_HEADER, *lines]) + "\r\n").encode()


def test_a_harvest_export_by_person_name_with_decimal_hours(db, cluster, make_user):
    lea = make_user(email="lea.martin@test.fr")
    lea.name = "Léa Martin"
    _map(db, "Alpha", cluster.a, "Comptabilité 2026", cluster.compta)
    data = _harvest(
        "2026-03-02,Alpha,Comptabilité 2026,C26,Tenue comptable,Saisie des achats,1.5,1.5,"
        "Yes,No,Yes,Léa,Martin,Comptable,Yes,0,0,0,0,EUR,",
        '2026-03-03,Alpha,Comptabilité 2026,C26,,"TVA",0.25,0.25,'
        "Yes,No,Yes,Léa,Martin,Comptable,Yes,0,0,0,0,EUR,",
    )
    report = ts_import.import_file(db, cluster.admin, data, "harvest_time_report.csv")
    assert (report.format, report.format_label, report.added) == ("harvest", "export Harvest", 2)
    assert _entries(db) == [
        (
            date(2026, 3, 2),
            90,
            cluster.a.id,
            cluster.compta.id,
            cluster.bookkeeping.id,
            "Saisie des achats",
            lea.id,
        ),
        (date(2026, 3, 3), 15, cluster.a.id, cluster.compta.id, None, "TVA", lea.id),
    ]


def test_an_unknown_person_of_a_harvest_export_is_listed_to_map(db, cluster):
    _map(db, "Alpha", cluster.a, "Compta", cluster.compta)
    data = _harvest(
        "2026-03-02,Alpha,Compta,,,Saisie,1,1,Yes,No,Yes,Jean,Inconnu,,Yes,0,0,0,0,EUR,"
    )
    report = ts_import.analyse(db, cluster.admin, data, "harvest.csv")
    assert [(u.kind, u.shown, u.lines) for u in report.unmapped] == [
        (MappingKind.USER, "Jean Inconnu", [2])
    ]


def test_an_unknown_layout_names_the_recognised_formats(db, cluster):
    data = b"Tag,Zeit,Wer,Kunde\n2026-03-02,1:00,lea,Alpha\n"
    with pytest.raises(ImportRefused) as caught:
        ts_import.import_file(db, cluster.admin, data, "export.csv")
    (error,) = caught.value.errors
    assert error.row == 1
    assert error.message.startswith("Format non pris en charge")
    for label in (
        "export Toggl Track",
        "export Clockify",
        "export Harvest",
        "export Kimai",
        "modèle Mutualise",
    ):
        assert label in error.message
    assert "Datum" not in error.message


def test_a_template_missing_one_column_still_names_that_column(db, cluster):
    data = "Date;Intervenant;Adhérent;Service\n05/03/2026;compta@test.fr;A;COMPTA\n".encode()
    with pytest.raises(ImportRefused) as caught:
        ts_import.import_file(db, cluster.admin, data, "saisies.csv")
    assert [(e.row, e.column) for e in caught.value.errors] == [(1, "duration")]


def test_line_numbers_are_physical_after_a_multi_line_description(db, cluster):
    header = "Date;Intervenant;Adhérent;Service;Durée;Commentaire"
    data = (
        f"{header}\r\n"
        '05/03/2026;compta@test.fr;A;COMPTA;1h;"Bilan :\r\n- achats\r\n- ventes"\r\n'
        "06/03/2026;compta@test.fr;A;COMPTA;abc;suite\r\n"
    ).encode()
    with pytest.raises(ImportRefused) as caught:
        ts_import.import_file(db, cluster.admin, data, "saisies.csv")
    # The description spans lines 2 to 4: the bad duration is on line 5 in a text editor.
    assert [(e.row, e.column) for e in caught.value.errors] == [(5, "Durée")]


TOGGL_LINE = (
    "Léa,compta@test.fr,{client},Compta,,Saisie,No,2026-03-05,09:00:00,2026-03-05,"
    "10:30:00,01:30:00,"
)
TOGGL_HEADER = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,"
    "End time,Duration,Tags"
)


def test_the_cli_maps_a_customer_with_map_and_remembers_it(runner, db, cluster, tmp_path):
    save_mapping(db, MappingKind.PROJECT, "Compta", cluster.compta.id)
    db.commit()
    path = tmp_path / "toggl.csv"
    path.write_text(
        "\n".join(
            [
                TOGGL_HEADER,
                TOGGL_LINE.format(client="Client X"),
                TOGGL_LINE.format(client="Interne"),
            ]
        ),
        encoding="utf-8",
    )
    args = ["import", "timesheets", str(path), "--user", "admin@test.fr"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert 'add --map "Client X=CODE"' in result.output
    assert "ci-dessous" not in result.output
    result = runner.invoke(cli, [*args, "--map", "Client X=a", "--map", "Interne="])
    assert result.exit_code == 0, result.output
    assert "export Toggl Track, 2 lines" in result.output
    assert db.execute(
        select(WorkEntry.member_id, WorkEntry.minutes).order_by(WorkEntry.id)
    ).all() == [(cluster.a.id, 90), (None, 90)]
    # Saved: the next export of the same tool needs no option.
    path.write_text(
        "\n".join([TOGGL_HEADER, TOGGL_LINE.format(client="Client X").replace("03-05", "03-06")]),
        encoding="utf-8",
    )
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output


def test_a_map_option_naming_no_member_changes_nothing(runner, db, cluster, tmp_path):
    path = tmp_path / "toggl.csv"
    path.write_text("\n".join([TOGGL_HEADER, TOGGL_LINE.format(client="Client X")]))
    result = runner.invoke(
        cli,
        ["import", "timesheets", str(path), "--user", "admin@test.fr", "--map", "Client X=ZZ"],
    )
    assert result.exit_code == 2
    assert "no member with the code 'ZZ'" in result.output
    assert db.scalar(select(func.count()).select_from(WorkEntry)) == 0
