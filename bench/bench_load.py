"""Load: the app under gunicorn (deploy/gunicorn.conf.py, production profile) on the large
dataset, 16 concurrent clients for 60 s on the main pages and the CSV and Excel downloads.

Targets (issue 8): zero errors, p99 under 300 ms. Beside it, the bare library doing the same raw
work: the same gunicorn configuration serving a bare Flask page, under the same 16 clients (the
floor of a request on this machine). Loopback only; bounded in time (the server is stopped
by its process id, whatever happens); runs alone or in ``python -m bench``:

    .venv/bin/python -m bench --only load
    .venv/bin/python bench/bench_load.py [SECONDS]        # SECONDS defaults to 60

On PostgreSQL, alone and then with tests running beside the load (issue 16, target 5):

    BENCH_LOAD_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/load \
    BENCH_LOAD_BESIDE=".venv/bin/pytest tests/timesheets -q -p no:randomly" \
        .venv/bin/python bench/bench_load.py

The PostgreSQL database is filled with the same generated dataset the first time (empty
database: the migrations, then ``mutualise demo --members 1000``, then ANALYZE); the SQLite
dataset is then neither needed nor built. With ``BENCH_LOAD_BESIDE`` the same server takes two
runs of SECONDS: alone, then with the command started beside the clients (its duration and
exit status are printed). Each run prints its figures, the load average before and after it,
and every URL's p99 and p50, slowest first: the requests that make the tail.

Clients log in through the real login form (CSRF token, rate limits on, secure cookies, the
proxy's X-Forwarded-Proto) once per user; the session cookies are then shared, as several tabs
of one browser would. Two users: the coordinator (all the staff pages) and a member
accountant (their own member's pages and downloads).
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo.synthetic import SyntheticSpec  # noqa: E402
from bench import Context, Figure  # noqa: E402

CLIENTS = 16
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
BARE_SECONDS = min(SECONDS, 20.0)
P99_TARGET_MS = 300.0
DATABASE_URL = os.environ.get("BENCH_LOAD_DATABASE_URL", "")
BESIDE = os.environ.get("BENCH_LOAD_BESIDE", "")
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
ADMIN = ("coordination@valhorizon.example", "demo-pilotage-2025")
MEMBER_ACCOUNTANT = ("comptable@servemploi.example", "demo-bilan-2025")


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    by_url: dict[str, list[float]] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], args: list[str], port: int) -> Iterator[subprocess.Popen]:
    """A gunicorn on 127.0.0.1:port, stopped (by its pid) on the way out, whatever happens."""
    log = open(ROOT / "bench" / ".cache" / f"gunicorn-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [str(GUNICORN), *args], cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({process.returncode}), see {log.name}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start within 60 s")
        _wait_for_a_worker(port, process)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()


def _wait_for_a_worker(port: int, process: subprocess.Popen, seconds: float = 180) -> None:
    """Until a worker answers: the master listens at once, while its workers may take tens of
    seconds to load the app on a busy machine (the first login used to time out at 30 s)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode})")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=deadline - time.monotonic())
        try:
            conn.request("GET", "/", headers={"X-Forwarded-Proto": "https"})
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
        finally:
            conn.close()
    raise RuntimeError(f"no gunicorn worker answered within {seconds:.0f} s")


