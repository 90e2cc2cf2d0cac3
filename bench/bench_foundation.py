"""Benchmarks of the foundation (issue 2), on the large dataset, each beside the bare library.

- building the dataset (1 000 members, 50 staff, 20 services, 1 000 000 work entries) in well
  under a minute; bare: sqlite3 ``executemany`` of the same work-entry rows into the same empty
  table (same indexes), the raw insert without generating anything;
- the admin's members list and audit log pages (server time, page 1 and a search), target
  100 ms; bare: sqlite3 running the page's count and page queries;
- the configuration export of the 1 000 members with their figures; bare: PyYAML's C dumper
  writing the same data.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

import yaml

from bench import Context, Figure

ENTRY_COLUMNS = (
    "staff_id, day, minutes, member_id, service_id, activity_id, unit_type_id, quantity, note, "
    "status, review_comment, import_key, created_at, created_by_id, updated_at, updated_by_id"
)


def _bare_insert(ctx: Context) -> float:
    """sqlite3 inserting the dataset's work-entry rows into an empty copy of the table."""
    source = sqlite3.connect(ctx.path)
    rows = source.execute(f"SELECT {ENTRY_COLUMNS} FROM work_entries").fetchall()
    schema = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'work_entries' AND sql IS NOT NULL"
        )
    ]
    source.close()
    with tempfile.TemporaryDirectory() as folder:
        target = sqlite3.connect(Path(folder) / "bare.db", isolation_level=None)
        target.execute("PRAGMA journal_mode=WAL")
        target.execute("PRAGMA synchronous=NORMAL")
        for sql in schema:  # no foreign keys to check: the bare insert has no parent tables
            target.execute(sql)
        placeholders = ", ".join("?" * len(ENTRY_COLUMNS.split(",")))
        started = time.perf_counter()
        target.execute("BEGIN")
        target.executemany(
            f"INSERT INTO work_entries ({ENTRY_COLUMNS}) VALUES ({placeholders})", rows
        )
        target.execute("COMMIT")
        seconds = time.perf_counter() - started
        target.close()
    return seconds


def _page_figures(ctx: Context) -> list[Figure]:
    app = ctx.app()
    client = app.test_client()
    client.post(
        "/login",
        data={"email": "coordination@valhorizon.example", "password": "demo-pilotage-2025"},
    )
    raw = sqlite3.connect(ctx.path)

    def page(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    def bare(*queries: str) -> None:
        for query in queries:
            raw.execute(query).fetchall()

    members_count = "SELECT count(*) FROM members WHERE left_on IS NULL OR left_on >= date('now')"
    members_page = (
        "SELECT * FROM members WHERE left_on IS NULL OR left_on >= date('now') "
        "ORDER BY code LIMIT 50"
    )
    search = "SELECT * FROM members WHERE name LIKE '%trévoux%' ORDER BY code LIMIT 50"
    audit = "SELECT * FROM audit_events ORDER BY id DESC LIMIT 50"
    figures = [
        Figure(
            "admin members list, page 1",
            ctx.best(lambda: page("/admin/adherents"), 5) * 1000,
            "ms",
            target=100,
            bare=ctx.best(lambda: bare(members_count, members_page), 5) * 1000,
        ),
        Figure(
            "admin members list, search",
            ctx.best(lambda: page("/admin/adherents?q=tr%C3%A9voux&statut=tous"), 5) * 1000,
            "ms",
            target=100,
            bare=ctx.best(lambda: bare(search), 5) * 1000,
        ),
        Figure(
            "audit log, page 1",
            ctx.best(lambda: page("/admin/journal"), 5) * 1000,
            "ms",
            target=100,
            bare=ctx.best(lambda: bare("SELECT count(*) FROM audit_events", audit), 5) * 1000,
        ),
    ]
    raw.close()
    return figures


def _export_figure(ctx: Context) -> Figure:
    from sqlalchemy.orm import Session

    from app.configuration import dump_configuration, export_configuration

    with Session(ctx.engine()) as session:
        data = export_configuration(session)
        ours = ctx.best(lambda: dump_configuration(export_configuration(session)), 3)
    plain = yaml.safe_load(yaml.safe_dump(_plain(data)))
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    bare = ctx.best(lambda: yaml.dump(plain, Dumper=dumper, allow_unicode=True), 3)
    members = len(data.get("members", []))
    return Figure(f"configuration export ({members} members)", ours, "s", target=5.0, bare=bare)


def _plain(value: object) -> object:
    """The export with Decimals as strings (the bare dumper knows no Decimal)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value.__class__.__name__ == "Decimal":
        return str(value)
    return value


def run(ctx: Context) -> list[Figure]:
    note = "measured when built" if ctx.cached else ""
    bare = _bare_insert(ctx)
    figures = [
        Figure(
            f"build the dataset ({ctx.spec.entries:,} work entries), wall",
            ctx.build_seconds,
            "s",
            target=60,
            bare=bare,
            note=note,
        )
    ]
    if ctx.build_cpu_seconds is not None:
        figures.append(
            Figure("build the dataset, CPU", ctx.build_cpu_seconds, "s", target=60, note=note)
        )
    return [*figures, *_page_figures(ctx), _export_figure(ctx)]
