"""Indistinguishability: for every purpose and every person-data route, the answer on a store
equals the answer on the same store with the purpose's withheld records removed before
resolution (docs/governance.md). Worlds of several seeds; persons, records and queries are
drawn by hypothesis from each world, withheld records' identities first."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.api.app import create_app
from accord.governance.registry import registry
from accord.governance.visibility import UNREGISTERED, withheld_regimes

from .harness import (
    PURPOSES,
    Base,
    Pair,
    Who,
    build_base,
    make_pair,
    record_values,
    reduced_store,
    same,
    sample_persons,
    side,
    strip,
)

SEEDS = (3, 8)


def HARNESS(max_examples: int) -> Any:
    """Deterministic examples (the same in every run and in CI), no example database."""
    return settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
PERSONS = 300

# Every route of the OpenAPI description is here or in NOT_PERSON_DATA: a new route fails
# test_every_route_is_covered until it is put in one of them.
PERSON_ROUTES = {
    ("get", "/api/persons"): "search",
    ("get", "/api/persons/{person_id}"): "person",
    ("get", "/api/persons/{person_id}/status"): "person",
    ("get", "/api/persons/{person_id}/explanation"): "explanation",
    ("post", "/api/verifications"): "verification",
    ("get", "/api/worklists/{agreement_id}"): "worklist",
    ("post", "/api/tax-requests"): "tax_request",
    ("post", "/api/findings"): "findings",
    ("get", "/api/findings"): "findings",
    ("get", "/api/findings/{finding_id}"): "findings",
    ("post", "/api/findings/{finding_id}/verification"): "findings",
    ("post", "/api/findings/{finding_id}/notice"): "findings",
    ("post", "/api/findings/{finding_id}/contests"): "findings",
    ("post", "/api/findings/{finding_id}/contests/{contest_id}/decision"): "findings",
    ("post", "/api/findings/{finding_id}/actionable"): "findings",
    # Subject access and the privacy office's casework run under subject_access, which
    # withholds nothing but unregistered systems: test_subject_access_withholds_nothing.
    ("get", "/api/subject-reports/{person_id}"): "subject_access",
    ("get", "/api/subject-searches"): "subject_access",
    ("get", "/api/disputes"): "subject_access",
    ("post", "/api/disputes"): "subject_access",
    ("get", "/api/disputes/{dispute_id}"): "subject_access",
    ("post", "/api/disputes/{dispute_id}/acknowledgement"): "subject_access",
    ("post", "/api/disputes/{dispute_id}/correction"): "subject_access",
    ("post", "/api/disputes/{dispute_id}/denial"): "subject_access",
    ("post", "/api/disputes/{dispute_id}/statement"): "subject_access",
    ("post", "/api/annotations"): "subject_access",
    ("get", "/api/annotations"): "subject_access",
    ("get", "/api/annotations/{annotation_id}"): "subject_access",
    ("post", "/api/annotations/{annotation_id}/approvals"): "subject_access",
    ("post", "/api/annotations/{annotation_id}/rejections"): "subject_access",
}
NOT_PERSON_DATA = {
    "/api/health": "liveness",
    "/api/agreements": "agreements (no person values)",
    "/api/users": "user administration",
    "/api/audit/": "audit chain (oversight; no person values)",
    "/api/disclosures": "accounting of disclosures (oversight): lists only what was disclosed",
    "/api/sources": "data engineering: sources",
    "/api/batches": "data engineering: batch reconciliation",
    "/api/quarantine": "data engineering: quarantined rows (no purpose reads them)",
    "/api/flags": "data engineering: flagged identity values counted by reason (no values, no purpose)",
    "/api/quality": "linkage quality figures (aggregates over the full partition, no person values)",
    "/api/records": "data engineering: records of a source ingested and resolved; the ids and versions "
                    "of the persons that changed, as resolution writes them (no values, no purpose)",
}


def test_every_route_is_covered(tmp_path: Path) -> None:
    app = create_app(tmp_path / "none.duckdb")
    missing = []
    for path, ops in app.openapi()["paths"].items():
        for method in ops:
            if (method, path) in PERSON_ROUTES:
                continue
            if any(path == p or (p.endswith("/") and path.startswith(p)) or path.startswith(p + "/")
                   for p in NOT_PERSON_DATA):
                continue
            missing.append(f"{method.upper()} {path}")
    assert not missing, f"routes the indistinguishability harness does not cover: {missing}"


def test_every_purpose_is_in_the_harness() -> None:
    """Every purpose that reads person data has a pair of stores, except subject access, whose
    reduced store is the full one."""
    reading = {name for name, p in registry().purposes.items() if p.person_data}
    assert reading - {w.purpose for w in PURPOSES} == {"subject_access"}


def test_subject_access_withholds_nothing() -> None:
    """The routes classed as subject access need no pair of stores only while it is so."""
    assert withheld_regimes(registry(), "subject_access") == {UNREGISTERED}


@pytest.fixture(scope="module", params=SEEDS)
def base(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Base:
    return build_base(tmp_path_factory.mktemp(f"floors-{request.param}"), PERSONS, request.param)


@pytest.fixture(scope="module")
def pairs(base: Base) -> dict[str, Pair]:
    full = side(base.full)
    return {who.purpose: make_pair(base, who, full) for who in PURPOSES}


@pytest.mark.slow
@pytest.mark.parametrize("who", PURPOSES, ids=lambda w: w.purpose)
def test_partition_is_the_reduced_stores(pairs: dict[str, Pair], who: Who) -> None:
    """Every person the purpose can see holds exactly the records the reduced store's person
    holds (the person ids then map one to one)."""
    pair = pairs[who.purpose]
    assert pair.persons, "the world has persons"
    unmapped = sorted(set(pair.persons) - set(pair.ids))
    assert not unmapped, f"persons whose records differ from the reduced store's: {unmapped[:5]}"
    assert len(set(pair.ids.values())) == len(pair.ids)


def _persons(pair: Pair, seed: int) -> list[str]:
    return sample_persons(pair, random.Random(seed), others=8)


PER_PERSON = ("/api/persons/{id}", "/api/persons/{id}/status", "/api/persons/{id}/explanation")


@pytest.mark.slow
@pytest.mark.parametrize("who", PURPOSES, ids=lambda w: w.purpose)
@HARNESS(max_examples=6)
@given(data=st.data())
def test_person_routes(pairs: dict[str, Pair], who: Who, data: Any) -> None:
    pair = pairs[who.purpose]
    persons = _persons(pair, 0)
    pid = data.draw(st.sampled_from(persons), label="person")
    for template in PER_PERSON:
        path = template.replace("{id}", pid)
        a, b = pair.both("GET", path, path_ids=(pid,))
        same(a, b, f"{who.purpose} GET {template} for {pid}")
    # the path between two of the person's records, one of them possibly withheld
    mine = sorted(pair.persons[pid])
    own_hidden = sorted(pair.hidden & _full_records_of(pair, pid))
    ra = data.draw(st.sampled_from(mine), label="a")
    rb = data.draw(st.sampled_from(mine + own_hidden), label="b")
    a, b = pair.both("GET", f"/api/persons/{pid}/explanation", path_ids=(pid,),
                     params={"a": f"{ra[0]}:{ra[1]}", "b": f"{rb[0]}:{rb[1]}"})
    same(a, b, f"{who.purpose} explanation path {ra}..{rb} of {pid}")


def _full_records_of(pair: Pair, pid: str) -> set[tuple[str, str]]:
    """Every record of the full partition entity holding ``pid``'s first record (withheld ones
    included): the records a probe would guess belong to the person."""
    import duckdb

    first = min(pair.persons[pid])
    con = duckdb.connect(str(pair.full.db), read_only=True)
    try:
        rows = con.execute("""SELECT source, record_id FROM entity_members WHERE entity_id =
                              (SELECT entity_id FROM entity_members WHERE source = ? AND record_id = ?)""",
                           list(first)).fetchall()
    finally:
        con.close()
    return {(s, r) for s, r in rows}


def _queries(pair: Pair, data: Any) -> Iterator[dict[str, Any]]:
    hidden = sorted(pair.hidden)
    shown = sorted(pair.shown_to)
    pool = hidden[:200] + shown[:200]
    keys = data.draw(st.lists(st.sampled_from(pool), min_size=3, max_size=3), label="records")
    values = record_values(pair.full.db, keys)
    for key in keys:
        v = values.get(key)
        if v:
            yield v


@pytest.mark.slow
@pytest.mark.parametrize("who", PURPOSES, ids=lambda w: w.purpose)
@HARNESS(max_examples=5)
@given(data=st.data())
def test_search_and_verification(pairs: dict[str, Pair], who: Who, data: Any) -> None:
    pair = pairs[who.purpose]
    for v in _queries(pair, data):
        name = " ".join(x for x in (v["given_name"], v["family_name"]) if x)
        if name and v["dob"]:
            a, b = pair.both("GET", "/api/persons", params={"name": name, "dob": v["dob"]})
            same(a, b, f"{who.purpose} search by name and dob {name} {v['dob']}")
        for ident in ("ssn", "a_number"):
            if v[ident]:
                a, b = pair.both("GET", "/api/persons", params={ident: v[ident]})
                same(a, b, f"{who.purpose} search by {ident}")
                if name and v["dob"]:
                    a, b = pair.both("POST", "/api/verifications",
                                     body={"name": name, "dob": v["dob"], ident: v[ident]})
                    same(a, b, f"{who.purpose} verification of {name}")


@pytest.mark.slow
@pytest.mark.parametrize("who", PURPOSES, ids=lambda w: w.purpose)
def test_worklist(pairs: dict[str, Pair], who: Who) -> None:
    pair = pairs[who.purpose]
    agreement = pair.full.agreements.get(who.agreement_purpose or "", "none")
    for offset in (0, 100):
        a, b = pair.both("GET", f"/api/worklists/{agreement}", params={"limit": 100, "offset": offset})
        same(a, b, f"{who.purpose} work list from {offset}")


ENFORCEMENT = next(w for w in PURPOSES if w.purpose == "removal_order_enforcement")
SECOND = Who("removal_order_enforcement", "carl", "removal_order_enforcement")


@pytest.mark.slow
def test_findings(pairs: dict[str, Pair]) -> None:
    """Opening a finding on a shown record, a withheld record of the person, another person's
    record and a record that does not exist; then the finding's steps and lists."""
    pair = pairs[ENFORCEMENT.purpose]
    agreement = pair.full.agreements[ENFORCEMENT.purpose]
    persons = _persons(pair, 1)
    opened = 0
    for pid in persons[:6]:
        mine = sorted(pair.persons[pid])
        hidden = sorted(pair.hidden & _full_records_of(pair, pid))
        other = next(p for p in persons if p != pid)
        tries = [[mine[0]], *([[h] for h in hidden[:2]]), [sorted(pair.persons[other])[0]],
                 [("no-such-source", "0")], [mine[0], *hidden[:1]]]
        for recs in tries:
            body = {"person_id": pid, "agreement": agreement, "basis": "match result",
                    "records": [{"source": s, "record_id": r} for s, r in recs]}
            full = pair.full.client.post("/api/findings", json=body, headers=pair.full.headers(ENFORCEMENT))
            red_body = dict(body, person_id=pair.ids[pid])
            red = pair.reduced.client.post("/api/findings", json=red_body,
                                           headers=pair.reduced.headers(ENFORCEMENT))
            fa = (full.status_code, pair.normalise(_without_ids(full.json(), pid)))
            fb = (red.status_code, pair.strip(_without_ids(red.json(), pair.ids[pid])))
            same(fa, fb, f"open a finding on {recs} for {pid}")
            if full.status_code == 201:
                opened += 1
    assert opened, "at least one finding was opened on shown records"
    a, b = pair.both("GET", "/api/findings", params={"agreement": agreement, "limit": 100})
    same(a, b, "findings list")
    for n in range(1, opened + 1):
        fid = f"F-{n:06d}"
        for method, path, body, who in (
                ("GET", f"/api/findings/{fid}", None, ENFORCEMENT),
                ("POST", f"/api/findings/{fid}/verification",
                 {"method": "called the agency", "evidence": "case file"}, SECOND),
                ("POST", f"/api/findings/{fid}/notice", {"method": "mail"}, ENFORCEMENT)):
            a, b = pair.both(method, path, body=body, who=who)
            same(a, b, f"{method} {path}")


