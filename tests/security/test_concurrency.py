"""Concurrency on PostgreSQL, with real commits on a database of their own.

- Closing a period while someone logs time or imports a file: the period never closes under a
  write that is still in flight, and a write that starts while the close is in flight is
  refused once the close commits. The interleavings are forced (a thread waits at the exact
  point where the race would happen), so the outcome is deterministic.
- The hash chain under concurrent acts of different kinds (invoices issued in two periods, a
  period closed, a credit note), which do not share the invoice numbering lock: every link
  gets its own position and the chain verifies. (Invoice numbering itself under concurrency is
  tested by tests/invoices/test_concurrency.py.)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import timesheets.services as ts_services
from accounting.invoicing.models import Invoice, InvoiceLine
from accounting.invoicing.services import create_credit_note, issue_invoices
from accounting.org import Carrier, Member, Role, Service, User
from accounting.periods import Period, close_period, get_or_create_period
from accounting.seal import Seal, verify_chain
from app.database import make_engine
from app.models import metadata
from imports import timesheets as ts_import
from imports.errors import ImportRefused
from tests.conftest import TEST_PASSWORD, is_postgres
from tests.invoices.conftest import CARRIER_SIRET, SIRETS
from timesheets.errors import TimesheetError
from timesheets.models import WorkEntry

#: How long a thread waits for the other before concluding that it is blocked by a lock.
BLOCKED = 1.5


@pytest.fixture
def engine(fresh_db_url: str) -> Iterator[Engine]:
    if not is_postgres(fresh_db_url):
        pytest.skip(
            "locks between connections are a PostgreSQL matter; SQLite has one writer, and a "
            "transaction whose snapshot is stale fails to write instead of racing"
        )
    engine = make_engine(fresh_db_url, pool_size=8)
    with engine.begin() as conn:
        metadata.create_all(conn)
    with Session(engine) as session:
        session.info["actor_label"] = "test"
        service = Service(code="COMPTA", name="Comptabilité / gestion")
        member = Member(code="A", name="Alpha", joined_on=date(2020, 1, 1))
        staff = User(email="compta@test.fr", name="Comptable")
        staff.role_set = {Role.ACCOUNTANT}
        staff.set_password(TEST_PASSWORD)
        session.add_all([service, member, staff])
        get_or_create_period(session, "2026-05")
        session.commit()
    yield engine
    engine.dispose()


def _ids(engine: Engine) -> tuple[int, int, int, int]:
    with Session(engine) as session:
        return (
            session.scalar(select(User.id)),
            session.scalar(select(Service.id)),
            session.scalar(select(Member.id)),
            session.scalar(select(Period.id).where(Period.start == date(2026, 5, 1))),
        )


def _run(*jobs: Callable[[], None]) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"


def _close(engine: Engine, period_id: int, outcome: dict[str, Any]) -> None:
    with Session(engine) as session:
        session.info["actor_label"] = "closer"
        close_period(session, session.get(Period, period_id))
        session.commit()
        outcome["closed"] = True


def _log(engine: Engine, outcome: dict[str, Any]) -> None:
    staff_id, service_id, member_id, _ = _ids(engine)
    with Session(engine) as session:
        session.info["actor_label"] = "logger"
        try:
            ts_services.create_entry(
                session, session.get(User, staff_id),
                ts_services.EntryData(day=date(2026, 5, 12), minutes=90, member_id=member_id,
                                      service_id=service_id),
            )
            session.commit()
            outcome["logged"] = True
        except TimesheetError as refused:
            session.rollback()
            outcome["refused"] = str(refused)


def _entries_after_close(engine: Engine) -> tuple[int, int, bool]:
    """(entries in May, entries created after the close was stamped, period closed?)"""
    with Session(engine) as session:
        period = session.scalars(select(Period).where(Period.start == date(2026, 5, 1))).one()
        entries = session.scalars(
            select(WorkEntry).where(WorkEntry.day.between(period.start, period.end))
        ).all()
        late = [e for e in entries if period.closed_at and e.created_at > period.closed_at]
        return len(entries), len(late), period.is_closed


def test_a_period_does_not_close_under_an_entry_being_logged(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The logger has checked that May is open and not yet written; the close starts then.
    Either the close waits for the logger's commit, or the logger is refused: never an entry
    written after the period was closed."""
    checked, closed = threading.Event(), threading.Event()
    real_ensure_open = ts_services.ensure_writable

    def ensure_open_then_pause(session: Session, day: date) -> None:
        real_ensure_open(session, day)
        checked.set()
        closed.wait(timeout=BLOCKED)  # the close runs now, unless it is blocked

    monkeypatch.setattr(ts_services, "ensure_writable", ensure_open_then_pause)
    *_, period_id = _ids(engine)
    outcome: dict[str, Any] = {}

    def closer() -> None:
        checked.wait(timeout=30)
        _close(engine, period_id, outcome)
        closed.set()

    _run(lambda: _log(engine, outcome), closer)
    count, late, is_closed = _entries_after_close(engine)
    assert is_closed and outcome.get("closed")
    assert late == 0, "an entry was written into the period after it was closed"
    assert (count, outcome.get("logged")) == (1, True)  # the close waited for it


