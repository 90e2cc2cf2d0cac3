"""Our own FEC validator: every rule a file breaks, with its line and column.

Design: one pass over the file, line by line (a million lines must be checked in seconds, so
the line rules are written out in one loop instead of one function call per rule and line: a
column-wise variant, one function per rule over lists of values, measured slower in CPython);
per entry (``JournalCode`` + ``EcritureNum``) only a small aggregate is kept: its debit and
credit in integer cents (exact, and fast), its first line and its date. Entry and file rules
run on those aggregates at the end. Each rule has a code in ``RULES`` with its severity and
French title; an issue is a ``FecIssue`` record: errors make a file non conform, warnings
point at something to look at.

Invariants: every line is checked (no stop at the first error); a line whose amount cannot be
read is left out of the totals and its entry's balance is not judged (one cause, one report);
the fiscal year comes from the file name (``<SIREN>FEC<closing>``) unless given.

The same scan reads files for the FEC import (``imports.fec``): with ``collect_rows`` it also
builds typed ``FecRow`` values, and ``lenient`` turns rules that do not change the meaning of a
line into warnings.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
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
    MANDATORY_COLUMNS,
    SEPARATOR_NAMES,
    FecRow,
    amount_hint,
    detect_encoding,
    detect_separator,
    fiscal_year_start,
    parse_fec_amount,
    parse_fec_date,
    parse_fec_filename,
)

ERROR = "error"
WARNING = "warning"

#: Every rule: code -> (severity, French title).
RULES: dict[str, tuple[str, str]] = {
    "filename": (WARNING, "Nom de fichier non conforme (SIREN + FEC + AAAAMMJJ + .txt)"),
    "siren": (ERROR, "SIREN du nom de fichier invalide (9 chiffres, clé de Luhn)"),
    "closing_date": (ERROR, "Date de clôture du nom de fichier invalide"),
    "unreadable": (ERROR, "Fichier illisible ou vide"),
    "separator": (ERROR, "Séparateur non reconnu (tabulation ou |)"),
    "columns": (ERROR, "Colonnes absentes, inattendues ou en double"),
    "column_order": (ERROR, "Ordre des colonnes non conforme"),
    "column_case": (WARNING, "Nom de colonne écrit autrement que dans la norme"),
    "extra_columns": (WARNING, "Colonnes au-delà des 18 de la norme"),
    "trailing_separator": (WARNING, "Séparateur en fin de ligne"),
    "blank_line": (WARNING, "Ligne vide"),
    "field_count": (ERROR, "Nombre de champs différent de l'en-tête"),
    "mandatory": (ERROR, "Champ obligatoire vide"),
    "date": (ERROR, "Date invalide (AAAAMMJJ, date réelle)"),
    "amount": (ERROR, "Montant mal formé (virgule décimale, sans séparateur de milliers)"),
    "empty_amount": (ERROR, "Montant vide"),
    "debit_and_credit": (ERROR, "Débit et crédit renseignés sur la même ligne"),
    "sens": (ERROR, "Sens invalide (D, C, +1 ou -1)"),
    "negative_amount": (WARNING, "Montant négatif"),
    "lettering_date": (WARNING, "EcritureLet renseigné sans DateLet"),
    "aux_label": (ERROR, "CompAuxNum renseigné sans CompAuxLib"),
    "currency": (WARNING, "Montantdevise et Idevise incohérents"),
    "currency_code": (WARNING, "Idevise hors ISO 4217 (trois lettres majuscules)"),
    "fiscal_year": (ERROR, "EcritureDate hors de l'exercice"),
    "fiscal_year_start": (WARNING, "EcritureDate avant le début supposé de l'exercice (12 mois)"),
    "valid_date": (WARNING, "ValidDate antérieure à EcritureDate"),
    "entry_balance": (ERROR, "Écriture déséquilibrée"),
    "entry_date": (ERROR, "Plusieurs EcritureDate dans une même écriture"),
    "file_balance": (ERROR, "Total des débits différent du total des crédits"),
    "empty_file": (WARNING, "Aucune ligne d'écriture"),
}


@dataclass(frozen=True, slots=True)
class FecIssue:
    """One rule broken: where (line of the file, header = 1; column name), which rule, why."""

    line: int | None
    column: str | None
    rule: str
    message: str
    severity: str

    def __str__(self) -> str:
        where = f"ligne {self.line}" if self.line is not None else "fichier"
        if self.column:
            where += f", colonne {self.column}"
        label = "erreur" if self.severity == ERROR else "avertissement"
        return f"{where} : [{label} {self.rule}] {self.message}"


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


def format_cents(cents: int | Decimal) -> str:
    """``123456`` -> ``"1234,56"`` (French, for messages)."""
    return f"{Decimal(cents).scaleb(-2):.2f}".replace(".", ",")


def _fr(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def _slow_cents(text: str) -> int | Decimal | None:
    """Cents of an amount the fast path did not take: signed, 0/1/3+ decimals, or invalid."""
    value = parse_fec_amount(text)
    if value is None:
        return None
    cents = value.scaleb(2)
    return int(cents) if cents == cents.to_integral_value() else cents


_SENS = {"D": 1, "C": -1, "+1": 1, "-1": -1, "d": 1, "c": -1}


def check_fec(
    path: str | Path, *, start: date | None = None, end: date | None = None
) -> list[FecIssue]:
    """Every issue of the FEC at ``path``, file-level first, then by line, totals last.

    ``start``/``end`` give the fiscal year; by default ``end`` is the closing date of the file
    name and ``start`` twelve months before (dates before an assumed start are warnings only:
    a first fiscal year may be longer).
    """
    return scan_fec(path, start=start, end=end).issues


def scan_fec(
    path: str | Path,
    *,
    start: date | None = None,
    end: date | None = None,
    check_name: bool = True,
    collect_rows: bool = False,
    lenient: Iterable[str] = (),
    encoding: str | None = None,
) -> FecScan:
    """One pass over the FEC at ``path``: all its issues, and its rows if ``collect_rows``.

    ``check_name=False`` skips the rules that come from the file name (SIREN, closing date,
    fiscal year): an import does not care how an upload was named. Rules named in ``lenient``
    are reported as warnings instead of errors.
    """
    path = Path(path)
    scan = FecScan()
    head: list[FecIssue] = []
    reporter = _Reporter(frozenset(lenient))
    issue = reporter.add

    inferred = start is None
    if check_name:
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
        if end is not None and start is None:
            start = fiscal_year_start(end)
    else:
        inferred = False
    scan.start, scan.end = start, end

    try:
        scan.encoding = encoding or detect_encoding(path)
        handle = open(path, encoding=scan.encoding, newline="\n")  # noqa: SIM115
    except OSError as exc:
        issue(head, None, None, "unreadable", f"Fichier illisible : {exc.strerror or exc}.")
        scan.issues = head
        return scan
    with handle, _gc_paused():
        try:
            _scan_lines(handle, scan, head, reporter, start, end, inferred, collect_rows)
        except UnicodeDecodeError as exc:
            scan.rows.clear()
            issue(head, None, None, "unreadable",
                  f"Le fichier ne peut pas être lu en {scan.encoding} (octet {exc.start} "
                  "invalide) : enregistrez-le en UTF-8 ou ISO-8859-15.")  # fmt: skip
            scan.issues = head
    return scan


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


def _lines(handle: TextIO) -> Iterator[str]:
    """The lines after the header, without their CR LF or LF (a lone CR stays in its field)."""
    rest = ""
    while chunk := handle.read(BLOCK_CHARS):
        text = rest + chunk
        if "\r" in chunk:
            text = text.replace("\r\n", "\n")
        cut = text.rfind("\n")
        if cut < 0:
            rest = text
            continue
        rest = text[cut + 1 :]
        yield from text[:cut].split("\n")
    if rest:
        yield rest[:-1] if rest.endswith("\r") else rest


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


def _scan_lines(
    handle: TextIO,
    scan: FecScan,
    head: list[FecIssue],
    reporter: _Reporter,
    start: date | None,
    end: date | None,
    inferred: bool,
    collect_rows: bool,
) -> None:
    """The pass itself (see the module docstring for why it is one long loop)."""
    issue = reporter.add
    body: list[FecIssue] = []
    tail: list[FecIssue] = []
    try:
        header_line = handle.readline()
    except UnicodeDecodeError:  # pragma: no cover - detect_encoding checked the bytes
        header_line = ""
    if not header_line.strip():
        issue(head, None, None, "unreadable", "Le fichier est vide : en-tête attendu.")
        scan.issues = head
        return
    header = _read_header(header_line, scan, head, issue)
    if header is None:
        scan.issues = head
        return
    width, trailing, montant_sens, indices, names = header
    # The norm's names of the columns an issue can point at.
    C_ED, C_PD, C_VD, C_DL, C_A1, C_A2, C_AL, C_MD, C_ID = (
        names[i] for i in (3, 9, 15, 14, 11, 12, 7, 16, 17)
    )
    separator = scan.separator
    assert separator is not None
    pad_a, pad_b = " " + separator, separator + " "
    # The usual file has the 18 columns in order: unpack the split line as it is.
    getter = None if indices == list(range(18)) and width == 18 else itemgetter(*indices)
    extra_indices = [i for i in range(width) if i not in set(indices)]
    extra_getter = _tuple_getter(extra_indices) if extra_indices else None
    start_s = f"{start:%Y%m%d}" if start else ""
    end_s = f"{end:%Y%m%d}" if end else ""
    dcache: dict[str, date | bool] = {}
    dget = dcache.get
    entries: dict[tuple[str, str], list] = {}
    eget = entries.get
    total_debit = total_credit = unreadable = 0
    rows = scan.rows
    keep_rows = collect_rows
    zero = Decimal("0.00")
    lineno = 1
    last_jc = last_num = None
    last_agg: list | None = None
    blank_pending: list[int] = []
    blanks = 0

    def date_of(text: str) -> date | bool:
        value = dcache[text] = parse_fec_date(text) or False
        return value

    for line in _lines(handle):
        lineno += 1
        if not line or line.isspace():
            blank_pending.append(lineno)
            blanks += 1
            continue
        if blank_pending:
            for blank in blank_pending:
                issue(body, blank, None, "blank_line", "Ligne vide au milieu du fichier.")
            blank_pending.clear()
        fields = line.split(separator)
        count = len(fields)
        if count != width:
            if trailing and count == width + 1 and not fields[-1].strip():
                fields.pop()  # the trailing separator the header has too
            else:
                issue(body, lineno, None, "field_count",
                      f"{count} champs trouvés, {width} attendus (séparateur dans une valeur "
                      "ou colonne manquante) : les autres contrôles de la ligne sont "
                      "ignorés.")  # fmt: skip
                keep_rows = False
                continue
        if pad_a in line or pad_b in line or line[-1] == " " or line[0] == " ":
            fields = [value.strip() for value in fields]
        values = fields if getter is None else getter(fields)
        (jc, jl, num, edate, cnum, clib, auxn, auxl, pref, pdate, elib,
         a1, a2, let, dlet, vdate, mdev, idev) = values  # fmt: skip

        # Mandatory fields.
        if not (jc and jl and num and edate and cnum and clib and pref and pdate and elib
                and vdate):  # fmt: skip
            values = (jc, jl, num, edate, cnum, clib, pref, pdate, elib, vdate)
            for column, value in zip(MANDATORY_COLUMNS, values, strict=True):
                if not value:
                    issue(body, lineno, column, "mandatory",
                          f"Le champ obligatoire {column} est vide.")  # fmt: skip

        # Dates.
        # The cache maps each distinct text to its date, or False when it is not one.
        ed = dget(edate)
        if ed is None:
            ed = date_of(edate)
        pd = dget(pdate)
        if pd is None:
            pd = date_of(pdate)
        vd = dget(vdate)
        if vd is None:
            vd = date_of(vdate)
        dl = (dget(dlet) or date_of(dlet)) if dlet else None
        if ed is False or pd is False or vd is False or dl is False:
            for column, text, value in ((C_ED, edate, ed), (C_PD, pdate, pd),
                                        (C_VD, vdate, vd), (C_DL, dlet, dl)):  # fmt: skip
                if value is False and text:
                    issue(body, lineno, column, "date",
                          f"{column} « {text} » n'est pas une date réelle au format "
                          "AAAAMMJJ.")  # fmt: skip
        if ed:
            if end_s and edate > end_s:
                issue(body, lineno, C_ED, "fiscal_year",
                      f"EcritureDate {_fr(ed)} postérieure à la clôture de l'exercice "
                      f"({_fr(end)}).")  # fmt: skip
            elif start_s and edate < start_s:
                if inferred:
                    issue(body, lineno, C_ED, "fiscal_year_start",
                          f"EcritureDate {_fr(ed)} antérieure au {_fr(start)}, début supposé "
                          "d'un exercice de 12 mois.")  # fmt: skip
                else:
                    issue(body, lineno, C_ED, "fiscal_year",
                          f"EcritureDate {_fr(ed)} antérieure au début de l'exercice "
                          f"({_fr(start)}).")  # fmt: skip
            if vd and vdate < edate:
                issue(body, lineno, C_VD, "valid_date",
                      f"ValidDate {_fr(vd)} antérieure à EcritureDate {_fr(ed)}.")  # fmt: skip

        # Amounts, in cents.
        if montant_sens:
            amount = _slow_cents(a1) if a1 else None
            sens = _SENS.get(a2)
            debit = credit = 0
            if not a1:
                issue(body, lineno, C_A1, "empty_amount", "Le montant est vide.")
                amount = 0
            elif amount is None:
                issue(body, lineno, C_A1, "amount",
                      f"Montant « {a1} » invalide : {amount_hint(a1)}.")  # fmt: skip
            if sens is None:
                issue(body, lineno, C_A2, "sens",
                      f"Sens « {a2} » invalide : D ou C (ou +1 / -1) attendu.")  # fmt: skip
            elif amount is not None:
                if sens > 0:
                    debit = amount
                else:
                    credit = amount
            valid_amounts = amount is not None and sens is not None
            if valid_amounts and amount < 0:
                issue(body, lineno, C_A1, "negative_amount",
                      f"Montant négatif ({a1}) : un montant positif et l'autre sens sont "
                      "attendus.")  # fmt: skip
        else:
            if a1 == "0,00":
                debit = 0
            elif len(a1) > 3 and a1[-3] == "," and (t := a1[:-3] + a1[-2:]).isdigit() \
                    and t.isascii():  # fmt: skip
                debit = int(t)
            else:
                debit = _slow_cents(a1) if a1 else None
            if a2 == "0,00":
                credit = 0
            elif len(a2) > 3 and a2[-3] == "," and (t := a2[:-3] + a2[-2:]).isdigit() \
                    and t.isascii():  # fmt: skip
                credit = int(t)
            else:
                credit = _slow_cents(a2) if a2 else None
            valid_amounts = True
            if debit is None or credit is None:
                for column, text, value in ((C_A1, a1, debit), (C_A2, a2, credit)):
                    if value is not None:
                        continue
                    if not text:
                        issue(body, lineno, column, "empty_amount",
                              f"{column} est vide : 0,00 attendu.")  # fmt: skip
                    else:
                        issue(body, lineno, column, "amount",
                              f"{column} « {text} » n'est pas un montant valide : "
                              f"{amount_hint(text)}.")  # fmt: skip
                        valid_amounts = False
                debit = debit or 0
                credit = credit or 0
            if debit and credit:
                issue(body, lineno, None, "debit_and_credit",
                      f"Débit ({a1}) et crédit ({a2}) tous deux non nuls sur la même "
                      "ligne.")  # fmt: skip
            if debit < 0 or credit < 0:
                for column, text, value in ((C_A1, a1, debit), (C_A2, a2, credit)):
                    if value < 0:
                        issue(body, lineno, column, "negative_amount",
                              f"{column} négatif ({text}) : un montant positif dans l'autre "
                              "colonne est attendu.")  # fmt: skip

        # Lettering, auxiliary account, currency.
        if let and not dlet:
            issue(body, lineno, C_DL, "lettering_date",
                  f"Lettrage « {let} » sans date de lettrage (DateLet vide).")  # fmt: skip
        if auxn and not auxl:
            issue(body, lineno, C_AL, "aux_label",
                  f"Compte auxiliaire « {auxn} » sans libellé (CompAuxLib vide).")  # fmt: skip
        mdev_value = None
        if mdev or idev:
            if mdev:
                mdev_value = parse_fec_amount(mdev)
                if mdev_value is None:
                    issue(body, lineno, C_MD, "amount",
                          f"{C_MD} « {mdev} » n'est pas un montant valide : "
                          f"{amount_hint(mdev)}.")  # fmt: skip
            has_amount = bool(mdev_value)
            if has_amount and not idev:
                issue(body, lineno, C_ID, "currency",
                      f"Montantdevise renseigné ({mdev}) sans code devise (Idevise vide).")
            elif idev and not has_amount and (mdev_value is not None or not mdev):
                issue(body, lineno, C_MD, "currency",
                      f"Idevise renseigné ({idev}) sans montant en devise (Montantdevise "
                      "vide ou nul).")  # fmt: skip
            if idev and not (len(idev) == 3 and idev.isascii() and idev.isalpha()
                             and idev.isupper()):  # fmt: skip
                issue(body, lineno, C_ID, "currency_code",
                      f"Idevise « {idev} » n'est pas un code ISO 4217 (ex. EUR, USD).")

        # Entry aggregate.
        # Lines of an entry are usually consecutive: reuse the last aggregate without a lookup.
        if num == last_num and jc == last_jc:
            agg = last_agg
        else:
            agg = eget((jc, num))
            last_jc, last_num = jc, num
        if agg is None:
            # [debit, credit, first line, date, other date, other date line, amounts ok, lines]
            agg = entries[(jc, num)] = [debit, credit, lineno, edate, None, 0, valid_amounts, 1]
        else:
            agg[0] += debit
            agg[1] += credit
            agg[7] += 1
            if edate != agg[3] and agg[4] is None:
                agg[4], agg[5] = edate, lineno
            if not valid_amounts:
                agg[6] = False
        last_agg = agg
        if valid_amounts:
            total_debit += debit
            total_credit += credit
        else:
            unreadable += 1

        if keep_rows:
            if reporter.errors:
                keep_rows = False
                rows.clear()
                continue
            if montant_sens:
                value = Decimal(a1.replace(",", ".")) if a1 else zero
                dec_debit = value if debit else zero
                dec_credit = value if credit else zero
            else:
                dec_debit = Decimal(a1.replace(",", ".")) if debit else zero
                dec_credit = Decimal(a2.replace(",", ".")) if credit else zero
            rows.append(FecRow(
                lineno, jc, jl, num, ed, cnum, clib, auxn, auxl, pref, pd or None, elib,
                dec_debit, dec_credit, let, dl or None, vd or None, mdev_value, idev,
                extra_getter(fields) if extra_getter else (),
            ))  # fmt: skip

    scan.line_count = lineno - 1 - blanks
    scan.entry_count = len(entries)

    for (jc, num), (debit, credit, first, edate, other, other_line, ok, count) in entries.items():
        label = f"{jc}/{num}"
        if ok and debit != credit:
            issue(body, first, None, "entry_balance",
                  f"Écriture {label} déséquilibrée : débit {format_cents(debit)}, crédit "
                  f"{format_cents(credit)}, écart {format_cents(debit - credit)} "
                  f"({count} ligne{'s' if count > 1 else ''}).")  # fmt: skip
        if other is not None:
            issue(body, other_line, C_ED, "entry_date",
                  f"Écriture {label} : EcritureDate « {edate} » (ligne {first}) et "
                  f"« {other} » (ligne {other_line}).")  # fmt: skip
    if entries and total_debit != total_credit:
        note = f" (hors {unreadable} ligne(s) au montant illisible)" if unreadable else ""
        issue(tail, None, None, "file_balance",
              f"Total débit {format_cents(total_debit)} différent du total crédit "
              f"{format_cents(total_credit)}, écart {format_cents(total_debit - total_credit)}"
              f"{note}.")  # fmt: skip
    if not entries:
        issue(tail, None, None, "empty_file", "Le fichier ne contient que la ligne d'en-tête.")
    scan.total_debit = Decimal(total_debit).scaleb(-2).quantize(Decimal("0.01"))
    scan.total_credit = Decimal(total_credit).scaleb(-2).quantize(Decimal("0.01"))
    body.sort(key=lambda found: found.line or 0)
    scan.issues = head + body + tail
    if any(found.severity == ERROR for found in scan.issues):
        scan.rows.clear()


__all__ = [
    "ERROR",
    "RULES",
    "WARNING",
    "FecIssue",
    "FecScan",
    "check_fec",
    "format_cents",
    "scan_fec",
]