def _without_ids(value: Any, pid: str) -> Any:
    """Finding and error texts name the person asked about: the same id on either side."""
    if isinstance(value, dict):
        return {k: _without_ids(v, pid) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_ids(v, pid) for v in value]
    if isinstance(value, str):
        return value.replace(pid, "<person>")
    return value


@pytest.mark.slow
def test_tax_request(base: Base) -> None:
    """A per-person tax request reads tax return information through its own scope: on the
    store without the records its scope withholds (asylum, VAWA/T/U, Medicaid, voter rolls;
    the returns stay), every request gets the same answer. Requests are made from returns,
    those of persons with a withheld record first."""
    import duckdb

    reg = registry()
    purpose = ENFORCEMENT.purpose
    request_withheld = frozenset(reg.withheld_regimes(purpose)) | {UNREGISTERED}
    full = side(base.full)
    red_db = reduced_store(base, "tax-request", request_withheld)
    reduced = side(red_db)
    con = duckdb.connect(str(base.full), read_only=True)
    try:
        returns = con.execute("""
            SELECT given_name, family_name, tin, ssn, street, city, state, zip, tax_year
            FROM records_current WHERE system = 'irs-individual-returns' AND street IS NOT NULL
            ORDER BY source, record_id LIMIT 12""").fetchall()
    finally:
        con.close()
    assert returns, "the world has tax returns"
    for given_name, family, tin, ssn, street, city, state, zip_, year in returns:
        for address in (f"{street}, {city}, {state} {zip_}", f"{street}, {city}, {state} 00000"):
            body = {"full_name": f"{given_name} {family}", "tin": tin or ssn, "address": address,
                    "taxable_periods": str(year), "statutory_authority": "26 U.S.C. 6103(i)(2)",
                    "reason": "named taxpayer in a removal matter"}
            h_full = full.headers(ENFORCEMENT)
            h_red = reduced.headers(ENFORCEMENT)
            a = full.client.post("/api/tax-requests", json=body, headers=h_full)
            b = reduced.client.post("/api/tax-requests", json=body, headers=h_red)
            same((a.status_code, strip(a.json())), (b.status_code, strip(b.json())),
                 f"tax request for {given_name} {family}")


