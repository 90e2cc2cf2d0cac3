"""Backups and restores of the whole database, while the application runs.

Design:

- **SQLite**: the online backup API of SQLite (``sqlite3.Connection.backup``) copies a
  consistent snapshot page by page while other connections keep reading and writing; the
  backup is itself a SQLite file. A restore checks the file (SQLite magic, ``PRAGMA
  integrity_check``, an Alembic revision inside), keeps a copy of the current database beside
  the backup (``<file>.before-restore``), then copies the backup over the live database with
  the same API, so open connections see the restored content.
- **PostgreSQL**: ``pg_dump --format=custom`` (a consistent snapshot, taken without stopping
  the app) and ``pg_restore --single-transaction --exit-on-error``. The tools must be on the
  PATH (Debian: ``postgresql-client``, same major version as the server or newer). The
  password goes through ``PGPASSWORD``, never the command line. Before restoring, the
  current database is dumped beside the backup, then its tables are dropped (tables a newer
  version added would stop the upgrade) and the restore replaces the other objects of the
  dump (``--clean``), so a backup made by an older version restores cleanly;
  ``mutualise restore`` then upgrades it to the latest migration.

Files are written to a temporary name and renamed, so a crash never leaves half a backup under
the final name. Nothing here is reached from the web: these are operator commands.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.engine import make_url

from app.database import make_engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or a restore could not be done (message for the operator)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    kind: str  # "sqlite" or "postgresql"


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"unsupported database: {backend}")
    return backend


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def backup(url: str, target: Path) -> BackupResult:
    """Write a consistent copy of the database at ``url`` to ``target``."""
    kind = _kind(url)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _atomic(target) as partial:
        if kind == "sqlite":
            _sqlite_copy(sqlite_path(url), partial)
            _standalone(partial)
        else:
            _pg_dump(url, partial)
    return BackupResult(target, target.stat().st_size, kind)


def restore(url: str, source: Path) -> Path:
    """Replace the database at ``url`` with the backup ``source``.

    Returns the path of the copy of the database as it was before (``<source>.before-restore``
    unless that exists, then numbered).
    """
    kind = _kind(url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    head = source.read_bytes()[:16]
    if kind == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not a SQLite backup (made with mutualise backup)")
        _check_sqlite_backup(source)
    elif not head.startswith(PG_CUSTOM_MAGIC):
        raise BackupError(
            f"{source} is not a PostgreSQL custom-format dump (made with mutualise backup "
            "or pg_dump --format=custom)"
        )
    before = _free_name(source.with_name(source.name + ".before-restore"))
    backup(url, before)
    if kind == "sqlite":
        _sqlite_copy(source, sqlite_path(url))
    else:
        _pg_restore(url, source)
    return before


# ---------------------------------------------------------------- SQLite


def _sqlite_copy(source: Path, destination: Path) -> None:
    """Copy with the online backup API (consistent even while the source is being written)."""
    if not source.exists():
        raise BackupError(f"{source}: the database file does not exist")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(destination, timeout=30)
    try:
        src.backup(dst, pages=1024)
        dst.commit()
    except sqlite3.Error as error:
        raise BackupError(f"SQLite backup failed: {error}") from error
    finally:
        src.close()
        dst.close()


def _standalone(path: Path) -> None:
    """A backup is one self-contained file: no write-ahead log beside it."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def _check_sqlite_backup(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        status = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if status != "ok":
            raise BackupError(f"{path} is damaged: {status}")
        try:
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            revision = None
        if not revision:
            raise BackupError(f"{path} is a SQLite file but not a Mutualise database")
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} cannot be read as SQLite: {error}") from error
    finally:
        conn.close()


# ---------------------------------------------------------------- PostgreSQL


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools "
            "(Debian: apt install postgresql-client) or back up with your own pg_dump"
        )
    return path


def _pg_env(url: str) -> dict[str, str]:
    """libpq's environment for the URL: the password never appears on a command line."""
    parsed = make_url(url)
    env = dict(os.environ)
    for variable, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", str(parsed.port) if parsed.port else None),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGDATABASE", parsed.database),
    ):
        if value:
            env[variable] = str(value)
    return env


def _run(command: list[str], url: str) -> None:
    completed = subprocess.run(
        command, env=_pg_env(url), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise BackupError(
            f"{Path(command[0]).name} failed ({completed.returncode}): "
            f"{completed.stderr.strip() or completed.stdout.strip()}"
        )


def _pg_dump(url: str, target: Path) -> None:
    _run(
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
         f"--file={target}"],
        url,
    )


def _pg_restore(url: str, source: Path) -> None:
    tool = _pg_tool("pg_restore")
    engine = make_engine(url)
    try:
        existing = MetaData()
        with engine.begin() as conn:
            existing.reflect(conn)
            existing.drop_all(conn)
    finally:
        engine.dispose()
    _run(
        # --clean --if-exists also replaces what is not a table (the trigger functions).
        [tool, "--clean", "--if-exists", "--no-owner", "--no-privileges",
         "--single-transaction", "--exit-on-error",
         "--dbname=" + (make_url(url).database or ""), str(source)],
        url,
    )


# ---------------------------------------------------------------- files


@contextlib.contextmanager
def _atomic(target: Path):  # type: ignore[no-untyped-def]
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    partial = Path(name)
    partial.unlink()  # the tools want to create the file themselves
    try:
        yield partial
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate
