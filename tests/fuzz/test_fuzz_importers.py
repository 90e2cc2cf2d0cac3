"""Fuzzing every importer with the database: valid files of each kind, mutated.

For each example (inside a savepoint, rolled back afterwards), the importer either:
- refuses with ImportRefused, clear French messages, and NOTHING written (every table keeps its
  size: all or nothing at the use-case level, not only once the caller rolls back); or
- accepts, and importing the same bytes again adds nothing (idempotent).
Any other exception fails the test. The FEC reader (no database) is fuzzed with the four real
FEC samples, mutated.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import metadata
from imports.errors import ImportRefused
from imports.tabular import read_table
from tests.fuzz.strategies import (
    SAMPLES,
    count,
    csv_bytes,
    fuzz_settings,
    mutated,
    workbook_bytes,
)

#: Tables whose size may change when the same file is imported again ("already imported" is
#: audited, and the rate-limit counters are not business data).
NOT_CONTENT = {"audit_events", "rate_limits"}


def sizes(db: Session) -> dict[str, int]:
    return {
        name: db.scalar(select(func.count()).select_from(table))
        for name, table in metadata.tables.items()
        if name != "rate_limits"
    }


def content(before: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in before.items() if k not in NOT_CONTENT}


def check_refusal(refused: ImportRefused) -> None:
    assert refused.errors
    for error in refused.errors:
        assert error.message.strip()
        assert "Traceback" not in error.message
    assert str(refused).strip()


def exercise(db: Session, run: Callable[[bytes, str], Any], data: bytes, name: str) -> str:
    """Run one import in a savepoint, check the outcome, roll back; returns the outcome."""
    count("importers (database)")
    savepoint = db.begin_nested()
    try:
        before = sizes(db)
        try:
            run(data, name)
            db.flush()
        except ImportRefused as refused:
            check_refusal(refused)
            db.flush()
            assert sizes(db) == before, "a refused import left rows behind"
            return "refused"
        after = content(sizes(db))
        try:
            run(data, name)
            db.flush()
        except ImportRefused as refused:  # refused the second time: say why, write nothing
            check_refusal(refused)
        assert content(sizes(db)) == after, "importing the same file twice added rows"
        return "accepted"
    finally:
        savepoint.rollback()


# ---------------------------------------------------------------- seeds


def _timesheet_rows() -> list[list[str]]:
    return [
        ["Date", "Intervenant", "Adhérent", "Service", "Durée", "Activité", "Unité", "Quantité",
         "Commentaire"],
        ["05/03/2026", "compta@test.fr", "A", "COMPTA", "1,5", "Tenue comptable", "", "",
         "Clôture"],
        ["2026-03-06", "compta@test.fr", "", "COMPTA", "1h30", "", "", "", "Travail commun"],
        ["06/03/2026", "compta@test.fr", "B", "COMPTA", "", "Paie", "Bulletin de paie", "12", ""],
    ]


KIMAI_HEADER = (
    'Date,From,To,Duration,Currency,Price,"Internal price","Hourly price","Fixed price",Name,User,'
    'E-mail,"Staff number",Customer,Project,Activity,Description,Billable,Tags,Type,category,'
    'Account,"Project number",VAT-ID,"Order number"'
)
KIMAI_LINE = (
    '2026-03-05,09:00,10:30,1:30,EUR,0,0,0,,Comptable,compta,compta@test.fr,,Alpha,Compta,'
    'Paie,"Bulletins de mars",1,,timesheet,,,,,'
)

SEEDS: dict[str, list[tuple[bytes, str]]] = {}
KINDS = ["timesheets", "members", "figures", "costs", "payments", "fec_costs"]


def _seeds() -> dict[str, list[tuple[bytes, str]]]:
    if SEEDS:
        return SEEDS
    timesheet_rows = _timesheet_rows()
    SEEDS["timesheets"] = [
        (csv_bytes(timesheet_rows, ";", "cp1252"), "saisies.csv"),
        (workbook_bytes(timesheet_rows), "saisies.xlsx"),
        (f"{KIMAI_HEADER}\n{KIMAI_LINE}\n".encode(), "export-kimai.csv"),
        *[(p.read_bytes(), p.name) for p in sorted((SAMPLES / "timesheets").rglob("*.csv"))],
    ]
    SEEDS["members"] = [
        (csv_bytes([
            ["Code", "Nom", "Forme juridique", "SIRET", "Adresse", "Date d'adhésion",
             "Date de sortie"],
            ["JD", "Jardins de la Dombes", "Association", "44829012200010", "Villars",
             "01/01/2021", ""],
            ["BC", "SCOP Bois & Co", "SCOP", "", "Trévoux", "2022-06-01", "31/12/2025"],
        ]), "adherents.csv"),
    ]
    SEEDS["figures"] = [
        (csv_bytes([
            ["Adhérent", "Année", "Chiffre d'affaires", "Effectif", "Salariés en insertion",
             "Bénévoles"],
            ["A", "2025", "125 000,50", "3,5", "2", "10"],
            ["B", "2025", "80000", "1", "", ""],
        ]), "chiffres.csv"),
    ]
    SEEDS["costs"] = [
        (csv_bytes([
            ["Date", "Service", "Nature", "Montant", "Compte", "Libellé", "Tiers"],
            ["31/03/2026", "COMPTA", "charge", "2 450,00", "641100", "Salaires mars", ""],
            ["2026-03-15", "COMPTA", "subvention", "1000", "741000", "FSE", "Région"],
        ]), "charges.csv"),
    ]
    SEEDS["fec_costs"] = [
        (p.read_bytes(), p.name) for p in sorted((SAMPLES / "fec").iterdir())
        if p.stat().st_size < 5000
    ]
    SEEDS["payments"] = [
        (csv_bytes([
            ["Date", "Adhérent", "Facture", "Montant", "Référence", "Mode"],
            ["10/03/2026", "A", "", "120,00", "VIR ALPHA", "virement"],
            ["11/03/2026", "B", "", "80", "CHQ 123", "chèque"],
        ]), "releve.csv"),
    ]
    return SEEDS


# ---------------------------------------------------------------- importers


def _importers(db: Session, cluster: Any) -> dict[str, Callable[[bytes, str], Any]]:
    from imports import timesheets as ts_import
    from imports.costs import import_costs
    from imports.fec_costs import import_fec_costs, parse_rule
    from imports.figures import import_figures
    from imports.members import import_members
    from imports.payments import import_payments

    rules = [parse_rule(db, "6*=COMPTA"), parse_rule(db, "7*=COMPTA")]
    folder = Path(tempfile.mkdtemp(prefix="fuzz-fec-"))

    def fec_costs(data: bytes, name: str) -> Any:
        path = folder / name
        path.write_bytes(data)
        return import_fec_costs(db, path, rules, save=False, accept_unmapped=True)

    return {
        "fec_costs": fec_costs,
        "timesheets": lambda data, name: ts_import.import_file(db, cluster.admin, data, name),
        "members": lambda data, name: import_members(db, read_table(data, name)),
        "figures": lambda data, name: import_figures(db, read_table(data, name)),
        "costs": lambda data, name: import_costs(db, read_table(data, name)),
        "payments": lambda data, name: import_payments(db, data, name, today=date(2026, 4, 1)),
    }


@pytest.fixture
def importers(db: Session, cluster: Any) -> dict[str, Callable[[bytes, str], Any]]:
    return _importers(db, cluster)


@pytest.mark.parametrize("kind", KINDS)
def test_each_seed_file_is_accepted_once_then_adds_nothing(
    kind: str, db: Session, importers: dict[str, Callable[[bytes, str], Any]]
) -> None:
    """The seeds are valid files (the real other-tools exports are refused with a reason):
    mutations start from files that go deep into the importers."""
    outcomes = [exercise(db, importers[kind], data, name) for data, name in _seeds()[kind][:3]]
    assert outcomes[0] == "accepted"
    if kind == "timesheets":
        assert outcomes == ["accepted", "accepted", "accepted"]  # template CSV, XLSX, Kimai


@pytest.mark.parametrize("kind", KINDS)
def test_mutated_files_are_imported_whole_or_refused_with_nothing_written(
    kind: str, db: Session, importers: dict[str, Callable[[bytes, str], Any]]
) -> None:
    run = importers[kind]
    seeds = _seeds()[kind]

    @fuzz_settings(share=1.0)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        seed, name = data.draw(st.sampled_from(seeds), label="seed")
        exercise(db, run, data.draw(mutated(seed)), name)

    fuzz()


FEC_SAMPLES = sorted((SAMPLES / "fec").iterdir())


@fuzz_settings(share=0.5)
@given(data=st.data())
def test_mutated_fec_files_are_read_or_refused_line_by_line(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from imports.fec import FecFile, read_fec

    count("FEC reader")
    sample = data.draw(st.sampled_from([p for p in FEC_SAMPLES if p.stat().st_size < 5000]))
    path: Path = tmp_path_factory.mktemp("fec") / sample.name
    path.write_bytes(data.draw(mutated(sample.read_bytes())))
    try:
        result = read_fec(path)
    except ImportRefused as refused:
        check_refusal(refused)
        assert all(e.row is None or e.row >= 1 for e in refused.errors)
        return
    assert isinstance(result, FecFile)
    assert result.total_debit == sum((r.debit for r in result.rows), Decimal(0))


def test_the_large_real_fec_mutated_a_little_is_read_or_refused(tmp_path: Path) -> None:
    """The 5 400-line real fiscal year, with a few edits: one example, it is large."""
    from hypothesis import find
    from hypothesis.errors import HypothesisWarning

    from imports.fec import read_fec

    big = next(p for p in FEC_SAMPLES if p.stat().st_size > 500_000)
    with warnings.catch_warnings():
        # Hypothesis may describe the found example (hundreds of kB) and warns that the repr
        # is large: a note about its own report, not about the code under test.
        warnings.filterwarnings("ignore", "Generating overly large repr", HypothesisWarning)
        mutant = find(mutated(big.read_bytes(), max_ops=3), lambda _: True)
    path = tmp_path / big.name
    path.write_bytes(mutant)
    try:
        read_fec(path)
    except ImportRefused as refused:
        check_refusal(refused)