def _pause_close_after_its_seal(
    monkeypatch: pytest.MonkeyPatch, flushed: threading.Event, other_done: threading.Event
) -> None:
    """The close has flushed (status and seal) and not committed: ``flushed`` is set, and the
    close waits for the other thread (``other_done``) unless that thread is blocked."""
    import accounting.periods as periods

    real_seal = periods.seal_record

    def seal_then_pause(*args: Any, **kwargs: Any) -> Any:
        link = real_seal(*args, **kwargs)
        flushed.set()
        other_done.wait(timeout=BLOCKED)
        return link

    monkeypatch.setattr(periods, "seal_record", seal_then_pause)


def _import(engine: Engine, outcome: dict[str, Any]) -> None:
    staff_id, *_ = _ids(engine)
    data = "Date;Intervenant;Adhérent;Service;Durée\r\n12/05/2026;compta@test.fr;A;COMPTA;1h30\r\n"
    with Session(engine) as session:
        try:
            ts_import.import_file(session, session.get(User, staff_id), data.encode(), "t.csv")
            session.commit()
            outcome["imported"] = True
        except ImportRefused as refused:
            session.rollback()
            outcome["refused"] = str(refused)


@pytest.mark.parametrize("write", [_log, _import], ids=["logging", "importing"])
def test_a_write_started_while_a_close_is_in_flight_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch,
    write: Callable[[Engine, dict[str, Any]], None],
) -> None:
    """The close has flushed and not committed; a work entry is logged (or a file imported)
    then: once the close commits, the writer is told the period is closed."""
    flushed, written = threading.Event(), threading.Event()
    _pause_close_after_its_seal(monkeypatch, flushed, written)
    *_, period_id = _ids(engine)
    outcome: dict[str, Any] = {}

    def writer() -> None:
        flushed.wait(timeout=30)
        write(engine, outcome)
        written.set()

    _run(lambda: _close(engine, period_id, outcome), writer)
    count, _, is_closed = _entries_after_close(engine)
    assert is_closed
    assert count == 0
    assert "clôturée" in outcome.get("refused", ""), outcome


