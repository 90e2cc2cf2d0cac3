"""The FEC of a fiscal year, from the ledger.

Design: the fiscal year is the carrier's (``Carrier.fiscal_year_start_month``; January by
default, the calendar year) and is named by the year it closes in
(:mod:`accounting.ledger.fiscal_year`): with a September start, the FEC of 2026 covers 1
September 2025 to 31 August 2026 and is named ``<SIREN>FEC20260831.txt``. The file opens with
the opening entry (journal AN, dated the first day of the fiscal year: the balances of the
balance-sheet accounts, classes 1 to 5, at the end of the previous years, the result of those
years on 110 or 119), then every entry of the fiscal year in validation order with its own
number — continuous in each journal and calendar year (``VT2026-000001``...). The member is the
auxiliary account (``CompAuxNum`` its code, ``CompAuxLib`` its name) of its 411 lines; a
lettered line carries its letter and date (``EcritureLet``, ``DateLet``). Lines
are streamed from the database into :func:`accounting.fec.write_fec`: a million lines never sit
in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Numeric, String, select, type_coerce
from sqlalchemy.orm import Session

from accounting.fec import FecError, FecLine, fec_filename, fec_texts, write_fec_rows
from accounting.ledger.chart import OPENING_JOURNAL
from accounting.ledger.fiscal_year import carrier_start_month, fiscal_year_bounds, fiscal_year_name
from accounting.ledger.models import Account, Journal, JournalEntry, JournalLine, LineLetter
from accounting.ledger.opening import carried_forward
from accounting.money import ZERO
from accounting.org import Carrier, Member


def opening_lines(session: Session, year: int, start_month: int | None = None) -> list[FecLine]:
    """The opening entry of fiscal year ``year`` (its closing year), dated its first day:
    balance-sheet balances carried forward, and the result of the previous years on 110
    (profit) or 119 (loss) — :func:`accounting.ledger.opening.carried_forward`, the rule the
    ledger screens open with too; empty for the first year. ``start_month``: the carrier's
    when not given."""
    if start_month is None:
        start_month = carrier_start_month(session)
    start, _ = fiscal_year_bounds(year, start_month)
    carried = carried_forward(session, start)
    code, journal_label = OPENING_JOURNAL
    number = f"{code}{year}-000001"
    text = f"À nouveaux {fiscal_year_name(year, start_month)}"
    return [
        FecLine(
            code, journal_label, number, start, found.account, found.label,
            found.member_code or "", found.member_name or "", f"{code}{year}", start, text,
            max(found.balance, ZERO), max(-found.balance, ZERO), "", None, start,
        )
        for found in carried
    ]  # fmt: skip


def fec_rows(session: Session, year: int, *, batch: int = 20_000) -> Iterator[Sequence[str]]:
    """Every FEC line of fiscal year ``year`` (its closing year, with the carrier's start
    month) as its 18 texts: the opening entry, then the entries in validation order.

    Why texts and not ``FecLine``: a million lines are formatted straight from the database
    values (SQLite hands integer cents and ISO date strings over; PostgreSQL, Decimals and
    dates), without building a Decimal and a date per field first.
    """
    start_month = carrier_start_month(session)
    yield from fec_texts(opening_lines(session, year, start_month))
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        money: Any = lambda column: type_coerce(column, Integer)  # noqa: E731 - raw cents
        day: Any = lambda column: type_coerce(column, String)  # noqa: E731 - raw 'YYYY-MM-DD'
    else:
        money = lambda column: type_coerce(column, Numeric(14, 2))  # noqa: E731
        day = lambda column: column  # noqa: E731
    if start_month == 1:
        # By the entry's year (its date's), not a date range: the entries are read in key
        # order and their lines by (entry, position), so the database sorts nothing.
        in_year = JournalEntry.year == year
    else:
        # A fiscal year across two calendar years: its entries by date (an index of entries).
        start, end = fiscal_year_bounds(year, start_month)
        in_year = JournalEntry.entry_date.between(start, end)
    query = (
        select(
            JournalEntry.journal_code, Journal.label, JournalEntry.year, JournalEntry.number,
            day(JournalEntry.entry_date), JournalLine.account, Account.label, Member.code,
            Member.name, JournalEntry.piece_ref, day(JournalEntry.piece_date), JournalLine.label,
            money(JournalLine.debit), money(JournalLine.credit),
            day(JournalEntry.validated_at), LineLetter.code, day(LineLetter.lettered_on),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(Journal, Journal.code == JournalEntry.journal_code)
        .join(Account, Account.number == JournalLine.account)
        .outerjoin(Member, Member.id == JournalLine.member_id)
        .outerjoin(LineLetter, LineLetter.line_id == JournalLine.id)
        .where(in_year)
        .order_by(JournalEntry.id, JournalLine.position)
        .execution_options(yield_per=batch)
    )  # fmt: skip
    # Core, not the ORM: plain rows, no per-row loading machinery (measured 20 % of the time).
    dates: dict[Any, str] = {}
    amounts = _sqlite_amount if sqlite else _amount

    def text_of(value: Any) -> str:
        """YYYYMMDD of a date (or of the first ten characters of an ISO text), cached."""
        found = dates.get(value)
        if found is None:
            if isinstance(value, str):
                found = value[:4] + value[5:7] + value[8:10]
            else:
                moment = value.astimezone(UTC) if isinstance(value, datetime) else value
                found = f"{moment.year:04d}{moment.month:02d}{moment.day:02d}"
            dates[value] = found
        return found

    for (journal, journal_label, entry_year, number, entry_date, account, account_label,
         member_code, member_name, piece_ref, piece_date, label, debit, credit,
         validated, letter, lettered_on) in session.connection().execute(query):  # fmt: skip
        yield (
            journal, journal_label, f"{journal}{entry_year}-{number:06d}", text_of(entry_date),
            account, account_label, member_code or "", member_name or "", piece_ref,
            text_of(piece_date), label, amounts(debit), amounts(credit), letter or "",
            text_of(lettered_on) if lettered_on else "",
            text_of(validated[:10] if sqlite else validated), "", "",
        )  # fmt: skip


def _sqlite_amount(cents: int) -> str:
    """``123456`` (cents, never negative in a ledger line) -> ``"1234,56"``."""
    return f"{cents // 100},{cents % 100:02d}"


def _amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def carrier_siren(session: Session) -> str:
    carrier = session.scalars(select(Carrier).order_by(Carrier.id)).first()
    if carrier is None or not carrier.siren:
        raise FecError(
            "Le FEC porte le SIREN de la structure porteuse : renseignez-le d'abord "
            "(Administration → structure porteuse)."
        )
    return carrier.siren


def fec_name(session: Session, year: int) -> str:
    """``<SIREN>FEC<closing date>.txt`` for the carrier and its fiscal year ``year``
    (``...FEC20261231.txt``, or ``...FEC20260831.txt`` for a year starting in September)."""
    siren = carrier_siren(session)
    return fec_filename(siren, fiscal_year_bounds(year, carrier_start_month(session))[1])


def export_fec(session: Session, year: int, directory: str | Path) -> tuple[Path, int]:
    """Write the FEC of fiscal year ``year`` into ``directory``; returns its path and its line
    count.

    Written to a temporary name then renamed: a half-written file never has the legal name.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / fec_name(session, year)
    partial = path.with_suffix(".part")
    with open(partial, "wb") as handle:
        count = write_fec_rows(fec_rows(session, year), handle)
    partial.replace(path)
    return path, count
