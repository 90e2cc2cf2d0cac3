"""The filtered list, its totals, the exports (XLSX typed and guarded, CSV for Excel) and the
monthly summary with the share of common work."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from timesheets import services
from timesheets.export import (
    HEADERS,
    write_entries_csv,
    write_entries_xlsx,
    write_summary_csv,
    write_summary_xlsx,
)
from timesheets.listing import COMMON, EntryFilter, export_rows, list_entries, totals
from timesheets.services import EntryData
from timesheets.summaries import monthly_summary
from timesheets.summary_page import month_spans, summary_page


@pytest.fixture
def logged(db, cluster):
    """Five entries in March and April 2026, one of them units, one common."""
    c = cluster

    def log(user, day, minutes, member, service=None, activity=None, **extra):
        return services.create_entry(
            db,
            user,
            EntryData(
                day,
                (service or c.compta).id,
                minutes,
                member.id if member else None,
                activity.id if activity else None,
                **extra,
            ),
        ).entries[0]

    return [
        log(
            c.accountant,
            date(2026, 3, 2),
            90,
            c.a,
            activity=c.bookkeeping,
            note="=cmd|' /C calc'!A0",
        ),
        log(
            c.accountant,
            date(2026, 3, 3),
            30,
            c.b,
            activity=c.payroll,
            unit_type_id=c.payslip.id,
            quantity=Decimal("4"),
        ),
        log(c.accountant, date(2026, 3, 4), 60, None),
        log(c.developer, date(2026, 3, 4), 120, c.a, service=c.dev, activity=c.prospecting),
        log(
            c.accountant,
            date(2026, 4, 1),
            45,
            c.a,
            unit_type_id=c.entry_booked.id,
            quantity=Decimal("10"),
        ),
    ]


def test_the_list_filters_sorts_paginates_and_totals_the_whole_filtered_set(db, cluster, logged):
    march = EntryFilter(start=date(2026, 3, 1), end=date(2026, 3, 31))
    page = list_entries(db, cluster.admin, march, sort="-minutes", per_page=2)
    assert [row.minutes for row in page.rows] == [120, 90]
    assert (page.totals.count, page.totals.minutes, page.totals.units) == (4, 300, Decimal("20"))
    assert page.pages == 2
    second = list_entries(db, cluster.admin, march, sort="-minutes", per_page=2, page=2)
    assert [row.minutes for row in second.rows] == [60, 30]
    assert [
        r.minutes for r in list_entries(db, cluster.admin, EntryFilter(member=COMMON)).rows
    ] == [60]
    assert totals(db, cluster.admin, EntryFilter(staff_id=cluster.developer.id)).minutes == 120
    assert (
        totals(
            db, cluster.admin, EntryFilter(service_id=cluster.compta.id, member=cluster.a.id)
        ).count
        == 2
    )
    assert list_entries(db, cluster.admin, EntryFilter(), sort="nonsense").sort == "-day"


def test_filters_of_the_same_shape_each_get_their_own_values(db, cluster, logged):
    """The list's statements are built once per shape of filter: values never stick."""
    march = EntryFilter(start=date(2026, 3, 1), end=date(2026, 3, 31))
    april = EntryFilter(start=date(2026, 4, 1), end=date(2026, 4, 30))
    assert [r.minutes for r in list_entries(db, cluster.admin, march).rows] == [120, 60, 30, 90]
    assert [r.minutes for r in list_entries(db, cluster.admin, april).rows] == [45]
    assert totals(db, cluster.admin, april).units == Decimal("10") * cluster.entry_booked.weight
    of_a = list_entries(db, cluster.admin, EntryFilter(member=cluster.a.id))
    of_b = list_entries(db, cluster.admin, EntryFilter(member=cluster.b.id))
    assert (of_a.totals.count, of_b.totals.count) == (3, 1)
    assert [row[0] for row in export_rows(db, cluster.admin, april)] == [date(2026, 4, 1)]
    assert len(list(export_rows(db, cluster.admin, march))) == 4


