"""The whole API fuzzed from its own OpenAPI document by schemathesis (a third-party fuzzer):
every operation, with valid and invalid inputs generated from the document, as the admin and as
a member accountant. No answer may be a 500, and every answer must match the document: its
status code is documented, its content type is the declared one, its body validates against
the declared schema (problem documents included), and input the document forbids is refused
with a 4xx.

Depth: ``MUTUALISE_FUZZ_EXAMPLES`` examples per operation (20 in CI, as the other fuzz tests;
``make fuzz`` runs 320).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from accounting.org import Role
from tests.api.conftest import ApiWorld

EXAMPLES = int(os.environ.get("MUTUALISE_FUZZ_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def api_schema(app: Flask, api_world: ApiWorld) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


def _negates_our_token(case: schemathesis.Case) -> bool:
    """Whether the case's negation removes or mangles the Authorization header: the test sends
    the real token over it, so what reaches the app is no longer that negative case (counting
    it as "invalid data accepted" would be schemathesis' false positive, seen at 100 examples
    with an extra query parameter that serialises to nothing beside it)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    data = meta.phase.data
    mutations = getattr(data, "mutations", None) or ()
    names = {str(getattr(data, "parameter", "") or "").lower()}
    names |= {str(m.parameter or "").lower() for m in mutations
              if m.parameter_location.value == "header"}
    return "authorization" in names


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_its_openapi_document(case: schemathesis.Case, api_world: ApiWorld) -> None:
    checks = [c for c in CHECKS if c is not negative_data_rejection or not _negates_our_token(case)]
    for role in (Role.ADMIN, Role.MEMBER_ACCOUNTANT):
        token = api_world.tokens[role]
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)
