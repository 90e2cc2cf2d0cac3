"""Allocation runs with their explanation, invoices and credit notes with their Excel file and
their Factur-X PDF (payments: :mod:`app.api.payments`)."""

from __future__ import annotations

import io
from typing import Any

from flask import send_file
from marshmallow import fields, validate
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from accounting.allocation.keys import describe_key_fr, parse_key
from accounting.allocation.models import AllocationLine, AllocationRun, RunStatus
from accounting.allocation.runs import line_share
from accounting.facturx.pdf import facturx_pdf
from accounting.invoicing.amounts import InvoiceKind, InvoiceStatus
from accounting.invoicing.models import Invoice
from accounting.org import Member, Service
from accounting.periods import Period, PeriodError, parse_period_code
from accounting.workbooks.invoice import invoice_bytes
from app.api import access
from app.api.paging import cursor_values, page
from app.api.problems import ApiProblem
from app.api.schemas import Blueprint, Money, PageQuerySchema, QueryId, StrictSchema, page_of
from app.database import get_db
from app.params import MAX_ID

blp = Blueprint(
    "api_money", __name__, url_prefix="/api/v1",
    description="Répartitions (avec l'explication de chaque centime), factures et avoirs "
    "(leur classeur Excel et leur PDF Factur-X), paiements. Les appels de fonds n'existent "
    "pas encore.",
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
#: A file's body in the document (a view returning a Response may give its schema as a dict):
#: without a schema flask-smorest would leave out the content type.
FILE = {"type": "string", "format": "binary"}
RUN_PATH = f"/allocation-runs/<int(min=1, max={MAX_ID}):run_id>"
INVOICE_PATH = f"/invoices/<int(min=1, max={MAX_ID}):invoice_id>"


# ---------------------------------------------------------------- allocation runs


class RunServiceSchema(StrictSchema):
    service_id = fields.Integer(required=True)
    service_code = fields.String(required=True)
    key = fields.String(required=True, metadata={"description": "La clé appliquée"})
    key_description = fields.String(required=True)
    costs = Money(required=True)
    subsidies = Money(required=True)
    overheads = Money(required=True)
    pool = Money(required=True, metadata={"description": "charges − subventions + structure"})


class RunSchema(StrictSchema):
    id = fields.Integer(required=True)
    period_code = fields.String(required=True)
    period_label = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in RunStatus]))
    total = Money(required=True)
    note = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    approved_at = fields.DateTime(allow_none=True, required=True)
    services = fields.List(fields.Nested(RunServiceSchema), required=True)


class RunLineSchema(StrictSchema):
    id = fields.Integer(required=True)
    service_id = fields.Integer(required=True)
    service_code = fields.String(required=True)
    member_id = fields.Integer(required=True)
    member_code = fields.String(required=True)
    amount = Money(required=True)
    exact = fields.String(required=True, metadata={"description": "Part exacte (fraction n/d)"})
    adjustment = Money(required=True, metadata={"description": "Centime du plus fort reste"})
    description = fields.String(required=True, metadata={"description": "L'explication en mots"})
    explanation = fields.Dict(
        required=True, metadata={"description": "Chaque part : base, total, %, montant exact"}
    )


class RunLineQuerySchema(PageQuerySchema):
    member_id = QueryId()
    service_id = QueryId()


RunPage = page_of(RunSchema, "RunPageSchema")
RunLinePage = page_of(RunLineSchema, "RunLinePageSchema")


def _runs() -> Select[Any]:
    query = select(AllocationRun).options(
        selectinload(AllocationRun.services), selectinload(AllocationRun.period)
    )
    if access.scope() is not None:  # a member accountant sees approved runs only (the page)
        query = query.where(AllocationRun.status == RunStatus.APPROVED)
    return query


def _run_dict(run: AllocationRun, codes: dict[int, str]) -> dict[str, Any]:
    return {
        "id": run.id, "period_code": run.period.code, "period_label": run.period.label,
        "status": run.status, "total": run.total, "note": run.note or "",
        "created_at": run.created_at, "approved_at": run.approved_at,
        "services": [
            {
                "service_id": s.service_id, "service_code": codes.get(s.service_id, ""),
                "key": s.key_text, "key_description": describe_key_fr(parse_key(s.key_text)),
                "costs": s.costs, "subsidies": s.subsidies, "overheads": s.overheads,
                "pool": s.pool,
            }
            for s in run.services
        ],
    }


def _service_codes() -> dict[int, str]:
    return dict(get_db().execute(select(Service.id, Service.code)).all())


@blp.route("/allocation-runs")
@access.allow(*access.RUN_READERS)
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, RunPage)
def runs(query: dict[str, Any]) -> dict[str, Any]:
    """Les répartitions enregistrées, les plus récentes d'abord (comptable d'adhérent : les
    approuvées seulement)."""
    stmt = _runs().order_by(AllocationRun.id.desc())
    if query.get("cursor"):
        (last,) = cursor_values(query["cursor"])
        stmt = stmt.where(AllocationRun.id < last)
    rows = list(get_db().scalars(stmt.limit(query["limit"] + 1)))
    codes = _service_codes()
    result = page(rows, query["limit"], lambda r: [r.id])
    result["items"] = [_run_dict(r, codes) for r in result["items"]]
    return result


