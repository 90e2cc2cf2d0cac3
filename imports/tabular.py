"""Reading a user's CSV or XLSX file into a header and rows of strings, with line numbers.

Design: every importer (timesheets, members, figures, costs, payments) starts with
:func:`read_table` then :func:`map_columns`, and works on plain strings afterwards, so the
real-world quirks are handled once, here:

- size is checked before anything is parsed (:func:`read_table_file` checks the size on disk
  before reading the file, :func:`read_limited` stops reading a stream past the limit);
- CSV: UTF-8 with or without BOM, UTF-16 with BOM (Excel "Unicode text"), Windows-1252 for a
  file with no UTF-8 in it, or the encoding the user chose; a file that breaks its encoding
  (UTF-8 mixed with Latin-1, damaged bytes) is refused with the line, never re-decoded;
  the separator (``,`` ``;`` or tab) is sniffed from the header; quoted fields may hold
  separators and newlines; blank lines are skipped;
- XLSX: read with python-calamine (Rust, ~8x faster than openpyxl); the file must really be a
  zip holding a workbook, and the sizes declared in its directory are checked against limits
  before anything is inflated (zip bombs); typed cells become strings the parsers of
  :mod:`imports.parsing` read back exactly (dates ``2026-03-05``, durations ``1:30``,
  numbers without float noise);
- line numbers are those the user sees: the physical line of a CSV where a record starts, as a
  text editor shows it (header = 1; a quoted field spanning three lines counts three), the row
  number of a sheet.

Invariants: every problem is an :class:`~imports.errors.ImportRefused` with French messages;
nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import python_calamine

from accounting.encodings import holds_utf8, line_at
from imports.errors import ImportRefused, RowError

__all__ = [
    "CSV_EXTENSIONS",
    "DEFAULT_MAX_BYTES",
    "XLSX_EXTENSIONS",
    "ColumnMap",
    "EmptyFile",
    "FileTooLarge",
    "MissingColumns",
    "Row",
    "Table",
    "UnreadableFile",
    "map_columns",
    "normalize_header",
    "read_limited",
    "read_table",
    "read_table_file",
]

#: Largest file accepted by default: a 100 000-line timesheet CSV is about 8 MB.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
#: Largest total of the sizes an XLSX declares once inflated (zip bomb guard).
MAX_XLSX_UNCOMPRESSED = 400 * 1024 * 1024
#: Largest inflate ratio of one zip member above 1 MB (sheet XML compresses ~10-20x; bombs 1000x).
MAX_XLSX_RATIO = 200
#: Most members an XLSX may have (a real workbook has a few dozen).
MAX_XLSX_MEMBERS = 10_000

CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
_ACCEPTED = "CSV (.csv) ou Excel (.xlsx)"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SEPARATORS = (";", ",", "\t")


class UnreadableFile(ImportRefused):
    """The file as a whole cannot be read (wrong format, binary, damaged)."""


class FileTooLarge(UnreadableFile):
    """The file is above the size limit; refused before being read."""


class EmptyFile(UnreadableFile):
    """The file has no header, or a header and no data row."""


class MissingColumns(ImportRefused):
    """Required columns are missing, or unknown / duplicated columns are present."""


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its line number in the user's file and its cells, as stripped strings.

    ``values`` has exactly one cell per header column (short rows are padded with ``""``).
    """

    line: int
    values: tuple[str, ...]

    def __getitem__(self, index: int) -> str:
        return self.values[index]

    def get(self, index: int | None) -> str:
        """The cell at ``index``, or ``""`` when the column is absent (``index`` is None)."""
        return "" if index is None else self.values[index]


@dataclass(slots=True)
class Table:
    """A file read as a header and data rows."""

    filename: str
    #: ``"csv"`` or ``"xlsx"``.
    kind: str
    header: tuple[str, ...]
    #: Line number of the header in the file (1 unless blank lines come first).
    header_line: int
    rows: list[Row] = field(default_factory=list)
    #: For a CSV: the encoding and separator found (shown in the preview).
    encoding: str | None = None
    separator: str | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)


# ---------------------------------------------------------------- size limits


def _too_large(filename: str, size: int | None, max_bytes: int) -> FileTooLarge:
    shown = f" ({_megabytes(size)})" if size is not None else ""
    return FileTooLarge(
        f"Le fichier « {filename} » est trop volumineux{shown} : "
        f"la limite est de {_megabytes(max_bytes)}."
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} Mo" if size >= 1024 * 1024 else f"{size} octets"


