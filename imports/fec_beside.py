"""The FEC costs import on two cores: a second process reads and plans the file while this one
writes the costs already planned.

Why: reading and planning a 1 000 000-line FEC (:mod:`imports.fec_fast`, :mod:`imports.fec_plan`)
and writing its 100 000 costs with their entries (:mod:`accounting.cost_bulk`) each take
about as long, one after the other on one core: 3.9x ``pandas.read_csv`` where issue 15 asks
for 3x. Python runs one thread at a time (the GIL: two threads measured slower than one), so
the reading runs in a forked process — it inherits the planner built here (rules, account
mapping, closed and invoiced periods, the year's fingerprints), uses no database connection,
and sends the planned costs back through a pipe, :data:`SLICE` at a time, in the order of the
file; this process writes each slice as it comes, inside a savepoint.

Invariant: the same preview, costs, entries, numbers and seals as reading first then writing
(``tests/ledger/test_fec_beside.py`` compares both). Anything unusual makes this path give up
before the caller has seen anything — the savepoint rolled back, ``None`` returned — and the
caller reads then writes as before: a file the column reader hands to the line reader (any
error or warning to report), a reading process that fails, a process with other threads (a
fork copies only the calling thread: a lock another thread held would never be released in
the child), a file under :data:`BESIDE_BYTES`, a platform without ``fork``. A file the
planner refuses (errors by line) is refused as before, its writes rolled back.

Trade-off: two processes at once for the length of the import (the reader's peak memory is
the preview's, about 280 MB at 1 000 000 lines; this one's the planned costs and the
writes').
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, SessionTransaction

from accounting.collector import collector_paused
from accounting.cost_bulk import Added, add_costs
from accounting.fec import parse_fec_date
from accounting.ledger.mapping import unknown_accounts
from imports.fec import FecFile
from imports.fec_fast import read_fast
from imports.fec_plan import SLICE, EntryPlanner, PlannedCost
from imports.fec_rules import Rule

#: Files from this size are read beside the writes (a smaller one is read in under a second:
#: a second process would cost more than it saves).
BESIDE_BYTES = 16 << 20
#: The costs of the first message (then :data:`SLICE` a message).
FIRST_SLICE = 500


@dataclass
class _End:
    """The reader's last message: the file (None: it must be read line by line) and what
    the planner gathered besides the costs."""

    fec: FecFile | None
    errors: list[Any]
    left: dict[tuple[str, str], list[Any]]
    account_lines: dict[str, list[int]]
    column: int | None
    #: Every new cost written (False: the file will be refused, the writes stopped).
    complete: bool = False


@dataclass
class Beside:
    """What :func:`import_beside` did: the planner (its costs, errors and totals as if it had
    read the file here), the file, what was written, and the savepoint holding it."""

    planner: EntryPlanner
    fec: FecFile
    added: Added
    #: None: rolled back already (the planner has errors: the file is refused).
    savepoint: SessionTransaction | None


def can_read_beside(path: str | Path) -> bool:
    """A file big enough, a platform that forks, no other thread in this process, a process
    that may have children."""
    return (
        Path(path).stat().st_size >= BESIDE_BYTES
        and "fork" in multiprocessing.get_all_start_methods()
        and _alone()
        and not multiprocessing.current_process().daemon  # a daemon may have no child
    )


def _alone() -> bool:
    """No other thread in this process (a fork copies only the calling thread)."""
    return threading.active_count() == 1


def first_date(path: str | Path) -> date | None:
    """The EcritureDate of the file's first line (the fiscal year comes from it when the file
    name has no closing date), read from its first bytes; None when unsure (the usual path
    reads the file then)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    lines = head.split(b"\n")
    if len(lines) < 3:
        return None
    header, line = lines[0].decode("latin-1"), lines[1].decode("latin-1").rstrip("\r")
    start = header.find("JournalCode")
    if start < 0 or start + 11 >= len(header):
        return None
    separator = header[start + 11]
    cells = line.split(separator)
    if separator not in "\t|;," or len(cells) < 4 or cells[3] != cells[3].strip():
        return None
    return parse_fec_date(cells[3])


