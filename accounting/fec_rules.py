"""The FEC rules, as small named checks (in the style of beancount's ``ops/validation.py``):
each is a function with the rule's code and its reference in the norm — article A47 A-1 of the
Livre des procédures fiscales and its commentary BOI-CF-IOR-60-40-20 — and reports what it finds
as ``FecIssue`` records (data, never an exception). A new rule is one function, its code in
``RULES``, and its place in ``line_checks``, ``ENTRY_CHECKS`` or ``FILE_CHECKS``.

The pass that runs them is :mod:`accounting.fec_check` (it only iterates); the rules of the file
name and of the header are checked there, as they decide whether lines can be read at all.

Speed: a FEC may have a million lines, so a line rule is one call with the line's 18 values and
does its work only when its fields say so; what several rules need (the parsed dates, the
amounts in integer cents) is computed once by the first rule and kept on the ``LinePass``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from accounting.fec import (
    MANDATORY_COLUMNS,
    FecRow,
    amount_hint,
    parse_fec_amount,
    parse_fec_date,
)
from accounting.wording import plural

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





class Reporter(Protocol):
    """Where a rule broken goes: ``add`` makes the ``FecIssue``, ``errors`` counts errors."""

    errors: int

    def add(self, target: list[FecIssue], line: int | None, column: str | None, rule: str,
            message: str) -> None: ...  # fmt: skip


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


class RowSink(Protocol):
    """Where the scan hands each typed row (``list`` is one): ``clear`` is called when the file
    turns out to have an error, or is read again from its start (the rows received are then
    worthless). A sink may also have ``on_interleaved(key)``, called when an entry has lines
    again after another entry's (a sink that aggregates entry by entry then gives up)."""

    def append(self, row: FecRow, /) -> None: ...

    def clear(self) -> None: ...


class LinePass:
    """One pass over the lines: where issues go, the fiscal year, the names of the columns an
    issue points at, the caches, the entries' aggregates, and what the line checks found on the
    current line (its dates and amounts, read by the later checks and the row)."""

    __slots__ = (
        "blanks",
        "body",
        "c_a1",
        "c_a2",
        "c_al",
        "c_dl",
        "c_ed",
        "c_id",
        "c_md",
        "c_pd",
        "c_vd",
        "cash_basis",
        "closed",
        "credit",
        "dates",
        "debit",
        "dl",
        "ed",
        "end",
        "end_s",
        "entries",
        "extra_getter",
        "inferred",
        "issue",
        "keep_rows",
        "lineno",
        "mdev_value",
        "pd",
        "reporter",
        "rows",
        "start",
        "start_s",
        "tail",
        "total_credit",
        "total_debit",
        "unreadable",
        "valid",
        "vd",
    )  # fmt: skip

    def __init__(
        self, rows: RowSink, reporter: Reporter, names: tuple[str, ...], start: date | None,
        end: date | None, inferred: bool, collect_rows: bool,
    ) -> None:  # fmt: skip
        self.body: list[FecIssue] = []
        self.tail: list[FecIssue] = []
        self.reporter = reporter
        self.issue = reporter.add
        self.start, self.end, self.inferred = start, end, inferred
        self.start_s = f"{start:%Y%m%d}" if start else ""
        self.end_s = f"{end:%Y%m%d}" if end else ""
        # The norm's names of the columns an issue can point at.
        (self.c_ed, self.c_pd, self.c_vd, self.c_dl, self.c_a1, self.c_a2, self.c_al,
         self.c_md, self.c_id) = (names[i] for i in (3, 9, 15, 14, 11, 12, 7, 16, 17))  # fmt: skip
        #: Each distinct date text to its date, or False when it is not one.
        self.dates: dict[str, date | bool] = {}
        #: Per entry: [debit, credit, first line, date, other date, other date line,
        #: amounts ok, lines].
        self.entries: dict[tuple[str, str], list] = {}
        #: Hashes of the entries whose lines have all gone by, balanced with one date (their
        #: aggregates dropped: nothing to report on them).
        self.closed: set[int] = set()
        self.total_debit = self.total_credit = self.unreadable = 0
        self.rows = rows
        self.keep_rows = collect_rows
        self.extra_getter: Callable[[list[str]], tuple[str, ...]] | None = None
        self.lineno = 1
        self.blanks = 0
        self.ed = self.pd = self.vd = self.dl = None
        self.debit = self.credit = 0
        self.valid = True
        self.cash_basis = False
        self.mdev_value: Decimal | None = None