def _run(run_id: int) -> AllocationRun:
    run = get_db().scalars(_runs().where(AllocationRun.id == run_id)).one_or_none()
    if run is None:
        raise ApiProblem(404, "Répartition introuvable.")
    return run


@blp.route(RUN_PATH)
@access.allow(*access.RUN_READERS)
@blp.response(200, RunSchema)
def run(run_id: int) -> dict[str, Any]:
    """Une répartition : ses services, leur clé et leur pot."""
    return _run_dict(_run(run_id), _service_codes())


@blp.route(RUN_PATH + "/lines")
@access.allow(*access.RUN_READERS)
@blp.arguments(RunLineQuerySchema, location="query")
@blp.response(200, RunLinePage)
def run_lines(query: dict[str, Any], run_id: int) -> dict[str, Any]:
    """Le montant de chaque adhérent par service, avec son explication (comptable d'adhérent :
    ses lignes seulement)."""
    allocation_run = _run(run_id)
    keys = {s.service_id: parse_key(s.key_text) for s in allocation_run.services}
    stmt = (
        select(AllocationLine, Member.code, Service.code)
        .join(Member, Member.id == AllocationLine.member_id)
        .join(Service, Service.id == AllocationLine.service_id)
        .where(AllocationLine.run_id == allocation_run.id)
        .order_by(AllocationLine.id)
    )
    stmt = access.scoped(stmt, AllocationLine.member_id)
    if query.get("member_id"):
        stmt = stmt.where(AllocationLine.member_id == query["member_id"])
    if query.get("service_id"):
        stmt = stmt.where(AllocationLine.service_id == query["service_id"])
    if query.get("cursor"):
        (last,) = cursor_values(query["cursor"])
        stmt = stmt.where(AllocationLine.id > last)
    rows = get_db().execute(stmt.limit(query["limit"] + 1)).all()
    result = page(rows, query["limit"], lambda r: [r[0].id])
    result["items"] = [
        {
            "id": line.id, "service_id": line.service_id, "service_code": service_code,
            "member_id": line.member_id, "member_code": member_code, "amount": line.amount,
            "exact": line.exact, "adjustment": line.adjustment,
            "description": describe_key_fr(keys[line.service_id], line_share(line)),
            "explanation": line.explanation,
        }
        for line, member_code, service_code in result["items"]
    ]
    return result


# ---------------------------------------------------------------- invoices and credit notes


class InvoiceLineSchema(StrictSchema):
    position = fields.Integer(required=True)
    service_id = fields.Integer(required=True)
    designation = fields.String(required=True)
    amount_excl_tax = Money(required=True)
    vat_regime = fields.String(required=True)
    vat_rate = fields.String(required=True, metadata={"description": "Taux en %"})
    vat_amount = Money(required=True)


class InvoiceSchema(StrictSchema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in InvoiceKind]))
    status = fields.String(required=True,
                           validate=validate.OneOf([s.value for s in InvoiceStatus]))
    number = fields.String(allow_none=True, required=True)
    member_id = fields.Integer(required=True)
    customer_code = fields.String(required=True)
    customer_name = fields.String(required=True)
    period_code = fields.String(required=True)
    issue_date = fields.Date(allow_none=True, required=True)
    due_date = fields.Date(allow_none=True, required=True)
    service_start = fields.Date(required=True)
    service_end = fields.Date(required=True)
    original_id = fields.Integer(allow_none=True, required=True,
                                 metadata={"description": "Avoir : la facture qu'il corrige"})
    reason = fields.String(required=True)
    total_excl_tax = Money(required=True)
    total_vat = Money(required=True)
    total_incl_tax = Money(required=True)
    amount_paid = Money(required=True)
    amount_credited = Money(required=True)
    outstanding = Money(required=True, metadata={"description": "Reste dû"})
    file_name = fields.String(required=True)
    lines = fields.List(fields.Nested(InvoiceLineSchema), required=True)


class InvoiceQuerySchema(PageQuerySchema):
    kind = fields.String(validate=validate.OneOf([k.value for k in InvoiceKind]))
    status = fields.String(validate=validate.OneOf([s.value for s in InvoiceStatus]))
    member_id = QueryId()
    period = fields.String(validate=validate.Length(max=20),
                           metadata={"description": "Période : 2026-03, 2026-T1 ou 2026"})


class CreditNoteQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf([s.value for s in InvoiceStatus]))
    member_id = QueryId()


InvoicePage = page_of(InvoiceSchema, "InvoicePageSchema")


def _visible_invoices() -> Select[Any]:
    stmt = select(Invoice).options(selectinload(Invoice.lines), selectinload(Invoice.period))
    if access.scope() is not None:  # a member accountant: their own, issued (the pages)
        stmt = stmt.where(Invoice.member_id == access.scope(),
                          Invoice.status != InvoiceStatus.DRAFT)
    return stmt


