"""The FEC (Fichier des Écritures Comptables): its columns, its name, and a streaming writer.

Design: the format is fixed by article A47 A-1 of the Livre des procédures fiscales. A FEC is a
flat text file: a header line with the 18 columns below in this order, then one line per
journal line, fields separated by a tab (or a pipe ``|``), dates written ``YYYYMMDD``, amounts
with a decimal comma and no thousands separator. Its name is ``<SIREN>FEC<YYYYMMDD>.txt``, the
date being the closing day of the fiscal year.

This module holds what the writer, the validator (``accounting.fec_check``) and the reader
(``imports.fec``) share: the column names, the parsing and formatting of one date or amount,
the name of a file, the fiscal year a name implies, the detection of encoding and separator.
Everything is pure (no database): writing streams an iterable of ``FecLine`` into a binary file
object, so one million lines never sit in memory.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO, NamedTuple

from stdnum.fr import siren as stdnum_siren

from accounting.encodings import holds_utf8, line_at

#: The 18 columns of the norm, in their order (Debit/Credit layout).
FEC_COLUMNS: tuple[str, ...] = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)

#: The other layout the norm allows: one signed-by-direction amount and its direction.
FEC_COLUMNS_MONTANT_SENS: tuple[str, ...] = (
    *FEC_COLUMNS[:11],
    "Montant",
    "Sens",
    *FEC_COLUMNS[13:],
)

#: Columns that must never be empty (the others are empty when unused).
MANDATORY_COLUMNS: tuple[str, ...] = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "ValidDate",
)

#: Columns a cash-basis (BNC) FEC adds after the 18; they are not an anomaly.
CASH_BASIS_COLUMNS: tuple[str, ...] = ("DateRglt", "ModeRglt", "NatOp", "IdClient")

#: The encoding the norm names (with ASCII and EBCDIC); the writer's default.
FEC_ENCODING = "iso-8859-15"

SEPARATOR_NAMES = {"\t": "tabulation", "|": "barre verticale (|)"}

_FILENAME_RE = re.compile(r"^(?P<siren>\d+)FEC(?P<closing>\d{8})(?P<rest>.*?)(?:\.txt)?$", re.I)
#: Amounts from 10^15 € up are refused: no ledger holds them, and their sums would overflow
#: the 28 significant digits of decimal arithmetic (a fuzzed 37-digit Debit crashed the totals).
AMOUNT_LIMIT = Decimal(10) ** 15
_AMOUNT_RE = re.compile(r"[+-]?[0-9]+(?:,[0-9]+)?")
#: Every byte but 0x80-0x9F: deleting them leaves only the C1 bytes (faster than a regex).
_NOT_C1_BYTES = bytes(range(0x80)) + bytes(range(0xA0, 0x100))


class FecError(ValueError):
    """A FEC cannot be written or named as asked (the message is French, it reaches the UI)."""


class FecLine(NamedTuple):
    """One line of a FEC, as the writer takes it: typed values, formatted on output.

    Text fields are plain strings (empty when unused); ``debit`` and ``credit`` are
    non-negative ``Decimal`` with two places; ``date_let`` and ``montant_devise`` are optional.
    """

    journal_code: str
    journal_lib: str
    ecriture_num: str
    ecriture_date: date
    compte_num: str
    compte_lib: str
    comp_aux_num: str
    comp_aux_lib: str
    piece_ref: str
    piece_date: date
    ecriture_lib: str
    debit: Decimal
    credit: Decimal
    ecriture_let: str = ""
    date_let: date | None = None
    valid_date: date | None = None
    montant_devise: Decimal | None = None
    idevise: str = ""


class FecRow(NamedTuple):
    """One line read from a FEC: its line number in the file, typed values, extra columns.

    ``debit`` and ``credit`` are non-negative unless the file says otherwise (a negative
    amount is a warning, not a refusal); ``extra`` holds the columns after the 18, in order.
    """

    line: int
    journal_code: str
    journal_lib: str
    ecriture_num: str
    ecriture_date: date
    compte_num: str
    compte_lib: str
    comp_aux_num: str
    comp_aux_lib: str
    piece_ref: str
    piece_date: date | None
    ecriture_lib: str
    debit: Decimal
    credit: Decimal
    ecriture_let: str
    date_let: date | None
    valid_date: date | None
    montant_devise: Decimal | None
    idevise: str
    extra: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# Dates and amounts


def format_fec_date(value: date | None) -> str:
    """``date(2025, 1, 15)`` -> ``"20250115"``; ``None`` -> ``""``."""
    if value is None:
        return ""
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def parse_fec_date(text: str) -> date | None:
    """``"20250115"`` -> ``date(2025, 1, 15)``; anything that is not a real ``YYYYMMDD`` -> None."""
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def format_fec_amount(value: Decimal | None) -> str:
    """``Decimal("1200")`` -> ``"1200,00"``: two places, decimal comma, no thousands separator."""
    if value is None:
        return ""
    return f"{value:.2f}".replace(".", ",")


def parse_fec_amount(text: str) -> Decimal | None:
    """``"0000000069,60"`` -> ``Decimal("69.60")``; a dot, a space or a letter -> None.

    The norm writes amounts with a decimal comma and no thousands separator; a sign is
    tolerated (``Montantdevise`` is signed in practice).
    """
    if not _AMOUNT_RE.fullmatch(text):
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        return None
    return value if abs(value) < AMOUNT_LIMIT else None


def amount_hint(text: str) -> str:
    """Why ``text`` is not a FEC amount, in French, for an error message."""
    if not text:
        return "le montant est vide"
    if "." in text and "," not in text:
        return "le séparateur décimal doit être la virgule"
    if " " in text or "." in text:
        return "pas de séparateur de milliers (ni espace ni point)"
    if _AMOUNT_RE.fullmatch(text):
        return "montant trop grand : au plus 15 chiffres avant la virgule"
    return "seuls des chiffres, un signe et une virgule décimale sont admis"


# ---------------------------------------------------------------------------------------------
# File name and fiscal year


@dataclass(frozen=True, slots=True)
class FecFileName:
    """What the name of a FEC says: SIREN, closing date, and whether each part is right."""

    siren: str
    #: None when the eight digits after ``FEC`` are not a real date.
    closing_date: date | None
    closing_text: str
    siren_valid: bool
    #: Characters between the date and ``.txt`` (a copy's suffix): the name is then not conform.
    suffix: str


def fec_filename(siren: str, closing_date: date) -> str:
    """The legal name of a FEC: ``<SIREN>FEC<YYYYMMDD>.txt``.

    Refuses a SIREN whose Luhn key is wrong: a FEC named after an invalid SIREN is rejected by
    the tax administration, better to say so when exporting.
    """
    compact = stdnum_siren.compact(siren or "")
    if not stdnum_siren.is_valid(compact):
        raise FecError(
            f"Le SIREN « {siren} » est invalide (9 chiffres et clé de Luhn attendus) : "
            "impossible de nommer le FEC."
        )
    return f"{compact}FEC{format_fec_date(closing_date)}.txt"


def parse_fec_filename(name: str | Path) -> FecFileName | None:
    """SIREN and closing date read from a file name; None unless ``<digits>FEC<8 digits>``."""
    match = _FILENAME_RE.match(Path(name).name)
    if match is None:
        return None
    siren = match["siren"]
    return FecFileName(
        siren=siren,
        closing_date=parse_fec_date(match["closing"]),
        closing_text=match["closing"],
        siren_valid=len(siren) == 9 and stdnum_siren.is_valid(siren),
        suffix=match["rest"],
    )


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def fiscal_year_start(closing_date: date) -> date:
    """The first day of a 12-month fiscal year closing on ``closing_date``.

    ``2025-12-31`` -> ``2025-01-01``; ``2022-08-31`` -> ``2021-09-01``.
    """
    return add_months(closing_date + timedelta(days=1), -12)


# ---------------------------------------------------------------------------------------------
# Encoding and separator


def detect_encoding(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """The encoding to read a FEC with: ``utf-8-sig``, ``utf-8`` or a single-byte fallback.

    The whole file is checked (a real sample has its only non-ASCII byte at 80 % of the file):
    UTF-8 if every byte decodes, else windows-1252 when bytes 0x80-0x9F occur (control codes
    in ISO-8859-15, letters and signs in Windows exports), else ISO-8859-15, the norm's own.
    A file with a UTF-8 BOM or UTF-8 characters that is not valid UTF-8 further on mixes
    encodings: :class:`FecError` names the line where it breaks (``accounting/encodings.py``).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    has_c1 = False
    utf8 = True
    has_utf8 = False
    lines_before = 0
    broken_line = None
    with open(path, "rb") as handle:
        first = handle.read(3)
        bom = first == codecs.BOM_UTF8
        handle.seek(0)
        while chunk := handle.read(chunk_size):
            if not has_c1 and not chunk.isascii():
                has_c1 = bool(chunk.translate(None, _NOT_C1_BYTES))
            if not has_utf8 and not chunk.isascii():
                has_utf8 = holds_utf8(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    utf8 = False
                    broken_line = lines_before + line_at(chunk, max(0, error.start))
            lines_before += chunk.count(b"\n")
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
                broken_line = lines_before + 1
    if not utf8 and (bom or has_utf8):
        raise FecError(
            f"Le fichier n'est pas un texte UTF-8 valide à partir de la ligne {broken_line} "
            "alors qu'il contient aussi du texte UTF-8 (encodages mélangés ou fichier abîmé) : "
            "enregistrez-le entièrement en UTF-8 ou en ISO-8859-15."
        )
    if utf8:
        return "utf-8-sig" if bom else "utf-8"
    return "windows-1252" if has_c1 else "iso-8859-15"


def detect_separator(header: str) -> str | None:
    """Tab or pipe, whichever splits the header line into more fields; None if neither does."""
    tabs, pipes = header.count("\t"), header.count("|")
    if not tabs and not pipes:
        return None
    return "\t" if tabs >= pipes else "|"


# ---------------------------------------------------------------------------------------------
# Writer

# Characters outside ISO-8859-15 that French text commonly holds, and their plain replacement.
_LATIN9_FALLBACK = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u202f": " ",
        "\u2009": " ",
    }
)
_LATIN9_COMMON = tuple(
    (chr(code), plain) for code, plain in _LATIN9_FALLBACK.items() if isinstance(plain, str)
)
_FIELD_BREAKERS = str.maketrans({"\t": " ", "\r": " ", "\n": " "})


