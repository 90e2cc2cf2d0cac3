"""Work entries: list (filters, cursor), read, create, change and delete drafts, bulk create.

Every write goes through the timesheets use cases (``timesheets.services``,
``timesheets.batch``) with the token's user as the actor: the same rules as the pages (own
drafts only unless admin, member scope, open periods, 24 h a day), audited by the session hook.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, json
from marshmallow import fields, validate
from sqlalchemy import and_, or_, select

from accounting.org import Member, Service
from app.api import access
from app.api.paging import cursor_values
from app.api.problems import ApiProblem
from app.api.schemas import (
    Blueprint,
    Id,
    PageQuerySchema,
    QueryId,
    StrictSchema,
    Text,
    encode_cursor,
    page_of,
)
from app.database import get_db
from app.params import MAX_ID
from timesheets import services as ts
from timesheets.batch import MAX_ROWS, BatchRefused, BatchRow, create_entries
from timesheets.errors import (
    EntryInClosedPeriod,
    EntryLocked,
    EntryNotFound,
    InvalidEntry,
    NotAllowed,
    TimesheetError,
)
from timesheets.listing import EntryFilter, conditions
from timesheets.models import EntryStatus, WorkEntry

blp = Blueprint(
    "api_work", __name__, url_prefix="/api/v1",
    description="Temps : saisies de travail (brouillons modifiables par leur auteur), envois "
    "groupés tout ou rien, et l'envoi au format de Kimai.",
)

QUANTITY_PATTERN = r"^[0-9]{1,7}(\.[0-9]{1,3})?$"
ENTRY_PATH = f"/work-entries/<int(min=1, max={MAX_ID}):entry_id>"


class WorkEntrySchema(StrictSchema):
    id = fields.Integer(required=True)
    day = fields.Date(required=True)
    minutes = fields.Integer(required=True, metadata={"description": "Durée en minutes"})
    staff_id = fields.Integer(required=True)
    member_id = fields.Integer(
        allow_none=True, required=True, metadata={"description": "null : travail commun"}
    )
    member_code = fields.String(allow_none=True, required=True)
    service_id = fields.Integer(required=True)
    service_code = fields.String(required=True)
    activity_id = fields.Integer(allow_none=True, required=True)
    unit_type_id = fields.Integer(allow_none=True, required=True)
    quantity = fields.String(allow_none=True, required=True)
    note = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in EntryStatus]))


class SavedSchema(StrictSchema):
    entries = fields.List(fields.Nested(WorkEntrySchema), required=True)
    warnings = fields.List(fields.String(), required=True)


class EntryInputSchema(StrictSchema):
    day = fields.Date(required=True)
    service_id = Id(required=True)
    minutes = fields.Integer(
        strict=True, load_default=0, validate=validate.Range(0, ts.DAY_LIMIT_MINUTES),
        metadata={"description": "Durée en minutes (0 pour une saisie d'unités seule)"},
    )
    member_id = Id(allow_none=True, load_default=None,
                   metadata={"description": "null ou absent : travail commun"})
    activity_id = Id(allow_none=True, load_default=None)
    unit_type_id = Id(allow_none=True, load_default=None)
    quantity = fields.String(
        allow_none=True, load_default=None, validate=validate.Regexp(QUANTITY_PATTERN),
        metadata={"description": "Quantité d'unités d'œuvre (au plus 3 décimales)"},
    )
    note = Text(load_default="")
    staff_id = Id(allow_none=True, load_default=None,
                  metadata={"description": "Intervenant (coordination seulement) ; "
                                           "absent : l'utilisateur du jeton"})


class EntryPatchSchema(StrictSchema):
    day = fields.Date()
    service_id = Id()
    minutes = fields.Integer(strict=True, validate=validate.Range(0, ts.DAY_LIMIT_MINUTES))
    member_id = Id(allow_none=True)
    activity_id = Id(allow_none=True)
    unit_type_id = Id(allow_none=True)
    quantity = fields.String(allow_none=True, validate=validate.Regexp(QUANTITY_PATTERN))
    note = Text()


class BulkSchema(StrictSchema):
    entries = fields.List(
        fields.Nested(EntryInputSchema), required=True,
        validate=validate.Length(1, MAX_ROWS),
        metadata={"description": f"1 à {MAX_ROWS} saisies, enregistrées toutes ou aucune"},
    )


class EntryQuerySchema(PageQuerySchema):
    start = fields.Date(metadata={"description": "Depuis ce jour (inclus)"})
    end = fields.Date(metadata={"description": "Jusqu'à ce jour (inclus)"})
    member_id = QueryId()
    common = fields.Boolean(metadata={"description": "true : le travail commun seulement"})
    staff_id = QueryId()
    service_id = QueryId()
    activity_id = QueryId()
    status = fields.String(validate=validate.OneOf([s.value for s in EntryStatus]))


WorkEntryPage = page_of(WorkEntrySchema, "WorkEntryPageSchema")

# ---------------------------------------------------------------- reading

_COLUMNS = (
    WorkEntry.id, WorkEntry.day, WorkEntry.minutes, WorkEntry.staff_id, WorkEntry.member_id,
    Member.code, WorkEntry.service_id, Service.code, WorkEntry.activity_id,
    WorkEntry.unit_type_id, WorkEntry.quantity, WorkEntry.note, WorkEntry.status,
)
_KEYS = ("id", "day", "minutes", "staff_id", "member_id", "member_code", "service_id",
         "service_code", "activity_id", "unit_type_id", "quantity", "note", "status")


def _select() -> Any:
    return (
        select(*_COLUMNS)
        .select_from(WorkEntry)
        .join(Service, Service.id == WorkEntry.service_id)
        .outerjoin(Member, Member.id == WorkEntry.member_id)
    )


def _row(values: Any, *, iso: bool = True) -> dict[str, Any]:
    row = dict(zip(_KEYS, values, strict=True))
    if iso:
        row["day"] = row["day"].isoformat()
    quantity = row["quantity"]
    row["quantity"] = None if quantity is None else f"{quantity.normalize():f}"
    return row


def _entry_rows(ids: list[int]) -> list[dict[str, Any]]:
    found = get_db().execute(_select().where(WorkEntry.id.in_(ids)))
    rows = {r[0]: _row(r, iso=False) for r in found}
    return [rows[i] for i in ids]


@blp.route("/work-entries")
@access.allow(*access.WORK_READERS)
@blp.arguments(EntryQuerySchema, location="query")
@blp.response(200, WorkEntryPage)
def list_entries(query: dict[str, Any]) -> Response:
    """Les saisies visibles, les plus récentes d'abord (jour puis id décroissants)."""
    member: int | str | None = "common" if query.get("common") else query.get("member_id")
    entry_filter = EntryFilter(
        start=query.get("start"), end=query.get("end"), staff_id=query.get("staff_id"),
        member=member, service_id=query.get("service_id"),
        activity_id=query.get("activity_id"), status=query.get("status"),
    )
    where = conditions(access.user(), entry_filter)
    if query.get("cursor"):
        day, last = cursor_values(query["cursor"], (date, int))
        # "day <= d" first: a range the day index serves (the OR alone made SQLite scan).
        where.append(WorkEntry.day <= day)
        where.append(or_(WorkEntry.day < day, WorkEntry.id < last))
    limit = query["limit"]
    rows = [
        _row(values)
        for values in get_db().execute(
            _select().where(and_(True, *where))
            .order_by(WorkEntry.day.desc(), WorkEntry.id.desc()).limit(limit + 1)
        )
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor([rows[-1]["day"], rows[-1]["id"]]) if more else None
    # Written here rather than by the schema: the same document, 1 000 rows in a few ms.
    body = json.dumps({"items": rows, "next_cursor": cursor}, ensure_ascii=False)
    return Response(body, mimetype="application/json")


@blp.route(ENTRY_PATH)
@access.allow(*access.WORK_READERS)
@blp.response(200, WorkEntrySchema)
def get_entry(entry_id: int) -> dict[str, Any]:
    """Une saisie (404 hors du périmètre de l'utilisateur)."""
    with refusals():
        entry = ts.get_entry(get_db(), access.user(), entry_id)
    return _entry_rows([entry.id])[0]


# ---------------------------------------------------------------- writing


class refusals:
    """The timesheets domain's refusals as problem documents (nothing is committed)."""

    STATUS = ((EntryNotFound, 404), (NotAllowed, 403), (EntryLocked, 409),
              (EntryInClosedPeriod, 409), (InvalidEntry, 422), (TimesheetError, 422))

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, tb: Any) -> bool:
        if error is None or not isinstance(error, TimesheetError):
            return False
        get_db().rollback()
        if isinstance(error, BatchRefused):
            raise ApiProblem(422, str(error), errors=[
                {"row": row, "field": None, "message": message} for row, message in error.errors
            ]) from None
        status = next(code for cls, code in self.STATUS if isinstance(error, cls))
        raise ApiProblem(status, str(error)) from None


