"""Browser journeys: the real app served on 127.0.0.1, driven by Playwright in Debian's chromium.

Design:

- **A live server per test** (:func:`live_server`): a fresh database (``fresh_db_url``: a new
  SQLite file, or a new PostgreSQL database when ``DATABASE_URL`` names one), the schema made by
  the Alembic chain (``app.migrate.upgrade``, the production path), the demo cluster loaded by
  ``mutualise demo`` when that command exists, and the app served by Werkzeug's ``make_server``
  in a thread. The CSRF protection, the security headers and the CSP stay on: the browser sees
  what a user sees. Only the login rate limit is off (journeys log in many times).
- **One chromium per session** (:func:`browser`), launched from ``/usr/bin/chromium`` by
  ``executable_path`` (nothing is ever downloaded: never ``playwright install``); a new context
  per test (:func:`page`, 1280×800, French locale, downloads accepted). A test without chromium
  skips with the reason, except under ``CI=true`` where it fails (``require_tool``).
- **No silent JavaScript error**: the :func:`page` fixture records uncaught exceptions and
  console errors (a CSP refusal is one) and fails the test that produced them.
- **Evidence**: every journey ends with :func:`screenshot` of its last screen into the test's
  ``output_dir``.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from accounting.org import Member, Role, User
from tests.conftest import IN_CI, TEST_PASSWORD, require_tool

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}

#: Console messages that are not faults of the page: the browser's own note about an HTTP error
#: status (a 403/404 a journey asks for on purpose), and a request cut when the test's server
#: stops before the tab closes.
_BENIGN_CONSOLE = re.compile(
    r"^Failed to load resource: (the server responded with a status of"
    r"|net::ERR_(SOCKET_NOT_CONNECTED|CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE))"
)


def _playwright() -> Any:
    try:
        from playwright import sync_api
    except ImportError:  # pragma: no cover - it is in the test extras
        if IN_CI:
            pytest.fail("the playwright package is missing, and CI=true requires it")
        pytest.skip("the playwright package is not installed")
    return sync_api


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (skips without it, fails without it in CI)."""
    executable = require_tool("chromium")
    sync_api = _playwright()
    playwright = sync_api.sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


