"""Posting: the journal entries the application writes when a document becomes final.

* :func:`post_invoice` / :func:`post_credit_note` — sales journal VT: 411 + member code
  (incl. tax) against the services' revenue accounts (706 / 708x, excl. tax) and 445710 (VAT);
  a credit note is the same entry reversed.
* :func:`post_payment` — bank journal BQ: 512 against 411 + member code.
* costs and subsidies: :mod:`accounting.ledger.cost_posting` (payroll PA, supplier invoice HA,
  paid directly BQ, imported in the file's journal, subsidy OD, and their payments in BQ);
  :mod:`accounting.costs` calls it after saving; the ledger reads ``accounting.cost_models``.
* :func:`post_entry` — the one door: checks the lines (pure :func:`check_lines`), takes the
  next number of the journal's series under a lock, writes entry and lines, audits, seals the
  entry with its lines in the hash chain (``accounting.seal``). :func:`post_issued` does the
  same for many invoices at once (one batch of seals); :func:`sealed_in_one_batch` defers the
  seals of the entries posted inside a block (an import of many costs) to its end.

The safety net that posts documents written by a path that did not call these functions is
:mod:`accounting.ledger.catchup`.

Every function flushes and never commits: the caller's transaction is the unit of work, so an
invoice and its entry are written together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased, selectinload

from accounting.audit import actor_label, record_audit
from accounting.ledger.bulk_posting import BulkEntry, post_entries
from accounting.ledger.chart import (
    BANK,
    VAT_COLLECTED,
    ensure_account,
    ensure_journal,
    ensure_member_account,
    member_account_number,
)
from accounting.ledger.errors import AlreadyPosted, LedgerError
from accounting.ledger.lines import (
    LineSpec,
    check_lines,
    lock_journal_series,
    signed_line,
)
from accounting.ledger.models import JournalEntry, JournalLine
from accounting.money import ZERO
from accounting.org import Member
from accounting.periods import ensure_open
from accounting.seal import lock_chain, seal_record, seal_records

if TYPE_CHECKING:  # the ledger reads these documents; their modules never import the ledger
    from accounting.invoicing.models import Invoice, Payment


def post_entry(
    session: Session,
    *,
    journal: str,
    entry_date: date,
    label: str,
    piece_ref: str,
    piece_date: date | None = None,
    lines: Iterable[LineSpec | None],
    source_type: str,
    source_id: int | None = None,
    reverses_id: int | None = None,
    validated_by: str | None = None,
) -> JournalEntry:
    """Validate and write one entry: checked, numbered next in its journal and year, audited.

    Refused: unbalanced or malformed lines (:func:`check_lines`), a date in a closed period.
    """
    specs = [line for line in lines if line is not None]
    check_lines(specs)
    ensure_open(session, entry_date)
    ensure_journal(session, journal)
    for spec in specs:
        member = session.get(Member, spec.member_id) if spec.member_id else None
        ensure_account(session, spec.account, spec.account_label, member)
    lock_chain(session)  # the chain before the series (the order every act takes them)
    series = lock_journal_series(session, journal, entry_date.year)
    series.last_number += 1
    entry = JournalEntry(
        journal_code=journal,
        year=entry_date.year,
        number=series.last_number,
        entry_date=entry_date,
        label=label[:300],
        piece_ref=piece_ref[:100],
        piece_date=piece_date or entry_date,
        source_type=source_type,
        source_id=source_id,
        reverses_id=reverses_id,
        validated_by=(validated_by or actor_label(session))[:200],
    )
    for position, spec in enumerate(specs, start=1):
        entry.lines.append(
            JournalLine(
                position=position,
                account=spec.account,
                member_id=spec.member_id,
                service_id=spec.service_id,
                label=(spec.label or label)[:300],
                debit=spec.debit,
                credit=spec.credit,
                entry_date=entry_date,
            )
        )
    session.add(entry)
    session.flush()
    record_audit(
        session, "post", JournalEntry.__tablename__, entry.id,
        after={"reference": entry.reference, "source": f"{source_type}:{source_id}",
               "total": sum((s.debit for s in specs), ZERO)},
    )  # fmt: skip
    deferred = session.info.get(_DEFERRED_SEALS)
    if deferred is not None:
        deferred.append(entry.id)  # sealed at the end of sealed_in_one_batch
    else:
        seal_record(session, JournalEntry.__tablename__, entry.id, "post")  # final: hash chain
    return entry


#: ``session.info`` key: the ids of the entries posted inside :func:`sealed_in_one_batch`.
_DEFERRED_SEALS = "mutualise:deferred_entry_seals"


@contextmanager
def sealed_in_one_batch(session: Session) -> Iterator[None]:
    """Seal the entries posted inside the block together, at its end (same transaction).

    Why: sealing one entry reads the chain's head and the entry back, then writes a link; an
    import of 1 000 costs posted one by one did that 1 000 times. An entry never changes once
    posted, so sealing it at the end of the block seals exactly what was posted. The block must
    not commit; an error inside it leaves the entries unsealed, for the caller to roll back.
    Nested blocks join the outer one."""
    if _DEFERRED_SEALS in session.info:
        yield
        return
    session.info[_DEFERRED_SEALS] = []
    try:
        yield
    finally:
        pending = session.info.pop(_DEFERRED_SEALS)
    if pending:
        seal_records(session, JournalEntry.__tablename__, pending, "post")


def entries_of(session: Session, source_type: str, source_id: int) -> list[JournalEntry]:
    """The entries written for a document, in validation order (drill-down)."""
    return list(
        session.scalars(
            select(JournalEntry)
            .where(JournalEntry.source_type == source_type, JournalEntry.source_id == source_id)
            .order_by(JournalEntry.id)
            .options(selectinload(JournalEntry.lines))
        )
    )


def _already_posted(what: str) -> AlreadyPosted:
    """« La facture … est déjà comptabilisée », « L'avoir … est déjà comptabilisé »: ``what``
    starts with its article, which gives the gender."""
    done = "comptabilisée" if what.startswith("La ") else "comptabilisé"
    return AlreadyPosted(f"{what} est déjà {done} : une écriture ne se repasse pas.")


def _refuse_if_posted(session: Session, source_type: str, source_id: int, what: str) -> None:
    if _live_entries(session, source_type, source_id):
        raise _already_posted(what)


# ------------------------------------------------------------------ invoices and credit notes


def _invoice_lines(invoice: Invoice, sign: int, member: Member, customer: str) -> list:
    """Lines of a sales entry: 411 incl. tax against revenue (per account and service) and VAT.

    ``sign`` is +1 for an invoice, -1 for a credit note (the same entry reversed); a negative
    amount (a negative pool allocated as a credit) moves to the other side.
    """
    what = "Avoir" if sign < 0 else "Facture"
    text = f"{what} {invoice.number} – {invoice.customer_name or member.name}"
    revenue: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
    vat: dict[int, Decimal] = defaultdict(lambda: ZERO)
    names: dict[int, str] = {}
    for line in invoice.lines:
        revenue[(line.revenue_account, line.service_id)] += line.amount_excl_tax
        vat[line.service_id] += line.vat_amount
        names[line.service_id] = line.service.name if line.service is not None else ""
    lines = [
        signed_line(customer, sign * invoice.total_incl_tax, label=text, member_id=member.id,
                    account_label=member.name),
    ]  # fmt: skip
    for (account, service_id), amount in revenue.items():
        lines.append(signed_line(account, -sign * amount, label=f"{text} – {names[service_id]}",
                                 service_id=service_id,
                                 account_label=f"Refacturation : {names[service_id]}"))  # fmt: skip
    for service_id, amount in vat.items():
        lines.append(signed_line(VAT_COLLECTED, -sign * amount,
                                 label=f"{text} – TVA {names[service_id]}",
                                 service_id=service_id))  # fmt: skip
    return lines


def post_invoice(session: Session, invoice: Invoice) -> JournalEntry | None:
    """The sales entry of an issued invoice (or credit note); None when its total is zero."""
    if invoice.is_draft:
        raise LedgerError(
            "Un brouillon ne se comptabilise pas : l'écriture est passée à l'émission."
        )
    credit_note = invoice.is_credit_note
    source_type = "credit_note" if credit_note else "invoice"
    what = f"{'L’avoir' if credit_note else 'La facture'} {invoice.number}"
    _refuse_if_posted(session, source_type, invoice.id, what)
    member = session.get(Member, invoice.member_id)
    assert member is not None
    customer = ensure_member_account(session, member).number
    lines = _invoice_lines(invoice, -1 if credit_note else 1, member, customer)
    if not any(lines):
        return None
    label = f"{'Avoir' if credit_note else 'Facture'} {invoice.number} – " + (
        invoice.customer_name or member.name
    )
    return post_entry(
        session,
        journal="VT",
        entry_date=invoice.issue_date,
        label=label,
        piece_ref=invoice.number,
        piece_date=invoice.issue_date,
        lines=lines,
        source_type=source_type,
        source_id=invoice.id,
        validated_by=invoice.issued_by or None,
    )


def post_credit_note(session: Session, note: Invoice) -> JournalEntry | None:
    """The sales entry of an issued credit note: the invoice's entry reversed, for its amount."""
    if not note.is_credit_note:
        raise LedgerError(f"{note.number} est une facture, pas un avoir.")
    return post_invoice(session, note)


