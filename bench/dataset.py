"""The large dataset of the benchmarks, built once and cached under ``bench/.cache/``.

It is the demo generator at scale (``mutualise demo --members 1000``): 1 000 members, 50 staff,
20 services, 1 000 000 work entries, with costs and subsidies, in a SQLite file made by the
Alembic chain. The file name is keyed by the parameters, so other sizes live side by side; a
small JSON file beside it keeps how long the build took.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.demo.synthetic import SyntheticSpec
from bench import CACHE, Context


def dataset_path(spec: SyntheticSpec) -> Path:
    return CACHE / f"dataset-{spec.key()}.db"


def build(spec: SyntheticSpec, path: Path) -> tuple[float, float]:
    """Build the dataset into ``path``; returns the wall and CPU seconds the generator took
    (the schema migrations and the final ANALYZE are not counted). On a shared machine the CPU
    time is the steadier figure."""
    path.unlink(missing_ok=True)
    return build_into(spec, f"sqlite:///{path}")


def build_into(spec: SyntheticSpec, url: str) -> tuple[float, float]:
    """Build the dataset into the empty database at ``url`` (SQLite or PostgreSQL, e.g. the
    load bench's); returns the generator's wall and CPU seconds, as :func:`build`."""
    from app.database import make_engine
    from app.demo import load_demo
    from app.migrate import upgrade

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            upgrade(connection=conn)
            conn.commit()
        started, cpu = time.perf_counter(), time.process_time()
        with Session(engine) as session:
            session.info["actor_label"] = "bench"
            load_demo(
                session,
                members=spec.members,
                years=spec.years,
                seed=spec.seed,
                staff=spec.staff,
                services=spec.services,
                entries=spec.entries,
                last_year=spec.last_year,
            )
            session.commit()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    finally:
        engine.dispose()
    return seconds, cpu


def _upgrade(path: Path) -> None:
    """Bring a cached dataset to the current migration (a dataset built before a new revision
    would otherwise lack its columns); nothing happens when it is already at head."""
    from app.database import make_engine
    from app.migrate import upgrade

    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            upgrade(connection=conn)
            conn.commit()
    finally:
        engine.dispose()


def dataset(spec: SyntheticSpec | None = None, *, rebuild: bool = False) -> Context:
    """The cached dataset of ``spec`` (default: 1 000 members, one year), built if needed."""
    spec = (spec or SyntheticSpec(members=1000)).resolved()
    path = dataset_path(spec)
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists() and not rebuild:
        info = json.loads(meta.read_text())
        _upgrade(path)
        return Context(spec, path, info["build_seconds"], info.get("build_cpu_seconds"), True)
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.db")
    seconds, cpu = build(spec, partial)
    partial.replace(path)
    meta.write_text(
        json.dumps(
            {
                "spec": spec.key(),
                "build_seconds": round(seconds, 2),
                "build_cpu_seconds": round(cpu, 2),
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
    )
    return Context(spec, path, seconds, cpu, cached=False)
