"""Opening balances of the general ledger and the trial balance follow the FEC's opening rule:
classes 1-5 carry their balance, classes 6-7 restart from zero at each exercice, the result of
the previous exercices stands on 110 (profit) or 119 (loss), and a range that starts inside an
exercice opens with the exercice's earlier movements.

January books (the calendar year), on top of the worked example (salaries 16 000,00 on
31/01/2026; invoices of 5/02/2026: A 4 000,01, B 6 400,00, C 8 800,00 incl. tax, 16 000,00
of revenue and 3 200,01 of VAT; A pays 4 000,01 on 2/03/2026): exercice 2025 has paper 250,00
(15/06/2025) and a subsidy of 1 000,00 (1/07/2025), a profit of 750,00; exercice 2026 adds
paper 40,00 on 10/02/2026.

September books: those of ``test_fiscal_year`` (paper 250,00 and 100,00 in exercice 2025,
40,00 on 1/09/2025, the worked example in exercice 2026, A's payment on 1/09/2026).
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from accounting.costs import CostInput, CostKind, add_cost
from accounting.ledger.fec_export import opening_lines
from accounting.ledger.opening import opening_balances
from accounting.ledger.reports import account_page, ledger_accounts, totals, trial_balance
from accounting.org import Role
from accounting.workbooks.ledger import write_ledger_workbook
from tests.ledger import test_fiscal_year, test_reports

#: Fixtures shared with the FEC tests: the September books, and the January worked example
#: with A's payment posted.
august_books = test_fiscal_year.august_books
books = test_reports.books
D = Decimal
EXERCICE_2026 = (date(2026, 1, 1), date(2026, 12, 31))
AUGUST_2026 = (date(2025, 9, 1), date(2026, 8, 31))


def _add(db, service_id: int, kind: CostKind, day: date, amount: str, account: str) -> None:
    add_cost(db, CostInput(kind, service_id, day, D(amount), account, "Test"))


@pytest.fixture
def january_books(db, books):
    service_id = books[0].lines[0].service_id
    _add(db, service_id, CostKind.COST, date(2025, 6, 15), "250.00", "606400")
    _add(db, service_id, CostKind.SUBSIDY, date(2025, 7, 1), "1000.00", "740000")
    _add(db, service_id, CostKind.COST, date(2026, 2, 10), "40.00", "606400")
    db.flush()
    return books


def _figures(rows) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [(row.account, row.opening, row.debit, row.credit) for row in rows]


def test_exercice_2026_opens_with_the_2025_profit_on_110(db, january_books) -> None:
    rows = trial_balance(db, *EXERCICE_2026)
    assert _figures(rows) == [
        # 2025: subsidy 1 000,00 - paper 250,00 = a profit of 750,00, a credit on 110000.
        ("110000", D("-750.00"), D("0"), D("0")),
        ("401000", D("-250.00"), D("0.00"), D("16040.00")),
        ("411A", D("0"), D("4000.01"), D("4000.01")),
        ("411B", D("0"), D("6400.00"), D("0.00")),
        ("411C", D("0"), D("8800.00"), D("0.00")),
        ("441000", D("1000.00"), D("0"), D("0")),
        ("445710", D("0"), D("0.00"), D("3200.01")),
        ("512000", D("0"), D("4000.01"), D("0.00")),
        # Classes 6 and 7 restart from zero: the 250,00 of 2025 are not in 606400's opening.
        ("606400", D("0"), D("40.00"), D("0.00")),
        ("641100", D("0"), D("16000.00"), D("0.00")),
        ("706000", D("0"), D("0.00"), D("16000.00")),
    ]  # 740000: no movement in 2026 and no opening: not listed.
    assert rows[0].label == "Report à nouveau"
    total = totals(rows)
    assert (total.opening_debit, total.opening_credit) == (D("1000.00"), D("1000.00"))
    assert total.debit == total.credit == D("39240.02")
    # Debit: 411B 6 400 + 411C 8 800 + 441000 1 000 + 512000 4 000,01 + 40 + 16 000.
    assert total.debit_balance == total.credit_balance == D("36240.01")
    assert total.balanced


def test_a_range_inside_the_exercice_opens_with_its_earlier_movements(db, january_books):
    start = date(2026, 3, 1)
    # 606400: 40,00 of February (not the 250,00 of 2025); 401000: 250,00 carried + 16 000,00
    # + 40,00; 641100 and 706000: January and February of 2026 only.
    assert opening_balances(db, start) == {
        "110000": D("-750.00"), "401000": D("-16290.00"), "411A": D("4000.01"),
        "411B": D("6400.00"), "411C": D("8800.00"), "441000": D("1000.00"),
        "445710": D("-3200.01"), "606400": D("40.00"), "641100": D("16000.00"),
        "706000": D("-16000.00"),
    }  # fmt: skip
    opening, page = account_page(db, "606400", start, date(2026, 12, 31))
    assert (opening, page.total) == (D("40.00"), 0)
    opening, page = account_page(db, "411A", start, date(2026, 12, 31))
    assert opening == D("4000.01")
    assert [row.balance for row in page.rows] == [D("0.00")]
    # The result carried forward has no line, but its opening balance lists it.
    opening, page = account_page(db, "110000", start, date(2026, 12, 31))
    assert (opening, page.total) == (D("-750.00"), 0)
    assert ("110000", "Report à nouveau") in {
        (account.number, account.label) for account in ledger_accounts(db, start, None)
    }
    rows = trial_balance(db, start, date(2026, 12, 31))
    total = totals(rows)
    # Debit: 4 000,01 + 6 400 + 8 800 + 1 000 + 40 + 16 000; credit: 750 + 16 290 + 3 200,01
    # + 16 000.
    assert total.opening_debit == total.opening_credit == D("36240.01")
    assert total.debit == total.credit == D("4000.01")
    assert total.balanced


def test_the_first_exercice_opens_at_zero(db, january_books) -> None:
    rows = trial_balance(db, date(2025, 1, 1), date(2025, 12, 31))
    assert _figures(rows) == [
        ("401000", D("0"), D("0.00"), D("250.00")),
        ("441000", D("0"), D("1000.00"), D("0.00")),
        ("606400", D("0"), D("250.00"), D("0.00")),
        ("740000", D("0"), D("0.00"), D("1000.00")),
    ]


def test_september_exercice_2026_opens_with_the_loss_on_119(db, august_books) -> None:
    rows = trial_balance(db, *AUGUST_2026)
    assert rows[0].label == "Report à nouveau (solde débiteur)"  # the PCG's 119
    assert _figures(rows) == [
        ("119000", D("350.00"), D("0"), D("0")),
        ("401000", D("-350.00"), D("0.00"), D("16040.00")),
        ("411A", D("0"), D("4000.01"), D("0.00")),
        ("411B", D("0"), D("6400.00"), D("0.00")),
        ("411C", D("0"), D("8800.00"), D("0.00")),
        ("445710", D("0"), D("0.00"), D("3200.01")),
        ("606400", D("0"), D("40.00"), D("0.00")),  # not the 350,00 of exercice 2025
        ("641100", D("0"), D("16000.00"), D("0.00")),
        ("706000", D("0"), D("0.00"), D("16000.00")),
    ]
    total = totals(rows)
    assert total.opening_debit == total.opening_credit == D("350.00")
    assert total.debit == total.credit == D("35240.01")
    assert total.debit_balance == total.credit_balance == D("35590.01")
    # From 1 February 2026: 606400 opens with the 40,00 of 1/09/2025 only.
    opening, page = account_page(db, "606400", date(2026, 2, 1), date(2026, 8, 31))
    assert (opening, page.total) == (D("40.00"), 0)
    opening, _ = account_page(db, "401000", date(2026, 2, 1), date(2026, 8, 31))
    assert opening == D("-16390.00")


def test_the_reports_open_an_exercice_as_the_fec_does(db, august_books) -> None:
    """One rule: the trial balance of exercice 2027 opens with the FEC's opening entry."""
    fec: dict[str, Decimal] = {}
    for line in opening_lines(db, 2027):
        fec[line.compte_num] = fec.get(line.compte_num, D("0")) + line.debit - line.credit
    rows = trial_balance(db, date(2026, 9, 1), date(2027, 8, 31))
    assert {row.account: row.opening for row in rows if row.opening} == fec
    assert fec["119000"] == D("390.00")


