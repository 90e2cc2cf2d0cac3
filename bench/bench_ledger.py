# ruff: noqa: E501 - the bare baselines read better with their rows on one line
"""Benchmarks of issue 6 (the ledger and the FEC), each beside the bare library doing the same
raw work in the same run (the machines are shared and noisy: the ratio is the figure to read).

    .venv/bin/python bench/bench_ledger.py                     # everything, 1 000 000 lines
    .venv/bin/python bench/bench_ledger.py --lines 100000 fec-export check-fec
    python -m bench --only ledger                              # through the bench runner

Targets (issue 6):

* FEC export of 1 000 000 ledger lines (from the database to the file) in under 15 s; bare: a
  raw ``sqlite3`` cursor over the same join written by ``csv.writer``;
* ``check-fec`` of 1 000 000 lines in under 10 s; bare: ``pandas.read_csv`` merely reading it;
* FEC import of 1 000 000 lines (validated rows, ``Decimal`` amounts) within 3x
  ``pandas.read_csv`` reading the same file (``dtype=str``, ``QUOTE_NONE``);
* the FEC costs import (issues 15 and 16): its reading and planning, streamed, within 2.5x
  ``pandas.read_csv`` and under 300 MB peak at 1 000 000 lines (``fec-import-preview``);
  the whole import with its writes (costs, entries and lines, batch seals, its audit event,
  committed to a SQLite file) within 3x (``fec-import-costs``, which also prints its writes'
  and its commit's share); each side in a fresh process, so
  the peak (VmHWM) is its own; the import reads the file in a second, forked process while it
  writes (``imports.fec_beside``): that process's peak is printed on its own row, and the CPU
  time printed is both processes';
* the ledger workbook of 1 000 000 lines (Journal, Grand livre, Balance) within 1.3x
  openpyxl's write-only mode (lxml) writing the same cells from a raw cursor, peak memory under
  500 MB (each writer runs in a fresh process, so its peak is its own).

The data is synthetic and deterministic: a cluster of 1 000 members invoiced, paid and buying
over a year, written straight into a SQLite ledger (entries and lines through Core, the way a
year of postings leaves them), cached under ``bench/.cache/`` with the FEC exported from it.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import resource
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.processes import in_fresh_process  # noqa: E402 - after the path is set

CACHE = ROOT / "bench" / ".cache"
SIREN = "123456782"
YEAR = 2025
MEMBERS = 1000
CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------
# The synthetic ledger


def synthetic_entries(lines: int) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Balanced entries until ``lines`` lines: sales (411 / 706 / 445710), payments
    (512 / 411) and purchases (606400 / 401000), over the year, deterministic."""
    start = date(YEAR, 1, 1)
    numbers = {"VT": 0, "BQ": 0, "HA": 0}
    produced = index = 0
    while produced < lines:
        index += 1
        day = start + timedelta(days=index * 7 // 2000 % 365)
        member = index % MEMBERS + 1
        code = f"M{member - 1:04d}"
        cents = 1000 + (index * 7919) % 500000
        journal = ("VT", "VT", "BQ", "HA")[index % 4]
        numbers[journal] += 1
        number = numbers[journal]
        amount = Decimal(cents).scaleb(-2)
        if journal == "VT":
            vat = (amount * Decimal("0.20")).quantize(CENT)
            ref, text = f"{YEAR}-{number:06d}", f"Facture {YEAR}-{number:06d} – Adhérent {code}"
            rows = [(f"411{code}", amount + vat, None, member), ("706100", None, amount, None),
                    ("445710", None, vat, None)]  # fmt: skip
        elif journal == "BQ":
            ref, text = f"RLV-{number:06d}", f"Règlement {code} – Adhérent {code}"
            rows = [("512000", amount, None, None), (f"411{code}", None, amount, member)]
        else:
            ref, text = f"FA-{number:06d}", "Logiciel et fournitures – Comptabilité / gestion"
            rows = [("606400", amount, None, None), ("401000", None, amount, None)]
        entry = {"journal_code": journal, "year": YEAR, "number": number, "entry_date": day,
                 "label": text, "piece_ref": ref, "piece_date": day, "source_type": "bench",
                 "validated_by": "bench",
                 "validated_at": datetime(day.year, day.month, day.day, 18, tzinfo=UTC)
                 + timedelta(days=3)}  # fmt: skip
        entry_lines = [
            {"position": position, "account": account, "member_id": member_id, "label": text,
             "debit": debit or Decimal("0.00"), "credit": credit or Decimal("0.00"),
             "entry_date": day}
            for position, (account, debit, credit, member_id) in enumerate(rows, start=1)
        ]  # fmt: skip
        produced += len(entry_lines)
        yield entry, entry_lines


def ledger_database(lines: int) -> Path:
    """A SQLite database holding a ledger of ``lines`` lines (built once, cached)."""
    path = CACHE / f"ledger-{lines}.db"
    if path.exists():
        return path
    from sqlalchemy import insert

    import app.models  # noqa: F401 - the whole metadata
    from accounting.ledger.models import Account, Journal, JournalEntry, JournalLine
    from accounting.org import Carrier, Member, Service
    from app.database import make_engine
    from app.models import metadata

    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{partial}")
    started = time.perf_counter()
    with engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(insert(Carrier.__table__), [{
            "code": "VH", "name": "Val Horizon", "address": "", "siren": SIREN,
            "vat_regime": "standard", "vat_exemption_mention": "", "payment_terms_days": 30,
            "late_penalty_rate": Decimal("12.00")}])  # fmt: skip
        conn.execute(insert(Member.__table__), [
            {"code": f"M{i:04d}", "name": f"Adhérent M{i:04d}", "legal_form": "", "address": "",
             "joined_on": date(2020, 1, 1)} for i in range(MEMBERS)])  # fmt: skip
        conn.execute(insert(Service.__table__), [{
            "code": "COMPTA", "name": "Comptabilité / gestion", "revenue_account": "706100",
            "expense_account": "6226", "active": True}])  # fmt: skip
        journals = (("VT", "Ventes"), ("BQ", "Banque"), ("HA", "Achats"),
                    ("OD", "Opérations diverses"))  # fmt: skip
        conn.execute(insert(Journal.__table__), [{"code": c, "label": t} for c, t in journals])
        fixed = (("401000", "Fournisseurs"), ("445710", "TVA collectée"), ("512000", "Banque"),
                 ("606400", "Fournitures administratives"),
                 ("706100", "Prestations comptabilité"))  # fmt: skip
        accounts = [{"number": n, "label": label, "active": True} for n, label in fixed]
        accounts += [{"number": f"411M{i:04d}", "label": f"Adhérent M{i:04d}", "member_id": i + 1,
                      "active": True} for i in range(MEMBERS)]  # fmt: skip
        conn.execute(insert(Account.__table__), accounts)
        batch_entries: list[dict[str, Any]] = []
        batch_lines: list[dict[str, Any]] = []
        for entry_id, (entry, entry_lines) in enumerate(synthetic_entries(lines), start=1):
            batch_entries.append({"id": entry_id, **entry})
            batch_lines.extend({"entry_id": entry_id, **line} for line in entry_lines)
            if len(batch_lines) >= 50_000:
                conn.execute(insert(JournalEntry.__table__), batch_entries)
                conn.execute(insert(JournalLine.__table__), batch_lines)
                batch_entries, batch_lines = [], []
        if batch_lines:
            conn.execute(insert(JournalEntry.__table__), batch_entries)
            conn.execute(insert(JournalLine.__table__), batch_lines)
    engine.dispose()
    partial.rename(path)
    print(f"(built {path.name} in {time.perf_counter() - started:.0f} s)", flush=True)
    return path


def cached_fec(lines: int) -> Path:
    """The FEC exported from the cached ledger (exported once, with our exporter)."""
    folder = CACHE / f"fec-{lines}"
    path = folder / f"{SIREN}FEC{YEAR}1231.txt"
    if not path.exists():
        export(ledger_database(lines), folder)
    return path


def export(database: Path, folder: Path) -> Path:
    from sqlalchemy.orm import Session

    from accounting.ledger.fec_export import export_fec
    from app.database import make_engine

    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            path, _ = export_fec(session, YEAR, folder)
    finally:
        engine.dispose()
    return path


# ---------------------------------------------------------------------------------------------
# Measuring


def timed(function: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def _pandas_read(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path, sep="\t", dtype=str, quoting=csv.QUOTE_NONE, keep_default_na=False,
                       encoding="iso-8859-15")  # fmt: skip


_FEC_QUERY = """
SELECT e.journal_code, j.label, e.year, e.number, e.entry_date, l.account, a.label, m.code,
       m.name, e.piece_ref, e.piece_date, l.label, l.debit, l.credit, e.validated_at
FROM journal_entries e JOIN journal_lines l ON e.id = l.entry_id
JOIN journals j ON j.code = e.journal_code JOIN accounts a ON a.number = l.account
LEFT JOIN members m ON m.id = l.member_id
WHERE e.year = ? ORDER BY e.id, l.position
"""


def _bare_fec_export(database: Path, out: Path) -> None:
    """The same join through a raw sqlite3 cursor, the rows written by ``csv.writer``."""
    conn = sqlite3.connect(database)
    try:
        with open(out, "w", encoding="iso-8859-15", errors="replace", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\r\n")
            writer.writerows(conn.execute(_FEC_QUERY, (YEAR,)))
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# Benchmarks (each returns its figures)


def bench_fec_export(lines: int) -> list[tuple]:
    database = ledger_database(lines)
    out = CACHE / "out"
    export(ledger_database(1000), out / "warm-up")  # imports and caches out of the timing
    ours, _ = timed(lambda: export(database, out))
    bare, _ = timed(lambda: _bare_fec_export(database, out / "bare.txt"))
    return [("FEC export (DB -> file)", ours, "s", 15.0 * lines / 1_000_000, bare, None,
             f"{lines} lines; bare: sqlite3 + csv.writer")]  # fmt: skip


def bench_check_fec(lines: int) -> list[tuple]:
    from accounting.fec_check import check_fec

    path = cached_fec(lines)
    _pandas_read(cached_fec(1000))  # imports out of the timing
    ours, issues = timed(lambda: check_fec(path))
    errors = [issue for issue in issues if issue.severity == "error"]  # type: ignore[attr-defined]
    assert not errors, errors[:5]
    bare, _ = timed(lambda: _pandas_read(path))
    return [("check-fec", ours, "s", 10.0 * lines / 1_000_000, bare, None,
             f"{lines} lines; bare: pandas.read_csv")]  # fmt: skip


def bench_fec_import(lines: int) -> list[tuple]:
    from imports.fec import read_fec

    path = cached_fec(lines)
    _pandas_read(cached_fec(1000))  # imports out of the timing
    read_fec(cached_fec(1000))
    bare, _ = timed(lambda: _pandas_read(path))
    ours, result = timed(lambda: read_fec(path))
    assert len(result.rows) >= lines  # type: ignore[attr-defined]
    del result
    return [("FEC import (validated rows)", ours, "s", None, bare, 3.0,
             f"{lines} lines; bare: pandas.read_csv")]  # fmt: skip


def _import_session(url: str = "sqlite://") -> Any:
    """A fresh database (in memory by default) with one shared service."""
    from sqlalchemy.orm import Session

    import app.models  # noqa: F401 - every table
    from accounting.db import Base
    from accounting.org import Service
    from app.database import make_engine

    engine = make_engine(url)
    Base.metadata.create_all(engine)
    session = Session(engine)
    session.add(Service(code="COMPTA", name="Comptabilité / gestion"))
    session.flush()
    return session


def bench_fec_import_preview(lines: int) -> list[tuple]:
    """Issue 15: the whole import but its database writes — read and validate, classify
    every line (imported, counterpart, left aside with its total), map the accounts, plan
    the costs with their fingerprints and look them up — beside pandas reading the file.
    Issue 16: streamed, so its peak memory (each side in a fresh process) is its own."""
    path = str(cached_fec(lines))
    small = str(cached_fec(1000))
    bare, bare_peak = in_fresh_process(_pandas_timed, path, small)
    ours, peak = in_fresh_process(_ours_preview, path, small)
    return _import_rows("FEC import, all but the writes", ours, bare, peak, bare_peak, 2.5,
                        f"{lines} lines, streamed (issue 16: <= 2.5x)")  # fmt: skip


def bench_fec_import_costs(lines: int) -> list[tuple]:
    """Issue 15: the whole FEC costs import — read, classify, plan, then write every cost
    (row, journal entry and lines, batch seals, the import's audit event) into a SQLite file
    and commit — beside pandas reading the same file; each in a fresh process with its peak
    memory."""
    path = str(cached_fec(lines))
    small = str(cached_fec(1000))
    database = CACHE / "out" / f"import-{lines}.db"
    database.parent.mkdir(parents=True, exist_ok=True)
    bare, bare_peak = in_fresh_process(_pandas_timed, path, small)
    (wall, cpu, reader_peak), peak = in_fresh_process(_ours_import, path, small, str(database))
    rows = _import_rows("FEC costs import (with writes)", (wall, cpu), bare, peak, bare_peak,
                        3.0, f"{lines} lines into SQLite, committed")  # fmt: skip
    rows[1] = (*rows[1][:6], "same run, CPU seconds of both processes")
    if reader_peak:  # read in a second process (imports.fec_beside): its own peak
        rows.append(("  the reading process's peak", reader_peak, "MB", 300.0, bare_peak, None,
                     "forked reader (RUSAGE_CHILDREN); bare: pandas.read_csv's"))  # fmt: skip
    return rows


def _import_rows(
    label: str, ours: tuple[float, float], bare: tuple[float, float], peak: float,
    bare_peak: float, ratio: float, note: str,
) -> list[tuple]:  # fmt: skip
    """Wall time (the target), CPU time (what a loaded machine blurs less) and peak memory,
    each beside pandas.read_csv's."""
    return [
        (label, ours[0], "s", None, bare[0], ratio, f"{note}; bare: pandas.read_csv"),
        ("  its CPU time", ours[1], "s", None, bare[1], None, "same run, CPU seconds"),
        ("  its peak memory", peak, "MB", 300.0, bare_peak, None,
         "fresh process (VmHWM); bare: pandas.read_csv's"),
    ]  # fmt: skip


def _cpu_timed(function: Callable[[], object]) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, result)."""
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - started, time.process_time() - cpu, result


def _pandas_timed(path: str, small: str) -> tuple[float, float]:
    _pandas_read(Path(small))  # imports out of the timing
    seconds, cpu, frame = _cpu_timed(lambda: _pandas_read(Path(path)))
    del frame
    return seconds, cpu


def _ours_preview(path: str, small: str) -> tuple[float, float]:
    from imports.fec_costs import parse_rule, preview_fec_costs

    session = _import_session()
    rules = [parse_rule(session, "6*=COMPTA")]
    preview_fec_costs(session, small, rules)  # imports and caches out of the timing
    seconds, cpu, preview = _cpu_timed(lambda: preview_fec_costs(session, path, rules))
    print(f"    ({len(preview.costs)} costs planned, "  # type: ignore[attr-defined]
          f"{len(preview.left_aside)} accounts left aside)", flush=True)  # type: ignore[attr-defined]
    return seconds, cpu


def _ours_import(path: str, small: str, database: str) -> tuple[float, float, float]:
    """(wall, CPU of this process, the reading process's peak MB or 0 when read here)."""
    from sqlalchemy import func, select

    from accounting.costs import Cost
    from accounting.seal import Seal
    from imports import fec_beside, fec_costs
    from imports.fec_costs import import_fec_costs, parse_rule, preview_fec_costs

    Path(database).unlink(missing_ok=True)
    session = _import_session(f"sqlite:///{database}")
    session.commit()
    rules = [parse_rule(session, "6*=COMPTA")]
    preview_fec_costs(session, small, rules)  # imports and caches out of the timing
    session.rollback()

    steps: dict[str, tuple[float, float]] = {}
    add_costs = fec_costs.add_costs

    def writes(*args: Any, **kwargs: Any) -> Any:  # the writes' share, printed
        started, used = time.perf_counter(), time.process_time()
        added = add_costs(*args, **kwargs)
        wall, cpu = steps.get("writes (add_costs)", (0.0, 0.0))
        steps["writes (add_costs)"] = (wall + time.perf_counter() - started,
                                       cpu + time.process_time() - used)  # fmt: skip
        return added

    def run() -> None:
        import_fec_costs(session, path, rules, accept_unmapped=True)
        steps["commit"] = _cpu_timed(session.commit)[:2]

    fec_costs.add_costs = fec_beside.add_costs = writes
    try:
        seconds, cpu, _ = _cpu_timed(run)
    finally:
        fec_costs.add_costs = fec_beside.add_costs = add_costs
    reader = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += reader.ru_utime + reader.ru_stime  # the reading process's too (joined: counted)
    costs = session.scalar(select(func.count()).select_from(Cost))
    seals = session.scalar(select(func.count()).select_from(Seal))
    shares = "; ".join(f"{name} {wall:.2f} s, CPU {used:.2f} s"
                       for name, (wall, used) in steps.items())  # fmt: skip
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    where = ("read in a second process meanwhile" if children else "the rest is the reading")
    print(f"    ({costs} costs written, {seals} seals; {shares}; {where})", flush=True)
    session.close()
    return seconds, cpu, children


def _ours_workbook(database: str, out: str) -> float:
    from sqlalchemy.orm import Session

    from accounting.workbooks.ledger import write_ledger_workbook
    from app.database import make_engine

    engine = make_engine(f"sqlite:///{database}")
    started = time.perf_counter()
    with Session(engine) as session:
        write_ledger_workbook(session, date(YEAR, 1, 1), date(YEAR, 12, 31), out)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


_GL_QUERY = _FEC_QUERY.replace("ORDER BY e.id, l.position",
                               "ORDER BY l.account, l.entry_date, e.id, l.position")  # fmt: skip


def _bare_workbook(database: str, out: str, styled: bool = True) -> float:
    """openpyxl write-only (lxml) writing the same cells from a raw cursor: the journal, the
    general ledger (account title, lines with their balance, subtotal) and the balance.

    ``styled``: dates and amounts carry the same number formats as ours, written the way
    openpyxl documents it (a ``WriteOnlyCell`` per styled cell); without, plain values (dates
    get openpyxl's automatic date format, amounts none).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    started = time.perf_counter()
    conn = sqlite3.connect(database)
    book = Workbook(write_only=True)
    args = (YEAR,)

    def styled_cell(sheet: Any, value: Any, number_format: str) -> Any:
        if value is None or not styled:
            return value
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = number_format
        return cell

    def money(sheet: Any, cents: int | None) -> Any:
        return styled_cell(sheet, Decimal(cents).scaleb(-2) if cents else None, "#,##0.00")

    def day_of(sheet: Any, text: str) -> Any:
        return styled_cell(sheet, date.fromisoformat(text), "DD/MM/YYYY")

    journal = book.create_sheet("Journal")
    journal.append(["Date", "Journal", "N°", "Pièce", "Compte", "Intitulé", "Adhérent", "Libellé",
                    "Débit", "Crédit"])  # fmt: skip
    for (code, _jl, year, number, day, account, label, member, _mn, piece, _pd, text, debit,
         credit, _v) in conn.execute(_FEC_QUERY, args):  # fmt: skip
        journal.append([day_of(journal, day), code, f"{code}{year}-{number:06d}", piece, account,
                        label, member, text, money(journal, debit), money(journal, credit)])  # fmt: skip
    ledger = book.create_sheet("Grand livre")
    ledger.append(["Date", "Journal", "N°", "Pièce", "Libellé", "Débit", "Crédit", "Solde"])
    current, balance = None, 0
    for (code, _jl, year, number, day, account, label, _m, _mn, piece, _pd, text, debit, credit,
         _v) in conn.execute(_GL_QUERY, args):  # fmt: skip
        if account != current:
            if current is not None:
                ledger.append([None, None, None, None, f"Total {current}", None, None,
                               money(ledger, balance)])  # fmt: skip
                ledger.append([])
            current, balance = account, 0
            ledger.append([account, None, None, None, label])
        balance += debit - credit
        ledger.append([day_of(ledger, day), code, f"{code}{year}-{number:06d}", piece, text,
                       money(ledger, debit), money(ledger, credit), money(ledger, balance)])  # fmt: skip
    sheet = book.create_sheet("Balance")
    for row in conn.execute("SELECT account, sum(debit), sum(credit) FROM journal_lines "
                            "GROUP BY account ORDER BY account"):  # fmt: skip
        sheet.append([row[0], money(sheet, row[1]), money(sheet, row[2])])
    book.save(out)
    conn.close()
    return time.perf_counter() - started


def _plain_workbook(database: str, out: str) -> float:
    return _bare_workbook(database, out, styled=False)


def bench_workbook(lines: int) -> list[tuple]:
    database = ledger_database(lines)
    out = CACHE / "out"
    out.mkdir(parents=True, exist_ok=True)
    bare, bare_peak = in_fresh_process(_bare_workbook, str(database), str(out / "bare.xlsx"))
    plain, _ = in_fresh_process(_plain_workbook, str(database), str(out / "plain.xlsx"))
    ours, peak = in_fresh_process(_ours_workbook, str(database), str(out / "ledger.xlsx"))
    return [
        ("ledger workbook", ours, "s", None, bare, 1.3,
         f"{lines} lines; bare: openpyxl write-only, same values and formats"),
        ("ledger workbook vs plain values", ours, "s", None, plain, None,
         "bare: openpyxl write-only, the same values without number formats"),
        ("ledger workbook peak memory", peak, "MB", 500.0, bare_peak, None,
         "fresh process; bare: the same in openpyxl"),
    ]  # fmt: skip


BENCHMARKS: dict[str, Callable[[int], list[tuple]]] = {
    "fec-export": bench_fec_export,
    "check-fec": bench_check_fec,
    "fec-import": bench_fec_import,
    "fec-import-preview": bench_fec_import_preview,
    "fec-import-costs": bench_fec_import_costs,
    "workbook": bench_workbook,
}


# ---------------------------------------------------------------------------------------------
# Entry points: the bench runner (run(ctx)) and the command line


def run(ctx: Any = None, lines: int = 1_000_000) -> list[Any]:
    """The figures for ``python -m bench`` (the ledger builds its own dataset)."""
    from bench import Figure

    figures = []
    for name, bench in BENCHMARKS.items():
        print(f"  {name}...", flush=True)
        for label, value, unit, target, bare, ratio_target, note in bench(lines):
            figures.append(Figure(label, value, unit, target=target, bare=bare,
                                  ratio_target=ratio_target, note=note))  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("which", nargs="*", help=", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    unknown = set(args.which) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    missed = False
    print(f"load average before: {os.getloadavg()}", flush=True)
    for name in args.which or BENCHMARKS:
        for label, value, unit, target, bare, ratio_target, note in BENCHMARKS[name](args.lines):
            ratio = value / bare if bare else None
            verdict = ""
            if target is not None:
                verdict = "ok" if value <= target else "MISSED"
            if ratio_target is not None and ratio is not None:
                verdict = "ok" if ratio <= ratio_target else "MISSED"
            missed |= verdict == "MISSED"
            shown_target = f"<= {target:g} {unit}" if target is not None else (
                f"ratio <= {ratio_target:g}" if ratio_target else "")  # fmt: skip
            ratio_text = f"{ratio:5.2f}x" if ratio else "  —  "
            print(f"{label:<30} {value:8.2f} {unit:<3} bare {bare or 0:8.2f} {unit:<3} ratio "
                  f"{ratio_text}  target {shown_target:<14} {verdict:<6} [{note}]",
                  flush=True)  # fmt: skip
    print(f"load average after: {os.getloadavg()}", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
