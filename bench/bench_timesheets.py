# ruff: noqa: E501 - long SQL statements of the bare baselines read better on one line
"""Benchmarks of issue 3 (timesheets), each beside the bare library doing the same raw work in
the same run (the machines are shared and noisy: the ratio is the figure to read).

    .venv/bin/python bench/bench_timesheets.py                 # everything
    .venv/bin/python bench/bench_timesheets.py pages summary   # some of: pages summary import export

Targets (issue 3), on the large dataset (1 000 members, 50 staff, 1 000 000 entries over ten
years, SQLite): the list page and the weekly grid in under 100 ms of server time; the monthly
summary for all members in under 1 s; a 100 000-row CSV import (validate + insert) within 3x
``pandas.read_csv`` of the same file plus a bare bulk insert of the same rows; the XLSX export of
100 000 entries within 1.3x openpyxl's write-only mode writing the same cells, peak memory under
200 MB.

The dataset is synthetic and deterministic, built on first use into ``bench/.cache/`` (about a
minute) and reused.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import resource
import sqlite3
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timesheets_dataset import (  # noqa: E402
    CACHE,
    DB_PATH,
    ENTRIES,
    FIRST_DAY,
    LAST_DAY,
    MEMBERS,
    PASSWORD,
    STAFF,
    ensure_dataset,
)


def line(
    name: str,
    seconds: float,
    target: str,
    bare: float | None = None,
    note: str = "",
    ratio: float | None = None,
) -> None:
    """One figure beside its target; with ``bare``, the ratio (``ratio`` when the median of
    paired runs was measured, else ours / bare)."""
    shown = ""
    if bare:
        shown = f"  ratio {ratio or seconds / bare:5.2f}x (bare {bare * 1000:8.1f} ms)"
    print(f"{name:<44} {seconds * 1000:9.1f} ms   target {target:<22}{shown} {note}", flush=True)


def paired(ours, bare, repeat: int = 9) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Ours and the bare library alternated ``repeat`` times after a warm-up (the machine is
    shared: both see the same load): medians of ours, of bare, and of the per-run ratios."""
    ours()
    bare()
    mine, theirs = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        ours()
        mine.append(time.perf_counter() - started)
        started = time.perf_counter()
        bare()
        theirs.append(time.perf_counter() - started)
    median = statistics.median
    return median(mine), median(theirs), median(m / t for m, t in zip(mine, theirs, strict=True))


# ---------------------------------------------------------------- dataset


def make_app():  # type: ignore[no-untyped-def]
    from app import create_app

    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{DB_PATH}",
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "TESTING": True,
            "MUTUALISE_ENV": "testing",
        }
    )


