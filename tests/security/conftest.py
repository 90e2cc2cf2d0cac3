"""Fixtures of the security tests: apps built with other settings (rate limits on, production)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from app import create_app
from tests.foundation.test_access_matrix import world  # noqa: F401
from tests.invoices.conftest import billing, carrier, unapproved  # noqa: F401  (reused fixtures)
from tests.timesheets.conftest import cluster  # noqa: F401


@pytest.fixture
def make_app(database_url: str, connection: Connection) -> Callable[..., Flask]:
    """An app like the tests' one with ``overrides``, its sessions joined to the test's
    transaction (so the usual factories and rollback work)."""

    def make(**overrides: Any) -> Flask:
        config = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "MUTUALISE_ENV": "testing",
            "RATELIMIT_ENABLED": False,
        }
        config.update(overrides)
        app = create_app(config)
        app.extensions["mutualise.sessionmaker"] = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        return app

    return make