def post_issued(session: Session, documents: Iterable[Invoice]) -> list[JournalEntry]:
    """The entries of documents just issued (what ``issue_invoices`` returns), as
    :func:`post_invoice` writes them one by one, but in a constant number of queries
    (:func:`post_entries`; issuing 1 000 invoices posted each alone took about 20 queries per
    invoice)."""
    docs = list(documents)
    if len(docs) <= 1:
        return [entry for doc in docs if (entry := post_invoice(session, doc)) is not None]
    kinds = {doc.id: "credit_note" if doc.is_credit_note else "invoice" for doc in docs}
    _refuse_unpostable(session, docs, kinds)
    member_ids = {d.member_id for d in docs}
    members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    planned = [
        BulkEntry("VT", doc.issue_date, label, doc.number, doc.issue_date, specs, kinds[doc.id],
                  doc.id, doc.issued_by or None)
        for doc, specs, label in _planned_entries(docs, members)
    ]  # fmt: skip
    if not planned:
        return []
    ids = post_entries(session, planned, members)
    query = select(JournalEntry).where(JournalEntry.id.in_(ids)).order_by(JournalEntry.id)
    return list(session.scalars(query))


#: A document to post: the document, its lines, the entry's label.
_Planned = tuple["Invoice", list[LineSpec], str]


