"""Signing in and out of the web UI: the session cookie's flags, form tokens on every POST,
refusals of forged or cross-site forms, session expiry, and safe redirects."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.governance.sessions import IDLE
from accord.store import Store

from .conftest import Client
from .ui_world import FORM_TOKEN, UiWorld, csrf_of, login

PAGES = ["/search", "/persons/P000000001", "/worklist", "/findings/F-000001", "/subjects", "/disputes",
         "/oversight", "/account"]


def _events(db: Path, action: str) -> list[tuple[str, str]]:
    with Store(db) as store:
        rows = store.query("SELECT user_id, decision FROM audit_events WHERE action = ? ORDER BY seq",
                           [action])
    return [(str(u), str(d)) for u, d in rows]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_visitor_without_a_session_to_sign_in(client_for: Client, path: str) -> None:
    r = client_for().get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    assert r.headers["cache-control"] == "no-store"


def test_sign_in_sets_a_strict_httponly_cookie_and_lands_on_the_users_first_page(
        client_for: Client, ui_world: UiWorld) -> None:
    client = client_for()
    page = client.get("/login")
    token = FORM_TOKEN.search(page.text)
    assert token and 'for="user_id"' in page.text and 'for="token"' in page.text
    r = client.post("/login", data={"user_id": "casey", "token": ui_world.tokens["casey"],
                                    "form_token": token.group(1), "next": "/worklist"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/worklist"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("accord_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags            # plain http (tests); over https the cookie is Secure
    assert not any(f.startswith(("max-age", "expires")) for f in flags)  # ends with the browser, or sooner
    home = client.get("/")
    assert home.url.path == "/search" and "Signed in as <strong>Casey Caseworker" in home.text


def test_a_refused_sign_in_says_why_and_is_audited(client_for: Client, ui_db: Path) -> None:
    client = client_for()
    before = len(_events(ui_db, "session.login"))
    token = FORM_TOKEN.search(client.get("/login").text)
    assert token
    r = client.post("/login", data={"user_id": "casey", "token": "acc_wrong", "form_token": token.group(1)})
    assert r.status_code == 401 and "not a live token of that user" in r.text
    assert "accord_session" not in client.cookies
    assert _events(ui_db, "session.login")[before:] == [("casey", "deny")]


def test_the_login_form_needs_its_own_form_token(client_for: Client, ui_world: UiWorld) -> None:
    client = client_for()
    client.get("/login")
    r = client.post("/login", data={"user_id": "casey", "token": ui_world.tokens["casey"],
                                    "form_token": "forged"})
    assert r.status_code == 403 and "accord_session" not in client.cookies
    other = client_for()        # a form token from another browser's login page does not work either
    token = FORM_TOKEN.search(other.get("/login").text)
    assert token
    fresh = TestClient(client.app)
    r = fresh.post("/login", data={"user_id": "casey", "token": ui_world.tokens["casey"],
                                   "form_token": token.group(1)})
    assert r.status_code == 403 and "accord_session" not in fresh.cookies


def test_logout_ends_the_session_and_the_old_cookie_opens_nothing(client_for: Client, ui_db: Path) -> None:
    client = client_for("carl")
    sid = client.cookies["accord_session"]
    r = client.post("/logout", data={"csrf": client.csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?out=1"
    assert ("carl", "allow") in _events(ui_db, "session.logout")
    replay = client_for()
    replay.cookies.set("accord_session", sid)
    r = replay.get("/search", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


@pytest.mark.parametrize("form", ["missing", "forged", "another session's"])
def test_every_post_needs_this_sessions_form_token(client_for: Client, ui_world: UiWorld, ui_db: Path,
                                                   form: str) -> None:
    client = client_for("casey")
    token = {"missing": None, "forged": "0" * 64, "another session's": client_for("casey").csrf}[form]
    data = {"person_id": ui_world.entry.person_id, "agreement": ui_world.enf, "basis": "b",
            "record": [f"{r.source}:{r.record_id}" for r in ui_world.entry.records]}
    if token:
        data["csrf"] = token
    with Store(ui_db) as store:
        before = store.scalar("SELECT count(*) FROM findings")
    for path in ("/findings", "/context", "/logout", "/search"):
        r = client.post(path, data=data)
        assert r.status_code == 403 and "Form not accepted" in r.text, path
    with Store(ui_db) as store:
        assert store.scalar("SELECT count(*) FROM findings") == before
    assert client.get("/account").status_code == 200      # still signed in: logout was refused too


def test_a_form_posted_from_another_site_is_refused(client_for: Client) -> None:
    client = client_for("casey")
    r = client.post("/context", data={"csrf": client.csrf, "purpose": "x"},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    ok = client.post("/context", data={"csrf": client.csrf, "purpose": "removal_order_enforcement"},
                     headers={"Origin": "http://testserver"})
    assert ok.status_code == 200 and "Reading under:" in ok.text


def test_an_idle_session_expires_and_the_user_is_told(ui_db: Path, ui_world: UiWorld) -> None:
    app = create_app(ui_db)
    client = TestClient(app)
    assert login(client, "casey", ui_world.tokens["casey"]).status_code == 200
    real = app.state.ui.clock
    app.state.ui.clock = lambda: real() + IDLE + timedelta(minutes=1)
    r = client.get("/worklist", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/worklist&ended=1"
    assert "Your session ended" in client.get(r.headers["location"]).text
    assert ("casey", "allow") in _events(ui_db, "session.end")
    app.state.ui.clock = real                       # even back in time, an ended session stays ended
    assert client.get("/worklist", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(client_for: Client, ui_world: UiWorld, target: str) -> None:
    client = client_for()
    token = FORM_TOKEN.search(client.get(f"/login?next={target}").text)
    assert token
    r = client.post("/login", data={"user_id": "casey", "token": ui_world.tokens["casey"],
                                    "form_token": token.group(1), "next": target}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_pages_are_not_cached_framed_or_open_to_foreign_scripts(client_for: Client) -> None:
    client = client_for("olive")
    r = client.get("/oversight")
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert " style=" not in r.text and "<script>" not in r.text     # nothing inline for the CSP to block
    assert csrf_of(r.text) == client.csrf


def test_signing_in_again_ends_the_earlier_session(client_for: Client, ui_world: UiWorld) -> None:
    client = client_for("casey")
    first = client.cookies["accord_session"]
    assert login(client, "casey", ui_world.tokens["casey"]).status_code == 200
    assert client.cookies["accord_session"] != first
    stale = client_for()
    stale.cookies.set("accord_session", first)
    assert stale.get("/account", follow_redirects=False).status_code == 303


def test_simultaneous_requests_of_one_session_all_succeed(ui_db: Path, ui_world: UiWorld) -> None:
    from concurrent.futures import ThreadPoolExecutor

    app = create_app(ui_db)
    first = TestClient(app)
    assert login(first, "casey", ui_world.tokens["casey"]).status_code == 200
    sid = first.cookies["accord_session"]
    real = app.state.ui.clock
    app.state.ui.clock = lambda: real() + timedelta(minutes=5)     # every request wants to record itself

    def visit(_: int) -> int:
        client = TestClient(app)
        client.cookies.set("accord_session", sid)
        return client.get("/account", follow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(visit, range(12))) == [200] * 12