def timed(fn, repeat: int = 7) -> float:  # type: ignore[no-untyped-def]
    """Median of ``repeat`` runs after one warm-up."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


# ---------------------------------------------------------------- benchmarks


def bench_pages() -> None:
    app = make_app()
    client = app.test_client()
    response = client.post("/login", data={"email": "admin@bench.fr", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    today = date.today()
    month_start = today.replace(day=1).isoformat()
    con = sqlite3.connect(DB_PATH)

    month_end = (today.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    joins = (
        "FROM work_entries w JOIN users u ON u.id = w.staff_id JOIN services s ON s.id = w.service_id "
        "LEFT JOIN members m ON m.id = w.member_id LEFT JOIN activities a ON a.id = w.activity_id "
    )
    columns = "SELECT w.id, w.day, u.name, m.code, s.code, a.name, w.minutes, w.quantity, w.note, w.status "

    def bare_list(where: str, args: tuple, order: str, offset: int):  # type: ignore[no-untyped-def]
        """sqlite3 alone: the page's rows and the count and sum of the filtered set."""

        def run() -> None:
            con.execute(
                f"{columns}{joins}{where} ORDER BY {order} LIMIT 50 OFFSET {offset}", args
            ).fetchall()
            con.execute(
                f"SELECT count(*), sum(minutes) FROM work_entries w {where}", args
            ).fetchall()

        return run

    def page(url: str):  # type: ignore[no-untyped-def]
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    month = ("WHERE w.day BETWEEN ? AND ?", (month_start, month_end.isoformat()))
    for name, url, bare, target, repeat in (
        (
            "list page (current month, 50 rows + totals)",
            "/temps/saisies",
            bare_list(*month, "w.day DESC, w.id DESC", 0),
            "< 100 ms",
            9,
        ),
        (
            "list page, month sorted by staff, page 20",
            "/temps/saisies?tri=staff&page=20",
            bare_list(*month, "u.name, w.day DESC, w.id", 950),
            "< 100 ms",
            9,
        ),
        (
            "list page, ten years (no date filter), page 2",
            "/temps/saisies?du=&au=&page=2",
            bare_list("", (), "w.day DESC, w.id DESC", 50),
            "(information)",
            3,
        ),
    ):
        ours, bare_s, ratio = paired(page(url), bare, repeat)
        line(name, ours, target, bare_s, ratio=ratio)
    week_day = (today - timedelta(days=7)).isoformat()

    def bare_week() -> None:
        con.execute(
            "SELECT id, day, minutes, service_id, member_id, activity_id, unit_type_id, status FROM work_entries "
            "WHERE staff_id = ? AND day BETWEEN ? AND ?",
            (3, week_day, today.isoformat()),
        ).fetchall()

    ours, bare_s, ratio = paired(page(f"/temps/semaine?jour={week_day}&intervenant=3"), bare_week)
    line("weekly grid of one staff", ours, "< 100 ms", bare_s, ratio=ratio)
    ours, bare_s, ratio = paired(
        page("/temps/adherents.json"),
        lambda: con.execute("SELECT code, name FROM members ORDER BY code").fetchall(),
    )
    line("member suggestions (1 000 members, JSON)", ours, "(information)", bare_s, ratio=ratio)
    con.close()


def bench_summary() -> None:
    from sqlalchemy.orm import Session

    from app.database import make_engine
    from timesheets.summaries import monthly_summary

    engine = make_engine(f"sqlite:///{DB_PATH}")
    first = date.today().replace(day=1) - timedelta(days=1)
    start, end = first.replace(day=1), first
    con = sqlite3.connect(DB_PATH)

    def bare() -> None:
        con.execute(
            "SELECT strftime('%Y', day), strftime('%m', day), service_id, member_id, unit_type_id, sum(minutes), sum(quantity) "
            "FROM work_entries WHERE day BETWEEN ? AND ? GROUP BY 1, 2, 3, 4, 5",
            (start.isoformat(), end.isoformat()),
        ).fetchall()

    with Session(engine) as session:
        ours = timed(lambda: monthly_summary(session, start, end))
        rows = len(monthly_summary(session, start, end).rows)
    line(f"monthly summary, all members ({rows} rows)", ours, "< 1 s", timed(bare))
    year = timed(lambda: _summary_year(engine), repeat=3)
    line("summary of a whole year", year, "(information)")
    con.close()


