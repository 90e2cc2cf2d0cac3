"""Benchmarks of issue 4 (allocation), each beside the bare library doing the same raw work in
the same run (the machines are shared and noisy: the ratio is the figure to read).

    .venv/bin/python bench/bench_allocation.py                 # everything
    .venv/bin/python bench/bench_allocation.py allocate        # some of: allocate workbook
    .venv/bin/python -m bench --only allocation                # through the shared runner

Targets (issue 4), on the large dataset (1 000 members, 20 services, 1 000 000 work entries
over a year, SQLite): computing a year's allocation for all services in under 2 s, the SQL
aggregation included; the treasurer's workbook for 1 000 members in under 10 s with a peak
memory under 500 MB.

Baselines: for ``allocate``, sqlite3 running the same GROUP BY over the work entries and the
costs, plus a largest-remainder split in integer cents of each service's pool over the members
by their minutes (the raw work without keys, proration or explanations); for ``workbook``,
openpyxl's write-only mode writing the same number of cells without styles or formulas.

The dataset is the foundation's synthetic cluster (``mutualise demo --members 1000``: 1 000
members, 50 staff, 20 services of which one is the overheads, 1 000 000 entries in 2025, costs
and subsidies), built on first use into ``bench/.cache/`` through the Alembic chain, with one
key per service (several kinds: composite, common work, units, revenue, headcount).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import resource
import sqlite3
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "bench" / ".cache"
DB_PATH = CACHE / "allocation-m1000-2025.db"
YEAR = 2025
TARGETS = {"allocate": 2.0, "workbook": 10.0, "workbook_mb": 500}
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


def build_dataset() -> None:
    """The synthetic cluster through the production paths, then one key per service."""
    from sqlalchemy.orm import Session

    from app.database import make_engine
    from app.demo import load_demo
    from app.migrate import upgrade

    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = DB_PATH.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    url = f"sqlite:///{tmp}"
    upgrade(url)
    engine = make_engine(url)
    start = time.perf_counter()
    with Session(engine) as db:
        db.info["actor_label"] = "bench"
        load_demo(db, members=1000, last_year=YEAR)
        db.commit()
    engine.dispose()
    add_keys(tmp)
    tmp.rename(DB_PATH)
    print(f"dataset built in {time.perf_counter() - start:.0f} s: {DB_PATH}", flush=True)


def session(path: Path = DB_PATH):  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import Session

    from app.database import make_engine

    return Session(make_engine(f"sqlite:///{path}"))


# ---------------------------------------------------------------- allocate


def bare_allocate(path: Path = DB_PATH) -> float:
    """The raw work: the same aggregations with sqlite3, and an integer-cents largest-remainder
    split of each service's pool by the members' minutes."""
    start = time.perf_counter()
    con = sqlite3.connect(path)
    minutes = con.execute(
        "SELECT service_id, member_id, unit_type_id, SUM(minutes), SUM(quantity) "
        "FROM work_entries WHERE day BETWEEN ? AND ? "
        "GROUP BY service_id, member_id, unit_type_id",
        (f"{YEAR}-01-01", f"{YEAR}-12-31"),
    ).fetchall()
    pools: dict[int, int] = {}
    for table, sign in (("costs", 1), ("subsidies", -1)):
        for sid, total in con.execute(
            f"SELECT service_id, SUM(amount) FROM {table} WHERE day BETWEEN ? AND ? "
            "GROUP BY service_id", (f"{YEAR}-01-01", f"{YEAR}-12-31"),
        ):
            pools[sid] = pools.get(sid, 0) + sign * total
    con.close()
    weights: dict[int, dict[int, int]] = {}
    for sid, mid, _unit, total, _quantity in minutes:
        if mid is not None:
            weights.setdefault(sid, {}).setdefault(mid, 0)
            weights[sid][mid] += total
    for sid, pool in pools.items():
        shares = weights.get(sid)
        if not shares:
            continue
        total = sum(shares.values())
        exact = {m: pool * w for m, w in shares.items()}
        floors = {m: e // total for m, e in exact.items()}
        left = pool - sum(floors.values())
        for m in sorted(exact, key=lambda m: (-(exact[m] % total), m))[:left]:
            floors[m] += 1
    return time.perf_counter() - start


def measure_allocate(path: Path = DB_PATH) -> tuple[float, float, float, str]:
    """(seconds, SQL seconds, bare seconds, note) of a year's allocation, best of three."""
    from accounting.allocation.runs import compute_period
    from accounting.periods import get_or_create_period
    from app.allocation.services import work_totals

    bare = min(bare_allocate(path) for _ in range(3))
    runs = []
    for _ in range(3):
        db = session(path)
        period = get_or_create_period(db, str(YEAR))
        start = time.perf_counter()
        work = work_totals(db, period)
        sql = time.perf_counter() - start
        result = compute_period(db, period, work)
        total = time.perf_counter() - start
        runs.append((total, sql, result))
        db.rollback()
        db.close()
    total, sql, result = min(runs, key=lambda r: r[0])
    assert not result.errors, result.errors
    members = len(result.amounts())
    services = len([s for s in result.services if s.allocation is not None])
    return total, sql, bare, f"{services} services x {members} members, SQL {sql:.3f} s"


