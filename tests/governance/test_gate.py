"""No path around the gate: every service entry point that takes a store acts as a registered
user through the gate, front ends never open the store themselves, and person records are
read only with a scope the gate issued."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from accord import services
from accord.governance.gate import PolicyDenied
from accord.governance.registry import registry
from accord.governance.scope import Scope, freeze, require_issued, scoped_records_sql
from accord.store import Store
from worlds import governed_store

SRC = Path(__file__).resolve().parents[2] / "src" / "accord"
# Create worlds or stores, or dry-run a mapping on its extract file: they act on no existing store.
NO_STORE = {"synth", "init", "demo", "mapping_check"}
# Establish who the user is (tokens, web sign-in sessions); read no person data (tested below
# and in tests/web/test_sessions.py).
IDENTIFY = {"authenticate", "current_session", "login", "logout"}


def _arguments(fn: Any, tmp: Path, db: Path) -> dict[str, Any]:
    values: dict[str, Any] = {
        "db": db,
        "user": "ghost",
        "mapping": tmp / "m.yaml",
        "file": None,
        "truth": tmp / "truth.csv",
        "path": tmp / "a.yaml",
        "user_id": "someone",
        "name": "N",
        "roles": ["analyst"],
        "role": "analyst",
        "grant_id": "G-000001",
        "organisation": None,
        "agreement_id": "CMA-X",
        "purpose": "removal_order_enforcement",
        "agreement": None,
        "full_name": "A B",
        "tin": "123456789",
        "address": "1 Main St, Town, CA 90001",
        "taxable_periods": "2024",
        "statutory_authority": "6103(i)(2)",
        "reason": "r",
        "person_id": "E1",
        "person": "E1",
        "query": "x",
        "dob": "1980-01-01",
        "dispute_id": "D1",
        "source": "ssa",
        "record_id": "1",
        "field": "dob",
        "claimed_value": "1980-01-02",
        "statement": "s",
        "reasons": "r",
        "annotation_id": "N1",
        "kind": "death_record_erroneous",
        "reason_code": "x",
        "evidence": "e",
        "finding_id": "F1",
        "records": [("court", "1")],
        "token": "t",
        "basis": "b",
        "action": "acknowledge",
        "step": "verify",
        "out": tmp / "export.csv",
        "queries_file": tmp / "queries.csv",
        "rows": [{"id": "1"}],
    }
    (tmp / "queries.csv").write_text("name,dob,a_number\nA B,1980-01-01,012345678\n")
    (tmp / "m.yaml").write_text(
        "source: s\nsystem: ssa-numident\nformat: csv\nrecord_id: id\nfields:\n  dob: d\n"
    )
    (tmp / "truth.csv").write_text("source,record_id,person_id\n")
    (tmp / "a.yaml").write_text("id: X\n")
    out = {}
    for name, p in inspect.signature(fn).parameters.items():
        if p.default is inspect.Parameter.empty or name in ("user",):
            assert name in values, f"{fn.__name__}: add a value for parameter {name!r} to this test"
            out[name] = values[name]
    return out


def _service_functions() -> list[str]:
    return sorted(
        n
        for n in services.__all__
        if inspect.isfunction(getattr(services, n)) and n not in NO_STORE | IDENTIFY
    )


@pytest.mark.parametrize("name", _service_functions())
def test_every_service_refuses_an_unknown_user_and_audits_the_refusal(name: str, tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    fn = getattr(services, name)
    assert "user" in inspect.signature(fn).parameters, f"services.{name} does not act as a user"
    with pytest.raises(PolicyDenied):
        fn(**_arguments(fn, tmp_path, db))
    with Store(db) as store:
        last = store.query("SELECT user_id, decision FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert last == [("ghost", "deny")]


def test_front_ends_and_services_never_open_the_store_themselves() -> None:
    offenders = []
    for path in [p for front in ("cli", "services", "web") for p in (SRC / front).rglob("*.py")]:
        if path.name == "context.py":
            continue
        text = path.read_text()
        if re.search(r"\bStore\(|duckdb\.connect", text):
            offenders.append(str(path))
    assert offenders == []


def test_records_are_read_for_people_only_through_scoped_readers() -> None:
    """Modules outside the pipeline stages that mention the records tables must be scoped readers."""
    pipeline = {"ingest", "resolve", "standardise", "eval", "synth", "sql", "sources"}
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] in pipeline or path.name in {"scope.py", "store.py"}:
            continue
        text = path.read_text()
        if (
            re.search(r"FROM\s+records(_current)?\b|JOIN\s+records(_current)?\b", text)
            and "scoped_records_sql" not in text
        ):
            offenders.append(str(rel))
    assert offenders == []


def test_a_hand_made_scope_reads_nothing() -> None:
    forged = Scope(freeze({"irs-individual-returns": {"ssn"}}))
    with pytest.raises(PermissionError, match="issued by the governance gate"):
        require_issued(forged)
    assert "irs-individual-returns" in scoped_records_sql(registry(), forged)  # SQL text is not data


def test_a_widened_copy_of_an_issued_scope_reads_nothing() -> None:
    import dataclasses

    from accord.governance.scope import issue

    issued = issue(Scope(freeze({"eoir-case": {"a_number"}}), frozenset({"asylum_208_6"})))
    require_issued(issued)
    widened = dataclasses.replace(issued, withheld_regimes=frozenset())
    with pytest.raises(PermissionError):
        require_issued(widened)


def test_authenticate_knows_only_active_users_with_live_tokens(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    setup = services.init(db, samples=True, tokens=True)
    token = setup.tokens["casey"]
    assert services.authenticate(db, token) == "casey"
    assert services.authenticate(db, token + "x") is None
    assert services.authenticate(db, "") is None


def test_web_sign_in_needs_a_live_token_of_that_user_and_every_attempt_is_audited(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    setup = services.init(db, samples=True, tokens=True)
    with pytest.raises(services.LoginRefused):
        services.login(db, "carl", setup.tokens["casey"])        # someone else's token
    session = services.login(db, "casey", setup.tokens["casey"])
    open_session = services.current_session(db, session.session_id)
    assert open_session.user is not None and open_session.user.user_id == "casey"
    assert services.logout(db, session.session_id)
    assert services.current_session(db, session.session_id).user is None
    with Store(db) as store:
        events = store.query("SELECT user_id, action, decision FROM audit_events "
                             "WHERE action LIKE 'session.%' ORDER BY seq")
    assert events == [("carl", "session.login", "deny"), ("casey", "session.login", "allow"),
                      ("casey", "session.logout", "allow")]
