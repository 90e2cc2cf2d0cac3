"""Pausing Python's cyclic garbage collector around bulk jobs (allocation, timesheet import)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_gc_lock = threading.Lock()
_gc_pauses = 0


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a bulk computation.

    Why: a job that makes tens of thousands of objects that live until it ends (the 19 000
    member × service inputs of an allocation, the 100 000 lines of a timesheet import)
    triggers full collections, each walking every object of the process: 0.15–0.4 s per
    allocation and 1–2 s per import on the shared machine, more than the work itself (issue
    16). Those objects make no reference cycle — reference counting frees them all — and the
    few cycles of SQLAlchemy's bookkeeping wait for the collector, which runs again, as
    configured, as soon as the last paused job of the process ends. Counted, so that threads
    working at once do not re-enable it early; left alone when someone else disabled it.
    """
    global _gc_pauses
    with _gc_lock:
        if _gc_pauses == 0 and not gc.isenabled():
            paused = False  # disabled by someone else: leave it alone
        else:
            paused = True
            _gc_pauses += 1
            gc.disable()
    try:
        yield
    finally:
        if paused:
            with _gc_lock:
                _gc_pauses -= 1
                if _gc_pauses == 0:
                    gc.enable()