def _refuse_unpostable(session: Session, docs: list[Invoice], kinds: dict[int, str]) -> None:
    """Refuse a draft, or a document already posted (one query for all)."""
    if any(doc.is_draft for doc in docs):
        raise LedgerError(
            "Un brouillon ne se comptabilise pas : l'écriture est passée à l'émission."
        )
    posted = _posted_sources(session, set(kinds.values()), list(kinds))
    for doc in docs:
        if (kinds[doc.id], doc.id) in posted:
            what = f"{'L’avoir' if doc.is_credit_note else 'La facture'} {doc.number}"
            raise _already_posted(what)


def _planned_entries(docs: list[Invoice], members: dict[int, Member]) -> list[_Planned]:
    """Each document's checked lines and label (a document with no line is left out)."""
    planned: list[_Planned] = []
    for doc in docs:
        member = members[doc.member_id]
        sign = -1 if doc.is_credit_note else 1
        specs = [
            line
            for line in _invoice_lines(doc, sign, member, member_account_number(member))
            if line is not None
        ]
        if not specs:
            continue
        check_lines(specs)
        what = "Avoir" if doc.is_credit_note else "Facture"
        planned.append((doc, specs, f"{what} {doc.number} – {doc.customer_name or member.name}"))
    return planned


def _posted_sources(
    session: Session, source_types: set[str], source_ids: list[int]
) -> set[tuple[str, int]]:
    """(source type, id) of the documents among these that already have a live entry."""
    found: set[tuple[str, int]] = set()
    for start in range(0, len(source_ids), 500):
        rows = session.execute(
            select(JournalEntry.source_type, JournalEntry.source_id).where(
                JournalEntry.source_type.in_(source_types),
                JournalEntry.source_id.in_(source_ids[start : start + 500]),
                is_live(),
            )
        )
        found.update((kind, source_id) for kind, source_id in rows)
    return found


