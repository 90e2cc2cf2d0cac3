"""Uploaded files kept between an import's preview and its confirmation.

Design: the file is stored under ``<instance>/imports/<kind>-<user id>-<sha256>`` with its
original name beside it (``.name``); the preview links to it by its hash (the "token"), and
only its uploader finds it. A confirmed import discards it. An upload that is never confirmed
would stay for ever: each new upload of the same kind first removes that kind's files older
than :data:`MAX_AGE`, so the folder holds at most a day of abandoned files.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app

#: Uploads older than this are abandoned (a preview is confirmed within minutes).
MAX_AGE = timedelta(days=1)
_TOKEN = re.compile(r"[0-9a-f]{64}")


class PendingUploads:
    """The uploads of one kind of import (``"timesheets"``, ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._name = re.compile(rf"{re.escape(kind)}-\d+-[0-9a-f]{{64}}(\.name)?")

    @property
    def folder(self) -> Path:
        path = Path(current_app.instance_path) / "imports"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _path(self, user_id: int, token: str) -> Path:
        return self.folder / f"{self.kind}-{user_id}-{token}"

    def store(self, user_id: int, data: bytes, filename: str) -> str:
        """Keep ``data`` for ``user_id``; returns its token. Removes the stale uploads first."""
        self.remove_stale()
        token = hashlib.sha256(data).hexdigest()
        path = self._path(user_id, token)
        path.write_bytes(data)
        path.with_suffix(".name").write_text(Path(filename).name, encoding="utf-8")
        return token

    def get(self, user_id: int, token: str) -> tuple[Path, str] | None:
        """The stored file and its original name, or None (unknown, another user's, removed)."""
        if not _TOKEN.fullmatch(token or ""):
            return None
        path = self._path(user_id, token)
        name_file = path.with_suffix(".name")
        if not path.exists() or not name_file.exists():
            return None
        return path, name_file.read_text(encoding="utf-8")

    def discard(self, user_id: int, token: str) -> None:
        path = self._path(user_id, token)
        path.unlink(missing_ok=True)
        path.with_suffix(".name").unlink(missing_ok=True)

    def remove_stale(self, max_age: timedelta = MAX_AGE) -> int:
        """Remove this kind's files last written more than ``max_age`` ago; returns how many."""
        limit = time.time() - max_age.total_seconds()
        removed = 0
        for path in self.folder.iterdir():
            if not self._name.fullmatch(path.name):
                continue
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # removed meanwhile by another request
                continue
        return removed