# ---------------------------------------------------------------- the rules of a line
# Each takes the pass, the line number and the line's 18 values (in the norm's order:
# JournalCode 0, JournalLib 1, EcritureNum 2, EcritureDate 3, CompteNum 4, CompteLib 5,
# CompAuxNum 6, CompAuxLib 7, PieceRef 8, PieceDate 9, EcritureLib 10, Debit/Montant 11,
# Credit/Sens 12, EcritureLet 13, DateLet 14, ValidDate 15, Montantdevise 16, Idevise 17).
# The reference is article A47 A-1 of the Livre des procédures fiscales (LPF) and its
# commentary BOI-CF-IOR-60-40-20 (BOFiP).


def check_mandatory(p: LinePass, lineno: int, v: Sequence[str]) -> None:
    """``mandatory``: JournalCode, JournalLib, EcritureNum, EcritureDate, CompteNum, CompteLib,
    PieceRef, PieceDate, EcritureLib and ValidDate are filled on every line.

    Norm: A47 A-1 LPF (the fields of the file) / BOI-CF-IOR-60-40-20 (the fields that may be
    empty: the auxiliary account, the lettering, the currency). A cash-basis file (BNC
    « recettes-dépenses », ``p.cash_basis``) may leave ValidDate empty, as the tax
    administration's Test Compta Demat accepts."""
    valid = v[15] or p.cash_basis
    if not (v[0] and v[1] and v[2] and v[3] and v[4] and v[5] and v[8] and v[9] and v[10]
            and valid):  # fmt: skip
        values = (v[0], v[1], v[2], v[3], v[4], v[5], v[8], v[9], v[10], valid)
        for column, value in zip(MANDATORY_COLUMNS, values, strict=True):
            if not value:
                p.issue(p.body, lineno, column, "mandatory",
                        f"Le champ obligatoire {column} est vide.")  # fmt: skip


def _date_of(dates: dict[str, date | bool], text: str) -> date | bool:
    value = dates[text] = parse_fec_date(text) or False
    return value


def check_dates(p: LinePass, lineno: int, v: Sequence[str]) -> None:
    """``date``: EcritureDate, PieceDate, ValidDate and DateLet are real dates written
    AAAAMMJJ. Keeps the parsed dates for the later rules and the row.

    Norm: A47 A-1 LPF / BOI-CF-IOR-60-40-20 (dates in the format AAAAMMJJ, without time)."""
    dates = p.dates
    dget = dates.get
    edate, pdate, vdate, dlet = v[3], v[9], v[15], v[14]
    ed = dget(edate)
    if ed is None:
        ed = _date_of(dates, edate)
    pd = dget(pdate)
    if pd is None:
        pd = _date_of(dates, pdate)
    vd = dget(vdate)
    if vd is None:
        vd = _date_of(dates, vdate)
    dl = (dget(dlet) or _date_of(dates, dlet)) if dlet else None
    p.ed, p.pd, p.vd, p.dl = ed, pd, vd, dl
    if ed is False or pd is False or vd is False or dl is False:
        for column, text, value in ((p.c_ed, edate, ed), (p.c_pd, pdate, pd),
                                    (p.c_vd, vdate, vd), (p.c_dl, dlet, dl)):  # fmt: skip
            if value is False and text:
                p.issue(p.body, lineno, column, "date",
                        f"{column} « {text} » n'est pas une date réelle au format "
                        "AAAAMMJJ.")  # fmt: skip