def test_a_member_accountant_lists_only_their_member(db, cluster, logged):
    page = list_entries(db, cluster.member_accountant, EntryFilter())
    assert {row.member_id for row in page.rows} == {cluster.a.id}
    assert page.totals.count == 3
    assert list_entries(db, cluster.member_accountant, EntryFilter(member=COMMON)).totals.count == 0
    assert (
        list_entries(db, cluster.member_accountant, EntryFilter(member=cluster.b.id)).totals.count
        == 0
    )


def test_export_rows_read_at_once_or_streamed_are_the_same_rows_in_date_order(
    db, cluster, logged
):
    """Up to ``chunk`` rows the export is read in one go; beyond, it is streamed: the same
    rows either way, every one of them, in date order."""
    at_once = list(export_rows(db, cluster.admin, EntryFilter(), chunk=5000))
    streamed = list(export_rows(db, cluster.admin, EntryFilter(), chunk=2))
    exactly = list(export_rows(db, cluster.admin, EntryFilter(), chunk=5))
    assert at_once == streamed == exactly
    assert [(row[0], row[7]) for row in at_once] == [
        (date(2026, 3, 2), 90), (date(2026, 3, 3), 30), (date(2026, 3, 4), 60),
        (date(2026, 3, 4), 120), (date(2026, 4, 1), 45)]
    assert [row[11] for row in at_once] == ["Brouillon"] * 5
    mine = list(export_rows(db, cluster.member_accountant, EntryFilter(), chunk=1))
    assert [row[3] for row in mine] == [cluster.a.code] * 3


def test_the_xlsx_export_has_typed_cells_a_frozen_header_a_filter_and_totals(db, cluster, logged):
    buffer = io.BytesIO()
    count = write_entries_xlsx(export_rows(db, cluster.admin, EntryFilter()), buffer)
    assert count == 5
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M6"
    first = [c for c in sheet[2]]
    assert first[0].value == datetime(2026, 3, 2) and first[0].number_format == "DD/MM/YYYY"
    assert first[7].value == 1.5 and first[7].number_format == "0.00"
    assert first[8].value == 90
    # A note that would start a formula stays text.
    assert first[11].value == "=cmd|' /C calc'!A0" and first[11].data_type == "s"
    assert first[12].value == "Brouillon"
    units = [c.value for c in sheet[3]]
    assert units[9:11] == ["Bulletin de paie", 4]
    common = [c.value for c in sheet[4]]
    assert (common[3], common[4]) == (None, "Travail commun")
    assert [c.value for c in sheet[7]][:9] == [
        "Total",
        None,
        None,
        None,
        None,
        None,
        None,
        "=SUBTOTAL(9,H2:H6)",
        "=SUBTOTAL(9,I2:I6)",
    ]


def test_the_csv_export_is_for_french_excel_and_guards_formulas(db, cluster, logged):
    buffer = io.BytesIO()
    write_entries_csv(export_rows(db, cluster.admin, EntryFilter(end=date(2026, 3, 3))), buffer)
    data = buffer.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == ";".join(HEADERS)
    assert lines[1] == (
        "02/03/2026;Utilisateur de test;compta@test.fr;A;Alpha;COMPTA;Tenue comptable;1,50;90;;;"
        "'=cmd|' /C calc'!A0;Brouillon"
    )
    assert lines[2].endswith(";0,50;30;Bulletin de paie;4;;Brouillon")
    assert lines[3] == ""


