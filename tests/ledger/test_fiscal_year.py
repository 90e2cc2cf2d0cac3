"""The carrier's fiscal year (« exercice ») when it does not start in January: a carrier that
closes on 31 August. Exercice 2026 (named by its closing year) runs from 1 September 2025 to
31 August 2026.

Books of these tests, on top of the worked example (salaries 16 000,00 on 31/01/2026; invoices
of 5/02/2026 to A 4 000,01, B 6 400,00, C 8 800,00 incl. tax): paper 250,00 on 15/06/2025 and
100,00 on 31/08/2025 (exercice 2025), 40,00 on 1/09/2025 (exercice 2026), and A's payment of
4 000,01 on 1/09/2026 (exercice 2027).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import MetaData, insert, select
from sqlalchemy.exc import IntegrityError

from accounting.audit import AuditEvent
from accounting.costs import CostInput, CostKind, add_cost
from accounting.fec_check import check_fec, scan_fec
from accounting.invoicing.payments import record_payment
from accounting.ledger.catchup import post_missing
from accounting.ledger.fec_export import export_fec, fec_name, opening_lines
from accounting.ledger.fiscal_year import (
    fiscal_year_bounds,
    fiscal_year_label,
    fiscal_year_of,
    fiscal_years_spanned,
    parse_start_month,
)
from accounting.ledger.posting import post_payment
from accounting.org import Carrier, Role
from app.configuration import ConfigRefused, apply_configuration
from app.database import make_engine
from app.migrate import upgrade
from imports.fec import read_fec
from tests.foundation.test_admin_web import CARRIER

D = Decimal


# ------------------------------------------------------------------------------ pure rules


@pytest.mark.parametrize(
    ("year", "month", "bounds"),
    [
        (2026, 1, (date(2026, 1, 1), date(2026, 12, 31))),
        (2026, 9, (date(2025, 9, 1), date(2026, 8, 31))),
        (2026, 7, (date(2025, 7, 1), date(2026, 6, 30))),
        (2024, 3, (date(2023, 3, 1), date(2024, 2, 29))),  # a leap year's February
        (2026, 12, (date(2025, 12, 1), date(2026, 11, 30))),
    ],
)
def test_a_fiscal_year_is_named_by_the_year_it_closes_in(year, month, bounds) -> None:
    assert fiscal_year_bounds(year, month) == bounds
    assert fiscal_year_of(bounds[0], month) == fiscal_year_of(bounds[1], month) == year


def test_the_day_before_the_start_belongs_to_the_previous_fiscal_year() -> None:
    assert fiscal_year_of(date(2025, 8, 31), 9) == 2025
    assert fiscal_year_of(date(2025, 9, 1), 9) == 2026
    assert fiscal_year_of(date(2025, 12, 31), 1) == 2025


def test_labels_and_the_years_between_two_dates() -> None:
    assert fiscal_year_label(2026, 1) == "Exercice 2026"
    assert fiscal_year_label(2026, 9) == "Exercice 2025-2026 (01/09/2025 – 31/08/2026)"
    assert fiscal_years_spanned(date(2025, 6, 15), date(2026, 9, 1), 9) == [2027, 2026, 2025]
    assert fiscal_years_spanned(date(2025, 6, 15), date(2026, 9, 1), 1) == [2026, 2025]
    assert fiscal_years_spanned(None, None, 9) == []


@pytest.mark.parametrize("value", [0, 13, "0", "13", "-1", "9,5", "septembre", "", None, True])
def test_a_start_month_outside_1_to_12_is_refused_in_french(value) -> None:
    with pytest.raises(ValueError, match="Mois de début d'exercice invalide"):
        parse_start_month(value)


def test_a_start_month_is_read_from_a_number_or_a_text() -> None:
    assert [parse_start_month(v) for v in (1, "9", " 12 ")] == [1, 9, 12]


# ------------------------------------------------------------------------------ the FEC


def _cost(db, service_id: int, day: date, amount: str) -> None:
    add_cost(db, CostInput(CostKind.COST, service_id, day, D(amount), "606400", "Papier"))


@pytest.fixture
def august_books(db, issued):
    """The carrier closes on 31 August; the books described in the module's docstring."""
    issued[0].carrier.fiscal_year_start_month = 9
    service_id = issued[0].lines[0].service_id
    _cost(db, service_id, date(2025, 6, 15), "250.00")
    _cost(db, service_id, date(2025, 8, 31), "100.00")
    _cost(db, service_id, date(2025, 9, 1), "40.00")
    post_missing(db)
    payment = record_payment(
        db, member=issued[0].member, paid_on=date(2026, 9, 1), amount=D("4000.01"),
        reference="VIR A", today=date(2026, 9, 30),
    )  # fmt: skip
    post_payment(db, payment)
    db.flush()
    return issued


