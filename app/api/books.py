"""The carrier's books: journal entries (a member accountant: the entries naming their member,
as on ``/comptabilite/``) and the trial balance of a date range (the bookkeepers)."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounting.ledger.fiscal_year import carrier_start_month, fiscal_year_bounds, fiscal_year_of
from accounting.ledger.models import JournalEntry, JournalLine
from accounting.ledger.reports import totals, trial_balance
from accounting.org import Member
from app.api import access
from app.api.paging import cursor_values, page
from app.api.problems import ApiProblem
from app.api.schemas import Blueprint, Money, PageQuerySchema, StrictSchema, page_of
from app.database import get_db

blp = Blueprint(
    "api_books", __name__, url_prefix="/api/v1",
    description="Comptabilité de la structure porteuse : écritures validées et balance.",
)


class RangeMixin:
    start = fields.Date(metadata={"description": "Du (défaut : début de l'exercice en cours)"})
    end = fields.Date(metadata={"description": "Au (défaut : fin de l'exercice en cours)"})

    @ma.validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ma.ValidationError("La date de fin précède la date de début.", "end")


class EntryQuerySchema(RangeMixin, PageQuerySchema):
    journal = fields.String(validate=validate.Length(1, 10),
                            metadata={"description": "Code du journal : VT, BQ, HA, OD…"})


class BalanceQuerySchema(RangeMixin, StrictSchema):
    pass


class LedgerLineSchema(StrictSchema):
    position = fields.Integer(required=True)
    account = fields.String(required=True)
    label = fields.String(required=True)
    member_id = fields.Integer(allow_none=True, required=True)
    member_code = fields.String(allow_none=True, required=True)
    debit = Money(required=True)
    credit = Money(required=True)


class LedgerEntrySchema(StrictSchema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"description": "VT2026-000001"})
    journal = fields.String(required=True)
    entry_date = fields.Date(required=True)
    label = fields.String(required=True)
    piece_ref = fields.String(required=True)
    piece_date = fields.Date(required=True)
    source_type = fields.String(required=True)
    source_id = fields.Integer(allow_none=True, required=True)
    reverses_id = fields.Integer(allow_none=True, required=True)
    lines = fields.List(fields.Nested(LedgerLineSchema), required=True)


class BalanceRowSchema(StrictSchema):
    account = fields.String(required=True)
    label = fields.String(required=True)
    opening_debit = Money(required=True)
    opening_credit = Money(required=True)
    debit = Money(required=True)
    credit = Money(required=True)
    debit_balance = Money(required=True)
    credit_balance = Money(required=True)


class BalanceTotalsSchema(StrictSchema):
    opening_debit = Money(required=True)
    opening_credit = Money(required=True)
    debit = Money(required=True)
    credit = Money(required=True)
    debit_balance = Money(required=True)
    credit_balance = Money(required=True)
    balanced = fields.Boolean(required=True, metadata={"description": "Débit = crédit"})


class TrialBalanceSchema(StrictSchema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    rows = fields.List(fields.Nested(BalanceRowSchema), required=True)
    totals = fields.Nested(BalanceTotalsSchema, required=True)


LedgerEntryPage = page_of(LedgerEntrySchema, "LedgerEntryPageSchema")


def _range(query: dict[str, Any]) -> tuple[date, date]:
    start, end = query.get("start"), query.get("end")
    if start is None or end is None:
        month = carrier_start_month(get_db())
        first, last = fiscal_year_bounds(fiscal_year_of(date.today(), month), month)
        start, end = start or first, end or last
    if end < start:
        raise ApiProblem(422, "La date de fin précède la date de début.",
                         errors=[{"field": "end", "message": "Avant la date de début."}])
    return start, end


def _entry_dict(entry: JournalEntry, codes: dict[int, str]) -> dict[str, Any]:
    return {
        "id": entry.id, "reference": f"{entry.journal_code}{entry.year}-{entry.number:06d}",
        "journal": entry.journal_code, "entry_date": entry.entry_date, "label": entry.label,
        "piece_ref": entry.piece_ref, "piece_date": entry.piece_date,
        "source_type": entry.source_type, "source_id": entry.source_id,
        "reverses_id": entry.reverses_id,
        "lines": [
            {"position": line.position, "account": line.account, "label": line.label,
             "member_id": line.member_id, "member_code": codes.get(line.member_id or 0),
             "debit": line.debit, "credit": line.credit}
            for line in entry.lines
        ],
    }


@blp.route("/ledger/entries")
@access.allow(*access.LEDGER_READERS)
@blp.arguments(EntryQuerySchema, location="query")
@blp.response(200, LedgerEntryPage)
def entries(query: dict[str, Any]) -> dict[str, Any]:
    """Les écritures validées de la période, dans l'ordre de validation, avec leurs lignes."""
    start, end = _range(query)
    stmt = (
        select(JournalEntry).options(selectinload(JournalEntry.lines))
        .where(JournalEntry.entry_date >= start, JournalEntry.entry_date <= end)
        .order_by(JournalEntry.id)
    )
    member = access.scope()
    if member is not None:  # the entries that name the member (its invoices, payments)
        stmt = stmt.where(JournalEntry.id.in_(
            select(JournalLine.entry_id).where(JournalLine.member_id == member)))
    if query.get("journal"):
        stmt = stmt.where(JournalEntry.journal_code == query["journal"].strip().upper())
    if query.get("cursor"):
        (last,) = cursor_values(query["cursor"])
        stmt = stmt.where(JournalEntry.id > last)
    rows = list(get_db().scalars(stmt.limit(query["limit"] + 1)))
    result = page(rows, query["limit"], lambda e: [e.id])
    member_ids = {line.member_id for e in result["items"] for line in e.lines if line.member_id}
    codes = dict(get_db().execute(
        select(Member.id, Member.code).where(Member.id.in_(member_ids or {0}))).all())
    result["items"] = [_entry_dict(e, codes) for e in result["items"]]
    return result


@blp.route("/ledger/trial-balance")
@access.allow(*access.BOOKKEEPERS)
@blp.arguments(BalanceQuerySchema, location="query")
@blp.response(200, TrialBalanceSchema)
def balance(query: dict[str, Any]) -> dict[str, Any]:
    """La balance : soldes d'ouverture, mouvements et soldes de clôture de chaque compte."""
    start, end = _range(query)
    rows = trial_balance(get_db(), start, end)
    total = totals(rows)
    names = ("account", "label", "opening_debit", "opening_credit", "debit", "credit",
             "debit_balance", "credit_balance")
    return {
        "start": start, "end": end,
        "rows": [{name: getattr(row, name) for name in names} for row in rows],
        "totals": {name: getattr(total, name) for name in (*names[2:], "balanced")},
    }
