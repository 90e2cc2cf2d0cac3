"""Every page, as each role: server time on the large dataset, its growth from 300 members and
its ratio to the demo (issue 16, target 1).

Each GET page of the URL map (``app.page_walk``, the list the query-count test walks) is
requested through the Flask test client — the server's time: routing, queries, rendering — as
each role of the demo (administrator, accountant, developer, treasurer, member accountant), on
three datasets built by the same generator:

- the large dataset of ``ctx`` (1 000 members, 20 services, 1 000 000 work entries);
- the same at 30 % of the members and entries (300 members, same services): the anchor of the
  growth, which must stay within 4x for 3.3x the data (nothing quadratic);
- the demo (``mutualise demo``: the seed cluster), the anchor of the ratio printed.

Targets: p50 under 100 ms and p99 under 200 ms per page and role on the large dataset; p50 at
1 000 members at most 4x the p50 at 300 (checked when the large p50 is over ``FLOOR_MS``: below
it a 4x is a few milliseconds of noise). Any miss is a failed figure: ``python -m bench pages``
exits with status 1 and the table names the page.

    .venv/bin/python -m bench pages                 # BENCH_PAGES_REPEAT=10 requests per page
    .venv/bin/python -m bench pages --members 100   # smaller (the anchor: 30 members)
    BENCH_PAGES_ROLES=admin,member_accountant BENCH_PAGES_ANCHOR_REPEAT=1 ...  # shorter

The whole-period exports (``EXPORTS``: the invoices' ZIP, the ledger workbook, the FEC, the
allocation workbook) are left to their own benches. The other file downloads (``is_download``:
a month's entries as CSV/Excel, the summary's workbook, a PDF, the configuration YAML...) are
files, not pages: each is requested once, its time printed in a table of its own, without the
page targets (the command says so; they never make it fail). Pages are asked with the dataset's year
(``du``/``au``, ``periode``, ``mois``, ``jour``): their default is today's period, empty on a
generated 2025.
"""

from __future__ import annotations

import gc
import os
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench import CACHE, Context, Figure

REPEAT = int(os.environ.get("BENCH_PAGES_REPEAT", "10"))
#: Requests per page on the anchors (300 members, the demo): their p50 only is read.
ANCHOR_REPEAT = int(os.environ.get("BENCH_PAGES_ANCHOR_REPEAT", "3"))
#: Requests timed for a page the role is refused (the median is judged).
REFUSED = 3
P50_TARGET_MS = 100.0
P99_TARGET_MS = 200.0
GROWTH_LIMIT = 4.0
FLOOR_MS = 10.0
#: The demo's users, one per role (app/demo/__init__.py).
USERS = {
    "admin": ("coordination@valhorizon.example", "demo-pilotage-2025"),
    "accountant": ("comptable@valhorizon.example", "demo-ecritures-2025"),
    "developer": ("developpement@valhorizon.example", "demo-prospection-2025"),
    "treasurer": ("tresorier@valhorizon.example", "demo-budget-2025"),
    "member_accountant": ("comptable@servemploi.example", "demo-bilan-2025"),
}
#: A shorter walk: BENCH_PAGES_ROLES=admin,member_accountant (the administrator reaches
#: nearly every staff page; a full walk of five roles takes long on a busy machine).
_WANTED = os.environ.get("BENCH_PAGES_ROLES", "")
ROLES = {role: who for role, who in USERS.items() if not _WANTED or role in _WANTED.split(",")}


#: Whole-period exports, not pages: each has its own bench, target and anchor (the bare
#: library writing the same file), and one request takes seconds to minutes by design.
EXPORTS = {
    "invoices.period_zip": "every invoice of a period with its Factur-X PDF: bench_facturx",
    "ledger.workbook": "the year's journal, ledger and balance workbook: bench_ledger",
    "ledger.fec_download": "the year's FEC: bench_ledger (fec-export)",
    "allocation.workbook": "the period's allocation workbook: bench_allocation",
}


