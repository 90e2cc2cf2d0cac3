"""The FEC costs import read in a second process while this one writes
(:mod:`imports.fec_beside`) writes what reading first then writing writes — costs, entries and
their numbers, counterparts, trial balance, audit, a chain that verifies — and refuses, falls
back and rolls back the same way: a file with errors, lines left aside without confirmation,
a file the column reader hands to the line reader, a reading process that dies."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting import cost_bulk
from accounting.costs import Cost
from accounting.ledger.models import JournalEntry
from accounting.periods import close_period, get_or_create_period
from accounting.seal import Seal, verify_chain
from imports import fec_beside
from imports.errors import ImportRefused
from imports.fec_costs import import_fec_costs, parse_rule
from tests.ledger.test_books_import import REVERSALS, fec_file
from tests.ledger.test_fec_costs_bulk import EXPECTED_BALANCE, _rules, _written

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="reading beside the writes needs fork (POSIX)"
)


@pytest.fixture
def services(make_service):
    return {"COMPTA": make_service("COMPTA", name="Comptabilité / gestion"),
            "DEV": make_service("DEV", name="Chargé de développement")}  # fmt: skip


@pytest.fixture
def beside(monkeypatch) -> list[Any]:
    """Every file read beside the writes, in slices of two costs (written by slices of two
    when read first); the list of what each import_beside call gave (None: not read so)."""
    monkeypatch.setattr(fec_beside, "BESIDE_BYTES", 0)
    # Forked even if an earlier test left a thread behind (a server's, a mail server's): the
    # reader touches nothing those threads hold.
    monkeypatch.setattr(fec_beside, "_alone", lambda: True)
    monkeypatch.setattr(fec_beside, "SLICE", 2)
    monkeypatch.setattr(fec_beside, "FIRST_SLICE", 2)
    monkeypatch.setattr(cost_bulk, "SLICE", 2)
    given: list[Any] = []
    original = fec_beside.import_beside

    def spy(*args: Any, **kwargs: Any) -> Any:
        given.append(original(*args, **kwargs))
        return given[-1]

    monkeypatch.setattr("imports.fec_costs.import_beside", spy)
    return given


def _counts(db: Session) -> tuple[int, ...]:
    return tuple(db.scalar(select(func.count()).select_from(model))
                 for model in (Cost, JournalEntry, Seal))  # fmt: skip


def test_read_beside_writes_what_reading_first_writes(
    db, services, tmp_path, beside, monkeypatch
) -> None:
    path = fec_file(tmp_path, REVERSALS)
    savepoint = db.begin_nested()
    monkeypatch.setattr(fec_beside, "BESIDE_BYTES", 1 << 40)  # first: read, then write
    import_fec_costs(db, path, _rules(db))
    first = _written(db)
    savepoint.rollback()
    assert beside == [None]
    monkeypatch.setattr(fec_beside, "BESIDE_BYTES", 0)
    slices: list[int] = []
    original = fec_beside.add_costs
    monkeypatch.setattr(fec_beside, "add_costs", lambda db, items, **kw: (
        slices.append(len(items)), original(db, items, **kw))[1])  # fmt: skip
    result, preview = import_fec_costs(db, path, _rules(db))
    assert beside[-1] is not None and beside[-1].savepoint is not None  # read in a child
    assert slices == [2, 2, 2]  # written as they came
    assert result.created == 6 and len(preview.costs) == 6
    after = _written(db)
    assert after == first
    assert after["balance"] == EXPECTED_BALANCE
    assert after["audit"] == {("import", "costs"): 1}
    # Six costs planned two at a time: three slices, each written as it came, each sealed.
    assert after["seals"] == {"batch:journal_entries": 3}
    report = verify_chain(db)
    assert report.ok and report.records == 6, report.problems[:3]


def test_a_file_with_an_error_is_refused_and_its_slices_are_rolled_back(
    db, services, tmp_path, beside
) -> None:
    """Costs of January are written as they come; a cost of closed February further down
    refuses the file: nothing stays."""
    close_period(db, get_or_create_period(db, "2026-02"))
    counted = _counts(db)
    with pytest.raises(ImportRefused) as refused:
        import_fec_costs(db, fec_file(tmp_path, REVERSALS), _rules(db))
    assert beside[-1] is not None and beside[-1].savepoint is None  # rolled back at once
    assert {error.row for error in refused.value.errors} == {10, 12}  # INV and OD lines
    assert all("clôturée" in error.message for error in refused.value.errors)
    assert _counts(db) == counted


def test_an_account_the_chart_does_not_know_is_refused_before_it_is_written(
    db, services, tmp_path, beside
) -> None:
    rows = [*REVERSALS,
            "HA|Achats|H9|20260301|640000|Inconnu|||FA99|20260301|X|5,00|0,00|||20260302||",
            "HA|Achats|H9|20260301|401000|Fournisseurs|||FA99|20260301|X|0,00|5,00|||20260302||"]
    counted = _counts(db)
    with pytest.raises(ImportRefused) as refused:
        import_fec_costs(db, fec_file(tmp_path, rows), [parse_rule(db, "6*=COMPTA")])
    assert [(e.row, e.column) for e in refused.value.errors] == [(14, "CompteNum")]
    assert "Compte 640000 inconnu" in refused.value.errors[0].message
    assert _counts(db) == counted


def test_lines_left_aside_without_confirmation_roll_the_writes_back(
    db, services, tmp_path, beside
) -> None:
    counted = _counts(db)
    rules = [parse_rule(db, "64*=DEV")]  # 606* left aside
    with pytest.raises(ImportRefused, match="laissé de côté"):
        import_fec_costs(db, fec_file(tmp_path, REVERSALS), rules)
    assert beside[-1] is not None and beside[-1].savepoint is not None  # written, then undone
    assert _counts(db) == counted
    result, _ = import_fec_costs(db, fec_file(tmp_path, REVERSALS), rules, accept_unmapped=True)
    assert result.created == 4  # the payroll's two costs, the reversal, the correction


def test_a_file_for_the_line_reader_and_a_dead_reader_fall_back(
    db, services, tmp_path, beside, monkeypatch
) -> None:
    # A padded label: the column reader hands the file to the line reader (which trims).
    padded = [row.replace("|Papier|50,00", "|Papier |50,00") for row in REVERSALS]
    result, _ = import_fec_costs(db, fec_file(tmp_path, padded, "a.txt"), _rules(db))
    assert beside[-1] is None and result.created == 6
    savepoint = db.begin_nested()
    monkeypatch.setattr(fec_beside, "read_fast", lambda *args: os._exit(3))
    with pytest.raises(ImportRefused, match="déjà importé"):  # read again here: same answer
        import_fec_costs(db, fec_file(tmp_path, REVERSALS, "b.txt"), _rules(db))
    assert beside[-1] is None
    savepoint.rollback()


def test_not_read_beside_with_another_thread_or_a_small_file(tmp_path, monkeypatch) -> None:
    path = fec_file(tmp_path, REVERSALS)
    assert fec_beside.first_date(path).isoformat() == "2026-01-31"
    assert not fec_beside.can_read_beside(path)  # 1 KB under BESIDE_BYTES
    monkeypatch.setattr(fec_beside, "BESIDE_BYTES", 0)
    assert fec_beside.can_read_beside(path) == (threading.active_count() == 1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not fec_beside.can_read_beside(path)  # a fork would copy this thread only
    finally:
        stop.set()
        other.join()
    (tmp_path / "odd.txt").write_text("JournalCode\tJournalLib\nVT\t\n", "utf-8")
    assert fec_beside.first_date(tmp_path / "odd.txt") is None


def test_a_refusal_while_writing_stops_the_reader_and_writes_nothing(
    db, services, tmp_path, beside, monkeypatch
) -> None:
    """The writing side fails on its second slice (a cost the writes refuse): the error is
    the caller's, the reading process is stopped, nothing stays."""
    from accounting.costs import CostError

    calls: list[int] = []
    original = fec_beside.add_costs

    def add_costs(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(args[1]))
        if len(calls) == 2:
            raise CostError("Service inconnu.")
        return original(*args, **kwargs)

    monkeypatch.setattr(fec_beside, "add_costs", add_costs)
    counted = _counts(db)
    with pytest.raises(CostError, match="Service inconnu"):
        import_fec_costs(db, fec_file(tmp_path, REVERSALS), _rules(db))
    assert calls == [2, 2]
    assert _counts(db) == counted
