"""Benchmarks of the allocation (issues 4 and 16), each beside the bare library doing the same
raw work in the same run (the machines are shared and noisy: the ratio is the figure to read).

    .venv/bin/python bench/bench_allocation.py                 # everything
    .venv/bin/python bench/bench_allocation.py allocate        # some of: allocate workbook
    .venv/bin/python bench/bench_allocation.py allocate --database-url postgresql+psycopg://...
    .venv/bin/python -m bench --only allocation                # through the shared runner

Targets, on the large dataset (1 000 members, 20 services of which one is the overheads,
1 000 000 work entries over a year): the allocation of a quarter (about 252 000 entries) and of
a year, all services, within 2x the bare SQL aggregates it needs (issue 16); the treasurer's
workbook for 1 000 members in under 10 s with a peak memory under 500 MB (issue 4). The script
exits with status 1 when a target is missed.

Anchors: for ``allocate``, the DB-API driver alone (sqlite3, or psycopg) running the same
aggregate queries as ``allocate_period`` — minutes and units per service and member, the count
of entries not approved, costs and subsidies per service — and fetching every row, alternated
with ours in the same run (medians; the ratio is the median of the runs' ratios). Ours is
``allocate_period`` (SQL, keys, step-down, engine) plus the members' amounts, in a fresh
session. For ``workbook``, openpyxl's write-only mode writing the same number of cells without
styles or formulas.

The dataset is the foundation's synthetic cluster (``mutualise demo --members 1000``), built on
first use through the Alembic chain (into ``bench/.cache/`` on SQLite, or into the empty
database given by ``--database-url``), with one key per service (several kinds: composite,
common work, units, revenue, headcount).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "bench" / ".cache"
DB_PATH = CACHE / "allocation-m1000-2025.db"
YEAR = 2025
TARGETS = {"allocate_ratio": 2.0, "workbook": 10.0, "workbook_mb": 500}
KEYS = [
    "25% equal + 75% hours",
    "30% equal + 70% hours, common_by=revenue",
    "units",
    "20% equal + 80% units, common_by=equal",
    "revenue",
    "50% headcount + 50% hours",
    "equal",
]


def line(name: str, seconds: float, target: str, bare: float | None = None, note: str = "") -> None:
    ratio = f"  ratio {seconds / bare:5.2f}x (bare {bare:6.3f} s)" if bare else ""
    print(f"{name:<46} {seconds:7.3f} s   target {target:<10}{ratio} {note}", flush=True)


# ---------------------------------------------------------------- dataset


def build_dataset(url: str | None = None) -> None:
    """The synthetic cluster through the production paths, then one key per service (into
    ``bench/.cache/`` on SQLite, or into the empty database at ``url``)."""
    from sqlalchemy.orm import Session

    from app.database import make_engine
    from app.demo import load_demo
    from app.migrate import upgrade

    tmp = DB_PATH.with_suffix(".tmp")
    if url is None:
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
    target = url or f"sqlite:///{tmp}"
    upgrade(target)
    engine = make_engine(target)
    start = time.perf_counter()
    with Session(engine) as db:
        db.info["actor_label"] = "bench"
        load_demo(db, members=1000, last_year=YEAR)
        db.commit()
    add_keys(target)
    with engine.connect() as con:  # the planners' statistics (PostgreSQL's were empty)
        con.exec_driver_sql("ANALYZE")
        con.commit()
    engine.dispose()
    if url is None:
        tmp.rename(DB_PATH)
    print(f"dataset built in {time.perf_counter() - start:.0f} s: {url or DB_PATH}", flush=True)


def session(path: Path = DB_PATH):  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import Session

    from app.database import make_engine

    return Session(make_engine(f"sqlite:///{path}"))


# ---------------------------------------------------------------- allocate


def _bare_queries(dialect: str) -> list[str]:
    """The aggregates the allocation needs, as ``allocate_period`` sends them: minutes and
    units per service and member, the entries not approved, costs and subsidies per service
    (on SQLite with the same index hints)."""
    hint = (lambda name: f" INDEXED BY {name}") if dialect == "sqlite" else (lambda name: "")
    mark = "?" if dialect == "sqlite" else "%s"
    period = f"day >= {mark} AND day <= {mark}"
    return [
        f"SELECT service_id, member_id, SUM(minutes) FROM work_entries"
        f"{hint('ix_work_entries_service_day')} WHERE {period} GROUP BY service_id, member_id",
        f"SELECT service_id, member_id, unit_type_id, SUM(quantity) FROM work_entries"
        f"{hint('ix_work_entries_day')} WHERE {period} AND unit_type_id IS NOT NULL "
        "GROUP BY service_id, member_id, unit_type_id",
        f"SELECT COUNT(*) FROM work_entries{hint('ix_work_entries_day')} WHERE {period} "
        "AND status != 'approved'",
        f"SELECT service_id, SUM(amount) FROM costs WHERE {period} GROUP BY service_id",
        f"SELECT service_id, SUM(amount) FROM subsidies WHERE {period} GROUP BY service_id",
    ]


def bare_sql(engine, start: date, end: date) -> float:  # type: ignore[no-untyped-def]
    """The anchor: the DB-API driver alone running the aggregates the allocation needs and
    fetching every row (no ORM, no types, no engine)."""
    queries = _bare_queries(engine.dialect.name)
    con = engine.raw_connection()
    try:
        started = time.perf_counter()
        cursor = con.cursor()
        for sql in queries:
            cursor.execute(sql, (start, end) if engine.dialect.name != "sqlite"
                           else (start.isoformat(), end.isoformat()))
            cursor.fetchall()
        seconds = time.perf_counter() - started
        con.rollback()
    finally:
        con.close()
    return seconds


def ours_allocate(engine, code: str) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    """``allocate_period`` (the entry point of the pages and the CLI: SQL aggregation, keys,
    step-down, engine) and the members' amounts, in a fresh session; nothing kept after."""
    from sqlalchemy.orm import Session

    from accounting.periods import get_or_create_period
    from app.allocation.services import allocate_period

    with Session(engine) as db:
        period = get_or_create_period(db, code)
        started = time.perf_counter()
        result = allocate_period(db, period)
        amounts = result.amounts()
        seconds = time.perf_counter() - started
        assert not result.errors, result.errors
        services = len([s for s in result.services if s.allocation is not None])
        db.rollback()
    return seconds, services, len(amounts)


