"""Every governed read and casework action gives the same answer on a PostgreSQL store as on
the embedded store it was copied from.

One resolved world is built in an embedded store and copied into a new PostgreSQL database with
``copy_store``. Each test makes the same service calls, in the same order, on both stores and
compares the answers (or the refusals). Both stores then record the same audit events with the
same sequence numbers, so those are compared too. What is ignored (``VOLATILE``) is only what
each store stamps with its own clock when a call writes: the times of the audit events,
disclosures, casework events, notifications and sessions written during the test, the ingest
times of the batch a dispute's correction writes (a new record version), and the audit hashes
(each hash covers its event's time). In pages and command output, times and hashes are masked,
and a sign-in's session and form tokens (random) too. Everything else, audit sequence numbers
included, must be equal.

Answers are checked for disclosure too: under every purpose, no answer from the PostgreSQL store
names a record the purpose may not see (LEGAL.md's floors), for persons who hold such records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from accord import services
from accord.api.app import create_app
from accord.cli import app as cli
from accord.governance.registry import registry
from accord.governance.scope import under_regimes_sql
from accord.governance.visibility import withheld_regimes
from accord.store import Store
from accord.store.transfer import copy_store
from floors.harness import IMPROPER_PAYMENTS, PURPOSES, Who
from worlds import TODAY, resolved_world

pytestmark = pytest.mark.postgres

ENF, BEN = "CMA-ENF-2026", "CMA-BEN-2026"
# Stamped by each store's clock when the call writes (see the module's description).
VOLATILE = {"event_at", "at_utc", "recorded_at", "filed_at", "disclosed_at", "requested_at", "opened_at",
            "at", "notified_at", "ingested_at", "started_at", "finished_at",
            "hash", "prev_hash", "exported_at", "created_at", "issued_at", "last_seen"}
SECRET = re.compile(r'(name="(?:csrf|form_token)" value=")[^"]+"')
HASH = re.compile(r"\b[0-9a-f]{10,}…?")
CLOCK = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?( UTC|[+-]\d{2}(:\d{2})?)?")


@dataclass
class Pair:
    duck: Path
    pg: str
    folder: Path
    truth: Path
    persons_csv: Path
    persons: list[str]              # every person id
    protected: list[str]            # persons holding a record under a floor regime
    records: list[dict[str, Any]]   # identities of current records (for search and verification)
    filer: dict[str, Any]           # an IRS return's filer (for a tax request)


def _duck_rows(db: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, pg_cluster: Any) -> Pair:
    folder = tmp_path_factory.mktemp("pg-reads")
    world = resolved_world(folder, persons=400, seed=3)   # a world whose work list lists someone
    agreement = folder / "improper-payments.yaml"
    agreement.write_text(IMPROPER_PAYMENTS, "utf-8")
    services.add_agreement(world.db, agreement, user="pat", today=TODAY)
    url = pg_cluster.new_database()
    with Store(world.db, read_only=True) as src, Store(url) as dst:
        copy_store(src, dst)
    reg = registry()
    floors = frozenset(r for w in PURPOSES for r in withheld_regimes(reg, w.purpose)) - {"irc_6103"}
    protected = [r["entity_id"] for r in _duck_rows(world.db, f"""
        SELECT DISTINCT m.entity_id FROM records_current r JOIN entity_members m USING (source, record_id)
        WHERE {under_regimes_sql(reg, floors, 'r')} ORDER BY 1""")]
    persons = [r["entity_id"] for r in _duck_rows(world.db, "SELECT DISTINCT entity_id FROM entity_members "
                                                            "ORDER BY 1")]
    records = _duck_rows(world.db, """
        SELECT source, record_id, given_name, family_name, CAST(dob AS VARCHAR) AS dob, ssn, a_number, tin
        FROM records_current WHERE given_name IS NOT NULL AND family_name IS NOT NULL
        ORDER BY source, record_id""")
    filer = _duck_rows(world.db, """
        SELECT record_id, given_name, middle_name, family_name, tin, street, city, state, zip, tax_year
        FROM records_current WHERE source = 'irs' AND tin IS NOT NULL AND street IS NOT NULL
        AND city IS NOT NULL AND state IS NOT NULL AND zip IS NOT NULL AND tax_year IS NOT NULL
        ORDER BY record_id LIMIT 1""")[0]
    assert protected, "the world should hold records under a statutory floor"
    return Pair(world.db, url, folder, world.world.truth_path, world.world.persons_path, persons,
                protected, records, filer)


def plain(value: Any) -> Any:
    """An answer as JSON values, without what each store stamps with its own clock."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    elif hasattr(value, "to_dict") and not isinstance(value, dict):
        value = value.to_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return json.loads(json.dumps(value, default=str))


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("answer", plain(call()))
    except Exception as e:     # a refusal or an error: its kind and message must be the same
        return ("refused", type(e).__name__, str(e))


