"""Rendered downloads kept in memory, keyed by the data they were made from.

Why: an Excel file is by far the most expensive thing a page asks for (openpyxl spends about
15 µs per cell: 100 ms for a month of 480 entries, ten times the page that links to it), and
the same file is asked for again and again: the treasurer and the member accountant download
the same month, a user downloads it again after closing the wrong tab. Rendering it once per
worker and serving the same bytes while the data are unchanged keeps the other users' pages
fast when many download at once (see the load benchmark in README).

The key is the SHA-256 of the rows themselves (what the query returned, every column, in
order) and of the kind of file, so there is nothing to invalidate: a changed entry, a renamed
member, a new status give other rows, hence another key, and the old bytes are simply never
asked for again and age out. Only the rows the user is allowed to see are ever read (the query
is scoped before this), and a user can only receive bytes made from rows they just read
themselves, so the cache cannot leak anything across members.

Each app (one per worker process) keeps its own small LRU, bounded in bytes
(``MUTUALISE_DOWNLOAD_CACHE``, 0 turns it off); nothing is shared, nothing persists, a restart
empties it. Large exports (over ``MAX_ROWS`` rows) are never cached: they
are streamed through a temporary file as before.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from typing import Any

from cachetools import LRUCache

#: Exports up to this many rows are rendered in memory and kept; larger ones are not.
MAX_ROWS = 5_000
#: Bytes of rendered files kept per worker process (the oldest go first).
MAX_BYTES = 32 * 1024 * 1024


class RenderedDownloads:
    """An LRU of rendered files by content key, bounded in bytes, safe across threads."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._files: LRUCache[str, bytes] = LRUCache(maxsize=max_bytes, getsizeof=len)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_render(self, key: str, render: Callable[[], bytes]) -> bytes:
        """The bytes of ``key``, rendered by ``render()`` the first time (outside the lock:
        two threads may render the same file once each, never block each other)."""
        if self._files.maxsize <= 0:
            return render()
        with self._lock:
            data = self._files.get(key)
            if data is not None:
                self.hits += 1
                return data
            self.misses += 1
        data = render()
        if len(data) <= self._files.maxsize:
            with self._lock:
                self._files[key] = data
        return data

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._files)


def content_key(kind: str, rows: Iterable[tuple[Any, ...]]) -> str:
    """SHA-256 of ``kind`` and of every value of every row, with its type: ``Decimal('1.50')``
    and ``Decimal('1.5')``, ``1`` and ``'1'``, a date and its text all give different keys."""
    digest = hashlib.sha256(kind.encode())
    for row in rows:
        digest.update(repr(row).encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def small_rows(
    rows: Iterable[tuple[Any, ...]], limit: int | None = None
) -> tuple[list[tuple[Any, ...]] | None, Iterator[tuple[Any, ...]]]:
    """``(all the rows, empty)`` when there are at most ``limit`` (default :data:`MAX_ROWS`);
    else ``(None, every row)`` (the ones already read put back in front), so that a large
    export still streams."""
    limit = MAX_ROWS if limit is None else limit
    iterator = iter(rows)
    head = list(islice(iterator, limit + 1))
    if len(head) <= limit:
        return head, iter(())
    return None, chain(head, iterator)