def test_the_monthly_summary_weights_units_and_gives_the_share_of_common_work(db, cluster, logged):
    summary = monthly_summary(db, date(2026, 3, 1), date(2026, 4, 30))
    assert [
        (r.month_code, r.service_code, r.member_code, r.minutes, r.units) for r in summary.rows
    ] == [
        ("2026-03", "COMPTA", "A", 90, Decimal("0")),
        ("2026-03", "COMPTA", "B", 30, Decimal("20")),  # 4 payslips × weight 5
        ("2026-03", "COMPTA", "", 60, Decimal("0")),
        ("2026-03", "DEV", "A", 120, Decimal("0")),
        ("2026-04", "COMPTA", "A", 45, Decimal("10")),
    ]
    compta_march = summary.services[0]
    assert (compta_march.direct_minutes, compta_march.common_minutes) == (120, 60)
    assert compta_march.common_share == Decimal("33.33")  # 60 / 180
    assert summary.services[1].common_share == Decimal("0.00")
    scoped = monthly_summary(db, date(2026, 3, 1), date(2026, 3, 31), member_id=cluster.b.id)
    assert [(r.member_code, r.minutes) for r in scoped.rows] == [("B", 30)]


#: The rows of ``logged`` from March to April, in the summary's order (month, service, members
#: by code, common work last): minutes and weighted units written out by hand.
ALL_ROWS = [
    ("2026-03", "COMPTA", "A", 90, Decimal("0")),
    ("2026-03", "COMPTA", "B", 30, Decimal("20")),
    ("2026-03", "COMPTA", "", 60, Decimal("0")),
    ("2026-03", "DEV", "A", 120, Decimal("0")),
    ("2026-04", "COMPTA", "A", 45, Decimal("10")),
]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 10])
def test_the_summary_page_reads_one_page_and_the_totals_of_all(db, cluster, logged, size):
    start, end = date(2026, 3, 1), date(2026, 4, 30)
    seen = []
    for page in range(1, 12 // size + 2):
        result = summary_page(db, start, end, page=page, size=size)
        shown = [(r.month_code, r.service_code, r.member_code, r.minutes, r.units)
                 for r in result.rows]
        assert shown == ALL_ROWS[(page - 1) * size : page * size], (size, page)
        seen += shown
        assert result.row_count == 5
        assert result.total_minutes == 90 + 30 + 60 + 120 + 45
        assert result.total_units == 4 * 5 + 2 * 5  # payslips × weight 5
    assert seen == ALL_ROWS
    compta_march = result.services[0]
    assert (compta_march.direct_minutes, compta_march.common_minutes) == (120, 60)
    assert compta_march.common_share == Decimal("33.33")
    assert (compta_march.direct_units, compta_march.common_units) == (20, 0)
    assert [(s.month_code, s.service_code) for s in result.services] == [
        ("2026-03", "COMPTA"), ("2026-03", "DEV"), ("2026-04", "COMPTA")]


def test_the_summary_page_keeps_the_scope_and_the_service(db, cluster, logged):
    start, end = date(2026, 3, 1), date(2026, 4, 30)
    scoped = summary_page(db, start, end, page=1, size=10, member_id=cluster.b.id)
    assert [(r.member_code, r.minutes, r.units) for r in scoped.rows] == [
        ("B", 30, Decimal("20"))]
    assert (scoped.row_count, scoped.total_minutes, scoped.total_units) == (1, 30, 20)
    dev = summary_page(db, start, end, page=1, size=10, service_id=cluster.dev.id)
    assert [(r.service_code, r.member_code, r.minutes) for r in dev.rows] == [("DEV", "A", 120)]
    assert (dev.row_count, dev.total_minutes) == (1, 120)
    empty = summary_page(db, date(2026, 5, 1), date(2026, 6, 30), page=1, size=10)
    assert (empty.rows, empty.services, empty.row_count, empty.total_minutes) == ([], [], 0, 0)


def test_month_spans_clip_the_first_and_last_months():
    assert month_spans(date(2026, 1, 15), date(2026, 3, 2)) == [
        (date(2026, 1, 15), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 2)),
    ]
    assert month_spans(date(2026, 12, 1), date(2026, 12, 31)) == [
        (date(2026, 12, 1), date(2026, 12, 31))]
    assert month_spans(date(2026, 5, 2), date(2026, 5, 1)) == []