# ------------------------------------------------------------------ payments


def post_payment(session: Session, payment: Payment) -> JournalEntry:
    """The bank entry of a payment received: 512 against the member's 411 (its whole amount,
    the part kept as credit on account included: the 411 then shows the member's credit)."""
    _refuse_if_posted(session, "payment", payment.id, f"Le paiement n° {payment.id}")
    member = session.get(Member, payment.member_id)
    assert member is not None
    customer = ensure_member_account(session, member).number
    reference = payment.reference or f"PAI-{payment.id}"
    label = f"Règlement {member.code} – {member.name}"
    if payment.reference:
        label += f" ({payment.reference})"
    return post_entry(
        session,
        journal="BQ",
        entry_date=payment.paid_on,
        label=label,
        piece_ref=reference,
        piece_date=payment.paid_on,
        lines=[
            LineSpec(BANK, debit=payment.amount, label=label),
            LineSpec(customer, credit=payment.amount, label=label, member_id=member.id,
                     account_label=member.name),
        ],
        source_type="payment",
        source_id=payment.id,
    )


def reverse_entry(
    session: Session, entry: JournalEntry, *, reason: str, entry_date: date | None = None
) -> JournalEntry:
    """A correcting entry that cancels ``entry`` (same lines, debit and credit swapped)."""
    if _is_reversed(session, entry.id):
        raise AlreadyPosted(f"L'écriture {entry.reference} est déjà contrepassée.")
    label = f"Contrepassation {entry.reference} – {reason}"
    return post_entry(
        session,
        journal=entry.journal_code,
        entry_date=entry_date or entry.entry_date,
        label=label,
        piece_ref=entry.piece_ref,
        piece_date=entry.piece_date,
        lines=[
            LineSpec(line.account, debit=line.credit, credit=line.debit, label=label,
                     member_id=line.member_id, service_id=line.service_id)
            for line in entry.lines
        ],
        source_type=entry.source_type,
        source_id=entry.source_id,
        reverses_id=entry.id,
    )


def _is_reversed(session: Session, entry_id: int) -> bool:
    return bool(session.scalar(select(exists().where(JournalEntry.reverses_id == entry_id))))


#: The entry that reverses another, in :func:`is_live` (built once: an alias costs about a
#: millisecond to set up, and the journal page asks for five such conditions on every visit).
_REVERSAL = aliased(JournalEntry, name="reversal")


def is_live() -> Any:
    """SQL condition: an entry that is neither a reversal nor reversed."""
    return and_(
        JournalEntry.reverses_id.is_(None),
        ~exists().where(_REVERSAL.reverses_id == JournalEntry.id),
    )


def _live_entries(session: Session, source_type: str, source_id: int) -> list[JournalEntry]:
    """Entries of a document that are neither reversals nor reversed."""
    return list(
        session.scalars(
            select(JournalEntry)
            .where(
                JournalEntry.source_type == source_type,
                JournalEntry.source_id == source_id,
                is_live(),
            )
            .order_by(JournalEntry.id)
        )
    )