# ------------------------------------------------------------------ the live server


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without the access log (pytest shows the failures that matter)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class LiveServer:
    """The app served on 127.0.0.1 on a database of its own."""

    app: Flask
    database_url: str
    demo_loaded: bool
    server: BaseWSGIServer | None = None
    thread: threading.Thread | None = None
    users: dict[str, User] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def url_for(self, endpoint: str, **values: Any) -> str:
        """The path of an endpoint (raises if the endpoint does not exist yet)."""
        with self.app.test_request_context():
            from flask import url_for

            return self.base_url + url_for(endpoint, **values)

    def has_endpoint(self, endpoint: str) -> bool:
        return endpoint in self.app.view_functions

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A database session on the served database, changes attributed to "test"."""
        factory = self.app.extensions["mutualise.sessionmaker"]
        db = factory()
        db.info["actor_label"] = "test"
        try:
            yield db
        finally:
            db.close()

    def create_user(
        self, *roles: Role, email: str | None = None, member_code: str | None = None,
        name: str | None = None,
    ) -> User:
        """A user with the test password (committed, so the server sees it)."""
        email = email or f"{'-'.join(r.value for r in roles)}@navigateur.test"
        with self.session() as db:
            member_id = None
            if member_code is not None:
                member_id = db.scalars(select(Member.id).where(Member.code == member_code)).one()
            user = User(email=email, name=name or email.split("@")[0], member_id=member_id)
            user.role_set = set(roles)
            user.set_password(TEST_PASSWORD)
            db.add(user)
            db.commit()
            self.users[email] = user
            return user

    def start(self) -> None:
        self.server = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=10)
        engine = self.app.extensions.get("mutualise.engine")
        if engine is not None:
            engine.dispose()


def live_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    """The production configuration path (``from_environment``) on the given database."""
    from app import config as app_config

    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "browser-tests-secret-key-0123456789abcdef",
        "MUTUALISE_ENV": "testing",
    }
    with mock.patch.dict(os.environ, env):
        config = app_config.from_environment()
    config.update({"RATELIMIT_ENABLED": False, "TESTING": False}, **overrides)
    return config


def load_demo(app: Flask) -> bool:
    """Run ``mutualise demo`` when the foundation area provides it; False when it does not."""
    from app.cli import cli

    if "demo" not in cli.commands:
        return False
    result = app.test_cli_runner().invoke(cli, ["demo"])
    if result.exit_code != 0:
        raise RuntimeError(f"mutualise demo failed:\n{result.output}\n{result.exception!r}")
    return True


def build_server(
    database_url: str, demo: bool = True, customise: Callable[[Flask], None] | None = None,
    **config: Any,
) -> LiveServer:
    """Migrate a fresh database, load the demo, build the app (not started yet)."""
    from app import create_app
    from app.migrate import upgrade

    upgrade(database_url)
    app = create_app(live_config(database_url, **config))
    if customise is not None:
        customise(app)
    demo_loaded = load_demo(app) if demo else False
    return LiveServer(app=app, database_url=database_url, demo_loaded=demo_loaded)


@pytest.fixture
def live_server(fresh_db_url: str) -> Iterator[LiveServer]:
    """The app with the demo cluster, served on 127.0.0.1 for this test only."""
    server = build_server(fresh_db_url)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def require_demo(live_server: LiveServer) -> LiveServer:
    if not live_server.demo_loaded:
        if IN_CI:
            pytest.fail("`mutualise demo` does not exist, and the journeys need the demo cluster")
        pytest.skip("the demo loader (`mutualise demo`) has not landed yet")
    return live_server


def require_endpoints(server: LiveServer, *endpoints: str) -> None:
    """Skip (fail in CI) a journey whose pages do not exist yet, naming them."""
    missing = [e for e in endpoints if not server.has_endpoint(e)]
    if missing:
        message = "pages not built yet: " + ", ".join(missing)
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


# ------------------------------------------------------------------ the page


@dataclass
class PageErrors:
    messages: list[str] = field(default_factory=list)

    def record_console(self, message: Any) -> None:
        if message.type == "error" and not _BENIGN_CONSOLE.match(message.text):
            self.messages.append(f"console: {message.text}")

    def record_exception(self, error: Any) -> None:
        self.messages.append(f"uncaught: {error}")


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Any, page_errors: PageErrors) -> Iterator[Any]:
    """A fresh browser tab (own cookies) at 1280×800; JavaScript errors fail the test."""
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.on("console", page_errors.record_console)
    tab.on("pageerror", page_errors.record_exception)
    yield tab
    context.close()
    assert not page_errors.messages, "JavaScript errors on the page:\n" + "\n".join(
        page_errors.messages
    )


def login(page: Any, server: LiveServer, email: str, password: str = TEST_PASSWORD) -> None:
    """Log in through the real form and land on the dashboard."""
    page.goto(server.url("/login"))
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/accueil"))


def demo_login(page: Any, server: LiveServer, role: Role) -> tuple[str, str]:
    """Log in as the demo user of ``role`` (the logins ``mutualise demo`` prints)."""
    from app.demo import DEMO_USERS

    user = next(u for u in DEMO_USERS if u.role is role)
    login(page, server, user.email, user.password)
    return user.email, user.password


def logout(page: Any) -> None:
    page.get_by_role("button", name="Déconnexion").click()
    page.wait_for_url(re.compile(r"/login"))


def nav_click(page: Any, name: str) -> None:
    """Follow the navigation link ``name``, opening its group (a ``<details>`` menu) first
    when it is in one, as a user does."""
    link = page.locator("#mainnav").get_by_role("link", name=name, exact=True)
    if not link.is_visible():  # in a closed group: hidden links are found by CSS, not by role
        anchor = page.locator(f"a:text-is({name!r})")
        page.locator("#mainnav details").filter(has=anchor).locator("summary").click()
    link.click()


def select_containing(select: Any, text: str) -> str:
    """Choose the first option of a <select> whose label contains ``text``; returns its label."""
    for option in select.locator("option").all():
        label = option.inner_text().strip()
        if text.lower() in label.lower():
            select.select_option(value=option.get_attribute("value"))
            return label
    raise AssertionError(f"no option containing {text!r}")


def screenshot(page: Any, output_dir: Path, name: str) -> Path:
    """A full-page PNG of what the user sees now, kept in the test's output folder."""
    path = output_dir / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def horizontal_overflow(page: Any) -> list[str]:
    """Elements wider than the viewport that are not inside a scrolling wrapper.

    A wide table inside ``.table-wrap`` scrolls on its own and is fine; anything else that
    sticks out of the window makes the whole page scroll sideways, which is the defect.
    """
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const out = [];
          if (document.documentElement.scrollWidth > width + 1) {
            out.push('document ' + document.documentElement.scrollWidth + 'px > ' + width + 'px');
          }
          for (const el of document.querySelectorAll('body *')) {
            if (el.closest('.table-wrap, .chart-canvas, dialog, .skip')) continue;
            const r = el.getBoundingClientRect();
            if (r.width && (r.right > width + 1 || r.left < -1)) {
              const cls = typeof el.className === 'string' && el.className.trim()
                ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
              out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls +
                ' ' + Math.round(r.left) + '..' + Math.round(r.right));
            }
          }
          return out.slice(0, 20);
        }"""
    )