def check_fiscal_year(p: LinePass, lineno: int, v: Sequence[str]) -> None:
    """``fiscal_year`` / ``fiscal_year_start``: EcritureDate falls within the fiscal year
    (its closing date from the file name ``<SIREN>FEC<AAAAMMJJ>``, its start given or assumed
    twelve months earlier: before an assumed start is a warning, a first year may be longer).

    Norm: A47 A-1 LPF (one file per fiscal year) / BOI-CF-IOR-60-40-20 (the file's name)."""
    ed = p.ed
    if not ed:
        return
    edate = v[3]
    if p.end_s and edate > p.end_s:
        p.issue(p.body, lineno, p.c_ed, "fiscal_year",
                f"EcritureDate {_fr(ed)} postérieure à la clôture de l'exercice "
                f"({_fr(p.end)}).")  # fmt: skip
    elif p.start_s and edate < p.start_s:
        if p.inferred:
            p.issue(p.body, lineno, p.c_ed, "fiscal_year_start",
                    f"EcritureDate {_fr(ed)} antérieure au {_fr(p.start)}, début supposé "
                    "d'un exercice de 12 mois.")  # fmt: skip
        else:
            p.issue(p.body, lineno, p.c_ed, "fiscal_year",
                    f"EcritureDate {_fr(ed)} antérieure au début de l'exercice "
                    f"({_fr(p.start)}).")  # fmt: skip


def check_valid_date(p: LinePass, lineno: int, v: Sequence[str]) -> None:
    """``valid_date``: an entry is validated (ValidDate) on or after its date (EcritureDate).

    Norm: A47 A-1 LPF (ValidDate, the date the entry became definitive) /
    BOI-CF-IOR-60-40-20."""
    ed, vd = p.ed, p.vd
    if ed and vd and v[15] < v[3]:
        p.issue(p.body, lineno, p.c_vd, "valid_date",
                f"ValidDate {_fr(vd)} antérieure à EcritureDate {_fr(ed)}.")  # fmt: skip


def check_debit_credit(p: LinePass, lineno: int, v: Sequence[str]) -> None:
    """``amount`` / ``empty_amount`` / ``debit_and_credit`` / ``negative_amount``: Debit and
    Credit are amounts with a decimal comma and no thousands separator, one of them zero.
    Keeps the line's amounts in cents for the entry's balance.

    Norm: A47 A-1 LPF (fields 12 and 13) / BOI-CF-IOR-60-40-20 (amounts: decimal comma, no
    thousands separator)."""
    a1, a2 = v[11], v[12]
    if a1 == "0,00":
        debit = 0
    elif 3 < len(a1) < 19 and a1[-3] == "," and (t := a1[:-3] + a1[-2:]).isdigit() \
            and t.isascii():  # fmt: skip
        debit = int(t)
    else:
        debit = _slow_cents(a1) if a1 else None
    if a2 == "0,00":
        credit = 0
    elif 3 < len(a2) < 19 and a2[-3] == "," and (t := a2[:-3] + a2[-2:]).isdigit() \
            and t.isascii():  # fmt: skip
        credit = int(t)
    else:
        credit = _slow_cents(a2) if a2 else None
    valid = True
    if debit is None or credit is None:
        valid = _amount_issues(p, lineno, ((p.c_a1, a1, debit), (p.c_a2, a2, credit)))
        debit = debit or 0
        credit = credit or 0
    if debit and credit:
        p.issue(p.body, lineno, None, "debit_and_credit",
                f"Débit ({a1}) et crédit ({a2}) tous deux non nuls sur la même "
                "ligne.")  # fmt: skip
    if debit < 0 or credit < 0:
        for column, text, value in ((p.c_a1, a1, debit), (p.c_a2, a2, credit)):
            if value < 0:
                p.issue(p.body, lineno, column, "negative_amount",
                        f"{column} négatif ({text}) : un montant positif dans l'autre "
                        "colonne est attendu.")  # fmt: skip
    p.debit, p.credit, p.valid = debit, credit, valid


