"""Property-based: schemathesis generates requests from the app's OpenAPI description (valid
and invalid input, with a caller whose role may use each route and, for person data, a declared
purpose and agreement) and no answer may be a 5xx; every error answer has the one error shape.

The schema is loaded when the module is collected (the OpenAPI description needs no store);
the store behind the app is a private copy of the session's world, set by a fixture. (The
lazy ``schemathesis.pytest.from_fixture`` loader does not work with this pytest.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from accord.api.app import create_app

from .helpers import BENEFITS, Api, Template, copy_api

APP = create_app(Path("not-yet-copied.duckdb"))
CONFIG = SchemathesisConfig.from_dict({
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    "generation": {"max-examples": 5},
})
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@pytest.fixture(scope="module")
def fuzz_api(api_template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    api = copy_api(api_template, tmp_path_factory.mktemp("api-fuzz"))
    APP.state.db = api.db
    yield api
    APP.state.db = Path("not-yet-copied.duckdb")


def _headers(api: Api, path: str) -> dict[str, str]:
    """A caller whose role may use the route (and, for person data, a purpose and agreement the
    gate accepts), so generated input reaches the services behind the gate."""
    if path.startswith(("/api/persons", "/api/tax-requests", "/api/worklists", "/api/findings")):
        return api.enforcement("casey")
    if path.startswith("/api/verifications"):
        return api.h("ana", purpose=BENEFITS, agreement=api.ben)
    if path.startswith(("/api/subject-reports", "/api/disputes", "/api/annotations", "/api/agreements")):
        return api.h("pat")
    if path.startswith("/api/users"):
        return api.h("admin")
    if path.startswith(("/api/audit", "/api/disclosures", "/api/quality")):
        return api.h("olive")
    return api.h("dana")


@schema.parametrize()
@hypothesis.settings(deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_no_generated_request_gets_a_server_error(case: Any, fuzz_api: Api) -> None:
    response = case.call(headers=_headers(fuzz_api, case.path))
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "reasons"}, body
