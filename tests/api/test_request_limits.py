"""What the server does before any route runs: the bearer token of an API route is checked
before its body is read (an anonymous caller gets 401 whatever it sends), bodies over the size
limit are refused (413, in the API's error shape or as a page) by their Content-Length or as they
stream in, every answer but the static assets is `Cache-Control: no-store`, and `/docs` loads
nothing from another host."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accord import services
from accord.api.app import MAX_BODY, MAX_BODY_SETTING, create_app, max_body_setting
from accord.errors import AccordError

LIMIT = 4096


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    db = tmp_path_factory.mktemp("api-limits") / "s.duckdb"
    result = services.init(db, samples=True, tokens=True)
    return db, result.tokens


@pytest.fixture(scope="module")
def app(store: tuple[Path, dict[str, str]]) -> FastAPI:
    return create_app(store[0], max_body=LIMIT)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "reasons"}, body
    assert body["error"]["code"] == code
    return body["error"]


def _call(app: FastAPI, method: str, path: str, headers: dict[str, str],
          chunks: list[bytes]) -> tuple[int, dict[str, str], bytes, int]:
    """One request straight through ASGI: (status, headers, body, body chunks the app read)."""
    sent = list(chunks)
    read = 0
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal read
        if not sent:
            return {"type": "http.disconnect"}
        read += 1
        body = sent.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(sent)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("198.51.100.1", 1234), "server": ("testserver", 80), "state": {}}
    asyncio.run(app(scope, receive, send))
    return out["status"], out["headers"], out["body"], read


def test_an_anonymous_post_is_refused_before_its_body_is_read(app: FastAPI) -> None:
    big = [b"x" * 1024] * 100
    status, headers, body, read = _call(app, "POST", "/api/disputes",
                                        {"content-type": "application/json"}, big)
    assert (status, read) == (401, 0)
    assert json.loads(body)["error"]["code"] == "unauthenticated" and headers["www-authenticate"] == "Bearer"
    status, _, body, read = _call(app, "POST", "/api/disputes",
                                  {"content-type": "application/json", "content-length": str(150 * 2**20),
                                   "authorization": "Bearer acc_forged"}, [b"{"])
    assert (status, read) == (401, 0)


def test_an_anonymous_malformed_body_gets_401_not_422(client: TestClient) -> None:
    r = client.post("/api/disputes", content=b"{not json", headers={"content-type": "application/json"})
    _error(r, 401, "unauthenticated")
    r = client.post("/api/users", json={"unknown": ["x"] * 10})
    _error(r, 401, "unauthenticated")


def test_with_a_token_a_body_over_the_limit_is_refused_by_its_length(
        client: TestClient, app: FastAPI, store: tuple[Path, dict[str, str]]) -> None:
    auth = {"Authorization": f"Bearer {store[1]['pat']}"}
    r = client.post("/api/disputes", content=b"x" * (LIMIT + 1),
                    headers={**auth, "content-type": "application/json"})
    error = _error(r, 413, "too_large")
    assert f"{LIMIT:,} bytes" in error["message"] and r.headers["cache-control"] == "no-store"
    status, _, _, read = _call(app, "POST", "/api/disputes",
                               {"authorization": auth["Authorization"], "content-type": "application/json",
                                "content-length": str(150 * 2**20)}, [b"{"])
    assert (status, read) == (413, 0)
    # at the limit the body reaches the route (which then finds it malformed)
    r = client.post("/api/disputes", content=b"x" * LIMIT,
                    headers={**auth, "content-type": "application/json"})
    _error(r, 422, "invalid_request")


def test_a_streamed_body_is_refused_once_it_passes_the_limit(app: FastAPI,
                                                             store: tuple[Path, dict[str, str]]) -> None:
    chunks = [b"x" * 1024] * 50            # no Content-Length: counted as it arrives
    status, headers, body, read = _call(app, "POST", "/api/disputes",
                                        {"authorization": f"Bearer {store[1]['pat']}",
                                         "content-type": "application/json"}, chunks)
    assert status == 413 and json.loads(body)["error"]["code"] == "too_large"
    assert read == LIMIT // 1024 + 1 < 50
    assert headers["cache-control"] == "no-store"
    # the UI's forms are limited too, and answered with a page
    status, headers, body, read = _call(app, "POST", "/login",
                                        {"content-type": "application/x-www-form-urlencoded"}, chunks)
    assert status == 413 and headers["content-type"].startswith("text/html") and read < 50
    assert b"larger than the limit" in body


def test_a_ui_form_over_the_limit_gets_a_page(client: TestClient) -> None:
    r = client.post("/login", data={"user_id": "x" * (LIMIT + 10), "token": "t"})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert "Too large" in r.text and r.headers["cache-control"] == "no-store"


def test_the_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_BODY_SETTING, raising=False)
    assert max_body_setting() == MAX_BODY == 1024 * 1024
    monkeypatch.setenv(MAX_BODY_SETTING, "2048")
    assert max_body_setting() == 2048
    monkeypatch.setenv(MAX_BODY_SETTING, "lots")
    with pytest.raises(AccordError):
        max_body_setting()


def test_every_answer_but_the_static_assets_is_no_store(client: TestClient,
                                                        store: tuple[Path, dict[str, str]]) -> None:
    auth = {"Authorization": f"Bearer {store[1]['admin']}"}
    for r in (client.get("/api/health"), client.get("/api/users", headers=auth), client.get("/api/users"),
              client.get("/api/nowhere"), client.get("/openapi.json"), client.get("/docs"),
              client.get("/login"), client.get("/search", follow_redirects=False)):
        assert r.headers.get("cache-control") == "no-store", (r.request.url, r.headers)
    r = client.get("/static/accord.css")
    assert r.status_code == 200 and r.headers.get("cache-control") != "no-store"


def test_the_docs_page_loads_nothing_from_another_host(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", r.text, re.I), r.text
    refs = re.findall(r'(?:src|href)="([^"]*)"', r.text)
    vendored = "/static/vendor/swagger-ui"
    assert {f"{vendored}/swagger-ui-bundle.js", f"{vendored}/swagger-ui.css"} <= set(refs)
    for ref in refs:
        if ref.startswith("/"):
            assert client.get(ref).status_code == 200, ref
    assert "connect-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/redoc").status_code == 404