def _invoice_dict(invoice: Invoice) -> dict[str, Any]:
    names = ("id", "kind", "status", "number", "member_id", "customer_code", "customer_name",
             "issue_date", "due_date", "service_start", "service_end", "original_id",
             "total_excl_tax", "total_vat", "total_incl_tax", "amount_paid",
             "amount_credited", "outstanding", "file_name")
    data = {name: getattr(invoice, name) for name in names}
    data["reason"] = invoice.reason or ""
    data["period_code"] = invoice.period.code
    data["lines"] = [
        {"position": line.position, "service_id": line.service_id,
         "designation": line.designation, "amount_excl_tax": line.amount_excl_tax,
         "vat_regime": line.vat_regime, "vat_rate": f"{line.vat_rate:f}",
         "vat_amount": line.vat_amount}
        for line in invoice.lines
    ]
    return data


def _invoice_page(query: dict[str, Any], stmt: Select[Any]) -> dict[str, Any]:
    if query.get("status"):
        stmt = stmt.where(Invoice.status == query["status"])
    if query.get("member_id"):
        stmt = stmt.where(Invoice.member_id == query["member_id"])
    if query.get("cursor"):
        (last,) = cursor_values(query["cursor"])
        stmt = stmt.where(Invoice.id < last)
    rows = list(get_db().scalars(stmt.order_by(Invoice.id.desc()).limit(query["limit"] + 1)))
    result = page(rows, query["limit"], lambda i: [i.id])
    result["items"] = [_invoice_dict(i) for i in result["items"]]
    return result


@blp.route("/invoices")
@access.allow(*access.INVOICE_READERS)
@blp.arguments(InvoiceQuerySchema, location="query")
@blp.response(200, InvoicePage)
def invoices(query: dict[str, Any]) -> dict[str, Any]:
    """Les factures et les avoirs (même série de numéros), les plus récents d'abord."""
    stmt = _visible_invoices()
    if query.get("kind"):
        stmt = stmt.where(Invoice.kind == query["kind"])
    if query.get("period"):
        try:
            kind, start, _ = parse_period_code(query["period"].strip())
        except PeriodError as error:
            raise ApiProblem(422, str(error),
                             errors=[{"field": "period", "message": str(error)}]) from None
        stmt = stmt.join(Period, Period.id == Invoice.period_id).where(
            Period.kind == kind.value, Period.start == start)
    return _invoice_page(query, stmt)


@blp.route("/credit-notes")
@access.allow(*access.INVOICE_READERS)
@blp.arguments(CreditNoteQuerySchema, location="query")
@blp.response(200, InvoicePage)
def credit_notes(query: dict[str, Any]) -> dict[str, Any]:
    """Les avoirs seulement (chacun cite sa facture : original_id)."""
    stmt = _visible_invoices().where(Invoice.kind == InvoiceKind.CREDIT_NOTE)
    return _invoice_page(query, stmt)


def _invoice(invoice_id: int) -> Invoice:
    invoice = get_db().scalars(_visible_invoices().where(Invoice.id == invoice_id)).one_or_none()
    if invoice is None:
        raise ApiProblem(404, "Facture introuvable.")
    return invoice


def _issued(invoice_id: int) -> Invoice:
    """The visible invoice, when issued: a draft has no document yet (404)."""
    found = _invoice(invoice_id)
    if found.is_draft:
        raise ApiProblem(404, "Un brouillon n'a pas encore de document.")
    return found


@blp.route(INVOICE_PATH)
@access.allow(*access.INVOICE_READERS)
@blp.response(200, InvoiceSchema)
def invoice(invoice_id: int) -> dict[str, Any]:
    """Une facture ou un avoir, avec ses lignes."""
    return _invoice_dict(_invoice(invoice_id))


@blp.route(INVOICE_PATH + "/xlsx")
@access.allow(*access.INVOICE_READERS)
@blp.response(200, FILE, content_type=XLSX, description="Le classeur Excel du document émis")
def invoice_xlsx(invoice_id: int) -> Any:
    """Le document émis en classeur Excel (FACTURE-2026-0001.xlsx, AVOIR-…) ; un brouillon
    n'a pas de document (404)."""
    found = _issued(invoice_id)
    return send_file(io.BytesIO(invoice_bytes(found)), mimetype=XLSX, as_attachment=True,
                     download_name=found.file_name)


@blp.route(INVOICE_PATH + "/pdf")
@access.allow(*access.INVOICE_READERS)
@blp.response(200, FILE, content_type=PDF, description="Le PDF Factur-X du document émis")
def invoice_pdf(invoice_id: int) -> Any:
    """Le document émis en PDF Factur-X (PDF/A-3 avec son XML EN 16931 joint :
    FACTURE-2026-0001.pdf, AVOIR-…) ; un brouillon n'a pas de document (404)."""
    found = _issued(invoice_id)
    return send_file(io.BytesIO(facturx_pdf(found)), mimetype=PDF, as_attachment=True,
                     download_name=found.pdf_name)

