"""In-process caches of the allocation pages (issue 16): a preview and the work totals of the
key editor cost a second at 1 000 members; paging through them must not. (A stored run's page
needs no cache: it reads its page of members in SQL and compares input digests,
``accounting.allocation.runs.matrix`` and ``app.allocation.digest``.)

What is cached, and why it can be trusted:

- **A preview** (``allocate_period``), **the period's work totals**, **the key editor's
  comparison of keys**, **the digests of its inputs** (a run page compares them with the
  run's), **the time summary's service-months** (``/temps/synthese``, issue 16) and **the
  accountant's dashboard table** (the month's work per service and heaviest member): keyed by the
  database, the period and service, the process's *write
  generation* — bumped by every ``INSERT``/``UPDATE``/``DELETE`` this process runs on a table
  that may feed an allocation (any table but sessions, rate limits, audit, tokens) — and the
  last work entry's id and the last audit event's id: every change made through the
  application, in any worker, writes an audit event in its transaction, so an import or an
  edit by *another* worker process shows at once too. Only a write behind the application's
  back (no audit event) waits ``TTL_SECONDS``, or « Recalculer ». Storing and approving a
  run always recompute from the database: a cached preview is never what gets stored or
  approved.
"""

from __future__ import annotations

import gc
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounting.audit import AuditEvent
from accounting.periods import Period
from timesheets.models import WorkEntry

#: How long a page is reused at most (a write behind the application's back).
TTL_SECONDS = 60.0
#: Entries kept per cache (a few periods × services; a preview of a year is ~20 MB).
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
_work = _Lru(TTL_SECONDS)
_comparisons = _Lru(TTL_SECONDS)
_summaries = _Lru(TTL_SECONDS)
_boards = _Lru(TTL_SECONDS)


def clear() -> None:
    """Forget every cached page (tests, or after restoring a backup in this process)."""
    for cache in (_previews, _work, _comparisons, _summaries, _boards):
        cache.clear()


def _inputs_key(session: Session) -> tuple[Any, ...]:
    """What a cached page depends on: this process's writes, the last work entry and the
    last audit event. Every change made through the application, by any worker, writes an
    audit event in its transaction (invariant 7: the session hook for each row, one event
    for a bulk import or approval), so another worker's edit changes the key at once; both
    maxima are read on their primary keys."""
    last_entry, last_event = session.execute(_LAST_IDS).one()
    return (*_database(session), _generation, last_entry, last_event)


_LAST_IDS = select(func.max(WorkEntry.id), select(func.max(AuditEvent.id)).scalar_subquery())


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


def comparison(session: Session, period: Period, service: str, texts: list[str],
               compute: Callable[[], T]) -> T:
    """``compute()`` (candidate keys tried on a service's period, the key editor's table:
    30 ms of the period's pools, members and bases for each view of the editor), reused while
    its inputs are unchanged."""
    key = ("comparison", period.code, period.start, period.end, service, tuple(texts),
           *_inputs_key(session))
    return _comparisons.get(key, compute)


def digests(session: Session, period: Period, compute: Callable[[], T],
            fresh: bool = False) -> T:
    """``compute()`` (the digests of the period's inputs, ``app.allocation.digest``: 0.1 s
    for a quarter at 1 000 members, most of it the work), reused while its inputs are
    unchanged."""
    key = ("digests", period.code, period.start, period.end, *_inputs_key(session))
    return _work.get(key, compute, fresh)


def cached_preview(session: Session, period: Period, service: str | None) -> Any:
    """The preview of ``preview`` if it is cached and its inputs unchanged, else ``None``
    (an explanation reuses the matrix it was clicked from rather than computing again)."""
    key = ("preview", period.code, period.start, period.end, service, *_inputs_key(session))
    return _previews.peek(key)


def summary_months(session: Session, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` (the time summary's service-months and totals: one aggregate over each
    month's entries, 60–80 ms a month at 1 000 members, for every page of the summary),
    reused while the work is unchanged; ``key``: the months, member scope and service."""
    return _summaries.get(("summary", *key, *_inputs_key(session)), compute)


def board(session: Session, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` (a dashboard's month-wide aggregates: the accountant's table of the month's
    work, 90 ms at 1 000 members, on every visit of the home page), reused while the work is
    unchanged; ``key``: the board and its month. The result is shared: never mutated."""
    return _boards.get(("board", *key, *_inputs_key(session)), compute)