def read_limited(stream: BinaryIO, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read an uploaded stream, refusing it as soon as it passes ``max_bytes``.

    Never holds more than ``max_bytes + 1`` bytes, whatever the client sends.
    """
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(filename, None, max_bytes)
    return data


def read_table_file(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Table:
    """:func:`read_table` for a file on disk (the CLI): the size is checked before reading."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise UnreadableFile(f"Impossible d'ouvrir « {path} » : {error.strerror}.") from None
    if not path.is_file():
        raise UnreadableFile(f"« {path} » n'est pas un fichier.")
    if size > max_bytes:
        raise _too_large(path.name, size, max_bytes)
    with path.open("rb") as stream:
        data = read_limited(stream, path.name, max_bytes=max_bytes)
    return read_table(data, path.name, max_bytes=max_bytes)


# ---------------------------------------------------------------- entry point


def read_table(data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
               encoding: str | None = None) -> Table:  # fmt: skip
    """Read a CSV or XLSX file into a :class:`Table`.

    The format is decided by the content first (a zip is a workbook, whatever its name), then by
    the extension. ``encoding`` (a key of :data:`ENCODINGS`) is the user's explicit choice for
    a CSV; by default it is detected (see :func:`_decode`). Raises :class:`FileTooLarge`,
    :class:`EmptyFile` or :class:`UnreadableFile`.
    """
    name = os.path.basename(filename or "fichier")
    if len(data) > max_bytes:
        raise _too_large(name, len(data), max_bytes)
    extension = os.path.splitext(name)[1].lower()
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise EmptyFile(f"Le fichier « {name} » est vide.")
    if data.startswith(_ZIP_MAGIC):
        if extension in XLSX_EXTENSIONS + CSV_EXTENSIONS or not extension:
            # A workbook saved under a .csv name is read as what it is.
            return _read_xlsx(data, name)
        raise UnreadableFile(f"Format de « {name} » non pris en charge : {_ACCEPTED} attendu.")
    if extension in XLSX_EXTENSIONS:
        raise UnreadableFile(
            f"« {name} » n'est pas un vrai fichier Excel (.xlsx) : son contenu n'est pas un "
            "classeur. Ouvrez-le dans votre tableur et enregistrez-le au format .xlsx ou .csv."
        )
    if data.startswith(_OLE_MAGIC):
        raise UnreadableFile(
            f"« {name} » est un ancien classeur Excel (.xls) : enregistrez-le au format .xlsx "
            "ou .csv."
        )
    if extension in CSV_EXTENSIONS or not extension:
        return _read_csv(data, name, encoding)
    raise UnreadableFile(f"Format de « {name} » non pris en charge : {_ACCEPTED} attendu.")


# ---------------------------------------------------------------- CSV


#: The encodings a user may choose explicitly (value -> label shown).
ENCODINGS = {
    "utf-8": "UTF-8",
    "windows-1252": "Windows-1252",
    "iso-8859-15": "ISO-8859-15",
    "utf-16": "UTF-16",
}
_SAVE_AS_UTF8 = "enregistrez-le en UTF-8 (« CSV UTF-8 » dans Excel) ou choisissez son encodage"


def _broken_at(data: bytes, name: str, error: UnicodeDecodeError, encoding: str,
               why: str = "") -> UnreadableFile:  # fmt: skip
    """The refusal naming the line where ``data`` stops being valid ``encoding``."""
    before = data[: error.start]
    if encoding.startswith("UTF-16"):
        line = before.decode("utf-16", errors="ignore").count("\n") + 1
    else:
        line = line_at(data, error.start)
    bad = data[error.start : error.start + 1].hex().upper()
    return UnreadableFile(RowError(line, None, (
        f"« {name} » n'est pas un texte {encoding} valide à partir de cette ligne "
        f"(octet 0x{bad}){why} : rien n'a été importé ; {_SAVE_AS_UTF8}."
    )))  # fmt: skip


def _decode(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Text and encoding name; refuses binary content and text that breaks its encoding.

    ``encoding`` is the user's explicit choice (a key of :data:`ENCODINGS`): the file is
    decoded strictly in it. Otherwise: a BOM decides (UTF-8 or UTF-16); a file that is valid
    UTF-8 is UTF-8; one with no UTF-8 sequence at all is a Windows-1252 export; one with both
    UTF-8 sequences and bytes that are not UTF-8 (mixed encodings, damaged text) is refused with
    the line where it breaks — never decoded again in another encoding (issue 13: « é » stored
    as « Ã© »).
    """
    if encoding is not None:
        label = ENCODINGS.get(encoding)
        if label is None:
            raise UnreadableFile(f"Encodage inconnu : « {encoding} ».")
        if encoding == "utf-8" and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            return data.decode(encoding), label
        except UnicodeDecodeError as error:
            raise _broken_at(data, name, error, label) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as error:
            raise _broken_at(data, name, error, "UTF-16") from None
    if b"\x00" in data[:65536]:
        raise UnreadableFile(
            f"« {name} » n'est pas un fichier texte (contenu binaire) : {_ACCEPTED} attendu."
        )
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data  # the error's offsets are in the body
    try:
        return body.decode("utf-8"), "UTF-8 (BOM)" if bom else "UTF-8"
    except UnicodeDecodeError as error:
        if bom or holds_utf8(data):  # mixed encodings or damaged: no second guess
            raise _broken_at(body, name, error, "UTF-8",
                             " alors qu'il contient aussi du texte UTF-8") from None  # fmt: skip
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as error:
        raise _broken_at(data, name, error, "Windows-1252") from None


def _sniff_separator(text: str) -> str:
    """The separator that splits the first non-blank line into the most fields."""
    first_record = ""
    for line in io.StringIO(text):
        if line.strip():
            first_record = line
            break
    best, best_count = ",", 1
    for separator in _SEPARATORS:
        try:
            fields = next(csv.reader([first_record], delimiter=separator), [])
        except csv.Error:
            continue
        if len(fields) > best_count:
            best, best_count = separator, len(fields)
    return best


def _read_csv(data: bytes, name: str, encoding: str | None = None) -> Table:
    text, encoding = _decode(data, name, encoding)
    if "\x00" in text:
        raise UnreadableFile(
            f"« {name} » n'est pas un fichier texte (contenu binaire) : {_ACCEPTED} attendu."
        )
    separator = _sniff_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    records = _numbered(reader, name)
    return _build_table(records, name, "csv", encoding=encoding, separator=separator)


def _numbered(reader: Any, name: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) per record; the line is the physical line where the record starts, as
    a text editor shows it (a quoted field spanning three lines makes the next record start
    three lines further)."""
    iterator = iter(reader)
    while True:
        line = reader.line_num + 1
        try:
            cells = next(iterator)
        except StopIteration:
            return
        except csv.Error as error:
            raise UnreadableFile(
                RowError(line, None, f"CSV mal formé ({_csv_reason(error)}).")
            ) from None
        yield line, cells


def _csv_reason(error: csv.Error) -> str:
    text = str(error)
    if "unexpected end of data" in text or "EOF" in text:
        return "guillemet ouvert jamais refermé"
    if "expected" in text and "after" in text:
        return "guillemet mal placé dans un champ"
    return text


# ---------------------------------------------------------------- XLSX


def _check_zip(data: bytes, name: str) -> None:
    """Refuse a damaged zip, a zip that is not a workbook, and a zip bomb, before inflating."""
    not_a_workbook = UnreadableFile(
        f"« {name} » n'est pas un vrai fichier Excel (.xlsx) : le classeur est illisible ou "
        "endommagé."
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise not_a_workbook from None
    with archive:
        members = archive.infolist()
        names = {member.filename for member in members}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise not_a_workbook
        if len(members) > MAX_XLSX_MEMBERS:
            raise UnreadableFile(f"« {name} » contient trop d'éléments pour un classeur.")
        total = 0
        for member in members:
            total += member.file_size
            ratio = member.file_size / max(member.compress_size, 1)
            if total > MAX_XLSX_UNCOMPRESSED or (
                member.file_size > 1024 * 1024 and ratio > MAX_XLSX_RATIO
            ):
                raise UnreadableFile(
                    f"« {name} » est refusé : une fois décompressé, il occuperait "
                    f"{_megabytes(total)} (fichier suspect ou trop gros)."
                )


def _read_xlsx(data: bytes, name: str) -> Table:
    _check_zip(data, name)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [
            index
            for index, meta in enumerate(workbook.sheets_metadata)
            if meta.visible == python_calamine.SheetVisibleEnum.Visible
            and meta.typ == python_calamine.SheetTypeEnum.WorkSheet
        ] or [0]
        sheet = workbook.get_sheet_by_index(sheets[0])
        first_row = sheet.start[0] if sheet.start else 0
        cells = sheet.to_python(skip_empty_area=True)
    except Exception as error:  # calamine raises several unrelated types on damaged files
        raise UnreadableFile(
            f"« {name} » n'est pas un vrai fichier Excel (.xlsx) : le classeur est illisible "
            f"ou endommagé ({type(error).__name__})."
        ) from None
    records = (
        (first_row + index + 1, [_cell_text(value) for value in row])
        for index, row in enumerate(cells)
    )
    return _build_table(records, name, "xlsx")


def _cell_text(value: object) -> str:
    """A typed cell as the string the parsers read back exactly."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M" if value.second == 0 else "%H:%M:%S")
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{sign}{hours}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")
    return str(value)


# ---------------------------------------------------------------- common


def _build_table(
    records: Iterable[tuple[int, list[str]]],
    name: str,
    kind: str,
    *,
    encoding: str | None = None,
    separator: str | None = None,
) -> Table:
    header: tuple[str, ...] | None = None
    header_line = 0
    rows: list[Row] = []
    errors: list[RowError] = []
    width = 0
    for line, cells in records:
        stripped = [cell.strip() for cell in cells]
        if not any(stripped):
            continue
        if header is None:
            while stripped and not stripped[-1]:
                stripped.pop()
            header, header_line, width = tuple(stripped), line, len(stripped)
            continue
        if len(stripped) > width:
            extra = stripped[width:]
            if any(extra):
                errors.append(
                    RowError(
                        line,
                        None,
                        f"{len(stripped)} cellules pour {width} colonnes d'en-tête : "
                        "vérifiez le séparateur et les guillemets.",
                    )
                )
                continue
            stripped = stripped[:width]
        elif len(stripped) < width:
            stripped.extend([""] * (width - len(stripped)))
        rows.append(Row(line, tuple(stripped)))
    if header is None:
        raise EmptyFile(f"Le fichier « {name} » est vide.")
    if errors:
        raise UnreadableFile(errors)
    if not rows:
        raise EmptyFile(f"Le fichier « {name} » ne contient aucune ligne de données.")
    return Table(
        filename=name,
        kind=kind,
        header=header,
        header_line=header_line,
        rows=rows,
        encoding=encoding,
        separator=separator,
    )


# ---------------------------------------------------------------- columns

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalize_header(text: str) -> str:
    """``"Adhérent "`` -> ``"adherent"``, ``"Unit type"`` -> ``"unittype"``.

    Case, accents, spaces and punctuation are ignored when columns are matched.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_ALNUM.sub("", plain.replace("œ", "oe").replace("æ", "ae"))


@dataclass(frozen=True, slots=True)
class ColumnMap(Mapping[str, int]):
    """Canonical column name -> index in the row, for the columns present in the file."""

    indexes: Mapping[str, int]
    #: Canonical name -> the header as the user wrote it (for messages).
    labels: Mapping[str, str]
    #: Headers of the file that match no canonical name, as written.
    unknown: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> int:
        return self.indexes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.indexes)

    def __len__(self) -> int:
        return len(self.indexes)

    def label(self, name: str) -> str:
        """The header the user wrote for ``name`` (or ``name`` when the column is absent)."""
        return self.labels.get(name, name)


def map_columns(
    header: Sequence[str],
    spec: Mapping[str, Sequence[str]],
    *,
    optional: Iterable[str] = (),
    allow_unknown: bool = False,
    header_line: int = 1,
) -> ColumnMap:
    """Match a file's header to canonical names.

    ``spec`` maps each canonical (English) name to its accepted headers, e.g.
    ``{"code": ["code", "Code adhérent"], "name": ["name", "Nom"]}``; the canonical name is
    always accepted too, and matching ignores case, accents, spaces and punctuation. Every name
    not in ``optional`` is required. Raises :class:`MissingColumns` listing every missing,
    duplicated and (unless ``allow_unknown``) unknown column at once.
    """
    lookup: dict[str, str] = {}
    for canonical, aliases in spec.items():
        for alias in (canonical, *aliases):
            key = normalize_header(alias)
            owner = lookup.setdefault(key, canonical)
            if owner != canonical:
                raise ValueError(f"alias {alias!r} given for both {owner!r} and {canonical!r}")
    optional = set(optional)
    unknown_in_spec = optional - set(spec)
    if unknown_in_spec:
        raise ValueError(f"optional names not in spec: {sorted(unknown_in_spec)}")

    indexes: dict[str, int] = {}
    labels: dict[str, str] = {}
    unknown: list[str] = []
    errors: list[RowError] = []
    for index, title in enumerate(header):
        if not title.strip():
            continue
        canonical = lookup.get(normalize_header(title))
        if canonical is None:
            unknown.append(title)
        elif canonical in indexes:
            errors.append(
                RowError(
                    header_line,
                    title,
                    f"Colonne en double : « {labels[canonical]} » et « {title} » désignent la "
                    "même donnée.",
                )
            )
        else:
            indexes[canonical] = index
            labels[canonical] = title
    for canonical, aliases in spec.items():
        if canonical not in indexes and canonical not in optional:
            accepted = ", ".join(f"« {name} »" for name in dict.fromkeys((canonical, *aliases)))
            errors.append(
                RowError(
                    header_line,
                    canonical,
                    f"Colonne obligatoire absente (en-têtes acceptés : {accepted}).",
                )
            )
    if unknown and not allow_unknown:
        for title in unknown:
            errors.append(RowError(header_line, title, "Colonne inconnue."))
    if errors:
        raise MissingColumns(
            errors, "Import refusé : les colonnes du fichier ne correspondent pas au modèle."
        )
    return ColumnMap(indexes=indexes, labels=labels, unknown=tuple(unknown))
