"""The HTTP API: bearer tokens, purpose and agreement headers, refusals with reasons, one error
shape, bounded pages; the same gate and audit as the CLI."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from accord import services
from accord.api.app import create_app
from accord.store import Store
from worlds import World, resolved_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("api"), persons=1500, seed=4)


@pytest.fixture(scope="module")
def tokens(world: World) -> dict[str, str]:
    return {
        u: services.issue_token(world.db, u, user="admin") for u in ("casey", "ana", "pat", "olive", "dana")
    }


@pytest.fixture(scope="module")
def client(world: World) -> TestClient:
    return TestClient(create_app(world.db))


def _enf(world: World) -> str:
    rows = services.agreements(world.db, user="olive")
    return next(a["id"] for a in rows if a["purpose"] == "removal_order_enforcement")


def _h(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **{f"X-Accord-{k.title()}": v for k, v in headers.items()}}


def _error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()["error"]
    assert body["code"] == code and body["message"]
    return body


def test_health_needs_nothing_and_shows_nothing(client: TestClient) -> None:
    assert client.get("/api/health").json()["status"] == "ok"


ROUTES = [
    ("GET", "/api/persons?name=Ana%20Ruiz&dob=1980-01-01"),
    ("GET", "/api/persons/P000000001"),
    ("POST", "/api/verifications"),
    ("GET", "/api/worklists/{enf}"),
    ("GET", "/api/subject-reports/P000000001"),
    ("GET", "/api/agreements"),
    ("GET", "/api/audit/verification"),
    ("GET", "/api/audit/events"),
    ("GET", "/api/disclosures"),
    ("GET", "/api/batches"),
]
BODY = {"name": "Ana Ruiz", "dob": "1980-01-01", "a_number": "123456789"}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_refuses_anonymous_and_bad_tokens(
    client: TestClient, world: World, method: str, path: str
) -> None:
    url = path.format(enf=_enf(world))
    _error(client.request(method, url, json=BODY), 401, "unauthenticated")
    _error(client.request(method, url, json=BODY, headers=_h("acc_forged")), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("method", "path", "user"),
    [
        ("GET", "/api/persons?name=Ana%20Ruiz&dob=1980-01-01", "dana"),  # engineers read no persons
        ("GET", "/api/persons/P000000001", "olive"),  # oversight reads no persons
        ("POST", "/api/verifications", "pat"),
        ("GET", "/api/worklists/{enf}", "ana"),  # analysts do no enforcement
        ("GET", "/api/subject-reports/P000000001", "casey"),
        ("GET", "/api/audit/verification", "casey"),
        ("GET", "/api/audit/events", "ana"),
        ("GET", "/api/disclosures", "dana"),
        ("GET", "/api/batches", "casey"),
    ],
)
def test_every_route_refuses_the_wrong_role_with_reasons(
    client: TestClient, world: World, tokens: dict[str, str], method: str, path: str, user: str
) -> None:
    r = client.request(method, path.format(enf=_enf(world)), json=BODY, headers=_h(tokens[user]))
    body = _error(r, 403, "refused")
    assert body["reasons"]


def test_person_data_needs_purpose_and_agreement_and_is_audited(
    client: TestClient, world: World, tokens: dict[str, str]
) -> None:
    enf = _enf(world)
    wl = client.get(f"/api/worklists/{enf}?limit=2", headers=_h(tokens["casey"]))
    assert wl.status_code == 200, wl.text
    entries = wl.json()["entries"]
    assert len(entries) <= 2 and set(wl.json()) >= {"entries", "excluded"}
    pid = entries[0]["person_id"]
    body = _error(client.get(f"/api/persons/{pid}", headers=_h(tokens["casey"])), 403, "refused")
    assert any("purpose" in r for r in body["reasons"])
    body = _error(
        client.get(f"/api/persons/{pid}", headers=_h(tokens["casey"], purpose="removal_order_enforcement")),
        403,
        "refused",
    )
    assert any("agreement" in r for r in body["reasons"])
    ok = client.get(
        f"/api/persons/{pid}", headers=_h(tokens["casey"], purpose="removal_order_enforcement", agreement=enf)
    )
    assert ok.status_code == 200 and ok.json()["person"]["person_id"] == pid
    with Store(world.db) as store:
        origin = store.scalar("SELECT origin FROM audit_events WHERE seq = ?", [ok.json()["audit_event"]])
    assert origin == "api"
    missing = client.get(
        "/api/persons/P999999999",
        headers=_h(tokens["casey"], purpose="removal_order_enforcement", agreement=enf),
    )
    _error(missing, 404, "not_found")


def test_pages_are_bounded_and_bad_input_gets_the_error_shape(
    client: TestClient, world: World, tokens: dict[str, str]
) -> None:
    _error(
        client.get(f"/api/worklists/{_enf(world)}?limit=100000", headers=_h(tokens["casey"])),
        422,
        "invalid_request",
    )
    _error(
        client.post("/api/verifications", json={"name": "x", "dob": "yesterday"}, headers=_h(tokens["ana"])),
        422,
        "invalid_request",
    )


def test_openapi_lists_every_route(client: TestClient) -> None:
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {p.split("?")[0].replace("{enf}", "{agreement_id}") for _, p in ROUTES} - {
        "/api/persons/P000000001",
        "/api/subject-reports/P000000001",
    } <= paths
    assert "/api/persons/{person_id}" in paths and "/api/subject-reports/{person_id}" in paths
