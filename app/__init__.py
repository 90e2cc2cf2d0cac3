"""The Flask application: one factory, configuration passed in, blueprints per area.

Nothing here runs at import time: :func:`create_app` builds an app from the environment (or
the mapping it is given), so tests and the CLI create as many apps as they need.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

AREAS = (
    "auth",
    "main",
    "admin",
    "timesheets",
    "allocation",
    "invoices",
    "ledger",
    "delivery",
    "budgets",
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from app import access, database, formatting
    from app import config as app_config
    from app.nav import nav_html, visible_menu, visible_nav

    app = Flask(__name__, instance_path=str(app_config.instance_path()))
    app.config.from_mapping(app_config.from_environment() if not _complete(config) else {})
    if config:
        app.config.from_mapping(config)

    from importlib import import_module

    import_module("app.models")  # complete metadata before anything touches the database

    database.init_app(app)
    CSRFProtect(app)
    _init_login(app)
    access.init_app(app)
    formatting.init_app(app)

    for area in AREAS:
        module = import_module(f"app.{area}")
        app.register_blueprint(module.bp)

    app.jinja_env.globals["nav_items"] = visible_nav
    app.jinja_env.globals["nav_menu"] = visible_menu
    app.jinja_env.globals["nav_html"] = nav_html
    from app import security

    security.init_app(app)  # headers, login throttling, session expiry, proxy (after blueprints)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    _register_error_pages(app)
    from app import api

    api.init_app(app)  # the JSON API: last, it wraps the error pages for /api/ paths
    return app


def _complete(config: dict[str, Any] | None) -> bool:
    """Tests pass a full configuration and must not read the environment or instance/."""
    return bool(config) and "DATABASE_URL" in config and "SECRET_KEY" in config


def _init_login(app: Flask) -> None:
    from sqlalchemy import select

    from accounting.org import User
    from app import web_sessions
    from app.database import get_db

    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Connectez-vous pour accéder à cette page."
    manager.login_message_category = "info"
    manager.session_protection = "strong"

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        if not user_id.isdigit():
            return None
        known = web_sessions.session_user(int(user_id))
        if known is not None:
            return known
        return (
            get_db()
            .scalars(select(User).where(User.id == int(user_id), User.active.is_(True)))
            .one_or_none()
        )


def _register_error_pages(app: Flask) -> None:
    def page(code: int, title: str, message: str) -> Any:
        return render_template("errors/error.html", code=code, title=title, message=message), code

    app.register_error_handler(
        403, lambda e: page(403, "Accès refusé", "Vous n'avez pas accès à cette page.")
    )
    app.register_error_handler(
        404, lambda e: page(404, "Page introuvable", "Cette page n'existe pas ou plus.")
    )
    app.register_error_handler(
        405, lambda e: page(405, "Action impossible", "Cette action n'est pas permise ici.")
    )
    app.register_error_handler(
        413,
        lambda e: page(
            413, "Fichier trop volumineux", "Le fichier dépasse la taille maximale acceptée."
        ),
    )
    app.register_error_handler(
        CSRFError,
        lambda e: page(
            400,
            "Formulaire expiré",
            "Le formulaire a expiré ou n'est pas valide : rechargez la page et recommencez.",
        ),
    )
    app.register_error_handler(
        500,
        lambda e: page(500, "Erreur interne", "Une erreur est survenue ; rien n'a été enregistré."),
    )
