"""The pages that list stored cases and page through long lists: every finding of an agreement on
the work list page (not only this session's), the disputes page with overdue ones, the oversight
dashboard paging back through audit events and disclosures; error pages in HTML; and sessions
ending when an administrator deactivates the user or revokes the token."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accord import services
from accord.api.app import create_app
from accord.governance.gate import Gate, PolicyDenied
from accord.governance.policy import Request
from accord.store import Store

from .conftest import Client
from .ui_world import ENFORCEMENT, UiWorld, csrf_of, login


def _finding(db: Path, ui_world: UiWorld, user: str = "casey") -> str:
    entry = ui_world.entry
    f = services.open_finding(db, entry.person_id, user=user, agreement=ui_world.enf,
                              records=[(r.source, r.record_id) for r in entry.records],
                              basis="final order of removal on record")
    return f.finding_id


def test_the_work_list_page_lists_every_stored_finding_of_the_agreement(
        client_for: Client, ui_world: UiWorld, ui_db: Path) -> None:
    opened = [_finding(ui_db, ui_world) for _ in range(2)]        # outside any web session
    services.finding_step(ui_db, opened[1], user="casey", step="contest", contest="the order was reopened")
    carl = client_for("carl")
    assert opened[0] not in carl.get("/worklist").text          # nothing is read before an agreement
    page = carl.get(f"/worklist?agreement={ui_world.enf}")
    assert page.status_code == 200, page.text
    for f in opened:
        assert f'<a href="/findings/{f}">{f}</a>' in page.text
    assert "Findings you opened or worked in this session" not in page.text
    contested = carl.get(f"/worklist?agreement={ui_world.enf}&state=contested")
    assert opened[1] in contested.text and f'href="/findings/{opened[0]}"' not in contested.text
    with Store(ui_db) as store:
        nature = store.query("SELECT DISTINCT d.nature, e.origin FROM disclosures d JOIN audit_events e "
                             "ON e.seq = d.audit_seq WHERE e.user_id = 'carl' AND d.nature LIKE 'adverse%'")
    assert nature == [("adverse-action findings", "web")]
    bea = client_for("bea")                                     # a caseworker of another organisation
    refused = bea.get(f"/worklist?agreement={ui_world.enf}")
    assert refused.status_code == 403 and "recipient party" in refused.text
    assert f'href="/findings/{opened[0]}"' not in refused.text


def test_the_disputes_page_lists_open_and_overdue_disputes(client_for: Client, ui_world: UiWorld,
                                                           ui_db: Path) -> None:
    pid, rec = ui_world.entry.person_id, ui_world.entry.records[0]

    def file(day: date) -> str:
        d = services.file_dispute(ui_db, pid, user="pat", source=rec.source, record_id=rec.record_id,
                                  field="dob", claimed_value="1950-01-02", statement="not my birth date",
                                  today=day)
        return d.dispute_id

    late, fresh = file(date.today() - timedelta(days=60)), file(date.today())
    priya = client_for("priya")
    assert ("/disputes", "Disputes") in [(m.group(1), m.group(2)) for m in re.finditer(
        r'<li><a href="([^"]+)"[^>]*>([^<]+)</a></li>', priya.get("/account").text)]
    page = priya.get("/disputes")
    assert page.status_code == 200, page.text
    assert late in page.text and fresh in page.text and f'href="/subjects/{pid}"' in page.text
    row = re.search(rf"<td class=\"mono\">{late}</td>.*?</tr>", page.text, re.S)
    assert row and "Overdue" in row.group(0)
    overdue = priya.get("/disputes?overdue=1&state=")
    assert late in overdue.text and fresh not in overdue.text
    services.handle_dispute(ui_db, fresh, user="priya", action="deny", reasons="the court record is right")
    assert fresh not in priya.get("/disputes").text                       # open ones by default
    assert fresh in priya.get("/disputes?state=denied").text
    refused = client_for("casey").get("/disputes")
    assert refused.status_code == 403 and "dispute.read is not among the actions of casey" in refused.text
    assert late not in refused.text


def test_unknown_pages_and_failures_are_html_pages_with_a_way_home(client_for: Client, ui_db: Path) -> None:
    anonymous = client_for().get("/no-such-page")
    assert anonymous.status_code == 404 and anonymous.headers["content-type"].startswith("text/html")
    assert "Page not found" in anonymous.text and 'href="/"' in anonymous.text
    assert anonymous.headers["cache-control"] == "no-store"
    signed_in = client_for("casey").get("/persons/P1/nothing-here")
    assert signed_in.status_code == 404 and '<nav class="main"' in signed_in.text
    api = client_for().get("/api/no-such-route")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    wrong = client_for().put("/search")
    assert wrong.status_code == 405 and "text/html" in wrong.headers["content-type"]
    assert 'href="/"' in wrong.text

    app = create_app(ui_db)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/accord/store.duckdb")

    @app.get("/refused")
    def refuse() -> None:
        raise PolicyDenied("person.view", ("declare a purpose: person data is read only for a purpose",), 7)

    @app.get("/number/{n}")
    def number(n: int) -> int:
        return n

    @app.get("/api/boom")
    def api_boom() -> None:
        raise RuntimeError("secret")

    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/boom")
    assert r.status_code == 500 and "Something went wrong" in r.text and "secret" not in r.text
    assert re.search(r"Incident <span class=\"mono\">[0-9a-f]{12}</span>", r.text)
    r = client.get("/refused")
    assert r.status_code == 403 and "declare a purpose" in r.text and "audit event 7" in r.text
    r = client.get("/number/seven")
    assert r.status_code == 422 and "text/html" in r.headers["content-type"] and 'href="/"' in r.text
    r = client.get("/api/boom")
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"


@pytest.mark.parametrize("how", ["deactivate", "revoke"])
def test_a_session_ends_when_the_user_is_deactivated_or_the_token_revoked(
        ui_world: UiWorld, tmp_path: Path, how: str) -> None:
    db = ui_world.copy(tmp_path)
    client = TestClient(create_app(db), follow_redirects=True)
    page = login(client, "ana", ui_world.tokens["ana"])
    assert page.status_code == 200 and csrf_of(page.text)
    assert client.get("/account").url.path == "/account"
    if how == "deactivate":
        services.deactivate_user(db, "ana", user="admin")
    else:
        token_id = services.list_tokens(db, "ana", user="admin")[0].token_id
        services.revoke_token(db, "ana", token_id, user="admin")
    r = client.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/account&ended=1"
    again = login(client, "ana", ui_world.tokens["ana"])
    assert again.status_code == 401 and "Sign-in refused" in again.text


def _event_seqs(html: str) -> list[int]:
    section = html[html.index('id="events-heading"'):]
    return [int(s) for s in re.findall(r'<tr><td class="num">(\d+)</td><td>', section)]


def test_the_oversight_page_pages_back_through_events_and_disclosures(client_for: Client, ui_world: UiWorld,
                                                                       ui_db: Path) -> None:
    with Store(ui_db) as store:       # enough disclosures for more than one page of them
        persons = [str(p) for (p,) in store.query(
            "SELECT DISTINCT entity_id FROM entity_members ORDER BY 1 LIMIT 40")]

        class Read:
            def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
                return persons, []

        Gate(store).read("casey", Request("person.search", ENFORCEMENT, ui_world.enf), lambda d: Read(),
                         nature="test")
    olive = client_for("olive")
    first = olive.get("/oversight?limit=5")
    seqs = _event_seqs(first.text)
    assert len(seqs) == 5 and seqs == sorted(seqs, reverse=True)
    older = re.search(r'href="(/oversight\?[^"]*before=(\d+)[^"]*)">Older events', first.text)
    assert older and int(older.group(2)) == seqs[-1]
    second = olive.get(older.group(1).replace("&amp;", "&"))
    later = _event_seqs(second.text)
    assert len(later) == 5 and max(later) < seqs[-1]
    assert "Newest events" in second.text

    def disclosure_rows(html: str) -> list[tuple[int, str]]:
        return [(int(a), p) for a, p in re.findall(
            r'<tr><td class="num">(\d+)</td><td>[^<]*</td><td class="mono">(\w+)</td><td>', html)]

    rows = disclosure_rows(first.text)
    assert len(rows) == 25
    link = re.search(r'href="(/oversight\?[^"]*disclosures_offset=25[^"]*)#disclosures-heading">Older 25',
                     first.text)
    assert link and "as_of=" in link.group(1)
    next_rows = disclosure_rows(olive.get(link.group(1).replace("&amp;", "&")).text)
    expected = [(d.audit_seq, d.person_id) for d in services.disclosures(ui_db, user="olive", limit=50)]
    assert next_rows and rows + next_rows == expected[:len(rows) + len(next_rows)]


def test_the_subject_page_finds_the_person_a_request_names(client_for: Client, ui_world: UiWorld) -> None:
    entry = ui_world.entry
    assert entry.a_number, "the work-list entry has an A-number"
    pat = client_for("pat")
    page = pat.post("/subjects/search", data={"csrf": pat.csrf, "a_number": entry.a_number})
    assert page.status_code == 200, page.text
    assert f'href="/subjects/{entry.person_id}"' in page.text and "a_number: exact" in page.text
    assert entry.a_number not in page.text.replace(f'value="{entry.a_number}"', "")   # only in the form
    assert pat.post("/subjects/search", data={"csrf": pat.csrf, "name": "Ann Lee"}).status_code == 400
    casey = client_for("casey")
    assert casey.post("/subjects/search", data={"csrf": casey.csrf, "a_number": entry.a_number}
                      ).status_code == 403
