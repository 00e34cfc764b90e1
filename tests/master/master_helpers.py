"""A small resolved world for the person view and search tests, and scopes to read it with.

Each test module builds its world once, in a module-scoped fixture calling ``build_world``."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from accord.governance.registry import Registry, registry
from accord.governance.scope import Scope, freeze, issue
from accord.sources.fields import catalogue
from accord.store import Store
from worlds import resolved_world


@dataclass
class World:
    db: Path
    store: Store
    registry: Registry
    dir: Path
    truth: dict[tuple[str, str], str]  # (source, record_id) -> true person id
    persons: list[dict[str, str]]
    mappings: dict[str, dict[str, Any]]  # source -> mapping YAML

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.store.query(sql, params)


def build_world(root: Path, seed: int = 5) -> Iterator[World]:
    built = resolved_world(root, persons=1500, seed=seed)  # synth, ingest, resolve through services
    db, w = built.db, built.world
    with w.truth_path.open(encoding="utf-8") as f:
        truth = {(r["source"], r["record_id"]): r["person_id"] for r in csv.DictReader(f)}
    with w.persons_path.open(encoding="utf-8") as f:
        persons = list(csv.DictReader(f))
    mappings = {ex.source: yaml.safe_load(ex.mapping_path.read_text(encoding="utf-8")) for ex in w.extracts}
    store = Store(db, read_only=True)
    try:
        yield World(db, store, registry(), w.out, truth, persons, mappings)
    finally:
        store.close()


def purpose_systems(purpose: str) -> dict[str, set[str]]:
    """What the registry lets a purpose read by routine use (as the gate's policy does)."""
    reg = registry()
    everything = catalogue()
    identity = {n for n, f in everything.items() if f.kind == "identity"}
    out: dict[str, set[str]] = {}
    for system in reg.systems:
        access = reg.access(system, purpose)
        if access is not None:
            out[system] = set(everything) if access == "full" else set(identity)
    return out


def scope_for(purpose: str) -> Scope:
    """An issued scope for a purpose, with its statutory withholding."""
    return issue(Scope(freeze(purpose_systems(purpose)), frozenset(registry().withheld_regimes(purpose))))


def custom_scope(systems: dict[str, set[str]], withheld: set[str] | None = None) -> Scope:
    return issue(Scope(freeze(systems), frozenset(withheld or set())))