def measure_allocate(engine, code: str, repeat: int = 5) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Ours and the anchor alternated ``repeat`` times after a warm-up (the machine is shared:
    both see the same load); medians, and the median of the per-run ratios."""
    from sqlalchemy.orm import Session

    import app.models  # noqa: F401 - every table, for the foreign keys of a new period
    from accounting.periods import get_or_create_period

    with Session(engine) as db:
        period = get_or_create_period(db, code)
        start, end = period.start, period.end
        db.commit()
    ours_allocate(engine, code)
    bare_sql(engine, start, end)
    mine, theirs, cpu = [], [], []
    for _ in range(repeat):
        started_cpu = time.process_time()
        seconds, services, members = ours_allocate(engine, code)
        cpu.append(time.process_time() - started_cpu)
        mine.append(seconds)
        theirs.append(bare_sql(engine, start, end))
    median = statistics.median
    return {
        "ours": median(mine), "bare": median(theirs), "cpu": median(cpu),
        "ratio": median(m / t for m, t in zip(mine, theirs, strict=True)),
        "services": services, "members": members, "start": start, "end": end,
    }


def bench_allocate(url: str, repeat: int = 5) -> bool:
    """A quarter and a year, each beside the bare aggregates; False when a target is missed."""
    from app.database import make_engine

    engine = make_engine(url)
    ok = True
    try:
        entries = _entries(engine)
        for code, what in ((f"{YEAR}-T4", "a quarter"), (str(YEAR), "a year")):
            m = measure_allocate(engine, code, repeat)
            within = m["ratio"] <= TARGETS["allocate_ratio"]
            ok = ok and within
            line(f"allocate {what} ({entries[code]} entries), {engine.dialect.name}",
                 m["ours"], f"<= {TARGETS['allocate_ratio']:.0f}x bare", m["bare"],
                 f"{'OK' if within else 'MISSED'}; median of {repeat}, ratio = median of the "
                 f"runs' ratios {m['ratio']:.2f}x; CPU {m['cpu']:.3f} s; {m['services']} "
                 f"services x {m['members']} members; load {os.getloadavg()[0]:.1f}")
    finally:
        engine.dispose()
    return ok


def _entries(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    count = text("SELECT COUNT(*) FROM work_entries WHERE day >= :a AND day <= :b")
    with engine.connect() as con:
        year = con.execute(count, {"a": date(YEAR, 1, 1), "b": date(YEAR, 12, 31)}).scalar()
        quarter = con.execute(count, {"a": date(YEAR, 10, 1), "b": date(YEAR, 12, 31)}).scalar()
    return {str(YEAR): year, f"{YEAR}-T4": quarter}


# ---------------------------------------------------------------- workbook


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ours(queue: multiprocessing.Queue, path: Path) -> None:  # type: ignore[type-arg]
    from accounting.allocation.runs import compute_period
    from accounting.periods import get_or_create_period
    from accounting.workbooks.allocation import write_allocation_workbook
    from accounting.workbooks.charges import charges_for
    from app.allocation.services import work_totals

    db = session(path)
    period = get_or_create_period(db, str(YEAR))
    result = compute_period(db, period, work_totals(db, period))
    charges = charges_for(db, result)
    before = _peak_mb()
    out = io.BytesIO()
    start = time.perf_counter()
    cells = write_allocation_workbook(result, charges, out)
    seconds = time.perf_counter() - start
    queue.put((seconds, _peak_mb(), before, len(out.getvalue()), cells))


def _bare(queue: multiprocessing.Queue, cells: int) -> None:  # type: ignore[type-arg]
    from openpyxl import Workbook

    start = time.perf_counter()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("bare")
    row = [1234.56] * 10
    for _ in range(cells // 10):
        ws.append(row)
    wb.save(io.BytesIO())
    queue.put(time.perf_counter() - start)


def measure_workbook(path: Path = DB_PATH) -> tuple[float, float, float, int, int]:
    """(seconds, bare seconds, peak MB, size, cells), each side in a spawned process of its
    own so that the peak memory is the workbook's."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_ours, args=(queue, path))
    process.start()
    seconds, peak, _before, size, cells = queue.get()
    process.join()
    process = ctx.Process(target=_bare, args=(queue, cells))
    process.start()
    bare = queue.get()
    process.join()
    return seconds, bare, peak, size, cells