def test_the_hash_chain_stays_whole_under_concurrent_acts_of_different_kinds(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        session.info["actor_label"] = "setup"
        session.add(Carrier(code="VH", name="Val Horizon", address="Châtillon",
                            siret=CARRIER_SIRET, vat_number="FR81782899439"))
        members = [
            Member(code=f"M{code}", name=f"Adhérent {code}", siret=siret, address="Villars",
                   joined_on=date(2020, 1, 1))
            for code, siret in SIRETS.items()
        ]
        session.add_all(members)
        session.flush()
        carrier_id = session.scalar(select(Carrier.id))
        service_id = session.scalar(select(Service.id))
        for code in ("2026-01", "2026-02"):
            period = get_or_create_period(session, code)
            for member in members:
                invoice = Invoice(
                    carrier_id=carrier_id, member_id=member.id, period_id=period.id,
                    service_start=period.start, service_end=period.end,
                    total_excl_tax=Decimal("100.00"), total_vat=Decimal("20.00"),
                    total_incl_tax=Decimal("120.00"))
                invoice.lines.append(InvoiceLine(
                    position=1, service_id=service_id, designation="Comptabilité",
                    revenue_account="706000", amount_excl_tax=Decimal("100.00"),
                    vat_regime="standard", vat_rate=Decimal("20.00"),
                    vat_amount=Decimal("20.00")))
                session.add(invoice)
        get_or_create_period(session, "2026-03")
        session.commit()
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def act(work: Callable[[Session], None]) -> Callable[[], None]:
        def run() -> None:
            with Session(engine) as session:
                session.info["actor_label"] = "worker"
                barrier.wait(timeout=30)
                try:
                    work(session)
                    session.commit()
                except BaseException as error:
                    errors.append(error)

        return run

    def issue(code: str) -> Callable[[Session], None]:
        def work(session: Session) -> None:
            period = session.scalars(
                select(Period).where(Period.start == date(2026, int(code[5:]), 1))
            ).one()
            issue_invoices(session, period, issue_date=date(2026, 4, 2))

        return work

    def close_march(session: Session) -> None:
        close_period(session, session.scalars(
            select(Period).where(Period.start == date(2026, 3, 1))).one())

    _run(act(issue("2026-01")), act(issue("2026-02")), act(close_march))
    assert errors == []
    with Session(engine) as session:
        first = session.scalars(select(Invoice).where(Invoice.number == "2026-0001")).one()
        create_credit_note(session, first, reason="Erreur", issue_date=date(2026, 4, 3))
        session.commit()
        seqs = session.scalars(select(Seal.seq).order_by(Seal.seq)).all()
        assert seqs == list(range(1, 9))  # 6 invoices, 1 close, 1 credit note
        report = verify_chain(session)
        assert report.ok, report.problems
        assert session.scalar(select(func.count()).select_from(Invoice)
                              .where(Invoice.number.is_not(None))) == 7



# ---------------------------------------------------------------- the same file twice at once


def _same_file_twice(
    engine: Engine, run: Callable[[Session], Any], pause_target: tuple[Any, str],
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    """Two sessions import the same file at once; both have looked for what is already
    imported before either writes (forced). Returns each outcome."""
    module, name = pause_target
    real = getattr(module, name)
    barrier = threading.Barrier(2)
    paused: set[int] = set()

    def pause_then(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() not in paused:
            paused.add(threading.get_ident())
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=BLOCKED)  # the other import catches up, unless blocked
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, pause_then)
    outcomes: list[str] = []

    def one() -> None:
        with Session(engine) as session:
            session.info["actor_label"] = "importer"
            try:
                run(session)
                session.commit()
                outcomes.append("committed")
            except ImportRefused as refused:
                session.rollback()
                outcomes.append(f"refused: {refused}")
            except Exception as error:  # an IntegrityError would be a 500 in the app
                session.rollback()
                outcomes.append(f"crashed: {type(error).__name__}")

    _run(one, one)
    return outcomes


def test_two_imports_of_the_same_timesheet_file_at_once_add_it_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff_id, *_ = _ids(engine)
    data = (
        "Date;Intervenant;Adhérent;Service;Durée\r\n"
        "12/05/2026;compta@test.fr;A;COMPTA;1h30\r\n"
        "13/05/2026;compta@test.fr;A;COMPTA;2h\r\n"
    ).encode()
    outcomes = _same_file_twice(
        engine,
        lambda s: ts_import.import_file(s, s.get(User, staff_id), data, "t.csv"),
        (ts_import, "_fingerprints"),
        monkeypatch,
    )
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(WorkEntry)) == 2
    assert outcomes == ["committed", "committed"]  # the second one added nothing, and says so


def test_two_imports_of_the_same_cost_file_at_once_add_it_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imports.costs as cost_import
    from accounting.costs import Cost
    from imports.tabular import read_table

    data = (
        "Date;Service;Nature;Montant;Compte;Libellé\r\n"
        "31/05/2026;COMPTA;charge;2450,00;641100;Salaires mai\r\n"
    ).encode()
    outcomes = _same_file_twice(
        engine,
        lambda s: cost_import.import_costs(s, read_table(data, "charges.csv")),
        (cost_import, "add_cost"),
        monkeypatch,
    )
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Cost)) == 1
    assert outcomes == ["committed", "committed"]