# ------------------------------------------------------------------------------ workbook, screens


def _amount(value: object) -> Decimal:
    return D(str(value or 0)).quantize(D("0.01"))


def _workbook(db, start: date, end: date):  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    write_ledger_workbook(db, start, end, out)
    return load_workbook(io.BytesIO(out.getvalue()))


def _screen_balance(html: str) -> dict[str, tuple[Decimal, ...]]:
    """Account -> its six amounts, read from the data-value of the balance page's cells."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    found = {}
    for row in body.split("<tr>")[1:]:
        account = re.search(r'<td class="code"><a [^>]*>([^<]+)</a>', row)
        values = re.findall(r'<td class="num[^"]*"(?: data-value="([^"]*)")?>', row)
        assert account and len(values) == 6
        found[account.group(1)] = tuple(_amount(value) for value in values)
    return found


@pytest.mark.parametrize(("fixture", "start", "end"), [
    ("january_books", date(2026, 1, 1), date(2026, 12, 31)),
    ("january_books", date(2026, 3, 1), date(2026, 12, 31)),
    ("august_books", date(2025, 9, 1), date(2026, 8, 31)),
    ("august_books", date(2026, 2, 1), date(2026, 8, 31)),
])  # fmt: skip
def test_the_workbook_shows_the_screens_figures(request, client, login_as, db, fixture, start,
                                                end):  # fmt: skip
    request.getfixturevalue(fixture)
    book = _workbook(db, start, end)
    sheet = list(book["Balance"].iter_rows(values_only=True))
    assert sheet[0][2:] == ("Ouverture débit", "Ouverture crédit", "Débit", "Crédit",
                            "Solde débiteur", "Solde créditeur")  # fmt: skip
    workbook = {row[0]: tuple(_amount(v) for v in row[2:]) for row in sheet[1:-2]}
    login_as(Role.TREASURER)
    response = client.get("/comptabilite/balance", query_string={"du": start.isoformat(),
                                                                 "au": end.isoformat()})
    html = response.get_data(as_text=True)
    assert "débit = crédit" in html
    assert workbook == _screen_balance(html)
    total = sheet[-1]
    assert total[1] == "Débit = crédit"
    assert total[2] == total[3] and total[4] == total[5] and total[6] == total[7]
    # The general ledger sheet: each account's opening line (when not zero) is the screen's.
    ledger = list(book["Grand livre"].iter_rows(values_only=True))
    titles = [i for i, row in enumerate(ledger) if row[0] and row[1] is None and row[0] != (
        "Total général")]
    accounts = [account.number for account in ledger_accounts(db, start, end)]
    assert [ledger[i][0] for i in titles] == accounts
    for i in titles:
        opening, _ = account_page(db, ledger[i][0], start, end)
        shown = ledger[i + 1][7] if ledger[i + 1][4] == "Solde d'ouverture" else 0
        assert _amount(shown) == opening, ledger[i][0]
        page = client.get("/comptabilite/grand-livre", query_string={
            "du": start.isoformat(), "au": end.isoformat(), "compte": ledger[i][0]})
        assert f'data-value="{opening}"' in page.get_data(as_text=True)


def test_the_ledger_sheet_of_a_mid_exercice_range(db, january_books) -> None:
    ledger = list(_workbook(db, date(2026, 3, 1), date(2026, 12, 31))["Grand livre"]
                  .iter_rows(values_only=True))  # fmt: skip
    start = next(i for i, row in enumerate(ledger) if row[0] == "110000")
    assert ledger[start][4] == "Report à nouveau"
    assert ledger[start + 1][4:] == ("Solde d'ouverture", None, None, -750)
    assert ledger[start + 2][4:] == ("Total 110000", 0, 0, -750)
    start = next(i for i, row in enumerate(ledger) if row[0] == "606400")
    assert ledger[start + 1][4:] == ("Solde d'ouverture", None, None, 40)
    assert ledger[start + 2][4:] == ("Total 606400", 0, 0, 40)
    assert ledger[-1][4:7] == ("Débit = crédit", 4000.01, 4000.01)