# --- the command line: the same services, printed; both the text and the JSON are compared.

CLI_COVERED = {
    "person": "person", "explain": "person", "search": "queries", "verify": "queries",
    "worklist": "worklist",
    # Same service functions as the API routes above, exercised there:
    "tax-request": "api", "finding open": "api", "finding list": "api", "finding step": "api",
    "finding show": "api",
    # Subject access and the privacy office's casework: subject_access withholds nothing.
    "subject-report": "subject_access", "subject-search": "subject_access",
    "dispute file": "subject_access", "dispute handle": "subject_access",
    "dispute list": "subject_access", "dispute show": "subject_access",
    "annotation request": "subject_access", "annotation approve": "subject_access",
    "annotation reject": "subject_access", "annotation list": "subject_access",
    "annotation show": "subject_access",
    # Oversight, with --agreement as a filter or the agreement measured: no person values.
    "disclosures": "oversight: the accounting lists only what was disclosed",
    "evaluate": "oversight: linkage quality and harm figures, aggregates only",
}


def _commands() -> Iterator[tuple[str, list[str]]]:
    from typer.main import get_command

    from accord.cli import app

    def walk(c: Any, prefix: str) -> Iterator[tuple[str, list[str]]]:
        if hasattr(c, "commands"):
            for name, sub in c.commands.items():
                yield from walk(sub, f"{prefix} {name}".strip())
        else:
            yield prefix, [str(p.name) for p in c.params]

    yield from walk(get_command(app), "")