def test_the_fec_of_an_exercice_closing_on_31_august(db, august_books, tmp_path) -> None:
    path, count = export_fec(db, 2026, tmp_path)
    assert path.name == "782899439FEC20260831.txt"
    assert check_fec(path) == []
    rows = read_fec(path).rows
    # Opening entry (2 lines), the 40,00 of 1/09/2025 (2), the salaries (2), the 3 invoices
    # (3 x 3): the 250,00 and 100,00 are in 2025, the payment of 1/09/2026 in 2027.
    assert count == len(rows) == 15
    opening = [r for r in rows if r.journal_code == "AN"]
    assert rows[:2] == opening
    # Before 1/09/2025: 350,00 of paper owed to 401000, a loss of 350,00 carried on 119000.
    assert [(r.compte_num, r.debit, r.credit) for r in opening] == [
        ("401000", D("0.00"), D("350.00")),
        ("119000", D("350.00"), D("0.00")),
    ]
    assert {(r.ecriture_date, r.valid_date, r.ecriture_num) for r in opening} == {
        (date(2025, 9, 1), date(2025, 9, 1), "AN2026-000001")
    }
    assert opening[0].ecriture_lib == "À nouveaux 2025-2026"
    dates = [r.ecriture_date for r in rows[2:]]
    assert min(dates) == date(2025, 9, 1) and max(dates) == date(2026, 2, 5)
    assert D("40.00") in {r.debit for r in rows} and D("250.00") not in {r.debit for r in rows}
    scan = scan_fec(path)
    # 350 + 40 + 16 000 + 19 200,01 (the invoices, incl. tax) on each side.
    assert (scan.start, scan.end) == (date(2025, 9, 1), date(2026, 8, 31))
    assert scan.total_debit == scan.total_credit == D("35590.01")


def test_the_previous_and_next_exercices_split_at_31_august(db, august_books, tmp_path) -> None:
    path, count = export_fec(db, 2025, tmp_path)
    assert path.name == "782899439FEC20250831.txt"
    assert check_fec(path) == []
    rows = read_fec(path).rows
    assert count == 4  # no opening entry: nothing before 1/09/2024
    assert sorted(r.ecriture_date for r in rows) == [date(2025, 6, 15)] * 2 + [
        date(2025, 8, 31)
    ] * 2
    path, count = export_fec(db, 2027, tmp_path)
    assert path.name == "782899439FEC20270831.txt"
    assert check_fec(path) == []
    payment = [r for r in read_fec(path).rows if r.journal_code == "BQ"]
    assert [(r.compte_num, r.ecriture_date) for r in payment] == [
        ("512000", date(2026, 9, 1)), ("411A", date(2026, 9, 1))
    ]  # fmt: skip


def test_the_opening_entry_of_2027_carries_the_balances_at_31_august_2026(db, august_books):
    lines = opening_lines(db, 2027)
    assert {line.ecriture_date for line in lines} == {date(2026, 9, 1)}
    # 401000: 16 000 + 350 + 40; 411: the invoices, unpaid on 31/08/2026; result: revenue
    # 16 000,00 against charges 16 390,00, a loss of 390,00.
    assert [(line.compte_num, line.debit, line.credit) for line in lines] == [
        ("401000", D("0.00"), D("16390.00")),
        ("411A", D("4000.01"), D("0.00")),
        ("411B", D("6400.00"), D("0.00")),
        ("411C", D("8800.00"), D("0.00")),
        ("445710", D("0.00"), D("3200.01")),
        ("119000", D("390.00"), D("0.00")),
    ]
    assert sum(line.debit for line in lines) == sum(line.credit for line in lines)


def test_january_keeps_the_calendar_year(db, issued, tmp_path) -> None:
    post_missing(db)
    assert issued[0].carrier.fiscal_year_start_month == 1  # the default
    assert fec_name(db, 2026) == "782899439FEC20261231.txt"
    path, count = export_fec(db, 2026, tmp_path)
    assert count == 11 and check_fec(path) == []


# ------------------------------------------------------------------------------ screens


