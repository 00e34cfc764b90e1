"""The HTTP API as a whole: bearer tokens on every route, one error shape everywhere (404, 405,
422, 500, 503 included), bounded pages, a complete OpenAPI description, no internal columns,
and the rule that the API opens no store and decides no policy."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.store import Store

from .helpers import Api, add_user, error, refused

SRC = Path(__file__).resolve().parents[2] / "src" / "accord"
PUBLIC = {("GET", "/api/health")}


def _operations(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return sorted((m.upper(), p) for p, ops in spec["paths"].items() for m in ops)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "1" if m.group(0) == "{contest_id}" else "X-1", path)


def test_health_needs_nothing_and_shows_nothing(api: Api) -> None:
    r = api.client.get("/api/health")
    assert r.status_code == 200 and set(r.json()) == {"status", "version"}


def test_every_route_but_health_refuses_anonymous_and_unknown_tokens(api: Api) -> None:
    operations = _operations(api.client)
    assert len(operations) >= 35
    for method, path in operations:
        if (method, path) in PUBLIC:
            continue
        url = _concrete(path)
        for headers in ({}, {"Authorization": "Bearer acc_forged"}, {"Authorization": "Basic YTpi"},
                        {"Authorization": "Bearer "}):
            r = api.client.request(method, url, json={}, headers=headers)
            body = error(r, 401, "unauthenticated")
            assert r.headers.get("www-authenticate") == "Bearer", (method, path)
            assert "acc_forged" not in body["message"]


def test_a_deactivated_users_token_stops_working(api: Api) -> None:
    add_user(api, {"user_id": "temp", "name": "Temp", "roles": ["analyst"],
                   "organisation": "State Benefits Agency"})     # approved by a second admin
    token = api.client.post("/api/users/temp/tokens", headers=api.h("admin")).json()["token"]
    ok = api.client.get("/api/agreements", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    with Store(api.db) as store:
        store.con.execute("UPDATE users SET active = false WHERE user_id = 'temp'")
    error(api.client.get("/api/agreements", headers={"Authorization": f"Bearer {token}"}), 401,
          "unauthenticated")


def test_refusals_are_audited_with_the_api_as_origin(api: Api) -> None:
    reasons = refused(api.client.get("/api/persons/P000000001", headers=api.h("olive")), "person.view")
    with Store(api.db) as store:
        row = store.query("SELECT user_id, action, decision, origin, reasons FROM audit_events "
                          "ORDER BY seq DESC LIMIT 1")[0]
    assert row[:4] == ("olive", "person.view", "deny", "api")
    assert reasons[0] in row[4]


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/api/no-such-route", 404, "not_found"),
    ("DELETE", "/api/health", 405, "method_not_allowed"),
    ("PUT", "/api/persons", 405, "method_not_allowed"),
])
def test_unknown_routes_and_methods_get_the_error_shape(api: Api, method: str, path: str, status: int,
                                                        code: str) -> None:
    error(api.client.request(method, path, headers=api.h("casey")), status, code)


def test_invalid_input_gets_the_error_shape_with_every_problem(api: Api) -> None:
    body = error(api.client.get(f"/api/worklists/{api.enf}?limit=100000&offset=-1", headers=api.h("casey")),
                 422, "invalid_request")
    assert len(body["reasons"]) == 2 and any("limit" in r for r in body["reasons"])
    body = error(api.client.post("/api/verifications", json={"name": "x", "dob": "yesterday"},
                                 headers=api.benefits()), 422, "invalid_request")
    assert "dob" in body["message"]
    body = error(api.client.post("/api/verifications", json={"name": "x", "dob": "1980-01-01", "nam": "y"},
                                 headers=api.benefits()), 422, "invalid_request")
    assert "nam" in body["message"]          # unknown keys are refused, not ignored
    error(api.client.post("/api/verifications", content=b"{not json", headers=api.benefits()), 422,
          "invalid_request")


def test_unexpected_failures_answer_500_without_internals_and_are_logged(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(api.db)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/accord/store.duckdb")

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="accord.api"):
        r = client.get("/api/boom")
    body = error(r, 500, "internal_error")
    assert "secret" not in r.text and "duckdb" not in r.text
    incident = re.search(r"incident ([0-9a-f]{12})", body["message"])
    assert incident and any(incident.group(1) in rec.getMessage() for rec in caplog.records)
    assert any("secret internals" in (rec.exc_text or "") for rec in caplog.records)


def test_a_missing_store_is_503_not_a_crash(tmp_path: Path) -> None:
    client = TestClient(create_app(tmp_path / "absent.duckdb"), raise_server_exceptions=False)
    r = client.get("/api/agreements", headers={"Authorization": "Bearer acc_x"})
    error(r, 503, "store_unavailable")
    assert str(tmp_path) not in r.text
    assert not (tmp_path / "absent.duckdb").exists()


def test_openapi_declares_models_errors_and_auth_for_every_operation(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    for path, ops in spec["paths"].items():
        assert path.startswith("/api/"), path
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            ok = next(v for k, v in op["responses"].items() if k.startswith("2"))
            schema = ok["content"]["application/json"]["schema"]
            assert "$ref" in schema, f"{where}: no public response model"
            assert op.get("summary") and op.get("description"), where
            if (method.upper(), path) in PUBLIC:
                continue
            assert op.get("security") == [{"token": []}], where
            for status in ("401", "403", "422"):
                assert op["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/ErrorOut"), f"{where} {status}"


def test_every_list_is_paged_and_bounded(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    lists = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            ref = next(v for k, v in op["responses"].items() if k.startswith("2"))["content"][
                "application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            props = schemas[ref].get("properties", {})
            if "items" in props or "entries" in props or "hits" in props:
                lists += 1
                params = {p["name"]: p["schema"] for p in op.get("parameters", [])}
                assert params["limit"]["maximum"] <= 100, f"{method} {path}"
                if "hits" not in props:   # ranked search: limit only (see docs/api.md)
                    assert "offset" in params, f"{method} {path}"
    assert lists >= 9


def test_responses_keep_internal_columns_out(api: Api) -> None:
    events = api.client.get("/api/audit/events?limit=5", headers=api.h("olive")).json()["items"]
    assert events and all("prev_hash" not in e for e in events)
    users = api.client.get("/api/users", headers=api.h("admin")).json()["items"]
    assert users and all(set(u) == {"user_id", "name", "roles", "organisation", "active", "pending_grants",
                                    "conflicts"} for u in users)
    assert "token" not in str(users).lower()


def test_the_api_opens_no_store_and_reads_no_tables() -> None:
    offenders = []
    for path in (SRC / "api").rglob("*.py"):
        text = path.read_text()
        if re.search(r"\bStore\(|duckdb|governed\(|\bGate\(|actor_for_token|SELECT\s", text):
            offenders.append(str(path))
    assert offenders == []
