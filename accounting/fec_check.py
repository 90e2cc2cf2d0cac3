"""Our own FEC validator: every rule a file breaks, with its line and column.

Design: one pass over the file, line by line, that only iterates: each line goes through the
line rules of :mod:`accounting.fec_rules` (one small named function per rule, with its reference
in the norm; one call per rule and line, measured about 1.2x the former single loop); per entry
(``JournalCode`` + ``EcritureNum``) only a small aggregate is kept: its debit and credit in
integer cents (exact, and fast), its first line and its date. Entry and file rules run on those
aggregates at the end. Each rule has a code in ``RULES`` with its severity and French title; an
issue is a ``FecIssue`` record: errors make a file non conform, warnings point at something to
look at. The rules of the file name and of the header are here: they decide whether the lines
can be read at all.

Invariants: every line is checked (no stop at the first error); a line whose amount cannot be
read is left out of the totals and its entry's balance is not judged (one cause, one report);
the fiscal year comes from the file name (``<SIREN>FEC<closing>``) unless given.

The same scan reads files for the FEC import (``imports.fec``): with ``collect_rows`` it also
builds typed ``FecRow`` values — kept in ``FecScan.rows``, or handed one by one to a ``sink``
(an import that aggregates as it reads, so a million rows never sit in memory) — and
``lenient`` turns rules that do not change the meaning of a line into warnings.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import TextIO

from accounting.fec import (
    CASH_BASIS_COLUMNS,
    FEC_COLUMNS,
    FEC_COLUMNS_MONTANT_SENS,
    SEPARATOR_NAMES,
    FecError,
    FecRow,
    detect_encoding,
    detect_separator,
    fiscal_year_start,
    parse_fec_filename,
)
from accounting.fec_rules import (
    ENTRY_CHECKS,
    ERROR,
    FILE_CHECKS,
    RULES,
    WARNING,
    FecIssue,
    LinePass,
    RowSink,
    format_cents,
    line_checks,
)


@dataclass(slots=True)
class FecScan:
    """What one pass over a FEC found: issues, and with ``collect_rows`` the typed rows."""

    issues: list[FecIssue] = field(default_factory=list)
    rows: list[FecRow] = field(default_factory=list)
    encoding: str = ""
    separator: str | None = None
    columns: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    line_count: int = 0
    entry_count: int = 0
    total_debit: Decimal = Decimal("0.00")
    total_credit: Decimal = Decimal("0.00")
    start: date | None = None
    end: date | None = None
    #: A BNC / cash-basis file (« recettes-dépenses »): its header has the columns of the
    #: cash-basis layout (DateRglt, ModeRglt, NatOp, IdClient) or the caller says so. Its
    #: ValidDate may be empty, as the tax administration's Test Compta Demat accepts.
    cash_basis: bool | None = None

    @property
    def errors(self) -> list[FecIssue]:
        return [issue for issue in self.issues if issue.severity == ERROR]

    @property
    def warnings(self) -> list[FecIssue]:
        return [issue for issue in self.issues if issue.severity == WARNING]

    @property
    def ok(self) -> bool:
        """No error (warnings may remain)."""
        return not any(issue.severity == ERROR for issue in self.issues)


def check_fec(
    path: str | Path, *, start: date | None = None, end: date | None = None,
    cash_basis: bool | None = None,
) -> list[FecIssue]:
    """Every issue of the FEC at ``path``, file-level first, then by line, totals last.

    ``start``/``end`` give the fiscal year; by default ``end`` is the closing date of the file
    name and ``start`` twelve months before (dates before an assumed start are warnings only:
    a first fiscal year may be longer).
    """
    return scan_fec(path, start=start, end=end, cash_basis=cash_basis).issues


def scan_fec(
    path: str | Path,
    *,
    start: date | None = None,
    end: date | None = None,
    check_name: bool = True,
    collect_rows: bool = False,
    lenient: Iterable[str] = (),
    encoding: str | None = None,
    cash_basis: bool | None = None,
    sink: RowSink | None = None,
    on_header: Callable[[FecScan], None] | None = None,
) -> FecScan:
    """One pass over the FEC at ``path``: all its issues, and its rows if ``collect_rows``.

    ``sink`` receives the rows instead of ``FecScan.rows`` (implies ``collect_rows``);
    ``on_header`` is called once the header is read (``columns``, ``extra_columns`` known),
    before the first row. ``check_name=False`` skips the rules that come from the file name
    (SIREN, closing date, fiscal year): an import does not care how an upload was named. Rules
    named in ``lenient`` are reported as warnings instead of errors.
    """
    path = Path(path)
    scan = FecScan(cash_basis=cash_basis)
    head: list[FecIssue] = []
    reporter = _Reporter(frozenset(lenient))

    inferred = start is None and check_name
    if check_name:
        end = _check_name(path, head, reporter.add, end)
        if end is not None and start is None:
            start = fiscal_year_start(end)
    scan.start, scan.end = start, end

    rows: RowSink | None = sink if sink is not None else scan.rows if collect_rows else None
    before, errors_before = len(head), reporter.errors
    try:
        _read(path, scan, head, reporter, encoding, (start, end, inferred), rows, on_header,
              compact=True)  # fmt: skip
    except _Reopened:  # an entry came back after it was closed: read again, keeping them all
        del head[before:]
        reporter.errors = errors_before
        if rows is not None:
            rows.clear()
        _read(path, scan, head, reporter, encoding, (start, end, inferred), rows, on_header,
              compact=False)  # fmt: skip
    return scan


def _read(
    path: Path, scan: FecScan, head: list[FecIssue], reporter: _Reporter,
    encoding: str | None, year: tuple[date | None, date | None, bool],
    rows: RowSink | None, on_header: Callable[[FecScan], None] | None, *, compact: bool,
) -> None:  # fmt: skip
    """Open the file in its encoding and run the pass (see :func:`_scan_lines`)."""
    issue = reporter.add
    try:
        scan.encoding = encoding or detect_encoding(path)
        handle = open(path, encoding=scan.encoding, newline="\n")  # noqa: SIM115
    except OSError as exc:
        issue(head, None, None, "unreadable", f"Fichier illisible : {exc.strerror or exc}.")
        scan.issues = head
        return
    except FecError as exc:  # mixed encodings: refused, never read in a guessed encoding
        issue(head, None, None, "unreadable", str(exc))
        scan.issues = head
        return
    with handle, _gc_paused():
        try:
            _scan_lines(handle, scan, head, reporter, year, rows, on_header, compact)
        except UnicodeDecodeError as exc:
            if rows is not None:
                rows.clear()
            issue(head, None, None, "unreadable",
                  f"Le fichier ne peut pas être lu en {scan.encoding} (octet {exc.start} "
                  "invalide) : enregistrez-le en UTF-8 ou ISO-8859-15.")  # fmt: skip
            scan.issues = head


def _check_name(
    path: Path, head: list[FecIssue], issue: Callable[..., None], end: date | None
) -> date | None:
    """Rules ``filename``, ``siren`` and ``closing_date``: the name is ``<SIREN>FEC<AAAAMMJJ>.txt``
    with a valid SIREN and a real closing date (norm: A47 A-1 LPF / BOI-CF-IOR-60-40-20, the
    file's name). Returns the fiscal year's end: ``end`` if given, else the name's closing."""
    name = parse_fec_filename(path)
    if name is None:
        issue(head, None, None, "filename",
              f"Le nom « {path.name} » ne suit pas la forme <SIREN>FEC<AAAAMMJJ>.txt "
              "(exemple : 123456782FEC20251231.txt) : SIREN et clôture inconnus.")  # fmt: skip
    else:
        if name.suffix or not path.name.lower().endswith(".txt"):
            issue(head, None, None, "filename",
                  f"Le nom « {path.name} » devrait être exactement "
                  f"{name.siren}FEC{name.closing_text}.txt.")  # fmt: skip
        if not name.siren_valid:
            why = ("la clé de contrôle de Luhn ne correspond pas" if len(name.siren) == 9
                   else f"{len(name.siren)} chiffres au lieu de 9")  # fmt: skip
            issue(head, None, None, "siren",
                  f"Le SIREN {name.siren} du nom de fichier est invalide ({why}).")  # fmt: skip
        if name.closing_date is None:
            issue(head, None, None, "closing_date",
                  f"La date de clôture « {name.closing_text} » du nom de fichier n'est pas "
                  "une date réelle au format AAAAMMJJ.")  # fmt: skip
        elif end is None:
            end = name.closing_date
    return end


class _Reporter:
    """Turns a rule broken into a ``FecIssue`` (severity from ``RULES`` unless lenient) and
    counts the errors, so the scan can stop building rows at the first one."""

    __slots__ = ("errors", "lenient")

    def __init__(self, lenient: frozenset[str]) -> None:
        self.lenient = lenient
        self.errors = 0

    def add(self, target: list[FecIssue], line: int | None, column: str | None, rule: str,
            message: str) -> None:  # fmt: skip
        severity = WARNING if rule in self.lenient else RULES[rule][0]
        if severity == ERROR:
            self.errors += 1
        target.append(FecIssue(line, column, rule, message, severity))


def _read_header(
    header_line: str, scan: FecScan, head: list[FecIssue], issue: Callable[..., None]
) -> tuple[int, bool, bool, list[int], tuple[str, ...]] | None:
    """Check the header; return (field count, trailing separator, Montant/Sens layout,
    the index of each of the 18 columns in a line, the 18 names) or None when lines cannot
    be read (no separator, missing columns)."""
    header = header_line.rstrip("\r\n").lstrip("\ufeff")
    separator = detect_separator(header)
    scan.separator = separator
    if separator is None:
        issue(head, 1, None, "separator",
              "Aucun séparateur reconnu dans l'en-tête : la tabulation ou la barre verticale "
              "(|) est attendue. Les lignes ne sont pas analysées.")  # fmt: skip
        return None
    names = [name.strip() for name in header.split(separator)]
    trailing = len(names) > 1 and names[-1] == ""
    if trailing:
        names.pop()
        issue(head, 1, None, "trailing_separator",
              f"L'en-tête (et sans doute chaque ligne) finit par un séparateur "
              f"{SEPARATOR_NAMES[separator]} de trop.")  # fmt: skip
    lowered = [name.lower() for name in names]
    montant_sens = "montant" in lowered and "sens" in lowered and "debit" not in lowered
    expected = FEC_COLUMNS_MONTANT_SENS if montant_sens else FEC_COLUMNS
    positions: dict[str, int] = {}
    duplicates: list[str] = []
    for index, name in enumerate(lowered):
        if name in positions:
            duplicates.append(names[index])
        else:
            positions[name] = index
    missing = [column for column in expected if column.lower() not in positions]
    scan.columns = tuple(names)
    if missing:
        issue(head, 1, None, "columns",
              "Colonnes absentes de l'en-tête : " + ", ".join(missing)
              + ". Les lignes ne sont pas analysées.")  # fmt: skip
        return None
    if duplicates:
        issue(head, 1, None, "columns",
              "Colonnes en double dans l'en-tête : " + ", ".join(duplicates) + ".")  # fmt: skip
    indices = [positions[column.lower()] for column in expected]
    known = {column.lower() for column in expected}
    unexpected = [names[i] for i in range(len(names)) if lowered[i] not in known]
    scan.extra_columns = tuple(unexpected)
    if indices != list(range(len(expected))):
        issue(head, 1, None, "column_order",
              "Les colonnes ne sont pas dans l'ordre de la norme : "
              + ", ".join(expected) + ".")  # fmt: skip
    for column, index in zip(expected, indices, strict=True):
        if names[index] != column:
            issue(head, 1, column, "column_case",
                  f"Colonne « {names[index]} » : la norme l'écrit « {column} ».")  # fmt: skip
    if scan.cash_basis is None:
        scan.cash_basis = any(name in CASH_BASIS_COLUMNS for name in unexpected)
    odd = [name for name in unexpected if name not in CASH_BASIS_COLUMNS]
    if odd:
        issue(head, 1, None, "extra_columns",
              "Colonnes en plus des 18 de la norme : " + ", ".join(odd) + ".")  # fmt: skip
    return len(names), trailing, montant_sens, indices, expected


def _tuple_getter(indices: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """``itemgetter`` that returns a tuple even for one index."""
    if len(indices) == 1:
        (index,) = indices
        return lambda fields: (fields[index],)
    return itemgetter(*indices)


#: Characters read at once (about 30 000 lines): large enough to split lines at C speed.
BLOCK_CHARS = 1 << 22


_CR_RUN = re.compile(r"\r+\n?")


def _lines(handle: TextIO) -> Iterator[str]:
    """Every line, the header first, without its end: LF, CR LF, a lone CR, and any run of CRs
    before a LF (CR CR LF: no CR is left in the last field) each end a line, mixed as they
    come. The file must be opened with ``newline="\n"`` (no translation)."""
    rest = ""
    while chunk := handle.read(BLOCK_CHARS):
        text = rest + chunk
        if "\r" in chunk:
            held = len(text) - len(text.rstrip("\r"))  # a CR LF may span two blocks
            text, tail = (text[:-held], text[-held:]) if held else (text, "")
            text = text.replace("\r\n", "\n")
            if "\r" in text:
                text = _CR_RUN.sub("\n", text)
            text += tail
        cut = text.rfind("\n")
        if cut < 0:
            rest = text
            continue
        rest = text[cut + 1 :]
        yield from text[:cut].split("\n")
    rest = rest.rstrip("\r")
    if rest:
        yield from _CR_RUN.sub("\n", rest).split("\n")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during a pass.

    Why: a pass allocates hundreds of thousands of small containers it keeps (entry
    aggregates, and rows for an import); each allocation burst makes the collector walk all
    the young objects again, which measured 30-50 % of the time. The pass creates no cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ---------------------------------------------------------------- the pass


class _Reopened(Exception):
    """An entry closed (kept as a hash only) has a line again: the pass keeps every entry."""


def _scan_lines(
    handle: TextIO,
    scan: FecScan,
    head: list[FecIssue],
    reporter: _Reporter,
    year: tuple[date | None, date | None, bool],
    rows: RowSink | None,
    on_header: Callable[[FecScan], None] | None,
    compact: bool,
) -> None:
    """The pass itself: the header, then each line through the line rules, then the entry and
    file rules on the aggregates; issues by line, after the file's and before the totals'.

    ``compact``: when an entry's lines have gone by (the next line is another entry's) and
    it is balanced with one date, its aggregate is dropped and only its key's hash kept
    (``p.closed``), so a million lines hold a set of ints, not 400 000 lists; a line of a
    closed entry (or a hash collision) raises ``_Reopened``, and the file is read again with
    every aggregate kept. ``on_interleaved`` of the sink is called when an entry kept whole
    has lines again after another entry's."""
    lines = _lines(handle)
    header = _header(lines, scan, head, reporter)
    if header is None:
        scan.issues = head
        return
    if on_header is not None:
        on_header(scan)
    width, trailing, montant_sens, indices, names = header
    p = LinePass(rows if rows is not None else [], reporter, names, *year,
                 rows is not None)  # fmt: skip
    # The usual file has the 18 columns in order: the split line is used as it is.
    getter = None if indices == list(range(18)) and width == 18 else itemgetter(*indices)
    extra_indices = [i for i in range(width) if i not in set(indices)]
    p.extra_getter = _tuple_getter(extra_indices) if extra_indices else None
    checks = line_checks(montant_sens)
    entries, closed = p.entries, p.closed
    eget = entries.get
    interleaved = getattr(rows, "on_interleaved", None)
    last_jc = last_num = agg = None
    p.cash_basis = bool(scan.cash_basis)
    for lineno, fields in _records(lines, p, scan.separator or "", width, trailing):
        values = fields if getter is None else getter(fields)
        for check in checks:
            check(p, lineno, values)
        # The entry's aggregate: its lines are usually consecutive (no lookup then).
        jc, num = values[0], values[2]
        if num != last_num or jc != last_jc:
            if compact and agg is not None and agg[6] and agg[0] == agg[1] and agg[4] is None:
                del entries[(last_jc, last_num)]  # balanced, one date: nothing to report
                closed.add(hash((last_jc, last_num)))
            last_jc, last_num = jc, num
            agg = eget((jc, num))
            if agg is None:
                if closed and hash((jc, num)) in closed:
                    raise _Reopened
                agg = entries[(jc, num)] = [0, 0, lineno, values[3], None, 0, True, 0]
            elif interleaved is not None:
                interleaved((jc, num))
        _add_line(p, agg, lineno, values[3])
        if p.keep_rows:
            _keep_row(p, lineno, values, fields, montant_sens)
    scan.line_count = p.lineno - 1 - p.blanks
    scan.entry_count = len(p.entries) + len(p.closed)
    for key, agg in p.entries.items():
        for entry_check in ENTRY_CHECKS:
            entry_check(p, key, agg)
    for file_check in FILE_CHECKS:
        file_check(p)
    scan.total_debit = Decimal(p.total_debit).scaleb(-2).quantize(Decimal("0.01"))
    scan.total_credit = Decimal(p.total_credit).scaleb(-2).quantize(Decimal("0.01"))
    p.body.sort(key=lambda found: found.line or 0)
    scan.issues = head + p.body + p.tail
    if any(found.severity == ERROR for found in scan.issues):
        p.rows.clear()


def _header(
    lines: Iterator[str], scan: FecScan, head: list[FecIssue], reporter: _Reporter
) -> tuple[int, bool, bool, list[int], tuple[str, ...]] | None:
    """The header line, checked (see :func:`_read_header`); None when lines cannot be read."""
    try:
        header_line = next(lines, "")
    except UnicodeDecodeError:  # pragma: no cover - detect_encoding checked the bytes
        header_line = ""
    if not header_line.strip():
        reporter.add(head, None, None, "unreadable", "Le fichier est vide : en-tête attendu.")
        return None
    return _read_header(header_line, scan, head, reporter.add)


def _records(
    lines: Iterator[str], p: LinePass, separator: str, width: int, trailing: bool
) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank line with the header's number of fields, as (line number, fields),
    trimmed when padded. Rules ``blank_line`` (a blank line before another line) and
    ``field_count`` (the line is then skipped) are checked here."""
    pad_a, pad_b = " " + separator, separator + " "
    blank_pending: list[int] = []
    lineno = 1
    for line in lines:
        lineno += 1
        if not line or line.isspace():
            blank_pending.append(lineno)
            p.blanks += 1
            continue
        if blank_pending:
            for blank in blank_pending:
                p.issue(p.body, blank, None, "blank_line", "Ligne vide au milieu du fichier.")
            blank_pending.clear()
        fields = line.split(separator)
        count = len(fields)
        if count != width:
            if trailing and count == width + 1 and not fields[-1].strip():
                fields.pop()  # the trailing separator the header has too
            else:
                p.issue(p.body, lineno, None, "field_count",
                        f"{count} champs trouvés, {width} attendus (séparateur dans une valeur "
                        "ou colonne manquante) : les autres contrôles de la ligne sont "
                        "ignorés.")  # fmt: skip
                p.keep_rows = False
                continue
        if pad_a in line or pad_b in line or line[-1] == " " or line[0] == " ":
            fields = [value.strip() for value in fields]
        yield lineno, fields
    p.lineno = lineno


def _add_line(p: LinePass, agg: list, lineno: int, edate: str) -> None:
    """Add the line's amounts (found by the amount rule) to its entry and to the file."""
    debit, credit = p.debit, p.credit
    agg[0] += debit
    agg[1] += credit
    agg[7] += 1
    if edate != agg[3] and agg[4] is None:
        agg[4], agg[5] = edate, lineno
    if p.valid:
        p.total_debit += debit
        p.total_credit += credit
    else:
        agg[6] = False
        p.unreadable += 1


_ZERO = Decimal("0.00")


def _keep_row(
    p: LinePass, lineno: int, v: Sequence[str], fields: list[str], montant_sens: bool
) -> None:
    """The line as a typed ``FecRow`` (for an import), until the first error."""
    if p.reporter.errors:
        p.keep_rows = False
        p.rows.clear()
        return
    a1, a2 = v[11], v[12]
    if montant_sens:
        value = Decimal(a1.replace(",", ".")) if a1 else _ZERO
        dec_debit = value if p.debit else _ZERO
        dec_credit = value if p.credit else _ZERO
    else:
        dec_debit = Decimal(a1.replace(",", ".")) if p.debit else _ZERO
        dec_credit = Decimal(a2.replace(",", ".")) if p.credit else _ZERO
    p.rows.append(FecRow(
        lineno, v[0], v[1], v[2], p.ed, v[4], v[5], v[6], v[7], v[8], p.pd or None, v[10],
        dec_debit, dec_credit, v[13], p.dl or None, p.vd or None, p.mdev_value, v[17],
        p.extra_getter(fields) if p.extra_getter else (),
    ))  # fmt: skip


__all__ = [
    "ERROR",
    "RULES",
    "WARNING",
    "FecIssue",
    "FecScan",
    "RowSink",
    "check_fec",
    "format_cents",
    "scan_fec",
]