def import_beside(
    session: Session, path: str | Path, rules: list[Rule], analytic_column: str | None,
    user_id: int | None,
) -> Beside | None:  # fmt: skip
    """Read and plan the FEC at ``path`` in a forked process while writing its new costs here
    (see the module docstring); None when not done so (nothing written, the caller reads then
    writes). The caller checks the planner's errors and its own refusals, then releases or
    rolls back ``savepoint``."""
    first = first_date(path) if can_read_beside(path) else None
    if first is None:
        return None
    planner = EntryPlanner(session, path, rules, analytic_column)
    planner.begin(first)  # the year and its fingerprints, read here: the child reads no table
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    gc.collect()
    gc.freeze()  # the child never collects (nor finalises) what this process holds
    try:
        child = context.Process(target=_read, args=(planner, path, sender), daemon=True)
        child.start()
    finally:
        gc.unfreeze()
    sender.close()
    savepoint = session.begin_nested()
    added = Added()
    end: _End | None = None
    try:
        with collector_paused():  # 100 000 planned costs arriving: no full collections
            end = _receive(session, receiver, planner, added, user_id)
    finally:
        receiver.close()
        if end is None:  # this side failed (or the reader died): no need to read on
            child.kill()
        child.join()
        if end is None or end.fec is None:
            savepoint.rollback()
    if end is None or end.fec is None:
        return None
    planner.errors, planner.left = end.errors, end.left
    planner.column = end.column
    planner._account_lines.update(end.account_lines)
    if end.errors or not end.complete:  # refused: the chart as it was, for the errors
        savepoint.rollback()
        return Beside(planner, end.fec, Added(), None)
    return Beside(planner, end.fec, added, savepoint)


def _receive(
    session: Session, receiver: Any, planner: EntryPlanner, added: Added, user_id: int | None,
) -> _End | None:  # fmt: skip
    """Write each slice of new costs as it comes (until one comes with errors: the file will
    be refused), keep every cost in ``planner.costs``; the reader's last message (None: the
    reader died)."""
    writing = True
    known: set[str] = set()
    while True:
        try:
            message = receiver.recv()
        except EOFError:  # the reader died without its last message
            return None
        if isinstance(message, _End):
            message.complete = writing
            return message
        costs, failed = message
        planner.costs.extend(costs)
        new = [cost for cost in costs if not cost.already]
        # An account the chart does not know refuses the file; checked before the slice is
        # written, as posting it would add the account to the chart.
        accounts = {cost.data.account for cost in new} - known
        writing = writing and not failed and not unknown_accounts(session, accounts)
        known |= accounts
        if writing and new:
            done = add_costs(session, [(c.data, c.import_key) for c in new],
                             user_id=user_id, checked=True)  # fmt: skip
            added.kinds.update(done.kinds)
            for table, (low, high) in done.ids.items():
                added.wrote(table, [low, high])


def _read(planner: EntryPlanner, path: str | Path, sender: Any) -> None:
    """The reading process: plan the file, sending the costs a slice at a time; never touches
    the database (its connection belongs to the parent) and leaves without finalising
    anything it inherited (``os._exit``). Each message is pickled here and written to the pipe
    by a thread, so that the reading goes on while the parent, busy writing, has not read
    the previous one yet (a pipe holds 64 KB; a slice is about 700 KB)."""
    code = 1
    outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    postman = threading.Thread(target=_post, args=(outbox, sender), daemon=True)
    try:
        gc.disable()
        postman.start()

        def send(message: Any) -> None:
            outbox.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

        def hand_on(costs: list[PlannedCost]) -> None:
            send((costs, bool(planner.errors)))
            planner.hand_on_at = SLICE

        # The first costs sent early: the writing starts as soon as possible.
        planner.hand_on_at = min(FIRST_SLICE, SLICE)
        planner.on_costs = hand_on
        fec = read_fast(path, planner)
        if fec is not None:
            planner.end_entries()
            hand_on(planner.costs)
        send(_End(fec, planner.errors, planner.left, dict(planner._account_lines),
                  planner.column))  # fmt: skip
        outbox.put(None)
        postman.join()
        code = 0
    except BaseException:  # any failure: the parent reads the file itself
        pass
    finally:
        os._exit(code)


def _post(outbox: queue.SimpleQueue[bytes | None], sender: Any) -> None:
    """Write the pickled messages to the pipe in order, until None (or the parent has closed
    its end: it has stopped listening)."""
    try:
        while (message := outbox.get()) is not None:
            sender.send_bytes(message)
        sender.close()
    except OSError:
        return


__all__ = ["BESIDE_BYTES", "SLICE", "Beside", "PlannedCost", "can_read_beside", "import_beside"]