def _summary_year(engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import Session

    from timesheets.summaries import monthly_summary

    with Session(engine) as session:
        monthly_summary(session, date(2025, 1, 1), date(2025, 12, 31))


def _import_csv(rows: int) -> bytes:
    lines = ["Date;Intervenant;Adhérent;Service;Durée;Activité;Unité;Quantité;Commentaire"]
    for i in range(rows):
        # One line per staff and day: the import checks 24 h a day against stored entries.
        day = date(2017, 1, 2) + timedelta(days=i // STAFF)
        lines.append(
            f"{day:%d/%m/%Y};staff{1 + i % STAFF}@bench.fr;M{1 + (i * 31) % MEMBERS:04d};"
            f"{'COMPTA' if (1 + i % STAFF) % 2 else 'DEV'};{['1,5', '0:45', '1h15', '30m'][i % 4]};;;;ligne {i}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def bench_import(rows: int = 100_000, repeat: int = 3, url: str | None = None) -> bool:
    """Our import (read, validate, resolve, check rules, fingerprint, insert, audit) against
    the anchor of issue 16: ``pandas.read_csv`` of the same file plus the DB-API driver's own
    ``cursor.executemany`` of the same rows (values already in the driver's types), alternated
    ``repeat`` times in the same run, both rolled back each time; medians. Returns whether the
    ratio is within 2x. On SQLite it runs on a copy of the dataset (the import checks the day
    totals against the stored entries); ``url``: an empty PostgreSQL database is given the
    same reference data (members, services, staff)."""
    import shutil

    from sqlalchemy.orm import Session

    from accounting.org import Role, User
    from app.database import make_engine
    from imports.timesheets import analyse, entry_rows

    data = _import_csv(rows)
    work = CACHE / "import-bench.db"
    if url is None:
        shutil.copy(DB_PATH, work)
        url = f"sqlite:///{work}"
    engine = make_engine(url)
    if engine.dialect.name != "sqlite":
        _reference_on(engine)
    actor = User(email="bench", name="bench", roles=Role.ADMIN.value)
    # The same rows: those our import inserts, worked out once, untimed (same import keys,
    # days, staff and members: their index entries cost what ours cost).
    with Session(engine) as session:
        report = analyse(session, actor, data, "bench.csv")
        sql, records = entry_rows(engine.dialect, None, report.new)
        session.rollback()
    # For information: the same number of easy rows (one staff, one day, sequential keys), the
    # anchor of the earlier versions of this bench; their index entries are appended, not
    # spread over the B-trees, which costs the driver about a third.
    easy_rows = [
        (2, records[0][1], 90, 1, 1, None, None, None, f"ligne {i}", "draft", "", f"bare-{i}",
         *records[0][12:])
        for i in range(len(records))
    ]
    runs = _ImportRuns()
    for _ in range(repeat):
        read, inserted = runs.bare(engine, data, sql, records, easy_rows)
        runs.samples.append((runs.ours(engine, actor, data, rows), read, inserted))
    dialect = engine.dialect.name
    engine.dispose()
    work.unlink(missing_ok=True)
    return runs.report(rows, repeat, dialect)


class _ImportRuns:
    """The alternated runs of :func:`bench_import`: (ours, read, insert) seconds per run, the
    CPU of each side in this process and the easy rows' insert times."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float, float]] = []
        self.cpu: dict[str, list[float]] = {"ours": [], "bare": []}
        self.easy: list[float] = []

    def bare(self, engine, data: bytes, sql: str, records: list, easy_rows: list  # type: ignore[no-untyped-def]
             ) -> tuple[float, float]:  # fmt: skip
        """``pandas.read_csv`` of the file, then the driver's ``executemany`` of our rows
        (rolled back), then of the easy rows (rolled back): (read, insert) seconds."""
        import pandas

        sqlite = engine.dialect.name == "sqlite"
        started, started_cpu = time.perf_counter(), time.process_time()
        pandas.read_csv(io.BytesIO(data), sep=";", dtype=str, keep_default_na=False)
        read = time.perf_counter() - started
        con = engine.raw_connection()
        try:
            cursor = con.cursor()
            if sqlite:
                cursor.execute("BEGIN")  # the engine leaves transactions to SQLAlchemy
            started = time.perf_counter()
            cursor.executemany(sql, records)
            inserted = time.perf_counter() - started
            self.cpu["bare"].append(time.process_time() - started_cpu)
            con.rollback()
            if sqlite:
                cursor.execute("BEGIN")
            started = time.perf_counter()
            cursor.executemany(sql, easy_rows)
            self.easy.append(time.perf_counter() - started)
            con.rollback()
        finally:
            con.close()
        return read, inserted

    def ours(self, engine, actor, data: bytes, rows: int) -> float:  # type: ignore[no-untyped-def]
        """Our whole import of the file, rolled back: its wall seconds."""
        from sqlalchemy.orm import Session

        from imports.timesheets import import_file

        with Session(engine) as session:
            started, started_cpu = time.perf_counter(), time.process_time()
            report = import_file(session, actor, data, "bench.csv")
            seconds = time.perf_counter() - started
            self.cpu["ours"].append(time.process_time() - started_cpu)
            assert report.added == rows, report.summary()
            session.rollback()
        return seconds

    def report(self, rows: int, repeat: int, dialect: str) -> bool:
        """Print the medians beside the anchor; whether the ratio is within 2x."""
        median, samples = statistics.median, self.samples
        ratio = median(s[0] / (s[1] + s[2]) for s in samples)
        line(
            f"CSV import of {rows} rows, {dialect}",
            median(s[0] for s in samples),
            "<= 2x bare",
            median(s[1] + s[2] for s in samples),
            f"{'OK' if ratio <= 2 else 'MISSED'} (pandas.read_csv "
            f"{median(s[1] for s in samples) * 1000:.0f} ms + driver executemany "
            f"{median(s[2] for s in samples) * 1000:.0f} ms; median of {repeat}, ratio of each "
            f"run {', '.join(f'{s[0] / (s[1] + s[2]):.2f}' for s in samples)}; CPU ours "
            f"{median(self.cpu['ours']):.2f} s, bare {median(self.cpu['bare']):.2f} s in this "
            f"process; load {os.getloadavg()[0]:.1f}; for information, executemany of as many "
            f"easy rows {median(self.easy) * 1000:.0f} ms)",
            ratio=ratio,
        )
        return ratio <= 2


def _reference_on(engine) -> None:  # type: ignore[no-untyped-def]
    """The dataset's members, users, services, activities and unit types (not its entries)
    copied into the database of ``engine`` when it has none, through the Alembic chain and
    the tables' own types."""
    from sqlalchemy import func, insert, select

    from app.database import make_engine
    from app.migrate import upgrade
    from app.models import metadata

    with engine.connect() as con:
        upgrade(connection=con)
        con.commit()
        if con.execute(select(func.count()).select_from(metadata.tables["members"])).scalar():
            return
    source = make_engine(f"sqlite:///{DB_PATH}")
    with source.connect() as read, engine.begin() as write:
        for name in ("members", "users", "services", "activities", "unit_types"):
            table = metadata.tables[name]
            rows = [dict(row._mapping) for row in read.execute(select(table))]
            write.execute(insert(table), rows)
    source.dispose()


def _peak_kb() -> int:
    """Peak resident memory of this process, in kB: ``VmHWM`` of its own address space
    (``ru_maxrss`` would carry the parent's peak over the fork and exec of a spawned child)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for text in status:
            if text.startswith("VmHWM:"):
                return int(text.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _export_ours(queue) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import Session

    from accounting.org import Role, User
    from app.database import make_engine
    from timesheets.export import write_entries_xlsx
    from timesheets.listing import EntryFilter, export_rows

    engine = make_engine(f"sqlite:///{DB_PATH}")
    actor = User(email="bench", name="bench", roles=Role.ADMIN.value)
    start, end = _export_range()
    with Session(engine) as session:
        started = time.perf_counter()
        count = write_entries_xlsx(
            export_rows(session, actor, EntryFilter(start=start, end=end)),
            str(CACHE / "export-ours.xlsx"),
        )
        seconds = time.perf_counter() - started
    queue.put((seconds, count, _peak_kb()))


def _export_bare(queue) -> None:  # type: ignore[no-untyped-def]
    """openpyxl write-only (lxml) writing the same cells, values fetched by sqlite3."""
    from openpyxl import Workbook

    start, end = _export_range()
    con = sqlite3.connect(DB_PATH)
    rows = con.execute(
        "SELECT w.day, u.name, u.email, m.code, m.name, s.code, a.name, w.minutes, t.name, w.quantity, w.note, w.status "
        "FROM work_entries w JOIN users u ON u.id = w.staff_id JOIN services s ON s.id = w.service_id "
        "LEFT JOIN members m ON m.id = w.member_id LEFT JOIN activities a ON a.id = w.activity_id "
        "LEFT JOIN unit_types t ON t.id = w.unit_type_id WHERE w.day BETWEEN ? AND ? ORDER BY w.day, u.name, w.id",
        (start.isoformat(), end.isoformat()),
    )
    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Temps")
    sheet.append(
        [
            "Date",
            "Intervenant",
            "E-mail",
            "Code",
            "Adhérent",
            "Service",
            "Activité",
            "Heures",
            "Minutes",
            "Unité",
            "Quantité",
            "Commentaire",
            "Statut",
        ]
    )
    count = 0
    for (
        day,
        staff,
        email,
        code,
        member,
        service,
        activity,
        minutes,
        unit,
        quantity,
        note,
        status,
    ) in rows:
        sheet.append(
            [
                date.fromisoformat(day),
                staff,
                email,
                code,
                member,
                service,
                activity,
                minutes / 60,
                minutes,
                unit,
                quantity,
                note or None,
                status,
            ]
        )
        count += 1
    workbook.save(str(CACHE / "export-bare.xlsx"))
    queue.put((time.perf_counter() - started, count, _peak_kb()))


def _export_range() -> tuple[date, date]:
    """About 100 000 entries: a little more than one year of the ten."""
    span = (LAST_DAY - FIRST_DAY).days * 100_000 // ENTRIES
    start = date(2020, 1, 1)
    return start, start + timedelta(days=span - 1)


def bench_export(repeat: int = 3) -> None:
    """Each writer in a fresh process ("spawn": its peak memory is its own, not the parent's
    pages inherited by a fork), ours and bare alternated ``repeat`` times; medians."""
    context = multiprocessing.get_context("spawn")
    runs: dict[str, list[tuple[float, int, int]]] = {"bare": [], "ours": []}
    for _ in range(repeat):
        for name, target in (("bare", _export_bare), ("ours", _export_ours)):
            queue = context.Queue()
            process = context.Process(target=target, args=(queue,))
            process.start()
            runs[name].append(queue.get())
            process.join()
    median = statistics.median
    seconds = median(r[0] for r in runs["ours"])
    bare_seconds = median(r[0] for r in runs["bare"])
    ratios = [o[0] / b[0] for o, b in zip(runs["ours"], runs["bare"], strict=True)]
    peak = max(r[2] for r in runs["ours"]) / 1024
    bare_peak = max(r[2] for r in runs["bare"]) / 1024
    line(
        f"XLSX export of {runs['ours'][0][1]} entries",
        seconds,
        "<= 1.3x bare",
        bare_seconds,
        f"(median of {repeat}, ratio of each run {', '.join(f'{r:.2f}' for r in ratios)}; "
        f"peak RSS {peak:.0f} MB, target < 200 MB; bare {bare_peak:.0f} MB)",
        ratio=median(ratios),
    )


BENCHES = {
    "pages": bench_pages,
    "summary": bench_summary,
    "import": bench_import,
    "export": bench_export,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("which", nargs="*", help="benchmarks to run: " + ", ".join(BENCHES))
    parser.add_argument("--database-url", help="import into this database (PostgreSQL; its "
                        "reference data copied from the dataset when empty)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the imported CSV")
    args = parser.parse_args()
    ensure_dataset()
    ok = True
    for name in args.which or BENCHES:
        if name == "import":
            ok = bench_import(args.rows, url=args.database_url) and ok
        else:
            BENCHES[name]()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