def _amount_issues(
    p: LinePass, lineno: int, cells: tuple[tuple[str, str, int | Decimal | None], ...]
) -> bool:
    """Report the empty and malformed amounts among ``cells``; False when one is malformed
    (an empty one reads as zero)."""
    valid = True
    for column, text, value in cells:
        if value is not None:
            continue
        if not text:
            p.issue(p.body, lineno, column, "empty_amount",
                    f"{column} est vide : 0,00 attendu.")  # fmt: skip
        else:
            p.issue(p.body, lineno, column, "amount",
                    f"{column} « {text} » n'est pas un montant valide : "
                    f"{amount_hint(text)}.")  # fmt: skip
            valid = False
    return valid


def check_montant_sens(p: LinePass, lineno: int, v: Sequence[str]) -> None:
    """``amount`` / ``empty_amount`` / ``sens`` / ``negative_amount``, in the Montant + Sens
    layout: a positive amount with a decimal comma, and D or C (or +1 / -1).

    Norm: A47 A-1 LPF (the amount and its sense, allowed instead of Debit and Credit) /
    BOI-CF-IOR-60-40-20."""
    a1, a2 = v[11], v[12]
    amount = _slow_cents(a1) if a1 else None
    sens = _SENS.get(a2)
    debit = credit = 0
    if not a1:
        p.issue(p.body, lineno, p.c_a1, "empty_amount", "Le montant est vide.")
        amount = 0
    elif amount is None:
        p.issue(p.body, lineno, p.c_a1, "amount",
                f"Montant « {a1} » invalide : {amount_hint(a1)}.")  # fmt: skip
    if sens is None:
        p.issue(p.body, lineno, p.c_a2, "sens",
                f"Sens « {a2} » invalide : D ou C (ou +1 / -1) attendu.")  # fmt: skip
    elif amount is not None:
        if sens > 0:
            debit = amount
        else:
            credit = amount
    valid = amount is not None and sens is not None
    if valid and amount < 0:
        p.issue(p.body, lineno, p.c_a1, "negative_amount",
                f"Montant négatif ({a1}) : un montant positif et l'autre sens sont "
                "attendus.")  # fmt: skip
    p.debit, p.credit, p.valid = debit, credit, valid


def check_lettering_date(p: LinePass, lineno: int, v: Sequence[str]) -> None:
    """``lettering_date``: a lettered line (EcritureLet) has its lettering date (DateLet).

    Norm: A47 A-1 LPF (fields 14 and 15, filled together) / BOI-CF-IOR-60-40-20."""
    if v[13] and not v[14]:
        p.issue(p.body, lineno, p.c_dl, "lettering_date",
                f"Lettrage « {v[13]} » sans date de lettrage (DateLet vide).")  # fmt: skip


def check_aux_label(p: LinePass, lineno: int, v: Sequence[str]) -> None:
    """``aux_label``: an auxiliary account (CompAuxNum) has its label (CompAuxLib).

    Norm: A47 A-1 LPF (fields 7 and 8, filled together) / BOI-CF-IOR-60-40-20."""
    if v[6] and not v[7]:
        p.issue(p.body, lineno, p.c_al, "aux_label",
                f"Compte auxiliaire « {v[6]} » sans libellé (CompAuxLib vide).")  # fmt: skip


def check_currency(p: LinePass, lineno: int, v: Sequence[str]) -> None:
    """``amount`` / ``currency`` / ``currency_code``: Montantdevise is an amount, given with
    its currency Idevise (and the other way round), an ISO 4217 code. Keeps the amount for
    the row.

    Norm: A47 A-1 LPF (fields 17 and 18) / BOI-CF-IOR-60-40-20 (the currency code)."""
    mdev, idev = v[16], v[17]
    mdev_value = None
    if mdev or idev:
        if mdev:
            mdev_value = parse_fec_amount(mdev)
            if mdev_value is None:
                p.issue(p.body, lineno, p.c_md, "amount",
                        f"{p.c_md} « {mdev} » n'est pas un montant valide : "
                        f"{amount_hint(mdev)}.")  # fmt: skip
        has_amount = bool(mdev_value)
        if has_amount and not idev:
            p.issue(p.body, lineno, p.c_id, "currency",
                    f"Montantdevise renseigné ({mdev}) sans code devise (Idevise vide).")
        elif idev and not has_amount and (mdev_value is not None or not mdev):
            p.issue(p.body, lineno, p.c_md, "currency",
                    f"Idevise renseigné ({idev}) sans montant en devise (Montantdevise "
                    "vide ou nul).")  # fmt: skip
        if idev and not (len(idev) == 3 and idev.isascii() and idev.isalpha()
                         and idev.isupper()):  # fmt: skip
            p.issue(p.body, lineno, p.c_id, "currency_code",
                    f"Idevise « {idev} » n'est pas un code ISO 4217 (ex. EUR, USD).")
    p.mdev_value = mdev_value


