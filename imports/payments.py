"""Payments import: a bank statement (CSV or XLSX) read into payments, all or nothing.

Columns (French or English headers, case and accents ignored): ``Date``, ``Adhérent`` (member
code) and/or ``Facture`` (invoice number), ``Montant``, ``Référence`` (optional), ``Mode``
(optional: virement, chèque, prélèvement, espèces, autre; default virement).

Design: :func:`analyse_payments` reads and checks the whole file and returns a preview (new
rows, rows already imported, every error with its line and column) without writing anything;
:func:`import_payments` does the same, refuses the file if any row is wrong
(:class:`~imports.errors.ImportRefused`), then records each new row with
:func:`accounting.invoicing.payments.record_payment` inside a savepoint, so a failure leaves
nothing behind.

Idempotence: each row has a fingerprint (date, member, invoice, amount, reference and its rank
among identical rows of the file), stored as the payment's ``import_key``: importing the same
file twice adds nothing, and two identical transfers on one statement stay two payments.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.audit import record_audit
from accounting.db import transaction_lock
from accounting.invoicing.amounts import InvoiceKind, InvoiceStatus, PaymentMethod, format_eur
from accounting.invoicing.errors import InvoicingError
from accounting.invoicing.models import Invoice, Payment
from accounting.invoicing.payments import record_payment
from accounting.org import Member
from accounting.periods import closed_period_containing
from accounting.wording import plural
from imports.errors import ErrorList, ImportRefused, RowError
from imports.parsing import parse_date, parse_decimal
from imports.tabular import Table, map_columns, normalize_header, read_table

COLUMNS = {
    "date": ["Date", "Date de paiement", "Date de valeur", "Date opération", "paid_on"],
    "member": ["Adhérent", "Code adhérent", "Membre", "Member", "Member code"],
    "invoice": ["Facture", "N° facture", "Numéro de facture", "Invoice", "Invoice number"],
    "amount": ["Montant", "Crédit", "Amount"],
    "reference": ["Référence", "Libellé", "Reference", "Label"],
    "method": ["Mode", "Mode de paiement", "Moyen de paiement", "Method"],
}
OPTIONAL = ("member", "invoice", "reference", "method")

_METHODS = {
    normalize_header(word): method
    for method, words in {
        PaymentMethod.TRANSFER: ["virement", "vir", "transfer"],
        PaymentMethod.DIRECT_DEBIT: ["prélèvement", "prlv", "direct debit"],
        PaymentMethod.CHEQUE: ["chèque", "cheque", "chq"],
        PaymentMethod.CASH: ["espèces", "cash"],
        PaymentMethod.OTHER: ["autre", "other"],
    }.items()
    for word in [*words, method.value]
}


@dataclass(frozen=True)
class PaymentRow:
    """One checked row of the file."""

    line: int
    paid_on: date
    member: Member
    invoice: Invoice | None
    amount: Decimal
    reference: str
    method: str
    key: str

    @property
    def target(self) -> str:
        return self.invoice.number if self.invoice is not None else "factures les plus anciennes"


@dataclass
class PaymentPreview:
    filename: str
    rows: int = 0
    new: list[PaymentRow] = field(default_factory=list)
    already: list[PaymentRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: The payments written by :func:`import_payments` (empty for a preview).
    recorded: list[Payment] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((r.amount for r in self.new), Decimal("0.00"))

    def summary(self) -> str:
        text = (
            f"{plural(len(self.new), 'paiement')} à enregistrer pour {format_eur(self.total)}"
            if self.new
            else "Aucun nouveau paiement"
        )
        if self.already:
            already = plural(len(self.already), "ligne déjà importée, ignorée",
                             "lignes déjà importées, ignorées")
            text += (
                f" ; {already} "
                "(réimporter le même fichier n'ajoute rien)"
            )
        return text + "."


def _fingerprint(parts: tuple[str, ...], rank: int) -> str:
    return hashlib.sha256("\x1f".join((*parts, str(rank))).encode()).hexdigest()


def analyse_payments(
    session: Session, data: bytes, filename: str, *, today: date | None = None
) -> PaymentPreview:
    """Read and check a statement; nothing is written. Errors are returned, not raised, except
    a file that cannot be read at all (``ImportRefused``)."""
    today = today or date.today()
    table = read_table(data, filename)
    preview = PaymentPreview(filename=table.filename, rows=len(table))
    try:
        rows = _check(session, table, today)
    except ImportRefused as refused:
        preview.errors = refused.errors
        return preview
    known = set(
        session.scalars(
            select(Payment.import_key).where(Payment.import_key.in_([r.key for r in rows]))
        )
    )
    for row in rows:
        (preview.already if row.key in known else preview.new).append(row)
    return preview


def _check(session: Session, table: Table, today: date) -> list[PaymentRow]:
    columns = map_columns(
        table.header, COLUMNS, optional=OPTIONAL, header_line=table.header_line
    )
    errors = ErrorList()
    if "member" not in columns and "invoice" not in columns:
        errors.add(
            table.header_line, None,
            "Il faut une colonne « Adhérent » (code) ou « Facture » (numéro) pour savoir qui "
            "a payé.",
        )
        errors.raise_if_any()
    codes = {table.rows[i].get(columns.get("member")) for i in range(len(table))}
    numbers = {table.rows[i].get(columns.get("invoice")) for i in range(len(table))}
    members = {
        m.code: m
        for m in session.scalars(select(Member).where(Member.code.in_(codes - {""})))
    }
    invoices = {
        i.number: i
        for i in session.scalars(select(Invoice).where(Invoice.number.in_(numbers - {""})))
    }
    label = columns.label
    seen: Counter[tuple[str, ...]] = Counter()
    rows: list[PaymentRow] = []
    for row in table:
        line = row.line
        paid_on = errors.parse(line, label("date"), parse_date, row.get(columns.get("date")))
        amount = errors.parse(
            line, label("amount"), parse_decimal, row.get(columns.get("amount")),
            max_places=2, minimum=Decimal("0.01"),
        )
        code = row.get(columns.get("member"))
        number = row.get(columns.get("invoice"))
        reference = row.get(columns.get("reference"))
        method_text = row.get(columns.get("method"))
        if paid_on is not None:
            _check_date(session, errors, line, label("date"), paid_on, today)
        member, invoice = _payer(errors, line, label, code, number, members, invoices)
        method = _method(errors, line, label("method"), method_text)
        if paid_on is None or amount is None or member is None or len(errors):
            continue
        amount = amount.quantize(Decimal("0.01"))
        parts = (paid_on.isoformat(), member.code, number, str(amount), reference.strip())
        seen[parts] += 1
        rows.append(
            PaymentRow(line, paid_on, member, invoice, amount, reference.strip(), method,
                       _fingerprint(parts, seen[parts]))
        )
    errors.raise_if_any()
    return rows


def _check_date(
    session: Session, errors: ErrorList, line: int, column: str, paid_on: date, today: date
) -> None:
    """A payment is not in the future, nor in a closed period."""
    if paid_on > today:
        errors.add(line, column, f"Date dans le futur : {paid_on:%d/%m/%Y}.")
    elif (closed := closed_period_containing(session, paid_on)) is not None:
        errors.add(
            line, column,
            f"Le {paid_on:%d/%m/%Y} est dans la période clôturée {closed.label}.",
        )


def _payer(
    errors: ErrorList,
    line: int,
    label: Callable[[str], str],
    code: str,
    number: str,
    members: dict[str, Member],
    invoices: dict[str, Invoice],
) -> tuple[Member | None, Invoice | None]:
    """Who paid (from the invoice, or the member code, which must agree), and for which
    invoice; errors recorded."""
    member = invoice = None
    if number:
        invoice = invoices.get(number)
        if invoice is None:
            errors.add(line, label("invoice"), f"Aucune facture n° « {number} ».")
        elif invoice.kind != InvoiceKind.INVOICE:
            errors.add(line, label("invoice"), f"{number} est un avoir : il ne se paie pas.")
        elif invoice.status == InvoiceStatus.CANCELLED:
            errors.add(line, label("invoice"), f"La facture {number} est annulée par avoir.")
        else:  # already settled: the payment is kept as the member's credit
            member = invoice.member
    if code:
        by_code = members.get(code)
        if by_code is None:
            errors.add(line, label("member"), f"Code adhérent inconnu : « {code} ».")
        elif member is not None and member.id != by_code.id:
            errors.add(
                line, label("member"),
                f"La facture {number} est adressée à {member.code}, pas à {code}.",
            )
        else:
            member = by_code
    if not code and not number:
        errors.add(
            line, None,
            "Indiquez le code adhérent ou le numéro de facture : qui a payé ?",
        )
    return member, invoice


def _method(errors: ErrorList, line: int, column: str, method_text: str) -> str:
    """The payment method (a transfer when the cell is empty)."""
    if not method_text:
        return PaymentMethod.TRANSFER.value
    found = _METHODS.get(normalize_header(method_text))
    if found is None:
        errors.add(
            line, column,
            f"Mode de paiement inconnu « {method_text} » (virement, chèque, "
            "prélèvement, espèces, autre).",
        )
        return PaymentMethod.TRANSFER.value
    return found.value


def import_payments(
    session: Session, data: bytes, filename: str, *, today: date | None = None
) -> PaymentPreview:
    """Record the new payments of a statement (all or nothing; rows already imported are
    skipped). Raises ``ImportRefused`` with every error; flushes, never commits."""
    today = today or date.today()
    # One import at a time: the same file sent twice at once is added once.
    transaction_lock(session, "mutualise:import:payments")
    preview = analyse_payments(session, data, filename, today=today)
    if preview.errors:
        raise ImportRefused(preview.errors)
    problems: list[RowError] = []
    with session.begin_nested() as savepoint:
        for row in preview.new:
            target: dict = {}
            if row.invoice is not None:
                # An earlier row of the same file may have settled it: then it is a credit.
                target = {"invoices": [row.invoice]} if row.invoice.outstanding else {
                    "allocations": {}}
            try:
                payment = record_payment(
                    session, member=row.member, paid_on=row.paid_on, amount=row.amount,
                    method=row.method, reference=row.reference, import_key=row.key,
                    today=today, **target,
                )
                preview.recorded.append(payment)
            except InvoicingError as error:
                problems.append(RowError(row.line, None, str(error)))
        if problems:
            savepoint.rollback()
    if problems:
        raise ImportRefused(problems)
    record_audit(
        session, "import", Payment.__tablename__, None,
        after={"file": preview.filename, "added": len(preview.recorded),
               "already": len(preview.already), "total": preview.total},
    )
    return preview
