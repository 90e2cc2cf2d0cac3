"""Benchmarks of Mutualise (``make bench`` = ``python -m bench``), never part of ``make test``.

The protocol, so that each area only drops a ``bench/bench_<area>.py`` file in:

    from bench import Context, Figure

    def run(ctx: Context) -> list[Figure]:
        seconds = ctx.best(lambda: do_the_work(ctx))
        bare = ctx.best(lambda: the_bare_library_doing_the_same_raw_work(ctx))
        return [Figure("what was measured", seconds, "s", target=2.0, bare=bare)]

``ctx`` carries the large dataset (1 000 members, 50 staff, 20 services, 1 000 000 work
entries; built once and cached under ``bench/.cache/``, see :mod:`bench.dataset`): its SQLite
URL, an engine, an app bound to it, and a scratch copy for benchmarks that write. The runner
prints every figure beside its target and the ratio to the bare library: the machines are
shared and noisy, so the ratio is the figure to read.

A module without ``run`` (a standalone script with its own ``main``) is run as a subprocess and
its output is shown as it is.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from app.demo.synthetic import SyntheticSpec

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"


@dataclass(frozen=True)
class Figure:
    """One measurement.

    ``value`` in ``unit`` (``s``, ``ms``, ``MB``, ``rows/s``...); ``target``: the most it may
    be, in the same unit (None: no target); ``bare``: the same raw work done by the bare
    library in the same run, same unit; ``ratio_target``: the most ``value / bare`` may be
    (targets written as "within 3x pandas.read_csv"); ``higher_is_better`` for throughputs.
    """

    name: str
    value: float
    unit: str
    target: float | None = None
    bare: float | None = None
    ratio_target: float | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.bare is None or self.bare == 0:
            return None
        return self.value / self.bare

    @property
    def ok(self) -> bool | None:
        """True/False against the targets given; None when there is none."""
        checks = []
        if self.target is not None:
            checks.append(
                self.value >= self.target if self.higher_is_better else self.value <= self.target
            )
        if self.ratio_target is not None and self.ratio is not None:
            checks.append(self.ratio <= self.ratio_target)
        return all(checks) if checks else None


@dataclass
class Context:
    """What a benchmark gets: the dataset and helpers to measure it."""

    spec: SyntheticSpec
    path: Path
    #: Seconds the dataset took to build, wall and CPU (measured when it was built, maybe in an
    #: earlier run).
    build_seconds: float
    build_cpu_seconds: float | None
    cached: bool
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.path}"

    def engine(self) -> Engine:
        """An engine on the dataset (read it; use :meth:`scratch_copy` to write)."""
        if self._engine is None:
            from app.database import make_engine

            self._engine = make_engine(self.database_url)
        return self._engine

    def app(self, **config: Any) -> Any:
        """The Flask app on the dataset (CSRF and rate limits off, like the tests)."""
        from app import create_app

        return create_app(
            {
                "DATABASE_URL": self.database_url,
                "SECRET_KEY": "bench",
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "MUTUALISE_ENV": "testing",
                **config,
            }
        )

    def scratch_copy(self, name: str) -> Path:
        """A copy of the dataset a benchmark may change (under bench/.cache/scratch/)."""
        target = CACHE / "scratch" / f"{name}.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in ("-wal", "-shm"):  # an earlier copy's log would be replayed on this one
            target.with_name(target.name + leftover).unlink(missing_ok=True)
        shutil.copyfile(self.path, target)
        return target

    @staticmethod
    def best(action: Callable[[], object], repeat: int = 3) -> float:
        """The fastest of ``repeat`` runs, in seconds (the least disturbed by the neighbours)."""
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
        return min(times)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


__all__ = ["CACHE", "ROOT", "Context", "Figure"]