#: A file download, not a page: the rule ends in a file name or format (``.<fmt>``, ``.xlsx``,
#: ``.yaml``, ``/pdf``...). Its size grows with the data by design (a month's entries of 1 000
#: members is 75 000 rows), so it is timed once (no warm-up, one request) and printed apart,
#: without the page targets; each has its own bench or figure in the README.
DOWNLOAD_RULE = re.compile(r"(\.(<fmt>|xlsx|csv|txt|yaml|zip|pdf)|/(pdf|xlsx))$")


def is_download(page: str) -> bool:
    """Whether the walked page (``"endpoint rule"``) is a file download."""
    parts = page.split(maxsplit=1)
    return len(parts) == 2 and bool(DOWNLOAD_RULE.search(parts[1]))


#: Downloads left out of the walk, and why (printed by the command). None now: the month's
#: summary as a workbook (``/temps/synthese.<fmt>``, minutes a request while its writer read
#: openpyxl's ``max_row`` per row) is back in the walk's download table.
SKIPPED_DOWNLOADS: dict[str, str] = {}


@dataclass(frozen=True)
class Timing:
    status: int
    p50_ms: float
    p99_ms: float


def argument_values(db: Session, year: int) -> dict[str, Any]:
    """A value for each URL argument of the pages, taken from a dataset: the largest run (the
    heaviest matrix), the member accountant's member, the first of everything else."""
    from accounting.allocation.models import AllocationLine, AllocationRun
    from accounting.cost_models import Cost
    from accounting.invoicing.models import Invoice
    from accounting.ledger.models import Account, JournalEntry
    from accounting.org import Member, Service, User
    from timesheets.models import WorkEntry

    member_user = db.scalars(select(User).where(User.email == USERS["member_accountant"][0])).one()
    member_id = member_user.member_id or db.scalar(select(func.min(Member.id)))
    run_id = db.scalar(
        select(AllocationLine.run_id).group_by(AllocationLine.run_id)
        .order_by(func.count().desc(), AllocationLine.run_id).limit(1)
    ) or db.scalar(select(func.min(AllocationRun.id)))
    run = db.get(AllocationRun, run_id)
    service = db.scalars(select(Service).where(Service.code == "COMPTA")).first() or db.scalars(
        select(Service).order_by(Service.id)).first()
    first_cost = db.scalar(select(func.min(Cost.id)))
    return {
        "invoice_id": db.scalar(select(func.min(Invoice.id)).where(Invoice.member_id == member_id))
        or db.scalar(select(func.min(Invoice.id))),
        "run_id": run_id,
        "member_id": member_id,
        "period_id": run.period_id if run else None,
        "user_id": db.scalar(select(User.id).where(User.email == USERS["developer"][0])),
        "service_id": service.id if service else None,
        "entry_id": db.scalar(
            select(func.min(WorkEntry.id)).where(WorkEntry.member_id == member_id)),
        "line_id": first_cost,
        "kind": "cost",
        "service_code": service.code if service else "COMPTA",
        "member_code": db.get(Member, member_id).code,
        "period_code": run.period.code if run else f"{year}-T4",
        "code": run.period.code if run else f"{year}-T4",
        "year": year,
        "fmt": "xlsx",
        "journal_entry_id": db.scalar(select(func.min(JournalEntry.id))),
        "document_id": first_cost,
        "account_id": db.scalar(select(func.min(Account.id))),
    }


def dated(url: str, year: int, period_code: str) -> str:
    """The URL with the dataset's period (the pages' default is today's): the books' pages
    (``/comptabilite``) over the year, as the issue measured them; the others over November
    (a month of work is what the timesheet pages and their exports show; a year of it is 300 000
    to 1 000 000 entries, an export's bench)."""
    books = url.startswith("/comptabilite")
    extra = {"du": f"{year}-01-01" if books else f"{year}-11-01",
             "au": f"{year}-12-31" if books else f"{year}-11-30", "periode": period_code,
             "mois": f"{year}-11", "jour": f"{year}-11-17"}
    if "?" in url:
        present = {part.split("=", 1)[0] for part in url.split("?", 1)[1].split("&")}
        extra = {k: v for k, v in extra.items() if k not in present}
        return f"{url}&{urlencode(extra)}" if extra else url
    return f"{url}?{urlencode(extra)}"


