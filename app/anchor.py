"""The anchor of the hash chain outside the database (``SEAL_ANCHOR``, a file path).

After each commit that appended seals, the head of the chain (``seq hash time``) is appended
to the anchor file; ``mutualise verify`` checks that every anchored link is still in the chain,
so that rewriting the whole ``seals`` table with SQL is seen. The domain (accounting.seal) only
marks the transaction (``SEALED_IN_TRANSACTION``) and offers ``append_anchor``; the file, a
deployment matter, is the app's.

How: ``get_db`` puts the configured path in ``session.info``; listeners on every Session read
the head just before commit (the chain lock is still held: it is this transaction's head) and
append it once the commit succeeded. A rollback forgets it. A failure to write the anchor is
logged, never undoes the commit that already happened.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from accounting.seal import SEALED_IN_TRANSACTION, append_anchor, chain_head

#: ``session.info`` keys: the anchor file of the session, and the head waiting for the commit.
ANCHOR_PATH = "mutualise:seal_anchor"
_PENDING = "mutualise:anchor_pending"

log = logging.getLogger(__name__)


def attach(session: Session, path: str | None) -> Session:
    """Anchor the seals this session commits in ``path`` (nothing when it is empty)."""
    if path:
        session.info[ANCHOR_PATH] = path
    return session


@event.listens_for(Session, "before_commit")
def _read_head(session: Session) -> None:
    if not session.info.pop(SEALED_IN_TRANSACTION, False) or ANCHOR_PATH not in session.info:
        return
    session.flush()
    session.info[_PENDING] = chain_head(session)


@event.listens_for(Session, "after_commit")
def _write_head(session: Session) -> None:
    pending: Any = session.info.pop(_PENDING, None)
    if pending is None:
        return
    path = session.info[ANCHOR_PATH]
    try:
        append_anchor(path, *pending)
    except OSError:
        log.exception("hash chain head %s not anchored in %s", pending, path)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(SEALED_IN_TRANSACTION, None)