def test_every_person_data_command_is_covered() -> None:
    person_data = {name for name, params in _commands()
                   if {"purpose", "agreement"} & set(params)
                   or name.split(" ")[0] in {"finding", "dispute", "annotation", "subject-report",
                                                    "subject-search"}}
    assert person_data, "the CLI has person-data commands"
    assert not person_data - set(CLI_COVERED), f"not in the harness: {sorted(person_data - set(CLI_COVERED))}"


def _cli(pair: Pair, db: Path, args: list[str], who: Who, *, reduced: bool) -> tuple[int, str]:
    from typer.testing import CliRunner

    from accord.cli import app

    side_ = pair.reduced if reduced else pair.full
    declared = ["--purpose", who.purpose]
    if who.agreement_purpose:
        declared += ["--agreement", side_.agreements[who.agreement_purpose]]
    result = CliRunner().invoke(app, [*args, "--db", str(db), *declared],
                                env={"ACCORD_USER": who.user, "COLUMNS": "200"})
    return result.exit_code, result.output


_AUDIT_NO = re.compile(r"(audit[ _]event\"?:?\s*)\d+")


def cli_both(pair: Pair, args: list[str], path_ids: tuple[str, ...] = ()) -> tuple[Any, Any]:
    red_args = list(args)
    for pid in path_ids:
        red_args = [a.replace(pid, pair.ids.get(pid, "P999999999")) for a in red_args]
    code_a, out_a = _cli(pair, pair.full.db, args, pair.who, reduced=False)
    code_b, out_b = _cli(pair, pair.reduced.db, red_args, pair.who, reduced=True)
    out_a = PERSON_TOKEN.sub(lambda m: pair.ids.get(m.group(0), m.group(0)), out_a)
    for pid in path_ids:
        out_a = out_a.replace(pair.ids.get(pid, pid), "<asked>").replace(pid, "<asked>")
        out_b = out_b.replace(pair.ids.get(pid, "P999999999"), "<asked>")
    return (code_a, _AUDIT_NO.sub(r"\1#", out_a)), (code_b, _AUDIT_NO.sub(r"\1#", out_b))