def test_the_fec_page_lists_the_exercices_and_downloads_one(client, login_as, august_books):
    login_as(Role.ACCOUNTANT)
    response = client.get("/comptabilite/fec")
    html = response.get_data(as_text=True)
    assert "du 1er septembre au 31 août" in html
    labels = ["Exercice 2026-2027 (01/09/2026 – 31/08/2027)",
              "Exercice 2025-2026 (01/09/2025 – 31/08/2026)",
              "Exercice 2024-2025 (01/09/2024 – 31/08/2025)"]  # fmt: skip
    positions = [html.index(label) for label in labels]
    assert positions == sorted(positions)  # the most recent first
    with client.get("/comptabilite/fec/2026.txt") as download:
        assert download.status_code == 200
        disposition = download.headers["Content-Disposition"]
        data = download.data
    assert "782899439FEC20260831.txt" in disposition
    assert data.count(b"\r\n") == 16  # header and 15 lines


def test_the_ledger_screens_open_on_the_current_exercice(client, login_as, august_books):
    login_as(Role.ACCOUNTANT)
    today = date.today()
    first = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    last = date(first.year + 1, 8, 31)
    html = client.get("/comptabilite/").get_data(as_text=True)
    assert f"du={first.isoformat()}&amp;au={last.isoformat()}" in html
    # A range given in the address is kept as is.
    html = client.get("/comptabilite/?du=2025-09-01&au=2026-08-31").get_data(as_text=True)
    assert "du=2025-09-01&amp;au=2026-08-31" in html


#: The carrier form of the admin tests, with a start in September.
CARRIER_FORM = {**CARRIER, "fiscal_year_start_month": "9"}


def test_the_admin_sets_the_first_month_and_bad_months_change_nothing(client, db, login_as):
    login_as(Role.ADMIN)
    assert client.post("/admin/structure", data=CARRIER_FORM).status_code == 302
    carrier = db.scalars(select(Carrier)).one()
    assert carrier.fiscal_year_start_month == 9
    page = client.get("/admin/structure").get_data(as_text=True)
    assert '<option selected value="9">9 – septembre</option>' in page
    events = db.scalars(select(AuditEvent.id)).all()
    for bad in ("0", "13"):
        response = client.post("/admin/structure",
                               data={**CARRIER_FORM, "fiscal_year_start_month": bad})  # fmt: skip
        assert response.status_code == 200
        assert (f"Mois de début d&#39;exercice invalide : « {bad} »"
                in response.get_data(as_text=True))  # fmt: skip
        db.expire_all()
        assert db.scalars(select(Carrier.fiscal_year_start_month)).one() == 9
        assert db.scalars(select(AuditEvent.id)).all() == events


# ------------------------------------------------------------------------------ configuration


def test_the_configuration_file_sets_and_checks_the_first_month(db) -> None:
    text = "version: 1\ncarrier:\n  code: P\n  name: Porteur\n  fiscal_year_start_month: {}\n"
    apply_configuration(db, text.format(7))
    assert db.scalars(select(Carrier.fiscal_year_start_month)).one() == 7
    with pytest.raises(ConfigRefused) as refused:
        apply_configuration(db, text.format(13))
    (error,) = refused.value.errors
    assert (error.path, error.line) == ("carrier.fiscal_year_start_month", 5)
    assert "Mois de début d'exercice invalide : « 13 »" in error.message
    assert db.scalars(select(Carrier.fiscal_year_start_month)).one() == 7


# ------------------------------------------------------------------------------ migration


def test_an_existing_carrier_keeps_the_calendar_year_after_the_upgrade(fresh_db_url) -> None:
    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            upgrade(connection=conn, revision="0006_hardening")
            tables = MetaData()
            tables.reflect(conn, only=["carriers"])
            conn.execute(insert(tables.tables["carriers"]).values(
                code="VH", name="Val Horizon", address="", vat_regime="standard",
                vat_exemption_mention="Exonération", payment_terms_days=30,
                late_penalty_rate=1200 if conn.dialect.name == "sqlite" else D("12.00"),
            ))  # fmt: skip
            conn.commit()
        with engine.connect() as conn:
            upgrade(connection=conn)
            conn.commit()
        with engine.connect() as conn:
            month = conn.exec_driver_sql("SELECT fiscal_year_start_month FROM carriers").scalar()
            assert month == 1
            with pytest.raises(IntegrityError, match="ck_carriers_fiscal_year_start"):
                conn.exec_driver_sql("UPDATE carriers SET fiscal_year_start_month = 13")
    finally:
        engine.dispose()
