"""Uploaded files: :func:`receive_upload`, the one way every upload endpoint reads a file, and
the files kept between an import's preview and its confirmation.

**Receiving** (issue 13: ``POST /comptabilite/fec/controle`` answered 500 for a file named
``..``, ``.``, 300 characters or containing NUL): :func:`receive_upload` gives the endpoint a
:class:`ReceivedFile` whose name is safe to show and to use as a file name
(:func:`safe_filename`: the last path component — browsers may send a whole Windows path —
without leading or trailing dots and spaces, shortened to :data:`MAX_NAME_BYTES` bytes of
UTF-8; a name that is empty, ``.``, ``..``, holds a control character such as NUL, or passes
255 bytes is refused, not repaired), whose extension is one the endpoint accepts, and whose
size is within ``MAX_CONTENT_LENGTH`` (read without ever holding more); otherwise
:class:`UploadRefused`, an :class:`~imports.errors.ImportRefused` with a French message, which
every endpoint shows as a 4xx page or a flash. The fuzz target
``tests/fuzz/test_fuzz_uploads.py`` posts random names and contents to every upload endpoint
and accepts no 5xx.

**Pending uploads** (:class:`PendingUploads`): the file is stored under
``<instance>/imports/<kind>-<user id>-<sha256>`` with its (safe) original name beside it
(``.name``); the preview links to it by its hash (the "token"), and only its uploader finds
it. A confirmed import discards it. An upload that is never confirmed would stay for ever:
each new upload of the same kind first removes that kind's files older than :data:`MAX_AGE`,
so the folder holds at most a day of abandoned files.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app

from imports.errors import ImportRefused
from imports.tabular import CSV_EXTENSIONS, XLSX_EXTENSIONS, read_limited

#: What each kind of upload accepts (by extension; the readers then check the content).
TABULAR = (*CSV_EXTENSIONS, *XLSX_EXTENSIONS, ".xls")  # .xls: read_table says to resave it
FEC_FILES = (".txt", ".csv", ".tsv")
YAML_FILES = (".yaml", ".yml", ".txt")
#: A name longer than this (in UTF-8 bytes) is shortened, its extension kept: file systems
#: refuse names over 255 bytes.
MAX_NAME_BYTES = 120
DEFAULT_MAX_BYTES = 50 * 2**20


class UploadRefused(ImportRefused):
    """An upload refused before any reader saw it (no file, wrong type, too large)."""


def encoding_field() -> Any:
    """The « Encodage » select of the CSV upload forms: detected (default) or the user's
    explicit choice, applied strictly (``imports.tabular.read_table(encoding=...)``)."""
    from wtforms import SelectField
    from wtforms.fields.choices import SelectChoice

    from imports.tabular import ENCODINGS

    choices = [SelectChoice("", "Détecter (UTF-8, sinon Windows-1252)")]
    choices += [SelectChoice(value, label) for value, label in ENCODINGS.items()]
    return SelectField("Encodage du fichier CSV", choices=choices, default="")


def chosen_encoding(form: Any) -> str | None:
    from imports.tabular import ENCODINGS

    value = getattr(form, "encoding", None) and form.encoding.data
    return value if value in ENCODINGS else None


@dataclass(frozen=True)
class ReceivedFile:
    name: str
    data: bytes


def safe_filename(raw: str | None, default: str | None = None) -> str:
    """A name that can be shown and used as a file name, from what the client sent.

    Raises :class:`UploadRefused` for a hostile name (see the module docstring); with
    ``default``, returns it instead (a name already stored, shown again).
    """
    try:
        return _safe_filename(raw)
    except UploadRefused:
        if default is None:
            raise
        return default


def _safe_filename(raw: str | None) -> str:
    sent = raw or ""
    if any(unicodedata.category(ch) == "Cc" for ch in sent):
        raise UploadRefused("Nom de fichier refusé : il contient des caractères de contrôle.")
    if len(sent.encode()) > 255:
        raise UploadRefused("Nom de fichier refusé : plus de 255 octets.")
    name = unicodedata.normalize("NFC", sent.replace("\\", "/").rsplit("/", 1)[-1])
    name = name.strip(" .")
    if not name or any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise UploadRefused(f"Nom de fichier refusé : « {sent[:60]} » ne nomme pas un fichier.")
    stem, extension = os.path.splitext(name)
    if len(extension.encode()) > 16:
        stem, extension = name, ""
    budget = MAX_NAME_BYTES - len(extension.encode())
    stem = stem.encode()[:budget].decode("utf-8", errors="ignore").rstrip(" .")
    return (stem or "fichier") + extension


def receive_upload(storage: Any, *, accept: tuple[str, ...],
                   max_bytes: int | None = None) -> ReceivedFile:  # fmt: skip
    """Read one uploaded file (a Werkzeug ``FileStorage``) for an endpoint accepting the
    extensions ``accept``; raises :class:`UploadRefused` with a French message."""
    if storage is None or not getattr(storage, "filename", None):
        raise UploadRefused("Choisissez un fichier.")
    name = safe_filename(storage.filename)
    extension = os.path.splitext(name)[1].lower()
    if extension not in accept:
        shown = ", ".join(sorted(set(accept)))
        raise UploadRefused(
            f"Type de fichier non pris en charge pour « {name} » : {shown} attendu."
        )
    limit = max_bytes or current_app.config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BYTES
    return ReceivedFile(name, read_limited(storage.stream, name, max_bytes=limit))

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
        path.with_suffix(".name").write_text(safe_filename(filename, "fichier"), encoding="utf-8")
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
