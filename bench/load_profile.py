"""CPU per request of each URL of the load mix, in process (Flask test client), without
gunicorn or the network: where the app's own time goes (issue 16, target 5).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/load \
        .venv/bin/python bench/load_profile.py [REQUESTS] [--profile]

Logs in through the real form as the load bench's two users, asks each URL of
``bench_load.the_plan`` once to warm up, then REQUESTS times (default 20), and prints the
process CPU per request of each URL and their mean, and on PostgreSQL the CPU of the server
backends of the app's connections beside it (``/proc``: the server runs on this machine);
``--profile`` adds cProfile's 40 costliest functions (CPU time, cumulative). The database must
hold the load dataset (see bench_load.py).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_load import ADMIN, MEMBER_ACCOUNTANT, cpu_seconds, the_plan  # noqa: E402

HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}
BASE = "https://localhost"


def logged_in(app: object, email: str, password: str) -> object:
    """A test client of ``app`` logged in as ``email`` through the form (CSRF and all)."""
    client = app.test_client()  # type: ignore[attr-defined]
    page = client.get("/login", headers=HEADERS, base_url=BASE).data
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token on the login form"
    response = client.post(
        "/login",
        data={"csrf_token": token[1].decode(), "email": email, "password": password},
        headers={**HEADERS, "Referer": f"{BASE}/login"},
        base_url=BASE,
    )
    assert response.status_code == 302, f"login of {email}: {response.status_code}"
    return client


def backend_pids(app: object) -> list[int]:
    """The PostgreSQL backends of ``app``'s pooled connections (none on SQLite)."""
    engine = app.extensions["mutualise.engine"]  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        return []
    from sqlalchemy import text

    with engine.connect() as conn:
        mine = conn.scalar(text("SELECT pg_backend_pid()"))
        return [
            pid
            for pid in conn.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            )
            if pid != mine
        ] + [mine]


def main() -> None:
    requests = int(next((a for a in sys.argv[1:] if a.isdigit()), "20"))
    profiler = cProfile.Profile(time.process_time) if "--profile" in sys.argv else None
    os.environ.update(MUTUALISE_ENV="production", MUTUALISE_PROXY_HOPS="1",
                      MUTUALISE_SEAL_ANCHOR="")  # fmt: skip
    os.environ.setdefault("SECRET_KEY", "load-profile-" + "x" * 40)
    os.environ.setdefault("MUTUALISE_INSTANCE", str(ROOT / "bench" / ".cache" / "load-instance"))
    from app import create_app

    app = create_app()
    clients = {"A": logged_in(app, *ADMIN), "M": logged_in(app, *MEMBER_ACCOUNTANT)}
    plan = the_plan("A", "M")
    for who, path in plan:
        status = clients[who].get(path, headers=HEADERS, base_url=BASE).status_code
        assert status == 200, f"GET {path}: {status}"
    backends = backend_pids(app)
    costs, database = [], []
    for who, path in plan:
        started, server = time.process_time(), cpu_seconds(backends)
        if profiler:
            profiler.enable()
        for _ in range(requests):
            clients[who].get(path, headers=HEADERS, base_url=BASE)
        if profiler:
            profiler.disable()
        costs.append((time.process_time() - started) / requests * 1000)
        database.append((cpu_seconds(backends) - server) / requests * 1000)
        print(f"{costs[-1]:7.1f} ms  + database {database[-1]:4.1f} ms  "
              f"{'coordinator' if who == 'A' else 'member'} {path}")
    print(f"{sum(costs) / len(costs):7.1f} ms  + database {sum(database) / len(database):4.1f} ms"
          f"  mean per request (load average {os.getloadavg()[0]:.1f})")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
