"""No two accord modules import each other, directly or through a cycle: every import (at the
top of a module, inside a function or for type checking only) is an edge, and every strongly
connected group of modules larger than one is a failure unless it is a known exception below.

A known exception that no longer exists fails too, so that the list stays true."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Cycles in modules that another piece of work owns, to be broken there; each with its reason.
KNOWN: dict[frozenset[str], str] = {
    frozenset({"accord.store", "accord.store.base", "accord.store.duckdb_store",
               "accord.store.postgres_store", "accord.migrations", "accord.governance.audit",
               "accord.governance.schema", "accord.resolve.schema", "accord.ingest.schema"}):
        "Store(target) picks its engine's class (base imports the engines inside __new__, which "
        "derive from base); the embedded store applies its upgrade steps (migrations, which take a "
        "Store) and chains the audit event of an upgrade (governance.audit, which takes a Store); "
        "it applies the stages' schema modules, whose upgrade steps take a Store",
    frozenset({"accord.resolve.base", "accord.resolve.working"}):
        "the working set asks the statistics base for its feature columns while base takes the "
        "working set's column names: resolve belongs to the store layer's refactor",
}


@cache
def modules() -> dict[str, tuple[Path, bool]]:
    """Every accord module: dotted name -> (file, is a package's __init__)."""
    out: dict[str, tuple[Path, bool]] = {}
    for path in (SRC / "accord").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        package = parts[-1] == "__init__"
        if package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, package)
    return out


def _known_module(name: str) -> str | None:
    """The accord module ``name`` refers to: itself, or the nearest enclosing module."""
    mods = modules()
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> set[str]:
    """The accord modules ``module`` imports anywhere in its text."""
    path, package = modules()[module]
    here = module if package else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = here.split(".")
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts) + (f".{base}" if base else "")
            # ``from accord.x import y`` imports the module accord.x.y when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules() else base for a in node.names]
        for target in targets:
            if target == "accord" or target.startswith("accord."):
                found = _known_module(target)
                if found is not None and found != module:
                    out.add(found)
    return out


def cycles() -> list[frozenset[str]]:
    """Groups of modules that reach each other through imports (Tarjan's strongly connected
    components), larger than one module."""
    graph = {m: imports(m) for m in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group: set[str] = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_is_read() -> None:
    assert len(modules()) > 100
    assert "accord.person_status.facts" in imports("accord.person_status.view")
    assert "accord.casework.annotations" in imports("accord.person_status.facts")   # inside a function


def test_no_two_modules_import_each_other() -> None:
    unexpected = [sorted(c) for c in cycles() if c not in KNOWN]
    assert unexpected == [], f"modules that import each other (directly or in a cycle): {unexpected}"


def test_every_known_exception_still_exists() -> None:
    gone = [sorted(c) for c in KNOWN if c not in cycles()]
    assert gone == [], f"no longer a cycle: remove from KNOWN in {Path(__file__).name}: {gone}"


def test_the_status_reads_form_no_cycle() -> None:
    """The packages this rule was written for: status as a purpose may see it, verification and
    work lists depend one way (work lists and verification on person_status, never back)."""
    for module in modules():
        if module.startswith(("accord.person_status", "accord.status")):
            assert not any(m.startswith(("accord.worklists", "accord.verification", "accord.services"))
                           for m in imports(module)), module