def _data(values: dict[str, Any]) -> ts.EntryData:
    quantity = values.get("quantity")
    return ts.EntryData(
        day=values["day"], service_id=values["service_id"], minutes=values.get("minutes", 0),
        member_id=values.get("member_id"), activity_id=values.get("activity_id"),
        unit_type_id=values.get("unit_type_id"),
        quantity=None if quantity is None else Decimal(quantity), note=values.get("note", ""),
    )


def _saved(saved: ts.Saved) -> dict[str, Any]:
    get_db().commit()
    return {"entries": _entry_rows([e.id for e in saved.entries]), "warnings": saved.warnings}


@blp.route("/work-entries", methods=["POST"])
@access.allow(*access.WORK_LOGGERS)
@blp.arguments(EntryInputSchema)
@blp.response(201, SavedSchema)
def create_entry(body: dict[str, Any]) -> dict[str, Any]:
    """Enregistre une saisie (brouillon) ; les avertissements (plus de 12 h) sont rendus."""
    with refusals():
        saved = ts.create_entry(get_db(), access.user(), _data(body), staff_id=body["staff_id"])
    return _saved(saved)


@blp.route(ENTRY_PATH, methods=["PATCH"])
@access.allow(*access.WORK_LOGGERS)
@blp.arguments(EntryPatchSchema)
@blp.response(200, SavedSchema)
def update_entry(body: dict[str, Any], entry_id: int) -> dict[str, Any]:
    """Modifie un brouillon : les champs absents gardent leur valeur."""
    db = get_db()
    with refusals():
        entry = ts.get_entry(db, access.user(), entry_id)
        current = {
            "day": entry.day, "service_id": entry.service_id, "minutes": entry.minutes,
            "member_id": entry.member_id, "activity_id": entry.activity_id,
            "unit_type_id": entry.unit_type_id, "note": entry.note,
            "quantity": None if entry.quantity is None else str(entry.quantity),
        }
        saved = ts.update_entry(db, access.user(), entry_id, _data({**current, **body}))
    return _saved(saved)


@blp.route(ENTRY_PATH, methods=["DELETE"])
@access.allow(*access.WORK_LOGGERS)
@blp.response(204)
def delete_entry(entry_id: int) -> None:
    """Supprime un brouillon de l'utilisateur (la coordination : de quiconque)."""
    with refusals():
        ts.delete_entry(get_db(), access.user(), entry_id)
    get_db().commit()


@blp.route("/work-entries/bulk", methods=["POST"])
@access.allow(*access.WORK_LOGGERS)
@blp.arguments(BulkSchema)
@blp.response(201, SavedSchema)
def bulk_create(body: dict[str, Any]) -> dict[str, Any]:
    """Enregistre toutes les saisies ou aucune : chaque ligne refusée est nommée (row, à
    partir de 1) dans ``errors``, comme à l'import de fichier."""
    rows = [BatchRow(_data(item), item["staff_id"]) for item in body["entries"]]
    with refusals():
        saved = create_entries(get_db(), access.user(), rows)
    return _saved(saved)