def time_pages(app: Any, pages: list[tuple[str, str]], repeat: int, log: Path
               ) -> dict[tuple[str, str], Timing]:
    """(role, page) → status and p50/p99 of ``repeat`` requests after one warm-up (``REFUSED``
    requests for a page the role is refused: cheap, but a single one was judged on one sample,
    and a pause of the machine made a 1.4 ms refusal « grow » 9.6×). Each page's line
    goes to ``log`` as it is measured (follow a long run with ``tail -f``)."""
    out = {}
    with log.open("w") as progress:
        for role, (email, password) in ROLES.items():
            client = app.test_client()
            response = client.post("/login", data={"email": email, "password": password})
            assert response.status_code == 302, f"login of {email}: {response.status_code}"
            for name, url in pages:
                download = is_download(name)
                if not download:
                    with client.get(url) as warm:  # closed: downloads hold temporary files
                        warm.get_data()
                times = []
                for _ in range(1 if download else REFUSED if warm.status_code >= 400 else repeat):
                    started = time.perf_counter()
                    with client.get(url) as response:
                        response.get_data()  # a streamed download works while it is read
                    times.append(time.perf_counter() - started)
                ordered = sorted(times)
                p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
                timing = Timing(response.status_code, statistics.median(times) * 1000, p99 * 1000)
                out[(role, name)] = timing
                print(f"{role} {name} {url} {timing}", file=progress, flush=True)
    return out


def measure(database: Path, year: int, repeat: int = REPEAT) -> dict[tuple[str, str], Timing]:
    """Every page as every role on a copy of ``database`` (logins write their session)."""
    from app import create_app, page_walk

    app = create_app({
        "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench",
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "MUTUALISE_ENV": "testing",
    })
    engine = app.extensions["mutualise.engine"]
    # As a production worker (deploy/gunicorn.conf.py, ``post_worker_init``): what loading the
    # app made is moved out of the cycle collector's reach. Without it, a full collection
    # walking those 200 000 objects (0.1–0.25 s on this machine) fell on one request in a few
    # dozen and set the p99 of whichever page it hit, a pause production does not have.
    gc.collect()
    gc.freeze()
    try:
        with Session(engine) as db:
            values = argument_values(db, year)
        pages = [(name, dated(url, year, values["period_code"]))
                 for name, url in page_walk.pages(app, values)
                 if name.split()[0] not in EXPORTS and name not in SKIPPED_DOWNLOADS]
        return time_pages(app, pages, repeat, database.with_suffix(".log"))
    finally:
        gc.unfreeze()
        engine.dispose()


def demo_database(ctx: Context) -> Path:
    """The demo (the seed cluster of ``mutualise demo``), built once beside the datasets."""
    from sqlalchemy import text

    from app.database import make_engine
    from app.demo import load_demo
    from app.migrate import upgrade

    path = CACHE / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            upgrade(connection=conn)
            conn.commit()
        with Session(engine) as session:
            from accounting.org import Member

            if session.scalar(select(func.count()).select_from(Member)) == 0:
                session.info["actor_label"] = "bench"
                load_demo(session)
                session.commit()
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    finally:
        engine.dispose()
    return path


def with_history(path: Path, key: str, year: int) -> Path:
    """The dataset with its first three quarters allocated, approved, invoiced, posted and
    paid, the first closed (``app.demo.history``, the use cases the pages call): without them
    the runs, invoices and ledger pages would be empty. Built once, cached beside it."""
    import shutil

    from sqlalchemy import text

    from app.database import make_engine
    from app.demo.history import load_history

    target = CACHE / f"pages-{key}.db"
    if target.exists():
        _upgrade(target)
        return target
    partial = target.with_suffix(".partial.db")
    shutil.copyfile(path, partial)
    engine = make_engine(f"sqlite:///{partial}")
    try:
        started = time.perf_counter()
        with Session(engine) as session:
            session.info["actor_label"] = "bench"
            _ready_to_invoice(session, year)
            report = load_history(session, year)
            session.commit()
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        print(f"(history of {key}: {report}, {time.perf_counter() - started:.0f} s)", flush=True)
    finally:
        engine.dispose()
    partial.replace(target)
    return target


