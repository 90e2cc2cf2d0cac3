"""Errors of the JSON API as RFC 9457 problem details (``application/problem+json``), in French.

Every error that leaves ``/api/`` is one of these documents, whatever raised it: a refusal of
the domain (:class:`ApiProblem`), a validation error of webargs/marshmallow (422, with one
``errors`` item per field or row), an HTTP error of Flask or Werkzeug (401, 403, 404, 405,
413, 429...), a database refusal or an unexpected exception (500). The pages keep their HTML
error pages: :func:`install` wraps each handler the app already has and answers with a problem
document only for API paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, json, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Ressource introuvable",
    405: "Méthode non permise",
    406: "Format non disponible",
    409: "Conflit",
    413: "Requête trop volumineuse",
    415: "Type de contenu non pris en charge",
    422: "Données invalides",
    429: "Trop de requêtes",
    500: "Erreur interne",
    503: "Service indisponible",
}

DETAILS = {
    400: "La requête n'est pas valide.",
    401: "Un jeton d'accès valide est requis : en-tête « Authorization: Bearer <jeton> ».",
    403: "Vos droits ne permettent pas cette action.",
    404: "Cette ressource n'existe pas ou ne vous est pas accessible.",
    405: "Cette méthode n'est pas permise sur cette ressource.",
    409: "La base de données a refusé l'enregistrement (donnée en double ou incohérente) : "
    "rien n'a été enregistré.",
    413: "Le corps de la requête dépasse la taille maximale acceptée.",
    415: "Envoyez un corps JSON (Content-Type: application/json).",
    422: "Certaines données sont invalides : rien n'a été enregistré.",
    429: "Trop de requêtes avec ce jeton en peu de temps : patientez avant de réessayer.",
    500: "Une erreur est survenue ; rien n'a été enregistré.",
    503: "La base de données n'a pas pu répondre à temps : rien n'a été enregistré.",
}


class ApiProblem(Exception):
    """A refusal to answer as a problem document (``errors``: per field or row)."""

    def __init__(
        self, status: int, detail: str, *, errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem(
    status: int, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Erreur"),
        "status": status,
        "detail": detail or DETAILS.get(status, TITLES.get(status, "Erreur")),
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# ---------------------------------------------------------------- marshmallow's messages in French

_MESSAGES = {
    "Missing data for required field.": "Champ obligatoire manquant.",
    "Unknown field.": "Champ inconnu.",
    "Field may not be null.": "Ce champ ne peut pas être null.",
    "Not a valid integer.": "Nombre entier attendu.",
    "Not a valid string.": "Texte attendu.",
    "Not a valid boolean.": "Booléen attendu (true ou false).",
    "Not a valid date.": "Date attendue au format AAAA-MM-JJ.",
    "Not a valid datetime.": "Date et heure attendues au format ISO 8601 (AAAA-MM-JJTHH:MM:SS).",
    "Not a valid number.": "Nombre attendu.",
    "Not a valid naive datetime.": "Date et heure sans fuseau attendues (AAAA-MM-JJTHH:MM:SS).",
    "Not a valid list.": "Liste attendue.",
    "Not a valid mapping type.": "Objet JSON attendu.",
    "Invalid input type.": "Type de valeur invalide.",
    "Invalid input.": "Valeur invalide.",
    "Invalid value.": "Valeur invalide.",
    "String does not match expected pattern.": "Format de valeur invalide.",
    "Invalid JSON body.": "Le corps de la requête n'est pas un JSON valide.",
}
_RANGE = re.compile(r"Must be (greater|less) than (or equal to )?(\S+?)\.?$")
_BETWEEN = re.compile(r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.")
_ROW = re.compile(r"^entries\.(\d+)\.(.+)$")


def french(message: str) -> str:
    if message in _MESSAGES:
        return _MESSAGES[message]
    if match := _BETWEEN.match(message):
        return f"Valeur attendue entre {match[1]} et {match[2]}."
    if match := _RANGE.match(message):
        side = "supérieure" if match[1] == "greater" else "inférieure"
        return f"Valeur attendue {side} {'ou égale ' if match[2] else ''}à {match[3]}."
    if message.startswith("Must be one of:"):
        return "Valeur attendue parmi : " + message.removeprefix("Must be one of:").strip()
    if message.startswith(("Length must", "Shorter than", "Longer than")):
        return "Longueur invalide (" + message + ")."
    return message


def _flatten(messages: Any, path: str = "") -> list[dict[str, Any]]:
    """webargs' nested {location: {field: [messages]}} as a flat list of {field, message}."""
    items: list[dict[str, Any]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if path == "" and key in {"json", "query", "path", "form", "headers"}:
                items += _flatten(value, "")
                continue
            items += _flatten(value, f"{path}.{key}" if path else str(key))
    elif isinstance(messages, list | tuple):
        for message in messages:
            items += _flatten(message, path)
    else:
        item: dict[str, Any] = {"field": path or None, "message": french(str(messages))}
        if match := _ROW.match(path):  # a bulk item: its row (from 1) and its own field
            item = {"row": int(match[1]) + 1, "field": match[2], "message": item["message"]}
        items.append(item)
    return items


# ---------------------------------------------------------------- handlers


def _for_http(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="mutualise"')
    if status == 429:
        headers.setdefault("Retry-After", "60")
    if "messages" in data:  # webargs: the body or the query string did not validate
        errors = _flatten(data["messages"])
        if status == 400 and errors and errors[0]["message"] == _MESSAGES["Invalid JSON body."]:
            return problem(400, errors[0]["message"], headers=headers)
        return problem(status, None, errors=errors, headers=headers)
    detail = data.get("message")
    if detail is None and error.description and error.description != type(error).description:
        detail = error.description  # our French descriptions (app.params, abort(..., "…"))
    return problem(status, detail, headers=headers)


def _for_exception(error: BaseException) -> Response:
    if isinstance(error, ApiProblem):
        return problem(error.status, error.detail, errors=error.errors, headers=error.headers)
    if isinstance(error, HTTPException):
        original = getattr(error, "original_exception", None)
        if error.code == 500 and original is not None:
            return _for_exception(original)
        return _for_http(error)
    from app.database import get_db

    get_db().rollback()
    if isinstance(error, IntegrityError):
        return problem(409)
    if isinstance(error, DataError | OverflowError):
        return problem(422, "Une valeur est hors limites : rien n'a été enregistré.")
    if isinstance(error, OperationalError):
        return problem(503, headers={"Retry-After": "5"})
    current_app.logger.exception("API error on %s %s", request.method, request.path)
    return problem(500)


def _api_first(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def handle(error: Any) -> Any:
        if is_api_request():
            return _for_exception(error)
        return handler(error)

    handle.__wrapped__ = handler  # type: ignore[attr-defined]
    return handle


def _api_only(error: Exception) -> Any:
    if is_api_request():
        return _for_exception(error)
    if isinstance(error, HTTPException):
        return error  # the pages: Werkzeug's own answer, as before
    raise error


def install(app: Flask) -> None:
    """Answer every API error with a problem document (after the pages' handlers exist)."""
    for handlers in app.error_handler_spec[None].values():
        for cls, handler in list(handlers.items()):
            handlers[cls] = _api_first(handler)
    app.register_error_handler(ApiProblem, _for_exception)
    if HTTPException not in app.error_handler_spec[None].get(None, {}):
        app.register_error_handler(HTTPException, _api_only)
