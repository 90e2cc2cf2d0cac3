"""Running a benchmark's side in a fresh interpreter, so that its peak memory is its own.

A plain process (spawned), not a pool's worker: a pool's workers are daemons, and a daemon may
not start the second process the FEC import reads in (:mod:`imports.fec_beside`).
"""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any


def in_fresh_process(target: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """(what ``target(*args)`` returns — its seconds —, peak MB), run in a new interpreter
    (its peak is its own)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_measured, args=(sender, target, *args))
    process.start()
    sender.close()
    try:
        outcome = receiver.recv()
    except EOFError:
        outcome = RuntimeError(f"{target.__name__} died (exit code {process.exitcode})")
    process.join()
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _measured(sender: Any, target: Callable[..., Any], *args: Any) -> None:
    try:
        seconds = target(*args)
        sender.send((seconds, peak_mb()))
    except BaseException as error:  # reported to the parent, which raises it
        sender.send(error)
        raise


def peak_mb() -> float:
    """This process's peak resident memory in MB: VmHWM (``ru_maxrss`` would keep the parent's
    high-water mark across fork and exec)."""
    try:
        for text in Path("/proc/self/status").read_text().splitlines():
            if text.startswith("VmHWM:"):
                return int(text.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