def bench_workbook() -> bool:
    seconds, bare, peak, size, cells = measure_workbook()
    ok = seconds < TARGETS["workbook"] and peak < TARGETS["workbook_mb"]
    line("workbook, 1 000 members x 19 services", seconds, f"< {TARGETS['workbook']:.0f} s",
         bare, f"{'OK' if ok else 'MISSED'}; peak {peak:.0f} MB (target < "
         f"{TARGETS['workbook_mb']} MB), {size / 1e6:.1f} MB, {cells} cells")
    return ok


def add_keys(url: str) -> None:
    """One key per allocated service, from January 1st (kept when already there). The engine
    is disposed of so that SQLite folds its write-ahead log into the file before it is
    renamed (the keys were lost with the log otherwise)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from accounting.allocation.models import AllocationKey
    from accounting.allocation.runs import set_key
    from accounting.org import Service
    from app.database import make_engine

    engine = make_engine(url)
    with Session(engine) as db:
        db.info["actor_label"] = "bench"
        if db.scalars(select(AllocationKey).limit(1)).first() is None:
            services = db.scalars(
                select(Service).where(Service.overheads_by.is_(None)).order_by(Service.code)
            ).all()
            for index, service in enumerate(services):
                set_key(db, service, KEYS[index % len(KEYS)], date(YEAR, 1, 1),
                        agreed_by="Banc d'essai")
            db.commit()
    engine.dispose()


def run(ctx):  # type: ignore[no-untyped-def]
    """``python -m bench``: the same figures on the shared dataset (a scratch copy gets the
    keys)."""
    from app.database import make_engine
    from bench import Figure

    path = ctx.scratch_copy("allocation")
    add_keys(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    figures = []
    for code, what in ((f"{YEAR}-T4", "a quarter"), (str(YEAR), "a year")):
        m = measure_allocate(engine, code)
        figures.append(Figure(
            f"allocation of {what}, all services (SQL + engine)", m["ours"], "s",
            bare=m["bare"], ratio_target=TARGETS["allocate_ratio"],
            note=f"{m['services']} services x {m['members']} members, CPU {m['cpu']:.3f} s",
        ))
    engine.dispose()
    seconds, wb_bare, peak, _size, cells = measure_workbook(path)
    return [
        *figures,
        Figure(f"allocation workbook, {cells} cells", seconds, "s",
               target=TARGETS["workbook"], bare=wb_bare),
        Figure("allocation workbook, peak memory", peak, "MB", target=TARGETS["workbook_mb"]),
    ]


def _has_dataset(url: str) -> bool:
    from sqlalchemy import inspect, text

    from app.database import make_engine

    engine = make_engine(url)
    try:
        if "work_entries" not in inspect(engine).get_table_names():
            return False
        with engine.connect() as con:
            return bool(con.execute(text("SELECT COUNT(*) FROM work_entries")).scalar())
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="*", help="allocate, workbook (default: both)")
    parser.add_argument("--database-url", help="allocate on this database (built when empty; "
                        "default: the SQLite file under bench/.cache/)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each side (median)")
    args = parser.parse_args()
    unknown = set(args.what) - {"allocate", "workbook"}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.database_url:
        if not _has_dataset(args.database_url):
            build_dataset(args.database_url)
    elif not DB_PATH.exists():
        build_dataset()
    what = args.what or ["allocate", "workbook"]
    ok = True
    if "allocate" in what:
        ok = bench_allocate(args.database_url or f"sqlite:///{DB_PATH}", args.repeat) and ok
    if "workbook" in what:
        ok = bench_workbook() and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