def _ready_to_invoice(session: Session, year: int) -> None:
    """What the generator leaves out and invoicing needs: one key per allocated service from
    January 1st (the keys of ``bench/bench_allocation.py``) and the carrier's VAT number."""
    from datetime import date

    from stdnum.fr import tva

    from accounting.allocation.runs import set_key
    from accounting.org import Carrier, Service
    from bench.bench_allocation import KEYS

    carrier = session.scalars(select(Carrier)).one()
    if not carrier.vat_number and carrier.siren:
        key = (12 + 3 * (int(carrier.siren) % 97)) % 97  # the French VAT number's key
        carrier.vat_number = tva.compact(f"FR{key:02d}{carrier.siren}")

    services = session.scalars(
        select(Service).where(Service.overheads_by.is_(None)).order_by(Service.code)).all()
    for index, service in enumerate(services):
        set_key(session, service, KEYS[index % len(KEYS)], date(year, 1, 1),
                agreed_by="Banc d'essai")
    session.flush()


def _upgrade(path: Path) -> None:
    from app.database import make_engine
    from app.migrate import upgrade

    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            upgrade(connection=conn)
            conn.commit()
    finally:
        engine.dispose()


def _copy(path: Path, name: str) -> Path:
    import shutil

    target = CACHE / "scratch" / f"{name}.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in ("-wal", "-shm"):  # an earlier copy's log would be replayed on this one
        target.with_name(target.name + leftover).unlink(missing_ok=True)
    shutil.copyfile(path, target)
    return target


def verdicts(large: dict, small: dict, demo: dict) -> list[tuple[str, str, list[str]]]:
    """(role, page, misses) of each page measured at every size."""
    out = []
    for key, big in sorted(large.items()):
        if is_download(key[1]):
            out.append((*key, []))  # a file, not a page: printed apart, no target
            continue
        misses = []
        if big.p50_ms > P50_TARGET_MS:
            misses.append(f"p50 {big.p50_ms:.0f} ms > {P50_TARGET_MS:.0f}")
        if big.p99_ms > P99_TARGET_MS:
            misses.append(f"p99 {big.p99_ms:.0f} ms > {P99_TARGET_MS:.0f}")
        anchor = small.get(key)
        if anchor and big.p50_ms >= FLOOR_MS and big.p50_ms > GROWTH_LIMIT * anchor.p50_ms:
            misses.append(f"grew {big.p50_ms / anchor.p50_ms:.1f}x > {GROWTH_LIMIT:g}x")
        if anchor and anchor.status != big.status:
            misses.append(f"HTTP {anchor.status} at the anchor, {big.status} here")
        out.append((*key, misses))
    return out


def report(large: dict, small: dict, demo: dict, sizes: tuple[int, int]) -> str:
    """The table of every page: p50/p99 on the large dataset, p50 at the anchor and the demo,
    both ratios, and what it misses."""
    head = (f"{'role':<17} {'page':<58} {'HTTP':>4} {'p50':>7} {'p99':>7} "
            f"{'p50@' + str(sizes[1]):>8} {'ratio':>6} {'demo':>6} {'×demo':>6}  misses")
    lines = [f"(ms; {sizes[0]} members unless named)", head, "-" * len(head)]
    downloads = []
    for role, page, misses in verdicts(large, small, demo):
        if is_download(page):
            downloads.append((role, page))
            continue
        big, anchor, seed = large[(role, page)], small.get((role, page)), demo.get((role, page))
        ratio = f"{big.p50_ms / anchor.p50_ms:.1f}x" if anchor and anchor.p50_ms else "—"
        to_demo = f"{big.p50_ms / seed.p50_ms:.1f}x" if seed and seed.p50_ms else "—"
        lines.append(
            f"{role:<17} {page[:58]:<58} {big.status:>4} {big.p50_ms:>7.1f} {big.p99_ms:>7.1f} "
            f"{anchor.p50_ms if anchor else float('nan'):>8.1f} {ratio:>6} "
            f"{seed.p50_ms if seed else float('nan'):>6.1f} {to_demo:>6}  "
            + ("MISSED: " + "; ".join(misses) if misses else "")
        )
    lines += ["", "Downloads (files, not pages: one request each, cold; no page target):"]
    for role, page in downloads:
        big, anchor = large[(role, page)], small.get((role, page))
        lines.append(f"{role:<17} {page[:58]:<58} {big.status:>4} {big.p50_ms:>9.1f} ms"
                     f"  (at {sizes[1]} members: "
                     f"{anchor.p50_ms if anchor else float('nan'):.1f} ms)")
    return "\n".join(lines)


