"""Reference data: who am I, members, services (with activities and unit types), keys."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate
from sqlalchemy import select

from accounting.allocation.keys import describe_key_fr, parse_key
from accounting.allocation.models import AllocationKey
from accounting.org import Member, Service
from app.api import access
from app.api.paging import cursor_values, page
from app.api.problems import ApiProblem
from app.api.schemas import Blueprint, PageQuerySchema, QueryId, StrictSchema, page_of
from app.database import get_db
from app.params import MAX_ID
from timesheets.models import Activity, UnitType

blp = Blueprint(
    "api_reference", __name__, url_prefix="/api/v1",
    description="Référentiel : l'utilisateur du jeton, les adhérents, les services, les clés.",
)


class MeSchema(StrictSchema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    member_id = fields.Integer(allow_none=True, required=True)
    token_read_only = fields.Boolean(required=True)


class MemberSchema(StrictSchema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    legal_form = fields.String(required=True)
    joined_on = fields.Date(required=True)
    left_on = fields.Date(allow_none=True, required=True)


class NamedSchema(StrictSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    active = fields.Boolean(required=True)


class UnitTypeSchema(NamedSchema):
    weight = fields.String(required=True, metadata={"description": "Poids (décimal)"})


class ServiceSchema(StrictSchema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    active = fields.Boolean(required=True)
    overheads_by = fields.String(allow_none=True, required=True)
    activities = fields.List(fields.Nested(NamedSchema), required=True)
    unit_types = fields.List(fields.Nested(UnitTypeSchema), required=True)


class KeySchema(StrictSchema):
    id = fields.Integer(required=True)
    service_id = fields.Integer(required=True)
    service_code = fields.String(required=True)
    valid_from = fields.Date(required=True)
    text = fields.String(required=True)
    description = fields.String(required=True, metadata={"description": "La clé en mots"})
    agreed_on = fields.Date(allow_none=True, required=True)
    agreed_by = fields.String(required=True)


class MemberQuerySchema(PageQuerySchema):
    code = fields.String(validate=validate.Length(max=20))


class KeyQuerySchema(StrictSchema):
    service_id = QueryId()


MemberPage = page_of(MemberSchema, "MemberPageSchema")


@blp.route("/me")
@access.allow()
@blp.response(200, MeSchema)
def me() -> dict[str, Any]:
    """L'utilisateur du jeton, ses rôles et son adhérent."""
    from flask import g

    from app.api.tokens import ApiToken

    user = access.user()
    token = get_db().get(ApiToken, g.api_token_id)
    return {
        "id": user.id, "email": user.email, "name": user.name,
        "roles": sorted(role.value for role in user.role_set), "member_id": user.member_id,
        "token_read_only": bool(token and token.read_only),
    }


@blp.route("/members")
@access.allow(*access.EVERYONE)
@blp.arguments(MemberQuerySchema, location="query")
@blp.response(200, MemberPage)
def members(query: dict[str, Any]) -> dict[str, Any]:
    """Les adhérents visibles (un comptable d'adhérent : le sien), par id."""
    stmt = access.scoped(select(Member), Member.id).order_by(Member.id)
    if query.get("code"):
        stmt = stmt.where(Member.code == query["code"].strip().upper())
    if query.get("cursor"):
        (after,) = cursor_values(query["cursor"])
        stmt = stmt.where(Member.id > after)
    rows = list(get_db().scalars(stmt.limit(query["limit"] + 1)))
    return page(rows, query["limit"], lambda m: [m.id])


@blp.route(f"/members/<int(min=1, max={MAX_ID}):member_id>")
@access.allow(*access.EVERYONE)
@blp.response(200, MemberSchema)
def member(member_id: int) -> Member:
    """Un adhérent (404 hors du périmètre de l'utilisateur)."""
    found = get_db().get(Member, member_id)
    if found is None:
        raise ApiProblem(404, "Adhérent introuvable.")
    access.ensure(found.id)
    return found


def _service_dict(service: Service, activities: list[Activity], units: list[UnitType]) -> dict:
    return {
        "id": service.id, "code": service.code, "name": service.name, "active": service.active,
        "overheads_by": service.overheads_by,
        "activities": [{"id": a.id, "name": a.name, "active": a.active} for a in activities],
        "unit_types": [
            {"id": u.id, "name": u.name, "active": u.active, "weight": f"{u.weight.normalize():f}"}
            for u in units
        ],
    }


def _services(where: Any = None) -> list[dict[str, Any]]:
    db = get_db()
    stmt = select(Service).order_by(Service.code)
    if where is not None:
        stmt = stmt.where(where)
    services = list(db.scalars(stmt))
    ids = [s.id for s in services]
    activities = list(db.scalars(
        select(Activity).where(Activity.service_id.in_(ids)).order_by(Activity.name)))
    units = list(db.scalars(
        select(UnitType).where(UnitType.service_id.in_(ids)).order_by(UnitType.name)))
    return [
        _service_dict(
            s, [a for a in activities if a.service_id == s.id],
            [u for u in units if u.service_id == s.id],
        )
        for s in services
    ]


@blp.route("/services")
@access.allow(*access.EVERYONE)
@blp.response(200, ServiceSchema(many=True))
def services() -> list[dict[str, Any]]:
    """Les services mutualisés, avec leurs activités et unités d'œuvre."""
    return _services()


@blp.route(f"/services/<int(min=1, max={MAX_ID}):service_id>")
@access.allow(*access.EVERYONE)
@blp.response(200, ServiceSchema)
def service(service_id: int) -> dict[str, Any]:
    """Un service."""
    found = _services(Service.id == service_id)
    if not found:
        raise ApiProblem(404, "Service introuvable.")
    return found[0]


@blp.route("/keys")
@access.allow(*access.KEY_READERS)
@blp.arguments(KeyQuerySchema, location="query")
@blp.response(200, KeySchema(many=True))
def keys(query: dict[str, Any]) -> list[dict[str, Any]]:
    """Les clés de répartition de chaque service, chacune en vigueur à partir de sa date."""
    stmt = (
        select(AllocationKey, Service.code)
        .join(Service, Service.id == AllocationKey.service_id)
        .order_by(Service.code, AllocationKey.valid_from)
    )
    if query.get("service_id"):
        stmt = stmt.where(AllocationKey.service_id == query["service_id"])
    return [
        {
            "id": key.id, "service_id": key.service_id, "service_code": code,
            "valid_from": key.valid_from, "text": key.text,
            "description": describe_key_fr(parse_key(key.text)), "agreed_on": key.agreed_on,
            "agreed_by": key.agreed_by or "",
        }
        for key, code in get_db().execute(stmt)
    ]