def test_the_summary_downloads(db, cluster, logged):
    summary = monthly_summary(db, date(2026, 3, 1), date(2026, 3, 31))
    buffer = io.BytesIO()
    write_summary_xlsx(summary, buffer)
    workbook = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert [c.value for c in workbook["Synthèse"][2]] == [
        "2026-03",
        "COMPTA",
        "A",
        "Alpha",
        1.5,
        90,
        0,
    ]
    assert [c.value for c in workbook["Travail commun"][2]][:5] == [
        "2026-03",
        "COMPTA",
        2,
        1,
        33.33,
    ]
    csv_buffer = io.BytesIO()
    write_summary_csv(summary, csv_buffer)
    assert (
        csv_buffer.getvalue().decode("utf-8-sig").split("\r\n")[2]
        == "2026-03;COMPTA;B;Bêta;0,50;30;20,000"
    )


def test_xlsx_text_that_openpyxl_would_read_as_an_error_or_a_formula_stays_text():
    row = (date(2026, 3, 2), "=HYPERLINK()", "e@x.fr", "A", "Alpha", "COMPTA", None, 60, None)
    rows = [(*row, None, note, "Brouillon") for note in ("#N/A", "+33 6 12 34 56 78", "ok")]
    buffer = io.BytesIO()
    write_entries_xlsx(rows, buffer)
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    assert [(c.value, c.data_type) for c in (sheet["L2"], sheet["L3"], sheet["L4"])] == [
        ("#N/A", "s"),
        ("+33 6 12 34 56 78", "s"),
        ("ok", "s"),
    ]
    assert (sheet["B2"].value, sheet["B2"].data_type, sheet["B2"].quotePrefix) == (
        "=HYPERLINK()",
        "s",
        True,
    )


def test_xlsx_long_texts_wrap_and_heighten_their_row_a_long_formula_text_stays_text():
    # The comment column is 22 wide: a text of more than 20 characters wraps, and a 40-letter
    # word cannot fit on one line of it, so its row is taller than the default 15 points.
    note = "=" + "x" * 39
    rows = [(date(2026, 3, 2), "Ana", "e@x.fr", "A", "Alpha", "COMPTA", None, 90, None, None,
             note, "Brouillon"),
            (date(2026, 3, 3), "Ana", "e@x.fr", "A", "Alpha", "COMPTA", None, 30, None, None,
             "court", "Brouillon")]
    buffer = io.BytesIO()
    assert write_entries_xlsx(rows, buffer) == 2
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    long, short = sheet["L2"], sheet["L3"]
    assert (long.value, long.data_type, long.quotePrefix, long.alignment.wrap_text) == (
        note, "s", True, True)
    assert (short.value, short.quotePrefix, bool(short.alignment.wrap_text)) == (
        "court", False, False)
    assert sheet.row_dimensions[2].height > 15 and sheet.row_dimensions[3].height is None
    assert (sheet["H2"].value, sheet["I2"].value, sheet["A3"].value.date()) == (
        1.5, 90, date(2026, 3, 3))
    assert sheet["H4"].value == "=SUBTOTAL(9,H2:H3)" and sheet.auto_filter.ref == "A1:M3"


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        # Entries 1..5 of ``logged``; ties by day (latest first), then by id.
        ("day", [1, 2, 3, 4, 5]),
        ("-day", [5, 4, 3, 2, 1]),
        ("member", [3, 5, 4, 1, 2]),
        ("-member", [2, 5, 4, 1, 3]),
        ("service", [5, 3, 2, 1, 4]),
        ("activity", [5, 3, 2, 4, 1]),
        ("staff", [5, 3, 4, 2, 1]),
        ("minutes", [2, 5, 3, 1, 4]),
        ("status", [5, 3, 4, 2, 1]),
    ],
)
def test_every_sort_pages_through_the_same_order_on_both_databases(
    db, cluster, logged, sort, expected
):
    ids = [entry.id for entry in logged]
    seen = []
    for number in (1, 2, 3):
        page = list_entries(db, cluster.admin, EntryFilter(), sort=sort, per_page=2, page=number)
        seen += [ids.index(row.id) + 1 for row in page.rows]
    assert seen == expected