class Client:
    """One keep-alive HTTP connection to the loopback, behind a pretend TLS proxy."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.port = port
        self.cookie = cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        sent = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1", **(headers or {})}
        if self.cookie:
            sent["Cookie"] = self.cookie
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # gunicorn's sync workers close idle keep-alive connections: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def log_in(port: int, email: str, password: str) -> str:
    """The session cookie of ``email``, through the real form (CSRF token and all)."""
    client = Client(port)
    status, headers, page = client.request("GET", "/login")
    assert status == 200, f"GET /login: {status}"
    cookie = headers["set-cookie"].split(";", 1)[0]
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token on the login form"
    client.cookie = cookie
    body = urlencode({"csrf_token": token[1].decode(), "email": email, "password": password})
    status, headers, _ = client.request(
        "POST",
        "/login",
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            # Over https, Flask-WTF also checks that the form came from this site.
            "Referer": f"https://127.0.0.1:{port}/login",
        },
    )
    client.close()
    assert status == 302, f"login of {email}: {status}"
    return headers["set-cookie"].split(";", 1)[0]


def hammer(port: int, plan: list[tuple[str, str]], seconds: float) -> Result:
    """CLIENTS threads, each looping over ``plan`` (cookie, path) from its own offset."""
    result = Result()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client_loop(offset: int) -> None:
        clients: dict[str, Client] = {}
        index = offset
        try:
            while time.monotonic() < stop:
                cookie, path = plan[index % len(plan)]
                index += 1
                client = clients.setdefault(cookie, Client(port, cookie))
                started = time.perf_counter()
                try:
                    status, _, _ = client.request("GET", path)
                    error = None if status == 200 else f"{status} {path}"
                except Exception as exc:  # a refused or broken connection is an error too
                    error = f"{type(exc).__name__} {path}"
                elapsed = time.perf_counter() - started
                with lock:
                    result.latencies.append(elapsed)
                    result.by_url.setdefault(path, []).append(elapsed)
                    if error:
                        result.errors.append(error)
        finally:
            for client in clients.values():
                client.close()

    threads = [threading.Thread(target=client_loop, args=(i * 3,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def the_plan(admin: str, member: str) -> list[tuple[str, str]]:
    """What the clients ask for: the staff's main pages, the member accountant's pages, and
    the CSV and Excel downloads (a member's month of work; the month's summary)."""
    month = {"du": "2025-11-01", "au": "2025-11-30"}
    mine = urlencode({**month, "adherent": "M0001"})
    return [
        (admin, "/accueil"),
        (admin, "/temps/saisies"),
        (admin, f"/temps/saisies?{mine}"),
        (admin, "/temps/semaine"),
        (admin, "/admin/adherents"),
        (admin, "/admin/journal"),
        (admin, "/repartition/charges"),
        (admin, "/factures/"),
        (admin, "/comptabilite/"),
        (admin, f"/temps/saisies/export.csv?{mine}"),
        (admin, f"/temps/saisies/export.xlsx?{mine}"),
        (member, "/accueil"),
        (member, "/temps/saisies"),
        (member, f"/temps/saisies/export.csv?{urlencode(month)}"),
        (member, f"/temps/saisies/export.xlsx?{urlencode(month)}"),
        (member, "/factures/"),
    ]


BARE_APP = """
from flask import Flask
app = Flask(__name__)
@app.get("/")
def page():
    return "<!doctype html><title>bare</title><p>" + "x" * 2000
