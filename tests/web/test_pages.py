"""The pages over the services: search and the person page under a declared purpose, the work
list with the adverse-action workflow, subject access with disputes, and the oversight
dashboard. Refusals show the gate's reasons; every read is audited with origin "web"."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from accord import services
from accord.governance.registry import registry
from accord.store import Store

from .conftest import Client, UiClient
from .ui_world import ENFORCEMENT, UiWorld


def _declare(client: UiClient, purpose: str = "", agreement: str = "", justification: str = "") -> None:
    r = client.post("/context", data={"csrf": client.csrf, "purpose": purpose, "agreement": agreement,
                                      "justification": justification, "next": "/search"})
    assert r.status_code == 200, r.text


def _last_event(db: Path, action: str) -> dict[str, Any]:
    with Store(db) as store:
        cur = store.con.execute("SELECT user_id, decision, origin, purpose, agreement, justification, "
                                "reasons FROM audit_events WHERE action = ? ORDER BY seq DESC LIMIT 1",
                                [action])
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    assert row is not None, action
    return dict(zip(names, row, strict=True))


def _search(client: UiClient, **form: str) -> Any:
    return client.post("/search", data={"csrf": client.csrf, **form})


def test_search_needs_a_purpose_then_the_agreement_then_finds_the_person(
        client_for: Client, ui_world: UiWorld, ui_db: Path) -> None:
    casey = client_for("casey")
    entry = ui_world.entry
    form = {"name": entry.name, "dob": entry.dob}
    page = casey.get("/search")
    assert 'method="post" action="/search"' in page.text   # names and birth dates never go into URLs
    r = _search(casey, **form)
    assert r.status_code == 400 and "Declare a purpose" in r.text

    _declare(casey, ENFORCEMENT)
    r = _search(casey, **form)
    assert r.status_code == 403 and "Refused" in r.text
    event = _last_event(ui_db, "person.search")
    assert (event["user_id"], event["decision"], event["origin"]) == ("casey", "deny", "web")
    assert any("agreement" in reason for reason in json.loads(event["reasons"]))
    assert "name the matching agreement" in r.text

    _declare(casey, ENFORCEMENT, ui_world.enf, "ticket 42")
    r = _search(casey, **form)
    assert r.status_code == 200 and f'href="/persons/{entry.person_id}"' in r.text
    event = _last_event(ui_db, "person.search")
    assert (event["decision"], event["purpose"], event["agreement"], event["justification"]) == (
        "allow", ENFORCEMENT, ui_world.enf, "ticket 42")
    by_id = _search(casey, id_kind="a_number", id_value=entry.a_number or "")
    assert entry.a_number is None or entry.person_id in by_id.text
    assert _search(casey, name=entry.name).status_code == 400       # a name alone is not a query


def test_the_person_page_shows_records_attributes_status_and_waterfalls(
        client_for: Client, ui_world: UiWorld, ui_db: Path) -> None:
    casey = client_for("casey")
    _declare(casey, ENFORCEMENT, ui_world.enf)
    pid = ui_world.entry.person_id
    r = casey.get(f"/persons/{pid}")
    assert r.status_code == 200, r.text
    ask = {"user": "casey", "purpose": ENFORCEMENT, "agreement": ui_world.enf}
    read = services.person(ui_db, pid, **ask)
    explained = services.explain(ui_db, pid, **ask)
    view = read.found_person
    assert view is not None
    for group in view.sources:
        for rec in group.records:
            p = rec.provenance
            assert f"{p.source}/{p.record_id} v{p.version}" in r.text
            assert f"{p.file_name}, row {p.row_number}" in r.text
    conflicted = sum(len(a.values) for a in view.attributes if a.conflict)
    assert r.text.count('<tr class="conflict">') == conflicted
    assert (f"{len(view.conflicts)} in conflict") in r.text
    status = read.status
    assert status is not None and status.status.replace("_", " ") in r.text
    for e in status.evidence:
        assert f"{e.source}/{e.record_id}" in r.text
    # One waterfall per explained link; each ends at the link's match weight.
    figures = re.findall(r'<figure class="waterfall">(.*?)</figure>', r.text, re.S)
    assert len(figures) == len(explained.links) >= 1
    for fig, link in zip(figures, explained.links, strict=True):
        total = re.search(r'font-weight="bold">match weight</text>\s*<text[^>]*>([+-][0-9.]+)</text>', fig)
        assert total and abs(float(total.group(1)) - link.match_weight) < 0.01
        assert '<svg' in fig and 'role="img"' in fig and "<table>" in fig    # chart plus its numbers
    assert casey.get("/persons/P999999999").status_code == 404


def test_the_wrong_role_sees_the_gates_reasons(client_for: Client, ui_world: UiWorld) -> None:
    ana = client_for("ana")
    r = ana.get(f"/worklist?agreement={ui_world.enf}")
    assert r.status_code == 403
    assert "worklist.read is not among the actions of ana" in r.text and "audit event" in r.text
    olive = client_for("olive")
    assert "Your roles read no person data" in olive.get("/oversight").text
    assert olive.get(f"/persons/{ui_world.entry.person_id}").status_code == 400   # no purpose to declare


def _step(client: UiClient, finding: str, **form: str) -> Any:
    return client.post(f"/findings/{finding}/step", data={"csrf": client.csrf, **form})


def _open_finding(client: UiClient, ui_world: UiWorld) -> tuple[str, Any]:
    entry = ui_world.entry
    records = [f"{x.source}:{x.record_id}" for x in entry.records]
    r = client.post("/findings", data={"csrf": client.csrf, "person_id": entry.person_id,
                                       "agreement": ui_world.enf, "basis": "final order on record",
                                       "record": records})
    assert r.status_code == 200, r.text
    m = re.search(r"/findings/(F-\d+)", str(r.url))
    assert m, r.url
    return m.group(1), r


def test_a_caseworker_works_a_work_list_entry(client_for: Client, ui_world: UiWorld, ui_db: Path) -> None:
    casey, carl = client_for("casey"), client_for("carl")
    wl = casey.get(f"/worklist?agreement={ui_world.enf}")
    assert wl.status_code == 200 and ui_world.entry.person_id in wl.text and "unverified" in wl.text
    finding, page = _open_finding(casey, ui_world)
    assert "Finding opened." in page.text and ">pending<" in page.text and "Not actionable" in page.text
    assert _last_event(ui_db, "finding.open")["origin"] == "web"
    assert finding in casey.get("/worklist").text          # listed among this session's findings

    r = _step(casey, finding, step="verify", method="phone", evidence="called the court")
    assert r.status_code == 400 and "must be independent" in r.text and ">pending<" in r.text
    r = _step(casey, finding, step="contest", contest="the person says the order was reopened")
    assert r.status_code == 200 and ">contested<" in r.text and "Contest filed." in r.text
    contest = re.search(r'<option value="(\d+)">#', r.text)
    assert contest
    r = _step(carl, finding, step="decide-contest", contest_id=contest.group(1), outcome="rejected",
              reasons="the court confirms the order stands")
    assert r.status_code == 200 and ">pending<" in r.text and "rejected" in r.text
    r = _step(carl, finding, step="actionable")
    assert r.status_code == 400 and "may not be acted on yet" in r.text and "notice" in r.text
    assert _step(casey, finding, step="launch").status_code == 400
    assert client_for("ana").get(f"/findings/{finding}").status_code == 403


def test_another_caseworker_verifies_then_gives_notice_and_the_period_must_run(
        client_for: Client, ui_world: UiWorld, ui_db: Path) -> None:
    finding, _ = _open_finding(client_for("casey"), ui_world)
    carl = client_for("carl")
    r = _step(carl, finding, step="notice", sent_on=date.today().isoformat(), method="letter")
    assert r.status_code == 400 and "notice follows verification" in r.text       # steps keep their order
    r = _step(carl, finding, step="verify", method="records check", evidence="court docket")
    assert r.status_code == 200 and "Verification recorded." in r.text
    assert re.search(r"<dt>Independently verified by</dt><dd>carl</dd>", r.text)
    assert _last_event(ui_db, "finding.verify")["origin"] == "web"
    sent = services.finding_step(ui_db, finding, user="carl", step="state").opened_on   # the gate's today
    r = _step(carl, finding, step="notice", sent_on=sent, method="letter")
    assert r.status_code == 200 and "Notice recorded." in r.text
    state = services.finding_step(ui_db, finding, user="carl", step="state")
    assert state.state == "pending" and state.actionable_from and state.actionable_from in r.text
    assert "Mark actionable" not in r.text                 # not offered while the notice period runs
    r = _step(carl, finding, step="actionable")
    assert r.status_code == 400 and f"no action before {state.actionable_from}" in r.text


def test_a_privacy_officer_handles_a_dispute_and_the_statement_travels(
        client_for: Client, ui_world: UiWorld, ui_db: Path) -> None:
    pat = client_for("pat")
    pid = ui_world.entry.person_id
    assert pat.get(f"/subjects?person={pid}").url.path == f"/subjects/{pid}"
    page = pat.get(f"/subjects/{pid}")
    assert page.status_code == 200 and "Accounting of disclosures" in page.text
    record = ui_world.entry.records[0]
    r = pat.post("/disputes", data={"csrf": pat.csrf, "person_id": pid,
                                    "record": f"{record.source}:{record.record_id}", "field": "dob",
                                    "claimed_value": "1999-01-01", "statement": "my birth date is wrong"})
    assert r.status_code == 200 and "Dispute filed." in r.text
    dispute = re.search(r'action="/disputes/(D-\d+)"', r.text)
    assert dispute
    handle = f"/disputes/{dispute.group(1)}"
    form = {"csrf": pat.csrf, "person_id": pid}
    assert "Dispute acknowledged." in pat.post(handle, data={**form, "action": "acknowledge"}).text
    refused = pat.post(handle, data={**form, "action": "deny", "reasons": ""})
    assert refused.status_code == 400 and "reasons" in refused.text
    assert ">denied<" in pat.post(handle, data={**form, "action": "deny", "reasons": "court record"}).text
    r = pat.post(handle, data={**form, "action": "statement", "statement": "I dispute this birth date"})
    assert "Statement of disagreement filed" in r.text
    casey = client_for("casey")
    _declare(casey, ENFORCEMENT, ui_world.enf)
    person = casey.get(f"/persons/{pid}")
    assert "Statements of disagreement" in person.text and "I dispute this birth date" in person.text
    assert client_for("casey").get(f"/subjects/{pid}").status_code == 403


def test_the_oversight_dashboard(client_for: Client, ui_world: UiWorld, ui_db: Path) -> None:
    olive = client_for("olive")
    r = olive.get("/oversight?by=olive&action=session.*")
    assert r.status_code == 200
    assert "Intact" in r.text and "Refused" not in r.text
    rows = re.findall(r'<td class="mono">(\w+)</td><td class="mono">([\w.]+)</td>', r.text)
    assert rows and all(u == "olive" and a.startswith("session.") for u, a in rows)
    disclosed = services.disclosures(ui_db, user="olive", limit=1000)
    for agreement in {d.agreement for d in disclosed if d.agreement}:
        n = sum(1 for d in disclosed if d.agreement == agreement)
        assert re.search(rf'<td class="mono">{agreement}</td><td>[^<]*</td><td class="num">{n}</td>', r.text)
    assert r.text.count("<svg") >= 3          # disclosures and quality charts
    pat = client_for("pat").get("/oversight")   # each section is decided on its own
    assert pat.status_code == 200
    allowed = set(registry().roles["privacy_officer"].actions)
    sections = ("audit.verify", "audit.read", "disclosures.read", "quality.read")
    assert allowed & set(sections) and set(sections) - allowed     # the test needs both kinds
    for action in sections:
        assert (f"{action} is not among the actions of pat" in pat.text) == (action not in allowed), action


LABELLED = re.compile(r'<label for="([^"]+)"')
CONTROL = re.compile(r'<(input|select|textarea)\b([^>]*)>')


@pytest.mark.parametrize(("user", "path"), [
    (None, "/login"), ("casey", "/search"), ("casey", "/person"), ("casey", "/worklist"),
    ("casey", "/finding"), ("pat", "/subject"), ("olive", "/oversight"), ("casey", "/account"),
    ("priya", "/disputes"), (None, "/no-such-page")])
def test_every_control_is_labelled_and_every_page_has_its_landmarks(
        client_for: Client, ui_world: UiWorld, user: str | None, path: str) -> None:
    client = client_for(user)
    if user == "casey":
        _declare(client, ENFORCEMENT, ui_world.enf)
    pid = ui_world.entry.person_id
    if path == "/finding":
        path = str(_open_finding(client, ui_world)[1].url.path)
    url = {"/person": f"/persons/{pid}", "/subject": f"/subjects/{pid}",
           "/worklist": f"/worklist?agreement={ui_world.enf}"}.get(path, path)
    html = client.get(url).text
    labels = set(LABELLED.findall(html))
    for tag, attrs in CONTROL.findall(html):
        if re.search(r'type="(hidden|submit|button)"', attrs):
            continue
        m = re.search(r'\bid="([^"]+)"', attrs)
        assert m and m.group(1) in labels, f"{url}: unlabelled <{tag}{attrs}>"
    assert '<html lang="en">' in html and '<main id="main"' in html and "<header" in html
    assert html.count("<h1") == 1 and 'href="#main"' in html
    assert user is None or '<nav class="main" aria-label="Main">' in html
