"""Payments: read by the cashiers, recorded by them through the domain (``record_payment``,
with its bank entry: ``app.invoices.usecases.pay``), as the page ``/factures/paiements``."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounting.invoicing.amounts import PaymentMethod
from accounting.invoicing.errors import InvoicingError
from accounting.invoicing.models import Invoice, Payment, PaymentAllocation
from accounting.org import Member
from accounting.periods import PeriodError
from app.api import access
from app.api.paging import cursor_values, page
from app.api.problems import ApiProblem
from app.api.schemas import (
    Blueprint,
    Id,
    Money,
    PageQuerySchema,
    QueryId,
    StrictSchema,
    Text,
    page_of,
)
from app.database import get_db
from app.invoices.usecases import pay
from app.params import MAX_ID

blp = Blueprint(
    "api_payments", __name__, url_prefix="/api/v1",
    description="Paiements reçus des adhérents (lecture et enregistrement : coordination, "
    "comptables mutualisés, trésorier).",
)


class PaymentAllocationSchema(StrictSchema):
    invoice_id = fields.Integer(required=True)
    invoice_number = fields.String(allow_none=True, required=True)
    amount = Money(required=True)


class PaymentSchema(StrictSchema):
    id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    member_code = fields.String(required=True)
    paid_on = fields.Date(required=True)
    amount = Money(required=True)
    method = fields.String(required=True,
                           validate=validate.OneOf([m.value for m in PaymentMethod]))
    reference = fields.String(required=True)
    note = fields.String(required=True)
    unallocated = Money(required=True, metadata={"description": "Gardé en crédit sur le compte"})
    allocations = fields.List(fields.Nested(PaymentAllocationSchema), required=True)


class PaymentInputSchema(StrictSchema):
    member_id = Id(required=True)
    paid_on = fields.Date(required=True)
    amount = Money(required=True, metadata={"pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$"})
    method = fields.String(load_default=PaymentMethod.TRANSFER.value,
                           validate=validate.OneOf([m.value for m in PaymentMethod]))
    reference = Text(200, load_default="")
    note = Text(load_default="")
    invoice_ids = fields.List(
        Id(), validate=validate.Length(max=100), load_default=None,
        metadata={"description": "Factures réglées, dans l'ordre ; absent : les plus "
                                 "anciennes échéances d'abord"},
    )


class PaymentQuerySchema(PageQuerySchema):
    member_id = QueryId()


PaymentPage = page_of(PaymentSchema, "PaymentPageSchema")


def _payments() -> Any:
    return select(Payment).options(
        selectinload(Payment.allocations).selectinload(PaymentAllocation.invoice),
        selectinload(Payment.member),
    )


def _payment_dict(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id, "member_id": payment.member_id, "member_code": payment.member.code,
        "paid_on": payment.paid_on, "amount": payment.amount, "method": payment.method,
        "reference": payment.reference or "", "note": payment.note or "",
        "unallocated": payment.unallocated,
        "allocations": [
            {"invoice_id": a.invoice_id, "invoice_number": a.invoice.number, "amount": a.amount}
            for a in payment.allocations
        ],
    }


@blp.route("/payments")
@access.allow(*access.CASHIERS)
@blp.arguments(PaymentQuerySchema, location="query")
@blp.response(200, PaymentPage)
def payments(query: dict[str, Any]) -> dict[str, Any]:
    """Les paiements, les plus récents d'abord (par id)."""
    stmt = _payments().order_by(Payment.id.desc())
    if query.get("member_id"):
        stmt = stmt.where(Payment.member_id == query["member_id"])
    if query.get("cursor"):
        (last,) = cursor_values(query["cursor"])
        stmt = stmt.where(Payment.id < last)
    rows = list(get_db().scalars(stmt.limit(query["limit"] + 1)))
    result = page(rows, query["limit"], lambda p: [p.id])
    result["items"] = [_payment_dict(p) for p in result["items"]]
    return result


@blp.route(f"/payments/<int(min=1, max={MAX_ID}):payment_id>")
@access.allow(*access.CASHIERS)
@blp.response(200, PaymentSchema)
def payment(payment_id: int) -> dict[str, Any]:
    """Un paiement et les factures qu'il règle."""
    found = get_db().scalars(_payments().where(Payment.id == payment_id)).one_or_none()
    if found is None:
        raise ApiProblem(404, "Paiement introuvable.")
    return _payment_dict(found)


@blp.route("/payments", methods=["POST"])
@access.allow(*access.CASHIERS)
@blp.arguments(PaymentInputSchema)
@blp.response(201, PaymentSchema)
def record(body: dict[str, Any]) -> dict[str, Any]:
    """Enregistre un paiement (et son écriture de banque) : ce qui dépasse le dû est gardé en
    crédit sur le compte de l'adhérent."""
    db = get_db()
    member = db.get(Member, body["member_id"])
    if member is None:
        raise ApiProblem(422, "Adhérent inconnu.",
                         errors=[{"field": "member_id", "message": "Adhérent inconnu."}])
    invoices = None
    if body["invoice_ids"]:
        found = {i.id: i for i in db.scalars(select(Invoice).where(
            Invoice.id.in_(body["invoice_ids"])))}
        missing = [i for i in body["invoice_ids"] if i not in found]
        if missing:
            raise ApiProblem(422, "Facture inconnue.", errors=[
                {"field": "invoice_ids", "message": f"Facture inconnue : {i}."} for i in missing])
        invoices = [found[i] for i in dict.fromkeys(body["invoice_ids"])]
    try:
        recorded = pay(
            db, member=member, paid_on=body["paid_on"], amount=body["amount"],
            method=body["method"], reference=body["reference"].strip(), note=body["note"],
            invoices=invoices,
        )
    except (InvoicingError, PeriodError) as error:
        db.rollback()
        raise ApiProblem(422, str(error)) from None
    db.commit()
    return _payment_dict(recorded)
