"""Fixtures of the API tests: the small cluster of ``tests.cluster_data`` (two members: the
member accountant's own and another), a token for each role, and a client that sends it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from accounting.org import Member, Role
from app.api.tokens import create_token
from tests.cluster_data import Cluster, build_cluster
from timesheets.models import WorkEntry


@dataclass
class ApiWorld:
    cluster: Cluster
    own: Member
    other: Member
    tokens: dict[Role, str]
    read_only: str

    def member(self, which: str) -> Member:
        return self.own if which == "own" else self.other


@pytest.fixture
def api_world(db: Session) -> ApiWorld:
    cluster = build_cluster(db, members=2)
    own, other = cluster.members
    assert cluster.users[Role.MEMBER_ACCOUNTANT].member_id == own.id
    tokens = {
        role: create_token(db, user, name=f"test {role.value}").secret
        for role, user in cluster.users.items()
    }
    read_only = create_token(
        db, cluster.users[Role.ADMIN], name="lecture", read_only=True
    ).secret
    # A draft of the member accountant's own, so that it has one to change and delete.
    db.add(WorkEntry(
        staff_id=cluster.users[Role.MEMBER_ACCOUNTANT].id, day=cluster.today, minutes=30,
        member_id=own.id, service_id=cluster.services["COMPTA"].id,
        created_by_id=cluster.users[Role.MEMBER_ACCOUNTANT].id,
    ))
    db.flush()
    return ApiWorld(cluster, own, other, tokens, read_only)


Call = Callable[..., TestResponse]


@pytest.fixture
def call(client: FlaskClient, api_world: ApiWorld) -> Call:
    """``call("GET", "/api/v1/members", Role.ADMIN, json=...)``: a request with that role's
    token (``token=`` another secret, or None for no Authorization header)."""

    def request(method: str, url: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        token = kwargs.pop("token", api_world.tokens[role] if role else None)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return client.open(url, method=method, headers=headers, **kwargs)

    return request
