"""The API's marshmallow schemas: they validate input, serialise output and write the OpenAPI
document. Conventions: money is a string with two decimals (:class:`Money`), durations are
whole minutes, dates ISO 8601, ids 32-bit positive integers; unknown fields are refused."""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app.params import MAX_ID

MONEY_PATTERN = r"^-?[0-9]{1,12}\.[0-9]{2}$"
MONEY_INPUT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
#: Largest page of a list.
MAX_LIMIT = 1000
#: Longest free text accepted (notes, descriptions, references).
MAX_TEXT = 2000


def Id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:
    """An id: a JSON integer in a body (``strict``), digits in a query string."""
    return fields.Integer(strict=strict, validate=validate.Range(1, MAX_ID), **kwargs)


def QueryId(**kwargs: Any) -> fields.Integer:
    return Id(strict=False, **kwargs)


def Text(max_length: int = MAX_TEXT, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


class Money(fields.Field):
    """A Decimal as a string with two decimals (« 1234.50 »), never a float."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "pattern": MONEY_PATTERN, "examples": ["1234.50"]}
        super().__init__(metadata={**metadata, **kwargs.pop("metadata", {})}, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return f"{Decimal(value).quantize(Decimal('0.01')):f}"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Decimal:
        if not isinstance(value, str):
            raise ma.ValidationError("Montant attendu en chaîne, par exemple « 1234.50 ».")
        import re

        if not re.fullmatch(MONEY_INPUT_PATTERN, value):
            raise ma.ValidationError(
                "Montant invalide : des chiffres, un point et au plus deux décimales "
                "(« 1234.50 »)."
            )
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern already refused it
            raise ma.ValidationError("Montant invalide.") from None


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class ProblemItemSchema(ma.Schema):
    row = fields.Integer(metadata={"description": "Ligne (à partir de 1) d'un envoi groupé"})
    field = fields.String(allow_none=True)
    message = fields.String(required=True)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, in French."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String()
    errors = fields.List(fields.Nested(ProblemItemSchema))


# ---------------------------------------------------------------- cursors


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, date) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, kinds: tuple[type, ...]) -> list[Any]:
    """The values of a cursor, typed by ``kinds`` (date or int); ValueError if mangled."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("cursor") from error
    if not isinstance(values, list) or len(values) != len(kinds):
        raise ValueError("cursor")
    typed: list[Any] = []
    for value, kind in zip(values, kinds, strict=True):
        if kind is date and isinstance(value, str):
            typed.append(date.fromisoformat(value))
        elif kind is int and type(value) is int and 0 < value <= MAX_ID:
            typed.append(value)
        else:
            raise ValueError("cursor")
    return typed


class PageQuerySchema(StrictSchema):
    limit = fields.Integer(
        load_default=100, validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": f"Nombre d'éléments par page (1 à {MAX_LIMIT})"},
    )
    cursor = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "Curseur de la page suivante (next_cursor de la précédente)"},
    )


class PageSchema(ma.Schema):
    next_cursor = fields.String(
        allow_none=True, required=True,
        metadata={"description": "À passer en cursor pour la page suivante ; null à la fin"},
    )


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page schema: ``{"items": [...], "next_cursor": ...}``."""
    return type(name, (PageSchema,), {"items": fields.List(fields.Nested(item_schema),
                                                           required=True)})


# ---------------------------------------------------------------- the blueprints' base

from flask_smorest import Blueprint as _SmorestBlueprint  # noqa: E402
from webargs.flaskparser import FlaskParser  # noqa: E402


class StrictParser(FlaskParser):
    """webargs ignores unknown query parameters by default: ours refuses them (422 naming the
    parameter), like unknown body fields: a mistyped filter is not silently ignored."""

    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {
        "json": None, "form": None, "json_or_form": None, "query": None, "path": None,
        "headers": ma.EXCLUDE, "cookies": ma.EXCLUDE, "files": ma.EXCLUDE,
    }


class Blueprint(_SmorestBlueprint):
    ARGUMENTS_PARSER = StrictParser()