def _latin9_replace(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a character ISO-8859-15 lacks becomes its closest plain form."""
    assert isinstance(error, UnicodeEncodeError)
    bad = error.object[error.start : error.end]
    out = []
    for char in bad.translate(_LATIN9_FALLBACK):
        try:
            char.encode(FEC_ENCODING)
            out.append(char)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out), error.end


codecs.register_error("fec_latin9", _latin9_replace)


def clean_fec_text(value: str | None) -> str:
    """A text field safe to write: no separator, no line break, no padding."""
    if not value:
        return ""
    return value.translate(_FIELD_BREAKERS).strip()


def write_fec(
    lines: Iterable[FecLine],
    fileobj: BinaryIO,
    *,
    encoding: str = FEC_ENCODING,
    newline: str = "\r\n",
    chunk_lines: int = 8192,
) -> int:
    """Stream ``lines`` into the binary ``fileobj`` as a FEC; return the number of lines written.

    Why streaming: a year of a large cluster is a million lines; they are formatted and
    encoded by chunks, never all held. The header is always written, tab separated; lines end
    with CR LF (the norm accepts CR LF or LF). ISO-8859-15 by default, the norm's character
    set; a character it lacks (a typographic apostrophe, a dash...) is written as its plain
    form.
    """
    return write_fec_rows(fec_texts(lines), fileobj, encoding=encoding, newline=newline,
                          chunk_lines=chunk_lines)  # fmt: skip


def fec_texts(lines: Iterable[FecLine]) -> Iterator[Sequence[str]]:
    """Each ``FecLine`` as its 18 texts (dates ``YYYYMMDD``, amounts with a comma)."""
    dates: dict[date | None, str] = {None: ""}
    for line in lines:
        (jc, jl, num, edate, cnum, clib, auxn, auxl, pref, pdate, elib,
         debit, credit, let, dlet, vdate, mdev, idev) = line  # fmt: skip
        try:
            es, ps, ls, vs = dates[edate], dates[pdate], dates[dlet], dates[vdate]
        except KeyError:
            for value in (edate, pdate, dlet, vdate):
                if value not in dates:
                    dates[value] = format_fec_date(value)
            es, ps, ls, vs = dates[edate], dates[pdate], dates[dlet], dates[vdate]
        currency = "" if mdev is None else f"{mdev:.2f}".replace(".", ",")
        yield (jc, jl, num, es, cnum, clib, auxn, auxl, pref, ps, elib,
               f"{debit:.2f}".replace(".", ","), f"{credit:.2f}".replace(".", ","),
               let, ls, vs, currency, idev)  # fmt: skip


def write_fec_rows(
    rows: Iterable[Sequence[str]],
    fileobj: BinaryIO,
    *,
    encoding: str = FEC_ENCODING,
    newline: str = "\r\n",
    chunk_lines: int = 8192,
) -> int:
    """Stream rows already formatted (18 texts each) into ``fileobj`` after the header; returns
    the number of rows. A text holding a separator or a line break, or None, is cleaned."""
    if newline not in ("\r\n", "\n"):
        raise FecError("Fin de ligne non admise par la norme : CR LF ou LF.")
    latin9 = codecs.lookup(encoding).name == "iso8859-15"
    errors = "fec_latin9" if latin9 else "strict"
    write = fileobj.write

    def flush(texts: list[str]) -> None:
        chunk = newline.join(texts) + newline
        if latin9 and not chunk.isascii():
            # The usual culprits, replaced at C speed; the error handler takes the rest.
            for char, plain in _LATIN9_COMMON:
                if char in chunk:
                    chunk = chunk.replace(char, plain)
        write(chunk.encode(encoding, errors))

    write(("\t".join(FEC_COLUMNS) + newline).encode(encoding))
    count = 0
    buffer: list[str] = []
    append = buffer.append
    for row in rows:
        try:
            text = "\t".join(row)
            clean = text.count("\t") == 17 and "\n" not in text and "\r" not in text
        except TypeError:  # a text is None
            clean = False
        if not clean:
            text = "\t".join(clean_fec_text(value) for value in row)
        append(text)
        count += 1
        if len(buffer) >= chunk_lines:
            flush(buffer)
            buffer.clear()
    if buffer:
        flush(buffer)
    return count