def run(ctx: Context) -> list[Figure]:
    from app.demo.synthetic import SyntheticSpec
    from bench.dataset import dataset

    spec = ctx.spec.resolved()
    year = spec.last_year
    members = max(1, round(spec.members * 0.3))
    anchor_ctx = dataset(SyntheticSpec(members=members, years=spec.years, seed=spec.seed,
                                       services=spec.services, last_year=year))
    try:
        anchor = with_history(anchor_ctx.path, anchor_ctx.spec.key(), year)
        small = measure(_copy(anchor, "pages-anchor"), year, ANCHOR_REPEAT)
    finally:
        anchor_ctx.close()
    demo = measure(_copy(demo_database(ctx), "pages-demo"), 2025, ANCHOR_REPEAT)
    large = measure(_copy(with_history(ctx.path, spec.key(), year), "pages-large"), year)
    print(report(large, small, demo, (spec.members, members)), flush=True)
    for page, why in {**EXPORTS, **SKIPPED_DOWNLOADS}.items():
        print(f"not measured here: {page}: {why}", flush=True)
    judged = verdicts(large, small, demo)
    pages = {k: t for k, t in large.items() if not is_download(k[1])}
    p50s = [t.p50_ms for t in pages.values()]
    p99s = [t.p99_ms for t in pages.values()]
    figures = [
        Figure(f"pages: measured (page × role, {REPEAT} requests each)", len(pages), ""),
        Figure("downloads: timed once, no page target (see the table)",
               len(large) - len(pages), ""),
        Figure("pages: slowest p50", max(p50s), "ms", target=P50_TARGET_MS),
        Figure("pages: slowest p99", max(p99s), "ms", target=P99_TARGET_MS),
        Figure("pages: median of the p50s", statistics.median(p50s), "ms",
               bare=statistics.median(t.p50_ms for k, t in demo.items() if not is_download(k[1])),
               note="bare = demo"),
        Figure("pages: missing a target", sum(1 for *_, m in judged if m), "", target=0),
    ]
    for role, page, misses in judged:
        if misses:
            figures.extend(_missed(role, page, large[(role, page)], small.get((role, page))))
    return figures


def _missed(role: str, page: str, timing: Timing, anchor: Timing | None) -> list[Figure]:
    """One failed figure per target a page misses, named after the role and the page."""
    name = f"  {role} {page[:60]}"
    out = []
    if timing.p50_ms > P50_TARGET_MS:
        out.append(Figure(name + " p50", timing.p50_ms, "ms", target=P50_TARGET_MS))
    if timing.p99_ms > P99_TARGET_MS:
        out.append(Figure(name + " p99", timing.p99_ms, "ms", target=P99_TARGET_MS))
    if anchor is not None and timing.p50_ms >= FLOOR_MS:
        growth = timing.p50_ms / max(anchor.p50_ms, 1e-9)
        if growth > GROWTH_LIMIT:
            out.append(Figure(name + " growth", growth, "x", target=GROWTH_LIMIT,
                              note=f"{anchor.p50_ms:.0f} -> {timing.p50_ms:.0f} ms"))
    if anchor is not None and anchor.status != timing.status:
        out.append(Figure(name + f" HTTP {anchor.status} -> {timing.status}", 1, "", target=0))
    return out
