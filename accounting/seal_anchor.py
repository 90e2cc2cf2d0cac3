"""The anchor file: the chain's head written outside the database after each sealing commit.

A chain rebuilt consistently with SQL (every hash recomputed) passes its own links; it cannot
also rewrite a file kept on another host. One ``seq hash time`` line per anchored link, appended
with a single ``O_APPEND`` write so that processes never interleave.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from accounting.audit import jsonable
from accounting.db import utcnow


@dataclass(frozen=True)
class Anchor:
    """One line of the anchor file: the chain had ``hash`` at ``seq`` (written at ``at``)."""

    line: int
    seq: int
    hash: str
    at: str


def append_anchor(path: Path | str, seq: int, hash_: str, at: datetime | None = None) -> None:
    """Append ``seq hash time`` to the anchor file (created with its folder if missing).

    One ``write`` on a file opened ``O_APPEND``: several processes may append at once without
    interleaving lines; fsynced, as the commit it follows was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = f"{seq} {hash_} {jsonable(at or utcnow())}\n".encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_anchor(path: Path | str) -> tuple[list[Anchor], list[int]]:
    """The anchored links of the file, and the numbers of its unreadable lines."""
    anchors: list[Anchor] = []
    unreadable: list[int] = []
    with open(path, encoding="ascii", errors="replace") as lines:
        for number, text_line in enumerate(lines, start=1):
            parts = text_line.split()
            if not parts:
                continue
            if (
                len(parts) != 3 or not parts[0].isdigit() or len(parts[1]) != 64
                or any(c not in "0123456789abcdef" for c in parts[1])
            ):  # fmt: skip
                unreadable.append(number)
                continue
            anchors.append(Anchor(number, int(parts[0]), parts[1], parts[2]))
    return anchors, unreadable