PERSON_TOKEN = re.compile(r"P\d{9}")


@pytest.mark.slow
@pytest.mark.parametrize("who", PURPOSES, ids=lambda w: w.purpose)
def test_cli_commands(pairs: dict[str, Pair], who: Who) -> None:
    pair = pairs[who.purpose]
    for pid in _persons(pair, 2)[:3]:
        for fmt in ([], ["--json"]):
            for cmd in (["person", pid], ["explain", pid]):
                a, b = cli_both(pair, [*cmd, *fmt], path_ids=(pid,))
                same(a, b, f"accord {' '.join(cmd + fmt)} under {who.purpose}")
    values = record_values(pair.full.db, sorted(pair.hidden)[:4] + sorted(pair.shown_to)[:2])
    for v in values.values():
        name = " ".join(x for x in (v["given_name"], v["family_name"]) if x)
        if not (name and v["dob"]):
            continue
        for fmt in ([], ["--json"]):
            a, b = cli_both(pair, ["search", "--name", name, "--dob", v["dob"], *fmt])
            same(a, b, f"accord search {name} under {who.purpose}")
            ident = ["--a-number", v["a_number"]] if v["a_number"] else (
                ["--ssn", v["ssn"]] if v["ssn"] else [])
            if ident:
                a, b = cli_both(pair, ["verify", "--name", name, "--dob", v["dob"], *ident, *fmt])
                same(a, b, f"accord verify {name} under {who.purpose}")
    if who.agreement_purpose:
        a, b = cli_both(pair, ["worklist", "--json"])
        same(a, b, f"accord worklist under {who.purpose}")