"""


def postgres_dataset(spec: SyntheticSpec, url: str) -> str:
    """``url`` filled with the dataset of ``spec`` (built there when it has no member yet:
    the migrations, the generator, then ANALYZE, so that the planner has statistics at once
    rather than when autovacuum gets to the new tables)."""
    from sqlalchemy import create_engine, inspect, text

    from bench.dataset import build_into

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            filled = inspect(conn).has_table("members") and conn.scalar(
                text("SELECT count(*) FROM members")
            )
    finally:
        engine.dispose()
    if not filled:
        seconds, _ = build_into(spec.resolved(), url)
        print(f"(PostgreSQL dataset built in {seconds:.0f} s)", flush=True)
    else:
        # Each run logs in through the form, as does bench/load_profile.py: a few runs an hour
        # from 127.0.0.1 met the login limit (60 an hour) and the next run got 429.
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    text("DELETE FROM rate_limits WHERE key LIKE 'LIMITER/%/auth.login/%'")
                )
        finally:
            engine.dispose()
    return url


@contextmanager
def beside(command: str) -> Iterator[dict[str, object]]:
    """Run ``command`` (e.g. a part of the test suite) while the load runs; its duration and
    exit status end up in the dict yielded."""
    outcome: dict[str, object] = {}
    if not command:
        yield outcome
        return
    log = open(ROOT / "bench" / ".cache" / "load-beside.log", "w")  # noqa: SIM115
    started = time.perf_counter()
    process = subprocess.Popen(command, shell=True, cwd=ROOT, stdout=log, stderr=log)
    try:
        yield outcome
    finally:
        outcome["status"] = process.wait()
        outcome["seconds"] = time.perf_counter() - started
        outcome["log"] = log.name
        log.close()


@dataclass
class Run:
    """One load run: the app's figures, the load average before and after, and what the
    command beside it did (empty when it ran alone)."""

    label: str
    result: Result
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    beside: dict[str, object] = field(default_factory=dict)
    #: CPU seconds used during the run by gunicorn's workers, by the PostgreSQL backends of
    #: their connections (0 on SQLite) and by the client threads.
    cpu_app: float = 0.0
    cpu_database: float = 0.0
    cpu_clients: float = 0.0


def server_pids(master: subprocess.Popen, url: str) -> tuple[list[int], list[int]]:
    """gunicorn's workers, and on PostgreSQL the backends of the app's connections (asked once
    every URL was served: each worker holds its connection by then)."""
    found = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True)
    workers = [int(pid) for pid in found.stdout.split()]
    if not url.startswith("postgresql"):
        return workers, []
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            backends = list(
                conn.scalars(
                    text(
                        "SELECT pid FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            )
    finally:
        engine.dispose()
    return workers, backends


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of ``pids`` so far (a process gone since counts 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def database_url(ctx: Context | None) -> str:
    """PostgreSQL when ``BENCH_LOAD_DATABASE_URL`` says so (filled the first time), else a
    copy of the SQLite dataset (logins write: last login, rate-limit counters)."""
    if DATABASE_URL:
        return postgres_dataset(ctx.spec if ctx else SyntheticSpec(members=1000), DATABASE_URL)
    assert ctx is not None, "the SQLite load needs the dataset"
    return f"sqlite:///{ctx.scratch_copy('load')}"


def measure(url: str, seconds: float = SECONDS) -> tuple[list[Run], Result, list[str]]:
    """The app alone, then (when ``BENCH_LOAD_BESIDE`` is set) again with that command
    running beside it, on the same server; then the bare Flask page."""
    port = free_port()
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        "MUTUALISE_ENV": "production",
        "MUTUALISE_PROXY_HOPS": "1",
        "MUTUALISE_BIND": f"127.0.0.1:{port}",
        "MUTUALISE_INSTANCE": str(ROOT / "bench" / ".cache" / "load-instance"),
        "MUTUALISE_LOG_LEVEL": "warning",
    }
    notes = []
    with gunicorn(
        env, ["-c", "deploy/gunicorn.conf.py", "--access-logfile", "/dev/null"], port
    ) as master:
        admin = log_in(port, *ADMIN)
        member = log_in(port, *MEMBER_ACCOUNTANT)
        plan = the_plan(admin, member)
        warm = Client(port)
        for cookie, path in plan:  # every URL answers before the clock starts
            warm.cookie = cookie
            status, headers, body = warm.request("GET", path)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status}")
            notes.append(
                f"{path} {headers.get('content-type', '').split(';')[0]} {len(body)} bytes"
            )
        warm.close()
        pids = server_pids(master, url)
        runs = [timed_run("alone", port, plan, seconds, "", pids)]
        if BESIDE:
            runs.append(timed_run("beside tests", port, plan, seconds, BESIDE, pids))
    bare_dir = ROOT / "bench" / ".cache" / "bare-flask"
    bare_dir.mkdir(parents=True, exist_ok=True)
    (bare_dir / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    bare_env = {"MUTUALISE_BIND": f"127.0.0.1:{port}", "PYTHONPATH": str(bare_dir)}
    with gunicorn(
        bare_env,
        ["-c", "deploy/gunicorn.conf.py", "--access-logfile", "/dev/null", "bare_app:app"],
        port,
    ):
        bare = hammer(port, [("", "/")] * 4, min(seconds, BARE_SECONDS))
    return runs, bare, notes


def timed_run(
    label: str,
    port: int,
    plan: list[tuple[str, str]],
    seconds: float,
    command: str,
    pids: tuple[list[int], list[int]],
) -> Run:
    """The clients for ``seconds``, with ``command`` running beside them when given; the CPU
    the server's processes used meanwhile (the steadier figure on a shared machine)."""
    workers, backends = pids
    load_before = os.getloadavg()
    app, database, clients = cpu_seconds(workers), cpu_seconds(backends), time.process_time()
    with beside(command) as outcome:
        result = hammer(port, plan, seconds)
    return Run(
        label,
        result,
        load_before,
        os.getloadavg(),
        outcome,
        cpu_app=cpu_seconds(workers) - app,
        cpu_database=cpu_seconds(backends) - database,
        cpu_clients=time.process_time() - clients,
    )


