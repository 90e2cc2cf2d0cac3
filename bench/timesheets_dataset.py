# ruff: noqa: E501 - long SQL statements read better on one line
"""The large timesheets dataset of ``bench_timesheets.py``: 1 000 members, 50 staff, 1 000 000
entries over ten years in SQLite, synthetic and deterministic, built once into ``bench/.cache/``."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
DB_PATH = CACHE / "timesheets-1m.db"
MEMBERS, STAFF, ENTRIES = 1000, 50, 1_000_000
LAST_DAY = date.today().replace(day=1) + timedelta(days=31)
FIRST_DAY = LAST_DAY.replace(year=LAST_DAY.year - 10)
PASSWORD = "banc-d-essai-temps"


def build_dataset() -> None:
    """1 000 members, 50 staff, 2 services with activities and unit types, 1 000 000 entries."""
    from sqlalchemy import create_engine

    from app.models import metadata

    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = DB_PATH.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{tmp}")
    metadata.create_all(engine)
    engine.dispose()
    from argon2 import PasswordHasher

    hashed = PasswordHasher().hash(PASSWORD)
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    now = "2026-01-01 00:00:00.000000"
    _insert_reference(con, hashed, now)
    con.executemany(
        "INSERT INTO work_entries (staff_id, day, minutes, member_id, service_id, activity_id, unit_type_id, quantity, note, status, review_comment, created_at, created_by_id, updated_at, updated_by_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        _entry_rows(now),
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()
    tmp.rename(DB_PATH)


def _insert_reference(con: sqlite3.Connection, hashed: str, now: str) -> None:
    """Members, services with their activities and unit types, the admin and the staff."""
    con.executemany(
        "INSERT INTO members (id, code, name, legal_form, address, joined_on) VALUES (?,?,?,?,?,?)",
        [
            (i, f"M{i:04d}", f"Adhérent {i}", "Association", "", "2010-01-01")
            for i in range(1, MEMBERS + 1)
        ],
    )
    con.executemany(
        "INSERT INTO services (id, code, name, revenue_account, expense_account, active) VALUES (?,?,?,?,?,1)",
        [
            (1, "COMPTA", "Comptabilité / gestion", "706000", "6226"),
            (2, "DEV", "Développement", "706100", "6226"),
        ],
    )
    con.executemany(
        "INSERT INTO activities (id, service_id, name, active) VALUES (?,?,?,1)",
        [
            (1, 1, "Tenue comptable"),
            (2, 1, "Paie"),
            (3, 1, "TVA"),
            (4, 1, "Clôture"),
            (5, 2, "Prospection"),
            (6, 2, "Accompagnement"),
        ],
    )
    con.executemany(
        "INSERT INTO unit_types (id, service_id, name, weight, active) VALUES (?,?,?,?,1)",
        [
            (1, 1, "Écriture", 1000),
            (2, 1, "Bulletin de paie", 5000),
            (3, 1, "Déclaration de TVA", 10000),
        ],
    )
    users = [(1, "admin@bench.fr", "Coordination", hashed, "admin", None)]
    users += [
        (
            i + 1,
            f"staff{i}@bench.fr",
            f"Salarié {i:02d}",
            hashed,
            "accountant" if i % 2 else "developer",
            None,
        )
        for i in range(1, STAFF + 1)
    ]
    con.executemany(
        "INSERT INTO users (id, email, name, password_hash, roles, member_id, active, created_at, failed_logins) VALUES (?,?,?,?,?,?,1,?,0)",
        [(*u, now) for u in users],
    )


def _entry_rows(now: str) -> Iterator[tuple[object, ...]]:
    """The entries, spread evenly over the ten years, each column a fixed function of its rank."""
    days = (LAST_DAY - FIRST_DAY).days
    for i in range(ENTRIES):
        day = FIRST_DAY + timedelta(days=i * days // ENTRIES)
        staff = 2 + (i * 7) % STAFF
        service = 1 if staff % 2 else 2
        member = None if i % 10 == 0 else 1 + (i * 7919) % MEMBERS
        activity = (1 + i % 4) if service == 1 else (5 + i % 2)
        unit = (1 + i % 3) if service == 1 and i % 5 == 0 else None
        yield (
            staff,
            day.isoformat(),
            15 + (i * 13) % 105,
            member,
            service,
            activity,
            unit,
            (1000 * (1 + i % 9)) if unit else None,
            "",
            "approved" if day.year < 2026 else "draft",
            "",
            now,
            staff,
            now,
            staff,
        )


def ensure_dataset() -> None:
    if not DB_PATH.exists():
        print(f"Building the dataset into {DB_PATH} (once)...", flush=True)
        started = time.perf_counter()
        build_dataset()
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    sync_indexes()


def sync_indexes() -> None:
    """Rebuild the work entries' indexes of a cached dataset whose columns differ from the
    models', so that an old cache measures today's schema."""
    from timesheets.models import WorkEntry

    con = sqlite3.connect(DB_PATH)
    changed = False
    for index in WorkEntry.__table__.indexes:
        wanted = [column.name for column in index.columns]
        present = [row[2] for row in con.execute(f"PRAGMA index_info({index.name})")]
        if present == wanted:
            continue
        print(f"Rebuilding index {index.name} ({', '.join(wanted)})...", flush=True)
        con.execute(f"DROP INDEX IF EXISTS {index.name}")
        con.execute(f"CREATE INDEX {index.name} ON work_entries ({', '.join(wanted)})")
        changed = True
    if changed:
        con.execute("ANALYZE")
    con.commit()
    con.close()
