"""The gate has one way in for reads (``Gate.read``) and one for actions (``Gate.act``). The
few other public methods are kept for named callers only, and no module but the gate itself
asks the policy for a decision."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from accord.governance.gate import Gate

SRC = Path(__file__).resolve().parents[2] / "src" / "accord"
WAYS_IN = {"read", "act"}
# Kept for callers other than casework (sign-in events, audit verification, harm figures,
# tests of the policy, the user lookup); no module may start calling them.
KEPT = {
    "record": {"services/sessions.py", "services/admin.py"},
    "authorize": {"services/admin.py"},
    "aggregate_decision": {"services/data.py"},
    "decide": set(),
    "actor": None,     # a lookup of a user, no decision: anyone
}


def calls(method: str) -> set[str]:
    """The source files outside the gate that call ``<something>.method(...)``."""
    out = set()
    for path in SRC.rglob("*.py"):
        rel = str(path.relative_to(SRC))
        if rel == "governance/gate.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == method and _on_gate(node.func.value)):
                out.add(rel)
    return out


def _on_gate(node: ast.expr) -> bool:
    """A call on something named like a gate (``gate``, ``self.gate``, ``fresh``)."""
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return "gate" in name.lower()


def test_the_public_methods_are_the_two_ways_in_and_the_kept_ones() -> None:
    public = {n for n, fn in vars(Gate).items() if not n.startswith("_") and inspect.isfunction(fn)}
    assert public - WAYS_IN == set(KEPT), "a new public method on Gate is a new way in"


def test_kept_methods_are_called_only_by_their_named_callers() -> None:
    for method, allowed in KEPT.items():
        if allowed is None:
            continue
        assert calls(method) <= allowed, f"Gate.{method} called from {sorted(calls(method) - allowed)}"


def test_casework_uses_only_the_two_ways_in() -> None:
    kept = {m for m in KEPT if m != "actor"}
    for method in kept | {"_decide", "_authorize", "_before_lookup", "_event"}:
        callers = {c for c in calls(method) if c.startswith(("casework/", "services/casework.py"))}
        assert callers == set(), f"casework calls Gate.{method}: {sorted(callers)}"


def test_the_check_finds_calls() -> None:
    assert "services/people.py" in calls("read")
    assert "casework/findings.py" in calls("act")