LineCheck = Callable[[LinePass, int, Sequence[str]], None]


def line_checks(montant_sens: bool) -> tuple[LineCheck, ...]:
    """The rules of a line, in the order their issues are listed for one line (the amounts'
    rule depends on the layout: Debit and Credit, or Montant and Sens)."""
    amounts = check_montant_sens if montant_sens else check_debit_credit
    return (
        check_mandatory,
        check_dates,
        check_fiscal_year,
        check_valid_date,
        amounts,
        check_lettering_date,
        check_aux_label,
        check_currency,
    )


# ---------------------------------------------------------------- the rules of an entry


def check_entry_balance(p: LinePass, key: tuple[str, str], agg: list) -> None:
    """``entry_balance``: an entry's debits equal its credits (not judged when one of its
    amounts is unreadable).

    Norm: A47 A-1 LPF (the file holds the accounting's entries, each balanced as double-entry
    bookkeeping requires) / BOI-CF-IOR-60-40-20."""
    debit, credit, first, _edate, _other, _other_line, ok, count = agg
    if ok and debit != credit:
        p.issue(p.body, first, None, "entry_balance",
                f"Écriture {key[0]}/{key[1]} déséquilibrée : débit {format_cents(debit)}, "
                f"crédit {format_cents(credit)}, écart {format_cents(debit - credit)} "
                f"({count} ligne{'s' if count > 1 else ''}).")  # fmt: skip


def check_entry_date(p: LinePass, key: tuple[str, str], agg: list) -> None:
    """``entry_date``: the lines of an entry share its EcritureDate.

    Norm: A47 A-1 LPF (EcritureDate is the entry's date) / BOI-CF-IOR-60-40-20."""
    _debit, _credit, first, edate, other, other_line, _ok, _count = agg
    if other is not None:
        p.issue(p.body, other_line, p.c_ed, "entry_date",
                f"Écriture {key[0]}/{key[1]} : EcritureDate « {edate} » (ligne {first}) et "
                f"« {other} » (ligne {other_line}).")  # fmt: skip


ENTRY_CHECKS: tuple[Callable[[LinePass, tuple[str, str], list], None], ...] = (
    check_entry_balance,
    check_entry_date,
)


# ---------------------------------------------------------------- the rules of the file


def check_file_balance(p: LinePass) -> None:
    """``file_balance``: the file's debits equal its credits (lines with an unreadable amount
    left out, and said).

    Norm: A47 A-1 LPF (the whole accounting of the year, balanced) / BOI-CF-IOR-60-40-20."""
    if (p.entries or p.closed) and p.total_debit != p.total_credit:
        unreadable = p.unreadable
        note = f" (hors {plural(unreadable, 'ligne')} au montant illisible)" if unreadable else ""
        p.issue(p.tail, None, None, "file_balance",
                f"Total débit {format_cents(p.total_debit)} différent du total crédit "
                f"{format_cents(p.total_credit)}, "
                f"écart {format_cents(p.total_debit - p.total_credit)}{note}.")  # fmt: skip


def check_not_empty(p: LinePass) -> None:
    """``empty_file``: the file has at least one entry line.

    Norm: A47 A-1 LPF (the file holds the year's entries)."""
    if not p.entries and not p.closed:
        p.issue(p.tail, None, None, "empty_file", "Le fichier ne contient que la ligne d'en-tête.")


FILE_CHECKS: tuple[Callable[[LinePass], None], ...] = (check_file_balance, check_not_empty)
