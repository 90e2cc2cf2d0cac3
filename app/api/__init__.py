"""The JSON API, version 1: ``/api/v1``, described by OpenAPI 3.1 at ``/api/v1/openapi.json``.

Built with flask-smorest (apispec + marshmallow + webargs): each endpoint declares its query,
body and response schemas once, and the same declarations validate the input, serialise the
output and write the OpenAPI document, so the document cannot drift from the code (the
schemathesis tests fuzz the API from it). Wiring, in :func:`init_app` (called last by
``create_app``):

- :mod:`app.api.auth`: Bearer tokens only (the session cookie is ignored), body size limit;
- :mod:`app.api.problems`: every error of an API path as an RFC 9457 problem document;
- :mod:`app.api.access`: the roles and member scope of the pages, in one place;
- the blueprints: :mod:`.reference` (me, members, services, keys), :mod:`.work` (work
  entries, bulk, Kimai's timesheets), :mod:`.money` (allocation runs, invoices, credit notes,
  payments), :mod:`.books` (ledger entries, trial balance);
- rate limits per token (Flask-Limiter, ``API_RATELIMIT``), CSRF exemption, the docs page.
"""

from __future__ import annotations

import http
from importlib import import_module
from typing import Any

from flask import Blueprint as FlaskBlueprint
from flask import Flask, render_template
from flask_smorest import Api as SmorestApi
from flask_smorest.utils import prepare_response

from app.access import public
from app.api.problems import MEDIA_TYPE

VERSION = "1.0.0"
PREFIX = "/api/v1"
AREAS = ("reference", "work", "kimai", "money", "payments", "books")

DESCRIPTION = """\
API JSON de Mutualise : temps des salariés mutualisés, répartition des coûts, factures et
avoirs, paiements, comptabilité.

**Authentification** : jeton d'accès personnel, créé et révoqué par chacun sur la page
« Jetons d'API » (`/compte/jetons`), envoyé en en-tête `Authorization: Bearer <jeton>`. Le
jeton donne exactement les droits de son utilisateur (mêmes rôles et même périmètre
d'adhérent que les pages : un comptable d'adhérent ne voit que son adhérent) ; un jeton en
lecture seule ne permet que GET. Le cookie de session du navigateur n'est jamais accepté.

**Conventions** : montants en chaînes à deux décimales (`"1234.50"`), durées en minutes
(sauf `POST /timesheets`, au format de Kimai : secondes), dates ISO 8601 (`2026-03-05`),
erreurs au format RFC 9457 (`application/problem+json`, en français, avec `errors` par champ
ou par ligne). Listes paginées par curseur : passez `cursor` = `next_cursor` de la page
précédente. Débit limité par jeton (429 au-delà). Chaque écriture est inscrite au journal
d'audit au nom de l'utilisateur du jeton.

**Pas encore disponibles** : les appels de fonds (ils n'existent pas encore dans
l'application).
"""


class Api(SmorestApi):
    """flask-smorest with problem documents: the errors are ours (:mod:`app.api.problems`)."""

    def _register_error_handlers(self) -> None:
        pass  # app.api.problems.install: problem documents for API paths only

    def _register_responses(self) -> None:
        from app.api.schemas import ProblemSchema

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = ProblemSchema
            prepare_response(response, self.spec, MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Erreur (RFC 9457, en français)", "schema": ProblemSchema}
        prepare_response(response, self.spec, MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


docs = FlaskBlueprint("api_docs_page", __name__, url_prefix=PREFIX)


@docs.route("/docs")
@public
def docs_page() -> Any:
    return render_template("api/docs.html")


def init_app(app: Flask) -> None:
    from app.api import auth, problems

    app.config.setdefault("API_TITLE", "Mutualise")
    app.config.setdefault("API_VERSION", VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_RATELIMIT", "600 per minute")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {"description": DESCRIPTION},
            "security": [{"bearerAuth": []}],
            "servers": [{"url": "/"}],
        },
    )
    api = Api(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Jeton personnel"}
    )
    spec_view = app.view_functions["api-docs.openapi_json"]  # a bound method: wrap it

    def openapi_json() -> Any:
        return spec_view()

    app.view_functions["api-docs.openapi_json"] = public(openapi_json)
    csrf = app.extensions.get("csrf")
    limiter = app.extensions.get("mutualise.limiter")
    for area in AREAS:
        blueprint = import_module(f"app.api.{area}").blp
        if limiter is not None:
            limiter.limit(lambda: app.config["API_RATELIMIT"], key_func=auth.rate_key)(blueprint)
        api.register_blueprint(blueprint)
        if csrf is not None:
            csrf.exempt(blueprint)
    app.register_blueprint(docs)
    from app.api import pages

    app.register_blueprint(pages.bp)
    auth.install(app)
    problems.install(app)
    app.extensions["mutualise.api"] = api