def bench_allocate() -> None:
    total, _sql, bare, note = measure_allocate()
    line("allocate a year, all services (SQL + engine)", total,
         f"< {TARGETS['allocate']:.0f} s", bare,
         f"{'OK' if total < TARGETS['allocate'] else 'MISSED'}; {note}")


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


def bench_workbook() -> None:
    seconds, bare, peak, size, cells = measure_workbook()
    ok = seconds < TARGETS["workbook"] and peak < TARGETS["workbook_mb"]
    line("workbook, 1 000 members x 19 services", seconds, f"< {TARGETS['workbook']:.0f} s",
         bare, f"{'OK' if ok else 'MISSED'}; peak {peak:.0f} MB (target < "
         f"{TARGETS['workbook_mb']} MB), {size / 1e6:.1f} MB, {cells} cells")


def add_keys(path: Path) -> None:
    """One key per allocated service, from January 1st (kept when already there)."""
    from sqlalchemy import select

    from accounting.allocation.models import AllocationKey
    from accounting.allocation.runs import set_key
    from accounting.org import Service

    db = session(path)
    db.info["actor_label"] = "bench"
    if db.scalars(select(AllocationKey).limit(1)).first() is None:
        services = db.scalars(
            select(Service).where(Service.overheads_by.is_(None)).order_by(Service.code)
        ).all()
        for index, service in enumerate(services):
            set_key(db, service, KEYS[index % len(KEYS)], date(YEAR, 1, 1),
                    agreed_by="Banc d'essai")
        db.commit()
    db.close()


def run(ctx):  # type: ignore[no-untyped-def]
    """``python -m bench``: the same figures on the shared dataset (a scratch copy gets the
    keys)."""
    from bench import Figure

    path = ctx.scratch_copy("allocation")
    add_keys(path)
    total, _sql, bare, note = measure_allocate(path)
    seconds, wb_bare, peak, _size, cells = measure_workbook(path)
    return [
        Figure("allocation of a year, all services (SQL + engine)", total, "s",
               target=TARGETS["allocate"], bare=bare, note=note),
        Figure(f"allocation workbook, {cells} cells", seconds, "s",
               target=TARGETS["workbook"], bare=wb_bare),
        Figure("allocation workbook, peak memory", peak, "MB", target=TARGETS["workbook_mb"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="*", help="allocate, workbook (default: both)")
    args = parser.parse_args()
    unknown = set(args.what) - {"allocate", "workbook"}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if not DB_PATH.exists():
        build_dataset()
    what = args.what or ["allocate", "workbook"]
    if "allocate" in what:
        bench_allocate()
    if "workbook" in what:
        bench_workbook()


if __name__ == "__main__":
    main()
