"""The gate has one way in for reads (``Gate.read``) and one for actions (``Gate.act``), and
no other public method: no decision without a record, no record outside an action or a read.
What used to be separate ways in is done through them: sign-in events are session actions, the
audit verification is an action, an evaluation's harm figures are measured under the decision a
recipient would get (``Activity.as_recipient``), and an action refused by its own check says so
(``Activity.refuse``)."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from accord import services
from accord.governance.gate import Activity, Gate, PolicyDenied
from accord.governance.policy import SESSION_ACTIONS, Request, decide
from accord.governance.registry import registry
from accord.store import Store
from worlds import ENGINEER, TODAY, World, governed_store, resolved_world

ROOT = Path(__file__).resolve().parents[2]
WAYS_IN = {"read", "act"}
PROPERTIES = {"today"}        # what the gate's day is; no decision, no record
ENF = "CMA-ENF-2026"
ROE = "removal_order_enforcement"


def _private_calls(root: Path = ROOT) -> set[str]:
    """``<something>._x(...)`` calls of the gate's private methods outside the gate itself,
    in the source, the tests and the benchmarks."""
    private = {n for n, v in vars(Gate).items() if n.startswith("_") and not n.startswith("__")
               and inspect.isfunction(v)}
    out = set()
    for folder in ("src", "tests", "bench"):
        for path in (root / folder).rglob("*.py"):
            if path == root / "src" / "accord" / "governance" / "gate.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in private):
                    out.add(f"{path.relative_to(root)}: {node.func.attr}")
    return out


def _events(db: Path, action: str) -> list[dict[str, Any]]:
    with Store(db) as store:
        cur = store.con.execute("SELECT user_id, agreement, decision, outcome, reasons, details "
                                "FROM audit_events WHERE action = ? ORDER BY seq", [action])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("one-way"), persons=200, seed=5)


# --- the shape of the gate -----------------------------------------------------------------------

def test_the_gate_has_no_public_method_but_read_and_act() -> None:
    public = {n for n in vars(Gate) if not n.startswith("_")}
    methods = {n for n in public if inspect.isfunction(vars(Gate)[n])}
    assert methods == WAYS_IN, f"a public method on Gate is a new way in: {sorted(methods - WAYS_IN)}"
    assert public - WAYS_IN == PROPERTIES and isinstance(vars(Gate)["today"], property)


def test_nothing_outside_the_gate_calls_its_private_methods() -> None:
    assert _private_calls() == set()


def test_the_check_sees_a_private_call(tmp_path: Path) -> None:
    for folder in ("src", "tests", "bench"):
        (tmp_path / folder).mkdir()
    (tmp_path / "tests" / "sneaky.py").write_text("def f(g):\n    return g._decide('u', None)\n")
    (tmp_path / "bench" / "fine.py").write_text("def f(g):\n    return g.read('u', None)\n")
    assert _private_calls(tmp_path) == {"tests/sneaky.py: _decide"}


# --- session actions -----------------------------------------------------------------------------

def test_session_actions_are_open_to_anyone_and_nothing_else_is() -> None:
    reg = registry()
    for action in SESSION_ACTIONS:
        assert decide(reg, None, None, None, Request(action), TODAY).allow
    for action in ("audit.read", "agreements.read", "person.view", "session.other"):
        d = decide(reg, None, ROE, None, Request(action, ROE), TODAY)
        assert not d.allow and "unknown user" in d.reasons[0]


def test_a_session_action_by_an_unknown_user_gets_no_scope(tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    with Store(db) as store:
        gate = Gate(store, today=TODAY)
        with pytest.raises(PolicyDenied, match="unknown user"), gate.act("nobody", "session.login") as act:
            act.scope_for("person.view", ROE, agreement=ENF)
    refused = _events(db, "session.login")[-1]
    assert (refused["user_id"], refused["decision"], refused["outcome"]) == ("nobody", "deny", "refused")
    assert json.loads(refused["details"])["read_under"][0]["decision"] == "deny"


def test_an_action_refused_by_its_own_check_is_rolled_back_and_recorded(tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    with Store(db) as store:
        gate = Gate(store, today=TODAY)
        before = store.scalar("SELECT count(*) FROM users")
        with (pytest.raises(PolicyDenied, match="the check said no") as e,
              gate.act("olive", "audit.read", details={"why": "test"}) as act):
            store.write("DELETE FROM users WHERE user_id = 'dana'")
            act.refuse("the check said no", outcome="refused (test)")
        assert store.scalar("SELECT count(*) FROM users") == before          # the work is undone
    event = _events(db, "audit.read")[-1]
    assert (event["decision"], event["outcome"], json.loads(event["reasons"])) == (
        "deny", "refused (test)", ["the check said no"])
    assert json.loads(event["details"]) == {"why": "test"}
    assert e.value.audit_seq > 0


def test_an_action_that_commits_says_its_event(tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    with Store(db) as store:
        gate = Gate(store, today=TODAY)
        with gate.act("olive", "audit.read") as act:
            assert act.audit_seq is None                                      # not chained yet
        assert act.audit_seq == store.scalar("SELECT max(seq) FROM audit_events")
        assert act.actor is not None and act.actor.user_id == "olive"


def test_an_action_that_only_reads_runs_outside_a_transaction_and_is_chained_after(tmp_path: Path) -> None:
    """Audit verification reads the chain in a snapshot of its own (on PostgreSQL a transaction
    it joined would give each statement its own moment): its block runs in no transaction."""
    db = governed_store(tmp_path)
    with Store(db) as store:
        gate = Gate(store, today=TODAY)
        head = store.scalar("SELECT seq FROM audit_head")
        with gate.act("olive", "audit.verify", reads_only=True) as act:
            assert store._depth == 0                                  # type: ignore[attr-defined]
            act.outcome = "checked"
        assert act.audit_seq == head + 1 == store.scalar("SELECT seq FROM audit_head")
        with gate.act("olive", "audit.verify") as act:
            assert store._depth == 1                                  # type: ignore[attr-defined]
        with pytest.raises(PolicyDenied), gate.act("casey", "audit.verify", reads_only=True):
            pass
    assert [(e["user_id"], e["decision"], e["outcome"]) for e in _events(db, "audit.verify")] == [
        ("olive", "allow", "checked"), ("olive", "allow", "ok"), ("casey", "deny", "refused")]


# --- audit verification and harm figures, through act -------------------------------------------

def test_audit_verification_is_an_action_recorded_with_its_outcome(tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    assert services.audit_verify(db, user="olive").ok
    event = _events(db, "audit.verify")[-1]
    assert (event["user_id"], event["decision"], event["outcome"]) == ("olive", "allow", "intact")
    assert json.loads(event["details"])["ok"] is True
    with pytest.raises(PolicyDenied, match="not among the actions"):
        services.audit_verify(db, user="casey")
    assert (_events(db, "audit.verify")[-1]["user_id"], _events(db, "audit.verify")[-1]["decision"]) == (
        "casey", "deny")


def test_harm_figures_are_measured_under_a_recipients_decision_and_recorded(world: World) -> None:
    out = services.evaluate(world.db, world.world.truth_path, user=ENGINEER,
                            persons=world.world.persons_path, agreement=ENF, today=TODAY)
    assert "wrongly_listed_persons" in out.plain() and "final_orders_found" in out.plain()
    event = _events(world.db, "evaluate")[-1]
    assert (event["user_id"], event["agreement"], event["decision"]) == (ENGINEER, ENF, "allow")
    assert json.loads(event["details"])["aggregate_over"] == ENF
    assert event["outcome"].startswith("wrongly listed ")


def test_harm_figures_under_an_unknown_agreement_are_refused_and_recorded(world: World) -> None:
    with pytest.raises(PolicyDenied, match="no matching agreement 'CMA-NOPE' is on record") as e:
        services.evaluate(world.db, world.world.truth_path, user=ENGINEER,
                          persons=world.world.persons_path, agreement="CMA-NOPE", today=TODAY)
    event = _events(world.db, "evaluate")[-1]
    assert (event["agreement"], event["decision"], event["outcome"]) == ("CMA-NOPE", "deny", "refused")
    with Store(world.db) as store:
        assert store.scalar("SELECT max(seq) FROM audit_events") == e.value.audit_seq


def test_a_recipients_decision_is_issued_only_to_an_evaluation(world: World) -> None:
    with Store(world.db) as store:
        gate = Gate(store, today=TODAY)
        with pytest.raises(RuntimeError, match="issued to an evaluation"), gate.act(ENGINEER, "resolve",
                                                                                 agreement=ENF) as act:
            act.as_recipient()
        with pytest.raises(RuntimeError, match=r"made by Gate\.act"):
            Activity(None).as_recipient()
