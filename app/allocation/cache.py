"""In-process caches of the allocation pages (issue 16): a preview, a stored run read back and
the check of a run's inputs cost seconds at 1 000 members; paging through them must not.

What is cached, and why it can be trusted:

- **A stored run read back** (amounts only): a run's lines never change once stored, so the
  key is the database, the run's id and its creation time (an id reused after a deletion comes
  with another creation time). No expiry needed.
- **A preview** (``allocate_period``) and **the check of a run's inputs** (recompute, compare
  fingerprints): keyed by the database, the period and service, the process's *write
  generation* — bumped by every ``INSERT``/``UPDATE``/``DELETE`` this process runs on a table
  that may feed an allocation (any table but sessions, rate limits, audit, tokens) — and the
  last work entry's id (an import by another worker shows at once). An edit made by *another*
  worker process to an existing row shows after at most ``TTL_SECONDS``, or at once with
  « Recalculer ». Storing and approving a run always recompute from the database: a cached
  preview is never what gets stored or approved.
"""

from __future__ import annotations

import gc
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounting.allocation.fingerprint import changed_inputs, input_fingerprints
from accounting.allocation.models import AllocationLine, AllocationRun
from accounting.allocation.runs import PeriodAllocation, load_run
from accounting.periods import Period
from timesheets.models import WorkEntry

#: How long a preview or a run's check is reused at most (other processes' edits).
TTL_SECONDS = 60.0
#: Entries kept per cache (a few periods × services; a run page of a year is ~20 MB).
SIZE = 4
#: A computation longer than this leaves enough new long-lived objects (a year of 1 000
#: members) for Python's next full collection to fall on a later request (130 ms measured on
#: a 40 ms page): the request that computed collects at once instead.
SETTLE_AFTER_SECONDS = 0.2
#: Tables whose writes never change an allocation (each request writes its session).
_QUIET_TABLES = frozenset({
    "user_sessions", "rate_limits", "audit_events", "api_tokens", "password_resets",
    "alembic_version",
})
_READS = frozenset({"SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT",
                    "EXPLAIN", "SHOW", "SET"})
_WRITE = re.compile(
    r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE
)

_lock = threading.Lock()
_generation = 0
T = TypeVar("T")


@event.listens_for(Engine, "after_cursor_execute")
def _count_writes(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    """Bump the write generation on any statement that may change an allocation's inputs."""
    global _generation
    head = statement.lstrip()[:10].split(None, 1)
    if head and head[0].upper() in _READS:
        return
    match = _WRITE.match(statement)
    if match and match.group(1).lower() in _QUIET_TABLES:
        return
    with _lock:
        _generation += 1


def write_generation() -> int:
    """The number of writes seen so far (the tests read it to show the invalidation)."""
    return _generation


class _Lru:
    def __init__(self, ttl: float | None) -> None:
        self.ttl = ttl
        self.items: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()

    def get(self, key: tuple[Any, ...], compute: Callable[[], T], fresh: bool = False) -> T:
        now = time.monotonic()
        with _lock:
            hit = self.items.get(key)
            if hit is not None and not fresh and (self.ttl is None or now - hit[0] < self.ttl):
                self.items.move_to_end(key)
                return hit[1]  # type: ignore[no-any-return]
        value = compute()
        if time.monotonic() - now > SETTLE_AFTER_SECONDS:
            gc.collect()  # settle now: else a later, cheap request pays the full collection
        with _lock:
            self.items[key] = (now, value)
            self.items.move_to_end(key)
            while len(self.items) > SIZE:
                self.items.popitem(last=False)
        return value

    def peek(self, key: tuple[Any, ...]) -> Any:
        with _lock:
            hit = self.items.get(key)
        if hit is None or (self.ttl is not None and time.monotonic() - hit[0] >= self.ttl):
            return None
        return hit[1]

    def clear(self) -> None:
        with _lock:
            self.items.clear()


_previews = _Lru(TTL_SECONDS)
_checks = _Lru(TTL_SECONDS)
_runs = _Lru(None)
_work = _Lru(TTL_SECONDS)


def clear() -> None:
    """Forget every cached page (tests, or after restoring a backup in this process)."""
    for cache in (_previews, _checks, _runs, _work):
        cache.clear()


def _inputs_key(session: Session) -> tuple[Any, ...]:
    last_entry = session.scalar(select(func.max(WorkEntry.id)))
    return (*_database(session), _generation, last_entry)


def _database(session: Session) -> tuple[str, int]:
    engine = session.get_bind().engine
    return str(engine.url), id(engine)


def preview(
    session: Session, period: Period, service: str | None, compute: Callable[[], T],
    fresh: bool = False,
) -> T:
    """``compute()`` (the period's allocation), reused while its inputs are unchanged."""
    key = ("preview", period.code, period.start, period.end, service, *_inputs_key(session))
    return _previews.get(key, compute, fresh)


def work(session: Session, period: Period, compute: Callable[[], T]) -> T:
    """``compute()`` (the period's work totals, which the key editor and the comparison of keys
    need: 0.35 s for a quarter at 1 000 members), reused while its inputs are unchanged."""
    key = ("work", period.code, period.start, period.end, *_inputs_key(session))
    return _work.get(key, compute)


def cached_preview(session: Session, period: Period, service: str | None) -> Any:
    """The preview of ``preview`` if it is cached and its inputs unchanged, else ``None``
    (an explanation reuses the matrix it was clicked from rather than computing again)."""
    key = ("preview", period.code, period.start, period.end, service, *_inputs_key(session))
    return _previews.peek(key)


def stored_run(session: Session, run: AllocationRun) -> PeriodAllocation:
    """``load_run(run, explain=False)``, read once per run (its lines never change)."""
    key = (*_database(session), run.id, run.created_at, run.total)
    return _runs.get(key, lambda: load_run(session, run, explain=False))


def explained_run(session: Session, run: AllocationRun, service: str, member: str
                  ) -> PeriodAllocation:
    """The run with the one line ``(service, member)`` explained: the cached amounts plus that
    line's stored explanation (one row read, not the run's thousands)."""
    from accounting.allocation.engine import MemberShare
    from accounting.org import Member, Service

    base = stored_run(session, run)
    explanation = session.scalar(
        select(AllocationLine.explanation)
        .join(Member, Member.id == AllocationLine.member_id)
        .join(Service, Service.id == AllocationLine.service_id)
        .where(AllocationLine.run_id == run.id, Service.code == service, Member.code == member)
    )
    if explanation is None:
        return base
    share = MemberShare.from_dict(explanation)
    services = []
    for item in base.services:
        if item.service.code == service and item.allocation is not None:
            shares = tuple(share if s.code == member else s for s in item.allocation.shares)
            fresh_memos: dict[str, Any] = {"_by_code": {}, "_amounts": {}}  # not the base's
            item = replace(item, allocation=replace(item.allocation, shares=shares, **fresh_memos))
        services.append(item)
    return replace(base, services=services)


def changed_since(session: Session, run: AllocationRun,
                  compute: Callable[[], PeriodAllocation], fresh: bool = False) -> list[str]:
    """The French names of the kinds of input changed since ``run`` was computed (the run's
    stored fingerprints against those of ``compute()``, today's allocation), reused while the
    inputs are unchanged."""
    key = ("check", run.id, run.created_at, *_inputs_key(session))
    return _checks.get(
        key,
        lambda: changed_inputs(run.inputs.get("fingerprints"), input_fingerprints(compute())),
        fresh,
    )
