"""Journal, general ledger, trial balance, the FEC of a year and the ledger workbook, on the
worked example: salaries 16 000,00 on 31/01/2026; invoices of 5/02/2026 to A 3 333,34 + 666,67,
B 5 333,33 + 1 066,67, C 7 333,33 + 1 466,67; A pays 4 000,01 on 2/03/2026."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from accounting.costs import Cost
from accounting.fec import FecError
from accounting.fec_check import check_fec, scan_fec
from accounting.invoicing.payments import record_payment
from accounting.ledger.catchup import post_missing
from accounting.ledger.fec_export import export_fec, fec_rows, opening_lines
from accounting.ledger.posting import post_payment
from accounting.ledger.reports import account_page, journal_page, totals, trial_balance
from accounting.workbooks.ledger import write_ledger_workbook
from imports.fec import read_fec

D = Decimal
YEAR = (date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture
def books(db, issued):
    post_missing(db)
    payment = record_payment(
        db, member=issued[0].member, paid_on=date(2026, 3, 2), amount=D("4000.01"),
        reference="VIR A", today=date(2026, 3, 31),
    )
    post_payment(db, payment)
    return issued


def test_the_trial_balance_of_the_year(db, books) -> None:
    rows = trial_balance(db, *YEAR)
    assert [(r.account, r.debit, r.credit) for r in rows] == [
        ("401000", D("0.00"), D("16000.00")),
        ("411A", D("4000.01"), D("4000.01")),
        ("411B", D("6400.00"), D("0.00")),
        ("411C", D("8800.00"), D("0.00")),
        ("445710", D("0.00"), D("3200.01")),
        ("512000", D("4000.01"), D("0.00")),
        ("641100", D("16000.00"), D("0.00")),
        ("706000", D("0.00"), D("16000.00")),
    ]
    total = totals(rows)
    assert total.debit == total.credit == D("39200.02")
    assert sum(r.debit_balance for r in rows) == sum(r.credit_balance for r in rows)


def test_a_date_range_keeps_only_its_lines(db, books) -> None:
    rows = trial_balance(db, date(2026, 1, 1), date(2026, 1, 31))
    assert [(r.account, r.debit, r.credit) for r in rows] == [
        ("401000", D("0.00"), D("16000.00")),
        ("641100", D("16000.00"), D("0.00")),
    ]


def test_the_journal_in_validation_order_by_page(db, books) -> None:
    page = journal_page(db, *YEAR, size=4)
    assert (page.total, page.pages) == (13, 4)
    assert [row.reference for row in page.rows] == ["HA2026-000001"] * 2 + ["VT2026-000001"] * 2
    last = journal_page(db, *YEAR, size=4, page=4)
    assert [(row.reference, row.account) for row in last.rows] == [("BQ2026-000001", "411A")]
    sales = journal_page(db, *YEAR, journal="VT")
    assert sales.total == 9


def test_a_member_sees_only_the_entries_that_name_it(db, books) -> None:
    page = journal_page(db, *YEAR, member_id=books[1].member_id)
    assert {row.reference for row in page.rows} == {"VT2026-000002"}


def test_the_general_ledger_of_an_account_runs_its_balance(db, books) -> None:
    opening, page = account_page(db, "411A", *YEAR)
    assert opening == D("0.00")
    assert [(row.debit, row.credit, row.balance) for row in page.rows] == [
        (D("4000.01"), D("0.00"), D("4000.01")),
        (D("0.00"), D("4000.01"), D("0.00")),
    ]
    # From March on, the invoice is an opening balance and the payment brings it to zero.
    opening, page = account_page(db, "411A", date(2026, 3, 1), None)
    assert opening == D("4000.01")
    assert [row.balance for row in page.rows] == [D("0.00")]


def test_the_fec_of_the_year_passes_our_validator(db, books, tmp_path) -> None:
    path, count = export_fec(db, 2026, tmp_path)
    assert path.name == "782899439FEC20261231.txt"
    assert count == 13
    assert check_fec(path) == []
    rows = read_fec(path).rows
    assert [row.ecriture_num for row in rows[:3]] == ["HA2026-000001"] * 2 + ["VT2026-000001"]
    sale = rows[2]
    assert (sale.compte_num, sale.comp_aux_num, sale.comp_aux_lib, sale.debit) == (
        "411A", "A", "Les Jardins de la Dombes", D("4000.01")
    )
    assert (sale.journal_lib, sale.piece_ref, sale.ecriture_date) == (
        "Ventes", "2026-0001", date(2026, 2, 5)
    )
    assert rows[3].comp_aux_num == ""  # revenue lines have no auxiliary account
    assert not list(path.parent.glob("*.part"))


def test_the_next_year_opens_with_the_balances_carried_forward(db, books, tmp_path) -> None:
    lines = opening_lines(db, 2027)
    assert [(line.compte_num, line.comp_aux_num, line.debit, line.credit) for line in lines] == [
        ("401000", "", D("0.00"), D("16000.00")),
        ("411B", "B", D("6400.00"), D("0.00")),
        ("411C", "C", D("8800.00"), D("0.00")),
        ("445710", "", D("0.00"), D("3200.01")),
        ("512000", "", D("4000.01"), D("0.00")),
        # Revenue 16 000,00 against salaries 16 000,00: no result to carry.
    ]
    assert {line.journal_code for line in lines} == {"AN"}
    assert {line.ecriture_date for line in lines} == {date(2027, 1, 1)}
    path, count = export_fec(db, 2027, tmp_path)
    assert count == 5
    assert check_fec(path) == []
    assert opening_lines(db, 2026) == []


def test_a_result_is_carried_to_110_or_119(db, books) -> None:
    from accounting.costs import CostInput, CostKind, add_cost

    add_cost(db, CostInput(CostKind.COST, books[0].lines[0].service_id, date(2026, 6, 1),
                           D("250.00"), "606400", "Papier"))  # fmt: skip
    lines = opening_lines(db, 2027)
    assert (lines[-1].compte_num, lines[-1].debit, lines[-1].credit) == (
        "119000", D("250.00"), D("0.00")
    )
    assert sum(line.debit for line in lines) == sum(line.credit for line in lines)


def test_the_fec_needs_the_carrier_siren(db, books, tmp_path) -> None:
    books[0].carrier.siren = None
    with pytest.raises(FecError, match="SIREN"):
        export_fec(db, 2026, tmp_path)


def test_fec_rows_stream_in_validation_order_as_texts(db, books) -> None:
    rows = list(fec_rows(db, 2026))
    numbers = [row[2] for row in rows]
    assert numbers == sorted(numbers, key=numbers.index)  # grouped, never interleaved
    assert numbers[-1] == "BQ2026-000001"
    payment = rows[-1]
    assert payment[3:5] == ("20260302", "411A")
    assert payment[11:13] == ("0,00", "4000,01")
    assert payment[15] >= "20260302"  # validated when posted, after its date here
    assert all(len(row) == 18 for row in rows)


def test_the_ledger_workbook_has_its_three_sheets_balanced(db, books) -> None:
    out = io.BytesIO()
    summary = write_ledger_workbook(db, *YEAR, out)
    assert (summary.lines, summary.total_debit, summary.total_credit) == (
        13, D("39200.02"), D("39200.02")
    )
    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["Journal", "Grand livre", "Balance"]
    journal = list(book["Journal"].iter_rows(values_only=True))
    assert journal[0][:3] == ("Date", "Journal", "N° d'écriture")
    cost_id = db.scalars(select(Cost.id)).one()
    assert journal[1][1:5] == ("HA", "HA2026-000001", f"COST-{cost_id}", "641100")
    assert journal[-1][-3:] == ("Débit = crédit", 39200.02, 39200.02)
    ledger = list(book["Grand livre"].iter_rows(values_only=True))
    # 411A: its title, the invoice, the payment, its subtotal with a zero balance.
    start = next(i for i, row in enumerate(ledger) if row[0] == "411A")
    assert ledger[start][4] == "Les Jardins de la Dombes"
    assert ledger[start + 1][5:] == (4000.01, None, 4000.01)
    assert ledger[start + 2][5:] == (None, 4000.01, 0)
    assert ledger[start + 3][4:] == ("Total 411A", 4000.01, 4000.01, 0)
    assert ledger[-1][4:7] == ("Débit = crédit", 39200.02, 39200.02)
    balance = list(book["Balance"].iter_rows(values_only=True))
    # Nothing before 2026: no opening balance. Debit balances 6 400,00 + 8 800,00 + 4 000,01
    # + 16 000,00 = 35 200,01 = credit balances.
    assert balance[0][2:4] == ("Ouverture débit", "Ouverture crédit")
    assert balance[-1] == ("Total", "Débit = crédit", 0, 0, 39200.02, 39200.02, 35200.01,
                           35200.01)  # fmt: skip


def test_user_text_never_starts_a_formula_in_the_workbook(db, books) -> None:
    from accounting.costs import CostInput, CostKind, add_cost

    add_cost(db, CostInput(CostKind.COST, books[0].lines[0].service_id, date(2026, 6, 1),
                           D("10.00"), "606400", "=1+1"))  # fmt: skip
    out = io.BytesIO()
    write_ledger_workbook(db, *YEAR, out)
    book = load_workbook(io.BytesIO(out.getvalue()))
    labels = [row[7].value for row in book["Journal"].iter_rows(min_row=2) if row[7].value]
    formula = [value for value in labels if str(value).startswith("=")]
    assert formula == ["=1+1 – Comptabilité / gestion"] * 2  # the 606400 and the 401000 lines
    cells = [row[7] for row in book["Journal"].iter_rows(min_row=2) if row[7].value == formula[0]]
    assert {cell.data_type for cell in cells} == {"s"}


def test_an_export_round_trips_through_the_reader(db, books, tmp_path) -> None:
    path, _ = export_fec(db, 2026, tmp_path)
    scan = scan_fec(path)
    assert (scan.total_debit, scan.total_credit, scan.entry_count) == (
        D("39200.02"), D("39200.02"), 5
    )


@pytest.mark.parametrize("journal", [None, "VT"])
def test_the_pages_of_the_journal_are_its_lines_in_order_split_in_pages(
    db, books, journal
) -> None:
    """Issue 16: the page is chosen on journal_lines alone, then joined; read page by page
    (sizes 3 and 5), the journal is every line of the range, entry by entry, position by
    position, as a plain query of the lines reads it."""
    from accounting.ledger.models import JournalEntry, JournalLine

    query = (select(JournalEntry.journal_code, JournalEntry.number, JournalLine.position,
                    JournalLine.account, JournalLine.debit, JournalLine.credit)
             .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
             .order_by(JournalEntry.id, JournalLine.position))
    if journal:
        query = query.where(JournalEntry.journal_code == journal)
    expected = [(code, n, a, d, c) for code, n, _, a, d, c in db.execute(query)]
    for size in (3, 5):
        first = journal_page(db, *YEAR, journal=journal, size=size)
        seen = []
        for number in range(1, first.pages + 1):
            page = journal_page(db, *YEAR, journal=journal, size=size, page=number)
            assert page.total == len(expected)
            seen += [(r.journal_code, r.number, r.account, r.debit, r.credit) for r in page.rows]
        assert seen == expected