def ms(values: list[float], fraction: float) -> float:
    return percentile(values, fraction) * 1000


def figures(run: Run, bare: Result, seconds: float, bare_seconds: float) -> list[Figure]:
    """The target's figures of one run (errors, p99), p50 and throughput beside the bare page,
    then each URL's p99 and median, slowest first: the requests that make the tail."""
    ours = run.result
    name = f"load ({run.label})"
    load = f"load average {run.load_before[0]:.1f} before, {run.load_after[0]:.1f} after"
    out = [
        Figure(
            f"{name}: errors (16 clients)",
            len(ours.errors),
            "",
            target=0,
            note=", ".join(sorted(set(ours.errors))[:3]),
        ),
        Figure(
            f"{name}: p99 latency",
            ms(ours.latencies, 0.99),
            "ms",
            target=P99_TARGET_MS,
            bare=ms(bare.latencies, 0.99),
        ),
        Figure(
            f"{name}: p50 latency", ms(ours.latencies, 0.50), "ms", bare=ms(bare.latencies, 0.50)
        ),
        Figure(
            f"{name}: throughput",
            len(ours.latencies) / seconds,
            "req/s",
            bare=len(bare.latencies) / bare_seconds,
            higher_is_better=True,
            note=load,
        ),
        Figure(
            f"{name}: server CPU per request",
            (run.cpu_app + run.cpu_database) / max(1, len(ours.latencies)) * 1000,
            "ms",
            note=cpu_note(run),
        ),
    ]
    for path, values in sorted(ours.by_url.items(), key=lambda kv: -percentile(kv[1], 0.99)):
        median = statistics.median(values) * 1000
        out.append(
            Figure(
                f"  p99 {path[:60]}",
                ms(values, 0.99),
                "ms",
                note=f"{len(values)} requests, p50 {median:.0f} ms",
            )
        )
    return out


def cpu_note(run: Run) -> str:
    """Where the server's CPU went, per request: the app (gunicorn's workers), the database
    (PostgreSQL's backends), and the client threads beside them."""
    count = max(1, len(run.result.latencies))
    return (
        f"app {run.cpu_app / count * 1000:.1f} ms + database "
        f"{run.cpu_database / count * 1000:.1f} ms; clients {run.cpu_clients / count * 1000:.1f} ms"
    )


def beside_notes(runs: list[Run]) -> list[str]:
    return [
        f"beside the load: `{BESIDE}` exited {run.beside['status']} after "
        f"{run.beside['seconds']:.0f} s (log {run.beside['log']})"
        for run in runs
        if run.beside
    ]


def all_figures(runs: list[Run], bare: Result, seconds: float) -> list[Figure]:
    bare_seconds = min(seconds, BARE_SECONDS)
    return [figure for run in runs for figure in figures(run, bare, seconds, bare_seconds)]


def run(ctx: Context) -> list[Figure]:
    runs, bare, _ = measure(database_url(ctx))
    print("\n".join(beside_notes(runs)))
    return all_figures(runs, bare, SECONDS)


def main() -> None:
    """Standalone: on PostgreSQL the SQLite dataset is not needed (nor built)."""
    from bench import __main__ as runner
    from bench.dataset import dataset

    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else SECONDS
    ctx = None if DATABASE_URL else dataset(SyntheticSpec(members=1000))
    try:
        runs, bare, notes = measure(database_url(ctx), seconds)
        print("\n".join(notes + beside_notes(runs)))
        print(runner.table(all_figures(runs, bare, seconds)))
    finally:
        if ctx is not None:
            ctx.close()


if __name__ == "__main__":
    main()