def both(pair: Pair, call: Callable[[str | Path], Any], what: str) -> Any:
    """The same call on the embedded store and on the PostgreSQL store; the answers must be equal."""
    duck = outcome(lambda: call(pair.duck))
    pg = outcome(lambda: call(pair.pg))
    if duck != pg:
        raise AssertionError(f"{what}: the PostgreSQL store answers differently, at "
                             f"{_first_difference(duck, pg)}\n"
                             f"embedded:   {json.dumps(duck, sort_keys=True)[:4000]}\n"
                             f"PostgreSQL: {json.dumps(pg, sort_keys=True)[:4000]}")
    return pg


def _first_difference(a: Any, b: Any, at: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{at}.{k}")
    if isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{at}[{i}]")
    return f"{at or '(top)'}: {json.dumps(a, default=str)[:300]} != {json.dumps(b, default=str)[:300]}"


def hidden_from(pair: Pair, purpose: str) -> set[str]:
    """``source:record_id`` of every record ``purpose`` may not see."""
    reg = registry()
    withheld = withheld_regimes(reg, purpose)
    rows = _duck_rows(pair.duck, f"SELECT source, record_id FROM records_current r "
                                 f"WHERE {under_regimes_sql(reg, withheld, 'r')}")
    return {f"{r['source']}:{r['record_id']}" for r in rows}


def named_records(answer: Any) -> set[str]:
    """Every ``source:record_id`` an answer names (as a pair of fields or as a two-item list)."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if isinstance(v.get("source"), str) and isinstance(v.get("record_id"), str):
                found.add(f"{v['source']}:{v['record_id']}")
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            if len(v) == 2 and all(isinstance(x, str) for x in v):
                found.add(f"{v[0]}:{v[1]}")
            for x in v:
                walk(x)

    walk(answer)
    return found


def _kw(who: Who) -> dict[str, Any]:
    agreements = {"removal_order_enforcement": ENF, "benefit_eligibility_verification": BEN,
                  "identity_verification": "CMA-IDV-2026", "improper_payment_detection": "CMA-IPD-2026"}
    return {"user": who.user, "purpose": who.purpose, "agreement": agreements.get(who.purpose),
            "justification": "comparing the stores", "today": TODAY}


# --- person data -------------------------------------------------------------------------------

PERSON_READS: dict[str, Callable[..., Any]] = {
    "person": lambda db, pid, kw: services.person(db, pid, **kw),
    "status": lambda db, pid, kw: services.status(db, pid, **kw),
    "explain": lambda db, pid, kw: services.explain(db, pid, **kw),
}


def _check_person(pair: Pair, pid: str, who: Who) -> None:
    hidden = hidden_from(pair, who.purpose)
    for name, read in PERSON_READS.items():
        answer = both(pair, lambda db, read=read: read(db, pid, _kw(who)),
                      f"{name} {pid} under {who.purpose}")
        shown = named_records(answer) & hidden
        assert not shown, f"{name} {pid} under {who.purpose} names records it may not see: {sorted(shown)}"


@pytest.mark.parametrize("who", PURPOSES, ids=[w.purpose for w in PURPOSES])
def test_protected_persons_read_alike_and_show_nothing_withheld(pair: Pair, who: Who) -> None:
    for pid in pair.protected[:6]:
        _check_person(pair, pid, who)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_person_under_any_purpose_reads_alike(pair: Pair, data: st.DataObject) -> None:
    pid = data.draw(st.sampled_from(pair.persons + pair.protected), label="person")
    who = data.draw(st.sampled_from(PURPOSES), label="purpose")
    _check_person(pair, pid, who)


def test_an_unknown_person_and_a_path_between_two_records_read_alike(pair: Pair) -> None:
    who = PURPOSES[0]
    both(pair, lambda db: services.person(db, "P999999999", **_kw(who)), "unknown person")
    answer = both(pair, lambda db: services.person(db, pair.protected[0], **_kw(PURPOSES[2])), "person")
    recs = [f"{r['provenance']['source']}:{r['provenance']['record_id']}"
            for r in answer[1]["person"].get("records", [])]
    if len(recs) >= 2:
        both(pair, lambda db: services.explain(db, pair.protected[0], a=recs[0], b=recs[-1],
                                               **_kw(PURPOSES[2])),
             "explain a path")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_searches_and_verifications_answer_alike(pair: Pair, data: st.DataObject) -> None:
    rec = data.draw(st.sampled_from(pair.records), label="record")
    who = data.draw(st.sampled_from(PURPOSES), label="purpose")
    kw = _kw(who)
    hidden = hidden_from(pair, who.purpose)
    queries: list[dict[str, Any]] = []
    if rec["dob"]:
        queries.append({"name": f"{rec['given_name']} {rec['family_name']}", "dob": rec["dob"]})
        queries.append({"name": f"{rec['family_name']}, {rec['given_name']}", "dob": rec["dob"]})
    for field in ("ssn", "a_number", "tin"):
        if rec[field]:
            queries.append({field: rec[field]})
    for q in queries:
        answer = both(pair, lambda db, q=q: services.search(db, **q, **kw), f"search {q} under {who.purpose}")
        assert not named_records(answer) & hidden
    if rec["dob"]:
        both(pair, lambda db: services.verify(db, name=f"{rec['given_name']} {rec['family_name']}",
                                              dob=rec["dob"], a_number=rec["a_number"], ssn=rec["ssn"], **kw),
             f"verify {rec['source']}:{rec['record_id']} under {who.purpose}")


def test_search_finds_people_on_both_stores(pair: Pair) -> None:
    """The comparisons above are not all empty answers: searches do find people."""
    found = 0
    for rec in pair.records[:40]:
        if rec["dob"]:
            answer = both(pair, lambda db, rec=rec: services.search(
                db, name=f"{rec['given_name']} {rec['family_name']}", dob=rec["dob"], **_kw(PURPOSES[2])),
                "search")
            found += bool(answer[0] == "answer" and answer[1]["hits"])
    assert found >= 10


def test_work_list_tax_request_and_subject_reports_answer_alike(pair: Pair) -> None:
    wl = both(pair, lambda db: services.worklist(db, user="casey", agreement=ENF, limit=500, today=TODAY,
                                                 justification="work list"), "work list")
    assert wl[0] == "answer" and wl[1]["entries"], "the world should list someone"
    both(pair, lambda db: services.worklist(db, user="casey", agreement=ENF, limit=3, offset=2, today=TODAY),
         "a page of the work list")
    both(pair, lambda db: services.worklist(db, user="ana", agreement=ENF, today=TODAY),
         "a refused work list")
    f = pair.filer
    name = " ".join(p for p in (f["given_name"], f["middle_name"], f["family_name"]) if p)
    request = {"full_name": name,
               "tin": f["tin"], "address": f"{f['street']}, {f['city']}, {f['state']} {f['zip']}",
               "taxable_periods": str(f["tax_year"]), "statutory_authority": "26 U.S.C. 6103(i)(2)",
               "reason": "failure to depart after a final order (8 U.S.C. 1253)"}
    for who in ("casey", "tess"):
        purpose = "removal_order_enforcement" if who == "casey" else "tax_administration"
        both(pair, lambda db, who=who, purpose=purpose: services.tax_request(
            db, user=who, purpose=purpose, agreement=ENF if who == "casey" else None, today=TODAY, **request),
            f"tax request by {who}")
    for pid in [*pair.protected[:3], pair.persons[0], "P999999999"]:
        for law_enforcement in (False, True):
            both(pair, lambda db, pid=pid, le=law_enforcement: services.subject_report(
                db, pid, user="pat", include_law_enforcement=le, today=TODAY), f"subject report {pid}")


# --- casework ----------------------------------------------------------------------------------

def test_disputes_annotations_and_findings_run_alike(pair: Pair) -> None:
    wl = both(pair, lambda db: services.worklist(db, user="casey", agreement=ENF, limit=5, today=TODAY),
              "work list")[1]
    entry = wl["entries"][0]
    rec = entry["records"][0]
    pid = entry["person_id"]
    steps: list[tuple[str, Callable[[str | Path], Any]]] = [
        ("file a dispute", lambda db: services.file_dispute(
            db, pid, user="pat", source=rec["source"], record_id=rec["record_id"], field="dob",
            claimed_value="1950-01-02", statement="not my birth date", today=TODAY - timedelta(days=40))),
        ("file another", lambda db: services.file_dispute(
            db, pid, user="pat", source=rec["source"], record_id=rec["record_id"], field="given_name",
            claimed_value=None, statement="not my name", today=TODAY)),
    ]
    for what, step in steps:
        both(pair, step, what)
    listed = both(pair, lambda db: services.list_disputes(db, user="pat", today=TODAY), "disputes")[1]
    first, second = (d["dispute_id"] for d in listed["items"][:2])
    for what, step in [
        ("overdue disputes", lambda db: services.list_disputes(db, user="priya", overdue=True, today=TODAY)),
        ("a person's disputes", lambda db: services.list_disputes(db, user="pat", person=pid, state="open",
                                                                  today=TODAY)),
        ("acknowledge", lambda db: services.handle_dispute(db, first, user="priya", action="acknowledge",
                                                           today=TODAY)),
        ("deny", lambda db: services.handle_dispute(db, first, user="priya", action="deny",
                                                    reasons="the court record is right", today=TODAY)),
        ("statement", lambda db: services.handle_dispute(db, first, user="pat", action="statement",
                                                         statement="I disagree", today=TODAY)),
        ("correct", lambda db: services.handle_dispute(db, second, user="priya", action="correct",
                                                       today=TODAY)),
        ("show a dispute", lambda db: services.show_dispute(db, first, user="pat", today=TODAY)),
        ("denied disputes", lambda db: services.list_disputes(db, user="pat", state="denied", today=TODAY)),
        ("corrected disputes", lambda db: services.list_disputes(db, user="pat", state="corrected",
                                                                 today=TODAY)),
        ("request an annotation", lambda db: services.request_annotation(
            db, user="pat", source=rec["source"], record_id=rec["record_id"], kind="record_not_this_person",
            reason_code="linkage_error", evidence="documents of someone else", today=TODAY)),
    ]:
        both(pair, step, what)
    annotation = both(pair, lambda db: services.request_annotation(
        db, user="pat", source=rec["source"], record_id=rec["record_id"], kind="record_not_this_person",
        reason_code="linkage_error", evidence="a second request", today=TODAY),
        "annotation")[1]["annotation_id"]
    for what, step in [
        ("approve (1)", lambda db: services.approve_annotation(db, annotation, user="priya", today=TODAY)),
        ("approve by the requester", lambda db: services.approve_annotation(db, annotation, user="pat",
                                                                            today=TODAY)),
        ("person after annotations", lambda db: services.person(db, pid, **_kw(PURPOSES[0]))),
        ("subject report after casework", lambda db: services.subject_report(db, pid, user="pat",
                                                                             today=TODAY)),
    ]:
        both(pair, step, what)
    target = wl["entries"][-1]
    opened = both(pair, lambda db: services.open_finding(
        db, target["person_id"], user="casey", agreement=ENF,
        records=[(r["source"], r["record_id"]) for r in target["records"]], basis="final order on record",
        today=TODAY), "open a finding")
    assert opened[0] == "answer", opened
    finding = opened[1]["finding_id"]
    for what, step in [
        ("verify", lambda db: services.finding_step(db, finding, user="carl", step="verify",
                                                    method="source agency",
                                                    evidence="EOIR confirmed the order", today=TODAY)),
        ("notice", lambda db: services.finding_step(db, finding, user="carl", step="notice", method="letter",
                                                    sent_on=TODAY, today=TODAY)),
        ("contest", lambda db: services.finding_step(db, finding, user="casey", step="contest",
                                                     contest="the order was reopened", today=TODAY)),
        ("state", lambda db: services.finding_step(db, finding, user="carl", step="state", today=TODAY)),
        ("actionable too early", lambda db: services.finding_step(db, finding, user="carl", step="actionable",
                                                                  today=TODAY)),
        ("show", lambda db: services.show_finding(db, finding, user="carl", today=TODAY)),
        ("list", lambda db: services.list_findings(db, user="carl", agreement=ENF, today=TODAY)),
        ("list pending", lambda db: services.list_findings(db, user="carl", agreement=ENF, state="pending",
                                                           today=TODAY)),
        ("list refused", lambda db: services.list_findings(db, user="pat", agreement=ENF, today=TODAY)),
        ("work list after casework", lambda db: services.worklist(db, user="casey", agreement=ENF, limit=500,
                                                                  today=TODAY)),
    ]:
        both(pair, step, what)


# --- oversight and data engineering ---------------------------------------------------------------

def test_oversight_and_data_summaries_answer_alike(pair: Pair) -> None:
    for what, step in [
        ("disclosures", lambda db: services.disclosures(db, user="olive", limit=1000)),
        ("a person's disclosures", lambda db: services.disclosures(db, user="olive",
                                                                   person=pair.protected[0])),
        ("disclosures of an agreement", lambda db: services.disclosures(db, user="olive", agreement=ENF,
                                                                        offset=3, limit=7)),
        ("disclosure summary", lambda db: services.disclosure_summary(db, user="olive")),
        ("audit events", lambda db: services.audit_events(db, user="olive", limit=1000)),
        ("audit events of a user", lambda db: services.audit_events(db, user="olive", filter_user="casey",
                                                                    action="person.view")),
        ("audit events of a person", lambda db: services.audit_events(db, user="olive",
                                                                      person=pair.protected[0])),
        ("audit verify", lambda db: services.audit_verify(db, user="olive")),
        ("sources", lambda db: services.sources(db, user="dana")),
        ("batches", lambda db: services.batches(db, user="dana")),
        ("quarantine", lambda db: services.quarantine_summary(db, user="dana")),
        ("quality", lambda db: services.quality(db, user="dana", today=TODAY)),
        ("evaluate", lambda db: services.evaluate(db, Path(pair.truth), user="dana", today=TODAY)),
        ("evaluate with harm", lambda db: services.evaluate(db, Path(pair.truth), user="casey",
                                                            persons=Path(pair.persons_csv), agreement=ENF,
                                                            today=TODAY)),
        ("agreements", lambda db: services.agreements(db, user="olive", today=TODAY)),
        ("users", lambda db: services.list_users(db, user="admin")),
    ]:
        answer = both(pair, step, what)
        assert answer[0] == "answer" or what == "evaluate with harm", (what, answer)


# --- the command line and the web pages ----------------------------------------------------------

runner = CliRunner()


def _cli(user: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args), env={"ACCORD_USER": user, "COLUMNS": "200"})
    return result.exit_code, result.output


def _masked(text: str) -> str:
    return HASH.sub("<hash>", CLOCK.sub("<time>", text))


def test_commands_on_a_postgresql_url_answer_as_on_the_file(pair: Pair) -> None:
    pid = pair.protected[0]
    rec = next(r for r in pair.records if r["dob"])
    for user, args in [
        ("casey", ["worklist", "--agreement", ENF, "--justification", "x", "--json"]),
        ("casey", ["person", pid, "--purpose", "removal_order_enforcement", "--agreement", ENF, "--json"]),
        ("ana", ["explain", pid, "--purpose", "identity_verification", "--agreement", "CMA-IDV-2026",
                 "--json"]),
        ("ana", ["search", "--name", f"{rec['given_name']} {rec['family_name']}", "--dob", rec["dob"],
                 "--purpose", "identity_verification", "--agreement", "CMA-IDV-2026", "--json"]),
        ("olive", ["audit", "verify"]),
    ]:
        duck = _cli(user, *args, "--db", str(pair.duck))
        pg = _cli(user, *args, "--db", pair.pg)
        assert pg[0] == 0, pg[1]
        assert _masked(pg[1]) == _masked(duck[1]), args


def _masked_page(r: Any) -> tuple[int, str]:
    return r.status_code, _masked(SECRET.sub(r"\1<secret>", r.text))


def test_web_pages_read_alike(pair: Pair) -> None:
    from web.ui_world import csrf_of, login

    pid = pair.protected[0]
    rec = next(r for r in pair.records if r["dob"])
    # user -> (purpose, agreement) declared in the purpose bar, then the pages read
    visits: dict[str, tuple[tuple[str, str], list[str]]] = {
        "casey": (("removal_order_enforcement", ENF),
                  [f"/worklist?agreement={ENF}", f"/persons/{pid}", "/search"]),
        "ana": (("identity_verification", "CMA-IDV-2026"), [f"/persons/{pid}", "search"]),
        "olive": (("", ""), ["/oversight"]),
        "pat": (("", ""), ["/disputes", "/"]),
    }
    seen: dict[str, list[tuple[int, str]]] = {}
    for db in (pair.duck, pair.pg):
        for user, ((purpose, agreement), paths) in visits.items():
            client = TestClient(create_app(db), follow_redirects=True)
            r = login(client, user, services.issue_token(db, user, user="admin"))
            assert r.status_code == 200, r.text
            csrf = csrf_of(r.text)
            if purpose:
                r = client.post("/context", data={"csrf": csrf, "purpose": purpose, "agreement": agreement,
                                                  "justification": "comparing the stores"})
                assert r.status_code == 200, r.text
            for path in paths:
                if path == "search":
                    r = client.post("/search", data={"csrf": csrf, "name": f"{rec['given_name']} "
                                                     f"{rec['family_name']}", "dob": rec["dob"]})
                else:
                    r = client.get(path)
                seen.setdefault(f"{user} {path}", []).append(_masked_page(r))
    for what, (duck, pg) in seen.items():
        assert pg[0] == duck[0] == 200, (what, pg[0], pg[1][:2000])
        assert pg[1] == duck[1], what
